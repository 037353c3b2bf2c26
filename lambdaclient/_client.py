"""LambdaClient: validates arguments, then wires protocol, signer, transport and retries."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from random import random as _uniform
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, ClassVar, Concatenate, Generic, ParamSpec, Self, TypeVar

import attrs

from . import _protocol as protocol
from . import _validate as check
from ._config import CABundle, Proxy, RetryMode, load_ca_bundle, load_profile, resolve_settings
from ._credentials import Credentials, CredentialsLoader, check_credentials, credential_provider
from ._endpoints import LAMBDA, Service, is_loopback
from ._errors import (
    ClientClosedError,
    EventLoopError,
    LambdaError,
    ResponseParseError,
    ResponseTooLargeError,
    ServiceError,
    TotalTimeoutError,
    ValidationError,
)
from ._models import (
    AliasConfiguration,
    AliasPage,
    FunctionConfiguration,
    InvocationType,
    InvokeResult,
    LogType,
    RoutingConfig,
    VersionPage,
)
from ._payload import Payload, prepare_payload
from ._retry import RetryQuota, is_retryable, retry_delay
from ._sigv4 import RepeatedRequestSigner, SigV4Signer
from ._streams import ResponseStream, StreamEnd, StreamingInvokeResponse
from ._telemetry import (
    AttemptHook,
    StreamSpan,
    Tracing,
    check_hook,
    current,
    inject,
    observe_attempt,
    operation,
    tracing,
)
from ._version import __version__
from ._waiters import (
    Progress,
    check_wait_arguments,
    function_updated_progress,
    version_active_progress,
    waiter_error,
)
from .pagination import AliasPaginator, VersionPaginator
from .transport import AiohttpTransport, ByteStream, Request, Response, Transport

if TYPE_CHECKING:
    import aiohttp
    from opentelemetry.trace import Span, TracerProvider

__all__ = ["LambdaClient"]

logger = logging.getLogger("lambdaclient")

T = TypeVar("T")
A = TypeVar("A")
R = TypeVar("R")
P = ParamSpec("P")

_USER_AGENT = f"lambdaclient/{__version__}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _positive(value: object, field: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 1e9:
        raise ValidationError(
            f"{field} must be a positive number of seconds (under 10**9)", field=field
        )
    return float(value)


def _optional_positive(value: object, field: str) -> float | None:
    return None if value is None else _positive(value, field)


def _count(value: object, field: str) -> int | None:
    """None, or an int of at least 1 (a size or a number of pages or items)."""
    if value is not None and (type(value) is not int or value < 1):
        raise ValidationError(f"{field} must be None or an int of at least 1", field=field)
    return value


@attrs.frozen(slots=True)
class _Timeouts:
    """A call's own timeouts; None leaves the client's."""

    read: float | None = None
    total: float | None = None


_NO_TIMEOUTS = _Timeouts()


def _timeouts(total_timeout: object) -> _Timeouts:
    """A call's ``total_timeout=``, checked."""
    if total_timeout is None:
        return _NO_TIMEOUTS
    return _Timeouts(total=_positive(total_timeout, "total_timeout"))


def _no_result(status: int, headers: Mapping[str, str], body: bytes) -> None:
    """The parse of an answer that carries nothing (DeleteAlias's 204)."""


def _clear_frames(error: BaseException) -> None:
    """Drop the locals of the finished frames in ``error``'s tracebacks, its causes' too."""
    seen: BaseException | None = error
    while seen is not None:
        traceback.clear_frames(seen.__traceback__)
        seen = seen.__cause__ or seen.__context__


MAX_RESPONSE_SIZE = 8 * 1024 * 1024
"""The default ``max_response_size``: 8 MiB, a third above the largest payload a
synchronous invoke returns (6 MB, 6,291,456 bytes); an alias, a page or a configuration
is a few KB."""

# An error answer is read this far, at most: AWS's code and message are a few hundred bytes.
_ERROR_BODY_LIMIT = 64 * 1024


async def _read_at_most(response: Response, limit: int) -> bytes | None:
    """The whole body, or None if it is longer than ``limit`` bytes: then the rest is left
    unread (closing the response closes the connection), and no more than ``limit`` bytes
    and one chunk were ever held.

    A body whose ``Content-Length`` is within the limit is read whole at once: the HTTP
    parser reads no further than that length, and the bytes are not copied here."""
    declared = response.headers.get("Content-Length")
    if (
        declared
        and len(declared) <= 18  # int() of thousands of digits is slow, and refused
        and declared.isascii()
        and declared.isdigit()
        and int(declared) <= limit
    ):
        return await response.read()
    chunks: list[bytes] = []
    size = 0
    iterator = aiter(response.body)
    try:
        async for chunk in iterator:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@attrs.frozen(slots=True)
class _Invocation:
    """The arguments of ``invoke``, ``invoke_stream`` and ``invoke_with_response_stream``:
    this signature is the one those methods show (see :class:`_TakesArguments`)."""

    function_name: str
    payload: Payload = attrs.field(default=None, kw_only=True)
    qualifier: str | None = attrs.field(default=None, kw_only=True)
    invocation_type: InvocationType = attrs.field(
        default=InvocationType.REQUEST_RESPONSE, kw_only=True
    )
    log_type: LogType = attrs.field(default=LogType.NONE, kw_only=True)
    client_context: Mapping[str, Any] | None = attrs.field(default=None, kw_only=True)
    read_timeout: float | None = attrs.field(default=None, kw_only=True)
    idempotent: bool = attrs.field(default=False, kw_only=True)
    total_timeout: float | None = attrs.field(default=None, kw_only=True)


class _TakesArguments(Generic[P, A]):
    """A decorator that gives a method the parameters of ``arguments`` (typed, and shown by
    ``inspect.signature``), and calls it with them gathered by ``arguments``: a signature
    written once for methods that share it."""

    def __init__(self, arguments: Callable[P, A]) -> None:
        self._arguments = arguments
        self._parameters = list(inspect.signature(arguments).parameters.values())

    def __call__(self, method: Callable[[Any, A], R]) -> Callable[Concatenate[Any, P], R]:
        arguments = self._arguments

        def call(self: Any, /, *args: Any, **kwargs: Any) -> Any:
            return method(self, arguments(*args, **kwargs))

        async def call_async(self: Any, /, *args: Any, **kwargs: Any) -> Any:
            # A coroutine function stays one to inspect.iscoroutinefunction (and to mocks).
            return await method(self, arguments(*args, **kwargs))  # type: ignore[misc]

        wrapper = functools.wraps(method)(
            call_async if inspect.iscoroutinefunction(method) else call
        )
        owner = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        returns = inspect.signature(method).return_annotation
        wrapper.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [owner, *self._parameters], return_annotation=returns
        )
        return wrapper


_invocation = _TakesArguments(_Invocation)


class _ServiceClient:
    """What every client of this package shares: the configuration (region, credentials,
    endpoint, transport, retries, timeouts, response size), signing, the retry loop and the
    error parsing. A service's client sets ``_SERVICE`` (its endpoint and signing name) and
    ``_parse_error`` (its error format) and adds its operations; the constructor's arguments
    are documented on :class:`LambdaClient`."""

    _SERVICE: ClassVar[Service]

    @staticmethod
    def _parse_error(status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
        """An error answer as its typed error, in the service's own error format."""
        raise NotImplementedError

    def __init__(
        self,
        region: str | None = None,
        *,
        credentials: Credentials | CredentialsLoader | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        max_attempts: int | None = None,
        retry_mode: RetryMode | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        total_timeout: float | None = None,
        max_response_size: int = MAX_RESPONSE_SIZE,
        use_fips: bool | None = None,
        use_dualstack: bool | None = None,
        proxy: Proxy | None = None,
        ca_bundle: CABundle | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = _uniform,
        clock: Callable[[], datetime] = _utc_now,
        tracer_provider: TracerProvider | None = None,
        on_attempt: AttemptHook | None = None,
    ) -> None:
        environ = os.environ
        # Checked at run time too: callers are not all type-checked.
        check_credentials(credentials)
        if transport is not None and session is not None:
            raise ValidationError(
                "pass session= or transport=, not both (a transport has its own session)",
                field="transport",
            )
        if transport is not None and not callable(getattr(transport, "send", None)):
            raise ValidationError(
                "transport must be a lambdaclient.transport.Transport", field="transport"
            )
        for seam, name in ((sleep, "sleep"), (jitter, "jitter"), (clock, "clock")):
            if not callable(seam):
                raise ValidationError(f"{name} must be callable", field=name)
        if type(max_response_size) is not int or max_response_size < 1:
            raise ValidationError(
                "max_response_size must be an int of at least 1 (bytes)", field="max_response_size"
            )
        self._total_timeout = _optional_positive(total_timeout, "total_timeout")
        connect_timeout = _positive(connect_timeout, "connect_timeout")
        read_timeout = _positive(read_timeout, "read_timeout")
        self._on_attempt = check_hook(on_attempt)
        # The arguments are checked before the settings are read, and all of them (the tracer
        # provider's check needs the endpoint) before the transport changes a caller's
        # session: a refused client leaves it as it was.
        settings = resolve_settings(
            region=region,
            endpoint_url=endpoint_url,
            max_attempts=max_attempts,
            retry_mode=retry_mode,
            use_fips=use_fips,
            use_dualstack=use_dualstack,
            proxy=proxy,
            ca_bundle=ca_bundle,
            own_session=session is None and transport is None,
            environ=environ,
            profile=lambda: load_profile(profile, environ),
            service=self._SERVICE,
        )
        self._region = settings.region
        self._endpoint = settings.endpoint
        # Observability (lambdaclient._telemetry): spans, and the hook called after attempts.
        self._tracing: Tracing | None = tracing(
            tracer_provider,
            service=self._SERVICE.service_id,
            region=self._region,
            endpoint_url=self._endpoint.url,
        )
        if self._endpoint.url.startswith("http://") and not is_loopback(self._endpoint.host):
            logger.warning(
                "endpoint %s is plain HTTP: requests, responses and payloads cross the network"
                " unencrypted; use https:// unless this is a test server",
                self._endpoint.url,
            )
        self._credentials = credential_provider(
            credentials, profile=profile, environ=environ, clock=clock
        )
        self._signer: SigV4Signer = RepeatedRequestSigner(
            service=self._SERVICE.signing_name, region=self._endpoint.signing_region
        )
        if transport is None:
            transport = AiohttpTransport(
                session,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                proxy=settings.proxy,
                ssl_context=load_ca_bundle(settings.ca_bundle),
            )
        self._transport = transport
        self._max_attempts = settings.max_attempts
        self._max_response_size = max_response_size
        self._in_lambda = "AWS_LAMBDA_FUNCTION_NAME" in environ
        self._quota = RetryQuota()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # set on first use
        self._sleep = sleep
        self._jitter = jitter
        self._clock = clock

    @property
    def region(self) -> str:
        """The region requests are signed for."""
        return self._region

    @property
    def endpoint_url(self) -> str:
        """The base URL requests are sent to."""
        return self._endpoint.url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client and its transport (not a session the caller passed), and stop a
        credentials refresh in flight. Idempotent."""
        self._closed = True
        await self._credentials.aclose()
        await self._transport.aclose()

    def _check_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind the client to ``loop`` on first use; after that, another loop is an error
        (aiohttp's own would be a bare RuntimeError about futures)."""
        if self._loop is not None:
            raise EventLoopError(
                "this LambdaClient is being used from another event loop than the one it was"
                " first used on; a client belongs to that loop (its connections do): create"
                " one client per event loop, e.g. one per asyncio.run()"
            )
        self._loop = loop

    async def _attempts(
        self,
        request: protocol.HttpRequest,
        timeouts: _Timeouts,
        exchange: Callable[[Request], Awaitable[T]],
        response_of: Callable[[T], Response],
        span: Span | None,
    ) -> T:
        """:meth:`_retrying`, within the call's total timeout if it has one."""
        total = self._total_timeout if timeouts.total is None else timeouts.total
        if total is None:
            return await self._retrying(request, timeouts.read, exchange, response_of, span)
        deadline = asyncio.timeout(total)
        try:
            async with deadline:
                return await self._retrying(request, timeouts.read, exchange, response_of, span)
        except TimeoutError:
            if not deadline.expired():
                raise
        raise TotalTimeoutError(
            f"{request.operation} did not complete within its total_timeout of {total:g}s",
            timeout=total,
        )

    async def _retrying(
        self,
        request: protocol.HttpRequest,
        read_timeout: float | None,
        exchange: Callable[[Request], Awaitable[T]],
        response_of: Callable[[T], Response],
        span: Span | None,
    ) -> T:
        """Run ``exchange(signed_request)`` until it returns, retrying the failures that
        are safe to retry for this request; raise the typed error of the last attempt.

        Each attempt is logged at DEBUG, noted on ``span`` and given to the ``on_attempt``
        hook (``response_of`` finds the response in a result)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._check_loop(loop)
        debug = logger.isEnabledFor(logging.DEBUG)
        hook = self._on_attempt
        recording = span is not None and span.is_recording()
        # The attempts' observer, when anything observes them: nothing is measured otherwise.
        observe = (
            functools.partial(
                observe_attempt,
                self._SERVICE.service_id,
                request.operation,
                debug=debug,
                hook=hook,
                span=span,
            )
            if debug or hook is not None or recording
            else None
        )
        started = 0.0
        endpoint = self._endpoint
        url = f"{endpoint.url}{request.path}"
        if request.query:
            url = f"{url}?{request.query}"
        retry_cost: int | None = None
        attempt = 1
        while True:
            # Checked before every attempt: the client may be closed while a retry waits.
            if self._closed:
                raise ClientClosedError("the client is closed")
            credentials = await self._credentials.get()
            headers = {"User-Agent": _USER_AGENT, **request.headers}
            if span is not None:
                inject(span, headers, attempt)
            if self._in_lambda:
                # Pass the invocation's trace id on, so Lambda can detect recursive loops. It
                # changes with every invocation, so it is read for every request. It replaces
                # a propagator's X-Amzn-Trace-Id: only the runtime's carries the Lineage that
                # loop detection counts.
                trace_id = os.environ.get("_X_AMZN_TRACE_ID")
                if trace_id:
                    headers["X-Amzn-Trace-Id"] = trace_id
            # Every attempt is signed afresh: the time and the credentials may have changed.
            headers.update(
                self._signer.sign(
                    method=request.method,
                    host=endpoint.host,
                    path=endpoint.path + request.path,
                    query=request.query,
                    headers=headers,
                    payload_sha256=request.body_sha256,
                    credentials=credentials,
                    now=self._clock(),
                )
            )
            if observe is not None:
                started = time.perf_counter()
            try:
                result = await exchange(
                    Request(request.method, url, headers, request.body, read_timeout)
                )
            except LambdaError as error:
                retryable = attempt < self._max_attempts and is_retryable(
                    error, request.idempotency
                )
                cost = self._quota.acquire(error) if retryable else None
                if observe is not None:
                    await observe(attempt, started, error, will_retry=cost is not None)
                if cost is None:
                    if retryable:
                        logger.debug("%s: retry quota exhausted, not retrying", request.operation)
                    raise
                retry_cost = cost
                delay = retry_delay(error, attempt, self._jitter)
                logger.debug("%s: retrying in %.3fs", request.operation, delay)
            else:
                if observe is not None:
                    await observe(attempt, started, response_of(result), will_retry=False)
                self._quota.release(retry_cost)
                return result
            await self._sleep(delay)
            attempt += 1

    async def _open(self, request: Request) -> Response:
        """Send one attempt; its 2xx response with the body unread, or the typed error."""
        response = await self._transport.send(request)
        if protocol.is_error(response.status):
            # An error body past its limit is not AWS's (a proxy's page): it is dropped, with
            # the connection, and the status and headers say what happened.
            async with response:
                limit = min(self._max_response_size, _ERROR_BODY_LIMIT)
                body = await _read_at_most(response, limit)
            raise self._parse_error(response.status, response.headers, body or b"")
        return response

    async def _send(
        self, request: protocol.HttpRequest, timeouts: _Timeouts, span: Span | None
    ) -> tuple[Response, bytes]:
        """Send ``request`` with retries; the 2xx response and its whole body, or the typed
        error. The body is read inside the attempt, so a read that fails is retried too."""
        limit = self._max_response_size

        async def exchange(attempt: Request) -> tuple[Response, bytes]:
            response = await self._open(attempt)
            try:
                body = await _read_at_most(response, limit)
            finally:
                await response.aclose()  # a body read to its end has released it already
            if body is None:
                declared = response.headers.get("Content-Length")
                raise ResponseTooLargeError(
                    f"the {request.operation} response is larger than max_response_size"
                    f" ({limit:,} bytes)" + (f"; Content-Length: {declared}" if declared else ""),
                    status=response.status,
                    request_id=protocol.request_id(response.headers),
                    operation=request.operation,
                    limit=limit,
                )
            return response, body

        return await self._attempts(request, timeouts, exchange, lambda result: result[0], span)

    async def _call(
        self,
        request: protocol.HttpRequest,
        parse: Callable[[int, Mapping[str, str], bytes], T],
        timeouts: _Timeouts = _NO_TIMEOUTS,
        *,
        function_name: str | None = None,
    ) -> T:
        """Send ``request`` (see :meth:`_send`) and parse its response with ``parse``: one
        operation, and its span (``function_name`` is an invoke's)."""
        tracing = self._tracing
        span = None if tracing is None else tracing.start(request.operation, function_name)
        if span is None:  # no tracing work at all, the common case
            return await self._parsed(request, parse, timeouts, None)
        with operation(span):
            return await self._parsed(request, parse, timeouts, span)

    async def _parsed(
        self,
        request: protocol.HttpRequest,
        parse: Callable[[int, Mapping[str, str], bytes], T],
        timeouts: _Timeouts,
        span: Span | None,
    ) -> T:
        response, body = await self._send(request, timeouts, span)
        try:
            return parse(response.status, response.headers, body)
        except ResponseParseError as error:
            # A caller may keep the error; its traceback's frames (the parsers' locals, and
            # this one's) would keep the whole body alive with it. Only its excerpt stays.
            del response, body
            _clear_frames(error)
            raise

    @asynccontextmanager
    async def _stream(
        self, request: protocol.HttpRequest, timeouts: _Timeouts, name: str
    ) -> AsyncIterator[tuple[Response, StreamEnd | None]]:
        """Send ``request`` with retries until a 2xx response's head arrives; give it with
        its body unread, and what to tell when the body ends, and release the connection
        when the block is left. The span, if any (``name`` is the invoked function's), ends
        when the body ends or the block is left, whichever comes first (:class:`StreamSpan`):
        the caller's code in the block is not the operation's."""
        tracing = self._tracing
        span = None if tracing is None else tracing.start(request.operation, name)
        stream = None
        if span is None:  # no tracing work at all, the common case
            response = await self._attempts(request, timeouts, self._open, lambda r: r, None)
        else:
            stream = StreamSpan(span)
            try:
                with current(span):
                    response = await self._attempts(
                        request, timeouts, self._open, lambda r: r, span
                    )
            except BaseException as error:
                stream.end(error)
                raise
        try:
            yield response, None if stream is None else stream.end
        finally:
            try:
                await response.aclose()
            finally:
                if stream is not None:
                    stream.leave()


class LambdaClient(_ServiceClient):
    """An async client for Lambda's aliases, and for invoking functions through them.

    Use it as an async context manager, or call :meth:`close` when done::

        async with LambdaClient(region="us-east-1") as client:
            alias = await client.get_alias("my-fn", "live")

    Region: ``region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile's.
    Credentials: ``credentials`` (a :class:`Credentials`, or your own
    :class:`CredentialsLoader`, refreshed as the chain is), else the environment (unless
    ``profile`` is given), else botocore's chain (profiles, SSO, assume-role, web identity,
    container, IMDS), loaded off the event loop and refreshed before they expire.
    Endpoint: ``endpoint_url``, else ``AWS_ENDPOINT_URL_LAMBDA``, else ``AWS_ENDPOINT_URL``,
    else Lambda's regional endpoint (FIPS and dual-stack on request).
    ``transport`` is what requests are sent through (see :mod:`lambdaclient.transport`;
    ``lambdaclient.testing.MockTransport`` in tests), and the client closes it, as httpx's
    clients close theirs. Without it, the client sends through an
    :class:`~lambdaclient.transport.AiohttpTransport` over ``session``, an
    ``aiohttp.ClientSession`` that the caller owns and closes (the way to share one pool of
    connections), or over a session of its own. ``connect_timeout`` bounds connecting and
    ``read_timeout`` each wait for data, on that default transport (a transport passed in
    has its own). ``max_attempts`` counts the first attempt. ``total_timeout`` (seconds,
    None for none) bounds a whole call: every attempt, the waits between them and reading
    the response; past it the call raises :class:`TotalTimeoutError` (each method also
    takes ``total_timeout=`` for itself). ``max_response_size`` (bytes, default 8 MiB) is
    the most a response read whole may hold (an invoke's payload, an alias, a page): past
    it, :class:`ResponseTooLargeError`; the streamed invokes are not bounded.

    ``sleep`` (how the client waits between retries), ``jitter`` (a uniform draw in
    [0, 1) that spreads the retry backoff) and ``clock`` (the aware UTC time requests are
    signed with and credentials' expiry is judged by) default to ``asyncio.sleep``,
    ``random.random`` and the system clock; tests replace them to retry at once, back off
    predictably, or sign and expire credentials at a time of their choosing.

    Settings as botocore resolves them: the argument, else the environment, else the
    profile in the shared config file, else the default (None means "look further"):
    ``max_attempts`` (``AWS_MAX_ATTEMPTS``, ``max_attempts``; 3), ``retry_mode``
    (``AWS_RETRY_MODE``, ``retry_mode``; ``"standard"``, what the client does; ``"legacy"``
    is treated as standard, with an INFO note once per process; ``"adaptive"``, botocore's
    client-side rate limiting, is not implemented and is refused), ``use_fips`` and
    ``use_dualstack`` (``AWS_USE_FIPS_ENDPOINT``, ``use_fips_endpoint``, and the dual-stack
    pair: ``"true"`` or ``"false"`` in any case; from the environment or the profile, dropped
    when an endpoint URL is configured, as botocore drops them). On the client's own session
    only (not a caller's ``session`` or ``transport``, whose own settings stand; passing
    either with one is an error): ``proxy``, a URL (its password never logged or shown), or
    False for none, else ``HTTPS_PROXY``/``HTTP_PROXY`` by the endpoint's scheme unless
    ``NO_PROXY`` names its host (botocore's rules: no exception for loopback addresses);
    ``ca_bundle``, a PEM file's path or an ``ssl.SSLContext`` (one that verifies), else
    ``AWS_CA_BUNDLE``, the profile's ``ca_bundle``, then ``REQUESTS_CA_BUNDLE``: the
    certificates trusted for the endpoint (the system's by default).

    Observability: each operation is one OpenTelemetry CLIENT span (``Lambda.Invoke``,
    ``Lambda.UpdateAlias``...) when ``opentelemetry-api`` is installed (the ``otel``
    extra), made by ``tracer_provider``'s tracer, else the global provider's; see the
    README's Observability section for its attributes. ``on_attempt``, a function (sync or
    async) of an :class:`Attempt`, is called after every attempt; one that raises is logged
    at WARNING and ignored. Each attempt is also a DEBUG line on the ``lambdaclient`` logger.

    Raises :class:`ValidationError` at construction for a missing or malformed region or
    endpoint, or a bad setting: :class:`ConfigurationError` names the setting and where its
    value came from (the argument, which environment variable, which profile in which file).
    Nothing is sent then.
    """

    _SERVICE = LAMBDA
    _parse_error = staticmethod(protocol.parse_error)

    async def create_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str,
        description: str | None = None,
        routing_config: RoutingConfig | None = None,
        total_timeout: float | None = None,
    ) -> AliasConfiguration:
        """Create alias ``name`` of a function, pointing at ``function_version``.

        ``routing_config`` sends a share of the traffic to one more version.
        Raises :class:`ResourceConflictError` if the alias exists.

        Example::

            await client.create_alias("my-fn", "live", function_version="1",
                                      routing_config=RoutingConfig({"2": 0.05}))
        """
        function_version = check.check_function_version(function_version)
        request = protocol.build_create_alias(
            check.check_function_name(function_name),
            check.check_alias_name(name),
            function_version=function_version,
            description=None if description is None else check.check_description(description),
            routing_config=None
            if routing_config is None
            else check.check_routing_config(routing_config, function_version),
        )
        return await self._call(request, protocol.parse_alias, _timeouts(total_timeout))

    async def get_alias(
        self, function_name: str, name: str, *, total_timeout: float | None = None
    ) -> AliasConfiguration:
        """The alias ``name`` of a function. Raises :class:`ResourceNotFoundError` if absent."""
        request = protocol.build_get_alias(
            check.check_function_name(function_name), check.check_alias_name(name)
        )
        return await self._call(request, protocol.parse_alias, _timeouts(total_timeout))

    async def update_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
        routing_config: RoutingConfig | None = None,
        revision_id: str | None = None,
        total_timeout: float | None = None,
    ) -> AliasConfiguration:
        """Change an alias. An argument left out (None) is not sent and stays as it is.

        ``routing_config=RoutingConfig({})`` clears the weights. With ``revision_id`` the
        update happens only if the alias still has that revision, else
        :class:`PreconditionFailedError`.

        Example::

            alias = await client.get_alias("my-fn", "live")
            await client.update_alias("my-fn", "live", routing_config=RoutingConfig({"2": 0.2}),
                                      revision_id=alias.revision_id)
        """
        if function_version is not None:
            function_version = check.check_function_version(function_version)
        request = protocol.build_update_alias(
            check.check_function_name(function_name),
            check.check_alias_name(name),
            function_version=function_version,
            description=None if description is None else check.check_description(description),
            routing_config=None
            if routing_config is None
            else check.check_routing_config(routing_config, function_version),
            revision_id=check.check_optional_str(revision_id, "revision_id"),
        )
        return await self._call(request, protocol.parse_alias, _timeouts(total_timeout))

    async def delete_alias(
        self, function_name: str, name: str, *, total_timeout: float | None = None
    ) -> None:
        """Delete an alias."""
        request = protocol.build_delete_alias(
            check.check_function_name(function_name), check.check_alias_name(name)
        )
        await self._call(request, _no_result, _timeouts(total_timeout))

    def list_aliases(
        self,
        function_name: str,
        *,
        function_version: str | None = None,
        page_size: int | None = None,
        marker: str | None = None,
        max_items: int | None = None,
        max_pages: int | None = None,
        total_timeout: float | None = None,
    ) -> AliasPaginator:
        """Every alias of a function (only those pointing at ``function_version`` if given).

        Returns an async iterator of :class:`AliasConfiguration` that fetches pages of up to
        ``page_size`` aliases as it goes; ``.pages()`` yields each :class:`AliasPage`.
        Arguments are checked here, before anything is sent.

        Example::

            names = [alias.name async for alias in client.list_aliases("my-fn")]
        """
        function_name = check.check_function_name(function_name)
        if function_version is not None:
            function_version = check.check_function_version(function_version)
        size = check.check_page_size(page_size)
        timeouts = _timeouts(total_timeout)

        async def fetch(page_marker: str | None) -> AliasPage:
            request = protocol.build_list_aliases(
                function_name,
                function_version=function_version,
                marker=page_marker,
                page_size=size,
            )
            return await self._call(request, protocol.parse_alias_page, timeouts)

        return AliasPaginator(
            fetch,
            lambda page: page.aliases,
            lambda page: page.next_marker,
            check.check_optional_str(marker, "marker"),
            max_items=_count(max_items, "max_items"),
            max_pages=_count(max_pages, "max_pages"),
        )

    async def publish_version(
        self,
        function_name: str,
        *,
        description: str | None = None,
        code_sha256: str | None = None,
        revision_id: str | None = None,
        total_timeout: float | None = None,
    ) -> FunctionConfiguration:
        """Publish the function's ``$LATEST`` code and configuration as a new version.

        ``code_sha256`` and ``revision_id`` make it conditional on ``$LATEST`` being what you
        read (else :class:`InvalidParameterValueError` or :class:`PreconditionFailedError`).
        Lambda publishes nothing new when nothing changed since the last version; it then
        returns that version.

        Example::

            version = await client.publish_version("my-fn", description="release 42")
            print(version.version)
        """
        request = protocol.build_publish_version(
            check.check_function_name(function_name),
            description=None if description is None else check.check_description(description),
            code_sha256=check.check_optional_str(code_sha256, "code_sha256"),
            revision_id=check.check_optional_str(revision_id, "revision_id"),
        )
        return await self._call(
            request, protocol.parse_function_configuration, _timeouts(total_timeout)
        )

    def list_versions_by_function(
        self,
        function_name: str,
        *,
        page_size: int | None = None,
        marker: str | None = None,
        max_items: int | None = None,
        max_pages: int | None = None,
        total_timeout: float | None = None,
    ) -> VersionPaginator:
        """Every version of a function, ``$LATEST`` first, as an async iterator of
        :class:`FunctionConfiguration`; ``.pages()`` yields each :class:`VersionPage`.
        Lambda sends at most 50 versions a page whatever ``page_size`` asks for.

        Example::

            published = [v.version async for v in client.list_versions_by_function("my-fn")]
        """
        function_name = check.check_function_name(function_name, namespaced=True)
        size = check.check_page_size(page_size)
        timeouts = _timeouts(total_timeout)

        async def fetch(page_marker: str | None) -> VersionPage:
            request = protocol.build_list_versions_by_function(
                function_name, marker=page_marker, page_size=size
            )
            return await self._call(request, protocol.parse_version_page, timeouts)

        return VersionPaginator(
            fetch,
            lambda page: page.versions,
            lambda page: page.next_marker,
            check.check_optional_str(marker, "marker"),
            max_items=_count(max_items, "max_items"),
            max_pages=_count(max_pages, "max_pages"),
        )

    async def get_function_configuration(
        self,
        function_name: str,
        *,
        qualifier: str | None = None,
        total_timeout: float | None = None,
    ) -> FunctionConfiguration:
        """A version's configuration: ``qualifier`` is a version, an alias (its primary
        version) or None for ``$LATEST``."""
        request = protocol.build_get_function_configuration(
            check.check_function_name(function_name, namespaced=True),
            qualifier=check.check_qualifier(qualifier),
        )
        return await self._call(
            request, protocol.parse_function_configuration, _timeouts(total_timeout)
        )

    async def wait_for_version_active(
        self,
        function_name: str,
        version: str,
        *,
        delay: float = 5.0,
        timeout: float = 300.0,  # noqa: ASYNC109 (a budget of sleeps, not a deadline)
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> FunctionConfiguration:
        """Wait until ``version`` of a function can take traffic, and return its configuration.

        A published version may be ``Pending`` for a while (invoking it then answers 409
        :class:`ResourceConflictError`). This reads the configuration every ``delay`` seconds
        until ``State`` is ``Active`` and ``LastUpdateStatus`` is not ``InProgress``; other
        states (``Pending``, ``Inactive``) are waited out, as botocore's
        ``published_version_active`` waiter does. ``version`` may also be an alias (its
        primary version) or ``$LATEST``.

        Raises :class:`WaiterError` if ``State`` is ``Failed`` (with its ``state_reason`` and
        ``state_reason_code``) or when ``timeout`` runs out (with the last state seen). An
        error from a read (:class:`ResourceNotFoundError` for a version that does not exist)
        is raised as it is, after the client's usual retries.

        ``timeout`` counts the seconds slept between reads, as botocore counts attempts
        times delay, not the time the reads take: the wait reads at once, then after each
        ``delay`` (the last one shortened to end at ``timeout``), so ``timeout=0`` reads once.
        ``sleep`` (default ``asyncio.sleep``) is how it pauses; tests pass one that does not
        really wait. The wait can be cancelled at any point.

        Example::

            version = (await client.publish_version("my-fn")).version
            assert version is not None
            await client.wait_for_version_active("my-fn", version, timeout=600)
        """
        if version is None:
            raise ValidationError("version is required", field="version")
        return await self._wait(
            function_name,
            check.check_qualifier(version, "version"),
            progress=version_active_progress,
            awaited="State Active",
            delay=delay,
            timeout=timeout,
            sleep=sleep,
        )

    async def wait_for_function_updated(
        self,
        function_name: str,
        *,
        qualifier: str | None = None,
        delay: float = 5.0,
        timeout: float = 300.0,  # noqa: ASYNC109 (a budget of sleeps, not a deadline)
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> FunctionConfiguration:
        """Wait until the last update of a function (``$LATEST``, or ``qualifier``) is done,
        and return its configuration.

        Reads the configuration every ``delay`` seconds until ``LastUpdateStatus`` is
        ``Successful``, as botocore's ``function_updated`` waiters do. Raises
        :class:`WaiterError` if it is ``Failed`` (with ``last_update_status_reason`` and
        ``last_update_status_reason_code``) or when ``timeout`` runs out. ``delay``,
        ``timeout``, ``sleep``, errors and cancellation behave as in
        :meth:`wait_for_version_active`.

        Example::

            await client.wait_for_function_updated("my-fn", timeout=600)
        """
        return await self._wait(
            function_name,
            check.check_qualifier(qualifier),
            progress=function_updated_progress,
            awaited="LastUpdateStatus Successful",
            delay=delay,
            timeout=timeout,
            sleep=sleep,
        )

    async def _wait(
        self,
        function_name: str,
        qualifier: str | None,
        *,
        progress: Callable[[FunctionConfiguration], Progress],
        awaited: str,
        delay: float,
        timeout: float,  # noqa: ASYNC109 (a budget of sleeps, not a deadline)
        sleep: Callable[[float], Awaitable[None]] | None,
    ) -> FunctionConfiguration:
        """Read the configuration until ``progress`` says it is done or failed, or the
        delays slept add up to ``timeout``."""
        function_name = check.check_function_name(function_name, namespaced=True)
        delay, timeout = check_wait_arguments(delay, timeout)
        if sleep is not None and not callable(sleep):
            raise ValidationError("sleep must be an async function of seconds", field="sleep")
        pause_for = asyncio.sleep if sleep is None else sleep
        waited = 0.0
        while True:
            configuration = await self.get_function_configuration(
                function_name, qualifier=qualifier
            )
            outcome = progress(configuration)
            if outcome is Progress.DONE:
                return configuration
            # A float sum of delays may fall a hair short of the timeout: no sliver of a sleep.
            if outcome is Progress.FAILED or waited > timeout - 1e-9:
                raise waiter_error(
                    configuration,
                    function_name=function_name,
                    qualifier=qualifier,
                    awaited=awaited,
                    waited=waited,
                    timed_out=outcome is Progress.WAITING,
                )
            pause = min(delay, timeout - waited)
            await pause_for(pause)
            waited = min(waited + pause, timeout)

    async def _invoke_request(
        self, call: _Invocation, *, response_stream: bool
    ) -> tuple[protocol.HttpRequest, IO[bytes] | None]:
        """Validate an invocation's arguments and prepare its request, and the spool made
        for its payload (the caller closes it once the call is over): nothing is sent."""
        function_name = check.check_function_name(call.function_name, namespaced=True)
        qualifier = check.check_qualifier(call.qualifier)
        invocation_type = check.check_enum(call.invocation_type, InvocationType, "invocation_type")
        if response_stream and invocation_type is InvocationType.EVENT:
            raise ValidationError(
                "invoke_with_response_stream takes REQUEST_RESPONSE or DRY_RUN, not EVENT",
                field="invocation_type",
            )
        log_type = check.check_enum(call.log_type, LogType, "log_type")
        context = check.encode_client_context(call.client_context)
        _optional_positive(call.read_timeout, "read_timeout")
        _optional_positive(call.total_timeout, "total_timeout")
        if not isinstance(call.idempotent, bool):
            raise ValidationError("idempotent must be a bool", field="idempotent")
        body, body_sha256, spool = await prepare_payload(call.payload)
        request = protocol.build_invoke(
            function_name,
            body=body,
            body_sha256=body_sha256,
            qualifier=qualifier,
            invocation_type=invocation_type,
            log_type=log_type,
            client_context=context,
            idempotent=call.idempotent,
            response_stream=response_stream,
        )
        return request, spool

    @asynccontextmanager
    async def _invoke_streamed(
        self, call: _Invocation, *, response_stream: bool
    ) -> AsyncIterator[tuple[protocol.InvokeHead, ByteStream, StreamEnd | None]]:
        """Invoke, and give the response's head, its unread body and what to tell when the
        body ends (see :meth:`_stream`) until the block is left."""
        request, spool = await self._invoke_request(call, response_stream=response_stream)
        try:
            timeouts = _Timeouts(call.read_timeout, call.total_timeout)
            async with self._stream(request, timeouts, call.function_name) as (response, end):
                head = protocol.parse_invoke_head(response.status, response.headers)
                yield head, response.body, end
        finally:
            if spool is not None:
                spool.close()

    @_invocation
    async def invoke(self, call: _Invocation) -> InvokeResult:
        """Invoke a function (through an alias or version with ``qualifier``) and read its
        whole response.

        ``payload``: bytes, str (UTF-8), a JSON-serialisable value, a binary file (sent in
        chunks), an async iterable of bytes, or None. A function error still returns a result
        (check ``function_error`` or call ``raise_for_function_error()``).

        Retries: only what cannot have run the function, a 429 (after its ``Retry-After``)
        or a connection that could not be made. A 5xx or a read timeout is raised, never
        retried, unless ``idempotent=True`` says running the function twice is harmless.
        ``read_timeout`` overrides the client's for this call (functions run up to 15 min).

        Example::

            result = await client.invoke("my-fn", payload={"order": 42}, qualifier="live")
            result.raise_for_function_error()
            print(result.executed_version, result.json())
        """
        request, spool = await self._invoke_request(call, response_stream=False)
        try:
            timeouts = _Timeouts(call.read_timeout, call.total_timeout)
            return await self._call(
                request, protocol.parse_invoke, timeouts, function_name=call.function_name
            )
        finally:
            if spool is not None:
                spool.close()

    @_invocation
    @asynccontextmanager
    async def invoke_stream(self, call: _Invocation) -> AsyncIterator[StreamingInvokeResponse]:
        """Invoke a function like :meth:`invoke`, but give the response as soon as its headers
        arrive and stream its payload, never holding it whole.

        Leaving the ``async with`` block, however it is left, releases the connection.

        Example::

            async with client.invoke_stream("my-fn", payload=b"...", qualifier="live") as response:
                print(response.executed_version)
                async for chunk in response.iter_chunks():
                    sink.write(chunk)
        """
        async with self._invoke_streamed(call, response_stream=False) as (head, body, end):
            yield StreamingInvokeResponse(head, body, on_end=end)

    @_invocation
    @asynccontextmanager
    async def invoke_with_response_stream(self, call: _Invocation) -> AsyncIterator[ResponseStream]:
        """Invoke a response-streaming function: iterate the result for the bytes of each
        chunk the function streams; then ``.complete`` says how it ended.

        ``invocation_type`` is ``REQUEST_RESPONSE`` or ``DRY_RUN``. Retries as :meth:`invoke`.
        A stream that ends without its ``InvokeComplete`` raises
        :class:`IncompleteStreamError`; leaving the block early releases the connection.

        Example::

            async with client.invoke_with_response_stream("my-fn", qualifier="live") as stream:
                async for chunk in stream:
                    sink.write(chunk)
            if stream.complete and stream.complete.error_code:
                ...
        """
        async with self._invoke_streamed(call, response_stream=True) as (head, body, end):
            yield ResponseStream(head, body, on_end=end)
