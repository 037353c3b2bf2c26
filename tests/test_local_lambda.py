"""Our client against LocalLambda over real sockets: every operation, and every error it can
answer with.

LocalLambda checks each signature with botocore's signer, so every passing call here also
proves the client signs as AWS expects. Where the client refuses a request itself (a
ValidationError), the same request is sent raw through botocore, which checks far less, to show
the server enforces the rule too. botocore is also how versions are published and function
configurations read, since the client has no call for them.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdaclient import (
    AliasConfiguration,
    Credentials,
    FunctionError,
    IncompleteStreamError,
    InvalidParameterValueError,
    InvocationType,
    LambdaClient,
    LogType,
    PreconditionFailedError,
    RequestTimeoutError,
    ResourceConflictError,
    ResourceNotFoundError,
    RoutingConfig,
    ServiceError,
    ServiceException,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)
from lambdaclient.testing import (
    Delay,
    DropConnection,
    LambdaContext,
    LocalLambda,
    ServerError,
    Throttle,
)
from tests.local_lambda_process import local_lambda_process

SEED = 20261125
ACCOUNT = "123456789012"
ARN_PREFIX = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
FN_ARN = f"{ARN_PREFIX}fn"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/other-role"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:dead-letters"


# --- handlers ------------------------------------------------------------------------------


def echo(event: Any, context: Any) -> Any:
    return {"event": event, "version": context.function_version}


def echo_v2(event: Any, context: Any) -> Any:
    return {"event": event, "version": context.function_version, "v2": True}


def describe_context(event: Any, context: Any) -> Any:
    custom = getattr(context.client_context, "custom", None)
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "log_group_name": context.log_group_name,
        "custom": custom,
    }


async def async_handler(event: Any, context: Any) -> Any:
    await asyncio.sleep(0)
    return {"async": True, "n": event["n"] * 2}


def failing(event: Any, context: Any) -> Any:
    raise ValueError(f"bad order {event['order']}")


def talkative(event: Any, context: Any) -> Any:
    print(f"printed {event['id']}")
    logging.getLogger("talkative").warning("logged %s", event["id"])
    return event["id"]


async def slow_talkative(event: Any, context: Any) -> Any:
    # Lines interleave with the other invocations' at every await.
    for line in range(3):
        print(f"id={event['id']} line={line}")
        await asyncio.sleep(0)
        logging.getLogger("talkative").warning("id=%s logged=%d", event["id"], line)
        await asyncio.sleep(0)
    return event["id"]


async def streaming(event: Any, context: Any) -> AsyncIterator[Any]:
    for part in ("alpha,", b"beta,", "gamma"):
        await asyncio.sleep(0)
        yield part


async def streaming_then_failing(event: Any, context: Any) -> AsyncIterator[bytes]:
    yield b"first"
    yield b"second"
    raise RuntimeError("stream broke")


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    async with LocalLambda(seed=SEED) as server:
        server.add_function("fn", echo)
        yield server


def make_client(lam: LocalLambda, **kwargs: Any) -> LambdaClient:
    kwargs.setdefault("credentials", lam.credentials)
    # No jitter, so backoff before a retry is zero and tests that retry stay fast (a 429's
    # Retry-After is honoured regardless).
    kwargs.setdefault("jitter", lambda: 0.0)
    return LambdaClient(lam.region, endpoint_url=lam.endpoint_url, **kwargs)


@pytest.fixture
async def client(lam: LocalLambda) -> AsyncIterator[LambdaClient]:
    async with make_client(lam) as lambda_client:
        yield lambda_client


@functools.cache
def _botocore_session() -> Any:
    # Loading the service model is the slow part; clients are cheap once it is cached.
    return botocore.session.get_session()


class Boto:
    """A botocore Lambda client for LocalLambda, every call run in a thread so the server (on
    the test's loop) can answer. botocore's own retries are off: a test sees each answer."""

    def __init__(self, lam: LocalLambda) -> None:
        self.client = _botocore_session().create_client(
            "lambda",
            region_name=lam.region,
            endpoint_url=lam.endpoint_url,
            aws_access_key_id=lam.credentials.access_key_id,
            aws_secret_access_key=lam.credentials.secret_access_key,
            config=Config(retries={"total_max_attempts": 1}),
        )

    async def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = await asyncio.to_thread(getattr(self.client, operation), **params)
        return result

    async def error(self, operation: str, **params: Any) -> tuple[str, int, dict[str, Any]]:
        """The error code, HTTP status and whole error response of a call that must fail."""
        with pytest.raises(ClientError) as caught:
            await self(operation, **params)
        response: dict[str, Any] = caught.value.response
        return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response

    async def publish(self, function_name: str, **params: Any) -> str:
        """Publish a version; its number."""
        response = await self("publish_version", FunctionName=function_name, **params)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
        version: str = response["Version"]
        return version

    def close(self) -> None:
        self.client.close()


@pytest.fixture
async def boto(lam: LocalLambda) -> AsyncIterator[Boto]:
    raw = Boto(lam)
    try:
        yield raw
    finally:
        raw.close()


async def two_versions(lam: LocalLambda, boto: Boto) -> None:
    """fn version 1 runs ``echo``, version 2 (and $LATEST) runs ``echo_v2``."""
    assert await boto.publish("fn") == "1"
    lam.add_function("fn", echo_v2)
    assert await boto.publish("fn") == "2"


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until ``condition()`` holds, polling; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


# --- alias lifecycle -----------------------------------------------------------------------


async def test_alias_lifecycle(lam: LocalLambda, boto: Boto, client: LambdaClient) -> None:
    await two_versions(lam, boto)
    created = await client.create_alias(
        "fn",
        "live",
        function_version="1",
        description="production",
        routing_config=RoutingConfig({"2": 0.25}),
    )
    assert created == AliasConfiguration(
        alias_arn=f"{FN_ARN}:live",
        name="live",
        function_version="1",
        description="production",
        routing_config=RoutingConfig({"2": 0.25}),
        revision_id=created.revision_id,
    )
    assert created.revision_id
    assert await client.get_alias("fn", "live") == created

    # Each update gives a new RevisionId; what an update leaves out stays as it was.
    described = await client.update_alias("fn", "live", description="prod")
    assert described.revision_id != created.revision_id
    assert (described.function_version, described.routing_config) == (
        "1",
        RoutingConfig({"2": 0.25}),
    )
    reweighted = await client.update_alias("fn", "live", routing_config=RoutingConfig({"2": 0.5}))
    assert reweighted.revision_id not in {created.revision_id, described.revision_id}
    assert (reweighted.description, reweighted.routing_config) == (
        "prod",
        RoutingConfig({"2": 0.5}),
    )

    # A stale RevisionId is refused, and nothing changes.
    with pytest.raises(PreconditionFailedError) as caught:
        await client.update_alias(
            "fn", "live", function_version="2", revision_id=created.revision_id
        )
    assert (caught.value.code, caught.value.status) == ("PreconditionFailedException", 412)
    assert await client.get_alias("fn", "live") == reweighted

    # The current RevisionId is accepted; RoutingConfig({}) clears the weights.
    shifted = await client.update_alias(
        "fn",
        "live",
        function_version="2",
        routing_config=RoutingConfig({}),
        revision_id=reweighted.revision_id,
    )
    assert (shifted.function_version, shifted.routing_config) == ("2", None)
    assert await client.get_alias("fn", "live") == shifted

    await client.delete_alias("fn", "live")
    with pytest.raises(ResourceNotFoundError) as missing:
        await client.get_alias("fn", "live")
    assert (missing.value.code, missing.value.status) == ("ResourceNotFoundException", 404)
    assert missing.value.request_id
    # DeleteAlias is idempotent: deleting it again succeeds, as on AWS.
    await client.delete_alias("fn", "live")


async def test_alias_status_codes_and_error_format_on_the_wire(
    lam: LocalLambda, boto: Boto
) -> None:
    # The client hides status codes; botocore shows what went over the wire.
    await boto.publish("fn")
    statuses = [
        await boto("create_alias", FunctionName="fn", Name="live", FunctionVersion="1"),
        await boto("get_alias", FunctionName="fn", Name="live"),
        await boto("update_alias", FunctionName="fn", Name="live", Description="d"),
        await boto("list_aliases", FunctionName="fn"),
        await boto("delete_alias", FunctionName="fn", Name="live"),
    ]
    assert [r["ResponseMetadata"]["HTTPStatusCode"] for r in statuses] == [201, 200, 200, 200, 204]
    code, status, response = await boto.error("get_alias", FunctionName="fn", Name="live")
    assert (code, status) == ("ResourceNotFoundException", 404)
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert headers["content-type"] == "application/json"
    assert response["Error"]["Message"]
    assert response["Type"] == "User"


async def test_duplicate_alias_is_a_conflict(client: LambdaClient) -> None:
    await client.create_alias("fn", "live", function_version="$LATEST")
    with pytest.raises(ResourceConflictError) as caught:
        await client.create_alias("fn", "live", function_version="$LATEST")
    assert (caught.value.code, caught.value.status) == ("ResourceConflictException", 409)


async def test_unknown_function_alias_or_version_is_not_found(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    await boto.publish("fn")
    await client.create_alias("fn", "live", function_version="1")
    calls = [
        client.get_alias("nope", "live"),
        client.get_alias("fn", "nope"),
        client.create_alias("nope", "live", function_version="1"),
        client.create_alias("fn", "other", function_version="9"),
        client.update_alias("fn", "nope", description="x"),
        client.update_alias("fn", "live", function_version="9"),
        client.invoke("nope"),
        client.invoke("fn", qualifier="9"),
        client.invoke("fn", qualifier="nope"),
        client.invoke("fn:nope"),
    ]
    for call in calls:
        with pytest.raises(ResourceNotFoundError):
            await call
    with pytest.raises(ResourceNotFoundError):
        [alias async for alias in client.list_aliases("nope")]
    with pytest.raises(ResourceNotFoundError):
        async with client.invoke_with_response_stream("fn", qualifier="9"):
            pytest.fail("no stream for a missing version")
    assert lam.executions("fn", "1") == lam.executions("fn", "$LATEST") == 0


async def test_not_found_messages_name_what_aws_names(client: LambdaClient) -> None:
    # AWS's recorded words (LocalStack snapshots: test_invoke_exceptions,
    # test_notfound_and_invalid_routingconfigs, test_non_existent_alias_update).
    await client.create_alias("fn", "live", function_version="$LATEST")
    cases = [
        (client.invoke("nope"), f"Function not found: {ARN_PREFIX}nope:$LATEST"),
        (client.invoke("nope", qualifier="live"), f"Function not found: {ARN_PREFIX}nope:live"),
        (client.invoke("fn", qualifier="gone"), f"Function not found: {FN_ARN}:gone"),
        (
            client.create_alias("nope", "live", function_version="1"),
            f"Function not found: {ARN_PREFIX}nope:1",
        ),
        (client.get_alias("fn", "gone"), f"Cannot find alias arn: {FN_ARN}:gone"),
        (client.update_alias("fn", "gone", description="x"), f"Alias not found: {FN_ARN}:gone"),
    ]
    for call, message in cases:
        with pytest.raises(ResourceNotFoundError) as caught:
            await call
        assert caught.value.message == message


async def test_deleting_an_alias_that_does_not_exist_answers_204(boto: Boto) -> None:
    # test_non_existent_alias_deletion: DeleteAlias is idempotent on AWS.
    response = await boto("delete_alias", FunctionName="fn", Name="never-created")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204


async def test_function_given_as_full_or_partial_arn(boto: Boto, client: LambdaClient) -> None:
    await boto.publish("fn")
    partial = f"{ACCOUNT}:function:fn"
    created = await client.create_alias(FN_ARN, "live", function_version="1")
    assert created.alias_arn == f"{FN_ARN}:live"
    assert await client.get_alias(partial, "live") == created
    assert [a.name async for a in client.list_aliases(FN_ARN)] == ["live"]
    assert (await client.update_alias(partial, "live", description="d")).description == "d"
    assert (await client.invoke(f"{FN_ARN}:live")).executed_version == "1"
    assert (await client.invoke(partial, qualifier="live")).executed_version == "1"
    await client.delete_alias(FN_ARN, "live")
    # Another account's ARN names nothing here.
    with pytest.raises(ResourceNotFoundError):
        await client.get_alias("999999999999:function:fn", "live")


# --- routing rules the server enforces -----------------------------------------------------


async def test_weights_on_an_alias_of_latest_are_refused_by_the_server(
    client: LambdaClient, boto: Boto
) -> None:
    await boto.publish("fn")
    await client.create_alias("fn", "dev", function_version="$LATEST")
    # Without function_version the client cannot know the primary is $LATEST: the server can.
    with pytest.raises(InvalidParameterValueError) as caught:
        await client.update_alias("fn", "dev", routing_config=RoutingConfig({"1": 0.5}))
    assert (caught.value.code, caught.value.status) == ("InvalidParameterValueException", 400)
    assert (await client.get_alias("fn", "dev")).routing_config is None


async def test_an_additional_version_with_another_role_is_refused(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    await boto.publish("fn")
    lam.add_function("fn", echo, role=OTHER_ROLE)
    assert await boto.publish("fn") == "2"
    with pytest.raises(InvalidParameterValueError, match="execution role"):
        await client.create_alias(
            "fn", "live", function_version="1", routing_config=RoutingConfig({"2": 0.1})
        )
    await client.create_alias("fn", "live", function_version="1")
    with pytest.raises(InvalidParameterValueError, match="execution role"):
        await client.update_alias("fn", "live", routing_config=RoutingConfig({"2": 0.1}))


async def test_an_additional_version_with_another_dead_letter_target_is_refused(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    await boto.publish("fn")
    lam.add_function("fn", echo, dead_letter_target_arn=QUEUE)
    assert await boto.publish("fn") == "2"
    with pytest.raises(InvalidParameterValueError, match="dead-letter"):
        await client.create_alias(
            "fn", "live", function_version="1", routing_config=RoutingConfig({"2": 0.1})
        )


async def test_an_additional_version_that_does_not_exist_is_not_found(
    boto: Boto, client: LambdaClient
) -> None:
    await boto.publish("fn")
    with pytest.raises(ResourceNotFoundError):
        await client.create_alias(
            "fn", "live", function_version="1", routing_config=RoutingConfig({"7": 0.1})
        )
    with pytest.raises(ResourceNotFoundError):
        await client.get_alias("fn", "live")  # nothing was created


# Rules the client checks before sending: (create_alias arguments, the same raw request, the
# error code AWS answers: ValidationException for the model's constraints, checked first, and
# InvalidParameterValueException for Lambda's own rules; test_notfound_and_invalid_routingconfigs).
VALIDATION = "ValidationException"
INVALID = "InvalidParameterValueException"
CLIENT_CHECKED_RULES: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    (  # at most one additional version
        {"function_version": "1", "routing_config": RoutingConfig({"2": 0.1, "3": 0.1})},
        {
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}},
        },
        INVALID,
    ),
    (  # a weight above 1 (botocore checks only the minimum)
        {"function_version": "1", "routing_config": RoutingConfig({"2": 1.5})},
        {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 1.5}}},
        VALIDATION,
    ),
    (  # the primary cannot also be the additional version
        {"function_version": "1", "routing_config": RoutingConfig({"1": 0.1})},
        {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.1}}},
        INVALID,
    ),
    (  # no weights while the primary is $LATEST
        {"function_version": "$LATEST", "routing_config": RoutingConfig({"1": 0.1})},
        {"FunctionVersion": "$LATEST", "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.1}}},
        INVALID,
    ),
    (  # the additional version must be a number
        {"function_version": "1", "routing_config": RoutingConfig({"$LATEST": 0.1})},
        {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"$LATEST": 0.1}}},
        VALIDATION,
    ),
    (  # the primary must be a version, not an alias
        {"function_version": "live"},
        {"FunctionVersion": "live"},
        VALIDATION,
    ),
]


@pytest.mark.parametrize(("arguments", "raw", "expected"), CLIENT_CHECKED_RULES)
async def test_rules_the_client_checks_are_also_enforced_by_the_server(
    lam: LocalLambda,
    boto: Boto,
    client: LambdaClient,
    arguments: dict[str, Any],
    raw: dict[str, Any],
    expected: str,
) -> None:
    await two_versions(lam, boto)
    lam.add_function("fn", echo)
    assert await boto.publish("fn") == "3"
    with pytest.raises(ValidationError):
        await client.create_alias("fn", "new", **arguments)
    code, status, _ = await boto.error("create_alias", FunctionName="fn", Name="new", **raw)
    assert (code, status) == (expected, 400)
    with pytest.raises(ResourceNotFoundError):
        await client.get_alias("fn", "new")


async def test_an_all_digit_alias_name_is_refused_by_client_and_server(
    boto: Boto, client: LambdaClient
) -> None:
    with pytest.raises(ValidationError):
        await client.create_alias("fn", "123", function_version="$LATEST")
    code, status, response = await boto.error(
        "create_alias", FunctionName="fn", Name="123", FunctionVersion="$LATEST"
    )
    assert (code, status) == ("ValidationException", 400)
    # As AWS words it (test_alias_naming), and without Lambda's "Type" field.
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value '123' at 'name' failed to satisfy constraint:"
        " Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
    )
    assert "Type" not in response


# --- pagination ----------------------------------------------------------------------------


async def test_list_aliases_pages_through_every_alias_in_order(
    boto: Boto, client: LambdaClient
) -> None:
    await boto.publish("fn")
    names = [f"alias-{i:03d}" for i in range(120)]
    for name in names:
        await client.create_alias("fn", name, function_version="1")

    assert [a.name async for a in client.list_aliases("fn", page_size=7)] == names
    pages = [page async for page in client.list_aliases("fn", page_size=7).pages()]
    assert [len(page.aliases) for page in pages] == [7] * 17 + [1]
    assert all(page.next_marker for page in pages[:-1])
    assert pages[-1].next_marker is None
    assert [a.name for page in pages for a in page.aliases] == names
    # Without a page size the server's own page size applies; every alias still comes.
    assert [a.name async for a in client.list_aliases("fn")] == names
    # A marker from a page starts the listing after that page.
    resumed = client.list_aliases("fn", page_size=50, marker=pages[0].next_marker)
    assert [a.name async for a in resumed] == names[7:]


async def test_list_aliases_filtered_by_function_version(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    await two_versions(lam, boto)
    await client.create_alias("fn", "one", function_version="1")
    await client.create_alias("fn", "two", function_version="2")
    await client.create_alias("fn", "dev", function_version="$LATEST")
    await client.create_alias(
        "fn", "canary", function_version="1", routing_config=RoutingConfig({"2": 0.1})
    )

    async def names(version: str) -> list[str]:
        return [a.name async for a in client.list_aliases("fn", function_version=version)]

    assert await names("1") == ["one", "canary"]
    # An alias that sends some traffic to version 2 invokes it too.
    assert await names("2") == ["two", "canary"]
    assert await names("$LATEST") == ["dev"]
    assert await names("3") == []


def numbered(number: int, event: Any, context: LambdaContext) -> int:
    return number


async def test_list_versions_by_function_pages_of_at_most_50(lam: LocalLambda, boto: Boto) -> None:
    for number in range(1, 61):
        # A new handler object each time is a code change, so each publish is a new version.
        lam.add_function("fn", functools.partial(numbered, number))
        assert await boto.publish("fn") == str(number)

    first = await boto("list_versions_by_function", FunctionName="fn", MaxItems=100)
    versions = [v["Version"] for v in first["Versions"]]
    assert versions == ["$LATEST"] + [str(n) for n in range(1, 50)]
    # $LATEST is listed with a qualified ARN, as AWS lists it (test_publish_version_on_create).
    assert first["Versions"][0]["FunctionArn"] == f"{FN_ARN}:$LATEST"
    assert first["Versions"][1]["FunctionArn"] == f"{FN_ARN}:1"
    second = await boto("list_versions_by_function", FunctionName="fn", Marker=first["NextMarker"])
    assert [v["Version"] for v in second["Versions"]] == [str(n) for n in range(50, 61)]
    assert "NextMarker" not in second

    small = await boto("list_versions_by_function", FunctionName="fn", MaxItems=3)
    assert [v["Version"] for v in small["Versions"]] == ["$LATEST", "1", "2"]
    paginator = boto.client.get_paginator("list_versions_by_function")
    pages = await asyncio.to_thread(lambda: list(paginator.paginate(FunctionName="fn")))
    assert [len(page["Versions"]) for page in pages] == [50, 11]
    code, status, _ = await boto.error("list_versions_by_function", FunctionName="nope")
    assert (code, status) == ("ResourceNotFoundException", 404)


# --- versions and configuration ------------------------------------------------------------


async def test_get_function_configuration_by_qualifier(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    lam.add_function("fn", echo, memory_size=256, description="first")
    await boto.publish("fn")
    lam.add_function("fn", echo_v2, memory_size=512, role=OTHER_ROLE, description="second")
    await client.create_alias("fn", "live", function_version="1")

    async def configuration(**qualifier: str) -> dict[str, Any]:
        return await boto("get_function_configuration", FunctionName="fn", **qualifier)

    by_version = await configuration(Qualifier="1")
    assert (by_version["Version"], by_version["MemorySize"], by_version["Description"]) == (
        "1",
        256,
        "first",
    )
    assert by_version["FunctionArn"] == f"{FN_ARN}:1"
    assert by_version["State"] == "Active"
    # FunctionArn carries the qualifier asked for, as AWS answers it (test_alias_lifecycle,
    # test_publish_version_on_create): the alias, $LATEST, or none.
    by_alias = await configuration(Qualifier="live")
    assert (by_alias["Version"], by_alias["MemorySize"]) == ("1", 256)
    assert by_alias["FunctionArn"] == f"{FN_ARN}:live"
    latest = await configuration(Qualifier="$LATEST")
    assert (latest["Version"], latest["MemorySize"], latest["Role"]) == ("$LATEST", 512, OTHER_ROLE)
    assert latest["FunctionArn"] == f"{FN_ARN}:$LATEST"
    unqualified = await configuration()
    assert (unqualified["Version"], unqualified["FunctionArn"]) == ("$LATEST", FN_ARN)
    assert (await boto("get_function_configuration", FunctionName=f"{FN_ARN}:1"))["Version"] == "1"
    for qualifier in ("9", "nope"):
        code, status, _ = await boto.error(
            "get_function_configuration", FunctionName="fn", Qualifier=qualifier
        )
        assert (code, status) == ("ResourceNotFoundException", 404)


async def test_publish_version_snapshots_code_and_configuration(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    await two_versions(lam, boto)
    old = await client.invoke("fn", qualifier="1", payload={"a": 1})
    new = await client.invoke("fn", qualifier="$LATEST", payload={"a": 1})
    assert old.json() == {"event": {"a": 1}, "version": "1"}
    assert new.json() == {"event": {"a": 1}, "version": "$LATEST", "v2": True}
    assert (old.executed_version, new.executed_version) == ("1", "$LATEST")
    assert lam.executions("fn", "1") == lam.executions("fn", "$LATEST") == 1


async def test_publish_without_a_change_returns_the_same_version(
    lam: LocalLambda, boto: Boto
) -> None:
    first = await boto("publish_version", FunctionName="fn")
    again = await boto("publish_version", FunctionName="fn")
    assert (first["Version"], again["Version"]) == ("1", "1")
    assert again["RevisionId"] == first["RevisionId"]
    versions = await boto("list_versions_by_function", FunctionName="fn")
    assert [v["Version"] for v in versions["Versions"]] == ["$LATEST", "1"]


async def test_a_test_publishes_versions_without_a_client(
    lam: LocalLambda, client: LambdaClient
) -> None:
    assert lam.publish_version("fn") == "1"
    assert lam.publish_version("fn") == "1"  # nothing changed: nothing new, as in Lambda
    # A new description alone is no change either, as in Lambda; a new handler is.
    assert lam.publish_version("fn", description="second") == "1"
    lam.add_function("fn", echo_v2)
    assert lam.publish_version("fn", description="second") == "2"

    second = await client.get_function_configuration("fn", qualifier="2")
    assert (second.version, second.description) == ("2", "second")
    old = await client.invoke("fn", qualifier="1", payload={"a": 1})
    new = await client.invoke("fn", qualifier="2", payload={"a": 1})
    assert old.json() == {"event": {"a": 1}, "version": "1"}
    assert new.json() == {"event": {"a": 1}, "version": "2", "v2": True}
    with pytest.raises(KeyError, match="no function 'nope'"):
        lam.publish_version("nope")


async def test_publish_guards_on_revision_id_and_code_sha256(lam: LocalLambda, boto: Boto) -> None:
    latest = await boto("get_function_configuration", FunctionName="fn")
    lam.add_function("fn", echo_v2)  # as UpdateFunctionCode: $LATEST has a new RevisionId
    code, status, _ = await boto.error(
        "publish_version", FunctionName="fn", RevisionId=latest["RevisionId"]
    )
    assert (code, status) == ("PreconditionFailedException", 412)
    code, status, _ = await boto.error(
        "publish_version", FunctionName="fn", CodeSha256=latest["CodeSha256"]
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    current = await boto("get_function_configuration", FunctionName="fn")
    assert current["RevisionId"] != latest["RevisionId"]
    assert (
        await boto.publish("fn", RevisionId=current["RevisionId"], CodeSha256=current["CodeSha256"])
        == "1"
    )
    code, status, _ = await boto.error("publish_version", FunctionName="nope")
    assert (code, status) == ("ResourceNotFoundException", 404)


# --- invoke --------------------------------------------------------------------------------


async def test_invoke_passes_the_event_and_returns_json(
    lam: LocalLambda, client: LambdaClient
) -> None:
    result = await client.invoke("fn", payload={"order": 42, "items": ["a", "b"]})
    assert result.status_code == 200
    assert result.json() == {"event": {"order": 42, "items": ["a", "b"]}, "version": "$LATEST"}
    assert result.executed_version == "$LATEST"
    assert result.function_error is None
    assert result.log_result is None
    assert result.request_id
    # No payload is an empty event.
    assert (await client.invoke("fn")).json()["event"] == {}
    assert lam.executions("fn", "$LATEST") == 2


async def test_invoke_gives_the_handler_lambdas_context(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    lam.add_function("fn", describe_context, memory_size=256, timeout=30)
    await boto.publish("fn")
    await client.create_alias("fn", "live", function_version="1")

    result = await client.invoke(
        "fn", qualifier="live", client_context={"custom": {"tenant": "acme"}}
    )
    seen = result.json()
    assert seen["function_name"] == "fn"
    assert seen["function_version"] == "1"
    assert seen["invoked_function_arn"] == f"{FN_ARN}:live"
    assert seen["aws_request_id"]
    assert seen["custom"] == {"tenant": "acme"}
    assert int(seen["memory_limit_in_mb"]) == 256
    assert 0 < seen["remaining_ms"] <= 30_000
    assert seen["log_group_name"] == "/aws/lambda/fn"

    by_version = (await client.invoke("fn", qualifier="1")).json()
    assert by_version["invoked_function_arn"] == f"{FN_ARN}:1"
    assert by_version["custom"] is None
    unqualified = (await client.invoke("fn")).json()
    assert (unqualified["invoked_function_arn"], unqualified["function_version"]) == (
        FN_ARN,
        "$LATEST",
    )
    assert len({seen["aws_request_id"], by_version["aws_request_id"]}) == 2


async def test_an_async_handler_is_awaited(lam: LocalLambda, client: LambdaClient) -> None:
    lam.add_function("fn", async_handler)
    assert (await client.invoke("fn", payload={"n": 21})).json() == {"async": True, "n": 42}


async def test_a_handler_that_raises_is_an_unhandled_function_error(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", failing)
    result = await client.invoke("fn", payload={"order": 7})
    assert (result.status_code, result.function_error) == (200, "Unhandled")
    body = result.json()
    assert (body["errorType"], body["errorMessage"]) == ("ValueError", "bad order 7")
    with pytest.raises(FunctionError) as caught:
        result.raise_for_function_error()
    error = caught.value
    assert (error.error_type, error.error_message) == ("ValueError", "bad order 7")
    assert error.executed_version == "$LATEST"
    assert error.stack_trace
    assert any("failing" in line for line in error.stack_trace)
    assert lam.executions("fn", "$LATEST") == 1


async def test_log_tail_has_what_the_handler_printed_and_logged(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", talkative)
    result = await client.invoke("fn", payload={"id": "abc"}, log_type=LogType.TAIL)
    log = result.log_result
    assert log is not None
    assert "printed abc" in log
    assert "[WARNING]\tlogged abc" in log
    lines = log.splitlines()
    assert lines[0].startswith("START RequestId: ")
    assert lines[0].endswith("Version: $LATEST")
    assert any(line.startswith("END RequestId: ") for line in lines)
    assert lines[-1].startswith("REPORT RequestId: ")
    # Without Tail there is no log.
    assert (await client.invoke("fn", payload={"id": "x"})).log_result is None


async def test_log_tail_is_the_last_4_kb(lam: LocalLambda, client: LambdaClient) -> None:
    def chatty(event: Any, context: Any) -> None:
        for n in range(500):
            logging.getLogger("chatty").warning("line %04d", n)

    lam.add_function("fn", chatty)
    log = (await client.invoke("fn", log_type=LogType.TAIL)).log_result
    assert log is not None
    assert len(log.encode()) <= 4096
    assert "line 0499" in log
    assert "line 0000" not in log


async def test_concurrent_invocations_logs_do_not_mix(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", slow_talkative)
    ids = [f"call{n:02d}" for n in range(20)]
    results = await asyncio.gather(
        *(client.invoke("fn", payload={"id": i}, log_type=LogType.TAIL) for i in ids)
    )
    for own, result in zip(ids, results, strict=True):
        assert result.json() == own
        log = result.log_result
        assert log is not None
        mentioned = {i for i in ids if f"id={i} " in log}
        assert mentioned == {own}, log
        assert log.count(f"id={own} line=") == 3
        assert log.count(f"id={own} logged=") == 3


async def test_event_invocation_is_accepted_and_runs_once(
    lam: LocalLambda, client: LambdaClient
) -> None:
    result = await client.invoke("fn", payload={"a": 1}, invocation_type=InvocationType.EVENT)
    assert (result.status_code, result.payload, result.executed_version) == (202, b"", None)
    await eventually(lambda: lam.executions("fn", "$LATEST") == 1)
    await asyncio.sleep(0.05)
    assert lam.executions("fn", "$LATEST") == 1


async def test_event_invocations_finish_before_the_server_stops() -> None:
    ran: list[int] = []

    async def slow(event: Any, context: Any) -> None:
        await asyncio.sleep(0.05)
        ran.append(event["n"])

    async with LocalLambda() as lam:
        lam.add_function("fn", slow)
        async with make_client(lam) as client:
            for n in range(3):
                result = await client.invoke(
                    "fn", payload={"n": n}, invocation_type=InvocationType.EVENT
                )
                assert result.status_code == 202
    assert sorted(ran) == [0, 1, 2]
    assert lam.executions("fn", "$LATEST") == 3


async def test_dry_run_checks_without_running(lam: LocalLambda, client: LambdaClient) -> None:
    result = await client.invoke("fn", invocation_type=InvocationType.DRY_RUN)
    assert (result.status_code, result.payload) == (204, b"")
    assert lam.executions("fn", "$LATEST") == 0
    with pytest.raises(ResourceNotFoundError):
        await client.invoke("nope", invocation_type=InvocationType.DRY_RUN)


async def test_a_qualifier_that_contradicts_the_name_is_invalid(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    await boto.publish("fn")
    await client.create_alias("fn", "live", function_version="1")
    with pytest.raises(InvalidParameterValueError):
        await client.invoke("fn:live", qualifier="1")
    with pytest.raises(InvalidParameterValueError):
        async with client.invoke_with_response_stream("fn:live", qualifier="1"):
            pytest.fail("no stream for a contradictory qualifier")
    # The same qualifier twice is no contradiction.
    assert (await client.invoke("fn:live", qualifier="live")).executed_version == "1"
    assert lam.executions("fn", "1") == 1


async def test_a_payload_that_is_not_json_is_refused(
    lam: LocalLambda, client: LambdaClient
) -> None:
    with pytest.raises(ServiceError) as caught:
        await client.invoke("fn", payload=b"{not json")
    assert (caught.value.code, caught.value.status) == ("InvalidRequestContentException", 400)
    assert lam.executions("fn", "$LATEST") == 0


# --- weighted routing ----------------------------------------------------------------------


async def invoke_many(client: LambdaClient, count: int, *, parallel: int = 1) -> list[str]:
    """Invoke ``fn:live`` ``count`` times, ``parallel`` at a time; the executed versions."""
    versions: list[str] = []
    semaphore = asyncio.Semaphore(parallel)

    async def one() -> None:
        async with semaphore:
            result = await client.invoke("fn", qualifier="live")
        assert result.executed_version is not None
        assert result.json()["version"] == result.executed_version
        versions.append(result.executed_version)

    await asyncio.gather(*(one() for _ in range(count)))
    return versions


async def test_weighted_alias_splits_traffic_by_weight(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    await two_versions(lam, boto)
    await client.create_alias(
        "fn", "live", function_version="1", routing_config=RoutingConfig({"2": 0.25})
    )
    n, weight = 2000, 0.25
    observed = Counter(await invoke_many(client, n, parallel=20))
    # Binomial(n, 0.25): a bound of 6 standard deviations is missed with probability ~2e-9,
    # and the seed makes the draw repeatable anyway.
    bound = 6 * math.sqrt(n * weight * (1 - weight))
    assert set(observed) == {"1", "2"}
    assert abs(observed["2"] - n * weight) <= bound, observed
    assert observed["1"] + observed["2"] == n
    # The server's count per version is what the client saw.
    assert lam.executions("fn", "1") == observed["1"]
    assert lam.executions("fn", "2") == observed["2"]
    assert lam.executions("fn", "$LATEST") == 0


async def test_the_same_seed_gives_the_same_sequence_of_versions() -> None:
    async def sequence(seed: int) -> list[str]:
        async with LocalLambda(seed=seed) as lam, make_client(lam) as client:
            lam.add_function("fn", echo)
            raw = Boto(lam)
            try:
                await two_versions(lam, raw)
            finally:
                raw.close()
            await client.create_alias(
                "fn", "live", function_version="1", routing_config=RoutingConfig({"2": 0.5})
            )
            return await invoke_many(client, 200)

    first = await sequence(SEED)
    assert first == await sequence(SEED)
    assert set(first) == {"1", "2"}
    # Seeded, so this cannot flake: it is the same two fixed draws every run.
    assert first != await sequence(SEED + 1)


async def test_weights_of_zero_and_one(lam: LocalLambda, boto: Boto, client: LambdaClient) -> None:
    await two_versions(lam, boto)
    await client.create_alias(
        "fn", "live", function_version="1", routing_config=RoutingConfig({"2": 0.0})
    )
    assert set(await invoke_many(client, 50)) == {"1"}
    await client.update_alias("fn", "live", routing_config=RoutingConfig({"2": 1.0}))
    assert set(await invoke_many(client, 50)) == {"2"}


# --- response streaming --------------------------------------------------------------------


async def test_a_streaming_handler_streams_its_chunks_in_order(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", streaming)
    async with client.invoke_with_response_stream("fn") as stream:
        assert stream.status_code == 200
        assert stream.executed_version == "$LATEST"
        assert stream.content_type == "application/vnd.amazon.eventstream"
        chunks = [chunk async for chunk in stream]
    assert chunks == [b"alpha,", b"beta,", b"gamma"]
    assert stream.complete is not None
    assert (stream.complete.error_code, stream.complete.error_details) == (None, None)
    assert stream.complete.log_result is None
    assert lam.executions("fn", "$LATEST") == 1


async def test_a_streaming_handler_that_raises_midway_ends_unhandled(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", streaming_then_failing)
    async with client.invoke_with_response_stream("fn", log_type=LogType.TAIL) as stream:
        chunks = [chunk async for chunk in stream]
    assert chunks == [b"first", b"second"]
    complete = stream.complete
    assert complete is not None
    assert complete.error_code == "Unhandled"
    assert complete.error_details is not None
    details = json.loads(complete.error_details)
    assert (details["errorType"], details["errorMessage"]) == ("RuntimeError", "stream broke")
    assert complete.log_result is not None
    assert complete.log_result.startswith("START RequestId: ")


async def test_a_plain_handler_through_the_streaming_api_gives_one_chunk(
    lam: LocalLambda, boto: Boto, client: LambdaClient
) -> None:
    await boto.publish("fn")
    await client.create_alias("fn", "live", function_version="1")
    async with client.invoke_with_response_stream(
        "fn", qualifier="live", payload={"x": 1}
    ) as stream:
        chunks = [chunk async for chunk in stream]
    assert stream.executed_version == "1"
    assert len(chunks) == 1
    assert json.loads(chunks[0]) == {"event": {"x": 1}, "version": "1"}
    assert stream.complete is not None
    assert stream.complete.error_code is None


async def test_a_streaming_handler_through_plain_invoke_returns_the_joined_bytes(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", streaming)
    result = await client.invoke("fn")
    assert result.payload == b"alpha,beta,gamma"
    assert result.function_error is None
    async with client.invoke_stream("fn") as response:
        assert response.executed_version == "$LATEST"
        assert await response.read() == b"alpha,beta,gamma"


async def test_streaming_dry_run_does_not_run(lam: LocalLambda, client: LambdaClient) -> None:
    lam.add_function("fn", streaming)
    async with client.invoke_with_response_stream(
        "fn", invocation_type=InvocationType.DRY_RUN
    ) as stream:
        assert stream.status_code == 204
        assert [chunk async for chunk in stream] == []
    assert lam.executions("fn", "$LATEST") == 0


# --- signatures ----------------------------------------------------------------------------


async def test_a_wrong_secret_is_an_invalid_signature(lam: LocalLambda) -> None:
    wrong = Credentials(lam.credentials.access_key_id, "not-the-secret")
    async with make_client(lam, credentials=wrong) as client:
        with pytest.raises(ServiceError) as caught:
            await client.get_alias("fn", "live")
        assert (caught.value.code, caught.value.status) == ("InvalidSignatureException", 403)
        with pytest.raises(ServiceError) as caught:
            await client.invoke("fn", payload={"a": 1})
        assert caught.value.code == "InvalidSignatureException"
    assert lam.executions("fn", "$LATEST") == 0


async def test_an_unknown_access_key_is_unrecognised(lam: LocalLambda) -> None:
    unknown = Credentials("AKIDSOMEONEELSE00000", lam.credentials.secret_access_key)
    async with make_client(lam, credentials=unknown) as client:
        with pytest.raises(ServiceError) as caught:
            await client.get_alias("fn", "live")
    assert (caught.value.code, caught.value.status) == ("UnrecognizedClientException", 403)


async def test_a_request_signed_for_another_region_is_refused(lam: LocalLambda) -> None:
    client = LambdaClient("eu-west-1", endpoint_url=lam.endpoint_url, credentials=lam.credentials)
    async with client:
        with pytest.raises(ServiceError) as caught:
            await client.get_alias("fn", "live")
    assert (caught.value.code, caught.value.status) == ("InvalidSignatureException", 403)
    # Named as AWS's JSON services name it, not as a mismatched signature.
    assert caught.value.message == "Credential should be scoped to a valid region. "


async def test_an_unsigned_request_is_missing_its_token(lam: LocalLambda) -> None:
    lam.add_function("fn", echo)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{lam.endpoint_url}/2015-03-31/functions/fn/invocations", data=b"{}"
        ) as response,
    ):
        body = await response.json()
        assert response.status == 403
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert body["message"] == "Missing Authentication Token"
    assert lam.executions("fn", "$LATEST") == 0


async def test_a_request_signed_for_another_service_is_refused(lam: LocalLambda) -> None:
    lam.add_function("fn", echo)
    session = botocore.session.get_session()
    session.set_credentials(lam.credentials.access_key_id, lam.credentials.secret_access_key)
    client = session.create_client(
        "lambda",
        region_name=lam.region,
        endpoint_url=lam.endpoint_url,
        config=Config(signature_version="v4", retries={"total_max_attempts": 1}),
    )

    def sign_for_another_service(request: Any, **_: Any) -> None:
        request.context["signing"] = {**request.context.get("signing", {}), "signing_name": "s3"}

    client.meta.events.register_first("before-sign.lambda", sign_for_another_service)
    try:
        with pytest.raises(ClientError) as caught:
            await asyncio.to_thread(client.invoke, FunctionName="fn")
    finally:
        await asyncio.to_thread(client.close)
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidSignatureException",
        403,
    )
    assert error["Error"]["Message"] == "Credential should be scoped to correct service: 'lambda'. "
    assert lam.executions("fn", "$LATEST") == 0


async def test_custom_credentials_are_accepted_and_the_defaults_refused() -> None:
    custom = Credentials("AKIDCUSTOMKEY0000000", "custom/secret+key")
    async with LocalLambda(credentials=custom) as lam:
        lam.add_function("fn", echo)
        assert lam.credentials == custom
        async with make_client(lam, credentials=custom) as client:
            assert (await client.invoke("fn", payload=1)).json()["event"] == 1
        async with make_client(lam, credentials=LocalLambda().credentials) as client:
            with pytest.raises(ServiceError) as caught:
                await client.invoke("fn")
        assert (caught.value.code, caught.value.status) == ("UnrecognizedClientException", 403)
        assert lam.executions("fn", "$LATEST") == 1


# --- fault injection through the client ----------------------------------------------------


async def next_get_alias(lam: LocalLambda, **settings: Any) -> str:
    """What one more GetAlias of ``fn:live``, in a single attempt, is answered: the alias's
    name, or the error's code. A fault still queued would answer it, so this shows how many
    the calls before it met."""
    async with make_client(lam, max_attempts=1, **settings) as client:
        try:
            return (await client.get_alias("fn", "live")).name
        except ServiceError as error:
            return error.code


async def test_faults_injected_with_their_defaults_answer_as_aws_does(lam: LocalLambda) -> None:
    lam.inject("GetAlias", Throttle())
    lam.inject("GetAlias", ServerError())
    lam.inject("Invoke", DropConnection())
    async with make_client(lam, max_attempts=1) as client:
        with pytest.raises(TooManyRequestsError) as throttled:
            await client.get_alias("fn", "live")
        with pytest.raises(ServiceException) as failed:
            await client.get_alias("fn", "live")
        with pytest.raises(TransportError):
            await client.invoke("fn")
    assert (throttled.value.status, throttled.value.retry_after_seconds) == (429, 1)
    assert throttled.value.reason == "CallerRateLimitExceeded"
    assert (failed.value.code, failed.value.status) == ("ServiceException", 500)
    assert lam.executions("fn", "$LATEST") == 0  # dropped before the function ran


async def test_throttling_is_retried(lam: LocalLambda, client: LambdaClient) -> None:
    await client.create_alias("fn", "live", function_version="$LATEST")
    lam.inject("GetAlias", Throttle(retry_after=0), times=2)
    assert (await client.get_alias("fn", "live")).name == "live"
    assert await next_get_alias(lam) == "live"  # two throttled attempts, then the third succeeded


async def test_throttling_beyond_the_attempts_raises_with_retry_after(lam: LocalLambda) -> None:
    lam.inject("GetAlias", Throttle(retry_after=0, reason="FunctionInvocationRateLimitExceeded"))
    async with make_client(lam, max_attempts=1) as client:
        with pytest.raises(TooManyRequestsError) as caught:
            await client.get_alias("fn", "live")
    error = caught.value
    assert (error.code, error.status) == ("TooManyRequestsException", 429)
    assert (error.retry_after_seconds, error.reason) == (0, "FunctionInvocationRateLimitExceeded")


async def test_a_throttled_invoke_is_retried_and_runs_once(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.inject("Invoke", Throttle(retry_after=0))
    assert (await client.invoke("fn")).status_code == 200
    assert lam.executions("fn", "$LATEST") == 1


async def test_a_server_error_on_a_read_is_retried(lam: LocalLambda, client: LambdaClient) -> None:
    await client.create_alias("fn", "live", function_version="$LATEST")
    lam.inject("GetAlias", ServerError(503), times=2)
    assert (await client.get_alias("fn", "live")).name == "live"
    assert await next_get_alias(lam) == "live"


async def test_a_server_error_beyond_the_attempts_raises(lam: LocalLambda) -> None:
    lam.inject("GetAlias", ServerError(503), times=3)
    async with make_client(lam) as client:
        with pytest.raises(ServiceException) as caught:
            await client.get_alias("fn", "live")
    assert (caught.value.code, caught.value.status) == ("ServiceException", 503)
    assert await next_get_alias(lam) == "ResourceNotFoundException"  # three attempts met one each


async def test_a_server_error_after_execution_is_not_retried(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.inject("Invoke", ServerError(502, after_execution=True))
    with pytest.raises(ServiceError) as caught:
        await client.invoke("fn")
    assert caught.value.status == 502
    # A retry would have succeeded (only one fault was queued): it was not retried.
    assert lam.executions("fn", "$LATEST") == 1


async def test_a_server_error_before_execution_on_invoke_is_not_retried(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.inject("Invoke", ServerError(500))
    with pytest.raises(ServiceException):
        await client.invoke("fn")
    assert lam.executions("fn", "$LATEST") == 0
    # With idempotent=True the caller says running twice is harmless: it is retried.
    lam.inject("Invoke", ServerError(500))
    assert (await client.invoke("fn", idempotent=True)).status_code == 200
    assert lam.executions("fn", "$LATEST") == 1


async def test_a_dropped_connection_on_invoke_is_not_retried(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.inject("Invoke", DropConnection())
    with pytest.raises(TransportError):
        await client.invoke("fn")
    assert lam.executions("fn", "$LATEST") == 0
    lam.inject("Invoke", DropConnection())
    assert (await client.invoke("fn", idempotent=True)).status_code == 200
    assert lam.executions("fn", "$LATEST") == 1


async def test_a_dropped_connection_after_execution_ran_the_function_once(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.inject("Invoke", DropConnection(after_execution=True))
    with pytest.raises(TransportError):
        await client.invoke("fn")
    assert lam.executions("fn", "$LATEST") == 1


async def test_a_dropped_connection_on_a_read_is_retried(
    lam: LocalLambda, client: LambdaClient
) -> None:
    await client.create_alias("fn", "live", function_version="$LATEST")
    lam.inject("GetAlias", DropConnection())
    assert (await client.get_alias("fn", "live")).name == "live"
    assert await next_get_alias(lam) == "live"


async def test_a_fault_after_execution_cuts_a_response_stream(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", streaming)
    lam.inject("InvokeWithResponseStream", ServerError(502, after_execution=True))
    chunks: list[bytes] = []
    with pytest.raises((IncompleteStreamError, TransportError)):
        async with client.invoke_with_response_stream("fn") as stream:
            chunks.extend([chunk async for chunk in stream])
    assert lam.executions("fn", "$LATEST") == 1


async def test_a_delay_beyond_the_read_timeout_times_out_after_retries(lam: LocalLambda) -> None:
    lam.inject("GetAlias", Delay(0.3), times=3)
    async with make_client(lam, read_timeout=0.1) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            await client.get_alias("fn", "live")
        elapsed = time.monotonic() - started
    # Three attempts, each delayed: a delay left over would time the next one out.
    assert await next_get_alias(lam, read_timeout=0.25) == "ResourceNotFoundException"
    assert 0.25 <= elapsed < 3  # at least three read timeouts of 0.1 s


async def test_a_short_delay_only_slows_the_call(lam: LocalLambda, client: LambdaClient) -> None:
    lam.inject("Invoke", Delay(0.2))
    started = time.monotonic()
    assert (await client.invoke("fn")).status_code == 200
    assert time.monotonic() - started >= 0.2
    assert lam.executions("fn", "$LATEST") == 1


async def test_a_wildcard_fault_applies_to_any_operation(lam: LocalLambda) -> None:
    async with make_client(lam, max_attempts=1) as client:
        lam.inject("*", ServerError(500), times=2)
        with pytest.raises(ServiceException):
            [alias async for alias in client.list_aliases("fn")]
        with pytest.raises(ServiceException):
            await client.create_alias("fn", "live", function_version="$LATEST")
        # Used up: the next call of any kind goes through.
        assert (await client.create_alias("fn", "live", function_version="$LATEST")).name == "live"
        # A fault for the operation itself comes before a wildcard one.
        lam.inject("*", ServerError(503))
        lam.inject("GetAlias", Throttle(retry_after=0))
        with pytest.raises(TooManyRequestsError):
            await client.get_alias("fn", "live")
        with pytest.raises(ServiceException):
            await client.get_alias("fn", "live")
        assert (await client.get_alias("fn", "live")).name == "live"


# --- library bugs, shown -------------------------------------------------------------------


async def test_tail_has_prints_after_sys_stdout_is_replaced(
    lam: LocalLambda, client: LambdaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    lam.add_function("fn", talkative)
    await client.invoke("fn", payload={"id": "first"})  # installs LocalLambda's router
    # What pytest does to sys.stdout between a test's phases, and between tests.
    replaced = io.StringIO()
    monkeypatch.setattr(sys, "stdout", replaced)
    result = await client.invoke("fn", payload={"id": "second"}, log_type=LogType.TAIL)
    assert result.log_result is not None
    assert "[WARNING]\tlogged second" in result.log_result  # logging still arrives
    assert "printed second" in result.log_result, f"print went to sys.stdout: {replaced!r}"


async def test_invoke_request_id_is_the_functions_aws_request_id(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", describe_context)
    result = await client.invoke("fn", log_type=LogType.TAIL)
    assert result.log_result is not None
    assert result.log_result.startswith(f"START RequestId: {result.json()['aws_request_id']} ")
    assert result.request_id == result.json()["aws_request_id"]


async def test_streaming_request_id_is_the_functions_aws_request_id(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.add_function("fn", describe_context)
    async with client.invoke_with_response_stream("fn") as stream:
        chunks = [chunk async for chunk in stream]
    assert stream.request_id == json.loads(b"".join(chunks))["aws_request_id"]


async def test_client_context_has_the_python_runtimes_attributes(
    lam: LocalLambda, client: LambdaClient
) -> None:
    def custom(event: Any, context: Any) -> Any:
        return context.client_context.custom

    lam.add_function("fn", custom)
    result = await client.invoke("fn", client_context={"custom": {"tenant": "acme"}})
    assert result.function_error is None, result.payload
    assert result.json() == {"tenant": "acme"}


async def test_a_fault_after_execution_applies_to_an_event_invocation(
    lam: LocalLambda, client: LambdaClient
) -> None:
    lam.inject("Invoke", ServerError(502, after_execution=True))
    with pytest.raises(ServiceError) as caught:
        await client.invoke("fn", invocation_type=InvocationType.EVENT)
    assert caught.value.status == 502


# --- the command line ----------------------------------------------------------------------


def greeting_module(tmp_path: Path) -> dict[str, str]:
    """A ``cli_greeting`` module with a ``handler``, and the environment that can import it."""
    (tmp_path / "cli_greeting.py").write_text(
        "def handler(event, context):\n    return {'hello': event['name']}\n"
    )
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}


async def serve_greeting(tmp_path: Path) -> asyncio.subprocess.Process:
    """``python -m lambdaclient.testing`` on a free port, serving a ``greet`` function."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lambdaclient.testing",
        "--port",
        "0",
        "--function",
        "greet=cli_greeting:handler",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=greeting_module(tmp_path),
    )


async def test_the_command_line_server(tmp_path: Path) -> None:
    # local_lambda_process also checks that Ctrl-C stops it cleanly and promptly.
    env = greeting_module(tmp_path)
    async with (
        local_lambda_process("--function", "greet=cli_greeting:handler", env=env) as exported,
        _client_of(exported) as client,
    ):
        result = await client.invoke("greet", payload={"name": "ada"})
    assert result.json() == {"hello": "ada"}
    assert result.executed_version == "$LATEST"


async def test_the_printed_lines_alone_are_enough_for_boto3(tmp_path: Path) -> None:
    # Sourced by a shell into an environment with nothing else (a HOME without ~/.aws), the
    # printed lines must give boto3 the endpoint, the credentials and the region.
    process = await serve_greeting(tmp_path)
    assert process.stdout is not None
    try:
        printed: list[str] = []
        while not printed or not printed[-1].startswith("# AWS CLI:"):
            line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
            assert line, "the server exited before printing its endpoint"
            printed.append(line.rstrip("\n"))
        endpoint = printed[0].removeprefix("# LocalLambda listening on ")
        assert printed[-1] == f"# AWS CLI: aws lambda <command> --endpoint-url {endpoint}"
        assert f"export AWS_DEFAULT_REGION={LocalLambda().region}" in printed
        exports = tmp_path / "exports.sh"
        exports.write_text("\n".join(printed) + "\n")
        home = tmp_path / "bare-home"
        home.mkdir()
        script = (
            "import boto3, json\n"
            "response = boto3.client('lambda').invoke(\n"
            "    FunctionName='greet', Payload=json.dumps({'name': 'ada'}))\n"
            "print(response['ExecutedVersion'], response['Payload'].read().decode())\n"
        )
        boto3_run = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            '. "$1" && shift && exec "$@"',
            "sh",
            str(exports),
            sys.executable,
            "-c",
            script,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"HOME": str(home)},
        )
        stdout, stderr = await asyncio.wait_for(boto3_run.communicate(), timeout=60)
        assert boto3_run.returncode == 0, stderr.decode()
        version, _, payload = stdout.decode().strip().partition(" ")
        assert (version, json.loads(payload)) == ("$LATEST", {"hello": "ada"})
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), timeout=20)


async def test_the_command_line_publishes_versions_of_an_echo_function() -> None:
    arguments = ("--function", "my-fn", "--function", "other", "--versions", "my-fn=2")
    async with (
        local_lambda_process(*arguments, "--versions", "my-fn=1") as exported,
        _client_of(exported) as client,
    ):
        versions = [v async for v in client.list_versions_by_function("my-fn")]
        others = [v.version async for v in client.list_versions_by_function("other")]
        result = await client.invoke("my-fn", payload={"order": 42}, qualifier="2")
    assert [(v.version, v.description) for v in versions] == [
        ("$LATEST", "version 3"),  # as the last publish left it
        ("1", "version 1"),
        ("2", "version 2"),
        ("3", "version 3"),
    ]
    assert others == ["$LATEST"]
    assert result.json() == {"order": 42}  # a function given without a handler echoes
    assert result.executed_version == "2"


def _client_of(exported: dict[str, str]) -> LambdaClient:
    credentials = Credentials(exported["AWS_ACCESS_KEY_ID"], exported["AWS_SECRET_ACCESS_KEY"])
    return LambdaClient(
        exported["AWS_REGION"],
        endpoint_url=exported["AWS_ENDPOINT_URL_LAMBDA"],
        credentials=credentials,
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--versions", "my-fn=2"), "--versions my-fn=2: no --function my-fn"),
        (("--function", "my-fn", "--versions", "my-fn=0"), "expected NAME=COUNT with COUNT >= 1"),
        (("--function", "my-fn", "--versions", "my-fn"), "expected NAME=COUNT with COUNT >= 1"),
        (("--function", "=mod:attr"), "expected NAME[=MODULE:ATTRIBUTE]"),
        (
            ("--function", "greet=no_such_module_anywhere:handler"),
            "cannot load no_such_module_anywhere:handler",
        ),
    ],
)
def test_the_command_line_refuses_what_it_cannot_serve(
    arguments: tuple[str, ...], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdaclient.testing", "--port", "0", *arguments],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2  # argparse's usage error, before anything listens
    assert message in result.stderr


def test_the_command_line_help_shows_the_defaults() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdaclient.testing", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    )
    help_text = " ".join(result.stdout.split())
    for default in ("127.0.0.1", "9001", "us-east-1", "AKIDLOCALLAMBDA00000"):
        assert f"(default: {default})" in help_text
    assert "NAME=COUNT" in help_text
