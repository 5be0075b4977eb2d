"""The package version (one place; the study records it)."""

__version__ = "0.1.0"
