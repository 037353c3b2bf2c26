"""The responses of ``invoke_stream`` and ``invoke_with_response_stream``.

Both are used inside ``async with``; leaving the block, however it is left, releases the
connection, so a stream that is not read to its end never leaks it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from ._errors import LambdaError
from ._eventstream import InvokeStreamDecoder
from ._models import InvokeComplete

if TYPE_CHECKING:
    from ._protocol import InvokeHead
    from .transport import ByteStream

__all__ = ["ResponseStream", "StreamEnd", "StreamingInvokeResponse"]

StreamEnd = Callable[[LambdaError | None], object]
"""Told once when a stream's body ends: with None when it was read to its end, with the
error when reading it failed. Not told when the stream is left unfinished."""


def _ignore(error: LambdaError | None) -> None:
    pass


class StreamingInvokeResponse:
    """An ``invoke_stream`` response: its headers are known before its body is read.
    ``on_end`` (the client's) is told when the body has been read to its end or its read
    failed (:data:`StreamEnd`).

    Example::

        async with client.invoke_stream("my-fn", payload=b"...", qualifier="live") as response:
            print(response.executed_version)
            async for chunk in response.iter_chunks():
                sink.write(chunk)
    """

    __slots__ = (
        "_body",
        "_on_end",
        "executed_version",
        "function_error",
        "log_result",
        "request_id",
        "status_code",
    )

    def __init__(
        self, head: InvokeHead, body: ByteStream, *, on_end: StreamEnd | None = None
    ) -> None:
        self._body = body
        self._on_end = _ignore if on_end is None else on_end
        self.status_code: int = head.status
        self.executed_version: str | None = head.executed_version
        self.function_error: str | None = head.function_error
        self.log_result: str | None = head.log_result
        self.request_id: str | None = head.request_id

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The payload in chunks as they arrive; it is never held whole."""
        try:
            async for chunk in self._body:
                yield chunk
        except LambdaError as error:
            self._on_end(error)
            raise
        self._on_end(None)

    async def read(self) -> bytes:
        """The rest of the payload, read whole."""
        try:
            payload = await self._body.read()
        except LambdaError as error:
            self._on_end(error)
            raise
        self._on_end(None)
        return payload


class ResponseStream(AsyncIterator[bytes]):
    """An ``invoke_with_response_stream`` response: an async iterator over the bytes of each
    ``PayloadChunk`` the function streams.

    When iteration ends, :attr:`complete` holds the stream's :class:`InvokeComplete` (a
    function error shows as ``complete.error_code``). A stream that ends without one raises
    :class:`IncompleteStreamError` rather than look complete; a bad frame or an error event
    raises :class:`EventStreamError`. ``on_end`` (the client's) is told when the stream ends,
    at its ``InvokeComplete`` or its failure (:data:`StreamEnd`).

    Example::

        async with client.invoke_with_response_stream("my-fn", qualifier="live") as stream:
            async for chunk in stream:
                sink.write(chunk)
        if stream.complete and stream.complete.error_code:
            ...
    """

    def __init__(
        self, head: InvokeHead, body: ByteStream, *, on_end: StreamEnd | None = None
    ) -> None:
        self._body = body
        self._on_end = _ignore if on_end is None else on_end
        self.status_code: int = head.status
        self.executed_version: str | None = head.executed_version
        self.content_type: str | None = head.content_type
        self.request_id: str | None = head.request_id
        self._complete: InvokeComplete | None = None
        self._events = self._read_events()

    @property
    def complete(self) -> InvokeComplete | None:
        """The final event, once the stream has been read to its end; None before."""
        return self._complete

    async def _read_events(self) -> AsyncIterator[bytes]:
        try:
            async for event in self._decoded():
                yield event
        except LambdaError as error:  # a read error, a bad frame, an error event
            self._on_end(error)
            raise
        self._on_end(None)

    async def _decoded(self) -> AsyncIterator[bytes]:
        if self.status_code != 200:
            return  # DryRun (204) has no stream
        decoder = InvokeStreamDecoder()
        async for data in self._body:
            for event in decoder.feed(data):
                if isinstance(event, InvokeComplete):
                    # The last event: done, even if the server is slow to end the body.
                    self._complete = event
                    return
                if event:
                    yield event
        decoder.feed_eof()  # raises: the body ended before InvokeComplete

    def __aiter__(self) -> ResponseStream:
        return self

    async def __anext__(self) -> bytes:
        return await anext(self._events)
