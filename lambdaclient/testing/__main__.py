"""Run LocalLambda for other processes and tools (boto3, the AWS CLI, other languages).

    python -m lambdaclient.testing --port 9001 --function greet=mypackage.handlers:greet

It prints the endpoint, the credentials it accepts and the region, as shell lines: sourcing
them (or ``eval``) is enough for boto3 and the AWS CLI, with no ~/.aws. botocore reads the
region from ``AWS_DEFAULT_REGION`` (``AWS_REGION`` is what other SDKs read), and the endpoint
from ``AWS_ENDPOINT_URL_LAMBDA``; for a CLI too old to read that, a comment shows the
``--endpoint-url`` to pass.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import shlex
from collections.abc import Callable, Sequence
from typing import Any

from .._credentials import Credentials
from ._server import DEFAULT_CREDENTIALS, LocalLambda


def _handler(spec: str) -> tuple[str, Callable[..., Any]]:
    name, _, target = spec.partition("=")
    module_name, _, attribute = target.partition(":")
    if not name or not module_name or not attribute:
        raise argparse.ArgumentTypeError(f"expected NAME=MODULE:ATTRIBUTE, got {spec!r}")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise argparse.ArgumentTypeError(f"cannot load {target}: {exc}") from exc
    if not callable(handler):
        raise argparse.ArgumentTypeError(f"{target} is not callable")
    return name, handler


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambdaclient.testing",
        description="A local Lambda that honours weighted aliases.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9001, help="port (0 for a free one)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--access-key-id", default=DEFAULT_CREDENTIALS.access_key_id)
    parser.add_argument("--secret-access-key", default=DEFAULT_CREDENTIALS.secret_access_key)
    parser.add_argument("--seed", type=int, help="seed for weighted routing")
    parser.add_argument(
        "--function",
        dest="functions",
        action="append",
        type=_handler,
        default=[],
        metavar="NAME=MODULE:ATTRIBUTE",
        help="register a function (repeatable)",
    )
    return parser


async def _serve(args: argparse.Namespace) -> None:
    lam = LocalLambda(
        host=args.host,
        port=args.port,
        region=args.region,
        credentials=Credentials(args.access_key_id, args.secret_access_key),
        seed=args.seed,
    )
    for name, handler in args.functions:
        lam.add_function(name, handler)
    async with lam:
        print(_exports(lam), flush=True)
        await asyncio.Event().wait()


def _exports(lam: LocalLambda) -> str:
    """Shell lines that point boto3, the AWS CLI and other SDKs at ``lam``."""
    variables = {
        "AWS_ENDPOINT_URL_LAMBDA": lam.endpoint_url,
        "AWS_ACCESS_KEY_ID": lam.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": lam.credentials.secret_access_key,
        "AWS_REGION": lam.region,
        "AWS_DEFAULT_REGION": lam.region,
    }
    return "\n".join(
        [
            f"# LocalLambda listening on {lam.endpoint_url}",
            *(f"export {name}={shlex.quote(value)}" for name, value in variables.items()),
            f"# AWS CLI: aws lambda <command> --endpoint-url {lam.endpoint_url}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it is stopped
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
