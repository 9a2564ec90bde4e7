"""User-facing failures as types. Each carries one sentence that says what is wrong."""

from __future__ import annotations


class WarroomError(Exception):
    """A failure the user can act on; ``str(exc)`` is the sentence to show."""


class ConfigError(WarroomError):
    """The configuration (file, environment or flags) cannot be used. Exit code 2."""


class SourceError(WarroomError):
    """A data source could not deliver this refresh; the last good data stays on screen."""
