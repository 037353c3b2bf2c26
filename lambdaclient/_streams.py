"""The responses of ``invoke_stream`` and ``invoke_with_response_stream``.

Both are used inside ``async with``; leaving the block, however it is left, releases the
connection, so a stream that is not read to its end never leaks it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ._errors import IncompleteStreamError
from ._eventstream import InvokeStreamDecoder, decode_log
from ._models import InvokeComplete
from ._protocol import request_id
from ._transport import StreamedResponse

__all__ = ["ResponseStream", "StreamingInvokeResponse"]


class StreamingInvokeResponse:
    """An ``invoke_stream`` response: its headers are known before its body is read.

    Example::

        async with client.invoke_stream("my-fn", payload=b"...", qualifier="live") as response:
            print(response.executed_version)
            async for chunk in response.iter_chunks():
                sink.write(chunk)
    """

    __slots__ = (
        "_response",
        "executed_version",
        "function_error",
        "log_result",
        "request_id",
        "status_code",
    )

    def __init__(self, response: StreamedResponse) -> None:
        headers = response.headers
        self._response = response
        self.status_code: int = response.status
        self.executed_version: str | None = headers.get("X-Amz-Executed-Version")
        self.function_error: str | None = headers.get("X-Amz-Function-Error")
        self.log_result: str | None = decode_log(headers.get("X-Amz-Log-Result"))
        self.request_id: str | None = request_id(headers)

    def iter_chunks(self) -> AsyncIterator[bytes]:
        """The payload in chunks as they arrive; it is never held whole."""
        return self._response.iter_chunks()

    async def read(self) -> bytes:
        """The rest of the payload, read whole."""
        return await self._response.read()


class ResponseStream(AsyncIterator[bytes]):
    """An ``invoke_with_response_stream`` response: an async iterator over the bytes of each
    ``PayloadChunk`` the function streams.

    When iteration ends, :attr:`complete` holds the stream's :class:`InvokeComplete` (a
    function error shows as ``complete.error_code``). A stream that ends without one raises
    :class:`IncompleteStreamError` rather than look complete; a bad frame or an error event
    raises :class:`EventStreamError`.

    Example::

        async with client.invoke_with_response_stream("my-fn", qualifier="live") as stream:
            async for chunk in stream:
                sink.write(chunk)
        if stream.complete and stream.complete.error_code:
            ...
    """

    def __init__(self, response: StreamedResponse) -> None:
        headers = response.headers
        self._response = response
        self.status_code: int = response.status
        self.executed_version: str | None = headers.get("X-Amz-Executed-Version")
        self.content_type: str | None = headers.get("Content-Type")
        self.request_id: str | None = request_id(headers)
        self._complete: InvokeComplete | None = None
        self._events = self._read_events()

    @property
    def complete(self) -> InvokeComplete | None:
        """The final event, once the stream has been read to its end; None before."""
        return self._complete

    async def _read_events(self) -> AsyncIterator[bytes]:
        if self.status_code != 200:
            return  # DryRun (204) has no stream
        decoder = InvokeStreamDecoder()
        async for data in self._response.iter_chunks():
            for event in decoder.feed(data):
                if isinstance(event, InvokeComplete):
                    # The last event: done, even if the server is slow to end the body.
                    self._complete = event
                    return
                if event:
                    yield event
        if self._complete is None:
            where = " in the middle of a frame" if decoder.pending else ""
            raise IncompleteStreamError(
                "IncompleteStream", f"the response stream ended{where} before InvokeComplete"
            )

    def __aiter__(self) -> ResponseStream:
        return self

    async def __anext__(self) -> bytes:
        return await anext(self._events)
