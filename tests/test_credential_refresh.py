"""Credentials that expire under load: through the client, a burst of 1,000 concurrent calls
refreshes them exactly once, and a refresh that fails surfaces a clear
:class:`CredentialsError` without caching the failure.

The credentials come from a ``credential_process`` profile in ``tmp_path`` whose script
counts its runs (one line per run in ``runs.log``, so concurrent runs would all be counted)
and hands out ``AKIDPROC<run>`` / ``proc-secret-<run>`` / ``proc-token-<run>``. Expiry is
judged by a fake clock, so no test waits for real time to pass. Provider-level behaviour
(one load for many callers, cancellation, the half-life rule) is in ``test_credentials.py``;
this file checks that the client keeps those promises with real requests in flight.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from lambdaclient import (
    AliasConfiguration,
    Credentials,
    CredentialsError,
    LambdaClient,
)
from lambdaclient.testing import LocalLambda
from tests.conftest import CompatClientResponse
from tests.test_credentials import PROCESS_SCRIPT, FakeClock, eventually

BURST = 1_000


class JumpingClock(FakeClock):
    """A clock that jumps to ``later`` once it has been read ``reads`` times: credentials that
    expire while a burst is being sent, between one call and the next."""

    def __init__(self, reads: int, later: datetime) -> None:
        super().__init__()
        self.reads_left = reads
        self.later = later

    def __call__(self) -> datetime:
        if self.reads_left == 0:
            self.now = self.later
        else:
            self.reads_left -= 1
        return self.now


class Process:
    """The ``credential_process`` behind profile "proc": how often it ran, what it gives."""

    def __init__(self, state: Path) -> None:
        self.state = state

    @property
    def runs(self) -> int:
        log = self.state / "runs.log"
        return len(log.read_text().splitlines()) if log.exists() else 0

    def expire_in(self, delta: timedelta) -> datetime:
        # Measured in real time, and at least an hour ahead, so that botocore's own refresh
        # windows (judged by the real clock) never run the process a second time; the fake
        # clock alone decides when lambdaclient refreshes.
        expiration = (datetime.now(UTC) + delta).replace(microsecond=0)
        (self.state / "expiration.txt").write_text(expiration.isoformat())
        return expiration

    def fail(self, stderr: str) -> None:
        (self.state / "fail.txt").write_text(stderr)

    def heal(self) -> None:
        (self.state / "fail.txt").unlink()

    @property
    def expiration(self) -> datetime:
        """When the credentials it gives now expire."""
        return datetime.fromisoformat((self.state / "expiration.txt").read_text())

    @staticmethod
    def credentials(run: int) -> Credentials:
        return Credentials(f"AKIDPROC{run}", f"proc-secret-{run}", f"proc-token-{run}")


@pytest.fixture
def process(aws_home: Path) -> Process:
    """Profile "proc" in an AWS set-up that knows only what is in ``aws_home``."""
    state = aws_home / "process-state"
    state.mkdir()
    script = aws_home / "credential_process.py"
    script.write_text(PROCESS_SCRIPT)
    (aws_home / "config").write_text(
        f'[profile proc]\ncredential_process = "{sys.executable}" "{script}" "{state}"\n'
    )
    result = Process(state)
    result.expire_in(timedelta(hours=1))
    return result


def echo(event: Any, context: Any) -> Any:
    return event


@pytest.fixture
def clock() -> FakeClock:
    """The client's clock: it signs requests and judges the expiry of credentials by it."""
    return FakeClock()


@pytest.fixture
async def lam(clock: FakeClock) -> AsyncIterator[LocalLambda]:
    # The server's clock moves with the client's, as AWS's would: it refuses a request dated
    # more than five minutes from its own time.
    async with LocalLambda(credentials=Process.credentials(1), clock=clock) as server:
        server.add_function("fn", echo)
        yield server


@pytest.fixture
async def client(
    lam: LocalLambda, process: Process, clock: FakeClock
) -> AsyncIterator[LambdaClient]:
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, profile="proc", clock=clock
    ) as client:
        yield client


async def create_alias(lam: LocalLambda, client: LambdaClient) -> AliasConfiguration:
    version = await client.publish_version("fn")
    assert version.version == "1"
    return await client.create_alias("fn", "live", function_version="1")


# --- one refresh for a whole burst -------------------------------------------------------------


async def test_a_burst_after_expiry_refreshes_once_and_every_call_signs_with_the_new_keys(
    lam: LocalLambda, client: LambdaClient, process: Process, clock: FakeClock
) -> None:
    alias = await create_alias(lam, client)
    assert process.runs == 1

    # Still fresh: a burst does not run the process at all.
    first = await asyncio.gather(*(client.get_alias("fn", "live") for _ in range(BURST)))
    assert first == [alias] * BURST
    assert process.runs == 1

    # Past expiry. LocalLambda now accepts only the keys of the second run, so a call signed
    # with the old ones would fail with a 403.
    expired_at = process.expiration
    process.expire_in(timedelta(hours=2))
    clock.now = expired_at + timedelta(seconds=1)
    lam.credentials = Process.credentials(2)
    second = await asyncio.gather(*(client.get_alias("fn", "live") for _ in range(BURST)))
    assert second == [alias] * BURST
    assert process.runs == 2

    # And the refreshed credentials are cached: no further run.
    assert await client.get_alias("fn", "live") == alias
    assert process.runs == 2


@pytest.fixture
def recorded() -> Iterator[list[dict[str, str]]]:
    """Every GetAlias sent to the real endpoint, answered by aioresponses; the headers of each
    are recorded, so a test can see which credentials signed it."""
    sent: list[dict[str, str]] = []
    body = json.dumps(
        {
            "AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:fn:live",
            "Name": "live",
            "FunctionVersion": "1",
            "Description": "",
            "RevisionId": "rev-1",
        }
    )

    def answer(url: URL, **kwargs: Any) -> CallbackResult:
        sent.append(dict(kwargs["headers"]))
        return CallbackResult(
            status=200,
            body=body,
            content_type="application/json",
            response_class=CompatClientResponse,
        )

    with aioresponses() as mocked:
        mocked.get(
            "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/fn/aliases/live",
            callback=answer,
            repeat=True,
            response_class=CompatClientResponse,
        )
        yield sent


async def test_credentials_expiring_mid_burst_are_refreshed_once(
    process: Process, recorded: list[dict[str, str]]
) -> None:
    # Each call reads the clock twice, to judge its cached credentials and to sign; after 400
    # reads the clock passes the point where they are too close to expiry to sign with, so
    # the burst straddles it.
    expiration = process.expire_in(timedelta(hours=1))
    clock = JumpingClock(400, expiration - timedelta(seconds=30))
    async with LambdaClient("us-east-1", profile="proc", clock=clock) as client:
        await client.get_alias("fn", "live")  # the first load, before the burst
        assert process.runs == 1
        process.expire_in(timedelta(hours=2))  # what the refresh will find
        results = await asyncio.gather(*(client.get_alias("fn", "live") for _ in range(BURST)))

    assert [result.name for result in results] == ["live"] * BURST
    assert process.runs == 2
    assert len(recorded) == 1 + BURST
    signed_with = [
        (
            headers["Authorization"].split("Credential=")[1].split("/")[0],
            headers["X-Amz-Security-Token"],
        )
        for headers in recorded[1:]
    ]
    # Some calls went out before the expiry with the first credentials, the rest after it
    # with the second; none was signed with a mixture of the two.
    old = signed_with.count(("AKIDPROC1", "proc-token-1"))
    new = signed_with.count(("AKIDPROC2", "proc-token-2"))
    assert old + new == BURST
    assert 0 < old < BURST, (old, new)


# --- a refresh that fails -------------------------------------------------------------------


async def test_a_failed_refresh_raises_a_clear_error_and_the_next_call_tries_again(
    lam: LocalLambda, client: LambdaClient, process: Process, clock: FakeClock
) -> None:
    first = await client.invoke("fn", payload={"n": 1})
    assert first.json() == {"n": 1}
    assert process.runs == 1
    held = Process.credentials(1)

    # The broken source echoes the secrets we hold; our message must not.
    process.fail(f"no route to the STS; had {held.secret_access_key} / {held.session_token}")
    # Within a minute of expiry, the current credentials are not used any more.
    clock.now = process.expiration - timedelta(seconds=30)
    with pytest.raises(CredentialsError) as caught:
        await client.invoke("fn", payload={"n": 2})
    message = str(caught.value)
    assert "'proc'" in message
    assert "credential source unavailable" in message
    assert "no route to the STS" in message
    for secret in (held.secret_access_key, held.session_token):
        assert secret is not None
        assert secret not in message
        assert secret not in repr(caught.value)
    assert process.runs == 2
    # Nothing was sent: the function did not run for the failed call.
    assert lam.executions("fn", "$LATEST") == 1

    # The failure is not cached: the next call runs the process again...
    with pytest.raises(CredentialsError):
        await client.invoke("fn", payload={"n": 3})
    assert process.runs == 3

    # ...and once the source works, the next call succeeds with what it gives.
    process.heal()
    process.expire_in(timedelta(hours=2))
    lam.credentials = Process.credentials(4)
    assert (await client.invoke("fn", payload={"n": 4})).json() == {"n": 4}
    assert process.runs == 4
    assert lam.executions("fn", "$LATEST") == 2


async def test_a_failed_refresh_fails_a_whole_burst_with_one_run(
    lam: LocalLambda, client: LambdaClient, process: Process, clock: FakeClock
) -> None:
    await client.get_function_configuration("fn")  # the first load of the credentials
    assert process.runs == 1
    process.fail("throttled by the identity provider")
    clock.now = process.expiration - timedelta(seconds=30)

    outcomes = await asyncio.gather(
        *(client.invoke("fn", payload={"n": n}) for n in range(BURST)), return_exceptions=True
    )
    # Every caller joined the one refresh in flight and got its error: the broken source is
    # run once for the burst, not 1,000 times.
    assert all(isinstance(outcome, CredentialsError) for outcome in outcomes)
    assert process.runs == 2
    assert lam.executions("fn", "$LATEST") == 0


async def test_a_failed_refresh_of_still_valid_credentials_keeps_the_burst_going(
    lam: LocalLambda,
    client: LambdaClient,
    process: Process,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alias = await create_alias(lam, client)
    process.fail("sso portal down")
    clock.now = process.expiration - timedelta(minutes=3)  # inside the refresh window, valid

    def warnings() -> list[logging.LogRecord]:
        failed = "Refreshing AWS credentials failed"
        return [r for r in caplog.records if failed in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="lambdaclient"):
        results = await asyncio.gather(*(client.get_alias("fn", "live") for _ in range(BURST)))
        assert results == [alias] * BURST
        # The refresh runs in the background, once for the burst.
        await eventually(lambda: len(warnings()) == 1)
    assert process.runs == 2
    assert "sso portal down" in warnings()[0].getMessage()
