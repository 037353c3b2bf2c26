"""Deployment packages for the tests that create functions: a zip of one Python module."""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path


def package(source: str, module: str = "app") -> bytes:
    """A deployment package holding ``source`` (dedented) as ``<module>.py``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", textwrap.dedent(source))
    return buffer.getvalue()


def write_package(path: Path, source: str) -> Path:
    """:func:`package` written to ``path``, for a client that reads the zip from a file."""
    path.write_bytes(package(source))
    return path
