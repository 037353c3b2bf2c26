"""The HTTP transport: the only module that imports aiohttp.

aiohttp's exceptions are turned into ours here and nowhere else, so the rest of the package
(and its users) never need to know which HTTP library is underneath.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import attrs
from yarl import URL

from ._errors import ConnectError, ConnectTimeoutError, RequestTimeoutError, TransportError

__all__ = ["HttpResponse", "Transport"]


@attrs.frozen(slots=True)
class HttpResponse:
    """A whole response: status, case-insensitive headers and the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


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
        # sock_connect rather than connect: time spent waiting for a free pooled connection
        # is not a connect timeout, or a busy pool would fail calls that never tried to
        # connect. No total timeout: a read timeout between bytes bounds a stalled server.
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=read_timeout
        )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> HttpResponse:
        """Send one request and read the whole response, or raise a :class:`TransportError`."""
        session = self._get_session()
        try:
            async with session.request(
                method,
                URL(url, encoded=True),  # already percent-encoded; re-quoting would break signing
                headers=headers,
                data=body or None,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                return HttpResponse(response.status, response.headers, await response.read())
        except aiohttp.ConnectionTimeoutError as exc:
            raise ConnectTimeoutError(f"timed out connecting to {url.split('?', 1)[0]}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(f"cannot connect to {exc.host}:{exc.port}: {exc.os_error}") from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeoutError(f"timed out waiting for the response to {method}") from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
