"""The package version: the one place it is written (pyproject.toml reads it from here).

A literal rather than ``importlib.metadata.version()``, which costs milliseconds at import,
and import time is a cold start in Lambda.
"""

__all__ = ["__version__"]

__version__ = "0.1.0.dev0"
