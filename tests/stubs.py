"""Loads the canned wire responses in ``stubs/`` (see ``stubs/README.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

STUBS = Path(__file__).resolve().parent.parent / "stubs"


@attrs.frozen
class Stub:
    """One canned response: what the model calls it and what goes on the wire."""

    path: Path
    operation: str
    shape: str | None
    status: int
    headers: CIMultiDictProxy[str]
    body: Any

    @property
    def body_bytes(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()


def load(operation: str, case: str) -> Stub:
    """The stub ``stubs/<operation>/<case>.json``, e.g. ``load("GetAlias", "200-weighted")``."""
    return _read(STUBS / operation / f"{case}.json")


def every() -> list[Stub]:
    """Every stub file, sorted by path."""
    return [_read(path) for path in sorted(STUBS.glob("*/*.json"))]


def _read(path: Path) -> Stub:
    doc = json.loads(path.read_text())
    return Stub(
        path,
        doc["operation"],
        doc["shape"],
        doc["status"],
        CIMultiDictProxy(CIMultiDict(doc["headers"])),
        doc["body"],
    )
