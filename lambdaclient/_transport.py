"""The HTTP transport: the only module that imports aiohttp.

aiohttp's exceptions are turned into ours here and nowhere else, so the rest of the package
(and its users) never need to know which HTTP library is underneath.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import attrs
from yarl import URL

from ._errors import (
    ConnectError,
    ConnectTimeoutError,
    LambdaError,
    RequestTimeoutError,
    TransportError,
)
from ._payload import Body, FileBody

__all__ = ["HttpResponse", "StreamedResponse", "Transport"]

_NO_AUTO_CONTENT_TYPE = ("Content-Type",)


@attrs.frozen(slots=True)
class HttpResponse:
    """A whole response: status, case-insensitive headers and the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def _translate(exc: Exception, method: str, url: str) -> LambdaError:
    where = f"{method} {url.split('?', 1)[0]}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeoutError(f"timed out connecting for {where}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"cannot connect to {exc.host}:{exc.port}: {exc.os_error}")
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return RequestTimeoutError(f"timed out waiting for the response to {where}")
    return TransportError(f"{where}: {type(exc).__name__}: {exc}")


def _no_automatic_resend(session: aiohttp.ClientSession) -> None:
    """aiohttp resends a GET, PUT or DELETE once by itself when a kept-alive connection drops,
    beneath our retry policy: an UpdateAlias the server already applied would go out again.
    Our policy alone decides what is resent, on a caller's session too. There is no public
    switch; this is the one aiohttp's own test client uses."""
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


class StreamedResponse:
    """A response whose headers have arrived and whose body is read as it comes."""

    __slots__ = ("_method", "_response", "_url", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse, method: str, url: str) -> None:
        self._response = response
        self._method = method
        self._url = url
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    async def read(self) -> bytes:
        """The rest of the body."""
        try:
            return await self._response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, self._method, self._url) from exc

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body in chunks as they arrive, never held whole."""
        content = self._response.content
        try:
            async for chunk, _ in content.iter_chunks():
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, self._method, self._url) from exc


class Transport:
    """Sends requests over one ``aiohttp.ClientSession``.

    A session passed in belongs to the caller and is never closed here; otherwise the
    transport creates one on first use (inside the running loop) and closes it in
    :meth:`close`.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        *,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        if session is not None:
            _no_automatic_resend(session)
        self._connect_timeout = connect_timeout
        self._timeout = self._timeout_for(read_timeout)

    def _timeout_for(self, read_timeout: float) -> aiohttp.ClientTimeout:
        # sock_connect rather than connect: time spent waiting for a free pooled connection
        # is not a connect timeout, or a busy pool would fail calls that never tried to
        # connect. No total timeout: a read timeout between bytes bounds a stalled server,
        # while a long stream that keeps flowing is never cut.
        return aiohttp.ClientTimeout(
            total=None, sock_connect=self._connect_timeout, sock_read=read_timeout
        )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # What every request needs is set once here, not per request (cheaper in aiohttp):
            # our timeouts, and no automatic Content-Type (see _open).
            session = aiohttp.ClientSession(
                timeout=self._timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Content-Type"),
            )
            _no_automatic_resend(session)
            self._session = session
        return self._session

    async def _open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Body,
        read_timeout: float | None,
    ) -> aiohttp.ClientResponse:
        """Send a request; its response once the headers are in, or a :class:`TransportError`."""
        session = self._get_session()
        if isinstance(body, FileBody):
            # Content-Length is known from hashing, so the body is not sent chunked.
            headers = {**headers, "Content-Length": str(body.length)}
            data: object = body.chunks()
        else:
            data = body or None
        options: dict[str, Any] = {}
        if read_timeout is not None:
            options["timeout"] = self._timeout_for(read_timeout)
        elif not self._owns_session:
            options["timeout"] = self._timeout  # the caller's session has its own defaults
        if not self._owns_session:
            # aiohttp would label a bytes body application/octet-stream; Lambda's invoke
            # bodies go without one, as botocore sends them. JSON requests set their own.
            options["skip_auto_headers"] = _NO_AUTO_CONTENT_TYPE
        try:
            return await session.request(
                method,
                URL(url, encoded=True),  # already percent-encoded; re-quoting would break signing
                headers=headers,
                data=data,
                allow_redirects=False,
                raise_for_status=False,  # a caller's session may say otherwise; errors are ours
                **options,
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, method, url) from exc

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Body,
        *,
        read_timeout: float | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        """Send a request and give its response once the headers are in; the connection is
        released when the block is left, however it is left. ``read_timeout`` overrides the
        transport's for this request."""
        response = await self._open(method, url, headers, body, read_timeout)
        # Outside _open's try: what the caller's block raises is theirs, not a transport error.
        try:
            yield StreamedResponse(response, method, url)
        finally:
            # Back to the pool if the body was read to its end; closed otherwise.
            response.release()

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Body,
        *,
        read_timeout: float | None = None,
    ) -> HttpResponse:
        """Send one request and read the whole response, or raise a :class:`TransportError`."""
        response = await self._open(method, url, headers, body, read_timeout)
        try:
            data = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, method, url) from exc
        finally:
            response.release()
        return HttpResponse(response.status, response.headers, data)

    async def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
