"""Run LocalLambda for other processes and tools (boto3, the AWS CLI, other languages).

    python -m lambdaclient.testing --port 9001 --function greet=mypackage.handlers:greet

It prints the endpoint and the credentials it accepts, as environment variables to export.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
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
        print(f"LocalLambda listening on {lam.endpoint_url}", flush=True)
        print(f"export AWS_ENDPOINT_URL_LAMBDA={lam.endpoint_url}")
        print(f"export AWS_ACCESS_KEY_ID={lam.credentials.access_key_id}")
        print(f"export AWS_SECRET_ACCESS_KEY={lam.credentials.secret_access_key}")
        print(f"export AWS_REGION={lam.region}", flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it is stopped
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
