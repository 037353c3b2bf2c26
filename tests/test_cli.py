"""The command line, run in-process against LocalLambda (and twice as a real process)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import lambdaclient
from lambdaclient import LambdaClient, RoutingConfig
from lambdaclient.cli import main, parse_duration, parse_fraction, run
from lambdaclient.shifting import GateRule
from lambdaclient.testing import DropConnection, LocalLambda, ServerError

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def stable(event: Any, context: Any) -> dict[str, Any]:
    return {"echo": event, "version": context.function_version}


def healthy(event: Any, context: Any) -> dict[str, Any]:
    return {"echo": event, "version": context.function_version, "new": True}


def broken(event: Any, context: Any) -> Any:
    raise RuntimeError("version 3 is broken")


def logs(event: Any, context: Any) -> str:
    print("hello from the log")
    return "ok"


@pytest.fixture
async def lam(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LocalLambda]:
    """LocalLambda with ``fn``: version 1 (stable), 2 (healthy), 3 (always fails), and alias
    ``live`` on version 1; its credentials in the environment, as a user would have them."""
    async with LocalLambda(seed=7) as lam:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", lam.credentials.access_key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", lam.credentials.secret_access_key)
        async with client_for(lam) as client:
            for handler in (stable, healthy, broken):
                lam.add_function("fn", handler)
                await client.publish_version("fn")
            await client.create_alias("fn", "live", function_version="1", description="prod")
        yield lam


def client_for(lam: LocalLambda) -> LambdaClient:
    return LambdaClient(lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials)


async def cli(lam: LocalLambda, *argv: str) -> int:
    return await run(["--endpoint-url", lam.endpoint_url, "--region", lam.region, *argv])


async def assert_live_on(lam: LocalLambda, version: str) -> None:
    """All of alias ``live``'s traffic on ``version``, as the server holds it."""
    async with client_for(lam) as client:
        alias = await client.get_alias("fn", "live")
    assert (alias.function_version, alias.routing_config) == (version, None)


def outputs(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


def json_out(capsys: pytest.CaptureFixture[str]) -> Any:
    out, _ = outputs(capsys)
    return json.loads(out)  # one JSON document, nothing else


# --- aliases and versions ------------------------------------------------------------------


async def test_aliases_text_and_json(lam: LocalLambda, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli(lam, "aliases", "fn") == 0
    out, err = outputs(capsys)
    assert out.splitlines()[0].split() == ["NAME", "VERSION", "WEIGHTS", "DESCRIPTION"]
    assert out.splitlines()[1].split() == ["live", "1", "-", "prod"]
    assert err == ""

    assert await cli(lam, "--output", "json", "aliases", "fn") == 0
    (alias,) = json_out(capsys)["Aliases"]
    assert alias["Name"] == "live"
    assert alias["FunctionVersion"] == "1"
    assert alias["AliasArn"].endswith(":function:fn:live")
    assert set(alias) == {"AliasArn", "Name", "FunctionVersion", "Description", "RevisionId"}


async def test_global_options_may_follow_the_command(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["aliases", "fn", "--output", "json", "--region", lam.region]
    assert await run([*argv, "--endpoint-url", lam.endpoint_url]) == 0
    assert [a["Name"] for a in json_out(capsys)["Aliases"]] == ["live"]


async def test_alias_get_text_and_json(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(lam, "alias", "get", "fn", "live") == 0
    out, _ = outputs(capsys)
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["Name"] == "live"
    assert fields["FunctionVersion"] == "1"
    assert fields["Weights"] == "-"
    assert fields["Description"] == "prod"

    assert await cli(lam, "alias", "get", "fn", "live", "--output", "json") == 0
    alias = json_out(capsys)
    assert alias["Name"] == "live"
    assert alias["Description"] == "prod"
    assert "RoutingConfig" not in alias


async def test_alias_create_with_weights(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["alias", "create", "fn", "canary", "--function-version", "1", "--weight", "2=10%"]
    assert await cli(lam, *argv, "--description", "ten percent") == 0
    out, _ = outputs(capsys)
    assert "2=10%" in out
    assert "ten percent" in out

    argv = ["alias", "create", "fn", "quarter", "--function-version", "1"]
    assert await cli(lam, "--output", "json", *argv, "--routing-config", '{"2": 0.25}') == 0
    alias = json_out(capsys)
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    assert alias["FunctionVersion"] == "1"
    async with client_for(lam) as client:
        assert (await client.get_alias("fn", "canary")).routing_config == RoutingConfig({"2": 0.1})


async def test_alias_update_conditional_on_the_revision(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client_for(lam) as client:
        revision = (await client.get_alias("fn", "live")).revision_id
    argv = ["--output", "json", "alias", "update", "fn", "live", "--weight", "2=0.2"]
    assert await cli(lam, *argv, "--revision-id", revision) == 0
    alias = json_out(capsys)
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.2}}
    assert alias["Description"] == "prod"  # left out, so left as it was
    assert alias["RevisionId"] != revision

    # The same revision again is stale now: AWS's error, exit code 1.
    assert await cli(lam, *argv, "--revision-id", revision) == 1
    out, err = outputs(capsys)
    assert out == ""
    assert "PreconditionFailedException" in err

    clear = ["alias", "update", "fn", "live", "--routing-config", "{}", "--description", ""]
    assert await cli(lam, *clear) == 0
    out, _ = outputs(capsys)
    assert re.search(r"^Weights\s+-$", out, re.MULTILINE)
    async with client_for(lam) as client:
        alias_now = await client.get_alias("fn", "live")
    assert alias_now.routing_config is None
    assert not alias_now.description


async def test_alias_delete(lam: LocalLambda, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli(lam, "alias", "delete", "fn", "live") == 0
    out, _ = outputs(capsys)
    assert "deleted alias live" in out
    assert await cli(lam, "--output", "json", "aliases", "fn") == 0
    assert json_out(capsys) == {"Aliases": []}

    await cli(lam, "alias", "create", "fn", "again", "--function-version", "2")
    capsys.readouterr()
    assert await cli(lam, "--output", "json", "alias", "delete", "fn", "again") == 0
    assert json_out(capsys) == {}


async def test_versions_text_and_json(lam: LocalLambda, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli(lam, "versions", "fn") == 0
    out, _ = outputs(capsys)
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["VERSION", "LAST"]
    assert [line.split()[0] for line in lines[1:]] == ["$LATEST", "1", "2", "3"]

    assert await cli(lam, "--output", "json", "versions", "fn") == 0
    versions = json_out(capsys)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2", "3"]
    assert all({"FunctionArn", "CodeSha256", "Role", "LastModified"} <= set(v) for v in versions)


async def test_publish_text_and_json(lam: LocalLambda, capsys: pytest.CaptureFixture[str]) -> None:
    lam.add_function("fn", stable)
    assert await cli(lam, "publish", "fn", "--description", "release 4") == 0
    out, _ = outputs(capsys)
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["Version"] == "4"
    assert fields["Description"] == "release 4"

    lam.add_function("fn", healthy)
    assert await cli(lam, "--output", "json", "publish", "fn") == 0
    version = json_out(capsys)
    assert version["Version"] == "5"
    assert version["FunctionArn"].endswith(":function:fn:5")
    assert "CodeSha256" in version


# --- invoke --------------------------------------------------------------------------------


async def test_invoke_payload_from_the_argument(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(lam, "invoke", "fn", "--qualifier", "live", "--payload", '{"a": 1}') == 0
    out, _ = outputs(capsys)
    fields, payload = out.splitlines()[:2], out.splitlines()[2]
    assert dict(line.split(None, 1) for line in fields) == {
        "ExecutedVersion": "1",
        "StatusCode": "200",
    }
    assert json.loads(payload) == {"echo": {"a": 1}, "version": "1"}

    argv = ["--output", "json", "invoke", "fn", "--qualifier", "2", "--payload", "[1, 2]"]
    assert await cli(lam, *argv) == 0
    assert json_out(capsys) == {
        "StatusCode": 200,
        "ExecutedVersion": "2",
        "Payload": {"echo": [1, 2], "version": "2", "new": True},
    }


async def test_invoke_payload_from_a_file(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_bytes(b'{"from": "file"}')
    argv = ["--output", "json", "invoke", "fn", "--qualifier", "2", "--payload-file", str(event)]
    assert await cli(lam, *argv) == 0
    result = json_out(capsys)
    assert result["ExecutedVersion"] == "2"
    assert result["Payload"]["echo"] == {"from": "file"}


@pytest.mark.parametrize("option", ["--payload", "--payload-file"])
async def test_invoke_payload_from_stdin(
    lam: LocalLambda,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(b'{"from": "stdin"}')))
    assert await cli(lam, "invoke", "fn", "--qualifier", "1", option, "-") == 0
    out, _ = outputs(capsys)
    assert out.startswith("ExecutedVersion  1\n")
    assert json.loads(out.splitlines()[-1])["echo"] == {"from": "stdin"}


async def test_invoke_a_failing_function_exits_1(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(lam, "--output", "json", "invoke", "fn", "--qualifier", "3") == 1
    out, err = outputs(capsys)
    result = json.loads(out)
    assert result["FunctionError"] == "Unhandled"
    assert result["Payload"]["errorMessage"] == "version 3 is broken"
    assert "RuntimeError in version 3: version 3 is broken" in err
    assert "Traceback" not in err


async def test_invoke_log_tail_and_event(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.add_function("logs", logs)
    assert await cli(lam, "invoke", "logs", "--log-type", "Tail") == 0
    out, err = outputs(capsys)
    assert out.splitlines()[-1] == '"ok"'
    assert "hello from the log" in err  # diagnostics on stderr, the result on stdout

    assert await cli(lam, "invoke", "fn", "--invocation-type", "Event", "--output", "json") == 0
    assert json_out(capsys)["StatusCode"] == 202


# --- shift ---------------------------------------------------------------------------------


async def test_shift_linear_completes(lam: LocalLambda, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["shift", "fn", "live", "--to", "2", "--linear", "50%/0s", "--max-error-rate", "50%"]
    assert await cli(lam, *argv) == 0
    out, err = outputs(capsys)
    # Progress, a line per event, on stderr (not a terminal here: plain lines).
    kinds = [line.split()[1] for line in err.splitlines()]
    assert kinds == ["started", "weight_set", "healthy", "completed"]
    assert "step 1/1" in err
    # The summary on stdout.
    assert "STEP" in out
    # The step's row: the calls per version and the rule's verdict behind the decision.
    assert re.search(
        r"^1\s+50%\s+\S+\s+healthy\s+v1 0/\d+ errors, v2 0/\d+ errors\s+no higher error rate",
        out,
        re.MULTILINE,
    )
    assert re.search(r"^VERSION\s+INVOCATIONS\s+ERRORS\s+ERROR RATE", out, re.MULTILINE)
    assert "completed: alias live sends all traffic to version 2" in out
    await assert_live_on(lam, "2")


async def test_shift_json(lam: LocalLambda, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--output", "json", "shift", "fn", "live", "--to", "2", "--canary", "10%/0s"]
    assert await cli(lam, *argv, "--max-error-rate", "15%", "--max-latency", "30s") == 0
    out, err = outputs(capsys)
    result = json.loads(out)
    assert result["Completed"] is True
    assert result["RolledBack"] is False
    assert result["FromVersion"] == "1"
    assert result["Alias"]["FunctionVersion"] == "2"
    assert "RoutingConfig" not in result["Alias"]
    (step,) = result["Steps"]
    assert step["Weight"] == 0.1
    assert step["Healthy"] is True
    assert step["Reason"].startswith("no higher error rate")
    pairs = GateRule(max_error_rate=0.15).budget
    assert result["Stats"]["1"]["Invocations"] == result["Stats"]["2"]["Invocations"] == pairs
    assert set(result["Stats"]["1"]) == {
        "Invocations",
        "Errors",
        "ErrorRate",
        "MeanLatency",
        "MaxLatency",
        "P50Latency",
        "P90Latency",
    }
    assert "completed" in err  # plain progress lines still go to stderr


async def test_shift_takes_the_gate_rules_parameters(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--output", "json", "shift", "fn", "live", "--to", "2", "--canary", "10%/0s"]
    rates = ["--baseline-error-rate", "1%", "--false-rollback-rate", "5%"]
    assert await cli(lam, *argv, *rates, "--detection-rate", "90%", "--max-error-rate", "15%") == 0
    result = json.loads(outputs(capsys)[0])
    rule = GateRule(
        max_error_rate=0.15, baseline_error_rate=0.01, false_rollback_rate=0.05, detection_rate=0.9
    )
    assert rule.budget != GateRule(max_error_rate=0.15).budget
    assert result["Stats"]["2"]["Invocations"] == rule.budget


async def test_shift_to_a_failing_version_rolls_back(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["shift", "fn", "live", "--to", "3", "--linear", "50%/0s"]
    assert await cli(lam, *argv, "--probe-invocations", "400", "--max-error-rate", "0.1") == 3
    out, err = outputs(capsys)
    kinds = [line.split()[1] for line in err.splitlines()]
    assert kinds == ["started", "weight_set", "unhealthy", "rolling_back", "rolled_back"]
    assert re.search(r"^1\s+50%\s+\S+\s+UNHEALTHY", out, re.MULTILINE)
    assert re.search(r"^3\s+\d+\s+(\d+)\s+100%", out, re.MULTILINE)  # every call to v3 failed
    assert "rolled back to version 1: health check failed at 50%" in out
    await assert_live_on(lam, "1")

    assert (
        await cli(lam, "--output", "json", *argv, "--no-progress", "--max-error-rate", "10%") == 3
    )
    out, err = outputs(capsys)
    assert err == ""
    result = json.loads(out)
    assert result["RolledBack"] is True
    assert result["Reason"].startswith("health check failed at 50%: the new version fails more")
    assert result["Stats"]["3"]["ErrorRate"] == 1.0


async def test_shift_with_the_metrics_gate_rolls_back_on_real_traffic(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = asyncio.Event()

    async def traffic() -> None:  # what the alias serves while the shift runs
        async with client_for(lam) as client:
            while not stop.is_set():
                await client.invoke("fn", payload={}, qualifier="live")

    callers = [asyncio.ensure_future(traffic()) for _ in range(4)]
    argv = ["shift", "fn", "live", "--to", "3", "--linear", "50%/1s", "--metrics-gate"]
    try:
        code = await cli(
            lam, *argv, "--metrics-period", "1", "--settle", "0.2", "--max-error-rate", "20%"
        )
    finally:
        stop.set()
        await asyncio.gather(*callers)
    assert code == 3
    out, err = outputs(capsys)
    kinds = [line.split()[1] for line in err.splitlines()]
    assert kinds == ["started", "weight_set", "unhealthy", "rolling_back", "rolled_back"]
    # What the gate read, in the progress line and in the step's row: every call to version 3
    # through the alias failed, none to version 1.
    seen = re.search(r"traffic v1 0/(\d+) errors, v3 (\d+)/(\d+) errors", err)
    assert seen is not None
    assert int(seen[1]) > 0
    assert seen[2] == seen[3] != "0"
    assert re.search(r"^1\s+50%\s+\S+\s+UNHEALTHY\s+traffic v1 0/\d+ errors", out, re.M)
    assert "rolled back to version 1: health check failed at 50%: the new version fails" in out
    assert "probes per version" not in out  # no probe ran: --max-error-rate set the gate's
    await assert_live_on(lam, "1")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--linear", "50%/1m", "--settle", "5"], "--settle configures --metrics-gate: add it"),
        (["--all-at-once", "--metrics-gate"], "--all-at-once has no steps for --metrics-gate"),
        (["--linear", "50%/1m", "--metrics-gate", "--metrics-period", "7"], "--metrics-period"),
        (["--linear", "50%/1m", "--metrics-gate", "--detection-rate", "100%"], "--detection-rate"),
        (["--linear", "50%/1m", "--false-rollback-rate", "100%"], "--false-rollback-rate"),
        (
            ["--linear", "50%/1m", "--metrics-gate", "--baseline-error-rate", "96%"],
            "--baseline-error-rate",
        ),
    ],
)
async def test_metrics_gate_options_are_checked_before_anything_moves(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert await cli(lam, "shift", "fn", "live", "--to", "2", *argv) == 2
    out, err = outputs(capsys)
    assert out == ""
    assert message in err
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", err), "a Python parameter name in " + err
    await assert_live_on(lam, "1")


@pytest.mark.parametrize(
    ("to_version", "message"),
    [("1", "already sends its traffic to version 1"), ("9", "version 9 of fn does not exist")],
)
async def test_refused_shift_exits_4(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str], to_version: str, message: str
) -> None:
    assert await cli(lam, "shift", "fn", "live", "--to", to_version, "--all-at-once") == 4
    out, err = outputs(capsys)
    assert out == ""
    assert f"{message}" in err
    assert "ShiftRefusedError" in err
    assert "Traceback" not in err


async def test_a_concurrent_change_stops_the_shift_with_exit_4(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = False

    async def meddler(event: Any, context: Any) -> str:
        # Someone else edits the alias while the probe runs.
        nonlocal changed
        if not changed:
            changed = True
            async with client_for(lam) as client:
                await client.update_alias("fn", "live", description="hands off")
        return "ok"

    async with client_for(lam) as client:
        lam.add_function("fn", meddler)
        version = (await client.publish_version("fn")).version
    assert version == "4"
    argv = ["shift", "fn", "live", "--to", "4", "--linear", "50%/0s", "--max-error-rate", "50%"]
    assert await cli(lam, *argv) == 4
    _, err = outputs(capsys)
    assert "ConcurrentModificationError" in err
    async with client_for(lam) as client:
        alias = await client.get_alias("fn", "live")
    assert alias.description == "hands off"  # their change stands, nothing overwrote it
    assert alias.routing_config == RoutingConfig({"4": 0.5})


async def test_an_error_mid_shift_rolls_back_with_exit_3(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = False

    async def breaks_the_next_update(event: Any, context: Any) -> str:
        nonlocal broken
        if not broken:
            broken = True
            lam.inject("UpdateAlias", ServerError(500))  # not retried: it may have happened
        return "ok"

    async with client_for(lam) as client:
        lam.add_function("fn", breaks_the_next_update)
        await client.publish_version("fn")
    argv = ["shift", "fn", "live", "--to", "4", "--canary", "50%/0s", "--max-error-rate", "50%"]
    assert await cli(lam, *argv) == 3
    out, err = outputs(capsys)
    assert out == ""
    assert "ServiceException" in err
    assert "alias live was rolled back to version 1" in err
    assert "Traceback" not in err


async def test_a_cancelled_shift_rolls_back(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    shift = asyncio.create_task(cli(lam, "shift", "fn", "live", "--to", "2", "--linear", "50%/1h"))
    async with client_for(lam) as client:
        for _ in range(1000):  # until the first step has set the weight
            if (await client.get_alias("fn", "live")).routing_config is not None:
                break
            await asyncio.sleep(0.01)
        shift.cancel()
        with pytest.raises(asyncio.CancelledError):
            await shift
        alias = await client.get_alias("fn", "live")
    assert (alias.function_version, alias.routing_config) == ("1", None)
    _, err = outputs(capsys)
    assert "rolled_back" in err
    assert "interrupted; alias live was rolled back" in err


async def test_ctrl_c_rolls_back_and_exits_130(lam: LocalLambda) -> None:
    argv = ["--endpoint-url", lam.endpoint_url, "--region", lam.region]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lambdaclient",
        *argv,
        *["shift", "fn", "live", "--to", "2", "--linear", "50%/1h"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while "weight_set" not in (line := (await process.stderr.readline()).decode()):
                assert line, f"the shift stopped early: {lines}"
                lines.append(line)
            process.send_signal(signal.SIGINT)
            _, rest = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 130
    assert "interrupted; alias live was rolled back" in rest.decode()
    assert "Traceback" not in rest.decode()
    await assert_live_on(lam, "1")


async def test_shift_with_rich_progress(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich takes capsys's streams for terminals
    argv = ["shift", "fn", "live", "--to", "3", "--linear", "50%/0s", "--max-error-rate", "0.1"]
    assert await cli(lam, *argv) == 3
    out, err = outputs(capsys)
    err, out = ANSI.sub("", err), ANSI.sub("", out)
    assert "fn:live → version 3" in err  # the progress bar's label
    for kind in ("started", "weight_set", "unhealthy", "rolling_back", "rolled_back"):
        assert kind in err
    assert "┃ STEP" in out  # a rich table
    assert "UNHEALTHY" in out
    assert "probes per version" in out
    assert "rolled back to version 1" in out


async def test_shift_without_rich_falls_back_to_plain_lines(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    for name in [name for name in sys.modules if name == "rich" or name.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rich", None)  # import rich now raises ImportError
    assert await cli(lam, "shift", "fn", "live", "--to", "2", "--all-at-once") == 0
    out, err = outputs(capsys)
    assert [line.split()[1] for line in err.splitlines()] == ["started", "completed"]
    assert "\x1b[" not in err + out
    assert "completed: alias live sends all traffic to version 2" in out


# --- shift: readiness, and probes before and after traffic ----------------------------------


@pytest.fixture
async def slow_lam(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LocalLambda]:
    """As ``lam`` (versions 1 and 2 Active, alias ``live`` on 1), where a version published
    later stays Pending for 0.3 seconds."""
    async with LocalLambda(seed=7, version_activation_delay=0.3) as lam:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", lam.credentials.access_key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", lam.credentials.secret_access_key)
        async with client_for(lam) as client:
            for handler in (stable, healthy):
                lam.add_function("fn", handler)
                version = (await client.publish_version("fn")).version
                assert version is not None
                lam.set_version_state("fn", version, "Active")
            await client.create_alias("fn", "live", function_version="1")
            lam.add_function("fn", healthy, description="release 3")
            assert (await client.publish_version("fn")).state == "Pending"
        yield lam


async def test_shift_waits_for_the_new_version_to_be_active(
    slow_lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first read after the pre-flight's comes one second on, when version 3 is Active.
    argv = ["shift", "fn", "live", "--to", "3", "--all-at-once", "--ready-timeout", "1s"]
    assert await cli(slow_lam, *argv) == 0
    out, err = outputs(capsys)
    assert [line.split()[1] for line in err.splitlines()] == [
        "waiting",
        "ready",
        "started",
        "completed",
    ]
    assert (
        "version 3 is Pending (Creating: The function is being created.); waiting up to 1s" in err
    )
    assert "version 3 is Active after 1s" in err
    assert "completed: alias live sends all traffic to version 3" in out


async def test_a_version_not_active_in_time_is_refused_with_exit_4(
    slow_lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["shift", "fn", "live", "--to", "3", "--all-at-once", "--ready-timeout", "0"]
    assert await cli(slow_lam, *argv) == 4
    out, err = outputs(capsys)
    assert out == ""
    assert (
        "ShiftRefusedError: version 3 of fn was not Active within --ready-timeout (0s): last seen"
        " Pending (Creating: The function is being created.); nothing was changed"
    ) in err
    assert "ready_timeout" not in err
    await assert_live_on(slow_lam, "1")


async def test_a_failed_version_is_refused_with_its_reason(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.set_version_state(
        "fn", "2", "Failed", reason="The role cannot be assumed.", reason_code="InvalidRole"
    )
    assert await cli(lam, "shift", "fn", "live", "--to", "2", "--all-at-once") == 4
    _, err = outputs(capsys)
    assert (
        "the new version 2 of fn is Failed (InvalidRole: The role cannot be assumed.): it cannot"
        " take traffic"
    ) in err


async def test_pre_and_post_traffic_probes_pass(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["shift", "fn", "live", "--to", "2", "--canary", "50%/0s", "--max-error-rate", "50%"]
    assert await cli(lam, *argv, "--pre-traffic-probe", "--post-traffic-probe") == 0
    out, err = outputs(capsys)
    lines = err.splitlines()
    assert [line.split()[1] for line in lines] == [
        "started",
        "weight_set",
        "healthy",
        "healthy",
        "completed",
    ]
    assert "from version 1; pre-traffic probe: no higher error rate" in lines[0]
    assert "post-traffic probe: no higher error rate" in lines[3]
    # The summary lists the probes before and after traffic around the step.
    rows = [
        line.split()[0]
        for line in out.splitlines()
        if re.match(r"(pre|\d+|post)\s+(-|\d+%)\s", line)
    ]
    assert rows == ["pre", "1", "post"]
    assert re.search(r"^pre\s+-\s+-\s+healthy\s+v1 0/\d+ errors, v2 0/\d+ errors", out, re.M)
    assert re.search(r"^post\s+100%\s+-\s+healthy", out, re.M)

    argv = ["--output", "json", "shift", "fn", "live", "--to", "1", "--all-at-once"]
    assert await cli(lam, *argv, "--post-traffic-probe", "--max-error-rate", "50%") == 0
    result = json_out(capsys)
    assert result["BeforeTraffic"] is None
    assert result["AfterTraffic"]["Healthy"] is True
    assert result["AfterTraffic"]["Stats"]["1"]["Errors"] == 0


async def test_a_failing_pre_traffic_probe_refuses_with_exit_4(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["shift", "fn", "live", "--to", "3", "--all-at-once", "--pre-traffic-probe"]
    assert await cli(lam, *argv, "--max-error-rate", "10%", "--probe-invocations", "400") == 4
    out, err = outputs(capsys)
    assert out == ""
    assert "the --pre-traffic-probe check failed: the new version fails more often" in err
    assert "before_traffic" not in err
    await assert_live_on(lam, "1")


async def test_a_failing_post_traffic_probe_rolls_back_with_exit_3(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["shift", "fn", "live", "--to", "3", "--all-at-once", "--post-traffic-probe"]
    assert await cli(lam, *argv, "--max-error-rate", "10%", "--probe-invocations", "400") == 3
    out, err = outputs(capsys)
    kinds = [line.split()[1] for line in err.splitlines()]
    assert kinds == ["started", "unhealthy", "rolling_back", "rolled_back"]
    assert "post-traffic probe: the new version fails more often" in err
    assert "rolled_back      0%  --post-traffic-probe check failed: the new version" in err
    assert re.search(r"^post\s+100%\s+-\s+UNHEALTHY", out, re.M)
    assert "rolled back to version 1: --post-traffic-probe check failed: " in out
    await assert_live_on(lam, "1")


async def test_probe_options_with_all_at_once_need_a_probe_before_or_after_traffic(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    # No steps to gate: rather than ignore the options, the command says where they apply.
    argv = ["shift", "fn", "live", "--to", "3", "--all-at-once", "--probe-payload", "{}"]
    assert await cli(lam, *argv) == 2
    out, err = outputs(capsys)
    assert out == ""
    assert "--all-at-once has no steps for the probe to gate: add --post-traffic-probe" in err
    assert "health_check" not in err
    await assert_live_on(lam, "1")


# --- failures and usage errors ---------------------------------------------------------------


async def test_a_missing_alias_exits_1_without_a_traceback(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(lam, "alias", "get", "fn", "nope") == 1
    out, err = outputs(capsys)
    assert out == ""
    assert err.startswith("lambdaclient: error: ResourceNotFoundException: ")
    assert "(HTTP 404, request id " in err
    assert "Traceback" not in err


async def test_a_transport_error_exits_1(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.inject("CreateAlias", DropConnection())  # a write: not retried
    assert await cli(lam, "alias", "create", "fn", "beta", "--function-version", "2") == 1
    out, err = outputs(capsys)
    assert out == ""
    assert err.startswith("lambdaclient: error: TransportError: POST ")
    assert "Server disconnected" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("operation", "argv"),
    [
        ("UpdateAlias", ["alias", "update", "fn", "live", "--description", "new"]),
        ("DeleteAlias", ["alias", "delete", "fn", "live"]),
    ],
)
async def test_a_lost_connection_on_update_or_delete_is_not_resent(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str], operation: str, argv: list[str]
) -> None:
    lam.inject(operation, DropConnection())  # the connection closes once the request is sent
    assert await cli(lam, *argv) == 1  # a TransportError, as for CreateAlias
    _, err = outputs(capsys)
    assert "TransportError" in err


async def test_a_validation_error_exits_2(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(lam, "alias", "get", "fn", "123") == 2  # an all-digit alias name
    _, err = outputs(capsys)
    assert err.startswith("lambdaclient: error: ")
    assert "Traceback" not in err


async def test_no_region_exits_2_and_names_the_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))  # a profile has no region
    assert await run(["aliases", "fn"]) == 2
    _, err = outputs(capsys)
    assert "no region: pass --region," in err
    assert "region=" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["alias", "create", "fn", "a", "--function-version", "1", "--weight", "1=10%"],
            "error: --weight: the additional version '1' is the alias's primary version\n",
        ),
        (
            [
                "alias",
                "create",
                "fn",
                "a",
                "--function-version",
                "1",
                "--routing-config",
                '{"1": 1}',
            ],
            "error: --routing-config: the additional version '1' is the alias's primary version\n",
        ),
        (
            ["alias", "update", "fn", "a", "--function-version", "$LATEST", "--weight", "2=5%"],
            "error: --weight: an alias whose --function-version is $LATEST cannot have weights",
        ),
        (
            ["alias", "update", "fn", "a", "--function-version", "v2"],
            "error: --function-version 'v2' is not a version number",
        ),
        (["alias", "get", "fn", "123"], "error: NAME '123' is not an alias name"),
        (["aliases", "fn!"], "error: FN 'fn!' is not a function name"),
        (["invoke", "fn", "--qualifier", "a:b"], "error: --qualifier 'a:b' is not a version"),
        (["publish", "fn", "--description", "d" * 300], "error: --description is 300 characters"),
        (["alias", "update", "fn", "a", "--revision-id", ""], "error: --revision-id must not be"),
        (["--endpoint-url", "ftp://x", "aliases", "fn"], "error: --endpoint-url 'ftp://x'"),
        (["--cli-read-timeout", "1e10", "aliases", "fn"], "error: --cli-read-timeout must be"),
    ],
)
async def test_rejected_arguments_are_named_by_the_options_typed(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert await cli(lam, *argv) == 2
    out, err = outputs(capsys)
    assert out == ""
    assert message in err
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", err), "a Python parameter name in " + err


async def test_a_refused_shift_names_the_options_typed(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(lam, "shift", "fn", "live", "--to", "v2", "--all-at-once") == 4
    _, err = outputs(capsys)
    assert "--to must be a published version number, not 'v2'" in err
    assert "to_version" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--linear", "10/1m"], "write 10% for a percentage"),
        (["--linear", "150%/1m"], "at most 100%"),
        (["--linear", "100%/1m"], "below 100%"),
        (["--canary", "0%/1m"], "above 0%"),
        (["--linear", "ten%/1m"], "invalid percentage"),
        (["--linear", "10%"], "PERCENT/DURATION"),
        (["--linear", "10%/1x"], "invalid duration"),
        (["--linear", "10%/"], "invalid duration"),
        (["--canary", "10%/90"], "invalid duration"),
        (["--all-at-once", "--max-error-rate", "-1"], "invalid percentage"),
        (["--all-at-once", "--max-latency", "0"], "more than 0 seconds"),
        (["--all-at-once", "--probe-invocations", "0"], "at least 1"),
        (["--all-at-once", "--probe-payload", "{oops"], "invalid JSON"),
        (["--all-at-once", "--linear", "10%/1m"], "not allowed with"),
        (["--all-at-once", "--ready-timeout", "soon"], "invalid duration"),
        ([], "one of the arguments"),
    ],
)
async def test_bad_shift_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert await run(["shift", "fn", "live", "--to", "2", *argv]) == 2
    out, err = outputs(capsys)
    assert out == ""
    assert "usage: lambdaclient shift" in err
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["alias", "create", "fn", "a", "--function-version", "1", "--weight", "2"], "VERSION="),
        (["alias", "update", "fn", "a", "--weight", "2=x"], "invalid percentage"),
        (["alias", "update", "fn", "a", "--routing-config", "[1]"], "version to weight"),
        (["invoke", "fn", "--payload", "{"], "invalid JSON"),
        (["invoke", "fn", "--payload-file", "/no/such/file"], "cannot read"),
        (["invoke", "fn", "--payload", "{}", "--payload-file", "-"], "not allowed with"),
        (["invoke", "fn", "--invocation-type", "Later"], "invalid choice"),
        (["--output", "yaml", "aliases", "fn"], "invalid choice"),
        (["--cli-read-timeout", "soon", "aliases", "fn"], "invalid time 'soon'"),
        (["frobnicate"], "invalid choice"),
    ],
)
async def test_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert await run(argv) == 2
    _, err = outputs(capsys)
    assert message in err


def test_fractions_and_durations() -> None:
    assert parse_fraction("10%") == pytest.approx(0.1)
    assert parse_fraction("0.1") == 0.1
    assert parse_fraction("12.5%") == 0.125
    assert parse_fraction("1") == 1.0
    for bad in ("", "%", "1.5", "101%", "-5%", "nan", "inf", "1e-2"):
        with pytest.raises(ValueError, match="invalid"):
            parse_fraction(bad)
    assert parse_duration("30s") == timedelta(seconds=30)
    assert parse_duration("1m") == timedelta(minutes=1)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1m30s") == timedelta(seconds=90)
    assert parse_duration("1h0m5s") == timedelta(hours=1, seconds=5)
    assert parse_duration("0.5s") == timedelta(milliseconds=500)
    assert parse_duration("0") == timedelta(0)
    for bad in ("", "s", "30", "1m1h", "5d", "-1s", "1 m"):
        with pytest.raises(ValueError, match="invalid duration"):
            parse_duration(bad)


async def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(["--help"]) == 0
    out, _ = outputs(capsys)
    assert "exit codes:" in out
    for code in ("0", "1", "2", "3", "4", "130"):
        assert re.search(rf"^  {code} ", out, re.MULTILINE), code
    for command in ("aliases", "alias", "versions", "publish", "invoke", "shift"):
        assert command in out
    assert await run(["shift", "--help"]) == 0
    out, _ = outputs(capsys)
    assert "rolled back" in out


GLOBAL_OPTIONS = {
    "--region",
    "--profile",
    "--endpoint-url",
    "--output",
    "--cli-read-timeout",
    "--cli-connect-timeout",
    "--debug",
}
ROUTING_OPTIONS = {"--routing-config", "--weight"}


@pytest.mark.parametrize(
    ("command", "own"),
    [
        ((), {"--version"}),
        (("aliases",), {"--function-version"}),
        (("alias", "get"), set()),
        (
            ("alias", "create"),
            {"--function-version", "--description", "--routing-config", "--weight"},
        ),
        (
            ("alias", "update"),
            {
                "--function-version",
                "--description",
                "--routing-config",
                "--weight",
                "--revision-id",
            },
        ),
        (("alias", "delete"), set()),
        (("versions",), set()),
        (("publish",), {"--description", "--code-sha256", "--revision-id"}),
        (
            ("invoke",),
            {"--qualifier", "--payload", "--payload-file", "--invocation-type", "--log-type"},
        ),
        (
            ("shift",),
            {"--to", "--no-progress", "--linear", "--canary", "--all-at-once"}
            | {"--probe-payload", "--probe-invocations", "--max-error-rate", "--max-latency"}
            | {"--baseline-error-rate", "--false-rollback-rate", "--detection-rate"}
            | {"--ready-timeout", "--pre-traffic-probe", "--post-traffic-probe"}
            | {"--alarm", "--alarm-poll-interval", "--alarm-already-firing"}
            | {"--alarm-insufficient-data", "--alarm-unreadable"}
            | {"--metrics-gate", "--settle", "--metrics-period"},
        ),
    ],
)
async def test_each_help_lists_the_global_options_and_only_the_commands_own(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...], own: set[str]
) -> None:
    assert await run([*command, "--help"]) == 0
    out, _ = outputs(capsys)
    listed = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", out)) - {"--help"}
    assert listed == GLOBAL_OPTIONS | own


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"lambdaclient {lambdaclient.__version__}\n"


async def test_debug_logs_each_attempt_and_nothing_secret(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.inject("GetAlias", ServerError(500))  # a read: retried
    assert await cli(lam, "--debug", "alias", "get", "fn", "live") == 0
    marker = "payload-that-must-not-be-logged"
    payload = json.dumps({"secret": marker})
    assert await cli(lam, "invoke", "fn", "--payload", payload, "--qualifier", "1", "--debug") == 0
    out, err = outputs(capsys)
    assert marker in out  # the result, on stdout
    request_id = r"request id [0-9a-f-]{36}, [0-9.]+ ms$"
    attempts = [
        rf"GetAlias attempt 1: HTTP 500 ServiceException, {request_id}",
        rf"GetAlias attempt 2: HTTP 200, {request_id}",
        rf"Invoke attempt 1: HTTP 200, {request_id}",
    ]
    for attempt in attempts:
        assert re.search(attempt, err, re.MULTILINE), attempt
    for secret in (
        lam.credentials.secret_access_key,
        marker,
        "Signature",
        "Authorization",
        "Credential=",
        "X-Amz-",
    ):
        assert secret not in err


def test_main_returns_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shift", "fn", "live", "--to", "2", "--linear", "oops"]) == 2
    assert "invalid step" in capsys.readouterr().err


def test_python_m_lambdaclient_help() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "lambdaclient", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: lambdaclient")
    assert "exit codes:" in completed.stdout
    assert "shift" in completed.stdout
