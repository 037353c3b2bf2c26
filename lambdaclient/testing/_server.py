"""LocalLambda: an aiohttp server on 127.0.0.1 speaking Lambda's wire protocol for aliases,
versions and invoke, with weighted aliases honoured, signatures checked and faults on demand."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import math
import random
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web

from .._credentials import Credentials
from .._eventstream import invoke_complete_event, payload_chunk_event
from . import _runtime as runtime
from ._cloudwatch import ALARM_STATES, CloudWatchState, cloudwatch_error_body, operation_of
from ._signature import check_signature
from ._state import (
    CREATING,
    ROLE_PATTERN,
    SETTABLE_STATES,
    Alias,
    Function,
    LambdaFault,
    LambdaState,
    Version,
    alias_problems,
    check,
    check_runtime,
    code_sha256,
    description_problems,
    function_name_problems,
    invalid,
    problem,
    qualifier_problems,
    string_problems,
)
from ._zip import BadPackage, Package, WorkerPool, WorkerSpec

__all__ = ["Delay", "DropConnection", "Fault", "LocalLambda", "ServerError", "Throttle"]

DEFAULT_CREDENTIALS = Credentials("AKIDLOCALLAMBDA00000", "local-lambda-secret-access-key")
DEFAULT_ROLE = "arn:aws:iam::123456789012:role/local-lambda-role"
logger = logging.getLogger(__name__)
# RequestEntityTooLargeException as quoted from AWS ({"Message": "... byte payload is too
# large for the RequestResponse invocation type (limit 6291456 bytes)"}).
_CAPITALISED_MESSAGE = frozenset(
    {"RequestEntityTooLargeException", "ResourceNotFoundException", "ServiceException"}
)
_PAGE_SIZE = 50  # Lambda returns at most 50 versions a page; aliases are treated alike
# AWS's limits on request bodies: 6 MiB for a synchronous invocation (API_Invoke), 1 MiB for
# an Event's payload (API_Invoke, since 2025), and CreateFunction's recorded one
# (test_oversized_request_create_lambda). Other operations get LocalLambda's own cap.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
EVENT_PAYLOAD_LIMIT = 1024 * 1024
_MAX_REQUEST_BYTES = 8 * 1024 * 1024
_REQUEST_LIMITS = {
    "Invoke": SYNC_PAYLOAD_LIMIT,
    "InvokeWithResponseStream": SYNC_PAYLOAD_LIMIT,
    "CreateFunction": 70_167_211,
}
_OPERATION_NAMES = {"Invoke": "InvokeFunction"}
_CLOUDWATCH = "CloudWatch"  # the route of every CloudWatch operation


@attrs.frozen
class Throttle:
    """Answer 429 TooManyRequestsException with ``Retry-After`` (whole seconds, as AWS)."""

    retry_after: int = 1
    reason: str = "CallerRateLimitExceeded"


@attrs.frozen
class ServerError:
    """Answer ``status`` with error ``code``; with ``after_execution`` an invocation first
    runs the function, the case in which retrying would run it twice."""

    status: int = 500
    code: str = "ServiceException"
    after_execution: bool = False


@attrs.frozen
class Delay:
    """Wait ``seconds`` before handling the request normally."""

    seconds: float


@attrs.frozen
class DropConnection:
    """Close the connection without a response; with ``after_execution`` an invocation first
    runs the function."""

    after_execution: bool = False


Fault = Throttle | ServerError | Delay | DropConnection


# A fault that acts once the function has run, kept with the request until then.
_AFTER_EXECUTION = web.RequestKey[ServerError | DropConnection | None]("after_execution")


class _ClientGone(Exception):
    """The client of a response stream went away: not the function's failure."""


class _Dropped(Exception):
    """Raised to abandon a request whose connection was closed on purpose."""


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers=headers,
    )


def _error_response(fault: LambdaFault) -> web.Response:
    # AWS's own casing differs by error (lambda-wire.md §4); clients must read both.
    key = "Message" if fault.code in _CAPITALISED_MESSAGE else "message"
    error: dict[str, str] = {key: fault.message}
    if fault.typed:
        error["Type"] = "User" if fault.status < 500 else "Service"
    return _json(
        {**error, **fault.fields}, fault.status, {"x-amzn-ErrorType": fault.code, **fault.headers}
    )


def _cloudwatch_error(fault: LambdaFault) -> web.Response:
    body, headers = cloudwatch_error_body(fault)
    return web.Response(
        status=fault.status,
        body=json.dumps(body).encode(),
        content_type="application/x-amz-json-1.0",
        headers=headers,
    )


def _too_large(operation: str | None, limit: int) -> LambdaFault:
    # AWS names Invoke "InvokeFunction" here ("Request must be smaller than 6291456 bytes for
    # the InvokeFunction operation"); other operations by their own names (test_oversized_
    # request_create_lambda).
    name = _OPERATION_NAMES.get(operation or "", operation or "unknown")
    return LambdaFault(
        "RequestEntityTooLargeException",
        413,
        f"Request must be smaller than {limit} bytes for the {name} operation",
        typed=False,
    )


def _check_size(
    operation: str | None, limit: int, headers: Mapping[str, str], size: int | None
) -> None:
    """Refuse a request body over the operation's limit, or an Event payload over AWS's
    asynchronous limit, as AWS's front end does: before authentication."""
    if size is None:
        return
    if size > limit:
        raise _too_large(operation, limit)
    if (
        operation == "Invoke"
        and headers.get("X-Amz-Invocation-Type") == "Event"
        and size > EVENT_PAYLOAD_LIMIT
    ):
        raise LambdaFault(
            "RequestEntityTooLargeException",
            413,
            f"{size} byte payload is too large for the Event invocation type"
            f" (limit {EVENT_PAYLOAD_LIMIT} bytes)",
            typed=False,
        )


def _throttled(throttle: Throttle) -> LambdaFault:
    return LambdaFault(
        "TooManyRequestsException",
        429,
        "Rate Exceeded.",  # AWS's words (test_lambda_concurrency_block)
        fields={"Reason": throttle.reason},
        headers={"Retry-After": str(throttle.retry_after)},
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_seconds(name: str, value: object, *, allow_zero: bool) -> None:
    # Checked at run time: callers are not all type-checked.
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        bound = "0 or more" if allow_zero else "more than 0"
        raise ValueError(f"{name} must be a finite number of seconds, {bound}; got {value!r}")


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep to parse
        raise LambdaFault(
            "InvalidRequestContentException", 400, f"Could not parse request body into json: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise LambdaFault("InvalidRequestContentException", 400, "Request body must be an object")
    return data


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise invalid(f"{key} must be a string")


def _weights(data: Mapping[str, Any]) -> dict[str, float] | None:
    routing = data.get("RoutingConfig")
    if routing is None:
        return None
    weights = routing.get("AdditionalVersionWeights", {}) if isinstance(routing, dict) else None
    if not isinstance(weights, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in weights.values()
    ):
        raise invalid("RoutingConfig.AdditionalVersionWeights must map versions to numbers")
    return {str(k): _float(v) for k, v in weights.items()}


def _float(number: float) -> float:
    # An integer too large for a float is still a weight out of range, reported as such.
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _enum_problem(value: str, field: str, allowed: Sequence[str]) -> str:
    return problem(value, field, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def _max_items_problems(max_items: str | None) -> list[str]:
    """MaxItems outside the model's 1..10000, a constraint checked before any lookup."""
    try:
        asked = int(max_items) if max_items is not None else _PAGE_SIZE
    except ValueError:
        return []  # not a number: refused when the page is cut
    if 1 <= asked <= 10_000:
        return []
    bound = "greater than or equal to 1" if asked < 1 else "less than or equal to 10000"
    return [problem(asked, "maxItems", f"Member must have value {bound}")]


def _page(
    items: list[Any], marker: str | None, max_items: str | None
) -> tuple[list[Any], str | None]:
    check(_max_items_problems(max_items))
    try:
        start = int(base64.urlsafe_b64decode(marker.encode()).decode()) if marker else 0
        asked = int(max_items) if max_items is not None else _PAGE_SIZE
    except (ValueError, binascii.Error) as exc:
        raise invalid("Invalid Marker or MaxItems") from exc
    if start < 0:
        raise invalid("Invalid Marker")
    end = start + min(asked, _PAGE_SIZE)
    next_marker = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], next_marker


def _missing(*members: tuple[str, object]) -> list[str]:
    """Required members that were not given, in the model's words."""
    return [
        f"Value null at '{field}' failed to satisfy constraint: Member must not be null"
        for field, value in members
        if value is None
    ]


@attrs.frozen
class _Settings:
    """The configuration members of CreateFunction and UpdateFunctionConfiguration, and what
    breaks the model's constraints in them."""

    runtime: str | None
    handler: str | None
    description: str | None
    timeout: int | None
    memory_size: int | None
    environment: dict[str, str] | None
    dead_letter_target_arn: str | None
    problems: list[str]


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise invalid(f"{key} must be an integer")


def _function_settings(data: Mapping[str, Any]) -> _Settings:
    handler = _optional_str(data, "Handler")
    description = _optional_str(data, "Description")
    timeout = _optional_int(data, "Timeout")
    memory_size = _optional_int(data, "MemorySize")
    environment = data.get("Environment")
    variables = environment.get("Variables", {}) if isinstance(environment, dict) else None
    if environment is not None and not (
        isinstance(variables, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in variables.items())
    ):
        raise invalid("Environment.Variables must map names to strings")
    if variables:
        # AWS measures the variables as compact JSON (test_large_environment_variables_fails).
        measured = json.dumps(variables, separators=(",", ":"))
        if len(measured.encode()) > 4096:
            raise invalid(
                "Lambda was unable to configure your environment variables because the"
                " environment variables you have provided exceeded the 4KB limit. String"
                f" measured: {measured}"
            )
    dead_letter = data.get("DeadLetterConfig")
    target = dead_letter.get("TargetArn") if isinstance(dead_letter, dict) else None
    if dead_letter is not None and not isinstance(target, str | None):
        raise invalid("DeadLetterConfig.TargetArn must be a string")
    problems = [
        *string_problems(handler, "handler", 128, r"[^\s]+", min_length=0),
        *description_problems(description),
    ]
    if timeout is not None and timeout < 1:
        problems.append(
            problem(timeout, "timeout", "Member must have value greater than or equal to 1")
        )
    if memory_size is not None and not 128 <= memory_size <= 32768:
        bound = (
            "greater than or equal to 128" if memory_size < 128 else "less than or equal to 32768"
        )
        problems.append(problem(memory_size, "memorySize", f"Member must have value {bound}"))
    return _Settings(
        _optional_str(data, "Runtime"),
        handler,
        description,
        timeout,
        memory_size,
        None if variables is None else dict(variables),
        target or None,
        problems,
    )


def _package(code: object) -> Package:
    """The zip in a request's ``Code`` (CreateFunction) or body (UpdateFunctionCode)."""
    if not isinstance(code, dict) or not isinstance(code.get("ZipFile"), str):
        raise invalid("LocalLambda takes a function's code as ZipFile only (no S3 or image)")
    try:
        return Package.from_zip(base64.b64decode(code["ZipFile"], validate=True))
    except (BadPackage, binascii.Error) as exc:
        message = str(exc) if isinstance(exc, BadPackage) else str(BadPackage.not_a_zip())
        raise invalid(message) from exc


class LocalLambda:
    """A local Lambda for tests and demos, honouring weighted aliases.

    It speaks Lambda's wire protocol on 127.0.0.1 for CreateAlias, GetAlias, UpdateAlias,
    DeleteAlias, ListAliases, Invoke, InvokeWithResponseStream, PublishVersion,
    ListVersionsByFunction, GetFunctionConfiguration, and for managing functions:
    CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, GetFunction,
    DeleteFunction and ListFunctions, so lambdaclient, boto3, the AWS CLI and other SDKs can
    all use it. Every request must be signed with :attr:`credentials`, or with credentials
    given to :meth:`add_credentials` (checked by botocore's signer). It answers as AWS's
    recorded responses do: ``lambdaclient/testing/README.md`` lists each behaviour with its
    source, and the differences that remain.

    Example::

        async with LocalLambda() as lam:
            lam.add_function("greet", lambda event, context: {"hello": event["name"]})
            async with LambdaClient(lam.region, endpoint_url=lam.endpoint_url,
                                    credentials=lam.credentials) as client:
                result = await client.invoke("greet", payload={"name": "ada"})

    Handlers are ``(event, context) -> JSON-able``, sync or async, or async generators of
    bytes/str for response streaming. They run in the server's process: a sync handler on a
    thread of its own, so it never blocks the server, an async one on the server's loop. The
    function's ``timeout`` holds for both (an async handler is cancelled, a sync one abandoned
    to its thread), answered as AWS does (``Sandbox.Timedout``); ``sys.exit()``,
    ``SystemExit`` and ``KeyboardInterrupt`` in a handler answer ``Runtime.ExitError`` and
    never reach the server. A function created over the wire from a zip (CreateFunction) runs
    in worker processes instead, one per concurrent invocation of a version, started on its
    first invocation, reused, and replaced after a crash or a timeout; it runs on the Python
    that runs LocalLambda, whatever Python runtime the function names. A worker's init phase
    (loading the handler's module) has its own 10-second limit, as on AWS; the function's
    ``timeout`` covers each invocation only. ``seed`` makes weighted routing repeatable.

    ``max_concurrency`` (default 64) caps each function's invocations running at once where
    each costs a process or a background task: past it a synchronous invocation of a zip
    function answers 429 ``TooManyRequestsException`` (``Reason``
    ``ConcurrentInvocationLimitExceeded``), and an Event invocation of any function waits for
    a free slot. AWS allows 1,000 per account; LocalLambda runs on one machine, where each
    running invocation of a zip function is a process of its own. Synchronous invocations
    of a handler registered from Python run in this process and are not capped.

    ``shutdown_grace`` (seconds, default 1) is how long :meth:`stop` lets running Event
    invocations finish before it cancels them; it refuses new connections at once.

    ``version_activation_delay`` (seconds, default 0) keeps each newly published version
    ``Pending`` that long before it turns ``Active``, as Lambda does while it readies a version:
    invoking a Pending version, directly or through an alias that routes to it, answers 409
    ``ResourceConflictException``. :meth:`set_version_state` makes a version ``Failed`` or
    ``Inactive``.

    Requests are held to AWS's limits: a synchronous invocation's body to 6 MiB, an Event's
    payload to 1 MiB (413 ``RequestEntityTooLargeException``), a synchronous response to
    AWS's 6 MB (the ``Function.ResponseSizeTooLarge`` function error), and a signature to
    five minutes of skew from ``clock`` (a callable giving an aware UTC ``datetime``, the
    system's by default; pass the fake clock a client signs with, as ``LambdaClient(clock=)``,
    to move both together). Other operations' bodies are capped at 8 MiB. A connection idle,
    or whose request head or body stops arriving, for ``idle_timeout`` seconds (default 60)
    is closed; a body that keeps flowing, however slowly, is read to its end.

    The same server answers CloudWatch (requests with ``X-Amz-Target:
    GraniteServiceVersion20100801.*``, signed for ``monitoring``): GetMetricData over the
    ``AWS/Lambda`` metrics of its own executions (Invocations, Errors, Duration, Throttles
    per FunctionName, Resource and ExecutedVersion; see ``lambdaclient.testing._cloudwatch``),
    each datapoint visible ``metrics_delay`` seconds (default 0) after its invocation, as
    CloudWatch's data arrives late; PutMetricAlarm and DeleteAlarms, each alarm's threshold
    evaluated over those metrics every ``alarm_evaluation_interval`` seconds of ``clock``
    (default 60, as CloudWatch evaluates once a minute; lazily, when alarms are described);
    and DescribeAlarms over those alarms and the ones :meth:`set_alarm_state` sets. Point a
    CloudWatch client at :attr:`endpoint_url` too.

    ``ssl`` (an ``ssl.SSLContext`` holding a certificate) serves HTTPS instead of HTTP, and
    :attr:`endpoint_url` is then ``https://``: to test a client's proxy and CA bundle
    settings, with a certificate made by ``trustme``, say.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Credentials | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        seed: int | None = None,
        version_activation_delay: float = 0.0,
        idle_timeout: float = 60.0,
        clock: Callable[[], datetime] | None = None,
        shutdown_grace: float = 1.0,
        max_concurrency: int = 64,
        metrics_delay: float = 0.0,
        alarm_evaluation_interval: float = 60.0,
        ssl: ssl.SSLContext | None = None,
    ) -> None:
        _check_seconds("version_activation_delay", version_activation_delay, allow_zero=True)
        _check_seconds("metrics_delay", metrics_delay, allow_zero=True)
        _check_seconds("alarm_evaluation_interval", alarm_evaluation_interval, allow_zero=False)
        _check_seconds("idle_timeout", idle_timeout, allow_zero=False)
        _check_seconds("shutdown_grace", shutdown_grace, allow_zero=True)
        if type(max_concurrency) is not int or max_concurrency < 1:  # bool refused too
            raise ValueError(f"max_concurrency must be a positive integer, not {max_concurrency!r}")
        self.max_concurrency = max_concurrency
        self.version_activation_delay = float(version_activation_delay)
        self.idle_timeout = float(idle_timeout)
        self.shutdown_grace = float(shutdown_grace)
        self.host = host
        self.port = port
        self.ssl = ssl
        self.credentials = credentials or DEFAULT_CREDENTIALS
        self._more_credentials: dict[str, Credentials] = {}
        self.clock = clock or _utc_now
        self.region = region
        self._state = LambdaState(region, account_id)
        self._cloudwatch = CloudWatchState(
            region, account_id, float(metrics_delay), float(alarm_evaluation_interval)
        )
        self._random = random.Random(seed)
        self._executions: Counter[tuple[str, str]] = Counter()
        self._faults: dict[str, list[Fault]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._workers = WorkerPool()
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with ``ssl``), once started."""
        if self._runner is None:
            raise RuntimeError("LocalLambda is not started")
        return f"{'http' if self.ssl is None else 'https'}://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start serving (on a free port when ``port`` is 0)."""
        app = web.Application(
            middlewares=[self._middleware], client_max_size=max(_REQUEST_LIMITS.values())
        )
        self._routes(app)
        # keepalive_timeout also bounds a new connection's wait for its first complete request
        # head, so neither idle nor trickling connections are kept past idle_timeout.
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, keepalive_timeout=self.idle_timeout
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl)
        await site.start()
        self._runner = runner
        self._site = site
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop serving: new connections are refused at once, event invocations still
        running get :attr:`shutdown_grace` seconds to finish and are then cancelled (a sync
        handler is left to its daemon thread), and every worker process is stopped, so
        stopping never hangs."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._background:
            _, running = await asyncio.wait(self._background, timeout=self.shutdown_grace)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        await self._workers.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalLambda:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- what tests set up and look at ------------------------------------------------------

    def add_credentials(self, credentials: Credentials) -> None:
        """Accept requests signed with ``credentials`` too, as AWS accepts every key of its
        account: the temporary credentials a test's own provider hands out, or a rotated key.

        Credentials with an ``expiration`` (these, or :attr:`credentials`) are refused for a
        request signed at or after it: 403 ``ExpiredTokenException``. Credentials added again
        under the same access key id replace the earlier ones.
        """
        if not isinstance(credentials, Credentials):
            raise TypeError(f"credentials must be a Credentials, not {type(credentials).__name__}")
        self._more_credentials[credentials.access_key_id] = credentials

    def add_function(
        self,
        name: str,
        handler: runtime.Handler,
        *,
        role: str = DEFAULT_ROLE,
        description: str = "",
        dead_letter_target_arn: str | None = None,
        runtime_name: str = "python3.12",
        handler_name: str = "index.handler",
        timeout: int = 3,
        memory_size: int = 128,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """Register ``name`` with ``handler`` as its ``$LATEST``; calling it again for the same
        name replaces ``$LATEST``, as UpdateFunctionCode would. Published versions keep the
        handler and configuration they were published with."""
        self._state.put_function(
            name,
            Version(
                "$LATEST",
                handler,
                role,
                description,
                dead_letter_target_arn,
                runtime_name,
                handler_name,
                timeout,
                memory_size,
                dict(environment or {}),
                code_sha256(handler),
            ),
        )

    def set_version_state(
        self,
        function_name: str,
        version: str,
        state: str,
        *,
        reason: str | None = None,
        reason_code: str | None = None,
    ) -> None:
        """Put ``version`` (``"$LATEST"`` or a published number) of a function in ``state``:
        ``"Failed"`` or ``"Inactive"``, with the ``StateReason`` and ``StateReasonCode`` to
        report (e.g. ``"InsufficientRolePermissions"``), or back to ``"Active"`` (no reason).

        Invoking a Failed or Inactive version answers 409 ``ResourceConflictException``; an
        Inactive one then turns Pending for ``version_activation_delay``, and Active after.
        Raises ``ValueError`` for a function or version that does not exist, a state not
        named above, or a reason given with ``"Active"``; ``TypeError`` for a reason that is
        not a string.
        """
        function = self._state.functions.get(function_name)
        if function is None:
            raise ValueError(f"no function named {function_name!r}")
        target = function.latest if version == "$LATEST" else function.versions.get(version)
        if target is None:
            raise ValueError(f"function {function_name!r} has no version {version!r}")
        if state not in SETTABLE_STATES:
            raise ValueError(f"state must be one of {', '.join(SETTABLE_STATES)}; got {state!r}")
        for name, value in (("reason", reason), ("reason_code", reason_code)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string or None; got {type(value).__name__}")
        if state == "Active" and (reason is not None or reason_code is not None):
            raise ValueError("an Active version has no reason or reason_code")
        target.put_state(state, reason, reason_code)

    def publish_version(self, function_name: str, *, description: str | None = None) -> str:
        """Publish ``$LATEST`` of a registered function, as PublishVersion would, and return
        the version's number. As in Lambda, nothing new is published when neither the handler
        nor the configuration of ``$LATEST`` changed since the last version (that version's
        number comes back; a new ``description`` alone is not a change): register a new
        handler or configuration with :meth:`add_function` first to get a new version. The
        version is ``Pending`` for ``version_activation_delay``, as over the wire. An unknown
        function is a ``KeyError``."""
        function = self._state.functions.get(function_name)
        if function is None:
            raise KeyError(f"no function {function_name!r}: register it with add_function")
        version = self._state.publish(
            function,
            description=description,
            code_sha256=None,
            revision_id=None,
            now=time.monotonic(),
            activation_delay=self.version_activation_delay,
        )
        return version.number

    def executions(self, function_name: str, version: str) -> int:
        """How many times ``version`` (``"$LATEST"`` or a number) of a function has run."""
        return self._executions[(function_name, version)]

    def set_alarm_state(self, name: str, state: str, *, reason: str = "") -> None:
        """Create CloudWatch alarm ``name``, or change it, in ``state`` (``"OK"``,
        ``"ALARM"`` or ``"INSUFFICIENT_DATA"``) with ``reason`` as its ``StateReason``, as
        DescribeAlarms then reports it (a metric alarm, its state updated now by ``clock``).
        An alarm created with PutMetricAlarm keeps this state until its next evaluation, as
        SetAlarmState's on AWS.
        Raises ``ValueError`` for another state or a name CloudWatch would refuse (1-255
        characters), ``TypeError`` for a reason that is not a string."""
        if state not in ALARM_STATES:
            raise ValueError(f"state must be one of {', '.join(ALARM_STATES)}; got {state!r}")
        given: object = name  # checked at run time: tests are not all type-checked
        if not isinstance(given, str) or not 1 <= len(given) <= 255:
            raise ValueError(f"an alarm name has 1 to 255 characters; got {name!r}")
        if not isinstance(reason, str):
            raise TypeError(f"reason must be a string; got {type(reason).__name__}")
        self._cloudwatch.set_alarm(name, state, reason, self.clock())

    def inject(self, operation: str, fault: Fault, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` (e.g. ``"Invoke"``, ``"GetAlias"``,
        ``"DescribeAlarms"``, or ``"*"`` for any) meet ``fault``."""
        self._faults.setdefault(operation, []).extend([fault] * times)

    def _next_fault(self, operation: str) -> Fault | None:
        for key in (operation, "*"):
            queued = self._faults.get(key)
            if queued:
                return queued.pop(0)
        return None

    # --- HTTP --------------------------------------------------------------------------------

    def _routes(self, app: web.Application) -> None:
        fn = "/2015-03-31/functions/{function}"
        routes: list[
            tuple[str, str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]
        ] = [
            ("POST", f"{fn}/aliases", "CreateAlias", self._create_alias),
            ("GET", f"{fn}/aliases", "ListAliases", self._list_aliases),
            ("GET", f"{fn}/aliases/{{name}}", "GetAlias", self._get_alias),
            ("PUT", f"{fn}/aliases/{{name}}", "UpdateAlias", self._update_alias),
            ("DELETE", f"{fn}/aliases/{{name}}", "DeleteAlias", self._delete_alias),
            ("POST", f"{fn}/invocations", "Invoke", self._invoke),
            (
                "POST",
                "/2021-11-15/functions/{function}/response-streaming-invocations",
                "InvokeWithResponseStream",
                self._invoke_with_response_stream,
            ),
            ("POST", f"{fn}/versions", "PublishVersion", self._publish_version),
            ("GET", f"{fn}/versions", "ListVersionsByFunction", self._list_versions),
            ("GET", f"{fn}/configuration", "GetFunctionConfiguration", self._get_configuration),
            ("POST", "/2015-03-31/functions", "CreateFunction", self._create_function),
            # With the trailing slash of the model's path, and without, as other SDKs send it.
            ("GET", "/2015-03-31/functions{slash:/?}", "ListFunctions", self._list_functions),
            ("GET", fn, "GetFunction", self._get_function),
            ("DELETE", fn, "DeleteFunction", self._delete_function),
            ("PUT", f"{fn}/code", "UpdateFunctionCode", self._update_code),
            (
                "PUT",
                f"{fn}/configuration",
                "UpdateFunctionConfiguration",
                self._update_configuration,
            ),
        ]
        # CloudWatch's JSON protocol: every operation is a POST to "/", named by X-Amz-Target.
        routes.append(("POST", "/", _CLOUDWATCH, self._cloudwatch_request))
        for method, path, operation, handler in routes:
            app.router.add_route(method, path, handler, name=operation)

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        cloudwatch = request.match_info.route.name == _CLOUDWATCH
        try:
            route = request.match_info.route.name
            if cloudwatch:
                route = operation_of(request.headers.get("X-Amz-Target"))
            limit = _REQUEST_LIMITS.get(route or "", _MAX_REQUEST_BYTES)
            # Sizes are checked first, from Content-Length when given, before the body is read.
            _check_size(route, limit, request.headers, request.content_length)
            try:
                body = await self._read_body(request)
            except web.HTTPRequestEntityTooLarge:  # a chunked body past every limit
                raise _too_large(route, limit) from None
            except TimeoutError:
                self._fail(request, DropConnection())
            _check_size(route, limit, request.headers, len(body))
            if route is None:
                raise LambdaFault(
                    "UnknownOperationException",
                    404,
                    f"No operation at {request.method} {request.path}",
                )
            check_signature(
                method=request.method,
                url=f"{request.scheme}://{request.host}{request.raw_path}",
                headers=request.headers,
                body=body,
                credentials={
                    **self._more_credentials,
                    self.credentials.access_key_id: self.credentials,
                },
                region=self.region,
                now=self.clock(),
                service="monitoring" if cloudwatch else "lambda",
            )
            fault = self._next_fault(route)
            request[_AFTER_EXECUTION] = await self._apply_fault(request, fault)
            response = await handler(request)
        except LambdaFault as exc:
            response = _cloudwatch_error(exc) if cloudwatch else _error_response(exc)
        except _Dropped:
            # The connection is gone; this response is never sent.
            return web.Response(status=499)
        except ConnectionError:
            raise  # the client went away mid-response: nothing left to answer
        except Exception:
            # A defect in LocalLambda itself: logged, and answered as AWS answers its own
            # failures rather than as aiohttp's bare text.
            logger.exception("LocalLambda failed to handle %s %s", request.method, request.path)
            failure = LambdaFault("ServiceException", 500, "An internal error occurred.")
            response = _cloudwatch_error(failure) if cloudwatch else _error_response(failure)
        if not response.prepared:
            response.headers.setdefault("x-amzn-RequestId", request_id)
        return response

    async def _read_body(self, request: web.Request) -> bytes:
        """The request's body, given up on (``TimeoutError``) once none of it has arrived
        for ``idle_timeout`` seconds, as an idle connection is: a body that flows, however
        slowly, is read to its end (its size is bounded by the operation's limit)."""
        loop = asyncio.get_running_loop()
        reading = asyncio.ensure_future(request.read())
        received, last_arrival = request.content.total_bytes, loop.time()
        try:
            while True:
                # Woken four times per idle_timeout, so a stalled body is noticed within
                # 1.25 times it.
                done, _ = await asyncio.wait({reading}, timeout=self.idle_timeout / 4)
                if done:
                    return reading.result()
                if request.content.total_bytes != received:
                    received, last_arrival = request.content.total_bytes, loop.time()
                elif loop.time() - last_arrival >= self.idle_timeout:
                    raise TimeoutError
        finally:
            reading.cancel()

    async def _apply_fault(
        self, request: web.Request, fault: Fault | None
    ) -> ServerError | DropConnection | None:
        """Apply a fault that acts before the operation; return one that acts after it."""
        if fault is None:
            return None
        if isinstance(fault, Delay):
            await asyncio.sleep(fault.seconds)
            return None
        if isinstance(fault, Throttle):
            if request.match_info.route.name == _CLOUDWATCH:
                raise LambdaFault("Throttling", 400, "Rate exceeded")
            self._record_throttle(request)
            raise _throttled(fault)
        if fault.after_execution and request.match_info.route.name in (
            "Invoke",
            "InvokeWithResponseStream",
        ):
            return fault
        self._fail(request, fault)
        return None

    def _record_throttle(self, request: web.Request) -> None:
        """A throttled invocation counts in the function's ``Throttles``."""
        if request.match_info.route.name not in ("Invoke", "InvokeWithResponseStream"):
            return
        try:
            function, qualifier = self._resolve_qualified(request, missing_latest=True)
        except LambdaFault:
            return  # no such function: nothing to count it against
        self._cloudwatch.record(self.clock(), function.name, qualifier, None, {"Throttles": 1.0})

    def _record_execution(
        self, context: runtime.LambdaContext, version: Version, at: datetime, started: float
    ) -> Callable[[str | None], None]:
        """What records an execution's metrics once its outcome (the function error, or
        None) is known: timed from ``started`` (monotonic), dated ``at``."""

        def record(function_error: str | None) -> None:
            # The ARN invoked carries the qualifier: an alias, a version, or none.
            parts = context.invoked_function_arn.split(":")
            qualifier = parts[7] if len(parts) > 7 else None
            through_alias = qualifier is not None and not (
                qualifier.isdigit() or qualifier == "$LATEST"
            )
            self._cloudwatch.record(
                at,
                context.function_name,
                qualifier,
                version.number if through_alias else None,
                {
                    "Invocations": 1.0,
                    "Errors": 0.0 if function_error is None else 1.0,
                    "Duration": 1000 * (time.monotonic() - started),
                },
            )

        return record

    async def _cloudwatch_request(self, request: web.Request) -> web.StreamResponse:
        operation = operation_of(request.headers.get("X-Amz-Target"))
        assert operation is not None  # the middleware answers a request without one
        answer = self._cloudwatch.handle(operation, await request.read(), self.clock())
        return web.Response(
            body=json.dumps(answer).encode(), content_type="application/x-amz-json-1.0"
        )

    def _fail(self, request: web.Request, fault: ServerError | DropConnection) -> None:
        if isinstance(fault, DropConnection):
            if request.transport is not None:
                request.transport.abort()
            raise _Dropped
        raise LambdaFault(fault.code, fault.status, "An internal error occurred (injected).")

    # --- aliases ------------------------------------------------------------------------------

    def _function(
        self,
        request: web.Request,
        problems: list[str] | None = None,
        missing_qualifier: str | None = None,
    ) -> Function:
        """The function an alias operation or PublishVersion names (a FunctionName: no dots,
        no qualifier). The model's constraints on the name and on ``problems`` found in the
        rest of the request are checked first, as AWS checks them before it looks anything up."""
        ref = request.match_info["function"]
        check([*function_name_problems(ref, namespaced=False), *(problems or [])])
        function, qualifier = self._state.resolve(
            ref, namespaced=False, missing_qualifier=missing_qualifier
        )
        if qualifier is not None:
            raise invalid("The function name of an alias operation cannot carry a qualifier")
        return function

    def _alias_json(self, function: Function, alias: Alias) -> dict[str, Any]:
        data: dict[str, Any] = {
            "AliasArn": self._state.function_arn(function.name, alias.name),
            "Name": alias.name,
            "FunctionVersion": alias.function_version,
            "Description": alias.description,
            "RevisionId": alias.revision_id,
        }
        if alias.weights:
            data["RoutingConfig"] = {"AdditionalVersionWeights": alias.weights}
        return data

    async def _create_alias(self, request: web.Request) -> web.StreamResponse:
        data = _json_body(await request.read())
        name, version = _optional_str(data, "Name"), _optional_str(data, "FunctionVersion")
        description = _optional_str(data, "Description") or ""
        weights = _weights(data) or {}
        problems = [
            *_missing(("name", name), ("functionVersion", version)),
            *alias_problems(
                name=name, function_version=version, description=description, weights=weights
            ),
        ]
        # A function that does not exist is named with the alias's version on its ARN.
        function = self._function(request, problems, missing_qualifier=version)
        assert name is not None  # the check above refused a missing one
        assert version is not None
        alias = self._state.create_alias(function, name, version, description, weights)
        return _json(self._alias_json(function, alias), 201)

    async def _get_alias(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        function = self._function(request, alias_problems(name=name))
        return _json(self._alias_json(function, self._state.alias(function, name)))

    async def _update_alias(self, request: web.Request) -> web.StreamResponse:
        data = _json_body(await request.read())
        name = request.match_info["name"]
        version = _optional_str(data, "FunctionVersion")
        description = _optional_str(data, "Description")
        weights = _weights(data)
        problems = alias_problems(
            name=name, function_version=version, description=description, weights=weights
        )
        function = self._function(request, problems)
        alias = self._state.update_alias(
            function,
            name,
            function_version=version,
            description=description,
            weights=weights,
            revision_id=_optional_str(data, "RevisionId"),
        )
        return _json(self._alias_json(function, alias))

    async def _delete_alias(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        function = self._function(request, alias_problems(name=name))
        self._state.delete_alias(function, name)
        return web.Response(status=204)

    async def _list_aliases(self, request: web.Request) -> web.StreamResponse:
        version = request.query.get("FunctionVersion")
        problems = [
            *alias_problems(function_version=version),
            *_max_items_problems(request.query.get("MaxItems")),
        ]
        function = self._function(request, problems)
        aliases = [
            alias
            for alias in function.aliases.values()
            if version is None or alias.function_version == version or version in alias.weights
        ]
        page, next_marker = _page(
            aliases, request.query.get("Marker"), request.query.get("MaxItems")
        )
        data: dict[str, Any] = {"Aliases": [self._alias_json(function, a) for a in page]}
        if next_marker is not None:
            data["NextMarker"] = next_marker
        return _json(data)

    # --- versions --------------------------------------------------------------------------

    def _configuration(
        self,
        function: Function,
        version: Version,
        qualifier: str | None,
        *,
        with_state: bool = True,
    ) -> dict[str, Any]:
        """A version as GetFunctionConfiguration and PublishVersion answer it; without
        ``with_state`` as ListVersionsByFunction lists it (AWS leaves out State and
        LastUpdateStatus there). ``FunctionArn`` carries ``qualifier``: AWS qualifies it with
        what the caller named (a version, an alias, ``$LATEST``), and lists ``$LATEST``
        qualified too (test_publish_version_on_create, test_alias_lifecycle)."""
        data: dict[str, Any] = {
            "FunctionName": function.name,
            "FunctionArn": self._state.function_arn(function.name, qualifier),
            "Runtime": version.runtime,
            "Role": version.role,
            "Handler": version.handler_name,
            "CodeSize": 0 if version.package is None else version.package.size,
            "Description": version.description,
            "Timeout": version.timeout,
            "MemorySize": version.memory_size,
            "LastModified": version.last_modified,
            "CodeSha256": version.code_sha256,
            "Version": version.number,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": version.revision_id,
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
            # As AWS answers for a function created with neither set (its snapshots above).
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.name}"},
        }
        if version.environment:
            data["Environment"] = {"Variables": version.environment}
        if version.dead_letter_target_arn is not None:
            data["DeadLetterConfig"] = {"TargetArn": version.dead_letter_target_arn}
        if with_state:
            data.update(self._state_fields(version.settle(time.monotonic())))
        return data

    @staticmethod
    def _state_fields(version: Version) -> dict[str, str]:
        # As AWS reports a version being created: State Pending with its reason, and no
        # LastUpdateStatus until the creation completes.
        fields = {"State": version.state}
        if version.state_reason is not None:
            fields["StateReason"] = version.state_reason
        if version.state_reason_code is not None:
            fields["StateReasonCode"] = version.state_reason_code
        if version.state != "Pending":
            fields["LastUpdateStatus"] = "Successful"
        return fields

    async def _publish_version(self, request: web.Request) -> web.StreamResponse:
        data = _json_body(await request.read())
        description = _optional_str(data, "Description")
        function = self._function(request, description_problems(description))
        version = self._state.publish(
            function,
            description=description,
            code_sha256=_optional_str(data, "CodeSha256"),
            revision_id=_optional_str(data, "RevisionId"),
            now=time.monotonic(),
            activation_delay=self.version_activation_delay,
        )
        return _json(self._configuration(function, version, version.number), 201)

    async def _list_versions(self, request: web.Request) -> web.StreamResponse:
        ref = request.match_info["function"]
        check(
            [
                *function_name_problems(ref, namespaced=True),
                *_max_items_problems(request.query.get("MaxItems")),
            ]
        )
        function, qualifier = self._state.resolve(ref)
        if qualifier is not None:
            raise invalid("The function name of ListVersionsByFunction cannot carry a qualifier")
        versions = [function.latest, *function.versions.values()]
        page, next_marker = _page(
            versions, request.query.get("Marker"), request.query.get("MaxItems")
        )
        data: dict[str, Any] = {
            "Versions": [self._configuration(function, v, v.number, with_state=False) for v in page]
        }
        if next_marker is not None:
            data["NextMarker"] = next_marker
        return _json(data)

    async def _get_configuration(self, request: web.Request) -> web.StreamResponse:
        function, qualifier = self._resolve_qualified(request, missing_latest=False)
        version, _ = self._state.target(function, qualifier)
        return _json(self._configuration(function, version, qualifier))

    # --- function management ------------------------------------------------------------------

    async def _create_function(self, request: web.Request) -> web.StreamResponse:
        data = _json_body(await request.read())
        name = _optional_str(data, "FunctionName")
        role = _optional_str(data, "Role")
        code = data.get("Code")
        settings = _function_settings(data)
        check(
            [
                *_missing(("functionName", name), ("role", role), ("code", code)),
                *([] if name is None else function_name_problems(name, namespaced=False)),
                *string_problems(role, "role", 2048, ROLE_PATTERN),
                *settings.problems,
            ]
        )
        assert name is not None  # refused above when missing
        assert role is not None
        if settings.runtime is None or settings.handler is None:
            raise invalid(
                "Runtime and Handler are mandatory parameters for functions created with"
                " deployment packages."
            )
        check_runtime(settings.runtime)
        package = _package(code)
        version = Version(
            "$LATEST",
            None,
            role,
            settings.description or "",
            settings.dead_letter_target_arn,
            settings.runtime,
            settings.handler,
            3 if settings.timeout is None else settings.timeout,
            128 if settings.memory_size is None else settings.memory_size,
            settings.environment or {},
            package.sha256,
            package=package,
        )
        function = self._state.create_function(name, version)
        if data.get("Publish") is True:
            published = self._publish(function)
            return _json(self._configuration(function, published, published.number), 201)
        # AWS answers a new function as being created (test_function_lifecycle:
        # create_response); LocalLambda's is ready at once, as GetFunction then reports.
        answer = self._configuration(function, version, None, with_state=False)
        answer.update(State="Pending", StateReason=CREATING[0], StateReasonCode=CREATING[1])
        return _json(answer, 201)

    def _publish(self, function: Function) -> Version:
        return self._state.publish(
            function,
            description=None,
            code_sha256=None,
            revision_id=None,
            now=time.monotonic(),
            activation_delay=self.version_activation_delay,
        )

    async def _updated(self, function: Function, publish: bool) -> web.StreamResponse:
        """The answer to an update of ``$LATEST``: its configuration "InProgress", as AWS
        answers an update (test_function_lifecycle: update_code_response), or the version
        ``publish`` made."""
        await self._workers.retire(function.name, "$LATEST")
        if publish:
            version = self._publish(function)
            return _json(self._configuration(function, version, version.number))
        answer = self._configuration(function, function.latest, None)
        answer.update(
            LastUpdateStatus="InProgress",
            LastUpdateStatusReason=CREATING[0],
            LastUpdateStatusReasonCode=CREATING[1],
        )
        return _json(answer)

    async def _update_code(self, request: web.Request) -> web.StreamResponse:
        data = _json_body(await request.read())
        function = self._function(request)
        package = _package({"ZipFile": data.get("ZipFile")})
        self._state.update_latest(
            function,
            _optional_str(data, "RevisionId"),
            handler=None,
            package=package,
            code_sha256=package.sha256,
        )
        return await self._updated(function, data.get("Publish") is True)

    async def _update_configuration(self, request: web.Request) -> web.StreamResponse:
        data = _json_body(await request.read())
        settings = _function_settings(data)
        role = _optional_str(data, "Role")
        function = self._function(
            request, [*settings.problems, *string_problems(role, "role", 2048, ROLE_PATTERN)]
        )
        if settings.runtime is not None:
            check_runtime(settings.runtime)
        changes: dict[str, object] = {
            "role": role,
            "handler_name": settings.handler,
            "description": settings.description,
            "timeout": settings.timeout,
            "memory_size": settings.memory_size,
            "environment": settings.environment,
            "runtime": settings.runtime,
        }
        if "DeadLetterConfig" in data:
            changes["dead_letter_target_arn"] = settings.dead_letter_target_arn
        self._state.update_latest(
            function,
            _optional_str(data, "RevisionId"),
            **{key: value for key, value in changes.items() if value is not None},
        )
        return await self._updated(function, publish=False)

    async def _get_function(self, request: web.Request) -> web.StreamResponse:
        function, qualifier = self._resolve_qualified(request, missing_latest=False)
        version, _ = self._state.target(function, qualifier)
        return _json(
            {
                "Configuration": self._configuration(function, version, qualifier),
                # AWS gives a presigned S3 URL in "Location"; LocalLambda keeps no bucket.
                "Code": {"RepositoryType": "S3"},
            }
        )

    async def _delete_function(self, request: web.Request) -> web.StreamResponse:
        function, qualifier = self._resolve_qualified(request, missing_latest=False)
        self._state.delete_function(function, qualifier)
        await self._workers.retire(function.name, qualifier)
        # The model says 200; AWS answers 204 (test_function_lifecycle: delete_response).
        return web.Response(status=204)

    async def _list_functions(self, request: web.Request) -> web.StreamResponse:
        every = request.query.get("FunctionVersion")
        check(
            [
                *(
                    []
                    if every in (None, "ALL")
                    else [_enum_problem(every, "functionVersion", ["ALL"])]
                ),
                *_max_items_problems(request.query.get("MaxItems")),
            ]
        )
        # $LATEST of each function by default; with ALL, every version too, each ARN
        # qualified (test_list_functions: list_default, list_all).
        entries: list[tuple[Function, Version, str | None]] = []
        for function in self._state.functions.values():
            if every is None:
                entries.append((function, function.latest, None))
            else:
                for version in [function.latest, *function.versions.values()]:
                    entries.append((function, version, version.number))
        page, next_marker = _page(
            entries, request.query.get("Marker"), request.query.get("MaxItems")
        )
        data: dict[str, Any] = {
            "Functions": [self._configuration(f, v, q, with_state=False) for f, v, q in page]
        }
        if next_marker is not None:
            data["NextMarker"] = next_marker
        return _json(data)

    # --- invoke ------------------------------------------------------------------------------

    def _resolve_qualified(
        self, request: web.Request, *, missing_latest: bool, problems: Sequence[str] = ()
    ) -> tuple[Function, str | None]:
        """The function and qualifier of Invoke, InvokeWithResponseStream and
        GetFunctionConfiguration: the qualifier's constraints, then the name's, checked first
        (test_function_name_and_qualifier_validation). A function that does not exist is
        reported with the qualifier asked for, or ``$LATEST`` with ``missing_latest`` (as
        Invoke reports it, test_invoke_exceptions)."""
        ref = request.match_info["function"]
        query_qualifier = request.query.get("Qualifier")
        check(
            [
                *qualifier_problems(query_qualifier),
                *function_name_problems(ref, namespaced=True),
                *problems,
            ]
        )
        missing = query_qualifier or ("$LATEST" if missing_latest else None)
        function, name_qualifier = self._state.resolve(ref, missing_qualifier=missing)
        if name_qualifier is not None and query_qualifier not in (None, name_qualifier):
            raise invalid(
                "The derived qualifier from the function name does not match the specified"
                " qualifier."
            )
        return function, query_qualifier or name_qualifier

    def _pick_version(self, function: Function, qualifier: str | None) -> tuple[Version, str]:
        version, alias = self._state.target(function, qualifier)
        arn = self._state.function_arn(function.name, qualifier)
        if alias is not None:
            for number, weight in alias.weights.items():
                if self._random.random() < weight:
                    return self._state.version(function, number), arn
        return version, arn

    def _prepare_invocation(
        self, request: web.Request, body: bytes, invocation_types: Sequence[str]
    ) -> tuple[Function, Version, runtime.LambdaContext, Any]:
        headers = request.headers
        problems = [
            _enum_problem(value, field, allowed)
            for value, field, allowed in (
                (headers.get("X-Amz-Invocation-Type"), "invocationType", invocation_types),
                (headers.get("X-Amz-Log-Type"), "logType", ("None", "Tail")),
            )
            if value is not None and value not in allowed
        ]
        function, qualifier = self._resolve_qualified(
            request, missing_latest=True, problems=problems
        )
        version, arn = self._pick_version(function, qualifier)
        self._state.check_invocable(
            version, now=time.monotonic(), activation_delay=self.version_activation_delay
        )
        try:
            event = json.loads(body) if body else {}
        except (ValueError, RecursionError) as exc:
            # AWS nests its JSON parser's message the same way (test_lambda_invoke_payload_
            # encoding_error); the parser's own words are Python's here.
            raise LambdaFault(
                "InvalidRequestContentException",
                400,
                f"Could not parse request body into json: Could not parse payload into json: {exc}",
            ) from exc
        client_context: runtime.ClientContext | None = None
        raw_context = request.headers.get("X-Amz-Client-Context")
        if raw_context:
            try:
                client_context = runtime.ClientContext.from_json(
                    json.loads(base64.b64decode(raw_context, validate=True))
                )
            except (ValueError, binascii.Error, RecursionError) as exc:
                raise invalid("Client context must be a valid Base64-encoded JSON object.") from exc
        request_id = runtime.new_request_id()
        context = runtime.LambdaContext(
            function_name=function.name,
            function_version=version.number,
            invoked_function_arn=arn,
            memory_limit_in_mb=version.memory_size,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{function.name}",
            log_stream_name=f"local/[{version.number}]{request_id}",
            client_context=client_context,
            deadline=time.monotonic() + version.timeout,
        )
        return function, version, context, event

    async def _execute(
        self, function: Function, version: Version, context: runtime.LambdaContext, event: Any
    ) -> runtime.Invocation:
        """Run one invocation: a zip package in a worker process of its version, a handler
        registered from Python in this process. Either way the function's timeout holds,
        and nothing the function raises or does ends the server."""
        self._executions[(function.name, version.number)] += 1
        started = time.monotonic()
        record = self._record_execution(context, version, self.clock(), started)
        if version.package is not None:
            spec = WorkerSpec(
                version.package, version.handler_name, self._environment(function, version)
            )
            key = (function.name, version.number, version.revision_id)
            invocation = await self._workers.invoke(key, spec, event, context, version.timeout)
        else:
            assert version.handler is not None
            invocation = runtime.Invocation(
                *await runtime.execute(version.handler, event, context, version.timeout)
            )
        if len(invocation.payload) > runtime.MAX_RESPONSE_BYTES:
            invocation.payload = runtime.response_too_large()
            invocation.function_error = "Unhandled"
        invocation.log = runtime.log_text(
            context.aws_request_id, version.number, invocation.log, started, version.memory_size
        )
        record(invocation.function_error)
        return invocation

    def _slot(self, function: Function) -> asyncio.Semaphore:
        """The function's share of :attr:`max_concurrency`."""
        return self._slots.setdefault(function.name, asyncio.Semaphore(self.max_concurrency))

    def _sync_slot(
        self, function: Function, version: Version
    ) -> contextlib.AbstractAsyncContextManager[Any]:
        """The slot a synchronous invocation of a zip function runs in; 429 when none is
        free, as Lambda throttles an invocation past its concurrency rather than queueing
        it. A handler registered from Python runs in this process, without a slot."""
        if version.package is None:
            return contextlib.nullcontext()
        slot = self._slot(function)
        if slot.locked():
            raise _throttled(Throttle(reason="ConcurrentInvocationLimitExceeded"))
        return slot

    def _environment(self, function: Function, version: Version) -> dict[str, str]:
        """The variables Lambda sets for a function, then the function's own."""
        return {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": version.number,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(version.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{version.runtime}",
            **version.environment,
        }

    async def _invoke(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        function, version, context, event = self._prepare_invocation(
            request, body, ("Event", "RequestResponse", "DryRun")
        )
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            return web.Response(status=204)
        if invocation_type == "Event":
            task = asyncio.create_task(self._run_event(function, version, context, event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            after = request[_AFTER_EXECUTION]
            if after is not None:
                self._fail(request, after)
            return web.Response(status=202)
        async with self._sync_slot(function, version):
            invocation = await self._execute(function, version, context, event)
        after = request[_AFTER_EXECUTION]
        if after is not None:
            self._fail(request, after)
        # The invocation's request id, as in its log's START line.
        headers = {
            "X-Amz-Executed-Version": version.number,
            "x-amzn-RequestId": context.aws_request_id,
        }
        if invocation.function_error is not None:
            headers["X-Amz-Function-Error"] = invocation.function_error
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(
                runtime.log_tail(invocation.log).encode()
            ).decode()
        return web.Response(
            status=200, body=invocation.payload, content_type="application/json", headers=headers
        )

    async def _run_event(
        self, function: Function, version: Version, context: runtime.LambdaContext, event: Any
    ) -> None:
        # Queued until a slot is free, as Lambda holds back Event invocations it throttles.
        async with self._slot(function):
            await self._execute(function, version, context, event)

    async def _invoke_with_response_stream(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        function, version, context, event = self._prepare_invocation(
            request, body, ("RequestResponse", "DryRun")
        )
        if request.headers.get("X-Amz-Invocation-Type") == "DryRun":
            return web.Response(status=204)
        # Checked before the status line goes out, so a throttle is a plain error.
        slot = self._sync_slot(function, version)
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "application/vnd.amazon.eventstream",
                "X-Amz-Executed-Version": version.number,
                "x-amzn-RequestId": context.aws_request_id,
            },
        )
        await response.prepare(request)
        async with slot:
            if version.handler is not None and runtime.is_streaming(version.handler):
                invocation = await self._stream(response, function, version, context, event)
            else:
                # A zip package or a plain handler answers in one piece, sent as one chunk.
                invocation = await self._execute(function, version, context, event)
                if invocation.function_error is None:
                    await response.write(payload_chunk_event(invocation.payload))
        if request[_AFTER_EXECUTION] is not None:
            # The status line has gone out: whatever the fault, the stream is cut short.
            self._fail(request, DropConnection())
        error_details = None if invocation.function_error is None else invocation.payload.decode()
        tail = (
            runtime.log_tail(invocation.log)
            if request.headers.get("X-Amz-Log-Type") == "Tail"
            else None
        )
        await response.write(invoke_complete_event(invocation.function_error, error_details, tail))
        await response.write_eof()
        return response

    async def _stream(
        self,
        response: web.StreamResponse,
        function: Function,
        version: Version,
        context: runtime.LambdaContext,
        event: Any,
    ) -> runtime.Invocation:
        """Run a streaming handler, each chunk written as it comes. The client going away
        stops the function, as Lambda does; the handler's own ``ConnectionError`` (from a
        call it makes) is its failure, reported in ``InvokeComplete``."""
        assert version.handler is not None
        self._executions[(function.name, version.number)] += 1
        started = time.monotonic()
        record = self._record_execution(context, version, self.clock(), started)
        function_error = None
        payload = b""
        with runtime.capture_output() as output:
            try:
                async with runtime.time_limit(version.timeout):
                    async for chunk in runtime.stream_handler(version.handler, event, context):
                        try:
                            await response.write(payload_chunk_event(chunk))
                        except ConnectionError as exc:
                            raise _ClientGone from exc
            except _ClientGone as gone:
                record("Unhandled")  # stopped before it finished: counted as a failed execution
                raise ConnectionResetError("the client went away") from gone.__cause__
            except Exception as exc:
                payload = runtime.failure_payload(exc, context.aws_request_id, version.timeout)
                output.write(runtime.failure_log(payload, context.aws_request_id))
                function_error = "Unhandled"
        log = runtime.log_text(
            context.aws_request_id, version.number, output.getvalue(), started, version.memory_size
        )
        record(function_error)
        return runtime.Invocation(payload, function_error, log)
