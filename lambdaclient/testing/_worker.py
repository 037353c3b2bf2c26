"""The worker process that runs one version of a zip-packaged function, as Lambda's Python
runtime would, and the framing LocalLambda speaks to it.

It is started as ``python -I <this file> <task root> <handler>`` with the package unzipped in
the task root, and reads invocations from stdin and answers on its original stdout. Each
message is a 4-byte big-endian length, then that many bytes of UTF-8 JSON. Once the handler's
module is loaded (or has failed to load) it sends :data:`READY`, so that LocalLambda can
time the init phase apart from each invocation, as Lambda does. The handler's own
``print`` and ``logging`` output is captured per invocation (its last
:data:`OUTPUT_LIMIT` characters, enough for the 4 KB Tail), and the process's stdout is
pointed at stderr so that nothing the handler writes can corrupt the frames.

This module imports only the standard library: it starts in a fresh interpreter, and its
cold start is part of the first invocation's latency.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import struct
import sys
import time
import traceback
import types
from typing import Any, BinaryIO

__all__ = [
    "HEADER",
    "OUTPUT_LIMIT",
    "READY",
    "TailBuffer",
    "error_log",
    "frame",
    "marshal_error",
    "read_frame",
    "write_frame",
]

# The Tail is the log's last 4 KB; a character is at least a byte, so this many characters
# of output always cover it.
OUTPUT_LIMIT = 4096
HEADER = struct.Struct(">I")
# The message a worker sends once its init phase is over.
READY = {"ready": True}


class TailBuffer(io.TextIOBase):
    """A text sink that keeps only the last ``limit`` characters written to it, so a handler
    printing without end holds a bounded amount of memory."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * self.limit:
            joined = "".join(self._parts)[-self.limit :]
            self._parts, self._size = [joined], len(joined)
        return len(text)

    def writable(self) -> bool:
        return True

    def getvalue(self) -> str:
        return "".join(self._parts)[-self.limit :]


def frame(message: Any) -> bytes:
    """One message as it goes over the pipe: its length, then its JSON."""
    data = json.dumps(message).encode()
    return HEADER.pack(len(data)) + data


def write_frame(stream: BinaryIO, message: Any) -> None:
    """Write one message and flush it."""
    stream.write(frame(message))
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Read one message; ``None`` at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    return json.loads(stream.read(size))


def error_log(error: dict[str, Any]) -> str:
    """The log entry Lambda's Python runtime writes for a handler's error: ``[ERROR] Type:
    message``, then the traceback with its indentation in no-break spaces (as recorded in
    CloudWatch by LocalStack's AWS-validated snapshot test_invocation_type_event_error)."""
    head = f"[ERROR] {error['errorType']}"
    if error["errorMessage"]:
        head += f": {error['errorMessage']}"
    lines = [head]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
    for entry in error["stackTrace"]:
        for line in entry.splitlines():
            text = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(text)) + text)
    return "\n".join(lines) + "\n"


class _Context:
    """The ``context`` of Lambda's Python runtime."""

    def __init__(self, data: dict[str, Any], deadline: float) -> None:
        self.function_name = data["function_name"]
        self.function_version = data["function_version"]
        self.invoked_function_arn = data["invoked_function_arn"]
        self.memory_limit_in_mb = data["memory_limit_in_mb"]
        self.aws_request_id = data["aws_request_id"]
        self.log_group_name = data["log_group_name"]
        self.log_stream_name = data["log_stream_name"]
        client_context = data.get("client_context")
        # As the runtime gives it: an object with client, custom and env.
        self.client_context = (
            None if client_context is None else types.SimpleNamespace(**client_context)
        )
        self.identity = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _fault(error_type: str, message: str) -> dict[str, Any]:
    # Lambda's runtime reports a failure to load the handler with an empty requestId and no
    # stack trace (awslambdaric's FaultException).
    return {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": []}


def _handler_frames(exc: BaseException, task_root: str) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)
    start = 0
    while start < len(frames) and not frames[start].filename.startswith(task_root):
        start += 1
    return traceback.format_list(frames[start:] or frames)


def _error(exc: BaseException, request_id: str, task_root: str) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": _handler_frames(exc, task_root),
    }


def _load(task_root: str, spec: str) -> tuple[Any, dict[str, Any] | None]:
    """The handler a ``module.function`` spec names, or the error Lambda's runtime answers
    with at every invocation when it cannot load it."""
    module_name, dot, attribute = spec.rpartition(".")
    if not dot or not module_name:
        return None, _fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}'")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        return None, _fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        )
    except SyntaxError as exc:
        return None, _fault(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        )
    except Exception as exc:
        # An error raised while the module runs is reported as itself, with the import's
        # frames (LocalStack's AWS-validated snapshot test_lambda_runtime_error).
        return None, {**_error(exc, "", task_root), "stackTrace": _handler_frames(exc, "")}
    handler = getattr(module, attribute, None)
    if handler is None:
        return None, _fault(
            "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
        )
    return handler, None


class _LogHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.sink: io.TextIOBase | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.sink is not None:
            self.sink.write(f"[{record.levelname}]\t{self.format(record)}\n")


def main() -> None:
    task_root, spec = sys.argv[1], sys.argv[2]
    # The frames go out on the original stdout; fd 1 now leads to stderr, so output written
    # below Python (a C extension, a subprocess) cannot break them.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    log_handler = _LogHandler()
    logging.getLogger().addHandler(log_handler)
    logging.getLogger().setLevel(logging.INFO)
    # What the module prints as it loads goes to the first invocation's log, as Lambda puts
    # it in the log of the cold start.
    output = TailBuffer()
    sys.stdout = sys.stderr = log_handler.sink = output
    handler, load_error = _load(task_root, spec)
    write_frame(channel, READY)
    while True:
        request = read_frame(requests)
        if request is None:
            return
        context = _Context(request["context"], time.monotonic() + request["timeout"])
        payload, error = _invoke(handler, load_error, request["event"], context, task_root)
        if error is not None:
            output.write(error_log(error))
        write_frame(
            channel, {"payload": payload, "error": error is not None, "log": output.getvalue()}
        )
        output = TailBuffer()
        sys.stdout = sys.stderr = log_handler.sink = output


def _invoke(
    handler: Any, load_error: dict[str, Any] | None, event: Any, context: _Context, task_root: str
) -> tuple[str, dict[str, Any] | None]:
    """The payload of one invocation, and the error it reports if it failed. ``SystemExit``
    and ``KeyboardInterrupt`` are not caught: the process ends, as Lambda's runtime does, and
    LocalLambda answers ``Runtime.ExitError``."""
    if load_error is not None:
        return json.dumps(load_error), load_error
    try:
        result = handler(event, context)
    except Exception as exc:
        error = _error(exc, context.aws_request_id, task_root)
        return json.dumps(error), error
    try:
        # NaN and Infinity are written as such: Lambda's runtime encodes with allow_nan.
        return json.dumps(result), None
    except (TypeError, ValueError, RecursionError) as exc:
        error = marshal_error(exc, context.aws_request_id)
        return json.dumps(error), error


def marshal_error(exc: Exception, request_id: str) -> dict[str, Any]:
    """The error of a result that is not JSON, in the words of Lambda's Python runtime
    (awslambdaric: "Unable to marshal response: ...", Runtime.MarshalError)."""
    return {
        "errorMessage": f"Unable to marshal response: {exc}",
        "errorType": "Runtime.MarshalError",
        "requestId": request_id,
        "stackTrace": [],
    }


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        # As LocalLambda answers it for a handler run in its own process: exit status 1.
        sys.exit(1)
