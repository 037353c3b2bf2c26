"""MockTransport: a transport that answers from a function, with no network."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import attrs

from .._errors import TransportError, ValidationError
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

    A ``handler`` that is not callable is a :class:`~lambdaclient.ValidationError`
    (``field="handler"``) at construction. One that returns anything but a ``Response``
    makes the call raise :class:`~lambdaclient.TransportError` naming the type returned:
    the transport failed to give an answer, so the client treats it as it would a lost
    response (retrying it where the operation is safe to retry).

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
            raise ValidationError(
                f"MockTransport's handler must be a function of a Request returning a Response,"
                f" not a {type(handler).__name__}",
                field="handler",
            )
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
            raise TransportError(
                f"MockTransport's handler returned a {type(response).__name__}, not a Response"
            )
        return response

    async def aclose(self) -> None:
        """Nothing to release."""
