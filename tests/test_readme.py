"""The README: it opens with how to install lambdaclient and how to work on it, and every
Python example in it runs as written (against LocalLambda) or, for the signature it shows,
matches the code."""

from __future__ import annotations

import ast
import asyncio
import inspect
import io
import os
import random
import re
import shlex
import sys
import textwrap
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdaclient import Credentials, LambdaClient, RoutingConfig
from lambdaclient.cloudwatch import CloudWatchClient
from lambdaclient.testing import LambdaContext, LocalLambda
from tests.local_lambda_process import local_lambda_process
from tests.typing import readme_fragments

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
QUICK_START = ROOT / "tests" / "typing" / "quickstart.py"
DESCRIBED = object()  # a default the README describes in words


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def _body(function: Any) -> str:
    """The source of a function's body, dedented: what its README block says."""
    source = Path(inspect.getsourcefile(function) or "").read_text()
    (node,) = (
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.AsyncFunctionDef) and n.name == function.__name__
    )
    lines = source.splitlines(keepends=True)[node.body[0].lineno - 1 : node.end_lineno]
    return textwrap.dedent("".join(lines))


def _configuration_block() -> str:
    (block,) = (block for block in _blocks("python") if block.startswith("LambdaClient("))
    return block


def test_every_python_block_is_checked() -> None:
    checked = [
        QUICK_START.read_text(),  # type-checked by mypy; run below
        _body(readme_fragments.invoking_functions),
        _body(readme_fragments.rolling_out_a_new_version),
        _body(readme_fragments.gating_on_alarms),
        _body(readme_fragments.waiting_for_a_new_version),
        (ROOT / "tests" / "test_readme_example.py").read_text(),  # a test pytest runs
        (ROOT / "tests" / "test_readme_mock_transport.py").read_text(),  # likewise
        _configuration_block(),
        _body(readme_fragments.your_own_credentials_provider),
        (ROOT / "tests" / "test_readme_observability.py").read_text(),  # likewise
    ]
    # ruff formats a README block as a module and a fragment as a function's body: around a
    # class, they differ in the number of blank lines only.
    assert [_one_blank_line(block) for block in _blocks("python")] == [
        _one_blank_line(block) for block in checked
    ]


def _one_blank_line(code: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", code)


def test_the_readme_opens_with_installing_then_the_two_set_up_commands() -> None:
    opening = README[: README.index("\n## ")]
    install, develop = re.findall(r"```sh\n(.*?)```", opening, flags=re.DOTALL)
    commands = [line.partition("#")[0].strip() for line in install.splitlines()]
    assert commands == ["pip install lambdaclient", "pip install 'lambdaclient[cli]'"]
    assert develop.split() == ["make", "demo", "make", "test"]


def _echo(event: Any, context: LambdaContext) -> Any:
    return event


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    """``my-fn`` echoing its event, with versions 1 to 7 and no alias yet."""
    async with LocalLambda(seed=11) as server:
        for number in range(1, 8):
            # A new $LATEST each time, or Lambda would publish nothing new.
            server.add_function("my-fn", _echo, description=f"release {number}")
            server.publish_version("my-fn")
        yield server


@pytest.fixture
async def client(lam: LocalLambda) -> AsyncIterator[LambdaClient]:
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
    ) as lambda_client:
        yield lambda_client


async def test_the_quick_start_runs_against_the_local_lambda_it_tells_you_to_start() -> None:
    (command,) = (
        line
        for block in _blocks("sh")
        for line in block.splitlines()
        if line.startswith("python -m lambdaclient.testing")
    )
    async with local_lambda_process(*shlex.split(command)[3:]) as exported:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(QUICK_START),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **exported},
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    # The alias after the update (version 2, weights cleared), then its one page.
    assert out.decode().splitlines() == ["live 2 None", "1 None"]


async def test_the_invoking_functions_example_runs(lam: LocalLambda, client: LambdaClient) -> None:
    await client.create_alias(
        "my-fn", "live", function_version="1", routing_config=RoutingConfig({"2": 0.5})
    )
    sink = io.BytesIO()

    await readme_fragments.invoking_functions(client, sink)

    await lam.stop()  # waits for the event invocation
    assert sink.getvalue() == b"{}{}"  # the two streams' echoed payloads
    assert lam.executions("my-fn", "$LATEST") == 1  # the event, sent without a qualifier
    assert lam.executions("my-fn", "1") + lam.executions("my-fn", "2") == 4


def _no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shift's waits pass at once: shift_traffic sleeps with asyncio.sleep."""
    real_sleep = asyncio.sleep

    async def no_wait(delay: float, result: Any = None) -> Any:
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", no_wait)


async def test_the_rollout_example_runs(
    lam: LocalLambda,
    client: LambdaClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await client.create_alias("my-fn", "live", function_version="6")
    _no_waits(monkeypatch)  # its ten one-minute waits pass at once

    await readme_fragments.rolling_out_a_new_version(client)

    alias = await client.get_alias("my-fn", "live")
    assert (alias.function_version, alias.routing_config) == ("7", None)
    progress = capsys.readouterr().out
    assert "rolled back" not in progress
    assert all(f" {weight}%" in progress for weight in range(10, 100, 10))
    assert lam.executions("my-fn", "7") > 0


async def test_the_alarm_gate_example_runs(
    lam: LocalLambda,
    client: LambdaClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await client.create_alias("my-fn", "live", function_version="6")
    for _ in range(3):
        await client.invoke("my-fn", qualifier="live")
    lam.set_alarm_state("my-fn-errors", "OK")
    _no_waits(monkeypatch)
    async with CloudWatchClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
    ) as cloudwatch:
        await readme_fragments.gating_on_alarms(client, cloudwatch)

    alias = await client.get_alias("my-fn", "live")
    assert (alias.function_version, alias.routing_config) == ("7", None)
    completed, counts = capsys.readouterr().out.splitlines()
    assert completed == "True None"
    assert counts == "{'v6': 3.0, 'v7': 0.0}"  # the calls made through the alias before


async def test_the_credentials_provider_example_runs(
    lam: LocalLambda, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    leased = Credentials("ASIALEASED", "leased-secret", "leased-token")
    lam.add_credentials(leased)  # the only credentials the example can sign with
    paths: list[str] = []

    class Store:
        async def lease(self, path: str) -> Mapping[str, Any]:
            paths.append(path)
            return {
                "access_key": leased.access_key_id,
                "secret_key": leased.secret_access_key,
                "security_token": leased.session_token,
                "lease_duration": 900,
            }

    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lam.endpoint_url)
    await readme_fragments.your_own_credentials_provider(Store())

    assert capsys.readouterr().out == "{'order': 42}\n"
    assert paths == ["aws/creds/deploy"]


def test_the_configuration_block_is_lambda_clients_signature() -> None:
    # Defaults are literals, the functions they name, or, in angle brackets, words for one.
    block = re.sub(r"<[^>]*>", "DESCRIBED", _configuration_block().strip())
    (definition,) = ast.parse(f"def {block}: ...").body
    assert isinstance(definition, ast.FunctionDef)
    assert definition.name == "LambdaClient"
    arguments = definition.args
    names = {"asyncio": asyncio, "random": random, "DESCRIBED": DESCRIBED}

    def default(node: ast.expr | None) -> object:
        return (
            None if node is None else eval(compile(ast.Expression(node), "README", "eval"), names)
        )

    documented = [
        (a.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, default(d))
        for a, d in zip(arguments.args, arguments.defaults, strict=True)
    ] + [
        (a.arg, inspect.Parameter.KEYWORD_ONLY, default(d))
        for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    ]
    actual = inspect.signature(LambdaClient).parameters
    assert [(name, kind) for name, kind, _ in documented] == [
        (p.name, p.kind) for p in actual.values()
    ]
    for name, _, value in documented:
        if value is DESCRIBED:  # the clock: "the system clock, in UTC"
            now = actual[name].default()
            assert now.tzinfo is UTC
            assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)
        else:
            assert actual[name].default == value, name


async def test_the_waiting_example_runs(
    lam: LocalLambda,
    client: LambdaClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lam.add_function("my-fn", _echo, description="release 8")
    lam.version_activation_delay = 0.3  # published Pending, Active 0.3 s later
    # The example's five-second pauses between reads take a tenth of a second each here.
    real_sleep = asyncio.sleep
    pauses: list[float] = []

    async def short(delay: float, result: Any = None) -> Any:
        pauses.append(delay)
        return await real_sleep(0.1, result)

    monkeypatch.setattr(asyncio, "sleep", short)

    await readme_fragments.waiting_for_a_new_version(client)

    assert capsys.readouterr().out == "8 Active\n"
    assert set(pauses) == {5.0}  # it did wait for the Pending version
