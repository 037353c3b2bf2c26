"""The AWS SDK for JavaScript v3 drives a function's lifecycle on ``python -m
lambdaclient.testing`` (``tests/js/lifecycle.cjs``), configured by the printed variables alone.

Where npm is installed, ``make test`` installs ``@aws-sdk/client-lambda`` under ``tests/js``
(``make peers``); the check runs where node can resolve it (there, or through
``NODE_PATH``), and is skipped, saying why, elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.local_lambda_process import local_lambda_process
from tests.packages import write_package

SCRIPT = Path(__file__).parent / "js" / "lifecycle.cjs"
GREET = "def handler(event, context):\n    return {'version': VERSION, 'hello': event['name']}\n"


def _skip_reason() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    resolved = subprocess.run(
        [node, "-e", "require.resolve('@aws-sdk/client-lambda')"],
        cwd=SCRIPT.parent,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if resolved.returncode != 0:
        return "@aws-sdk/client-lambda is not installed (make peers, where npm is installed)"
    return None


SKIP_REASON = _skip_reason()
pytestmark = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")


async def test_the_js_sdk_drives_a_function_lifecycle(tmp_path: Path) -> None:
    packages = [
        str(write_package(tmp_path / f"v{n}.zip", GREET.replace("VERSION", str(n)))) for n in (1, 2)
    ]
    async with local_lambda_process("--seed", "3") as exported:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **exported}
        node = await asyncio.create_subprocess_exec(
            "node",
            str(SCRIPT),
            *packages,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        stdout, stderr = await asyncio.wait_for(node.communicate(), timeout=120)
    assert node.returncode == 0, stderr.decode()
    seen = json.loads(stdout)
    assert (seen["created"], seen["v1"], seen["v2"]) == ("greet", "1", "2")
    for version, payload in seen["invocations"]:
        assert payload == {"version": int(version), "hello": "ada"}
    assert {version for version, _ in seen["invocations"]} == {"1", "2"}
    assert seen["functions"] == ["greet"]
    assert seen["gone"] == "ResourceNotFoundException"
