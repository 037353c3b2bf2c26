"""MockTransport: a transport that answers from a function, with no network."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import attrs

from ..transport import Request, Response

__all__ = ["MockTransport"]


class MockTransport:
    """A :class:`~lambdaclient.transport.Transport` that answers every request with
    ``handler(request)``: nothing is sent anywhere.

    ``handler`` is a function or an async function of a
    :class:`~lambdaclient.transport.Request` (method, signed URL, headers, and the body as
    bytes, whatever the payload was) returning a :class:`~lambdaclient.transport.Response`.
    It may raise a :class:`~lambdaclient.TransportError` (or ``ConnectError``,
    ``RequestTimeoutError``) to stand for a request that got no response; the client's
    retries, error parsing and models run as they do against AWS.

    Example::

        def handler(request: Request) -> Response:
            assert request.method == "GET"
            return Response(200, {"x-amzn-RequestId": "r-1"}, b'{"Name": "live", ...}')

        transport = MockTransport(handler)
        async with LambdaClient("us-east-1", credentials=..., transport=transport) as client:
            alias = await client.get_alias("my-fn", "live")
    """

    def __init__(self, handler: Callable[[Request], Response | Awaitable[Response]]) -> None:
        if not callable(handler):
            raise TypeError("MockTransport takes a function of a Request returning a Response")
        self._handler = handler

    async def send(self, request: Request) -> Response:
        """The handler's response to ``request``, its body given to the handler as bytes."""
        if not isinstance(request.body, bytes):
            chunks = [chunk async for chunk in request.body.chunks()]
            request = attrs.evolve(request, body=b"".join(chunks))
        response = self._handler(request)
        if inspect.isawaitable(response):
            response = await response
        if not isinstance(response, Response):
            raise TypeError(
                f"the MockTransport handler returned a {type(response).__name__}, not a Response"
            )
        return response

    async def aclose(self) -> None:
        """Nothing to release."""
