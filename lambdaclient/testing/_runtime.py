"""Running a registered handler as Lambda's Python runtime would: the event in, a context
object, what it prints or logs captured for ``LogType=Tail``, and an exception turned into
Lambda's ``{errorMessage, errorType, stackTrace}`` payload."""

from __future__ import annotations

import contextvars
import inspect
import io
import json
import logging
import math
import os
import sys
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import contextmanager
from typing import Any, TextIO

import attrs

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

_current_log: contextvars.ContextVar[io.StringIO | None] = contextvars.ContextVar(
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
    """Collect what the code run inside prints or logs."""
    _install()
    log = io.StringIO()
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
    """The log entry Lambda's Python runtime writes for a handler's error: ``[ERROR] Type:
    message``, then the traceback with its indentation in no-break spaces (as recorded in
    CloudWatch by LocalStack's AWS-validated snapshot test_invocation_type_event_error)."""
    error = json.loads(payload)
    head = f"[ERROR] {error['errorType']}"
    if error["errorMessage"]:
        head += f": {error['errorMessage']}"
    lines = [head, "Traceback (most recent call last):"]
    for entry in error["stackTrace"]:
        for line in entry.splitlines():
            text = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(text)) + text)
    return "\n".join(lines) + "\n"


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


async def run_handler(handler: Handler, event: Any, context: LambdaContext) -> Any:
    """Call a sync or async handler (an async generator's chunks are joined, as Lambda
    buffers a streaming function's response for a plain Invoke)."""
    if is_streaming(handler):
        parts = [_chunk_bytes(chunk) async for chunk in handler(event, context)]
        return b"".join(parts)
    result = handler(event, context)
    if inspect.isawaitable(result):
        result = await result
    return result


def stream_handler(handler: Handler, event: Any, context: LambdaContext) -> AsyncIterator[bytes]:
    """A streaming handler's chunks as bytes; a plain handler's result as one chunk."""

    async def chunks() -> AsyncIterator[bytes]:
        if is_streaming(handler):
            async for chunk in handler(event, context):
                yield _chunk_bytes(chunk)
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
