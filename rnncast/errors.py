"""The errors rnncast raises on purpose.

Every message is one line a user can act on: what is wrong, where (file, column, row),
and what to do. Only the CLI turns them into stderr text and exit code 2.
"""

from __future__ import annotations


class RnncastError(Exception):
    """Base of every error caused by the user's input or configuration."""


class DataError(RnncastError):
    """The input data cannot be used as given (missing column, bad values, too short...)."""


class ConfigError(RnncastError):
    """An option or combination of options is invalid."""


class ModelFileError(RnncastError):
    """A model file is missing, corrupt, truncated, of another kind or of a newer format."""


class TrainingError(RnncastError):
    """Training failed in a way the user can fix (diverged loss, nothing to learn from)."""
