import json

import pytest

from lambdaclient import Credentials, LambdaClient
from lambdaclient.testing import MockTransport
from lambdaclient.transport import Request, Response

ALIAS = {
    "AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:my-fn:live",
    "Name": "live",
    "FunctionVersion": "1",
    "RevisionId": "r-1",
}


@pytest.mark.asyncio  # or asyncio_mode = "auto" in your pytest configuration
async def test_my_code_reads_the_alias_after_a_throttle() -> None:
    sent: list[Request] = []

    def handler(request: Request) -> Response:
        sent.append(request)
        if len(sent) == 1:
            throttled = {"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "0"}
            return Response(429, throttled, b'{"message": "Rate exceeded"}')
        return Response(200, {"Content-Type": "application/json"}, json.dumps(ALIAS).encode())

    async with LambdaClient(
        "us-east-1",
        credentials=Credentials("AKIDEXAMPLE", "secret"),
        transport=MockTransport(handler),
    ) as client:
        alias = await client.get_alias("my-fn", "live")

    assert alias.function_version == "1"
    assert [request.method for request in sent] == ["GET", "GET"]  # the 429 was retried
    assert sent[0].url.endswith("/2015-03-31/functions/my-fn/aliases/live")
