from typing import Any

import pytest

from lambdaclient import LambdaClient, ServiceError
from lambdaclient.testing import LocalLambda, ServerError


def handler(event: Any, context: Any) -> dict[str, Any]:
    return {"echo": event, "version": context.function_version}


@pytest.mark.asyncio
async def test_my_code_never_runs_a_function_twice() -> None:
    async with LocalLambda(seed=7) as lam:
        lam.add_function("my-fn", handler)  # $LATEST; lam.publish_version("my-fn") for "1"
        async with LambdaClient(
            lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
        ) as client:
            result = await client.invoke("my-fn", payload={"a": 1})
            assert result.json() == {"echo": {"a": 1}, "version": "$LATEST"}

            # A 502 after the function ran: the client must not run it again.
            lam.inject("Invoke", ServerError(502, after_execution=True))
            with pytest.raises(ServiceError):
                await client.invoke("my-fn")
            assert lam.executions("my-fn", "$LATEST") == 2
