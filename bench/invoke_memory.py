"""Peak memory of reading a large invoke response: streamed (two ways) next to buffered.

A server on 127.0.0.1, in another process, answers ``Invoke`` with a body of ``--size-mb`` MB
(default 200) sent in 1 MiB pieces, and ``InvokeWithResponseStream`` with the same amount as
``PayloadChunk`` event-stream frames of ``--frame-kb`` KB (chunked transfer encoding, as a
stream of unknown length), then ``InvokeComplete``. The bytes are made as they are sent: the
server never holds the whole body either.

Each path is measured in a fresh client process, so one path's peak cannot hide in
another's: after imports, client construction and one small warm-up call through the same
path, the baseline is the process's resident set; the path is then read to its end (chunks
counted and dropped) and its growth is the peak RSS (``ru_maxrss``) minus that baseline. The
streamed paths first wait ``--stall-s`` seconds after the headers (not counted in their time),
so a client that buffered what the server pushes ahead of the reader would show it. They
must grow it by at most 32 MB; the buffered ``invoke`` is shown for comparison (it holds the
whole payload, so it grows by at least its size).

    python bench/invoke_memory.py [--size-mb 200] [--frame-kb 128] [--stall-s 0.5]

Exits non-zero if a streamed path grows the peak RSS by more than 32 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import binascii
import gc
import json
import multiprocessing
import os
import re
import resource
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import TypedDict

MB = 1 << 20
LIMIT_MB = 32
WARMUP_BYTES = 256 * 1024
BLOCK = bytes(range(256)) * 4096  # 1 MiB: the server sends the Invoke body in these
EXECUTED_VERSION = "7"
PATHS = ("invoke", "invoke_stream", "invoke_with_response_stream")

_REQUEST_TARGET = re.compile(
    r"/(?:2015-03-31/functions/bench-(?P<plain>\d+)/invocations"
    r"|2021-11-15/functions/bench-(?P<streamed>\d+)/response-streaming-invocations)(?:\?.*)?"
)


def function_name(size: int) -> str:
    """The function whose response is ``size`` bytes (the server reads it from the name)."""
    return f"bench-{size}"


# --- the event-stream encoding (just what this server sends) ----------------------------------


def _string_header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(raw_name))
        + raw_name
        + struct.pack("!BH", 7, len(raw_value))
        + raw_value
    )


def encode_event(event_type: str, content_type: str, payload: bytes) -> bytes:
    """One event-stream frame: prelude (lengths + CRC), headers, payload, message CRC."""
    headers = (
        _string_header(":event-type", event_type)
        + _string_header(":content-type", content_type)
        + _string_header(":message-type", "event")
    )
    prelude = struct.pack("!II", 16 + len(headers) + len(payload), len(headers))
    prelude += struct.pack("!I", binascii.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack("!I", binascii.crc32(message))


def payload_chunk(size: int) -> bytes:
    """A ``PayloadChunk`` frame carrying ``size`` bytes."""
    payload = (BLOCK * (size // len(BLOCK) + 1))[:size]
    return encode_event("PayloadChunk", "application/octet-stream", payload)


INVOKE_COMPLETE = encode_event("InvokeComplete", "application/json", b"{}")


# --- the server (another process) -------------------------------------------------------------


def _head(status: str, fields: dict[str, str]) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return f"HTTP/1.1 {status}\r\n{lines}\r\n".encode()


async def _send_invoke(writer: asyncio.StreamWriter, size: int) -> None:
    writer.write(
        _head(
            "200 OK",
            {
                "Content-Type": "application/octet-stream",
                "Content-Length": str(size),
                "X-Amz-Executed-Version": EXECUTED_VERSION,
                "x-amzn-RequestId": "bench-invoke",
            },
        )
    )
    block = memoryview(BLOCK)
    remaining = size
    while remaining:
        piece = block[: min(remaining, len(block))]
        writer.write(piece)
        remaining -= len(piece)
        await writer.drain()


async def _send_response_stream(writer: asyncio.StreamWriter, size: int, frame_size: int) -> None:
    writer.write(
        _head(
            "200 OK",
            {
                "Content-Type": "application/vnd.amazon.eventstream",
                "Transfer-Encoding": "chunked",
                "X-Amz-Executed-Version": EXECUTED_VERSION,
                "x-amzn-RequestId": "bench-response-stream",
            },
        )
    )
    full = payload_chunk(frame_size)
    remaining = size
    unflushed = 0
    while remaining:
        frame = full if remaining >= frame_size else payload_chunk(remaining)
        writer.write(b"%x\r\n" % len(frame))
        writer.write(frame)
        writer.write(b"\r\n")
        remaining -= min(remaining, frame_size)
        unflushed += len(frame)
        if unflushed >= MB:
            unflushed = 0
            await writer.drain()
    writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(INVOKE_COMPLETE), INVOKE_COMPLETE))
    await writer.drain()


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, frame: int) -> None:
    try:
        while True:  # keep-alive: one request after another on this connection
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            request_line, *field_lines = head.decode("latin-1").split("\r\n")
            _, target, _ = request_line.split(" ", 2)
            fields = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in field_lines if line)
            }
            length = int(fields.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            match = _REQUEST_TARGET.fullmatch(target)
            if match is None:
                body = b'{"Type":"User","message":"no such bench function"}'
                writer.write(
                    _head(
                        "404 Not Found",
                        {
                            "Content-Type": "application/json",
                            "Content-Length": str(len(body)),
                            "x-amzn-ErrorType": "ResourceNotFoundException",
                        },
                    )
                    + body
                )
            elif match["plain"] is not None:
                await _send_invoke(writer, int(match["plain"]))
            else:
                await _send_response_stream(writer, int(match["streamed"]), frame)
            await writer.drain()
    except ConnectionError:
        return
    finally:
        writer.close()


def serve(port_out: Connection, frame_size: int) -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _handle(r, w, frame_size), "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --- one measurement (a fresh client process) -------------------------------------------------


class Measurement(TypedDict):
    path: str
    received: int
    chunks: int
    largest_chunk: int
    baseline_kb: int
    peak_before_kb: int
    peak_kb: int
    seconds: float


def current_rss_kb() -> int:
    """This process's resident set now, in KiB."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:  # no procfs: the peak so far is the best there is
        return peak_rss_kb()
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def peak_rss_kb() -> int:
    """This process's peak resident set, in KiB (``ru_maxrss`` is bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


async def measure(path: str, port: int, size: int, stall: float) -> Measurement:
    from lambdaclient import Credentials, LambdaClient

    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    chunks = 0
    largest = 0

    def count(chunk: bytes) -> int:
        nonlocal chunks, largest
        chunks += 1
        largest = max(largest, len(chunk))
        return len(chunk)

    pause = 0.0  # how long a streamed read waits after the headers before reading the body
    async with LambdaClient(
        "us-east-1", endpoint_url=f"http://127.0.0.1:{port}", credentials=credentials
    ) as client:

        async def read_invoke(n: int) -> int:
            result = await client.invoke(function_name(n))
            if result.executed_version != EXECUTED_VERSION:
                raise RuntimeError(f"invoke: executed version {result.executed_version!r}")
            return count(result.payload)

        async def read_invoke_stream(n: int) -> int:
            received = 0
            async with client.invoke_stream(function_name(n)) as response:
                if response.executed_version != EXECUTED_VERSION:
                    raise RuntimeError(f"invoke_stream: version {response.executed_version!r}")
                await asyncio.sleep(pause)
                async for chunk in response.iter_chunks():
                    received += count(chunk)
            return received

        async def read_response_stream(n: int) -> int:
            received = 0
            async with client.invoke_with_response_stream(function_name(n)) as stream:
                await asyncio.sleep(pause)
                async for chunk in stream:
                    received += count(chunk)
            complete = stream.complete
            if complete is None or complete.error_code is not None:
                raise RuntimeError(f"invoke_with_response_stream ended with {complete!r}")
            return received

        readers: dict[str, Callable[[int], Awaitable[int]]] = {
            "invoke": read_invoke,
            "invoke_stream": read_invoke_stream,
            "invoke_with_response_stream": read_response_stream,
        }
        read = readers[path]
        # Warm up the connection, the code paths and lazy imports (botocore's event stream).
        if await read(WARMUP_BYTES) != WARMUP_BYTES:
            raise RuntimeError(f"{path}: the warm-up call came back short")
        chunks = largest = 0
        pause = stall if path != "invoke" else 0.0
        gc.collect()
        baseline = current_rss_kb()
        peak_before = peak_rss_kb()
        started = time.perf_counter()
        received = await read(size)
        seconds = time.perf_counter() - started - pause
        peak = peak_rss_kb()
    if received != size:
        raise RuntimeError(f"{path}: received {received} bytes, expected {size}")
    return Measurement(
        path=path,
        received=received,
        chunks=chunks,
        largest_chunk=largest,
        baseline_kb=baseline,
        peak_before_kb=peak_before,
        peak_kb=peak,
        seconds=seconds,
    )


def run_child(path: str, port: int, size: int, stall: float) -> Measurement:
    """Measure ``path`` in a fresh interpreter; its one line of JSON is the measurement."""
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            *("--child", path, "--port", str(port), "--size", str(size), "--stall-s", str(stall)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"measuring {path} failed (exit status {done.returncode})")
    measurement: Measurement = json.loads(done.stdout)
    return measurement


# --- the report -------------------------------------------------------------------------------


def growth_mb(m: Measurement) -> float:
    return (m["peak_kb"] - m["baseline_kb"]) / 1024


def report(results: list[Measurement], size_mb: float, frame_kb: int, stall: float) -> bool:
    """Print the table and the verdicts; whether every streamed path is within the limit."""
    print(
        f"Reading a {size_mb:g} MB invoke response (event-stream frames of {frame_kb} KB), "
        "each path in a fresh process"
    )
    if stall:
        print(
            f"(the streamed paths first wait {stall:g} s after the headers, so the server can "
            "push ahead of the reader; that wait is not in their time)"
        )
    print(
        f"{'path':<29} {'bytes received':>15} {'chunks':>7} {'largest':>9} "
        f"{'baseline':>9} {'peak RSS growth':>16} {'time':>7} {'throughput':>11}"
    )
    for m in results:
        print(
            f"{m['path']:<29} {m['received']:>15,} {m['chunks']:>7,} "
            f"{m['largest_chunk'] / 1024:>7.0f}KB {m['baseline_kb'] / 1024:>7.1f}MB "
            f"{growth_mb(m):>13.1f} MB {m['seconds']:>6.2f}s "
            f"{m['received'] / MB / m['seconds']:>6.0f} MB/s"
        )
    print()
    ok = True
    by_path = {m["path"]: m for m in results}
    for path in ("invoke_stream", "invoke_with_response_stream"):
        growth = growth_mb(by_path[path])
        verdict = "OK" if growth <= LIMIT_MB else "FAIL"
        ok = ok and growth <= LIMIT_MB
        print(f"{path} growth {growth:.1f} MB (target <= {LIMIT_MB} MB): {verdict}")
    buffered = growth_mb(by_path["invoke"])
    print(
        f"invoke (buffered) growth {buffered:.1f} MB, for comparison "
        f"(it holds the whole payload: expected >= {size_mb:g} MB)"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=200, help="response size (MB)")
    parser.add_argument("--frame-kb", type=int, default=128, help="PayloadChunk payload size (KB)")
    parser.add_argument(
        "--stall-s",
        type=float,
        default=0.5,
        help="streamed paths wait this long after the headers before reading (seconds)",
    )
    parser.add_argument("--child", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:  # one measurement, in this fresh process
        print(json.dumps(asyncio.run(measure(args.child, args.port, args.size, args.stall_s))))
        return
    size = int(args.size_mb * MB)
    if size < WARMUP_BYTES or not 1 <= args.frame_kb <= 16 * 1024 or args.stall_s < 0:
        parser.error(
            "--size-mb must be at least 0.25, --frame-kb between 1 and 16384, --stall-s >= 0"
        )
    receiver, sender = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(sender, args.frame_kb * 1024), daemon=True)
    server.start()
    try:
        port = receiver.recv()
        results = [run_child(path, port, size, args.stall_s) for path in PATHS]
    finally:
        server.terminate()
        server.join()
    if not report(results, args.size_mb, args.frame_kb, args.stall_s):
        sys.exit(1)


if __name__ == "__main__":
    main()
