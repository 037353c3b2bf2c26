"""Retry policy (AWS "standard" mode), as pure functions over the outcome of an attempt.

- Which failure may be retried depends on what the operation does: a read (get, list) is
  retried after throttling, a 5xx, a timeout or a lost connection; a write only after
  throttling or a connection that failed before anything was sent, because otherwise the
  server may already have acted on it.
- Backoff is exponential with full jitter, capped at 20 s. A ``Retry-After`` from the server
  is honoured, up to the same cap.
- A retry quota (a token bucket shared by all calls of one client) stops a client from
  hammering an endpoint that keeps failing: retries spend tokens, successes earn them back.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ._errors import (
    ConnectError,
    LambdaError,
    RequestTimeoutError,
    ServiceError,
    TooManyRequestsError,
    TransportError,
)
from ._protocol import Idempotency

__all__ = ["MAX_BACKOFF", "RetryQuota", "is_retryable", "retry_delay"]

MAX_BACKOFF = 20.0
_RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
# Codes the standard mode treats as throttling, whatever their HTTP status.
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    }
)


def _is_throttling(error: ServiceError) -> bool:
    return error.status == 429 or error.code in _THROTTLING_CODES


def is_retryable(error: LambdaError, idempotency: Idempotency) -> bool:
    """Whether ``error`` may be retried for an operation of this idempotency."""
    if isinstance(error, ServiceError):
        if _is_throttling(error):
            return True
        return idempotency is Idempotency.READ and error.status in _RETRYABLE_STATUS
    if isinstance(error, ConnectError):
        return True  # nothing was sent
    if isinstance(error, TransportError):
        return idempotency is Idempotency.READ
    return False


def retry_delay(error: LambdaError, attempt: int, random: Callable[[], float]) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the server's ``Retry-After`` if it
    sent one, else full-jitter exponential backoff; at most :data:`MAX_BACKOFF`."""
    if isinstance(error, TooManyRequestsError) and error.retry_after_seconds is not None:
        return min(error.retry_after_seconds, MAX_BACKOFF)
    return random() * min(2.0 ** (attempt - 1), MAX_BACKOFF)


@attrs.define
class RetryQuota:
    """The standard mode's retry token bucket: 500 tokens; a retry costs 5 (10 after a
    timeout); a success refunds what its retry cost, or 1 when it needed no retry."""

    capacity: int = 500
    retry_cost: int = 5
    timeout_retry_cost: int = 10
    tokens: int = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.tokens = self.capacity

    def acquire(self, error: LambdaError) -> int | None:
        """Take the cost of retrying after ``error``; None when the bucket cannot pay it."""
        cost = (
            self.timeout_retry_cost if isinstance(error, RequestTimeoutError) else self.retry_cost
        )
        if cost > self.tokens:
            return None
        self.tokens -= cost
        return cost

    def release(self, cost: int | None) -> None:
        """A call succeeded after spending ``cost`` (None: it did not retry)."""
        self.tokens = min(self.capacity, self.tokens + (cost or 1))
