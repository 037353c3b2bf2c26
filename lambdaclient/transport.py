"""The seam between :class:`~lambdaclient.LambdaClient` and the network.

A :class:`Transport` sends one signed :class:`Request` and gives back a :class:`Response`
as soon as its head has arrived; the body is a :class:`ByteStream`, read whole or in chunks,
that holds the connection until it is read to its end or closed. Retries, signing and
parsing happen above it, so a transport is small: :class:`AiohttpTransport` is the default,
and ``lambdaclient.testing.MockTransport`` answers from a function, for tests.

A transport raises :class:`~lambdaclient.TransportError` (or one of its subclasses) when a
request gets no HTTP response, so the client's retry policy can tell a connection that was
never made (:class:`~lambdaclient.ConnectError`, safe to resend) from one lost after the
request went out. Any status is a response, not an error: the client decides what a 4xx
or 5xx means.

This is the only module that imports aiohttp; its exceptions are turned into ours here and
nowhere else.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Protocol, TypeAlias

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._errors import (
    ConnectError,
    ConnectTimeoutError,
    LambdaError,
    RequestTimeoutError,
    TransportError,
)

__all__ = [
    "AiohttpTransport",
    "BodySource",
    "ByteStream",
    "BytesStream",
    "Request",
    "RequestBody",
    "Response",
    "Transport",
]


class BodySource(Protocol):
    """A request body too large to hold in memory, read in chunks as it is sent.

    Each call to :meth:`chunks` starts again from the beginning, so a retry can send it
    again. Whoever opened what it reads (a file) closes it; the transport only reads it.
    """

    @property
    def length(self) -> int:
        """The number of bytes :meth:`chunks` gives (sent as ``Content-Length``)."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body, a chunk at a time, from its start."""
        ...


RequestBody: TypeAlias = bytes | BodySource
"""A request body: bytes, or a :class:`BodySource` read as it is sent."""


@attrs.frozen(slots=True)
class Request:
    """One signed HTTP request.

    ``url`` is absolute and already percent-encoded exactly as it was signed, so a transport
    sends it as it is. ``read_timeout`` (seconds), when set, replaces the transport's own
    for this request (``invoke(read_timeout=...)``).
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: RequestBody = b""
    read_timeout: float | None = None


class ByteStream(Protocol):
    """A response body: :meth:`read` it whole, or iterate its chunks as they arrive.

    Reading it to its end releases the connection; :meth:`aclose` releases it at any point
    (closing the connection if the body was not read to its end). Either may be called
    more than once.
    """

    async def read(self) -> bytes:
        """The rest of the body, whole; the connection is released afterwards."""
        ...

    def __aiter__(self) -> AsyncIterator[bytes]:
        """The rest of the body in chunks as they arrive, never held whole."""
        ...

    async def aclose(self) -> None:
        """Release the connection."""
        ...


class BytesStream:
    """A body already in memory, as a :class:`ByteStream` (no connection to release)."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def read(self) -> bytes:
        """The body (what is left of it), and nothing after."""
        data, self._data = self._data, b""
        return data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        data = await self.read()
        if data:
            yield data

    async def aclose(self) -> None:
        """Nothing to release."""
        self._data = b""


def _case_insensitive(headers: Mapping[str, str]) -> Mapping[str, str]:
    # The protocol looks headers up by their AWS spelling; servers send any case.
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):
        return headers
    return CIMultiDictProxy(CIMultiDict(headers))


def _stream(body: bytes | ByteStream) -> ByteStream:
    return BytesStream(body) if isinstance(body, bytes) else body


@attrs.frozen(slots=True)
class Response:
    """An HTTP response whose head has arrived: ``status``, ``headers`` (looked up without
    regard to case) and the ``body`` stream.

    ``body`` may be given as bytes, for a response made in a test::

        Response(200, {"Content-Type": "application/json"}, b'{"Name": "live"}')

    Use it as an async context manager, or call :meth:`aclose`, to release the connection
    whatever happens to the body.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_case_insensitive)
    body: ByteStream = attrs.field(factory=lambda: BytesStream(b""), converter=_stream)

    async def read(self) -> bytes:
        """The whole body (see :meth:`ByteStream.read`)."""
        return await self.body.read()

    async def aclose(self) -> None:
        """Release the connection."""
        await self.body.aclose()

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class Transport(Protocol):
    """What :class:`~lambdaclient.LambdaClient` sends its requests through
    (``LambdaClient(transport=...)``)."""

    async def send(self, request: Request) -> Response:
        """Send ``request``; its response once the head has arrived, or a
        :class:`~lambdaclient.TransportError` if there is none. The caller reads or closes
        the response's body."""
        ...

    async def aclose(self) -> None:
        """Release what the transport holds (its connections). Idempotent."""
        ...


# The aiohttp transport

_NO_AUTO_CONTENT_TYPE = ("Content-Type",)
# Bodies are never decompressed, on any session: a compressed body could expand past any
# bound on what is read (a few hundred KB of gzip make hundreds of MB). So no compression is
# asked for, as botocore asks for none (``identity``, which http.client sends); a server
# that compresses anyway gives a body that is not JSON, a ResponseParseError.
_IDENTITY = {"Accept-Encoding": "identity"}


def _translate(exc: Exception, request: Request) -> LambdaError:
    where = f"{request.method} {request.url.split('?', 1)[0]}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return ConnectError(
            f"cannot connect to {exc.host}:{exc.port}: its certificate is not trusted"
            f" ({exc.certificate_error}); give the bundle of the authority that signed it as"
            " ca_bundle= or AWS_CA_BUNDLE"
        )
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return ConnectError(f"cannot connect to the proxy {exc.host}:{exc.port}: {exc.os_error}")
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        # Not str(exc): it shows the proxy's URL, which may hold a password.
        return ConnectError(f"the proxy refused to connect {where}: {exc.status} {exc.message}")
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
    switch (aiohttp 3.14 and before); this private one is what aiohttp's own test client
    sets. The fault tests prove a dropped write goes out once, on our session and a caller's,
    so a release that renames it fails them rather than passing silently."""
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


class _AiohttpStream:
    """An aiohttp response's body. Its connection goes back to the pool once the body has
    been read to its end, and is closed if the body is left unread."""

    __slots__ = ("_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: Request) -> None:
        self._response = response
        self._request = request

    async def read(self) -> bytes:
        try:
            return await self._response.read()  # bytes as aiohttp joined them: no copy here
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, self._request) from exc
        finally:
            self._response.release()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            async for chunk, _ in content.iter_chunks():
                if chunk:
                    yield chunk
                elif content.at_eof():
                    # A body-less response (204) reads as (b"", True) for ever, not as the
                    # end of the iteration.
                    break
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport:
    """The default transport: requests over one ``aiohttp.ClientSession``.

    A ``session`` passed in belongs to the caller and is never closed here (the transport
    still sets its own timeouts, redirects off, no automatic ``Content-Type`` and no
    decompression on each request); otherwise the transport creates one on first use,
    inside the running loop, and closes it in :meth:`aclose`. ``connect_timeout`` bounds
    connecting; ``read_timeout`` bounds each wait for data, so a long response that keeps
    flowing is never cut.

    ``proxy`` (an ``http://`` or ``https://`` URL, which may carry a user name and password
    for the proxy) is what every request goes through; an HTTPS request is tunnelled with
    ``CONNECT``. ``ssl_context`` is what the server's certificate is checked with (the
    default trust store when None). Both apply to a session passed in too.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        proxy: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        if session is not None:
            _no_automatic_resend(session)
        self._connect_timeout = connect_timeout
        self._timeout = self._timeout_for(read_timeout)
        self._connection: dict[str, Any] = {}  # per request: a session's defaults are not ours
        if proxy is not None:
            self._connection["proxy"] = proxy
        if ssl_context is not None:
            self._connection["ssl"] = ssl_context

    def __repr__(self) -> str:
        # Never the proxy's URL: it may hold a password.
        proxy = ", proxy=..." if "proxy" in self._connection else ""
        return f"AiohttpTransport(read_timeout={self._timeout.sock_read}{proxy})"

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
            # our timeouts, and no automatic Content-Type (see send).
            session = aiohttp.ClientSession(
                timeout=self._timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Content-Type"),
            )
            _no_automatic_resend(session)
            self._session = session
        return self._session

    async def send(self, request: Request) -> Response:
        """Send ``request``; its response once the head is in, or a :class:`TransportError`."""
        session = self._get_session()
        body = request.body
        headers = {**_IDENTITY, **request.headers}
        if isinstance(body, bytes):
            data: object = body or None
        else:
            # Content-Length is known from hashing, so the body is not sent chunked.
            headers["Content-Length"] = str(body.length)
            data = body.chunks()
        options: dict[str, Any] = dict(self._connection)
        if request.read_timeout is not None:
            options["timeout"] = self._timeout_for(request.read_timeout)
        elif not self._owns_session:
            options["timeout"] = self._timeout  # the caller's session has its own defaults
        if not self._owns_session:
            # aiohttp would label a bytes body application/octet-stream; Lambda's invoke
            # bodies go without one, as botocore sends them. JSON requests set their own.
            options["skip_auto_headers"] = _NO_AUTO_CONTENT_TYPE
            options["auto_decompress"] = False
        try:
            response = await session.request(
                request.method,
                URL(request.url, encoded=True),  # re-quoting would break the signature
                headers=headers,
                data=data,
                allow_redirects=False,
                raise_for_status=False,  # a caller's session may say otherwise; errors are ours
                **options,
            )
        except aiohttp.ClientHttpProxyError as exc:
            # Not chained: its text, in every logged traceback, shows the proxy's password.
            raise _translate(exc, request) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, request) from exc
        return Response(response.status, response.headers, _AiohttpStream(response, request))

    async def aclose(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
