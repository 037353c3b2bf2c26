"""What a call tells the world: an :class:`Attempt` after each attempt (for the DEBUG line and
``on_attempt`` hooks) and, with OpenTelemetry installed, one CLIENT span per operation.

OpenTelemetry is optional (the ``otel`` extra). Its API's tracing is imported once, here
(a few ms); its propagation module (some ten ms more: it loads the propagators
``OTEL_PROPAGATORS`` names) only when a first span is sent. Without it a client's
``_tracing`` is None, and a call does no tracing work beyond that None check; with it but no
provider configured and no trace going on, a call's work is two checks (:meth:`Tracing.start`).

Nothing secret reaches a span, a log line or an :class:`Attempt`: they are built from the
operation's name, the endpoint, the function's bare name, statuses, error codes, request
ids and counts, never from headers (signatures, tokens) or bodies (payloads; an AWS error
message may quote the payload, so it is left out too).
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from . import _protocol as protocol
from ._errors import LambdaError, ResponseParseError, ServiceError, ValidationError
from ._validate import function_name_parts
from ._version import __version__

if TYPE_CHECKING:
    from opentelemetry.propagators.textmap import TextMapPropagator
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from .transport import Response

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
except ImportError:  # the otel extra is not installed
    _OTEL = False
else:
    _OTEL = True

__all__ = [
    "Attempt",
    "AttemptHook",
    "StreamSpan",
    "Tracing",
    "check_hook",
    "current",
    "inject",
    "observe_attempt",
    "operation",
    "tracing",
]

logger = logging.getLogger("lambdaclient")

ATTEMPTS_ATTRIBUTE = "lambdaclient.attempts"
"""The span attribute counting the attempts an operation made (1 when the first succeeded;
botocore's instrumentation counts the retries alone, as ``retry_attempts``)."""

ABANDONED_ATTRIBUTE = "lambdaclient.stream.abandoned"
"""The span attribute, True, of a streamed invoke whose block was left before its body
ended: abandoned by the caller, which is no failure (the status stays unset)."""

_TRACE_HEADER = "x-amzn-trace-id"


@attrs.frozen(slots=True)
class Attempt:
    """One attempt of an operation, as ``on_attempt`` receives it once the attempt is over.

    ``service`` (``"Lambda"``, ``"CloudWatch"``) and ``operation`` (``"Invoke"``,
    ``"UpdateAlias"``, ...) name the call; ``number`` counts from 1. ``status`` is the HTTP
    status, None when no response came (a connection refused, a timeout). ``error_type`` is
    None for a success, else the AWS error code (``"TooManyRequestsException"``) or, for a
    failure that is not AWS's answer, the exception's class name (``"ConnectError"``,
    ``"ResponseTooLargeError"``). ``request_id`` is AWS's ``x-amzn-RequestId`` when a
    response carried one. ``elapsed`` is the attempt's seconds, from sending to the whole
    body read (to the headers for the streamed invokes), or to the failure. ``will_retry``
    says whether another attempt follows, after its backoff. An attempt cut short by
    cancellation or the call's ``total_timeout`` has no outcome, and no ``Attempt``.

    Example::

        def count(attempt: Attempt) -> None:
            metrics.increment(f"{attempt.service}.{attempt.operation}", status=attempt.status)

        client = LambdaClient(on_attempt=count)
    """

    service: str
    operation: str
    number: int
    status: int | None
    error_type: str | None
    request_id: str | None
    elapsed: float
    will_retry: bool

    def describe(self) -> str:
        """The attempt as the DEBUG line shows it."""
        if self.status is None:
            answer = f"no response ({self.error_type})"
        else:
            code = "" if self.error_type is None else f" {self.error_type}"
            answer = f"HTTP {self.status}{code}, request id {self.request_id}"
        return f"{self.operation} attempt {self.number}: {answer}, {1000 * self.elapsed:.1f} ms"


AttemptHook = Callable[[Attempt], object]
"""An ``on_attempt`` hook: a function of the :class:`Attempt`, sync or async."""


def check_hook(hook: object) -> AttemptHook | None:
    """``on_attempt=``, checked."""
    if hook is not None and not callable(hook):
        raise ValidationError(
            "on_attempt must be None or a function of an Attempt", field="on_attempt"
        )
    return hook


def _error_type(error: BaseException) -> str:
    """The ``error.type`` of a failure: AWS's code, else the exception's class name."""
    return error.code if isinstance(error, ServiceError) else type(error).__name__


async def observe_attempt(
    service: str,
    operation: str,
    number: int,
    started: float,
    outcome: Response | LambdaError,
    *,
    will_retry: bool,
    debug: bool,
    hook: AttemptHook | None,
    span: Span | None,
) -> None:
    """An attempt is over: log its DEBUG line, note it on the span, and call the hook.

    A sync hook is called, an async one awaited, inline, so hooks see the attempts in order
    and the next attempt waits for them: a hook should be quick. A hook that raises is
    logged at WARNING with its exception; the call goes on as if it had not been there."""
    status: int | None
    request_id: str | None
    if isinstance(outcome, ServiceError | ResponseParseError):
        status, request_id = outcome.status, outcome.request_id
    elif isinstance(outcome, LambdaError):
        status = request_id = None
    else:
        status, request_id = outcome.status, protocol.request_id(outcome.headers)
    error_type = None if not isinstance(outcome, LambdaError) else _error_type(outcome)
    attempt = Attempt(
        service,
        operation,
        number,
        status,
        error_type,
        request_id,
        time.perf_counter() - started,
        will_retry,
    )
    if debug:
        logger.debug("%s", attempt.describe())
    if span is not None:  # the last response's: an attempt with none leaves them be
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if request_id is not None:
            span.set_attribute("aws.request_id", request_id)
    if hook is None:
        return
    try:
        result = hook(attempt)
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.warning(
            "the on_attempt hook raised on %s; ignored", attempt.describe(), exc_info=True
        )


class Tracing:
    """A client's spans: its tracer, and the attributes all its spans share."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None,
        *,
        service: str,
        region: str,
        endpoint_url: str,
    ) -> None:
        # Without a provider, the global one: a proxy until one is set, then that one.
        self._tracer: Tracer = trace.get_tracer(
            "lambdaclient", __version__, tracer_provider=tracer_provider
        )
        self._service = service
        self._region = region
        # Whether the tracer may be a no-op one, whose spans record nothing: the global
        # provider's until one is set (checked at each call: it may be set at any time).
        self._global = tracer_provider is None
        self._noop = isinstance(tracer_provider, trace.NoOpTracerProvider)
        url = urlsplit(endpoint_url)
        self._shared: Mapping[str, str | int] = {
            "rpc.system": "aws-api",
            "rpc.service": service,
            "cloud.region": region,
            "server.address": url.hostname or "",
            "server.port": url.port or (443 if url.scheme == "https" else 80),
        }

    def start(self, operation: str, function_name: str | None) -> Span | None:
        """Start one operation's CLIENT span: the span, or None when there is nothing to
        record or propagate (no provider configured, no trace going on).

        That case is the common one (OpenTelemetry installed, nothing configured), and it is
        told apart before any attribute is built: a no-op tracer's span is the current one's
        context, recording nothing, so with no trace going on there is no span."""
        if self._inert() and not trace.get_current_span().get_span_context().is_valid:
            return None
        attributes: dict[str, str | int] = {**self._shared, "rpc.method": operation}
        if function_name is not None:
            name, region, _ = function_name_parts(function_name)
            attributes["faas.invoked_name"] = name
            attributes["faas.invoked_provider"] = "aws"
            attributes["faas.invoked_region"] = region or self._region
        span = self._tracer.start_span(
            f"{self._service}.{operation}",
            kind=trace.SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        if not span.is_recording() and not span.get_span_context().is_valid:
            return None
        return span

    def _inert(self) -> bool:
        """Whether the tracer is a no-op one: no provider configured."""
        if self._global:
            provider = trace.get_tracer_provider()
            return isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))
        return self._noop


def inject(span: Span, headers: MutableMapping[str, str], attempt: int) -> None:
    """Before an attempt is signed: count it on ``span``, and add ``X-Amzn-Trace-Id`` for
    ``span`` if the global propagator sets that header (the X-Ray propagator).

    Only that header is taken from the propagator: it is the one AWS reads, and
    ``baggage`` may carry the application's data, which has no business at AWS."""
    span.set_attribute(ATTEMPTS_ATTRIBUTE, attempt)
    textmap = _global_textmap()  # the global propagator may be set at any time
    if not _sets_trace_header(textmap):
        return
    carrier: dict[str, str] = {}
    textmap.inject(carrier, context=trace.set_span_in_context(span))
    for name, value in carrier.items():
        if name.lower() == _TRACE_HEADER:
            headers["X-Amzn-Trace-Id"] = value


@functools.lru_cache(maxsize=1)
def _sets_trace_header(textmap: TextMapPropagator) -> bool:
    return any(field.lower() == _TRACE_HEADER for field in textmap.fields)


def _fail(span: Span, error: BaseException) -> None:
    error_type = _error_type(error)
    span.set_attribute("error.type", error_type)
    # The type only: an AWS message may quote the request's payload.
    span.set_status(trace.StatusCode.ERROR, error_type)


class StreamSpan:
    """A streamed invoke's span: it ends when its attempts fail, or once its response's head
    has arrived, when the body ends (:meth:`end`) or the caller's block is left
    (:meth:`leave`), whichever comes first.

    Only a failure of the stream itself (a :class:`~lambdaclient.LambdaError` while reading
    it) makes it an ERROR. A block left before the body ended (a ``break``, the caller's own
    exception, a cancellation) abandoned the stream: the status stays unset, and
    :data:`ABANDONED_ATTRIBUTE` says so."""

    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span: Span | None = span

    def end(self, error: BaseException | None = None) -> None:
        """The stream ended: its body read to its end, or cut by ``error``."""
        span, self._span = self._span, None
        if span is None:
            return
        if error is not None:
            _fail(span, error)
        span.end()

    def leave(self) -> None:
        """The caller's block is left; if the body had not ended, the stream is abandoned."""
        if self._span is not None:
            self._span.set_attribute(ABANDONED_ATTRIBUTE, True)
            self.end()


@contextmanager
def operation(span: Span) -> Iterator[None]:
    """One operation's ``span`` (see :meth:`Tracing.start`), the current one within the block
    (:func:`current`) and ended when the block is left. An exception leaving the block sets
    the span's status to ERROR and its ``error.type``."""
    try:
        with current(span):
            yield
    except BaseException as error:
        _fail(span, error)
        raise
    finally:
        span.end()


@contextmanager
def current(span: Span) -> Iterator[None]:
    """``span`` as the current span within the block (where other instrumentation, of
    aiohttp say, finds its parent): only while requests are being sent, never in the
    caller's code."""
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel_context.detach(token)


@functools.cache
def _propagate() -> Callable[[], TextMapPropagator]:
    from opentelemetry import propagate

    return propagate.get_global_textmap


def _global_textmap() -> TextMapPropagator:
    """The global propagator, which may be set at any time."""
    return _propagate()()


def tracing(
    tracer_provider: object, *, service: str, region: str, endpoint_url: str
) -> Tracing | None:
    """A client's :class:`Tracing`, or None when OpenTelemetry is not installed."""
    if not _OTEL:
        if tracer_provider is not None:
            raise ValidationError(
                "tracer_provider needs OpenTelemetry: pip install 'lambdaclient[otel]'",
                field="tracer_provider",
            )
        return None
    if tracer_provider is not None and not callable(getattr(tracer_provider, "get_tracer", None)):
        raise ValidationError(
            "tracer_provider must be an opentelemetry.trace.TracerProvider",
            field="tracer_provider",
        )
    provider: Any = tracer_provider
    return Tracing(provider, service=service, region=region, endpoint_url=endpoint_url)
