"""InvokeWithResponseStream's event stream (sans-I/O): an incremental decoder, and an encoder.

The framing is AWS's event-stream format::

    [total_len u32][headers_len u32][prelude_crc u32][headers][payload][message_crc u32]
    header := [name_len u8][name utf-8][type u8][value]

Both CRCs (CRC-32) are checked; the prelude's as soon as it arrives, so a corrupt length is
never trusted. The decoder is ours rather than botocore's ``EventStreamBuffer``: that one
copies its whole buffer for every piece fed and every message taken, which is quadratic in a
chunk of many small frames or a large frame arriving in many pieces; it lets a malformed
header escape as ``KeyError`` or ``struct.error``, and silently truncates a header value that
claims more bytes than there are. A well-formed frame decodes here exactly as botocore decodes
it (the tests hold the two side by side); a malformed one raises :class:`EventStreamError`,
with botocore's exception name as its code where botocore has one.

:class:`InvokeStreamDecoder` gives messages their Lambda meaning: ``PayloadChunk`` events carry
bytes, ``InvokeComplete`` ends the stream, and ``exception`` or ``error`` messages, like a
frame that fails its checksum, raise :class:`EventStreamError`. So does an ``InvokeComplete``
whose payload is not a JSON object (how the invocation ended cannot be read, so it is never
passed off as a success); botocore would take it for one.

Both decoders follow one convention, as h11 does: :meth:`~MessageDecoder.feed` gives what the
bytes complete and then raises the error that stopped decoding, if any (so what a caller sees
does not depend on how the bytes were split); :meth:`~MessageDecoder.feed_eof` says the body
has ended and raises :class:`IncompleteStreamError` if the stream was cut short.

The encoder (:func:`encode_message`, :func:`payload_chunk_event`,
:func:`invoke_complete_event`, :func:`exception_event`, :func:`error_event`) builds the frames
Lambda sends, for a local emulator and for tests.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeAlias, TypeVar

import attrs

from ._errors import EventStreamError, IncompleteStreamError
from ._models import InvokeComplete
from ._protocol import decode_log

__all__ = [
    "HeaderValue",
    "InvokeStreamDecoder",
    "Message",
    "MessageDecoder",
    "encode_message",
    "error_event",
    "exception_event",
    "invoke_complete_event",
    "payload_chunk_event",
]

HeaderValue: TypeAlias = bool | int | str | bytes | datetime | uuid.UUID
"""What a header may hold when encoded. Decoded, a timestamp is its int of milliseconds since
the epoch and a uuid its 16 bytes, as botocore gives them."""

_PRELUDE: Final = struct.Struct("!III")
_LENGTHS: Final = struct.Struct("!II")
_CRC: Final = struct.Struct("!I")
_PRELUDE_LENGTH: Final = _PRELUDE.size
_OVERHEAD: Final = _PRELUDE_LENGTH + _CRC.size  # 16 bytes around headers and payload
# botocore's limits: a frame past them is refused there, so it is neither sent nor accepted.
_MAX_HEADERS_LENGTH: Final = 128 * 1024
_MAX_PAYLOAD_LENGTH: Final = 24 * 1024 * 1024
# aws-c-event-stream (under awscrt and the SDKs built on it) caps names at INT8_MAX bytes and
# values at INT16_MAX, below what the u8 and u16 length fields allow and botocore accepts.
_MAX_NAME_LENGTH: Final = 0x7F
_MAX_VALUE_LENGTH: Final = 0x7FFF

_TRUE, _FALSE, _INT8, _INT16, _INT32, _INT64, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)
_INTEGERS: Final = {
    _INT8: struct.Struct("!b"),
    _INT16: struct.Struct("!h"),
    _INT32: struct.Struct("!i"),
    _INT64: struct.Struct("!q"),
    _TIMESTAMP: struct.Struct("!q"),
}
_U16: Final = struct.Struct("!H")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)


T = TypeVar("T")


def _crc32(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    return binascii.crc32(data, crc)


# Decoding


@attrs.frozen(slots=True)
class Message:
    """One decoded frame: its headers (in the order sent) and its payload."""

    headers: dict[str, bool | int | str | bytes]
    payload: bytes


def _malformed(detail: str) -> EventStreamError:
    return EventStreamError("InvalidHeader", detail)


def _decode_headers(data: bytes) -> dict[str, bool | int | str | bytes]:
    headers: dict[str, bool | int | str | bytes] = {}
    end = len(data)
    at = 0
    try:
        while at < end:
            name_end = at + 1 + data[at]
            name = data[at + 1 : name_end].decode("utf-8")
            kind = data[name_end]  # IndexError when the name runs past the headers
            at = name_end + 1
            value: bool | int | str | bytes
            if kind in (_TRUE, _FALSE):
                value = kind == _TRUE
            elif kind in _INTEGERS:
                packer = _INTEGERS[kind]
                (value,) = packer.unpack_from(data, at)
                at += packer.size
            elif kind in (_BYTES, _STRING):
                (length,) = _U16.unpack_from(data, at)
                at += 2
                if at + length > end:
                    raise _malformed(f"header {name!r} runs past the headers")
                raw = data[at : at + length]
                value = raw.decode("utf-8") if kind == _STRING else raw
                at += length
            elif kind == _UUID:
                if at + 16 > end:
                    raise _malformed(f"header {name!r} runs past the headers")
                value = data[at : at + 16]
                at += 16
            else:
                raise _malformed(f"header {name!r} has unknown value type {kind}")
            if name in headers:
                raise EventStreamError("DuplicateHeader", f'Duplicate header present: "{name}"')
            headers[name] = value
    except (IndexError, struct.error) as exc:
        raise _malformed("a header runs past the headers") from exc
    except UnicodeDecodeError as exc:
        raise _malformed(f"a header name or string value is not UTF-8: {exc}") from exc
    return headers


def _replay(items: list[T], error: EventStreamError | None) -> Iterator[T]:
    yield from items
    if error is not None:
        raise error


class MessageDecoder:
    """Splits a byte stream into :class:`Message` frames, however the bytes are split.

    Bytes are kept in one buffer that grows in place and is compacted once per
    :meth:`feed`, so decoding is linear in the bytes fed. After a malformed frame the
    stream cannot be resynchronised: every later :meth:`feed` raises the same error.
    """

    __slots__ = ("_buffer", "_error", "_lengths", "_start")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._start = 0  # where the next frame begins in the buffer
        # The next frame's total and headers lengths, once its prelude has been checked.
        self._lengths: tuple[int, int] | None = None
        self._error: EventStreamError | None = None

    @property
    def pending(self) -> bool:
        """Whether part of a frame is waiting for the rest of its bytes."""
        return len(self._buffer) > self._start

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[Message]:
        """Decode the frames ``data`` completes, at once; iterate the result for them, and
        for the :class:`EventStreamError` that ends them if a frame was bad."""
        messages: list[Message] = []
        if self._error is None:
            buffer = self._buffer
            if self._start:
                del buffer[: self._start]
                self._start = 0
            buffer += data
            try:
                while (message := self._next()) is not None:
                    messages.append(message)
            except EventStreamError as exc:
                self._error = exc
        return _replay(messages, self._error)

    def feed_eof(self) -> None:
        """The body has ended: raise :class:`IncompleteStreamError` if part of a frame is
        left over, or the error that stopped decoding."""
        if self._error is not None:
            raise self._error
        if self.pending:
            raise IncompleteStreamError(
                "IncompleteStream", "the response stream ended in the middle of a frame"
            )

    def _next(self) -> Message | None:
        buffer = self._buffer
        start = self._start
        available = len(buffer) - start
        lengths = self._lengths
        if lengths is None:
            if available < _PRELUDE_LENGTH:
                return None
            lengths = self._lengths = _check_prelude(buffer[start : start + _PRELUDE_LENGTH])
        total, headers_length = lengths
        if available < total:
            return None
        end = start + total
        with memoryview(buffer) as view:
            (expected,) = _CRC.unpack_from(view, end - 4)
            computed = _crc32(view[start : end - 4])
            if computed != expected:
                raise EventStreamError(
                    "ChecksumMismatch",
                    f"message checksum mismatch: expected 0x{expected:08x},"
                    f" calculated 0x{computed:08x}",
                )
            headers_end = start + _PRELUDE_LENGTH + headers_length
            headers = _decode_headers(bytes(view[start + _PRELUDE_LENGTH : headers_end]))
            payload = bytes(view[headers_end : end - 4])
        self._start = end
        self._lengths = None
        return Message(headers, payload)


def _check_prelude(prelude: bytes | bytearray) -> tuple[int, int]:
    """A frame's total and headers lengths, once its prelude has passed its checksum and
    the lengths are within bounds."""
    total, headers_length, expected = _PRELUDE.unpack(prelude)
    computed = _crc32(prelude[:8])
    if computed != expected:
        raise EventStreamError(
            "ChecksumMismatch",
            f"prelude checksum mismatch: expected 0x{expected:08x}, calculated 0x{computed:08x}",
        )
    if headers_length > _MAX_HEADERS_LENGTH:
        raise EventStreamError(
            "InvalidHeadersLength",
            f"Header length of {headers_length} exceeded the maximum of {_MAX_HEADERS_LENGTH}",
        )
    payload_length = total - headers_length - _OVERHEAD
    if payload_length > _MAX_PAYLOAD_LENGTH:
        raise EventStreamError(
            "InvalidPayloadLength",
            f"Payload length of {payload_length} exceeded the maximum of {_MAX_PAYLOAD_LENGTH}",
        )
    if payload_length < 0:
        raise EventStreamError(
            "InvalidMessageLength",
            f"message length {total} is less than its {headers_length} bytes of headers"
            f" and {_OVERHEAD} of prelude and checksum",
        )
    return total, headers_length


# Lambda's meaning


# An exception event's payload that is not the JSON AWS sends is shown as text, this much.
_EXCERPT_LENGTH: Final = 1024


def _json_object(payload: bytes) -> dict[str, Any] | None:
    """The payload's JSON object ({} for an empty payload), or None if it is not one."""
    try:
        data = json.loads(payload) if payload else {}
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to decode
        return None
    return data if isinstance(data, dict) else None


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _event(headers: Mapping[str, object], payload: bytes) -> bytes | InvokeComplete:
    message_type = headers.get(":message-type")
    if message_type == "event":
        event_type = headers.get(":event-type")
        if event_type == "PayloadChunk":
            return payload
        if event_type == "InvokeComplete":
            data = _json_object(payload)
            if data is None:
                # How the invocation ended cannot be read: never passed off as a success.
                raise EventStreamError(
                    "InvalidInvokeComplete",
                    f"the InvokeComplete event's payload is not a JSON object"
                    f" ({len(payload)} bytes)",
                )
            return InvokeComplete(
                _optional_str(data.get("ErrorCode")),
                _optional_str(data.get("ErrorDetails")),
                decode_log(_optional_str(data.get("LogResult"))),
            )
        raise EventStreamError("UnknownEvent", f"unexpected event type {event_type!r}")
    if message_type == "exception":
        data = _json_object(payload) or {}
        message = data.get("message") or data.get("Message")
        if not isinstance(message, str):
            message = payload[:_EXCERPT_LENGTH].decode("utf-8", "replace")
        # botocore reads only :error-code here and so loses the name Lambda sends.
        code = headers.get(":exception-type") or "UnknownException"
        raise EventStreamError(str(code), message)
    if message_type == "error":
        raise EventStreamError(
            str(headers.get(":error-code") or "UnknownError"),
            str(headers.get(":error-message") or ""),
        )
    raise EventStreamError("UnknownMessage", f"unexpected message type {message_type!r}")


class InvokeStreamDecoder:
    """Feed it the response body as it arrives; it gives the events each piece completes.

    Events are ``bytes`` (a ``PayloadChunk``'s payload) or an :class:`InvokeComplete`. A bad
    frame or an ``exception``/``error`` message raises :class:`EventStreamError` once the
    events before it have been given; the stream is over then, and every later :meth:`feed`
    raises it again. :meth:`feed_eof` raises :class:`IncompleteStreamError` for a stream
    that ended before its ``InvokeComplete``.
    """

    __slots__ = ("_complete", "_error", "_frames")

    def __init__(self) -> None:
        self._frames = MessageDecoder()
        self._error: EventStreamError | None = None
        self._complete = False

    @property
    def pending(self) -> bool:
        """Whether part of a frame is waiting for the rest of its bytes."""
        return self._frames.pending

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[bytes | InvokeComplete]:
        """Decode what ``data`` completes, at once; iterate the result for its events, and
        for the :class:`EventStreamError` that ends them if the stream went wrong."""
        events: list[bytes | InvokeComplete] = []
        if self._error is None:
            try:
                for message in self._frames.feed(data):
                    event = _event(message.headers, message.payload)
                    self._complete = self._complete or isinstance(event, InvokeComplete)
                    events.append(event)
            except EventStreamError as exc:
                self._error = exc  # an error event comes before any bad frame after it
        return _replay(events, self._error)

    def feed_eof(self) -> None:
        """The body has ended: raise :class:`IncompleteStreamError` unless the stream's
        ``InvokeComplete`` has been decoded, or the error that stopped decoding."""
        if self._error is not None:
            raise self._error
        if not self._complete:
            where = " in the middle of a frame" if self.pending else ""
            raise IncompleteStreamError(
                "IncompleteStream", f"the response stream ended{where} before InvokeComplete"
            )


# Encoding


def _encode_header(name: str, value: HeaderValue) -> bytes:
    raw_name = name.encode("utf-8")
    if not 0 < len(raw_name) <= _MAX_NAME_LENGTH:
        raise ValueError(f"header name {name!r} must be 1 to {_MAX_NAME_LENGTH} bytes of UTF-8")
    prefix = bytes((len(raw_name),)) + raw_name
    # bool before int: bool is an int subclass.
    if isinstance(value, bool):
        return prefix + bytes((_TRUE if value else _FALSE,))
    if isinstance(value, int):
        kind = _INT32 if -(2**31) <= value < 2**31 else _INT64
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"header {name!r}: {value} does not fit in 64 bits")
        return prefix + bytes((kind,)) + _INTEGERS[kind].pack(value)
    if isinstance(value, str | bytes):
        kind = _STRING if isinstance(value, str) else _BYTES
        raw = value.encode("utf-8") if isinstance(value, str) else value
        if len(raw) > _MAX_VALUE_LENGTH:
            raise ValueError(f"header {name!r} is longer than {_MAX_VALUE_LENGTH} bytes")
        return prefix + bytes((kind,)) + _U16.pack(len(raw)) + raw
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"header {name!r}: a timestamp must be timezone-aware")
        milliseconds = (value - _EPOCH) // _MILLISECOND
        return prefix + bytes((_TIMESTAMP,)) + _INTEGERS[_TIMESTAMP].pack(milliseconds)
    if isinstance(value, uuid.UUID):
        return prefix + bytes((_UUID,)) + value.bytes
    raise TypeError(f"header {name!r}: cannot encode a {type(value).__name__}")


def _encode_headers(headers: Mapping[str, HeaderValue]) -> bytes:
    encoded = b"".join(_encode_header(name, value) for name, value in headers.items())
    if len(encoded) > _MAX_HEADERS_LENGTH:
        raise ValueError(f"headers are longer than {_MAX_HEADERS_LENGTH} bytes")
    return encoded


def _frame(headers: bytes, payload: bytes) -> bytes:
    if len(payload) > _MAX_PAYLOAD_LENGTH:
        raise ValueError(f"payload is longer than {_MAX_PAYLOAD_LENGTH} bytes")
    lengths = _LENGTHS.pack(len(headers) + len(payload) + _OVERHEAD, len(headers))
    head = lengths + _CRC.pack(_crc32(lengths)) + headers
    return b"".join((head, payload, _CRC.pack(_crc32(payload, _crc32(head)))))


def encode_message(headers: Mapping[str, HeaderValue], payload: bytes = b"") -> bytes:
    """One event-stream frame.

    Header values are typed by their Python type: ``bool`` (true/false), ``int`` (int32, or
    int64 past it), ``str`` (string), ``bytes`` (byte array), an aware ``datetime``
    (timestamp, in milliseconds) and ``uuid.UUID``. Raises ``ValueError`` for what no decoder
    would accept (a name past 127 bytes, a value past 32767, headers past 128 KiB, a payload
    past 24 MiB) and ``TypeError`` for a value of another type.
    """
    return _frame(_encode_headers(headers), bytes(payload))


# Lambda's frames. Their headers never change, so they are encoded once.
_PAYLOAD_CHUNK_HEADERS: Final = _encode_headers(
    {
        ":event-type": "PayloadChunk",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
)
_INVOKE_COMPLETE_HEADERS: Final = _encode_headers(
    {
        ":event-type": "InvokeComplete",
        ":content-type": "application/json",
        ":message-type": "event",
    }
)


def payload_chunk_event(data: bytes) -> bytes:
    """A ``PayloadChunk`` event carrying ``data``."""
    return _frame(_PAYLOAD_CHUNK_HEADERS, bytes(data))


def invoke_complete_event(
    error_code: str | None = None,
    error_details: str | None = None,
    log_result: str | None = None,
) -> bytes:
    """The ``InvokeComplete`` event that ends a stream; its JSON has only the keys given.

    ``log_result`` is the log text; it is sent base64-encoded, as Lambda sends it (Lambda
    keeps only the last 4 KB; trimming is left to the caller).
    """
    body: dict[str, str] = {}
    if error_code is not None:
        body["ErrorCode"] = error_code
    if error_details is not None:
        body["ErrorDetails"] = error_details
    if log_result is not None:
        body["LogResult"] = base64.b64encode(log_result.encode("utf-8")).decode("ascii")
    return _frame(_INVOKE_COMPLETE_HEADERS, json.dumps(body, separators=(",", ":")).encode())


def exception_event(exception_type: str, message: str) -> bytes:
    """An ``exception`` message: the service failed the stream with ``exception_type``."""
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps({"message": message}).encode(),
    )


def error_event(code: str, message: str) -> bytes:
    """An ``error`` message, which carries its code and message in headers."""
    return encode_message(
        {":message-type": "error", ":error-code": code, ":error-message": message}
    )
