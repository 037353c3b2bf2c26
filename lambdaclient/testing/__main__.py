"""Run LocalLambda for other processes and tools (boto3, the AWS CLI, other languages).

    python -m lambdaclient.testing --port 9001 --function greet=mypackage.handlers:greet
    python -m lambdaclient.testing --function my-fn --versions my-fn=2

It prints the endpoint, the credentials it accepts and the region, as shell lines: sourcing
them (or ``eval``) is enough for boto3 and the AWS CLI, with no ~/.aws. botocore reads the
region from ``AWS_DEFAULT_REGION`` (``AWS_REGION`` is what other SDKs read), and the endpoint
from ``AWS_ENDPOINT_URL_LAMBDA``; for a CLI too old to read that, a comment shows the
``--endpoint-url`` to pass.
A function given without a handler echoes its event, enough to try aliases and weights.
Clients can also create their own functions on it over the wire (CreateFunction with a zip
package holding a Python handler), as against AWS.
``--versions NAME=COUNT`` publishes COUNT versions of a function at start; each is published
from a ``$LATEST`` with a description of its own (``version N``), since Lambda publishes
nothing new for an unchanged function.
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


def echo(event: Any, context: Any) -> Any:
    """The handler of a function registered without one: it returns its event."""
    return event


def _handler(spec: str) -> tuple[str, Callable[..., Any]]:
    name, has_target, target = spec.partition("=")
    if not name:
        raise argparse.ArgumentTypeError(f"expected NAME[=MODULE:ATTRIBUTE], got {spec!r}")
    if not has_target:
        return name, echo
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise argparse.ArgumentTypeError(f"expected NAME[=MODULE:ATTRIBUTE], got {spec!r}")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise argparse.ArgumentTypeError(f"cannot load {target}: {exc}") from exc
    if not callable(handler):
        raise argparse.ArgumentTypeError(f"{target} is not callable")
    return name, handler


def _versions(spec: str) -> tuple[str, int]:
    name, _, count = spec.partition("=")
    if not name or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME=COUNT with COUNT >= 1, got {spec!r}")
    return name, int(count)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambdaclient.testing",
        description="A local Lambda that honours weighted aliases. Functions can be given"
        " here, or created over the wire by any client (CreateFunction with a zip package).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=9001, help="port, 0 for a free one (default: %(default)s)"
    )
    parser.add_argument("--region", default="us-east-1", help="region (default: %(default)s)")
    parser.add_argument(
        "--access-key-id",
        default=DEFAULT_CREDENTIALS.access_key_id,
        help="the access key id requests must be signed with (default: %(default)s)",
    )
    parser.add_argument(
        "--secret-access-key",
        default=DEFAULT_CREDENTIALS.secret_access_key,
        help="its secret access key (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, help="seed for weighted routing (default: none, a random split)"
    )
    parser.add_argument(
        "--function",
        dest="functions",
        action="append",
        type=_handler,
        default=[],
        metavar="NAME[=MODULE:ATTRIBUTE]",
        help="register a function as $LATEST; without a handler it echoes its event"
        " (repeatable; default: none)",
    )
    parser.add_argument(
        "--versions",
        action="append",
        type=_versions,
        default=[],
        metavar="NAME=COUNT",
        help="publish COUNT versions (1, 2, ...) of a registered function"
        " (repeatable; default: none)",
    )
    return parser


def _local_lambda(parser: argparse.ArgumentParser, args: argparse.Namespace) -> LocalLambda:
    lam = LocalLambda(
        host=args.host,
        port=args.port,
        region=args.region,
        credentials=Credentials(args.access_key_id, args.secret_access_key),
        seed=args.seed,
    )
    handlers = dict(args.functions)
    for name, handler in handlers.items():
        lam.add_function(name, handler)
    published = dict.fromkeys(handlers, 0)
    for name, count in args.versions:
        if name not in published:
            parser.error(f"--versions {name}={count}: no --function {name}")
        for _ in range(count):
            # $LATEST changes before each publish, or Lambda would publish nothing new.
            published[name] += 1
            description = f"version {published[name]}"
            lam.add_function(name, handlers[name], description=description)
            lam.publish_version(name, description=description)
    return lam


async def _serve(lam: LocalLambda) -> None:
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
    parser = _parser()
    lam = _local_lambda(parser, parser.parse_args(argv))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it is stopped
        asyncio.run(_serve(lam))


if __name__ == "__main__":
    main()
