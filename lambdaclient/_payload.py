"""Invoke payloads: whatever the caller gives, as a body with its SHA-256 for signing.

SigV4 signs the hash of the whole body, so a body is hashed before it is sent. Bytes, text
and JSON-able values are encoded in memory; a binary file is hashed and later sent in chunks,
never read whole; an async iterable is spooled (to memory up to 1 MiB, then to a temporary
file) while it is hashed, since it can be read only once and a retry must send it again.

A file body is a :class:`~lambdaclient.transport.BodySource` the transport reads; it never
closes the file. A spool is made here, so :func:`prepare_payload` hands it to its caller,
who closes it when the call is over.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from typing import IO, Any, TypeAlias

import attrs

from ._errors import ValidationError
from ._sigv4 import EMPTY_SHA256

__all__ = ["FileBody", "Payload", "PreparedPayload", "prepare_payload"]

CHUNK_SIZE = 1 << 20
_SPOOL_IN_MEMORY = 1 << 20

Payload = (
    bytes
    | bytearray
    | memoryview
    | str
    | IO[bytes]
    | AsyncIterable[bytes]
    | Mapping[str, Any]
    | Sequence[Any]
    | int
    | float
    | bool
    | None
)
"""What ``invoke`` accepts as ``payload``: bytes, str (sent as UTF-8), a JSON-serialisable
value, a binary file object, an async iterable of bytes, or None (an empty body)."""


@attrs.frozen(slots=True, eq=False)
class FileBody:
    """A body read from ``file`` (``length`` bytes from offset ``start``) in chunks; the
    file stays open, for whoever opened it to close."""

    file: IO[bytes]
    start: int
    length: int

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, a chunk at a time; each call starts again from ``start`` (for retries)."""
        await asyncio.to_thread(self.file.seek, self.start)
        remaining = self.length
        while remaining > 0:
            chunk = await asyncio.to_thread(self.file.read, min(CHUNK_SIZE, remaining))
            if not chunk:
                raise ValidationError(
                    "the payload file ended before the length it had when it was hashed",
                    field="payload",
                )
            remaining -= len(chunk)
            yield chunk


PreparedPayload: TypeAlias = tuple[bytes | FileBody, str, IO[bytes] | None]
"""The body, its hex SHA-256, and the spool made for it (None if none), which the caller
closes once the call is over."""


def _is_binary_file(value: object) -> bool:
    return callable(getattr(value, "read", None)) and callable(getattr(value, "seek", None))


def encode_payload(payload: Payload) -> bytes:
    """bytes-like as is, str as UTF-8, None as empty, anything else as compact JSON."""
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        try:
            return payload.encode()
        except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from os.fsdecode
            raise ValidationError("payload is not valid Unicode text", field="payload") from exc
    try:
        return json.dumps(
            payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(
            f"payload of type {type(payload).__name__} is not bytes, str, a binary file, an"
            f" async iterable of bytes or JSON-serialisable: {exc}",
            field="payload",
        ) from exc


def _hash_file(file: IO[bytes]) -> tuple[int, int, str]:
    if not isinstance(file.read(0), bytes):
        raise ValidationError("payload file must be opened in binary mode", field="payload")
    start = file.tell()
    digest = hashlib.sha256()
    length = 0
    while chunk := file.read(CHUNK_SIZE):
        if not isinstance(chunk, bytes):
            raise ValidationError("payload file must be opened in binary mode", field="payload")
        digest.update(chunk)
        length += len(chunk)
    return start, length, digest.hexdigest()


async def prepare_payload(payload: Payload) -> PreparedPayload:
    """The body to send for ``payload``, its hex SHA-256, and the spool to close after."""
    if type(payload) is bytes:  # the common case, ahead of the duck-typing checks
        return payload, hashlib.sha256(payload).hexdigest() if payload else EMPTY_SHA256, None
    if _is_binary_file(payload):
        file: IO[bytes] = payload  # type: ignore[assignment]
        # File reads may block on a disk: off the event loop.
        start, length, sha256 = await asyncio.to_thread(_hash_file, file)
        return FileBody(file, start, length), sha256, None
    if isinstance(payload, AsyncIterable):
        return await _spool(payload)
    data = encode_payload(payload)
    return data, hashlib.sha256(data).hexdigest() if data else EMPTY_SHA256, None


async def _spool(chunks: AsyncIterable[Any]) -> PreparedPayload:
    import tempfile  # here: it costs milliseconds at import, and few callers stream

    digest = hashlib.sha256()
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        async for chunk in chunks:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise ValidationError(
                    f"an async iterable payload must yield bytes, not {type(chunk).__name__}",
                    field="payload",
                )
            digest.update(chunk)
            # Past the in-memory limit this writes to a temporary file, which lands in the page
            # cache; a thread hop per chunk would cost more than the write.
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    length = spool.tell()
    return FileBody(spool, 0, length), digest.hexdigest(), spool
