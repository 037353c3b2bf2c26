"""``lambdaclient shift ... --alarm NAME``: rollouts gated on CloudWatch alarms, through the
command line, against LocalLambda (which serves the function and its alarms)."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from lambdaclient.cli import run
from lambdaclient.testing import LocalLambda, ServerError

from .test_cli import assert_live_on, cli, client_for, lam, outputs

__all__ = ["lam"]  # the fixture, shared with the other command line tests

ALARM = "fn-errors"
FAST = ["--alarm", ALARM, "--alarm-poll-interval", "0.05"]


async def _alarm_once_weights_move(lam: LocalLambda) -> None:
    """Set the alarm to ALARM once alias live sends part of its traffic to the new version."""
    async with client_for(lam) as client:
        # The server's alias is the only seam: read it until the weights move.
        while (await client.get_alias("fn", "live")).routing_config is None:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    lam.set_alarm_state(ALARM, "ALARM", reason="Threshold Crossed: 3 errors")


async def test_an_alarm_mid_step_rolls_back_within_a_poll(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.set_alarm_state(ALARM, "OK")
    firing = asyncio.ensure_future(_alarm_once_weights_move(lam))
    # A ten-minute step: only the alarm's watch can end it within the test.
    argv = ["shift", "fn", "live", "--to", "2", "--linear", "50%/10m", *FAST]
    code = await asyncio.wait_for(cli(lam, *argv), timeout=30)
    await firing
    assert code == 3
    out, err = outputs(capsys)
    lines = err.splitlines()
    assert [line.split()[1] for line in lines] == [
        "started",
        "weight_set",
        "unhealthy",
        "rolling_back",
        "rolled_back",
    ]
    # What the gate saw before traffic, and the alarm behind the rollback.
    assert f"pre-traffic checks (--alarm): alarms OK: {ALARM}" in lines[0]
    assert f"alarm {ALARM} is ALARM: Threshold Crossed: 3 errors" in lines[2]
    assert re.search(r"^1\s+50%\s+\S+\s+UNHEALTHY", out, re.MULTILINE)
    assert (
        f"rolled back to version 1: health check failed at 50%: alarm {ALARM} is ALARM:"
        " Threshold Crossed: 3 errors"
    ) in out
    await assert_live_on(lam, "1")


async def test_an_alarm_already_firing_refuses_unless_told_to_proceed(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.set_alarm_state(ALARM, "ALARM", reason="since yesterday")
    argv = ["shift", "fn", "live", "--to", "2", "--linear", "50%/0s", *FAST]
    assert await cli(lam, *argv) == 4
    out, err = outputs(capsys)
    assert out == ""
    assert f"the --alarm check failed: alarm {ALARM} is ALARM: since yesterday" in err
    await assert_live_on(lam, "1")

    argv += ["--alarm-already-firing", "proceed", "--output", "json", "--no-progress"]
    assert await cli(lam, *argv) == 0
    out, _ = outputs(capsys)
    result = json.loads(out)
    assert result["Completed"] is True
    (step,) = result["Steps"]
    assert "since before the shift began: ignored" in step["Reason"]
    await assert_live_on(lam, "2")


async def test_an_alarm_that_does_not_exist_refuses_unless_unreadable_passes(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["shift", "fn", "live", "--to", "2", "--linear", "50%/0s", *FAST]
    assert await cli(lam, *argv) == 4
    _, err = outputs(capsys)
    assert f"no alarm named {ALARM}" in err
    assert await cli(lam, *argv, "--alarm-unreadable", "pass") == 0
    await assert_live_on(lam, "2")


async def test_insufficient_data_fails_when_asked(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.set_alarm_state(ALARM, "INSUFFICIENT_DATA", reason="no data yet")
    argv = ["shift", "fn", "live", "--to", "2", "--linear", "50%/0s", *FAST]
    assert await cli(lam, *argv, "--alarm-insufficient-data", "fail") == 4
    _, err = outputs(capsys)
    assert f"alarm {ALARM} is INSUFFICIENT_DATA: no data yet" in err
    assert await cli(lam, *argv) == 0


async def test_an_unreadable_alarm_fails_the_gate(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.set_alarm_state(ALARM, "OK")
    lam.inject("DescribeAlarms", ServerError(status=400, code="InvalidParameterValue"))
    argv = ["shift", "fn", "live", "--to", "2", "--linear", "50%/0s", *FAST]
    assert await cli(lam, *argv) == 4
    _, err = outputs(capsys)
    assert "the alarms could not be read" in err


async def test_the_probe_and_the_alarms_gate_together(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.set_alarm_state(ALARM, "OK")
    argv = ["shift", "fn", "live", "--to", "2", "--linear", "50%/0s", "--max-error-rate", "50%"]
    assert await cli(lam, *argv, *FAST, "--pre-traffic-probe") == 0
    out, err = outputs(capsys)
    assert "pre-traffic checks (--pre-traffic-probe and --alarm): no higher error rate" in err
    # The step's verdict: the probe's rule, then the alarms.
    assert re.search(
        rf"^1\s+50%\s+\S+\s+healthy\s+v1 0/\d+ errors, v2 0/\d+ errors\s+no higher error rate.*;"
        rf" alarms OK: {ALARM}$",
        out,
        re.MULTILINE,
    )

    # The probe fails version 3 first: its failure is the reason, the alarms unread.
    argv = ["shift", "fn", "live", "--to", "3", "--linear", "50%/0s", "--max-error-rate", "10%"]
    assert await cli(lam, *argv, *FAST, "--probe-invocations", "400") == 3
    out, _ = outputs(capsys)
    assert "rolled back to version 2: health check failed at 50%: the new version fails" in out


async def test_all_at_once_reads_the_alarms_after_traffic(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    lam.set_alarm_state(ALARM, "OK")
    assert await cli(lam, "shift", "fn", "live", "--to", "2", "--all-at-once", *FAST) == 0
    _, err = outputs(capsys)
    assert f"post-traffic checks (--alarm): alarms OK: {ALARM}" in err


async def test_alarm_options_without_an_alarm_are_a_usage_error(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["shift", "fn", "live", "--to", "2", "--linear", "50%/0s"]
    assert await cli(lam, *argv, "--alarm-poll-interval", "5s") == 2
    _, err = outputs(capsys)
    assert "--alarm-poll-interval configure the alarms: add --alarm NAME" in err
    assert await cli(lam, *argv, "--alarm", "x" * 256) == 2
    _, err = outputs(capsys)
    assert "--alarm" in err
    await assert_live_on(lam, "1")


async def test_cloudwatchs_own_endpoint_variable_is_honoured(
    lam: LocalLambda, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lam.set_alarm_state(ALARM, "OK")
    # Nothing listens at the general endpoint: each service must use its own.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lam.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", lam.endpoint_url)
    argv = ["--region", lam.region, "shift", "fn", "live", "--to", "2", "--linear", "50%/0s"]
    assert await run([*argv, *FAST]) == 0
    await assert_live_on(lam, "2")
