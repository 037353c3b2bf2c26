"""The AWS CLI v1 drives a function's whole lifecycle on ``python -m lambdaclient.testing``,
as a subprocess given only the variables the server prints.

The CLI is not a dependency: awscli pins docutils below what the dev extra's twine needs, so
``make test`` installs it in a virtualenv of its own (``.venv-awscli`` unless ``CLI_VENV``
says otherwise) and names its ``aws`` in ``LAMBDACLIENT_AWS_CLI``. The test uses that one,
else ``python -m awscli`` when this interpreter has it, else an ``aws`` v1 on the PATH,
and is skipped, saying so, where there is none.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.local_lambda_process import local_lambda_process
from tests.packages import write_package

ROLE = "arn:aws:iam::123456789012:role/app"


ROOT = Path(__file__).resolve().parent.parent


def _aws_cli() -> list[str] | None:
    # make names the CLI it installed (its virtualenv's folder may be overridden).
    own = Path(os.environ.get("LAMBDACLIENT_AWS_CLI", ROOT / ".venv-awscli" / "bin" / "aws"))
    if own.exists():
        return [str(own)]
    if importlib.util.find_spec("awscli") is not None:
        return [sys.executable, "-m", "awscli"]
    found = shutil.which("aws")
    if found is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
        if (version.stdout + version.stderr).startswith("aws-cli/1."):
            return [found]
    return None


AWS_CLI = _aws_cli()
pytestmark = pytest.mark.skipif(
    AWS_CLI is None, reason="the AWS CLI v1 is not installed (make peers, or pip install awscli)"
)


class Cli:
    def __init__(self, exported: dict[str, str], folder: Path) -> None:
        # Only what the server printed, beside the isolated HOME the tests run with.
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            **exported,
        }
        self.folder = folder

    async def __call__(self, *arguments: str) -> Any:
        assert AWS_CLI is not None
        process = await asyncio.create_subprocess_exec(
            *AWS_CLI,
            "lambda",
            *arguments,
            "--output",
            "json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, stderr.decode()
        return json.loads(stdout) if stdout.strip() else None

    async def create_function(self, name: str, package: Path, *arguments: str) -> Any:
        return await self(
            "create-function",
            "--function-name",
            name,
            "--runtime",
            "python3.12",
            "--role",
            ROLE,
            "--handler",
            "app.handler",
            "--zip-file",
            f"fileb://{package}",
            *arguments,
        )

    async def invoke(self, name: str, *arguments: str) -> tuple[Any, Any]:
        out = self.folder / "out.json"
        meta = await self(
            "invoke",
            "--function-name",
            name,
            "--payload",  # v1 sends a blob argument as it is
            '{"name": "ada"}',
            *arguments,
            str(out),
        )
        return meta, json.loads(out.read_text())


GREET = "def handler(event, context):\n    return {'version': VERSION, 'hello': event['name']}\n"


async def test_the_aws_cli_drives_a_function_lifecycle(tmp_path: Path) -> None:
    async with local_lambda_process("--seed", "3") as exported:
        assert "AWS_DEFAULT_REGION" in exported
        aws = Cli(exported, tmp_path)
        v1_zip = write_package(tmp_path / "v1.zip", GREET.replace("VERSION", "1"))
        created = await aws.create_function("greet", v1_zip)
        assert created["FunctionName"] == "greet"
        assert (await aws("publish-version", "--function-name", "greet"))["Version"] == "1"
        v2_zip = write_package(tmp_path / "v2.zip", GREET.replace("VERSION", "2"))
        await aws(
            "update-function-code", "--function-name", "greet", "--zip-file", f"fileb://{v2_zip}"
        )
        assert (await aws("publish-version", "--function-name", "greet"))["Version"] == "2"
        await aws(
            "create-alias",
            "--function-name",
            "greet",
            "--name",
            "live",
            "--function-version",
            "1",
            "--routing-config",
            '{"AdditionalVersionWeights": {"2": 0.5}}',
        )
        seen = set()
        for _ in range(6):
            meta, payload = await aws.invoke("greet", "--qualifier", "live")
            assert payload["version"] == int(meta["ExecutedVersion"])
            seen.add(meta["ExecutedVersion"])
        assert seen == {"1", "2"}

        sleepy = write_package(
            tmp_path / "sleepy.zip", "import time\ndef handler(e, c):\n    time.sleep(60)\n"
        )
        failing = write_package(
            tmp_path / "fail.zip", "def handler(e, c):\n    raise ValueError('no')\n"
        )
        await aws.create_function("sleepy", sleepy, "--timeout", "1")
        await aws.create_function("fail", failing)
        meta, payload = await aws.invoke("sleepy")
        assert meta["FunctionError"] == "Unhandled"
        assert payload["errorType"] == "Sandbox.Timedout"
        meta, payload = await aws.invoke("fail")
        assert (meta["FunctionError"], payload["errorType"]) == ("Unhandled", "ValueError")
        await aws(
            "update-function-configuration", "--function-name", "fail", "--handler", "nope.handler"
        )
        meta, payload = await aws.invoke("fail")
        assert payload["errorType"] == "Runtime.ImportModuleError"

        for name in ("greet", "sleepy", "fail"):
            await aws("delete-function", "--function-name", name)
        assert (await aws("list-functions"))["Functions"] == []
