"""Tests for lambdaclient._retry: what is retried, how long to wait, and the retry quota.

The rule that matters most: a write (create, update, delete) is retried only when the server
cannot have acted on it, so a retry never applies a change twice behind the caller's back.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaclient._errors import (
    ConnectError,
    ConnectTimeoutError,
    LambdaError,
    PreconditionFailedError,
    RequestTimeoutError,
    ResourceConflictError,
    ResourceNotFoundError,
    ResponseParseError,
    ServiceError,
    ServiceException,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)
from lambdaclient._protocol import Idempotency
from lambdaclient._retry import MAX_BACKOFF, RetryQuota, is_retryable, retry_delay

READ, WRITE = Idempotency.READ, Idempotency.WRITE


def _status(status: int, code: str = "SomeError") -> ServiceError:
    return ServiceError(code, "", status=status)


def _throttled(retry_after: float | None = None) -> TooManyRequestsError:
    return TooManyRequestsError(
        "TooManyRequestsException", "Rate exceeded", status=429, retry_after_seconds=retry_after
    )


# (error, retried for a read, retried for a write)
TABLE: list[tuple[LambdaError, bool, bool]] = [
    (_status(429), True, True),
    (_throttled(), True, True),
    # Throttling by code, whatever the status a proxy put on it.
    (_status(400, "TooManyRequestsException"), True, True),
    (ServiceException("ServiceException", "", status=500), True, False),
    (_status(500), True, False),
    (_status(502), True, False),
    (_status(503), True, False),
    (_status(504), True, False),
    (_status(400), False, False),
    (ResourceNotFoundError("ResourceNotFoundException", "", status=404), False, False),
    (ResourceConflictError("ResourceConflictException", "", status=409), False, False),
    (PreconditionFailedError("PreconditionFailedException", "", status=412), False, False),
    (_status(501), False, False),
    # Nothing was sent: safe for anything.
    (ConnectError("refused"), True, True),
    (ConnectTimeoutError("connect timed out"), True, True),
    # The request may have reached the server.
    (RequestTimeoutError("read timed out"), True, False),
    (TransportError("connection reset"), True, False),
    # Not failures of the attempt: retrying cannot help.
    (ValidationError("bad", field="name"), False, False),
    (ResponseParseError("bad body", status=200), False, False),
]


@pytest.mark.parametrize(("error", "read", "write"), TABLE, ids=lambda v: repr(v)[:60])
def test_is_retryable(error: LambdaError, read: bool, write: bool) -> None:
    assert is_retryable(error, READ) is read
    assert is_retryable(error, WRITE) is write


# --------------------------------------------------------------------------------------------
# Backoff
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("retry_after", "delay"), [(0.0, 0.0), (2.0, 2.0), (20.0, 20.0)])
def test_retry_after_is_honoured(retry_after: float, delay: float) -> None:
    # The server's word wins over jitter, so random is not even consulted.
    def no_random() -> float:
        raise AssertionError("jitter used despite Retry-After")

    assert retry_delay(_throttled(retry_after), 1, no_random) == delay


def test_retry_after_is_capped() -> None:
    assert retry_delay(_throttled(3600.0), 1, lambda: 0.5) == MAX_BACKOFF == 20.0


def test_throttling_without_retry_after_uses_backoff() -> None:
    assert retry_delay(_throttled(None), 3, lambda: 0.5) == 2.0


def test_backoff_doubles_then_caps() -> None:
    delays = [retry_delay(_status(503), attempt, lambda: 1.0) for attempt in range(1, 9)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0, 20.0]


def test_backoff_is_full_jitter() -> None:
    assert retry_delay(ConnectError("x"), 4, lambda: 0.0) == 0.0
    assert retry_delay(ConnectError("x"), 4, lambda: 0.25) == 2.0


# Bounded because 2.0 ** (attempt - 1) overflows past attempt 1025; a call cannot get near
# that, since the quota pays for at most 100 retries.
@given(
    attempt=st.integers(1, 1000),
    jitter=st.floats(0.0, 1.0),
    retry_after=st.none() | st.floats(0.0, 1e9),
)
def test_delay_is_always_within_bounds(
    attempt: int, jitter: float, retry_after: float | None
) -> None:
    for error in (_throttled(retry_after), _status(503), RequestTimeoutError("t")):
        assert 0.0 <= retry_delay(error, attempt, lambda: jitter) <= MAX_BACKOFF


# --------------------------------------------------------------------------------------------
# Retry quota
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "cost"),
    [
        (_status(503), 5),
        (_throttled(), 5),
        (ConnectError("refused"), 5),
        (TransportError("reset"), 5),
        (RequestTimeoutError("read timed out"), 10),
        (ConnectTimeoutError("connect timed out"), 10),
    ],
)
def test_retry_cost(error: LambdaError, cost: int) -> None:
    quota = RetryQuota()
    assert quota.acquire(error) == cost
    assert quota.tokens == 500 - cost


def test_quota_refuses_after_100_retries_without_success() -> None:
    quota = RetryQuota()
    assert all(quota.acquire(_status(503)) == 5 for _ in range(100))
    assert quota.tokens == 0
    assert quota.acquire(_status(503)) is None
    assert quota.tokens == 0  # a refusal costs nothing


def test_quota_refuses_when_it_cannot_pay_the_full_cost() -> None:
    quota = RetryQuota()
    for _ in range(99):
        quota.acquire(_status(503))
    assert quota.tokens == 5
    assert quota.acquire(RequestTimeoutError("t")) is None
    assert quota.acquire(_status(503)) == 5


def test_success_after_retry_refunds_its_cost() -> None:
    quota = RetryQuota()
    cost = quota.acquire(RequestTimeoutError("t"))
    quota.release(cost)
    assert quota.tokens == 500


def test_plain_success_refunds_one() -> None:
    quota = RetryQuota()
    for _ in range(3):
        quota.acquire(_status(503))
    quota.release(None)
    assert quota.tokens == 500 - 15 + 1


def test_an_exhausted_quota_recovers_with_successes() -> None:
    quota = RetryQuota()
    while quota.acquire(_status(503)) is not None:
        pass
    for _ in range(5):
        quota.release(None)
    assert quota.acquire(_status(503)) == 5


@given(st.lists(st.sampled_from(["retry", "timeout", "success"]), max_size=300))
def test_quota_stays_within_capacity(events: list[str]) -> None:
    # Played the way the client plays it: a success refunds the cost of the call's last retry.
    quota = RetryQuota()
    cost: int | None = None
    for event in events:
        if event == "success":
            quota.release(cost)
            cost = None
        else:
            error = _status(503) if event == "retry" else RequestTimeoutError("t")
            cost = quota.acquire(error) or cost
        assert 0 <= quota.tokens <= quota.capacity
