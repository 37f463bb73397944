"""The version of rnncast, in one place: the package, the model files and `--version` read it here."""

__version__ = "0.1.0"
