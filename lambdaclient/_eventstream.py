"""Incremental decoding of InvokeWithResponseStream's event stream (sans-I/O).

Frames are decoded by botocore's ``EventStreamBuffer`` (prelude and message CRCs checked),
imported only when a response stream is first read so that no other path pays for it. This
module gives its messages their Lambda meaning: ``PayloadChunk`` events carry bytes,
``InvokeComplete`` ends the stream, and ``exception`` or ``error`` messages, like a frame that
fails its checksum, raise :class:`EventStreamError`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ._errors import EventStreamError
from ._models import InvokeComplete

__all__ = ["InvokeStreamDecoder", "decode_log"]


def decode_log(value: str | None) -> str | None:
    """A base64 log tail (``X-Amz-Log-Result``, ``InvokeComplete.LogResult``) as text."""
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return value  # not base64: show what was sent rather than lose it


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        data = json.loads(payload) if payload else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class InvokeStreamDecoder:
    """Feed it the response body as it arrives; it returns the events each piece completes.

    Events are ``bytes`` (a ``PayloadChunk``'s payload) or an :class:`InvokeComplete`.
    """

    __slots__ = ("_buffer", "_parser_error")

    def __init__(self) -> None:
        from botocore.eventstream import EventStreamBuffer, ParserError

        self._buffer: Any = EventStreamBuffer()
        self._parser_error: type[Exception] = ParserError

    @property
    def pending(self) -> bool:
        """Whether part of a frame is waiting for the rest of its bytes."""
        return bool(self._buffer._data)  # botocore keeps unparsed bytes here; no public accessor

    def feed(self, data: bytes) -> list[bytes | InvokeComplete]:
        """Decode what ``data`` completes. Raises :class:`EventStreamError`."""
        self._buffer.add_data(data)
        events: list[bytes | InvokeComplete] = []
        try:
            for message in self._buffer:
                events.append(self._event(message.headers, message.payload))
        except self._parser_error as exc:
            raise EventStreamError(type(exc).__name__, str(exc)) from exc
        return events

    @staticmethod
    def _event(headers: dict[str, Any], payload: bytes) -> bytes | InvokeComplete:
        message_type = headers.get(":message-type")
        if message_type == "event":
            event_type = headers.get(":event-type")
            if event_type == "PayloadChunk":
                return payload
            if event_type == "InvokeComplete":
                data = _json_object(payload)
                return InvokeComplete(
                    _optional_str(data.get("ErrorCode")),
                    _optional_str(data.get("ErrorDetails")),
                    decode_log(_optional_str(data.get("LogResult"))),
                )
            raise EventStreamError("UnknownEvent", f"unexpected event type {event_type!r}")
        if message_type == "exception":
            data = _json_object(payload)
            message = data.get("message") or data.get("Message")
            return_code = headers.get(":exception-type") or "UnknownException"
            raise EventStreamError(
                str(return_code),
                message if isinstance(message, str) else payload.decode("utf-8", "replace"),
            )
        if message_type == "error":
            raise EventStreamError(
                str(headers.get(":error-code") or "UnknownError"),
                str(headers.get(":error-message") or ""),
            )
        raise EventStreamError("UnknownMessage", f"unexpected message type {message_type!r}")
