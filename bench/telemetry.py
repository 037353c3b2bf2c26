"""What tracing costs a call: ``get_alias`` CPU per call without OpenTelemetry, with its API
installed but no provider configured (the default), and with the SDK recording every span.

The canned GetAlias server of ``bench/get_alias.py`` runs on 127.0.0.1 in another process.
Each configuration is measured in fresh interpreters (OpenTelemetry is either importable or
not for a whole process: "without" hides it, as if the ``otel`` extra were not installed),
in rotating order within the same run, and the best process of each is kept, since
interference from the rest of the machine only ever adds time. A figure is this process's
CPU time (``process_time``, the SDK's export thread included) per call, over sequential
calls on one keep-alive connection, after a warm-up. The SDK configuration is what an
application runs: a ``TracerProvider`` with a ``BatchSpanProcessor`` whose exporter drops
the spans (an exporter's own cost is the exporter's, not lambdaclient's).

    python bench/telemetry.py [--calls 3000] [--processes 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import subprocess
import sys
import time

from get_alias import serve

CONFIGURATIONS = ("without", "no-provider", "sdk")
LABELS = {
    "without": "OpenTelemetry not installed",
    "no-provider": "API installed, no provider configured",
    "sdk": "SDK provider, every span recorded",
}


async def measure(configuration: str, port: int, calls: int) -> float:
    if configuration == "without":
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]
    elif configuration == "sdk":
        from collections.abc import Sequence

        from opentelemetry import trace
        from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )

        class Drop(SpanExporter):
            def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Drop()))
        trace.set_tracer_provider(provider)

    from lambdaclient import Credentials, LambdaClient

    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    async with LambdaClient(
        "us-east-1", endpoint_url=f"http://127.0.0.1:{port}", credentials=credentials
    ) as client:
        for _ in range(300):  # warm the connection, caches and code paths
            await client.get_alias("my-fn", "live")
        started = time.process_time()
        for _ in range(calls):
            await client.get_alias("my-fn", "live")
        return (time.process_time() - started) / calls


def child(configuration: str, port: int, calls: int) -> float:
    command = [sys.executable, __file__, "--child", configuration]
    completed = subprocess.run(
        [*command, "--port", str(port), "--calls", str(calls)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(completed.stdout)["cpu_per_call"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--child", choices=CONFIGURATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        cost = asyncio.run(measure(args.child, args.port, args.calls))
        print(json.dumps({"cpu_per_call": cost}))
        return

    receiver, sender = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(sender,), daemon=True)
    server.start()
    figures: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
    try:
        port = receiver.recv()
        for run in range(args.processes):
            shift = run % len(CONFIGURATIONS)
            for name in CONFIGURATIONS[shift:] + CONFIGURATIONS[:shift]:
                figures[name].append(child(name, port, args.calls))
    finally:
        server.terminate()
        server.join()

    best = {name: min(values) for name, values in figures.items()}
    base = best["without"]
    print(
        f"get_alias, {args.calls} sequential calls in each of {args.processes} processes per"
        " configuration, CPU time per call (best process)"
    )
    for name in CONFIGURATIONS:
        print(f"  {LABELS[name]:<40} {best[name] * 1e6:8.1f} us  {best[name] / base:5.2f}x")


if __name__ == "__main__":
    main()
