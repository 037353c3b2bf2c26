"""The installed version, read once from the package metadata."""

from importlib.metadata import version

__all__ = ["__version__"]

__version__ = version("lambdaclient")
