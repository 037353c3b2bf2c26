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
    """One canned response: what the model calls it and what goes on the wire.

    ``body`` is the decoded JSON body (None for an empty one). ``body_text`` is set instead
    for a body that is not JSON (an Invoke payload can be anything); ``body`` is then None.
    """

    path: Path
    operation: str
    shape: str | None
    status: int
    headers: CIMultiDictProxy[str]
    body: Any
    body_text: str | None = None

    @property
    def body_bytes(self) -> bytes:
        """The body as sent."""
        if self.body_text is not None:
            return self.body_text.encode()
        return b"" if self.body is None else json.dumps(self.body).encode()


def load(operation: str, case: str) -> Stub:
    """The stub ``stubs/<operation>/<case>.json``, e.g. ``load("GetAlias", "200-weighted")``."""
    return read(STUBS / operation / f"{case}.json")


def every() -> list[Stub]:
    """Every stub file, sorted by path."""
    return [read(path) for path in sorted(STUBS.glob("*/*.json"))]


def read(path: Path) -> Stub:
    """The stub in the file at ``path``; a ValueError if it does not have exactly one body."""
    doc = json.loads(path.read_text())
    # Exactly one of the two, so a stub cannot say one body and send another.
    if ("body" in doc) == ("body_text" in doc):
        raise ValueError(f"{path}: a stub has either 'body' or 'body_text'")
    body_text = doc.get("body_text")
    if body_text is not None and not isinstance(body_text, str):
        raise ValueError(f"{path}: 'body_text' must be a string")
    return Stub(
        path,
        doc["operation"],
        doc["shape"],
        doc["status"],
        CIMultiDictProxy(CIMultiDict(doc["headers"])),
        doc.get("body"),
        body_text,
    )
