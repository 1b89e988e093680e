"""Shared library of the trading-platform DR monorepo.

Import-safe: nothing in this package creates a resource on import. Projects call its functions
and components from their ``__main__.py``.
"""
