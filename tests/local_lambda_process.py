"""``python -m lambdaclient.testing`` run as a user runs it: a process of its own."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Mapping


@contextlib.asynccontextmanager
async def local_lambda_process(
    *arguments: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[dict[str, str]]:
    """Start the server on a free port and yield the variables it prints to export; on leaving,
    stop it with Ctrl-C (SIGINT) and check that it exits cleanly and promptly."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lambdaclient.testing",
        "--port",
        "0",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    try:
        exported: dict[str, str] = {}
        while "AWS_DEFAULT_REGION" not in exported:
            line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
            assert line, "the server exited before printing its endpoint"
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").strip().partition("=")
                exported[key] = value
            else:  # the comments around the exports
                assert line.startswith("# "), line
        yield exported
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
        assert process.returncode == 0, stderr.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
