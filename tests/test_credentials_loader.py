"""Your own credentials provider (``credentials=`` any object with ``async def load()``), over
real sockets against LocalLambda, which checks every signature and refuses a request signed
with credentials that had expired (403 ``ExpiredTokenException``).

The providers here issue credentials as STS would: each load gives a new key that expires a
set time after it was issued, and registers it with LocalLambda (the account) as it issues it.
Expiry is judged by a fake clock that the client and LocalLambda share, so no test waits for
real time to pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lambdaclient import (
    ClientClosedError,
    Credentials,
    CredentialsError,
    LambdaClient,
    ValidationError,
)
from lambdaclient.cloudwatch import AlarmState, CloudWatchClient
from lambdaclient.testing import LocalLambda
from tests.test_credentials import FakeClock, eventually

BURST = 500
LIFETIME = timedelta(minutes=4)  # short-lived: refreshed at half its life, 2 minutes before


class TickingClock(FakeClock):
    """A clock that moves ``step`` on at every read, up to ``until``: time passing while a
    burst is being sent, signed and answered. It stops there, so that a whole burst spans
    less than the 5 minutes of skew a signature's date may have."""

    def __init__(self) -> None:
        super().__init__()
        self.step = timedelta(0)
        self.until = self.now

    def tick(self, start: datetime, until: datetime, step: timedelta) -> None:
        self.now, self.until, self.step = start, until, step

    def __call__(self) -> datetime:
        now = self.now
        self.now = min(now + self.step, self.until) if now < self.until else now
        return now


class IssuingProvider:
    """Issues new credentials, valid for ``LIFETIME`` by ``clock``, on every load, after
    ``delay`` seconds (a round trip to STS). Counts its loads, and how many ran at once."""

    def __init__(self, lam: LocalLambda, clock: FakeClock, delay: float = 0.01) -> None:
        self.lam = lam
        self.clock = clock
        self.delay = delay
        self.issued: list[Credentials] = []
        self.loads = 0
        self.running = 0
        self.most_running = 0
        self.failure: Exception | None = None
        self.answer: object = None  # what to return instead of credentials, when not None
        self.gate = asyncio.Event()
        self.gate.set()

    async def load(self) -> Credentials:
        self.loads += 1
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(self.delay)
            await self.gate.wait()
            if self.failure is not None:
                raise self.failure
            if self.answer is not None:
                return self.answer  # type: ignore[return-value]  # deliberately wrong
            n = len(self.issued) + 1
            credentials = Credentials(
                f"ASIAISSUED{n:010d}", f"issued-secret-{n}", f"issued-token-{n}",
                self.clock() + LIFETIME,
            )  # fmt: skip
            self.lam.add_credentials(credentials)
            self.issued.append(credentials)
            return credentials
        finally:
            self.running -= 1


async def echo(event: Any, context: Any) -> Any:
    return event


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
async def lam(clock: TickingClock) -> AsyncIterator[LocalLambda]:
    async with LocalLambda(clock=clock) as server:
        server.add_function("fn", echo)
        yield server


@pytest.fixture
def provider(lam: LocalLambda, clock: TickingClock) -> IssuingProvider:
    return IssuingProvider(lam, clock)


@pytest.fixture
async def client(
    lam: LocalLambda, provider: IssuingProvider, clock: TickingClock
) -> AsyncIterator[LambdaClient]:
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=provider, clock=clock
    ) as client:
        yield client


async def first_load(client: LambdaClient, provider: IssuingProvider) -> datetime:
    """Make one call, which loads the first credentials; when they expire."""
    assert (await client.invoke("fn", payload=-1)).json() == -1
    (first,) = provider.issued
    assert first.expiration is not None
    return first.expiration


# --- refreshed once per burst, never signing with expired credentials -------------------------


async def test_credentials_expiring_mid_burst_are_loaded_once_per_refresh(
    lam: LocalLambda, client: LambdaClient, provider: IssuingProvider, clock: TickingClock
) -> None:
    await first_load(client, provider)
    for refresh in (1, 2):
        held = provider.issued[-1]
        assert held.expiration is not None
        # The burst starts 30 seconds before the refresh time (half the 4-minute life), and
        # each read of the clock moves it a quarter second on, to 30 seconds past the expiry:
        # calls made early in the burst find the credentials fresh, later ones find them in
        # the refresh window, then too close to expiry to sign with, then expired.
        clock.tick(
            start=held.expiration - timedelta(minutes=2, seconds=30),
            until=held.expiration + timedelta(seconds=30),
            step=timedelta(seconds=0.25),
        )
        results = await asyncio.gather(
            *(client.invoke("fn", payload=n) for n in range(BURST)), return_exceptions=True
        )
        # None failed: LocalLambda refuses a request signed with expired credentials, or with
        # a key it was never given.
        failures = [repr(result) for result in results if isinstance(result, BaseException)]
        assert failures == []
        assert [result.json() for result in results] == list(range(BURST))  # type: ignore[union-attr]
        assert clock.now > held.expiration  # the burst did outlive the credentials
        assert provider.loads == 1 + refresh  # one load for the whole burst
    assert provider.most_running == 1
    assert lam.executions("fn", "$LATEST") == 1 + 2 * BURST


async def test_a_slow_provider_does_not_hold_up_calls_while_the_credentials_are_valid(
    lam: LocalLambda, client: LambdaClient, provider: IssuingProvider, clock: TickingClock
) -> None:
    expiration = await first_load(client, provider)
    provider.gate.clear()  # the next load does not return until the test says so

    clock.now = expiration - timedelta(minutes=1, seconds=30)  # in the refresh window
    async with asyncio.timeout(60):  # a regression would wait for the gate forever
        results = await asyncio.gather(*(client.invoke("fn", payload=n) for n in range(BURST)))
    # The whole burst was answered, signed with the current credentials, while the refresh
    # it started is still waiting.
    assert [result.json() for result in results] == list(range(BURST))
    assert (provider.loads, provider.running) == (2, 1)

    provider.gate.set()
    await eventually(lambda: len(provider.issued) == 2)
    # Past the first credentials' expiry: a call succeeds only if it signs with the new ones,
    # and no further load was needed.
    clock.now = expiration + timedelta(seconds=1)
    assert (await client.invoke("fn", payload=["after"])).json() == ["after"]
    assert provider.loads == 2


# --- failures ----------------------------------------------------------------------------------


async def test_a_failing_provider_is_not_cached_and_recovers(
    lam: LocalLambda, client: LambdaClient, provider: IssuingProvider, clock: TickingClock
) -> None:
    expiration = await first_load(client, provider)
    first = provider.issued[0]
    # A careless source echoes the secret the client holds.
    provider.failure = ConnectionError(f"vault sealed (had {first.secret_access_key})")
    clock.now = expiration - timedelta(seconds=30)  # too close to expiry to sign with

    for attempt in (2, 3):
        with pytest.raises(CredentialsError) as caught:
            await client.invoke("fn", payload=["refused"])
        message = str(caught.value)
        assert "IssuingProvider.load()" in message
        assert "ConnectionError: vault sealed" in message
        assert first.secret_access_key not in message
        assert first.secret_access_key not in repr(caught.value)
        assert caught.value.__cause__ is None  # the raw exception would show the secret
        assert provider.loads == attempt  # not cached: every call tried the provider again
    assert lam.executions("fn", "$LATEST") == 1  # nothing was sent

    provider.failure = None
    assert (await client.invoke("fn", payload=["recovered"])).json() == ["recovered"]
    assert provider.loads == 4
    assert lam.executions("fn", "$LATEST") == 2


async def test_a_failing_provider_fails_a_burst_with_one_load(
    lam: LocalLambda, client: LambdaClient, provider: IssuingProvider
) -> None:
    provider.failure = PermissionError("AccessDenied")
    outcomes = await asyncio.gather(
        *(client.invoke("fn", payload=n) for n in range(BURST)), return_exceptions=True
    )
    assert all(isinstance(outcome, CredentialsError) for outcome in outcomes)
    assert provider.loads == 1
    assert lam.executions("fn", "$LATEST") == 0


async def test_a_provider_returning_something_else_is_a_clear_error(
    client: LambdaClient, provider: IssuingProvider
) -> None:
    provider.answer = {"AccessKeyId": "ASIA", "SecretAccessKey": "a-secret-in-a-dict"}
    with pytest.raises(CredentialsError) as caught:
        await client.invoke("fn", payload=0)
    assert str(caught.value) == (
        "IssuingProvider.load() returned dict, not a lambdaclient.Credentials"
    )

    provider.answer = None  # and once it returns credentials, they are used
    assert (await client.invoke("fn", payload=1)).json() == 1
    assert provider.loads == 2


async def test_credentials_already_expired_are_refused(
    client: LambdaClient, provider: IssuingProvider, clock: TickingClock
) -> None:
    stale = Credentials("ASIASTALE", "stale-secret", "stale-token", clock.now - timedelta(1))
    provider.answer = stale
    with pytest.raises(CredentialsError, match=r"IssuingProvider\.load\(\) gave .* expired at"):
        await client.invoke("fn", payload=0)


async def test_credentials_expired_already_from_a_background_refresh_are_a_failed_refresh(
    client: LambdaClient,
    provider: IssuingProvider,
    clock: TickingClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    expiration = await first_load(client, provider)
    clock.now = expiration - timedelta(minutes=1, seconds=30)  # in the refresh window
    provider.answer = Credentials("ASIASTALE", "stale-secret", "stale-token", clock.now)
    with caplog.at_level(logging.WARNING, logger="lambdaclient"):
        for n in range(5):
            assert (await client.invoke("fn", payload=n)).json() == n
            await eventually(lambda: provider.running == 0)
    # One refresh, refused: the calls kept the current credentials, and the next refresh
    # waits its 30 seconds rather than run on every call.
    assert provider.loads == 2
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "IssuingProvider.load() gave AWS credentials that expired at" in warning.getMessage()

    provider.answer = None
    clock.now += timedelta(seconds=31)
    assert (await client.invoke("fn", payload=["again"])).json() == ["again"]
    await eventually(lambda: len(provider.issued) == 2)
    assert provider.loads == 3


async def test_a_failed_load_nobody_waited_for_is_logged(
    client: LambdaClient, provider: IssuingProvider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.failure = PermissionError("AccessDenied")
    provider.gate.clear()
    call = asyncio.create_task(client.invoke("fn", payload=0))
    await eventually(lambda: provider.running == 1)
    call.cancel()  # the only caller waiting for the first load goes away
    with pytest.raises(asyncio.CancelledError):
        await call
    with caplog.at_level(logging.WARNING, logger="lambdaclient"):
        provider.gate.set()
        await eventually(lambda: provider.running == 0)
        await asyncio.sleep(0)  # the load's task ends once load() has returned
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "IssuingProvider.load() failed: PermissionError: AccessDenied" in warning.getMessage()


async def test_closing_the_client_stops_a_background_refresh(
    lam: LocalLambda, client: LambdaClient, provider: IssuingProvider, clock: TickingClock
) -> None:
    expiration = await first_load(client, provider)
    provider.gate.clear()
    clock.now = expiration - timedelta(minutes=1, seconds=30)  # in the refresh window
    assert (await client.invoke("fn", payload=1)).json() == 1
    assert provider.running == 1  # the refresh waits at the gate

    await client.close()
    assert provider.running == 0  # cancelled, and over by the time close() returned
    provider.gate.set()
    await asyncio.sleep(0.05)
    assert len(provider.issued) == 1  # no credentials were issued after close


async def test_a_call_waiting_for_credentials_when_the_client_closes_is_told_so(
    client: LambdaClient, provider: IssuingProvider
) -> None:
    provider.gate.clear()
    call = asyncio.create_task(client.invoke("fn", payload=0))
    await eventually(lambda: provider.running == 1)
    await client.close()
    with pytest.raises(ClientClosedError, match="closed while loading credentials"):
        async with asyncio.timeout(30):  # a regression would wait for the gate forever
            await call
    assert provider.issued == []


class TracedProvider(IssuingProvider):
    """Loads in a span of its own, as an instrumented STS or secrets-store call would."""

    def __init__(self, lam: LocalLambda, clock: FakeClock, tracer_provider: TracerProvider):
        super().__init__(lam, clock)
        self.tracer = tracer_provider.get_tracer("test")

    async def load(self) -> Credentials:
        with self.tracer.start_as_current_span("load"):
            return await super().load()


async def test_a_background_refresh_is_not_a_child_of_the_call_that_started_it(
    lam: LocalLambda, clock: TickingClock
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider = TracedProvider(lam, clock, tracer_provider)
    async with LambdaClient(
        lam.region,
        endpoint_url=lam.endpoint_url,
        credentials=provider,
        clock=clock,
        tracer_provider=tracer_provider,
    ) as client:
        expiration = await first_load(client, provider)
        provider.delay = 0.2  # the refresh outlives the call that starts it
        clock.now = expiration - timedelta(minutes=1, seconds=30)  # in the refresh window
        assert (await client.invoke("fn", payload=1)).json() == 1
        await eventually(lambda: len(provider.issued) == 2)
    loads = [span for span in exporter.get_finished_spans() if span.name == "load"]
    assert len(loads) == 2
    # Roots of their own: the call's span, which ended before the refresh did, is no parent.
    assert [span.parent for span in loads] == [None, None]


async def test_credentials_without_expiration_are_kept(
    lam: LocalLambda, client: LambdaClient, provider: IssuingProvider, clock: TickingClock
) -> None:
    lasting = Credentials("ASIALASTING", "lasting-secret", "lasting-token")
    lam.add_credentials(lasting)
    provider.answer = lasting
    await client.invoke("fn", payload=0)
    clock.now += timedelta(days=400)
    assert (await client.invoke("fn", payload=1)).json() == 1
    assert provider.loads == 1


# --- refused at construction -------------------------------------------------------------------


class SyncLoad:
    def load(self) -> Credentials:
        return Credentials("AKID", "secret")


class AsyncLoad:
    async def load(self) -> Credentials:
        return Credentials("AKID", "secret")


@pytest.mark.parametrize("client_class", [LambdaClient, CloudWatchClient])
@pytest.mark.parametrize(
    ("credentials", "words"),
    [
        (SyncLoad(), "SyncLoad.load must be a coroutine function"),
        (AsyncLoad, "got the class AsyncLoad, not an instance of it"),
        ({"AccessKeyId": "AKID"}, "not dict"),
        ("AKID:secret", "not str"),
    ],
)
def test_credentials_that_are_no_provider_are_refused(
    client_class: type[LambdaClient | CloudWatchClient], credentials: object, words: str
) -> None:
    with pytest.raises(ValidationError, match=words) as caught:
        client_class("us-east-1", credentials=credentials)  # type: ignore[arg-type]
    assert caught.value.field == "credentials"


# --- the CloudWatch client ---------------------------------------------------------------------


async def test_the_cloudwatch_client_takes_a_provider(
    lam: LocalLambda, provider: IssuingProvider
) -> None:
    lam.set_alarm_state("fn-errors", "ALARM", reason="Threshold Crossed")
    async with CloudWatchClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=provider
    ) as client:
        alarms = await asyncio.gather(
            *(client.describe_alarms(alarm_names=["fn-errors"]) for _ in range(20))
        )
    assert {alarm.state for (alarm,) in alarms} == {AlarmState.ALARM}
    assert provider.loads == 1
