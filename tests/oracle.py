"""botocore as an independent oracle: what it would sign for the request our client sent, and
a test server that refuses what botocore would not have signed that way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from unittest import mock

import attrs
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from lambdaclient import Credentials

_SIGNATURE_HEADERS = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})


def botocore_authorization(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    when: datetime,
) -> str:
    """The Authorization header botocore's SigV4Auth gives the same request at ``when``."""
    unsigned = {k: v for k, v in headers.items() if k.lower() not in _SIGNATURE_HEADERS}
    request = AWSRequest(method=method, url=url, data=body, headers=unsigned)
    botocore_credentials = BotocoreCredentials(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
        SigV4Auth(botocore_credentials, "lambda", region).add_auth(request)
    return str(request.headers["Authorization"])


def botocore_accepts(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
) -> bool:
    """Whether a received request carries the signature botocore computes for it.

    ``url`` is the URL as received (scheme, Host header, raw path and query); only the headers
    the request says it signed are given to botocore, as a server would check them.
    """
    authorization = headers.get("Authorization", "")
    signed = authorization.partition("SignedHeaders=")[2].partition(",")[0].split(";")
    when = datetime.strptime(headers.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ")
    given = {name: headers[name] for name in signed if name not in ("host",) and name in headers}
    expected = botocore_authorization(
        method=method,
        url=url,
        headers=given,
        body=body,
        credentials=credentials,
        region=region,
        when=when,
    )
    return expected == authorization


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
