"""The ``lambdaclient`` command line: aliases, versions, invoke and progressive traffic shifts.

Installed as the ``lambdaclient`` console script, and runnable as ``python -m lambdaclient``.
The live progress display of ``shift`` needs rich (``pip install 'lambdaclient[cli]'``);
without it, or when stderr is not a terminal, progress is printed as plain lines.

Usage examples::

    lambdaclient aliases my-fn
    lambdaclient alias get my-fn live --output json
    lambdaclient alias create my-fn live --function-version 1 --weight 2=10%
    lambdaclient alias update my-fn live --routing-config '{}' --revision-id 1a2b...
    lambdaclient alias delete my-fn live
    lambdaclient versions my-fn
    lambdaclient publish my-fn --description "release 42"
    lambdaclient wait version-active my-fn 7 --timeout 10m
    lambdaclient wait function-updated my-fn --qualifier live
    lambdaclient invoke my-fn --qualifier live --payload '{"order": 42}'
    echo '{"order": 42}' | lambdaclient invoke my-fn --payload-file -
    lambdaclient shift my-fn live --to 7 --linear 10%/1m \\
        --probe-payload '{"ping": true}'
    lambdaclient shift my-fn live --to 7 --all-at-once --ready-timeout 10m \\
        --probe-payload '{"ping": true}' --pre-traffic-probe --post-traffic-probe
    lambdaclient shift my-fn live --to 7 --linear 10%/5m --alarm my-fn-errors \\
        --alarm my-fn-p99 --alarm-poll-interval 15s --probe-payload '{"ping": true}'
    lambdaclient shift my-fn live --to 7 --linear 10%/5m --metrics-gate
    lambdaclient --region eu-west-1 --profile prod shift my-fn live --to 7 --canary 5%/10m

Global options are named as the AWS CLI names them (``--region``, ``--profile``,
``--endpoint-url``, ``--output {text,json}``, ``--cli-read-timeout``,
``--cli-connect-timeout``, ``--debug``) and may come before or after the command; each
command's ``--help`` lists them with the command's own options, which belong to it alone.
``--debug`` logs every request attempt on stderr: operation, HTTP status, request id, attempt
number and duration (never credentials, signatures or payloads). ``--version`` prints the
version. Error messages name the options as typed (``--weight``, not the library's
``routing_config``).
Credentials come from the usual places (environment, profile, botocore's chain).
Results go to stdout (``--output json``: one JSON document, with AWS's field names);
progress and diagnostics go to stderr.

Percentages are written ``10%`` or ``0.1``; durations ``30s``, ``1m``, ``2h`` or ``1m30s``.

Exit codes:

- 0: done.
- 1: the operation failed: an AWS error, a transport or credentials error, or (for
  ``invoke``) the function itself failed. The error is printed on stderr.
- 2: usage error: bad arguments, or arguments lambdaclient rejects before sending anything.
- 3: ``shift`` rolled the alias back (a failed health gate, such as a probe or an ``--alarm``,
  or post-traffic probe, or an error during the shift).
- 4: ``shift`` refused before changing anything (pre-flight checks, a version that is not
  Active within ``--ready-timeout``, a failed pre-traffic probe or ``--alarm``), or stopped
  because someone else changed the alias meanwhile (their change stands).
- 130: interrupted (Ctrl-C); an interrupted ``shift`` rolls the alias back first.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import math
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from typing import IO, Any, Literal, TextIO, TypedDict

from ._cli_output import (
    PROG,
    Output,
    columns,
    duration,
    fields,
    in_flags,
    percent,
    rich_console,
    weights,
)
from ._client import LambdaClient
from ._errors import (
    ConcurrentModificationError,
    LambdaError,
    ServiceError,
    ShiftRefusedError,
    ValidationError,
)
from ._models import (
    AliasConfiguration,
    FunctionConfiguration,
    InvocationType,
    InvokeResult,
    LogType,
    RoutingConfig,
)
from ._payload import Payload
from ._shift_display import (
    print_rich_summary,
    shift_document,
    shift_outcome,
    shift_progress,
    summary_text,
)
from ._version import __version__
from ._wire import converter
from .cloudwatch import CloudWatchClient
from .shifting import (
    AlarmGate,
    AllAtOnce,
    Canary,
    HealthCheck,
    InvokeProbe,
    Linear,
    MetricsGate,
    Strategy,
    all_of,
    shift_traffic,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_ROLLED_BACK",
    "EXIT_USAGE",
    "build_parser",
    "main",
    "parse_duration",
    "parse_fraction",
    "run",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ROLLED_BACK = 3
EXIT_REFUSED = 4
EXIT_INTERRUPTED = 130

EXIT_CODES = """\
exit codes:
  0    done
  1    the operation failed: AWS error, transport or credentials error, (invoke) the
       function itself failed, or (wait) Failed or out of time; the error is on stderr
  2    usage error: bad arguments, or arguments rejected before anything was sent
  3    shift: the alias was rolled back (failed health gate: probe, alarms or metrics
       gate; failed post-traffic probe, or an error mid-shift)
  4    shift: refused before changing anything (pre-flight checks, version not Active in
       time, failed pre-traffic probe or alarms), or stopped because someone else changed
       the alias meanwhile (their change stands)
  130  interrupted (Ctrl-C); an interrupted shift rolls the alias back first
"""

_logger = logging.getLogger("lambdaclient")


# --- argument types -------------------------------------------------------------------------

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_FRACTION = re.compile(rf"(?P<number>{_NUMBER})(?P<percent>%?)", re.ASCII)
_DURATION = re.compile(
    rf"(?:(?P<h>{_NUMBER})h)?(?:(?P<m>{_NUMBER})m)?(?:(?P<s>{_NUMBER})s)?", re.ASCII
)


def parse_fraction(text: str) -> float:
    """``"10%"`` or ``"0.1"`` as 0.1; anything else, or outside 0 to 1, is a ValueError."""
    match = _FRACTION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"invalid percentage {text!r}: write it as 10% or 0.1")
    value = float(match["number"])
    if match["percent"]:
        value /= 100
    elif value > 1:
        raise ValueError(
            f"invalid fraction {text!r}: a fraction is between 0 and 1; write {text}% for a"
            " percentage"
        )
    if value > 1:
        raise ValueError(f"invalid percentage {text!r}: at most 100%")
    return value


def parse_duration(text: str) -> timedelta:
    """``"30s"``, ``"1m"``, ``"2h"``, ``"1m30s"`` (or ``"0"``) as a timedelta; else ValueError."""
    text = text.strip()
    if text == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"invalid duration {text!r}: write it as 30s, 1m, 2h or 1m30s")
    hours, minutes, seconds = (float(match[unit] or 0) for unit in ("h", "m", "s"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _argument_type(name: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: a ValueError from ``parse`` becomes a usage error (exit code 2)."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name  # argparse names the type in its messages
    return convert


def _step(text: str) -> tuple[float, timedelta]:
    """``WEIGHT/DURATION`` as in ``10%/1m``: a weight strictly between 0 and 1, and a wait."""
    weight_text, slash, wait_text = text.partition("/")
    if not slash:
        raise ValueError(f"invalid step {text!r}: write it as PERCENT/DURATION, e.g. 10%/1m")
    weight = parse_fraction(weight_text)
    if not 0 < weight < 1:
        raise ValueError(f"invalid step {text!r}: the weight must be above 0% and below 100%")
    return weight, parse_duration(wait_text)


def _seconds(text: str) -> float:
    """A positive number of seconds: ``2.5`` or a duration such as ``2s``."""
    try:
        value = float(text)
    except ValueError:
        try:
            value = parse_duration(text).total_seconds()
        except ValueError:
            raise ValueError(
                f"invalid time {text!r}: write seconds (2.5) or a duration (30s, 1m)"
            ) from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"invalid time {text!r}: must be more than 0 seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"invalid count {text!r}: must be a whole number") from None
    if value < 1:
        raise ValueError(f"invalid count {text!r}: must be at least 1")
    return value


def _json_text(text: str) -> str:
    """JSON given on the command line, checked and kept as written."""
    try:
        json.loads(text)
    except ValueError as exc:
        raise ValueError(f"invalid JSON {text!r}: {exc}") from None
    return text


def _routing_config(text: str) -> dict[str, float]:
    """``{"2": 0.1}`` (a JSON object of version to weight), or the AWS CLI's own form
    ``{"AdditionalVersionWeights": {"2": 0.1}}``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"invalid routing config {text!r}: {exc}") from None
    if isinstance(data, dict) and set(data) == {"AdditionalVersionWeights"}:
        data = data["AdditionalVersionWeights"]
    if not isinstance(data, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in data.values()
    ):
        raise ValueError(
            f"invalid routing config {text!r}: expected an object of version to weight,"
            ' e.g. {"2": 0.1}'
        )
    return {str(version): float(weight) for version, weight in data.items()}


def _weight(text: str) -> tuple[str, float]:
    """``VERSION=WEIGHT`` as in ``2=10%``."""
    version, equals, weight = text.partition("=")
    if not equals or not version:
        raise ValueError(f"invalid weight {text!r}: write it as VERSION=PERCENT, e.g. 2=10%")
    return version, parse_fraction(weight)


def _payload_source(text: str) -> str:
    """A payload file's path, or ``-`` for stdin; the file must be there (read later)."""
    if text != "-":
        try:
            with open(text, "rb"):
                pass
        except OSError as exc:
            raise ValueError(f"cannot read {text!r}: {exc.strerror or exc}") from None
    return text


def _payload_text(text: str) -> str:
    return text if text == "-" else _json_text(text)


FRACTION = _argument_type("percentage", parse_fraction)
DURATION = _argument_type("duration", parse_duration)
STEP = _argument_type("step", _step)
SECONDS = _argument_type("seconds", _seconds)
COUNT = _argument_type("count", _positive_int)
JSON_TEXT = _argument_type("JSON", _json_text)
ROUTING_CONFIG = _argument_type("routing config", _routing_config)
WEIGHT = _argument_type("weight", _weight)
PAYLOAD_FILE = _argument_type("payload file", _payload_source)
PAYLOAD = _argument_type("payload", _payload_text)


# --- output ---------------------------------------------------------------------------------


# What the user typed for each argument the library names in a ValidationError's ``field``.
_FLAGS = {
    "region": "--region",
    "endpoint_url": "--endpoint-url",
    "connect_timeout": "--cli-connect-timeout",
    "read_timeout": "--cli-read-timeout",
    "function_name": "FN",
    "name": "NAME",
    "function_version": "--function-version",
    "description": "--description",
    "revision_id": "--revision-id",
    "code_sha256": "--code-sha256",
    "qualifier": "--qualifier",
    "invocation_type": "--invocation-type",
    "log_type": "--log-type",
    "version": "VERSION",
    "delay": "--delay",
    "timeout": "--timeout",
    "ready_timeout": "--ready-timeout",
    "before_traffic": "--pre-traffic-probe",
    "after_traffic": "--post-traffic-probe",
    "alarm_names": "--alarm",
    "poll_interval": "--alarm-poll-interval",
    "already_firing": "--alarm-already-firing",
    "insufficient_data": "--alarm-insufficient-data",
    "unreadable": "--alarm-unreadable",
    "baseline_error_rate": "--baseline-error-rate",
    "false_rollback_rate": "--false-rollback-rate",
    "detection_rate": "--detection-rate",
    "settle": "--settle",
    "period": "--metrics-period",
    "metrics_gate": "--metrics-gate",
}


def _flags(args: argparse.Namespace) -> dict[str, str]:
    """The library's argument names and the options (or positionals) this command line gave
    them through: where two options feed one argument, the one that was used."""
    given = vars(args)
    flags = dict(_FLAGS)
    flags["routing_config"] = "--weight" if given.get("weights") else "--routing-config"
    flags["payload"] = "--payload-file" if given.get("payload_file") else "--payload"
    if args.command is _shift:
        strategy = next(
            (f"--{name}" for name in ("linear", "canary") if given.get(name)), "--all-at-once"
        )
        flags.update(
            name="ALIAS",
            function_version="--to",
            qualifier="--to",
            to_version="--to",
            payload="--probe-payload",
            max_invocations="--probe-invocations",
            strategy=strategy,
        )
        flags.update(_alarm_flags(args))
    return flags


def _usage_message(exc: ValidationError, args: argparse.Namespace) -> str:
    """A rejected argument's message in the command line's terms: the options the user typed
    where the library names its parameters (``region=``, ``routing_config``, ...)."""
    flags = _flags(args)
    text = str(exc)
    if exc.field in flags:
        field = re.escape(exc.field)
        # The library's messages start with the argument's name, or say "pass <name>=".
        text = re.sub(rf"^{field}\b|\b{field}=", flags[exc.field], text)
    text = in_flags(text, flags)
    if exc.field in flags and flags[exc.field] not in text:
        text = f"{flags[exc.field]}: {text}"
    return text


def _describe(exc: BaseException, args: argparse.Namespace) -> str:
    """An error as a line or few: AWS's code and message, or lambdaclient's message in the
    command line's terms; and any notes."""
    if isinstance(exc, ServiceError):
        text = f"{exc.code}: {exc.message}" if exc.message else exc.code
        text += f" (HTTP {exc.status}"
        text += f", request id {exc.request_id})" if exc.request_id else ")"
    else:
        text = f"{type(exc).__name__}: {in_flags(str(exc), _flags(args))}"
    for note in getattr(exc, "__notes__", ()):
        text += f"\n  {note}"
    return text


def _alias_text(alias: AliasConfiguration) -> str:
    return fields(
        [
            ("Name", alias.name),
            ("FunctionVersion", alias.function_version),
            ("Weights", weights(alias.routing_config)),
            ("Description", alias.description),
            ("RevisionId", alias.revision_id),
            ("AliasArn", alias.alias_arn),
        ]
    )


def _version_text(version: FunctionConfiguration) -> str:
    dead_letter = version.dead_letter_config.target_arn if version.dead_letter_config else None
    return fields(
        [
            ("Version", version.version),
            ("FunctionArn", version.function_arn),
            ("Description", version.description),
            ("CodeSha256", version.code_sha256),
            ("Role", version.role),
            ("DeadLetterTarget", dead_letter),
            ("State", version.state),
            ("LastModified", version.last_modified),
            ("RevisionId", version.revision_id),
        ]
    )


# --- commands -------------------------------------------------------------------------------

Command = Callable[[LambdaClient, argparse.Namespace, Output], Awaitable[int]]


async def _aliases(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    aliases = [
        alias
        async for alias in client.list_aliases(
            args.function_name, function_version=args.function_version
        )
    ]
    out.result(
        {"Aliases": [converter.unstructure(alias) for alias in aliases]},
        lambda: columns(
            ["NAME", "VERSION", "WEIGHTS", "DESCRIPTION"],
            [
                [a.name, a.function_version, weights(a.routing_config), a.description or ""]
                for a in aliases
            ],
        ),
    )
    return EXIT_OK


async def _alias_get(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    alias = await client.get_alias(args.function_name, args.name)
    out.result(converter.unstructure(alias), lambda: _alias_text(alias))
    return EXIT_OK


def _routing(args: argparse.Namespace) -> RoutingConfig | None:
    if args.routing_config is not None:
        return RoutingConfig(args.routing_config)
    if args.weights:
        return RoutingConfig(dict(args.weights))
    return None


async def _alias_create(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    alias = await client.create_alias(
        args.function_name,
        args.name,
        function_version=args.function_version,
        description=args.description,
        routing_config=_routing(args),
    )
    out.result(converter.unstructure(alias), lambda: _alias_text(alias))
    return EXIT_OK


async def _alias_update(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    alias = await client.update_alias(
        args.function_name,
        args.name,
        function_version=args.function_version,
        description=args.description,
        routing_config=_routing(args),
        revision_id=args.revision_id,
    )
    out.result(converter.unstructure(alias), lambda: _alias_text(alias))
    return EXIT_OK


async def _alias_delete(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    await client.delete_alias(args.function_name, args.name)
    out.result({}, lambda: f"deleted alias {args.name} of {args.function_name}")
    return EXIT_OK


async def _versions(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    versions = [version async for version in client.list_versions_by_function(args.function_name)]
    out.result(
        {"Versions": [converter.unstructure(version) for version in versions]},
        lambda: columns(
            ["VERSION", "LAST MODIFIED", "CODE SHA256", "DESCRIPTION"],
            [
                [
                    v.version or "?",
                    v.last_modified or "",
                    v.code_sha256 or "",
                    v.description or "",
                ]
                for v in versions
            ],
        ),
    )
    return EXIT_OK


async def _publish(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    version = await client.publish_version(
        args.function_name,
        description=args.description,
        code_sha256=args.code_sha256,
        revision_id=args.revision_id,
    )
    out.result(converter.unstructure(version), lambda: _version_text(version))
    return EXIT_OK


async def _wait(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    """``wait version-active`` and ``wait function-updated``: wait, then print what was
    reached. A Failed version or update, or the timeout, is a WaiterError (exit code 1)."""
    if args.waiter == "version-active":
        configuration = await client.wait_for_version_active(
            args.function_name, args.version, delay=args.delay, timeout=args.timeout
        )
    else:
        configuration = await client.wait_for_function_updated(
            args.function_name, qualifier=args.qualifier, delay=args.delay, timeout=args.timeout
        )
    out.result(
        converter.unstructure(configuration),
        lambda: fields(
            [
                ("FunctionName", configuration.function_name),
                ("Version", configuration.version),
                ("State", configuration.state),
                ("LastUpdateStatus", configuration.last_update_status),
            ]
        ),
    )
    return EXIT_OK


def _read_stdin() -> bytes:
    stdin: Any = sys.stdin
    data = stdin.buffer.read()
    return data if isinstance(data, bytes) else bytes(data)


def _invoke_document(result: InvokeResult) -> dict[str, Any]:
    """AWS's Invoke response fields; the payload as JSON when it is JSON, else as text (or
    base64 when it is not UTF-8)."""
    document: dict[str, Any] = {"StatusCode": result.status_code}
    if result.executed_version is not None:
        document["ExecutedVersion"] = result.executed_version
    if result.function_error is not None:
        document["FunctionError"] = result.function_error
    if result.log_result is not None:
        document["LogResult"] = result.log_result
    if result.payload:
        try:
            document["Payload"] = json.loads(result.payload)
        except ValueError:
            try:
                document["PayloadText"] = result.payload.decode()
            except UnicodeDecodeError:
                document["PayloadBase64"] = base64.b64encode(result.payload).decode()
    return document


async def _invoke(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    with contextlib.ExitStack() as files:
        payload: Payload = None
        if args.payload == "-" or args.payload_file == "-":
            payload = await asyncio.to_thread(_read_stdin)
        elif args.payload is not None:
            payload = args.payload.encode()
        elif args.payload_file is not None:
            # Sent in chunks, never read whole into memory.
            file: IO[bytes] = await asyncio.to_thread(open, args.payload_file, "rb")
            payload = files.enter_context(file)
        result = await client.invoke(
            args.function_name,
            payload=payload,
            qualifier=args.qualifier,
            invocation_type=InvocationType(args.invocation_type),
            log_type=LogType(args.log_type),
        )

    def text() -> str:
        lines = [
            fields(
                [
                    ("ExecutedVersion", result.executed_version),
                    ("StatusCode", str(result.status_code)),
                    ("FunctionError", result.function_error),
                ]
            )
        ]
        if result.payload:
            lines.append(result.payload.decode(errors="replace").rstrip("\n"))
        return "\n".join(lines)

    out.result(_invoke_document(result), text)
    if result.log_result is not None and not out.json:
        out.note(result.log_result.rstrip("\n"))
    if result.function_error is not None:
        try:
            result.raise_for_function_error()
        except LambdaError as exc:
            out.error(f"the function failed: {exc}")
        return EXIT_FAILED
    return EXIT_OK


# --- shift ----------------------------------------------------------------------------------


def _strategy(args: argparse.Namespace) -> Strategy:
    if args.linear is not None:
        step, interval = args.linear
        return Linear(step=step, interval=interval)
    if args.canary is not None:
        weight, wait = args.canary
        return Canary(weight=weight, wait=wait)
    return AllAtOnce()


def _strategy_text(args: argparse.Namespace) -> str:
    if args.linear is not None:
        return f"linear {percent(args.linear[0])} every {duration(args.linear[1])}"
    if args.canary is not None:
        return f"canary {percent(args.canary[0])} for {duration(args.canary[1])}"
    return "all at once"


class _Checks(TypedDict, total=False):
    health_check: HealthCheck | None
    before_traffic: HealthCheck | None
    after_traffic: HealthCheck | None
    ready_timeout: float


def _checks(args: argparse.Namespace, metrics: MetricsGate | None = None) -> _Checks:
    """``shift_traffic``'s checks and readiness timeout from the options given: the probe the
    probe options configure gates each step when any of them is given, and runs before or
    after traffic with ``--pre-traffic-probe`` or ``--post-traffic-probe``; ``metrics`` (the
    gate ``--metrics-gate`` asks for) gates each step too (with the probe, both must pass).
    The rule's parameters (``--max-error-rate``, ``--baseline-error-rate``,
    ``--false-rollback-rate``, ``--detection-rate``) and ``--max-latency`` set both gates';
    with ``--metrics-gate`` they do not call for the probe by themselves. What is not given keeps
    the library's default. ``--all-at-once`` has no steps to gate: there the probe options
    only configure the probe before or after traffic, and without either of those flags they
    are a usage error rather than ignored."""
    options = {
        "payload": args.probe_payload,
        "max_invocations": args.probe_invocations,
    }
    given = {name: value for name, value in options.items() if value is not None}
    given |= _gate_parameters(args)
    probe = InvokeProbe(**given)
    shared = set(_GATE_PARAMETERS) if metrics is not None else set()
    probed = bool(given.keys() - shared)
    around = args.pre_traffic_probe or args.post_traffic_probe
    if probed and args.all_at_once and not around:
        raise ValidationError(
            "--all-at-once has no steps for the probe to gate: add --post-traffic-probe to"
            " probe once all traffic has moved (a failure rolls back), or --pre-traffic-probe",
            field="health_check",
        )
    gates: list[HealthCheck] = [probe] if probed else []
    gates += [metrics] if metrics is not None else []
    checks: _Checks = {
        "health_check": None if args.all_at_once or not gates else _all(gates),
        "before_traffic": probe if args.pre_traffic_probe else None,
        "after_traffic": probe if args.post_traffic_probe else None,
    }
    if args.ready_timeout is not None:
        checks["ready_timeout"] = args.ready_timeout.total_seconds()
    return checks


_ALARM_OPTIONS = {
    "poll_interval": "alarm_poll_interval",
    "already_firing": "alarm_already_firing",
    "insufficient_data": "alarm_insufficient_data",
    "unreadable": "alarm_unreadable",
}


_GATE_PARAMETERS = (
    "max_error_rate",
    "baseline_error_rate",
    "false_rollback_rate",
    "detection_rate",
    "max_latency",
)
"""The options the probe and the metrics gate share: the rule's parameters and the latency."""


def _gate_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The shared gate parameters given on the command line."""
    return {
        name: getattr(args, name) for name in _GATE_PARAMETERS if getattr(args, name) is not None
    }


_Gated = Literal["before_traffic", "health_check", "after_traffic"]


def _alarm_checks(args: argparse.Namespace) -> tuple[_Gated, ...]:
    """The checks the alarms join: before traffic, and each step; a shift without steps
    (``--all-at-once``) reads them once all traffic has moved instead."""
    return ("before_traffic", "after_traffic" if args.all_at_once else "health_check")


def _alarm_flags(args: argparse.Namespace) -> dict[str, str]:
    """With ``--alarm``, the checks before and after traffic are the alarms' too: messages
    about them name the options that made them."""
    if not getattr(args, "alarms", None):
        return {}
    probed = {"before_traffic": args.pre_traffic_probe, "after_traffic": args.post_traffic_probe}
    return {
        check: f"{_FLAGS[check]} and --alarm" if probed[check] else "--alarm"
        for check in _alarm_checks(args)
        if check in probed
    }


@contextlib.asynccontextmanager
async def _cloudwatch_from_args(args: argparse.Namespace) -> AsyncIterator[CloudWatchClient | None]:
    """One CloudWatchClient for the gates that read CloudWatch (``--alarm``,
    ``--metrics-gate``), None when neither is asked for: configured as the Lambda client is
    (``--region``, ``--profile``, ``--endpoint-url``, else ``AWS_ENDPOINT_URL_CLOUDWATCH``,
    the timeouts), closed on leaving."""
    if not args.alarms and not args.metrics_gate:
        yield None
        return
    async with CloudWatchClient(args.region, **_client_options(args)) as cloudwatch:
        yield cloudwatch


def _alarm_gate_from_args(
    args: argparse.Namespace, cloudwatch: CloudWatchClient | None
) -> AlarmGate | None:
    """The :class:`AlarmGate` ``--alarm`` asks for (None without it). The ``--alarm-*``
    options without ``--alarm`` are a usage error."""
    given = {
        name: getattr(args, dest)
        for name, dest in _ALARM_OPTIONS.items()
        if getattr(args, dest) is not None
    }
    if not args.alarms or cloudwatch is None:
        if given:
            flags = ", ".join(_FLAGS[name] for name in given)
            raise ValidationError(
                f"{flags} configure the alarms: add --alarm NAME", field="alarm_names"
            )
        return None
    return AlarmGate(args.alarms, cloudwatch=cloudwatch, **given)


def _with_gate(checks: _Checks, gate: HealthCheck, names: Sequence[_Gated]) -> _Checks:
    """``checks`` with ``gate`` added to those ``names`` (by :func:`all_of`, after what is
    there): a gate that fails before traffic refuses the shift."""
    combined = checks.copy()
    for name in names:
        present = checks.get(name)
        combined[name] = gate if present is None else all_of(present, gate)
    return combined


def _all(gates: Sequence[HealthCheck]) -> HealthCheck:
    return gates[0] if len(gates) == 1 else all_of(*gates)


def _metrics_gate_from_args(
    args: argparse.Namespace, cloudwatch: CloudWatchClient | None
) -> MetricsGate | None:
    """The metrics gate ``--metrics-gate`` asks for (None without it), reading with
    ``cloudwatch``. Its own options without it, or with ``--all-at-once`` (no steps to
    gate), are usage errors rather than ignored."""
    options = {"settle": args.settle, "period": args.metrics_period}
    given = {name: value for name, value in options.items() if value is not None}
    if not args.metrics_gate or cloudwatch is None:
        if given:
            flag = _FLAGS[next(iter(given))]
            raise ValidationError(f"{flag} configures --metrics-gate: add it", field="metrics_gate")
        return None
    if args.all_at_once:
        raise ValidationError(
            "--all-at-once has no steps for --metrics-gate to gate: the gate compares the old"
            " and the new version while both take traffic",
            field="metrics_gate",
        )
    return MetricsGate(cloudwatch, **given, **_gate_parameters(args))


async def _shift(client: LambdaClient, args: argparse.Namespace, out: Output) -> int:
    strategy = _strategy(args)
    # A ValidationError here is a usage error, before any request.
    steps = strategy.steps()
    async with _cloudwatch_from_args(args) as cloudwatch:
        metrics = _metrics_gate_from_args(args, cloudwatch)
        alarms = _alarm_gate_from_args(args, cloudwatch)
        checks = _checks(args, metrics)
        if alarms is not None:
            checks = _with_gate(checks, alarms, _alarm_checks(args))
        return await _run_shift(client, args, out, strategy, len(steps), checks)


async def _run_shift(
    client: LambdaClient,
    args: argparse.Namespace,
    out: Output,
    strategy: Strategy,
    steps: int,
    checks: _Checks,
) -> int:
    progress = shift_progress(args, out, steps, _flags(args))
    try:
        with progress:
            result = await shift_traffic(
                client,
                args.function_name,
                args.alias_name,
                to_version=args.to_version,
                strategy=strategy,
                on_progress=progress.event,
                **checks,
            )
    except (ShiftRefusedError, ConcurrentModificationError) as exc:
        out.error(_describe(exc, args))
        return EXIT_REFUSED
    except asyncio.CancelledError:
        out.error(
            f"interrupted; alias {args.alias_name} was rolled back"
            if progress.rolled_back
            else "interrupted"
        )
        raise
    except ValidationError:
        raise
    except LambdaError as exc:
        if not progress.rolled_back:
            raise
        out.error(_describe(exc, args))
        return EXIT_ROLLED_BACK
    if out.json:
        out.document(shift_document(result))
    else:
        console = rich_console(out.stdout)
        outcome = in_flags(shift_outcome(result), _flags(args))  # "--post-traffic-probe failed"
        if console is None:
            out.text(summary_text(result, _strategy_text(args), outcome))
        else:
            print_rich_summary(console, result, _strategy_text(args), outcome)
    return EXIT_ROLLED_BACK if result.rolled_back else EXIT_OK


# --- the parser -----------------------------------------------------------------------------


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The AWS CLI's global options. Given to the main parser and to every command's parser
    (with defaults suppressed there), so they may come before or after the command."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options")
    group.add_argument("--region", default=default(None), help="the AWS region")
    group.add_argument("--profile", default=default(None), help="a profile from ~/.aws/config")
    group.add_argument(
        "--endpoint-url", default=default(None), help="send requests to this URL instead"
    )
    group.add_argument(
        "--output",
        choices=["text", "json"],
        default=default("text"),
        help="text for people (default), json for scripts",
    )
    group.add_argument(
        "--cli-read-timeout",
        type=SECONDS,
        default=default(60.0),
        metavar="SECONDS",
        help="the longest wait for response data (default 60)",
    )
    group.add_argument(
        "--cli-connect-timeout",
        type=SECONDS,
        default=default(10.0),
        metavar="SECONDS",
        help="the longest wait to connect (default 10)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log each request attempt (operation, status, request id, duration) on stderr",
    )


def _routing_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--routing-config",
        type=ROUTING_CONFIG,
        metavar="JSON",
        help="weights as JSON, e.g. '{\"2\": 0.1}'; '{}' clears them",
    )
    group.add_argument(
        "--weight",
        dest="weights",
        type=WEIGHT,
        action="append",
        metavar="VERSION=WEIGHT",
        help="send WEIGHT (10%% or 0.1) of the traffic to VERSION",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="AWS Lambda aliases, versions, invocations and progressive traffic shifts.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(
        group: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        run: Command,
        help: str,
    ) -> argparse.ArgumentParser:
        sub = group.add_parser(
            name,
            help=help,
            description=help,
            parents=[common],
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(command=run)
        return sub

    sub = command(commands, "aliases", _aliases, "list a function's aliases")
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("--function-version", help="only aliases pointing at this version")

    alias = commands.add_parser(
        "alias", help="get, create, update or delete an alias", description="manage an alias"
    )
    alias_commands = alias.add_subparsers(title="commands", metavar="COMMAND", required=True)

    sub = command(alias_commands, "get", _alias_get, "show an alias")
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("name", metavar="NAME")

    sub = command(alias_commands, "create", _alias_create, "create an alias")
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--function-version", required=True, metavar="V")
    sub.add_argument("--description", metavar="D")
    _routing_options(sub)

    sub = command(
        alias_commands, "update", _alias_update, "change an alias (what is not given stays)"
    )
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--function-version", metavar="V")
    sub.add_argument("--description", metavar="D", help="'' clears it")
    _routing_options(sub)
    sub.add_argument(
        "--revision-id", metavar="R", help="update only if the alias still has this revision"
    )

    sub = command(alias_commands, "delete", _alias_delete, "delete an alias")
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("name", metavar="NAME")

    sub = command(commands, "versions", _versions, "list a function's versions")
    sub.add_argument("function_name", metavar="FN")

    sub = command(commands, "publish", _publish, "publish $LATEST as a new version")
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("--description", metavar="D")
    sub.add_argument("--code-sha256", help="publish only if $LATEST has this code")
    sub.add_argument("--revision-id", metavar="R", help="publish only if $LATEST has this revision")

    wait = commands.add_parser(
        "wait",
        help="wait until a version can take traffic, or an update is done",
        description="wait until a version can take traffic, or an update is done",
    )
    wait_commands = wait.add_subparsers(
        title="commands", metavar="COMMAND", required=True, dest="waiter"
    )
    sub = command(
        wait_commands,
        "version-active",
        _wait,
        "wait until a version is Active (exit 1 if it is Failed or the timeout runs out)",
    )
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("version", metavar="VERSION")
    sub = command(
        wait_commands,
        "function-updated",
        _wait,
        "wait until the last update is Successful (exit 1 if it Failed or the timeout runs out)",
    )
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("--qualifier", metavar="Q", help="a version or an alias (default $LATEST)")
    for sub in wait_commands.choices.values():
        sub.add_argument(
            "--delay", type=SECONDS, default=5.0, metavar="S", help="between reads (default 5)"
        )
        sub.add_argument(
            "--timeout",
            type=SECONDS,
            default=300.0,
            metavar="S",
            help="the longest wait, in delays slept (default 300)",
        )

    sub = command(
        commands, "invoke", _invoke, "invoke a function; print the executed version and payload"
    )
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("--qualifier", metavar="Q", help="a version or an alias")
    payload = sub.add_mutually_exclusive_group()
    payload.add_argument("--payload", type=PAYLOAD, metavar="JSON", help="the event; - for stdin")
    payload.add_argument(
        "--payload-file",
        type=PAYLOAD_FILE,
        metavar="PATH",
        help="read the event from PATH; - for stdin",
    )
    sub.add_argument(
        "--invocation-type",
        choices=[t.value for t in InvocationType],
        default=InvocationType.REQUEST_RESPONSE.value,
    )
    sub.add_argument(
        "--log-type",
        choices=[t.value for t in LogType],
        default=LogType.NONE.value,
        help="Tail prints the last 4 KB of the log on stderr",
    )

    sub = command(
        commands,
        "shift",
        _shift,
        "move an alias's traffic to a new version step by step, with health gates and rollback",
    )
    sub.add_argument("function_name", metavar="FN")
    sub.add_argument("alias_name", metavar="ALIAS")
    sub.add_argument("--to", dest="to_version", required=True, metavar="V", help="the new version")
    sub.add_argument("--no-progress", action="store_true", help="no progress display")
    strategy = sub.add_mutually_exclusive_group(required=True)
    strategy.add_argument(
        "--linear", type=STEP, metavar="PERCENT/DURATION", help="e.g. 10%%/1m: 10%% more a minute"
    )
    strategy.add_argument(
        "--canary", type=STEP, metavar="PERCENT/DURATION", help="e.g. 10%%/5m, then all"
    )
    strategy.add_argument("--all-at-once", action="store_true", help="all traffic at once")
    sub.add_argument(
        "--ready-timeout",
        type=DURATION,
        metavar="DURATION",
        help="wait up to this long for the new version to be Active before any traffic moves"
        " (default 5m; 0 only checks)",
    )
    probe = sub.add_argument_group(
        "health probe (it invokes the old and the new version in pairs and fails when the new"
        " one fails more often; it gates each step when any of its options is given)"
    )
    probe.add_argument("--probe-payload", type=JSON_TEXT, metavar="JSON", help="the probe's event")
    probe.add_argument(
        "--probe-invocations",
        type=COUNT,
        metavar="N",
        help="the most invocations the probe may make in a rollout (default 5000)",
    )
    probe.add_argument(
        "--max-error-rate",
        type=FRACTION,
        metavar="R",
        help="the smallest rise in the new version's error rate to catch (default 5%%)",
    )
    probe.add_argument(
        "--baseline-error-rate",
        type=FRACTION,
        metavar="R",
        help="the old version's error rate at most, for the power target (default 2%%)",
    )
    probe.add_argument(
        "--false-rollback-rate",
        type=FRACTION,
        metavar="R",
        help="the most rollouts of a version no worse than the old to roll back (default 1%%)",
    )
    probe.add_argument(
        "--detection-rate",
        type=FRACTION,
        metavar="R",
        help="the least share of rollouts of a version failing --max-error-rate more often to"
        " roll back (default 95%%)",
    )
    probe.add_argument(
        "--max-latency",
        type=SECONDS,
        metavar="S",
        help="how much slower the new version's 90th-percentile latency may be",
    )
    probe.add_argument(
        "--pre-traffic-probe",
        action="store_true",
        help="also probe before any traffic moves; if it fails, refuse the shift (exit 4)",
    )
    probe.add_argument(
        "--post-traffic-probe",
        action="store_true",
        help="also probe once all traffic has moved; if it fails, roll back (exit 3)",
    )
    alarms = sub.add_argument_group(
        "CloudWatch alarms (any named alarm in ALARM fails the gate; they are read before"
        " traffic moves, refusing the shift (exit 4) if they fail, and watched through each"
        " step, its wait and its gate, rolling back (exit 3) within one poll; with"
        " --all-at-once, read once more after all traffic has moved)"
    )
    alarms.add_argument(
        "--alarm",
        dest="alarms",
        action="append",
        metavar="NAME",
        help="a CloudWatch alarm to gate on (repeat for more)",
    )
    alarms.add_argument(
        "--alarm-poll-interval",
        type=SECONDS,
        metavar="S",
        help="how often the alarms are read through each step's wait and its gate's call"
        " (default 10s)",
    )
    alarms.add_argument(
        "--alarm-already-firing",
        choices=["refuse", "proceed"],
        help="an alarm in ALARM since before the shift: refuse (default), or proceed until it"
        " fires anew",
    )
    alarms.add_argument(
        "--alarm-insufficient-data",
        choices=["pass", "fail"],
        help="INSUFFICIENT_DATA passes (default: a new version has no data yet) or fails",
    )
    alarms.add_argument(
        "--alarm-unreadable",
        choices=["fail", "pass"],
        help="an alarm that cannot be read, or does not exist, fails (default) or passes",
    )
    metrics = sub.add_argument_group(
        "metrics gate (it reads CloudWatch's Invocations and Errors of each version behind the"
        " alias, the traffic it serves, and fails when the new version fails more often;"
        " the probe's --max-error-rate, --baseline-error-rate, --false-rollback-rate,"
        " --detection-rate and --max-latency apply to it too)"
    )
    metrics.add_argument(
        "--metrics-gate", action="store_true", help="gate each step on the alias's real traffic"
    )
    metrics.add_argument(
        "--settle",
        type=SECONDS,
        metavar="S",
        help="how long after a window ends to wait for its late datapoints (default 3m)",
    )
    metrics.add_argument(
        "--metrics-period",
        type=COUNT,
        metavar="S",
        help="the metrics' period in seconds (default 60, Lambda's; 1 on LocalLambda)",
    )
    return parser


# --- running --------------------------------------------------------------------------------


@contextlib.contextmanager
def _logging(debug: bool, stream: TextIO) -> Iterator[None]:
    """With ``--debug``, lambdaclient's log on stderr; otherwise no log output (the progress
    display says what matters)."""
    handler: logging.Handler = logging.StreamHandler(stream) if debug else logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = _logger.level
    _logger.addHandler(handler)
    if debug:
        _logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        _logger.removeHandler(handler)
        _logger.setLevel(level)


class _ClientOptions(TypedDict):
    profile: str | None
    endpoint_url: str | None
    read_timeout: float
    connect_timeout: float


def _client_options(args: argparse.Namespace) -> _ClientOptions:
    """What the global options configure in every client a command uses (with ``--region``)."""
    return {
        "profile": args.profile,
        "endpoint_url": args.endpoint_url,
        "read_timeout": args.cli_read_timeout,
        "connect_timeout": args.cli_connect_timeout,
    }


async def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    For callers that have an event loop already (tests, other tools); :func:`main` runs it
    in a new one. Cancellation (Ctrl-C) propagates, after a shift has rolled back.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error, or the help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out = Output(args.output)
    command: Command = args.command
    with _logging(args.debug, out.stderr):
        try:
            async with LambdaClient(args.region, **_client_options(args)) as client:
                return await command(client, args, out)
        except ValidationError as exc:
            out.error(_usage_message(exc, args))
            return EXIT_USAGE
        except LambdaError as exc:
            out.error(_describe(exc, args))
            return EXIT_FAILED
        except OSError as exc:  # a payload file that could not be read
            out.error(f"{type(exc).__name__}: {exc}")
            return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """The ``lambdaclient`` console script: run the command line, return its exit code
    (the console script's wrapper passes it to ``sys.exit``)."""
    try:
        return asyncio.run(run(argv))
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
