"""botocore as an independent oracle: whether it signs the request our client sent the same
way, and a test server that refuses what botocore would not have signed that way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import attrs
from aiohttp import web

from lambdaclient import Credentials
from lambdaclient.testing._signature import check_signature
from lambdaclient.testing._state import LambdaFault


def botocore_accepts(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
) -> bool:
    """Whether a received request carries the signature botocore computes for it with
    ``credentials``, and their session token (LocalLambda's check, which asks botocore).

    ``url`` is the URL as received (scheme, Host header, raw path and query); ``headers``
    must look names up case-insensitively.
    """
    if headers.get("X-Amz-Security-Token") != credentials.session_token:
        return False
    try:
        # Judged at the time it says it was signed: the oracle checks the signature, not how
        # fresh it is (tests sign at fixed times).
        signed_at = datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        check_signature(
            method=method,
            url=url,
            headers=headers,
            body=body,
            credentials=credentials,
            region=region,
            now=signed_at,
        )
    except (LambdaFault, KeyError, ValueError):
        return False
    return True


@attrs.frozen
class Received:
    """A request as a test server received it."""

    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes


@asynccontextmanager
async def signing_server(
    credentials: Credentials,
    answer: Callable[[web.Request, Received], Awaitable[web.StreamResponse]],
    received: list[Received],
) -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 that records every request in ``received``, refuses
    with 403 InvalidSignatureException what botocore would not have signed that way, and
    lets ``answer`` reply to the rest. Yields its base URL."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        this = Received(request.method, request.raw_path, dict(request.headers), body)
        received.append(this)
        if not botocore_accepts(
            method=request.method,
            url=f"http://{request.host}{request.raw_path}",
            headers=request.headers,
            body=body,
            credentials=credentials,
            region="us-east-1",
        ):
            return web.json_response(
                {"message": "The request signature we calculated does not match"},
                status=403,
                headers={"x-amzn-ErrorType": "InvalidSignatureException"},
            )
        return await answer(request, this)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
