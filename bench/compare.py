"""lambdaclient next to aiobotocore and raw aiohttp (the floor): one table, issue 6's targets.

A canned-response HTTP/1.1 keep-alive server (``compare_server.py``) runs on 127.0.0.1 in a
process of its own. Every (client, workload) is measured in fresh interpreters
(``compare_workloads.py``, ``compare_coldstart.py``), each printing one JSON line, so neither
the server's CPU time nor another client's (nor what another client imported or cached) is
in a figure. Each is run in several processes, the clients in a rotating order, and the best
figure is kept, since interference from the rest of the machine only ever adds time (the
median process is printed too). With two or more CPUs the server is pinned to one and the
clients to the others, as with a remote server: a client process that happened to share
the server's CPU measured markedly cheaper here (no cross-CPU wake-up, warm caches), which
made the best-of figures depend on placement luck (``--no-pin`` turns pinning off).

    python bench/compare.py [--quick] [--json PATH] [--only W[,W]] [--no-pin]
    python bench/compare.py --profile get_alias,invoke_1k [--profile-client lambdaclient]

``--quick`` cuts iteration counts and repeats (under a minute). ``--profile`` runs only the
named workloads, for one client, under cProfile and prints where the time goes (top entries
by own time, aiohttp's internals left out, and the time by package). Exits 0 whatever the
verdicts: the table is for a person to read.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import multiprocessing
import os
import platform
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from compare_server import STATS_PATH, serve

HERE = Path(__file__).resolve().parent
WORKLOADS_SCRIPT = HERE / "compare_workloads.py"
COLDSTART_SCRIPT = HERE / "compare_coldstart.py"
CLIENTS = ("lambdaclient", "aiobotocore", "floor")
SHORT = {"lambdaclient": "L", "aiobotocore": "A", "floor": "F"}
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
MIB = 1 << 20
STREAM_SIZE = 200 * MIB
TIMEOUT_S = 600

JSON = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """One of the issue's targets: lambdaclient's figure against ``against`` (or alone)."""

    against: Literal["aiobotocore", "floor", "absolute", "no-botocore"]
    op: Literal["<=", ">="] = "<="
    bound: float = 0.0
    text: str = ""

    def verdict(self, best: dict[str, float], flags: dict[str, bool]) -> bool | None:
        """Whether lambdaclient meets it; None when a figure is missing."""
        if self.against == "no-botocore":
            imported = flags.get("botocore_imported")
            return None if imported is None else not imported
        ours = best.get("lambdaclient")
        if ours is None:
            return None
        if self.against == "absolute":
            value = ours
        else:
            theirs = best.get(self.against)
            if not theirs:
                return None
            value = ours / theirs
        return value <= self.bound if self.op == "<=" else value >= self.bound


@dataclass(frozen=True)
class Spec:
    """A workload: how it is run, shown and judged."""

    key: str
    label: str
    unit: str
    scale: float  # the child's figure times this is the figure shown
    digits: int
    kind: Literal["workload", "coldstart"]
    full: tuple[int, int, int]  # operations per round, rounds per process, processes
    quick: tuple[int, int, int]
    clients: tuple[str, ...] = CLIENTS
    higher_is_better: bool = False
    ratios: bool = True  # False where a ratio means nothing (figures near zero)
    credentials: Literal["explicit", "env", "chain"] = "explicit"
    targets: tuple[Target, ...] = ()
    note: str = ""


CPU_TARGETS = (
    Target("floor", "<=", 1.3, "L/F <= 1.3"),
    Target("aiobotocore", "<=", 1 / 3, "L/A <= 1/3"),
)
SPECS = (
    Spec(
        "get_alias",
        "get_alias, sequential",
        "us CPU/call",
        1e6,
        1,
        "workload",
        (700, 3, 7),
        (300, 2, 1),
        targets=CPU_TARGETS,
    ),
    Spec(
        "update_alias",
        "update_alias + routing config",
        "us CPU/call",
        1e6,
        1,
        "workload",
        (500, 3, 5),
        (200, 2, 1),
    ),
    Spec(
        "list_aliases",
        "list_aliases, 10,000 in 200 pages",
        "ms CPU/listing",
        1e3,
        1,
        "workload",
        (1, 3, 5),
        (1, 1, 1),
    ),
    Spec(
        "invoke_1k",
        "invoke, 1 KB out + 1 KB back",
        "us CPU/call",
        1e6,
        1,
        "workload",
        (700, 3, 7),
        (300, 2, 1),
        targets=CPU_TARGETS,
    ),
    Spec(
        "invoke_1k_varied",
        "invoke, 1 KB, another payload each call",
        "us CPU/call",
        1e6,
        1,
        "workload",
        (700, 3, 5),
        (300, 2, 1),
        note="the rows above repeat one request; here no two payloads are the same",
    ),
    Spec(
        "invoke_1m",
        "invoke, 1 MB out + 1 MB back",
        "us CPU/call",
        1e6,
        0,
        "workload",
        (30, 3, 7),
        (20, 2, 1),
        targets=(Target("aiobotocore", "<=", 0.5, "L/A <= 1/2"),),
    ),
    Spec(
        "concurrent",
        "1,000 concurrent get_alias, 100 conns",
        "calls/s (wall)",
        1.0,
        0,
        "workload",
        (1000, 5, 3),
        (1000, 2, 1),
        higher_is_better=True,
        targets=(Target("aiobotocore", ">=", 2.5, "L/A >= 2.5"),),
    ),
    Spec(
        "cold_env",
        "import+construct+1st call, env creds",
        "ms wall",
        1e3,
        0,
        "coldstart",
        (1, 1, 7),
        (1, 1, 2),
        credentials="env",
        targets=(
            Target("aiobotocore", "<=", 0.6, "L/A <= 0.6"),
            Target("no-botocore", text="no botocore"),
        ),
    ),
    Spec(
        "cold_chain",
        "import+construct+1st call, botocore chain",
        "ms wall",
        1e3,
        0,
        "coldstart",
        (1, 1, 7),
        (1, 1, 2),
        credentials="chain",
        note="floor: no credentials at all (the same run as in the row above)",
    ),
    Spec(
        "sigv4",
        "SigV4 signing alone (vs botocore)",
        "us/request",
        1e6,
        1,
        "workload",
        (20000, 3, 3),
        (5000, 2, 1),
        clients=("lambdaclient", "aiobotocore"),
        targets=(Target("aiobotocore", "<=", 0.25, "L/A <= 1/4"),),
    ),
    Spec(
        "stream",
        "stream a 200 MB invoke response",
        "MB peak RSS growth",
        1.0,
        1,
        "workload",
        (STREAM_SIZE, 1, 2),
        (STREAM_SIZE, 1, 1),
        ratios=False,
        targets=(Target("absolute", "<=", 32, "L <= 32 MB"),),
        note="lambdaclient invoke_stream, aiobotocore Payload.iter_chunks(1 MiB), floor"
        " content.iter_chunks(); growth = peak RSS minus the RSS after a warm-up stream",
    ),
)
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}


@dataclass
class Results:
    """Every child's JSON, by workload and client."""

    runs: dict[str, dict[str, list[JSON]]] = field(default_factory=dict)

    def add(self, key: str, client: str, run: JSON) -> None:
        self.runs.setdefault(key, {}).setdefault(client, []).append(run)

    def best(self, spec: Spec) -> dict[str, float]:
        pick = max if spec.higher_is_better else min
        runs = self.runs.get(spec.key, {})
        if spec.key == "cold_chain" and "floor" not in runs:
            runs = {**runs, "floor": self.runs.get("cold_env", {}).get("floor", [])}
        return {
            client: pick(run["value"] for run in client_runs) * spec.scale
            for client, client_runs in runs.items()
            if client_runs
        }

    def flags(self, spec: Spec) -> dict[str, bool]:
        runs = self.runs.get(spec.key, {}).get("lambdaclient", [])
        flags = [run["botocore_imported"] for run in runs if "botocore_imported" in run]
        return {"botocore_imported": any(flags)} if flags else {}


# --- running the children --------------------------------------------------------------------


def cpu_split() -> tuple[set[int], set[int]] | None:
    """The CPU for the server and those for the clients, if this machine can pin processes."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return ({cpus[0]}, set(cpus[1:])) if len(cpus) >= 2 else None


@contextmanager
def bench_server(pin: bool) -> Iterator[int]:
    """Start the server; with ``pin``, on a CPU of its own, and this process (whose children
    are the clients) on the others."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(sender,), daemon=True)
    server.start()
    split = cpu_split() if pin else None
    previous = os.sched_getaffinity(0) if split else None
    if split and server.pid is not None:
        os.sched_setaffinity(server.pid, split[0])
        os.sched_setaffinity(0, split[1])
    try:
        if not receiver.poll(30):
            raise SystemExit("the bench server did not start")
        port: int = receiver.recv()
        yield port
    finally:
        server.terminate()
        server.join()
        if previous is not None:
            os.sched_setaffinity(0, previous)


def server_stats(port: int) -> JSON:
    """The server's connection and request counts since the last read (which resets them)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", STATS_PATH)
        stats: JSON = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    stats["open"] -= 1  # this very connection, which is counted as opened too
    stats["opened"] -= 1
    return stats


def child_env(home: Path, credentials: str) -> dict[str, str]:
    """The environment without the caller's AWS settings, and credentials where asked."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
    )
    if credentials == "env":
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    elif credentials == "chain":
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(home / "credentials")
    return env


def make_home(home: Path) -> None:
    (home / "config").write_text("")
    (home / "credentials").write_text(
        f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )


def run_child(command: Sequence[str], env: dict[str, str]) -> JSON:
    done = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{' '.join(command)} failed (exit status {done.returncode})")
    result: JSON = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def workload_command(
    spec: Spec, client: str, port: int, calls: int, rounds: int, profile_out: str | None = None
) -> list[str]:
    command = [str(WORKLOADS_SCRIPT), client, spec.key, "--port", str(port)]
    command += ["--calls", str(calls), "--rounds", str(rounds)]
    if profile_out:
        command += ["--profile-out", profile_out]
    return command


def measure_all(specs: Sequence[Spec], quick: bool, pin: bool, home: Path) -> Results:
    results = Results()
    with bench_server(pin) as port:
        processes = max((spec.quick if quick else spec.full)[2] for spec in specs)
        for repeat in range(processes):
            for spec in specs:
                calls, rounds, spec_processes = spec.quick if quick else spec.full
                if repeat >= spec_processes:
                    continue
                shift = repeat % len(spec.clients)
                for client in spec.clients[shift:] + spec.clients[:shift]:
                    if spec.kind == "coldstart":
                        if spec.credentials == "chain" and client == "floor":
                            continue  # no credentials to find: the cold_env run is the figure
                        command = [str(COLDSTART_SCRIPT), client, str(port)]
                    else:
                        command = workload_command(spec, client, port, calls, rounds)
                    run = run_child(command, child_env(home, spec.credentials))
                    run["server"] = server_stats(port)
                    results.add(spec.key, client, run)
                    print(
                        f"  [{repeat + 1}/{spec_processes}] {spec.key:<13} {client:<13}"
                        f"{run['value'] * spec.scale:>12.{spec.digits}f} {spec.unit}",
                        file=sys.stderr,
                        flush=True,
                    )
    return results


# --- the table -------------------------------------------------------------------------------


def _figure(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    return "-" if ours is None or not theirs else f"{ours / theirs:.3f}"


def table(results: Results, specs: Sequence[Spec]) -> tuple[list[str], list[JSON]]:
    """The table's lines (Markdown), and the figures behind them."""
    header = [
        "workload",
        "unit",
        "lambdaclient",
        "aiobotocore",
        "floor",
        "L/A",
        "L/F",
        "target",
        "result",
    ]
    rows = [header]
    figures: list[JSON] = []
    for spec in specs:
        best = results.best(spec)
        flags = results.flags(spec)
        ours, theirs, floor = (best.get(client) for client in CLIENTS)
        verdicts = [target.verdict(best, flags) for target in spec.targets]
        shown = [
            "n/a" if verdict is None else "PASS" if verdict else "MISS" for verdict in verdicts
        ]
        rows.append(
            [
                spec.label,
                spec.unit,
                _figure(ours, spec.digits),
                _figure(theirs, spec.digits),
                _figure(floor, spec.digits),
                _ratio(ours, theirs) if spec.ratios else "-",
                _ratio(ours, floor) if spec.ratios else "-",
                ", ".join(target.text for target in spec.targets) or "-",
                ", ".join(shown) or "-",
            ]
        )
        figures.append(
            {
                "workload": spec.key,
                "label": spec.label,
                "unit": spec.unit,
                "best": best,
                "lambdaclient/aiobotocore": ours / theirs if ours and theirs else None,
                "lambdaclient/floor": ours / floor if ours and floor else None,
                "flags": flags,
                "targets": [
                    {"target": target.text, "met": verdict}
                    for target, verdict in zip(spec.targets, verdicts, strict=True)
                ],
                "runs": results.runs.get(spec.key, {}),
            }
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {2, 3, 4, 5, 6}

    def line(row: list[str]) -> str:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    separator = "|" + "|".join(
        "-" * (width + 1) + ":" if i in right else "-" * (width + 2)
        for i, width in enumerate(widths)
    )
    separator += "|"
    return [line(header), separator, *(line(row) for row in rows[1:])], figures


def notes(results: Results, specs: Sequence[Spec]) -> list[str]:
    """What the table cannot say: the floor against aiobotocore, connections, signatures."""
    lines = []
    keys = {spec.key for spec in specs}
    floor_ratios = []
    for key in ("get_alias", "invoke_1k"):
        if key in keys:
            best = results.best(SPEC_BY_KEY[key])
            if best.get("floor") and best.get("aiobotocore"):
                floor_ratios.append(f"{key} {best['floor'] / best['aiobotocore']:.2f}")
    if floor_ratios:
        lines.append(
            "floor/aiobotocore CPU: " + ", ".join(floor_ratios) + " (the issue saw 1/5 to 1/3)"
        )
    for key in ("get_alias", "invoke_1k", "invoke_1m"):
        if key in keys:
            spec = SPEC_BY_KEY[key]
            medians = {
                client: statistics.median(run["value"] for run in runs) * spec.scale
                for client, runs in results.runs.get(key, {}).items()
                if runs
            }
            shown = ", ".join(f"{SHORT[c]} {v:,.{spec.digits}f}" for c, v in medians.items())
            ratios = [
                f"L/{SHORT[c]} {medians['lambdaclient'] / medians[c]:.2f}"
                for c in ("aiobotocore", "floor")
                if c in medians and "lambdaclient" in medians
            ]
            lines.append(f"{key}, median process ({spec.unit}): {shown}; {', '.join(ratios)}")
    if "invoke_1m" in keys:
        best = results.best(SPEC_BY_KEY["invoke_1m"])
        hashing = [run["sha256_s"] for run in results.runs["invoke_1m"].get("lambdaclient", [])]
        if hashing and best.get("floor") and best.get("aiobotocore"):
            hashing_us = min(hashing) * 1e6
            lines.append(
                f"invoke_1m: SHA-256 of the 1 MiB body, which SigV4 signs, costs {hashing_us:,.0f}"
                f" us; floor + that = {best['floor'] + hashing_us:,.0f} us is the least a signing"
                f" client can cost; 1/2 of aiobotocore's is {best['aiobotocore'] / 2:,.0f} us"
            )
    if "concurrent" in keys:
        runs = results.runs.get("concurrent", {})
        parts = []
        for client in CLIENTS:
            client_runs = runs.get(client, [])
            if client_runs:
                peak = max(run["server"]["peak_open"] for run in client_runs)
                cpu = min(run["cpu_per_call"] for run in client_runs) * 1e6
                parts.append(f"{client} {peak} connections, {cpu:.0f} us CPU/call")
        lines.append("concurrent: " + "; ".join(parts))
    for key in ("get_alias", "update_alias", "list_aliases", "invoke_1k", "invoke_1m"):
        for client, client_runs in results.runs.get(key, {}).items():
            opened = max(run["server"]["opened"] for run in client_runs)
            if opened != 1:
                lines.append(f"WARNING: {key} by {client} opened {opened} connections, not 1")
    for key in ("cold_env", "cold_chain"):
        ours = results.runs.get(key, {}).get("lambdaclient", [])
        if ours:
            imported = sorted({str(run["botocore_imported"]) for run in ours})
            lines.append(f"{key}: botocore imported by lambdaclient: {'/'.join(imported)}")
    signatures = [
        run.get("same_signature_as_botocore")
        for run in results.runs.get("sigv4", {}).get("lambdaclient", [])
    ]
    if signatures:
        same = all(signatures)
        lines.append(
            "sigv4: lambdaclient's Authorization header "
            + ("is the same as botocore's" if same else "DIFFERS from botocore's (WARNING)")
        )
    lines.extend(f"{spec.key}: {spec.note}" for spec in specs if spec.note)
    return lines


def versions() -> JSON:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    def git(*command: str) -> str:
        try:
            done = subprocess.run(
                ["git", *command], cwd=HERE.parent, capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return "unknown"
        return done.stdout.strip()

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "--short", "HEAD"),
        # The figures are of the working tree: say whether the package differs from the commit.
        "lambdaclient_modified": bool(git("status", "--porcelain", "--", "lambdaclient")),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        **{name: version(name) for name in ("lambdaclient", "aiohttp", "aiobotocore", "botocore")},
    }


# --- profiling -------------------------------------------------------------------------------

PACKAGES = (
    ("lambdaclient", "/lambdaclient/"),
    ("aiohttp", "/aiohttp/"),
    ("yarl/multidict", "/yarl/"),
    ("yarl/multidict", "/multidict/"),
    ("attrs/cattrs", "/attr/"),
    ("attrs/cattrs", "/cattrs/"),
    ("aiobotocore", "/aiobotocore/"),
    ("botocore", "/botocore/"),
    ("asyncio", "/asyncio/"),
)


def _package(filename: str) -> str:
    if filename == "~":
        return "builtins (C)"
    for name, marker in PACKAGES:
        if marker in filename:
            return name
    return "other (stdlib, bench)"


def _where(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function
    short = re.sub(r"^.*/(site-packages|lib/python3\.\d+)/", "", filename)
    if short == filename:
        short = str(Path(filename).relative_to(HERE.parent)) if filename.startswith("/") else short
    return f"{short}:{line}({function})"


WAITING = "<method 'poll' of 'select.epoll' objects>"  # waiting for the server: not CPU


def print_profile(path: str, calls: int, top: int = 15) -> None:
    stats: Any = pstats.Stats(path)  # .stats is not in the stubs
    entries = [
        (where, figures)
        for where, figures in stats.stats.items()
        if not (where[0] == "~" and where[2] == WAITING)
    ]
    waiting = sum(
        figures[2]
        for where, figures in stats.stats.items()
        if where[0] == "~" and where[2] == WAITING
    )
    total = sum(tottime for _, (_, _, tottime, _, _) in entries)
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in entries:
        package = _package(filename)
        by_package[package] = by_package.get(package, 0.0) + tottime
    print(
        f"  own time by package: {total / calls * 1e6:.1f} us/op profiled"
        f" (waiting in epoll, {waiting / calls * 1e6:.1f} us/op, left out)"
    )
    for package, tottime in sorted(by_package.items(), key=lambda item: -item[1]):
        print(f"    {package:<24} {tottime / calls * 1e6:8.1f} us/op  {tottime / total:6.1%}")
    print(f"  top {top} by own time, aiohttp's internals left out (per op):")
    print(f"    {'own us':>8} {'cum us':>8} {'calls':>7}  function")
    ranked = sorted(entries, key=lambda item: -item[1][2])
    shown = 0
    for (filename, line, function), (_, ncalls, tottime, cumtime, _) in ranked:
        if "/aiohttp/" in filename:
            continue
        print(
            f"    {tottime / calls * 1e6:8.2f} {cumtime / calls * 1e6:8.2f} "
            f"{ncalls / calls:7.2f}  {_where(filename, line, function)}"
        )
        shown += 1
        if shown == top:
            break


def profile(keys: Sequence[str], client: str, pin: bool, home: Path) -> None:
    with bench_server(pin) as port:
        for key in keys:
            spec = SPEC_BY_KEY[key]
            if spec.kind != "workload" or key in ("sigv4", "stream", "concurrent"):
                raise SystemExit(f"--profile: {key} is not a sequential workload")
            calls, rounds, _ = spec.full
            out = str(home / f"{key}.prof")
            run = run_child(
                workload_command(spec, client, port, calls, rounds, out),
                child_env(home, spec.credentials),
            )
            print(
                f"{client} {key}: {run['value'] * spec.scale:.1f} {spec.unit} under cProfile"
                f" ({calls} x {rounds} ops profiled)"
            )
            print_profile(out, calls * rounds)
            print()


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (< 1 minute)")
    parser.add_argument("--json", metavar="PATH", help="also save the figures as JSON")
    parser.add_argument(
        "--only", metavar="W[,W]", help=f"run only these workloads ({', '.join(SPEC_BY_KEY)})"
    )
    parser.add_argument("--profile", metavar="W[,W]", help="cProfile these workloads instead")
    parser.add_argument("--profile-client", choices=CLIENTS, default="lambdaclient")
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the OS place the server and the clients (default: server on one CPU, "
        "clients on the others, when there are two or more)",
    )
    args = parser.parse_args()
    selected = args.profile or args.only
    keys = selected.split(",") if selected else list(SPEC_BY_KEY)
    unknown = [key for key in keys if key not in SPEC_BY_KEY]
    if unknown:
        parser.error(f"unknown workloads: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="compare-") as directory:
        home = Path(directory)
        make_home(home)
        if args.profile:
            profile(keys, args.profile_client, args.pin, home)
            return
        specs = [SPEC_BY_KEY[key] for key in keys]
        meta = versions()
        split = cpu_split() if args.pin else None
        meta["pinning"] = (
            f"server on CPU {sorted(split[0])}, clients on CPUs {sorted(split[1])}"
            if split
            else "none"
        )
        mode = "quick" if args.quick else "full"
        print(f"Measuring ({mode}; progress on stderr)...", file=sys.stderr)
        started = time.perf_counter()
        results = measure_all(specs, args.quick, args.pin, home)
        elapsed = time.perf_counter() - started
    lines, figures = table(results, specs)
    print()
    print(
        f"lambdaclient (L) vs aiobotocore (A) vs raw aiohttp (F, the floor), {mode} run, "
        f"{meta['date']}, Python {meta['python']}, aiohttp {meta['aiohttp']}, "
        f"aiobotocore {meta['aiobotocore']}, botocore {meta['botocore']}, "
        f"{meta['cpus']} CPUs, {elapsed:.0f} s"
    )
    modified = (
        " (lambdaclient/ modified in the working tree)" if meta["lambdaclient_modified"] else ""
    )
    print(f"lambdaclient {meta['lambdaclient']} at commit {meta['commit']}{modified}.")
    print(f"Pinning: {meta['pinning']}.")
    print("Best of the processes run for each; CPU figures are the client process's alone.")
    print()
    for line in lines:
        print(line)
    print()
    for note in notes(results, specs):
        print(note)
    if args.json:
        meta.update(mode=mode, seconds=elapsed, loadavg_end=os.getloadavg())
        Path(args.json).write_text(json.dumps({"meta": meta, "workloads": figures}, indent=2))


if __name__ == "__main__":
    main()
