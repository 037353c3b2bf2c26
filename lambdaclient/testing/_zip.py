"""Zip-packaged functions: the package as CreateFunction receives it, and the worker
processes that run it, one invocation at a time each, so that nothing the function does
(a crash, ``sys.exit``, an endless loop) reaches LocalLambda's own process."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import struct
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import attrs

from . import _runtime as runtime
from . import _worker

__all__ = ["BadPackage", "Package", "WorkerPool", "WorkerSpec"]

# AWS's limit on a package's unzipped size (LocalStack's AWS-validated snapshot
# test_oversized_unzipped_lambda: "Unzipped size must be smaller than 262144000 bytes").
UNZIPPED_LIMIT = 262_144_000
_WORKER_SCRIPT = os.path.abspath(_worker.__file__)
# Go's names for the signals, as Lambda reports a runtime killed by one ("signal: killed").
_SIGNAL_WORDS = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGINT: "interrupt",
}


class BadPackage(ValueError):
    """A package CreateFunction or UpdateFunctionCode must refuse, with AWS's words."""

    @classmethod
    def not_a_zip(cls) -> BadPackage:
        return cls(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        )


@attrs.frozen
class Package:
    """A deployment package: the zip's bytes, its SHA-256 (base64, as ``CodeSha256``) and
    its size (``CodeSize``)."""

    data: bytes = attrs.field(repr=False)
    sha256: str
    size: int

    @classmethod
    def from_zip(cls, data: bytes) -> Package:
        """Check that ``data`` is a zip Lambda would take; raise :class:`BadPackage` with
        AWS's message otherwise (test_create_lambda_exceptions: invalid_zip_exc)."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unzipped = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError, EOFError, struct.error) as exc:
            raise BadPackage.not_a_zip() from exc
        if unzipped >= UNZIPPED_LIMIT:
            raise BadPackage(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return cls(data, digest, len(data))


@attrs.frozen
class WorkerSpec:
    """What a worker for one version needs: its package, handler and environment."""

    package: Package
    handler: str
    environment: Mapping[str, str]


def _exit_reason(returncode: int | None) -> str:
    if returncode is None or returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        number = -returncode
        try:
            words = _SIGNAL_WORDS.get(signal.Signals(number), signal.Signals(number).name)
        except ValueError:
            words = str(number)
        return f"Runtime exited with error: signal: {words}"
    return f"Runtime exited with error: exit status {returncode}"


# Lambda's limit on a function's init phase (loading its module), apart from its Timeout.
INIT_LIMIT = 10.0
# The largest answer frame a worker may send: a payload at Lambda's limit (ASCII JSON), each
# character possibly escaped again as it is put in the frame's JSON, and the log's output (a
# character outside the BMP is written as two \uXXXX escapes, 12 bytes). A larger frame is
# not read.
MAX_FRAME_BYTES = runtime.MAX_RESPONSE_BYTES * 2 + _worker.OUTPUT_LIMIT * 12 + 1024


class InitTimedOut(Exception):
    """A worker's init phase ran past :data:`INIT_LIMIT`."""


class _FrameTooLarge(Exception):
    """A worker announced an answer larger than :data:`MAX_FRAME_BYTES`."""


def _init_timeout_message() -> str:
    # Not recorded from AWS (which retries a timed-out init within the invocation): the
    # words follow its "Task timed out after ..." for the init phase.
    return f"Init timed out after {INIT_LIMIT:.2f} seconds"


def _extract(data: bytes) -> str:
    task_root = tempfile.mkdtemp(prefix="locallambda-")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(task_root)  # names with ".." or a root are made safe
    except BaseException:
        shutil.rmtree(task_root, ignore_errors=True)
        raise
    return task_root


class _Worker:
    """One worker process, running in its version's unzipped package."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, spec: WorkerSpec, task_root: str) -> _Worker:
        """Start a worker and wait for the end of its init phase; :class:`InitTimedOut` past
        :data:`INIT_LIMIT`, :class:`runtime.ExitError` if it ended first."""
        environment = {
            "PATH": os.environ.get("PATH", os.defpath),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": task_root,
            "_HANDLER": spec.handler,
            **spec.environment,
        }
        if sys.platform == "win32":
            environment["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", "")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            _WORKER_SCRIPT,
            task_root,
            spec.handler,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=environment,
            cwd=task_root,
        )
        worker = cls(process)
        try:
            async with asyncio.timeout(INIT_LIMIT):
                await worker._read_answer()
        except TimeoutError as exc:
            await worker.close()
            raise InitTimedOut from exc
        except BaseException:
            await worker.close()
            raise
        return worker

    async def invoke(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Send one invocation and read its answer; an error if the process
        ended first (:class:`runtime.ExitError`)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(_worker.frame(request))
            await self.process.stdin.drain()
        except ConnectionError as exc:
            raise runtime.ExitError(_exit_reason(await self.process.wait())) from exc
        return await self._read_answer()

    async def _read_answer(self) -> dict[str, Any]:
        """The worker's next message, its size checked before it is read."""
        assert self.process.stdout is not None
        try:
            header = await self.process.stdout.readexactly(_worker.HEADER.size)
            (size,) = _worker.HEADER.unpack(header)
            if size > MAX_FRAME_BYTES:
                raise _FrameTooLarge
            answer: dict[str, Any] = json.loads(await self.process.stdout.readexactly(size))
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            raise runtime.ExitError(_exit_reason(await self.process.wait())) from exc
        return answer

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        # Not wait(): asyncio reports a child's exit only once its pipes are closed, and a
        # stdout paused with an answer left unread (one refused for its size) never reaches
        # its end, so wait() would hang. Reading what is left ends it: a killed process
        # writes no more than its pipe holds.
        await self.process.communicate()


class _Version:
    """One version's workers, and the package they share, unzipped once."""

    def __init__(self, spec: WorkerSpec) -> None:
        # Unzipped on a thread, so a large package does not hold up the server's loop.
        self.task_root = asyncio.ensure_future(asyncio.to_thread(_extract, spec.package.data))
        self.idle: list[_Worker] = []
        self.busy = 0
        self.retired = False

    async def remove_package(self) -> None:
        with contextlib.suppress(Exception):
            shutil.rmtree(await self.task_root, ignore_errors=True)


class WorkerPool:
    """Worker processes per function version: an idle one is reused, a busy version gets
    another one (as Lambda scales a version out to more sandboxes), and one that crashed or
    ran out of time is discarded, so the next invocation starts afresh. A version's package
    is unzipped once, for all its workers, and removed when the version is retired."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str, str], _Version] = {}
        self._busy: set[_Worker] = set()

    async def invoke(
        self,
        key: tuple[str, str, str],
        spec: WorkerSpec,
        event: Any,
        context: runtime.LambdaContext,
        seconds: float,
    ) -> runtime.Invocation:
        """Run one invocation of the version ``key`` (function, version, revision) names.
        A new worker's init phase has its own limit (:data:`INIT_LIMIT`, as Lambda's); the
        function's timeout covers the invocation only."""
        request_id = context.aws_request_id
        version = self._versions.get(key)
        if version is None:
            version = self._versions[key] = _Version(spec)
        version.busy += 1
        worker = None
        try:
            worker = (
                version.idle.pop()
                if version.idle
                else await _Worker.start(spec, await asyncio.shield(version.task_root))
            )
            self._busy.add(worker)
            async with runtime.time_limit(seconds):
                answer = await worker.invoke(
                    {"event": event, "timeout": seconds, "context": _context_json(context)}
                )
        except _FrameTooLarge:
            await self._discard(worker)
            return runtime.Invocation(runtime.response_too_large(), "Unhandled", "")
        except (runtime.TimedOut, runtime.ExitError, InitTimedOut) as exc:
            # The process is past saving: it ran out of time, or it ended.
            await self._discard(worker)
            payload = (
                runtime.runtime_error_payload(
                    "Sandbox.Timedout", request_id, _init_timeout_message()
                )
                if isinstance(exc, InitTimedOut)
                else runtime.failure_payload(exc, request_id, seconds)
            )
            return runtime.Invocation(
                payload, "Unhandled", runtime.failure_log(payload, request_id)
            )
        except BaseException:
            await self._discard(worker)
            raise
        else:
            self._busy.discard(worker)
            if version.retired:
                await worker.close()
            else:
                version.idle.append(worker)
        finally:
            version.busy -= 1
            if version.retired and version.busy == 0:
                await version.remove_package()
        return runtime.Invocation(
            answer["payload"].encode(), "Unhandled" if answer["error"] else None, answer["log"]
        )

    async def _discard(self, worker: _Worker | None) -> None:
        if worker is not None:
            self._busy.discard(worker)
            await worker.close()

    async def retire(self, function: str, version: str | None = None) -> None:
        """Stop the idle workers of a function (of one of its versions, if given): its code
        or configuration changed, or it was deleted. Busy ones stop when they finish, and
        the version's unzipped package is removed then."""
        for key in [k for k in self._versions if k[0] == function and version in (None, k[1])]:
            retired = self._versions.pop(key)
            retired.retired = True
            idle, retired.idle = retired.idle, []
            await asyncio.gather(*(worker.close() for worker in idle))
            if retired.busy == 0:
                await retired.remove_package()

    async def close(self) -> None:
        """Stop every worker, busy or idle, and remove every unzipped package."""
        versions = list(self._versions.values())
        workers = [*self._busy, *(w for v in versions for w in v.idle)]
        self._versions.clear()
        self._busy.clear()
        await asyncio.gather(*(worker.close() for worker in workers))
        await asyncio.gather(*(version.remove_package() for version in versions))


def _context_json(context: runtime.LambdaContext) -> dict[str, Any]:
    client_context = context.client_context
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "client_context": None if client_context is None else attrs.asdict(client_context),
    }
