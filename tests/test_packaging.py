"""The distributions: what a user installs, and what someone who unpacks the sdist gets.

Built here as ``make dist`` builds them, but without build isolation (the build backend is a
development dependency), so no package index is needed.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a local run leaves in the tree, and must never be shipped.
JUNK = {
    ".venv",
    "__pycache__",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "node_modules",
}


def _tree(folder: str) -> set[str]:
    """The files under ``folder`` of the working tree, as paths relative to the root."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and not JUNK & set(path.relative_to(ROOT).parts) and path.suffix != ".pyc"
    }


def test_the_sdist_and_the_wheel_are_complete_and_pass_twine_check(tmp_path: Path) -> None:
    # The wheel is built from the sdist, so this also proves the sdist builds.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (sdist,) = tmp_path.glob("*.tar.gz")
    (wheel,) = tmp_path.glob("*.whl")
    subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
        check=True,
        capture_output=True,
    )

    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(f"{top}/") for name in archive.getnames()}
        license_text = archive.extractfile(f"{top}/LICENSE").read().decode()  # type: ignore[union-attr]
    # Everything `make test` needs, the vendored SigV4 vectors with their licence included.
    assert {"LICENSE", "Makefile", "pyproject.toml", "README.md", ".ci/run"} <= in_sdist
    assert _tree("tests") | _tree("stubs") | _tree("lambdaclient") <= in_sdist
    assert {"tests/sigv4-testsuite/LICENSE", "tests/sigv4-testsuite/NOTICE"} <= in_sdist
    assert not [name for name in in_sdist if JUNK & set(name.split("/")) or name.endswith(".pyc")]
    assert "Apache License" in license_text
    assert "Version 2.0, January 2004" in license_text

    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
        (metadata_name,) = (name for name in in_wheel if name.endswith(".dist-info/METADATA"))
        metadata = HeaderParser().parsestr(archive.read(metadata_name).decode())
    assert "lambdaclient/py.typed" in in_wheel
    assert "lambdaclient/testing/__init__.py" in in_wheel
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in in_wheel)
    assert not [name for name in in_wheel if name.startswith(("tests/", "stubs/", "bench/"))]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert {"Typing :: Typed", "Framework :: AsyncIO"} <= set(metadata.get_all("Classifier", []))
