"""Running a registered handler as Lambda's Python runtime would: the event in, a context
object, what it prints or logs captured for ``LogType=Tail``, and an exception turned into
Lambda's ``{errorMessage, errorType, stackTrace}`` payload."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import io
import json
import logging
import math
import os
import queue
import sys
import threading
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TextIO

import attrs

from . import _worker

__all__ = [
    "ClientContext",
    "Handler",
    "Invocation",
    "LambdaContext",
    "capture_output",
    "error_log",
    "error_payload",
    "run_handler",
]

# Lambda returns the last 4 KB of the log with LogType=Tail.
_LOG_TAIL_BYTES = 4096
# The largest synchronous response Lambda returns (test_lambda_too_large_response).
MAX_RESPONSE_BYTES = 6_291_556

_current_log: contextvars.ContextVar[io.TextIOBase | None] = contextvars.ContextVar(
    "lambdaclient_local_log", default=None
)


class _RoutedStream(io.TextIOBase):
    """Stands in for sys.stdout/stderr: writes go to the running invocation's log when there
    is one (a context variable, so concurrent invocations do not mix), else to the original."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, text: str) -> int:
        log = _current_log.get()
        if log is not None:
            return log.write(text)
        return self.original.write(text)

    def flush(self) -> None:
        self.original.flush()


class _RoutedLogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        log = _current_log.get()
        if log is not None:
            log.write(f"[{record.levelname}]\t{self.format(record)}\n")


_log_handler = _RoutedLogHandler()


def _install() -> None:
    # The streams are wrapped in routers that fall through to the originals outside an
    # invocation, so nothing else in the process notices. Checked on every invocation, since
    # pytest (or redirect_stdout) may have replaced sys.stdout since the last one.
    if not isinstance(sys.stdout, _RoutedStream):
        sys.stdout = _RoutedStream(sys.stdout)
    if not isinstance(sys.stderr, _RoutedStream):
        sys.stderr = _RoutedStream(sys.stderr)
    root = logging.getLogger()
    if _log_handler not in root.handlers:
        root.addHandler(_log_handler)


@contextmanager
def capture_output() -> Any:
    """Collect what the code run inside prints or logs: its last
    :data:`_worker.OUTPUT_LIMIT` characters, enough for the Tail, so a handler printing
    without end holds bounded memory."""
    _install()
    log = _worker.TailBuffer()
    token = _current_log.set(log)
    try:
        yield log
    finally:
        _current_log.reset(token)


@attrs.frozen
class ClientContext:
    """``context.client_context`` as Lambda's Python runtime gives it: the caller's
    ``client``, ``custom`` and ``env`` mappings from ``X-Amz-Client-Context``."""

    client: Any = None
    custom: Any = None
    env: Any = None

    @classmethod
    def from_json(cls, data: Any) -> ClientContext:
        """From the decoded ``X-Amz-Client-Context`` JSON; empty unless it is an object."""
        if not isinstance(data, dict):
            return cls()
        return cls(data.get("client"), data.get("custom"), data.get("env"))


@attrs.define
class LambdaContext:
    """The ``context`` a handler receives, with the attributes of Lambda's Python runtime
    (``deadline`` is LocalLambda's own: the ``time.monotonic()`` the invocation times out)."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    client_context: ClientContext | None
    identity: Any = None
    deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))


Handler = Callable[[Any, LambdaContext], Any]
"""A function's handler, called as ``handler(event, context)`` like Lambda's Python runtime.

It may be sync (returning a JSON-able value, or bytes sent as they are), async (an awaitable
of one), or an async generator of bytes or str chunks (a response-streaming function). One
callable type covers all three, as they differ only in what they return, and the runtime
tells them apart when it calls them; the parameters are what a type checker infers a
lambda's from: ``lambda event, context: ...`` gets ``event: Any`` and a
:class:`LambdaContext`.
"""


@attrs.define
class Invocation:
    """What one invocation gave: its payload, whether it failed, and its log."""

    payload: bytes
    function_error: str | None
    log: str


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _handler_frames(exc: BaseException) -> list[str]:
    """The traceback's frames from the handler's own down, as Lambda's runtime reports them:
    LocalLambda's frames above the handler are left out, and each entry keeps its newline."""
    frames = traceback.extract_tb(exc.__traceback__)
    start = 0
    while start < len(frames) and os.path.abspath(frames[start].filename).startswith(
        _PACKAGE_DIR + os.sep
    ):
        start += 1
    return traceback.format_list(frames[start:])


class RuntimeFault(Exception):
    """A failure Lambda's runtime reports itself (``Runtime.MarshalError``): its own
    ``errorType`` and no stack trace, as awslambdaric's FaultException."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def response_too_large() -> bytes:
    """The payload Lambda answers with for a response over :data:`MAX_RESPONSE_BYTES`, as
    recorded (test_lambda_too_large_response): no request id, no stack trace."""
    return json.dumps(
        {
            "errorMessage": "Response payload size exceeded maximum allowed payload size"
            f" ({MAX_RESPONSE_BYTES} bytes).",
            "errorType": "Function.ResponseSizeTooLarge",
        }
    ).encode()


def error_payload(exc: BaseException, request_id: str) -> bytes:
    """The payload of an invocation whose handler raised, as Lambda's Python runtime sends it
    (LocalStack's AWS-validated snapshot test_lambda_handler_error): ``errorMessage``,
    ``errorType``, the invocation's ``requestId`` and the handler's ``stackTrace``."""
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": exc.error_type if isinstance(exc, RuntimeFault) else type(exc).__name__,
            "requestId": request_id,
            "stackTrace": [] if isinstance(exc, RuntimeFault) else _handler_frames(exc),
        }
    ).encode()


def error_log(payload: bytes) -> str:
    """The log entry of a handler's error payload (see :func:`_worker.error_log`)."""
    return _worker.error_log(json.loads(payload))


def _max_memory_used_mb(memory_size: int) -> int:
    # Handlers run inside the server's process, so there is no per-invocation figure: the
    # process's peak resident size stands in, capped at the function's memory size.
    try:
        import resource
    except ImportError:  # Windows has no resource module
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024
    return min(memory_size, math.ceil(peak_bytes / (1024 * 1024)))


def log_text(request_id: str, version: str, output: str, started: float, memory_size: int) -> str:
    """The invocation's log, START to REPORT, with the fields of AWS's REPORT line (recorded
    in LocalStack's AWS-validated snapshot test_invocation_with_logs): Duration, Billed
    Duration (whole milliseconds, rounded up), Memory Size and Max Memory Used. There is no
    Init Duration: AWS prints it only for a cold start, and LocalLambda has none."""
    duration = (time.monotonic() - started) * 1000
    billed = max(1, math.ceil(duration))
    used = _max_memory_used_mb(memory_size)
    return (
        f"START RequestId: {request_id} Version: {version}\n{output}"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration:"
        f" {billed} ms\tMemory Size: {memory_size} MB\tMax Memory Used: {used} MB\t\n"
    )


def log_tail(log: str) -> str:
    data = log.encode()[-_LOG_TAIL_BYTES:]
    return data.decode("utf-8", errors="ignore")


def new_request_id() -> str:
    return str(uuid.uuid4())


def is_streaming(handler: Handler) -> bool:
    return inspect.isasyncgenfunction(handler)


class ExitError(Exception):
    """A handler ended its runtime (``sys.exit()``, ``SystemExit``, ``KeyboardInterrupt``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def exit_reason(exc: SystemExit | KeyboardInterrupt) -> str:
    """What Lambda says of a runtime that exited: ``sys.exit(0)`` is "without providing a
    reason", another status is "with error: exit status N" (LocalStack's AWS-validated
    snapshots test_lambda_handler_exit, test_lambda_runtime_wrapper_not_found). A
    ``KeyboardInterrupt`` counts as exit status 1, as an uncaught one ends ``python``."""
    code = exc.code if isinstance(exc, SystemExit) else 1
    if code is None or code == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: exit status {code if isinstance(code, int) else 1}"


def runtime_error_payload(error_type: str, request_id: str, message: str) -> bytes:
    """The payload of a failure of the sandbox rather than of the handler's code: only
    ``errorType`` and ``errorMessage``, the message prefixed with the request id
    (test_lambda_handler_exit, test_lambda_invoke_with_timeout)."""
    return json.dumps(
        {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}
    ).encode()


class TimedOut(Exception):
    """The function ran past its timeout (told apart from a ``TimeoutError`` that the
    handler raises itself, from a call of its own, which is its error like any other)."""


@asynccontextmanager
async def time_limit(seconds: float) -> AsyncIterator[None]:
    """``asyncio.timeout(seconds)``, raising :class:`TimedOut` when it expires."""
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            yield
    except TimeoutError as exc:
        if scope.expired():
            raise TimedOut from exc
        raise


def timeout_message(timeout: float) -> str:
    """AWS's words for a function that ran out of time: "Task timed out after 1.00 seconds"."""
    return f"Task timed out after {timeout:.2f} seconds"


class _DaemonThreads:
    """The threads sync handlers run on. Daemon threads, so a handler that never returns
    cannot hold up the interpreter's exit (a ThreadPoolExecutor joins its threads at exit);
    an idle one is reused, and ends after a minute unused; a busy pool grows."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            start = self._idle == 0
            if not start:
                self._idle -= 1  # that thread is spoken for
        self._jobs.put(job)
        if start:
            threading.Thread(target=self._serve, name="local-lambda-handler", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=60)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:
                        self._idle -= 1
                        return
                continue
            job()
            with self._lock:
                self._idle += 1


_threads = _DaemonThreads()


def _call_in_thread(handler: Handler, event: Any, context: LambdaContext) -> asyncio.Future[Any]:
    """Run a sync handler on a daemon thread, in the caller's context (so its output is
    captured), and give its result as a future. A handler that never returns keeps only its
    thread; it cannot block the event loop or the interpreter's exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    run_context = contextvars.copy_context()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def work() -> None:
        try:
            result = run_context.run(handler, event, context)
        except BaseException as exc:
            error = (
                ExitError(exit_reason(exc))
                if isinstance(exc, SystemExit | KeyboardInterrupt)
                else exc
            )
            loop.call_soon_threadsafe(settle, lambda: future.set_exception(error))
        else:
            loop.call_soon_threadsafe(settle, lambda: future.set_result(result))

    _threads.submit(work)
    return future


async def run_handler(handler: Handler, event: Any, context: LambdaContext) -> Any:
    """Call a sync handler (on a thread of its own) or an async one (an async generator's
    chunks are joined, as Lambda buffers a streaming function's response for a plain Invoke).
    ``SystemExit`` and ``KeyboardInterrupt`` from the handler become :class:`ExitError`, so
    they never reach the server's event loop."""
    try:
        if is_streaming(handler):
            parts = [_chunk_bytes(chunk) async for chunk in handler(event, context)]
            return b"".join(parts)
        if not inspect.iscoroutinefunction(handler):
            result = await _call_in_thread(handler, event, context)
            if inspect.isawaitable(result):  # a sync callable returning an awaitable
                result = await result
            return result
        return await handler(event, context)
    except (SystemExit, KeyboardInterrupt) as exc:
        raise ExitError(exit_reason(exc)) from None


def failure_payload(exc: Exception, request_id: str, timeout: float) -> bytes:
    """The payload of an invocation that failed with ``exc``: the function's timeout
    (:class:`TimedOut`), its runtime ending (:class:`ExitError`), or an error it raised."""
    if isinstance(exc, TimedOut):
        return runtime_error_payload("Sandbox.Timedout", request_id, timeout_message(timeout))
    if isinstance(exc, ExitError):
        return runtime_error_payload("Runtime.ExitError", request_id, exc.reason)
    return error_payload(exc, request_id)


def failure_log(payload: bytes, request_id: str) -> str:
    """What a failure leaves in the log: the handler's error and traceback, or the sandbox's
    one line (a timeout: "<time> <request id> Task timed out after ...")."""
    error = json.loads(payload)
    if "stackTrace" in error:
        return _worker.error_log(error)
    message = error["errorMessage"].partition(" Error: ")[2]
    if error["errorType"] == "Sandbox.Timedout":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        return f"{stamp}Z {request_id} {message}\n"
    return f"RequestId: {request_id} Error: {message}\n"


async def execute(
    handler: Handler, event: Any, context: LambdaContext, seconds: float
) -> tuple[bytes, str | None, str]:
    """Run a handler in this process as an invocation: its payload, the function error
    (``"Unhandled"``) if it failed, and what it printed or logged. The function's timeout is
    enforced (an async handler is cancelled; a sync one is abandoned on its thread)."""
    request_id = context.aws_request_id
    with capture_output() as output:
        try:
            async with time_limit(seconds):
                result = await run_handler(handler, event, context)
        except Exception as exc:  # the function's failure is the response, as in Lambda
            payload = failure_payload(exc, request_id, seconds)
        else:
            try:
                return encode_result(result), None, output.getvalue()
            except RuntimeFault as exc:
                payload = error_payload(exc, request_id)
        output.write(failure_log(payload, request_id))
        return payload, "Unhandled", output.getvalue()


def stream_handler(handler: Handler, event: Any, context: LambdaContext) -> AsyncIterator[bytes]:
    """A streaming handler's chunks as bytes; a plain handler's result as one chunk.
    ``SystemExit`` and ``KeyboardInterrupt`` become :class:`ExitError`."""

    async def chunks() -> AsyncIterator[bytes]:
        if is_streaming(handler):
            try:
                async for chunk in handler(event, context):
                    yield _chunk_bytes(chunk)
            except (SystemExit, KeyboardInterrupt) as exc:
                raise ExitError(exit_reason(exc)) from None
        else:
            yield encode_result(await run_handler(handler, event, context))

    return chunks()


def _chunk_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, bytes | bytearray | memoryview):
        return bytes(chunk)
    if isinstance(chunk, str):
        return chunk.encode()
    return encode_result(chunk)


def encode_result(result: Any) -> bytes:
    """A handler's return value as Lambda's Python runtime serialises it (awslambdaric's
    LambdaMarshaller): JSON, NaN and Infinity written as such (``allow_nan``, as AWS does);
    bytes pass through. A value JSON cannot hold is a ``Runtime.MarshalError``."""
    if isinstance(result, bytes):
        return result
    try:
        return json.dumps(result).encode()
    except Exception as exc:  # TypeError, ValueError (a cycle), RecursionError: all alike
        raise RuntimeFault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None
