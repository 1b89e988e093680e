"""Ledger processor logic (stream record → idempotent settlement) behind ``handler``."""
