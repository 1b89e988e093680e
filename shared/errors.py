"""Errors that stop a program with one clear line instead of a traceback."""

from __future__ import annotations

import pulumi


class ConfigError(pulumi.RunError):
    """A config value is missing or not allowed.

    ``pulumi.RunError`` makes the Pulumi CLI print only the message (no stack trace); the
    offline plan prints it as one line and exits non-zero.
    """

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        shown = "<missing>" if value is None else repr(value)
        super().__init__(f"config {key}={shown} is not allowed: {allowed}")
