"""Waiting for versions and updates: the pure decisions (no event loop), then the waits over
real sockets against LocalLambda, with boto3 as the independent oracle for what the server
answers."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import boto3
import pytest
from aioresponses import aioresponses
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdaclient import (
    FunctionConfiguration,
    LambdaClient,
    ResourceConflictError,
    ResourceNotFoundError,
    ValidationError,
    WaiterError,
)
from lambdaclient._waiters import (
    Progress,
    check_wait_arguments,
    function_updated_progress,
    version_active_progress,
    waiter_error,
)
from lambdaclient.cli import run
from lambdaclient.testing import LocalLambda, ServerError
from tests.test_client import CREDENTIALS, ENDPOINT, FakeLambda
from tests.test_faults import acquired

# --------------------------------------------------------------------------------------------
# The decisions, pure
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "state", "last_update_status", "expected"),
    [
        (version_active_progress, "Active", "Successful", Progress.DONE),
        (version_active_progress, "Active", None, Progress.DONE),
        (version_active_progress, "Active", "Failed", Progress.DONE),
        (version_active_progress, "Active", "InProgress", Progress.WAITING),
        (version_active_progress, "Pending", None, Progress.WAITING),
        (version_active_progress, "Inactive", "Successful", Progress.WAITING),
        (version_active_progress, None, None, Progress.WAITING),
        (version_active_progress, "ActiveNonInvocable", "Successful", Progress.WAITING),
        (version_active_progress, "Failed", None, Progress.FAILED),
        (version_active_progress, "Failed", "InProgress", Progress.FAILED),
        (function_updated_progress, "Active", "Successful", Progress.DONE),
        (function_updated_progress, "Pending", "Successful", Progress.DONE),
        (function_updated_progress, "Active", "InProgress", Progress.WAITING),
        (function_updated_progress, "Active", None, Progress.WAITING),
        (function_updated_progress, "Active", "SomethingNew", Progress.WAITING),
        (function_updated_progress, "Active", "Failed", Progress.FAILED),
        (function_updated_progress, "Failed", "Failed", Progress.FAILED),
    ],
    ids=lambda value: getattr(value, "__name__", None),  # the function's name, else the default
)
def test_a_waiters_progress_from_a_configuration(
    progress: Callable[[FunctionConfiguration], Progress],
    state: str | None,
    last_update_status: str | None,
    expected: Progress,
) -> None:
    configuration = FunctionConfiguration(state=state, last_update_status=last_update_status)
    assert progress(configuration) is expected


@pytest.mark.parametrize(
    ("delay", "timeout", "field"),
    [
        (0, 10, "delay"),
        (-1, 10, "delay"),
        (math.inf, 10, "delay"),
        (math.nan, 10, "delay"),
        (True, 10, "delay"),
        ("5", 10, "delay"),
        (1, -0.5, "timeout"),
        (1, math.inf, "timeout"),
        (1, math.nan, "timeout"),
        (1, None, "timeout"),
    ],
)
def test_bad_wait_arguments_name_the_argument(delay: object, timeout: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_wait_arguments(delay, timeout)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_wait_arguments_as_floats() -> None:
    assert check_wait_arguments(2, 0) == (2.0, 0.0)


def test_a_failure_carries_the_reason() -> None:
    configuration = FunctionConfiguration(
        state="Failed",
        state_reason="The function's role lacks permissions.",
        state_reason_code="InsufficientRolePermissions",
    )
    error = waiter_error(
        configuration,
        function_name="fn",
        qualifier="3",
        awaited="State Active",
        waited=10.0,
        timed_out=False,
    )
    assert (error.state, error.state_reason, error.state_reason_code) == (
        "Failed",
        "The function's role lacks permissions.",
        "InsufficientRolePermissions",
    )
    assert not error.timed_out
    assert "fn:3" in str(error)
    assert "InsufficientRolePermissions" in str(error)
    assert "The function's role lacks permissions." in str(error)


def test_a_timeout_says_the_last_state_and_how_long() -> None:
    configuration = FunctionConfiguration(
        state="Active",
        last_update_status="InProgress",
        last_update_status_reason="The function is being created.",
        last_update_status_reason_code="Creating",
    )
    error = waiter_error(
        configuration,
        function_name="fn",
        qualifier=None,
        awaited="LastUpdateStatus Successful",
        waited=2.5,
        timed_out=True,
    )
    assert error.timed_out
    assert error.waited == 2.5
    assert (error.last_update_status, error.last_update_status_reason_code) == (
        "InProgress",
        "Creating",
    )
    assert "2.5s" in str(error)
    assert "LastUpdateStatus InProgress" in str(error)


# --------------------------------------------------------------------------------------------
# Over real sockets, against LocalLambda
# --------------------------------------------------------------------------------------------

PENDING_MESSAGE = (
    "The operation cannot be performed at this time. The function is currently in the following"
    " state: Pending"
)


def echo(event: Any, context: Any) -> Any:
    return {"version": context.function_version}


def echo_v2(event: Any, context: Any) -> Any:
    return {"version": context.function_version, "v2": True}


def client_for(lam: LocalLambda, session: aiohttp.ClientSession | None = None) -> LambdaClient:
    return LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials, session=session
    )


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    """``fn`` (``$LATEST`` only); versions published stay Pending for an hour."""
    async with LocalLambda(version_activation_delay=3600) as server:
        server.add_function("fn", echo)
        yield server


@pytest.fixture
async def client(lam: LocalLambda) -> AsyncIterator[LambdaClient]:
    async with client_for(lam) as lambda_client:
        yield lambda_client


@pytest.fixture
def aws(lam: LocalLambda) -> Iterator[Any]:
    """boto3, the independent oracle of what LocalLambda answers; its retries off."""
    boto = boto3.client(
        "lambda",
        region_name=lam.region,
        endpoint_url=lam.endpoint_url,
        aws_access_key_id=lam.credentials.access_key_id,
        aws_secret_access_key=lam.credentials.secret_access_key,
        config=Config(retries={"total_max_attempts": 1}),
    )
    yield boto
    boto.close()


class Sleeps:
    """An injected sleep: records each delay, sleeps for none, runs ``then`` after the n-th."""

    def __init__(self, after: int | None = None, then: Callable[[], None] | None = None) -> None:
        self.delays: list[float] = []
        self.after = after
        self.then = then

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.then is not None and len(self.delays) == self.after:
            self.then()


async def pending_version(lam: LocalLambda, client: LambdaClient) -> str:
    """Publish a new version of ``fn`` (Pending for the fixture's hour); its number."""
    lam.add_function("fn", echo_v2)
    published = await client.publish_version("fn")
    assert published.state == "Pending"
    assert published.version is not None
    return published.version


async def test_publish_answers_pending_with_the_reason_aws_gives(
    lam: LocalLambda, client: LambdaClient, aws: Any
) -> None:
    lam.add_function("fn", echo_v2)
    published = await asyncio.to_thread(aws.publish_version, FunctionName="fn")

    assert (published["State"], published["StateReason"], published["StateReasonCode"]) == (
        "Pending",
        "The function is being created.",
        "Creating",
    )
    assert "LastUpdateStatus" not in published  # set once the creation completes
    config = await client.get_function_configuration("fn", qualifier=published["Version"])
    assert (config.state, config.state_reason_code, config.last_update_status) == (
        "Pending",
        "Creating",
        None,
    )


async def test_wait_through_pending_to_active_in_real_time() -> None:
    async with LocalLambda(version_activation_delay=0.2) as lam, client_for(lam) as client:
        lam.add_function("fn", echo)
        published = await client.publish_version("fn")
        assert published.state == "Pending"
        with pytest.raises(ResourceConflictError):
            await client.invoke("fn", qualifier=published.version)

        ready = await client.wait_for_version_active(
            "fn", published.version or "", delay=0.05, timeout=5
        )

        assert (ready.version, ready.state, ready.last_update_status) == (
            published.version,
            "Active",
            "Successful",
        )
        assert (ready.state_reason, ready.state_reason_code) == (None, None)
        result = await client.invoke("fn", qualifier=published.version)
        assert result.json() == {"version": published.version}


async def test_wait_with_an_injected_sleep(lam: LocalLambda, client: LambdaClient) -> None:
    version = await pending_version(lam, client)
    sleeps = Sleeps(after=3, then=lambda: lam.set_version_state("fn", version, "Active"))

    ready = await client.wait_for_version_active("fn", version, delay=2, sleep=sleeps)

    assert ready.state == "Active"
    assert sleeps.delays == [2.0, 2.0, 2.0]


async def test_an_active_version_returns_at_once(lam: LocalLambda, client: LambdaClient) -> None:
    await client.publish_version("fn")
    lam.set_version_state("fn", "1", "Active")
    sleeps = Sleeps()

    ready = await client.wait_for_version_active("fn", "1", sleep=sleeps)

    assert (ready.version, ready.state) == ("1", "Active")
    assert sleeps.delays == []


async def test_a_failed_version_raises_with_its_reason(
    lam: LocalLambda, client: LambdaClient
) -> None:
    version = await pending_version(lam, client)
    sleeps = Sleeps(
        after=1,
        then=lambda: lam.set_version_state(
            "fn",
            version,
            "Failed",
            reason="The role cannot be assumed.",
            reason_code="InsufficientRolePermissions",
        ),
    )

    with pytest.raises(WaiterError) as caught:
        await client.wait_for_version_active("fn", version, delay=1, sleep=sleeps)

    error = caught.value
    assert not error.timed_out
    assert (error.function_name, error.qualifier, error.waited) == ("fn", version, 1.0)
    assert (error.state, error.state_reason, error.state_reason_code) == (
        "Failed",
        "The role cannot be assumed.",
        "InsufficientRolePermissions",
    )
    assert "InsufficientRolePermissions" in str(error)
    assert sleeps.delays == [1.0]


async def test_timeout_counts_the_delays_slept(lam: LocalLambda, client: LambdaClient) -> None:
    version = await pending_version(lam, client)
    sleeps = Sleeps()

    with pytest.raises(WaiterError) as caught:
        await client.wait_for_version_active("fn", version, delay=5, timeout=12, sleep=sleeps)

    assert sleeps.delays == [5.0, 5.0, 2.0]  # the last delay ends at the timeout
    error = caught.value
    assert (error.timed_out, error.waited, error.state) == (True, 12.0, "Pending")
    assert "12s" in str(error)
    assert "State Pending" in str(error)


async def test_timeout_zero_reads_once(lam: LocalLambda, client: LambdaClient) -> None:
    version = await pending_version(lam, client)
    sleeps = Sleeps()

    with pytest.raises(WaiterError) as caught:
        await client.wait_for_version_active("fn", version, timeout=0, sleep=sleeps)

    assert (caught.value.timed_out, caught.value.waited) == (True, 0.0)
    assert sleeps.delays == []


async def test_an_inactive_version_is_waited_out(lam: LocalLambda, client: LambdaClient) -> None:
    await client.publish_version("fn")
    lam.set_version_state("fn", "1", "Inactive", reason="Idle for a while.", reason_code="Idle")

    with pytest.raises(WaiterError) as caught:
        await client.wait_for_version_active("fn", "1", delay=1, timeout=3, sleep=Sleeps())

    assert (caught.value.state, caught.value.state_reason_code) == ("Inactive", "Idle")
    assert caught.value.timed_out


async def test_a_missing_version_raises_not_found_at_once(client: LambdaClient) -> None:
    sleeps = Sleeps()
    with pytest.raises(ResourceNotFoundError):
        await client.wait_for_version_active("fn", "9", sleep=sleeps)
    assert sleeps.delays == []


async def test_reads_go_through_the_clients_retries(lam: LocalLambda, client: LambdaClient) -> None:
    version = await pending_version(lam, client)
    lam.set_version_state("fn", version, "Active")
    lam.inject("GetFunctionConfiguration", ServerError(503, "ServiceUnavailableException"))

    ready = await client.wait_for_version_active("fn", version, sleep=Sleeps())

    assert ready.state == "Active"


@pytest.mark.parametrize(
    ("delay", "budget", "field"),
    [(0, 10, "delay"), (1, -1, "timeout"), (math.inf, 1, "delay"), (1, math.nan, "timeout")],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    client: LambdaClient, delay: float, budget: float, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await client.wait_for_version_active("nope", "1", delay=delay, timeout=budget)
    assert caught.value.field == field


async def test_a_bad_version_or_sleep_is_refused(client: LambdaClient) -> None:
    with pytest.raises(ValidationError) as caught:
        await client.wait_for_version_active("fn", None)  # type: ignore[arg-type]
    assert caught.value.field == "version"
    with pytest.raises(ValidationError) as caught:
        await client.wait_for_version_active("fn", "not a version")
    assert caught.value.field == "version"
    with pytest.raises(ValidationError) as caught:
        await client.wait_for_version_active("fn", "1", sleep=5)  # type: ignore[arg-type]
    assert caught.value.field == "sleep"


async def test_a_cancelled_wait_stops_cleanly(lam: LocalLambda) -> None:
    lam.add_function("fn", echo_v2)
    async with aiohttp.ClientSession() as session, client_for(lam, session) as client:
        version = (await client.publish_version("fn")).version or ""
        wait = asyncio.create_task(
            client.wait_for_version_active("fn", version, delay=0.02, timeout=60)
        )
        await asyncio.sleep(0.2)  # several reads and sleeps in
        assert not wait.done()

        wait.cancel()

        with pytest.raises(asyncio.CancelledError):
            await wait
        assert acquired(session) == 0  # no connection held by the cancelled wait
        # The client is still usable.
        assert (await client.get_function_configuration("fn", qualifier=version)).version == (
            version
        )


# --- invoking a version that is not Active ---------------------------------------------------


async def test_invoking_a_pending_version_is_a_409(
    lam: LocalLambda, client: LambdaClient, aws: Any
) -> None:
    version = await pending_version(lam, client)
    await client.create_alias("fn", "live", function_version=version)

    for qualifier in (version, "live"):
        with pytest.raises(ResourceConflictError) as caught:
            await client.invoke("fn", qualifier=qualifier)
        assert (caught.value.code, caught.value.status) == ("ResourceConflictException", 409)
        assert caught.value.message == PENDING_MESSAGE

        with pytest.raises(ClientError) as boto_caught:
            await asyncio.to_thread(aws.invoke, FunctionName="fn", Qualifier=qualifier)
        response = boto_caught.value.response
        assert response["Error"]["Code"] == "ResourceConflictException"
        assert response["Error"]["Message"] == PENDING_MESSAGE
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert lam.executions("fn", version) == 0


async def test_an_alias_routing_a_share_to_a_pending_version(
    lam: LocalLambda, client: LambdaClient, aws: Any
) -> None:
    await client.publish_version("fn")
    lam.set_version_state("fn", "1", "Active")
    version = await pending_version(lam, client)
    await asyncio.to_thread(
        aws.create_alias,
        FunctionName="fn",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {version: 1.0}},
    )

    with pytest.raises(ClientError) as caught:
        await asyncio.to_thread(aws.invoke, FunctionName="fn", Qualifier="live")
    assert caught.value.response["Error"]["Message"] == PENDING_MESSAGE

    lam.set_version_state("fn", version, "Active")
    result = await client.invoke("fn", qualifier="live")
    assert result.executed_version == version


async def test_invoking_a_failed_version_is_a_409(lam: LocalLambda, client: LambdaClient) -> None:
    await client.publish_version("fn")
    lam.set_version_state("fn", "1", "Failed", reason="Bad image.", reason_code="InvalidImage")

    with pytest.raises(ResourceConflictError) as caught:
        await client.invoke("fn", qualifier="1")

    assert caught.value.message.endswith("currently in the following state: Failed")
    config = await client.get_function_configuration("fn", qualifier="1")
    assert (config.state, config.state_reason, config.state_reason_code) == (
        "Failed",
        "Bad image.",
        "InvalidImage",
    )


async def test_invoking_an_inactive_version_restores_it() -> None:
    async with LocalLambda(version_activation_delay=0.1) as lam, client_for(lam) as client:
        lam.add_function("fn", echo)
        lam.set_version_state("fn", "$LATEST", "Inactive", reason_code="Idle")

        with pytest.raises(ResourceConflictError) as caught:
            await client.invoke("fn")

        assert caught.value.message.endswith("currently in the following state: Inactive")
        restoring = await client.get_function_configuration("fn")
        assert (restoring.state, restoring.state_reason_code) == ("Pending", "Restoring")
        await client.wait_for_version_active("fn", "$LATEST", delay=0.05, timeout=5)
        assert (await client.invoke("fn")).json() == {"version": "$LATEST"}


async def test_list_versions_leaves_the_state_out_as_aws_does(
    lam: LocalLambda, client: LambdaClient, aws: Any
) -> None:
    await pending_version(lam, client)

    listed = await asyncio.to_thread(aws.list_versions_by_function, FunctionName="fn")

    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1"]
    assert not any("State" in v or "LastUpdateStatus" in v for v in listed["Versions"])


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        (("nope", "1", "Failed"), ValueError, "no function named 'nope'"),
        (("fn", "7", "Failed"), ValueError, "no version '7'"),
        (("fn", "$LATEST", "Pending"), ValueError, "Active, Failed, Inactive"),
        (("fn", "$LATEST", "Active", "why"), ValueError, "no reason"),
        (("fn", "$LATEST", "Failed", 42), TypeError, "reason must be a string"),
    ],
)
def test_set_version_state_refuses_bad_arguments(
    arguments: tuple[Any, ...], error: type[Exception], words: str
) -> None:
    lam = LocalLambda()
    lam.add_function("fn", echo)
    function_name, version, state, *reason = arguments
    with pytest.raises(error, match=words):
        lam.set_version_state(function_name, version, state, reason=reason[0] if reason else None)


@pytest.mark.parametrize("delay", [-1, math.inf, math.nan, "1", True])
def test_a_bad_activation_delay_is_refused(delay: Any) -> None:
    with pytest.raises(ValueError, match="version_activation_delay"):
        LocalLambda(version_activation_delay=delay)


# --------------------------------------------------------------------------------------------
# wait_for_function_updated (LocalLambda's updates complete at once: canned answers here)
# --------------------------------------------------------------------------------------------


def configuration(**fields: str) -> bytes:
    return json.dumps({"FunctionName": "my-fn", "Version": "$LATEST", **fields}).encode()


@pytest.fixture
def fake_lambda() -> Iterator[FakeLambda]:
    with aioresponses() as mocked:
        yield FakeLambda(mocked)


PATH = "/2015-03-31/functions/my-fn/configuration"


async def test_wait_for_function_updated_through_in_progress(fake_lambda: FakeLambda) -> None:
    in_progress = configuration(State="Active", LastUpdateStatus="InProgress")
    fake_lambda.reply("GET", PATH, query="Qualifier=live", body=in_progress, times=2)
    fake_lambda.reply(
        "GET",
        PATH,
        query="Qualifier=live",
        body=configuration(State="Active", LastUpdateStatus="Successful"),
    )
    sleeps = Sleeps()

    async with LambdaClient("us-east-1", credentials=CREDENTIALS) as client:
        done = await client.wait_for_function_updated(
            "my-fn", qualifier="live", delay=3, sleep=sleeps
        )

    assert done.last_update_status == "Successful"
    assert sleeps.delays == [3.0, 3.0]
    assert all(sent.url.startswith(f"{ENDPOINT}{PATH}") for sent in fake_lambda.sent)


async def test_a_failed_update_raises_with_its_reason(fake_lambda: FakeLambda) -> None:
    fake_lambda.reply(
        "GET",
        PATH,
        body=configuration(
            State="Active",
            LastUpdateStatus="Failed",
            LastUpdateStatusReason="The subnet has no free addresses.",
            LastUpdateStatusReasonCode="SubnetOutOfIPAddresses",
        ),
    )

    async with LambdaClient("us-east-1", credentials=CREDENTIALS) as client:
        with pytest.raises(WaiterError) as caught:
            await client.wait_for_function_updated("my-fn", sleep=Sleeps())

    error = caught.value
    assert (error.timed_out, error.qualifier, error.last_update_status) == (False, None, "Failed")
    assert error.last_update_status_reason == "The subnet has no free addresses."
    assert error.last_update_status_reason_code == "SubnetOutOfIPAddresses"
    assert "SubnetOutOfIPAddresses" in str(error)


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


async def cli(lam: LocalLambda, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", lam.credentials.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", lam.credentials.secret_access_key)
    return await run(["--endpoint-url", lam.endpoint_url, "--region", lam.region, *argv])


async def test_cli_wait_version_active(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with LocalLambda(version_activation_delay=0.2) as lam, client_for(lam) as client:
        lam.add_function("fn", echo)
        assert (await client.publish_version("fn")).state == "Pending"

        code = await cli(lam, monkeypatch, "wait", "version-active", "fn", "1", "--delay", "0.05")

        out = capsys.readouterr().out
        assert code == 0
        assert "State             Active" in out
        assert "LastUpdateStatus  Successful" in out

        code = await cli(lam, monkeypatch, "--output", "json", "wait", "version-active", "fn", "1")
        document = json.loads(capsys.readouterr().out)
        assert code == 0
        assert (document["Version"], document["State"]) == ("1", "Active")


async def test_cli_wait_for_a_failed_version_exits_1(
    lam: LocalLambda,
    client: LambdaClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await client.publish_version("fn")
    lam.set_version_state("fn", "1", "Failed", reason="Bad image.", reason_code="InvalidImage")

    code = await cli(lam, monkeypatch, "wait", "version-active", "fn", "1")

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "WaiterError" in err
    assert "InvalidImage" in err
    assert "Bad image." in err


async def test_cli_wait_that_times_out_exits_1(
    lam: LocalLambda,
    client: LambdaClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await client.publish_version("fn")

    code = await cli(
        lam, monkeypatch, "wait", "version-active", "fn", "1", "--delay", "0.05", "--timeout", "0.1"
    )

    assert code == 1
    err = capsys.readouterr().err
    assert "did not reach State Active within 0.1s" in err
    assert "State Pending" in err


async def test_cli_wait_function_updated(
    lam: LocalLambda,
    client: LambdaClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await client.publish_version("fn")
    await client.create_alias("fn", "live", function_version="1")
    lam.set_version_state("fn", "1", "Active")

    code = await cli(
        lam,
        monkeypatch,
        "--output",
        "json",
        "wait",
        "function-updated",
        "fn",
        "--qualifier",
        "live",
    )

    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["Version"], document["LastUpdateStatus"]) == ("1", "Successful")


@pytest.mark.parametrize(
    "argv",
    [
        ["wait", "version-active", "fn"],
        ["wait", "version-active", "fn", "1", "--delay", "0"],
        ["wait", "version-active", "fn", "1", "--timeout", "soon"],
        ["wait", "function-updated", "fn", "--qualifier", "not a qualifier"],
        ["wait", "nothing", "fn"],
    ],
)
async def test_cli_wait_usage_errors_exit_2(
    lam: LocalLambda,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    assert await cli(lam, monkeypatch, *argv) == 2
    assert capsys.readouterr().err
