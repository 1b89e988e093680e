"""Typed, immutable settings for each project, parsed from the stack config at start (SPEC S1).

A bad value raises :class:`shared.errors.ConfigError` before any resource exists, with one line
naming the key, the value and what is allowed. Unknown keys in the project's namespace are
errors too (a typo in a stack file must not silently fall back to a default).

One module per project (``data``, later ``region`` and ``edge``) over a common ``base``.
"""

from shared.settings.base import ENVIRONMENT_PATTERN, check_environment, check_region, load_settings
from shared.settings.data import DataSettings

__all__ = ["ENVIRONMENT_PATTERN", "DataSettings", "check_environment", "check_region", "load_settings"]
