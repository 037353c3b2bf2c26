"""The tests' own proxy (``tests/proxy.py``) forwards to this machine only: a request for any
other address is answered 502 and goes nowhere, so no test can reach the internet through it."""

from __future__ import annotations

import pytest

from lambdaclient import ConnectError, Credentials, LambdaClient, ServiceError
from tests.proxy import running_proxy

CREDENTIALS = Credentials("AKIDPROXY", "proxy-test-secret")


@pytest.mark.parametrize(
    ("endpoint_url", "error"),
    [
        # HTTPS goes through a CONNECT tunnel, which the proxy refuses to open.
        ("https://lambda.us-east-1.amazonaws.com", ConnectError),
        # Plain HTTP is forwarded as an absolute-form request: the proxy's 502 is the answer.
        ("http://192.0.2.1:8080", ServiceError),  # TEST-NET-1: routed nowhere
        ("http://localhost.example:8080", ServiceError),  # a name is not resolved
    ],
)
async def test_the_test_proxy_refuses_every_target_off_this_machine(
    endpoint_url: str, error: type[Exception]
) -> None:
    async with running_proxy() as proxy:
        async with LambdaClient(
            "us-east-1",
            credentials=CREDENTIALS,
            endpoint_url=endpoint_url,
            proxy=proxy.url,
            max_attempts=1,
        ) as client:
            with pytest.raises(error, match="502"):
                await client.get_alias("my-fn", "live")
        assert proxy.forwarded == []
