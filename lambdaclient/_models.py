"""Frozen value types returned by, and passed to, the client."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from ._errors import FunctionError

__all__ = [
    "AliasConfiguration",
    "AliasPage",
    "DeadLetterConfig",
    "FunctionConfiguration",
    "InvocationType",
    "InvokeComplete",
    "InvokeResult",
    "LogType",
    "RoutingConfig",
    "VersionPage",
    "function_error_from_payload",
]


def _frozen_weights(weights: Mapping[str, float]) -> Mapping[str, float]:
    # A read-only copy, so a frozen RoutingConfig cannot change under the caller's feet.
    return MappingProxyType(dict(weights))


@attrs.frozen(slots=True)
class RoutingConfig:
    """The weights of an alias's additional version: ``{version: fraction of traffic}``.

    The alias's own ``function_version`` gets the rest. AWS allows one additional version.
    ``RoutingConfig({})`` clears the weights when passed to ``update_alias``.

    Example::

        RoutingConfig({"2": 0.1})   # 10% to version 2, 90% to the primary
    """

    additional_version_weights: Mapping[str, float] = attrs.field(
        converter=_frozen_weights, hash=False, repr=lambda w: repr(dict(w))
    )


@attrs.frozen(slots=True)
class AliasConfiguration:
    """An alias as Lambda describes it.

    ``routing_config`` is None when the alias sends all traffic to ``function_version``.
    ``revision_id`` changes on every update; pass it to ``update_alias(revision_id=...)`` to
    make an update conditional on nobody else having changed the alias.
    """

    alias_arn: str
    name: str
    function_version: str
    description: str | None
    routing_config: RoutingConfig | None
    revision_id: str


@attrs.frozen(slots=True)
class AliasPage:
    """One page of ``list_aliases``: its aliases and the marker of the next page, if any."""

    aliases: tuple[AliasConfiguration, ...]
    next_marker: str | None


class InvocationType(enum.StrEnum):
    """How Lambda runs an invocation.

    ``REQUEST_RESPONSE`` waits for the function and returns its payload (HTTP 200);
    ``EVENT`` queues it and returns at once (202, empty payload); ``DRY_RUN`` only checks that
    the caller may invoke the function (204).
    """

    REQUEST_RESPONSE = "RequestResponse"
    EVENT = "Event"
    DRY_RUN = "DryRun"


class LogType(enum.StrEnum):
    """``TAIL`` returns the last 4 KB of the invocation's log (synchronous invokes only)."""

    NONE = "None"
    TAIL = "Tail"


def _payload_repr(payload: bytes) -> str:
    # Payloads can hold anything a function returns, secrets included: show only the size.
    return f"<{len(payload)} bytes>"


@attrs.frozen(slots=True)
class InvokeResult:
    """What an invocation returned.

    ``status_code`` is 200, 202 (``EVENT``) or 204 (``DRY_RUN``). ``executed_version`` is the
    version that ran, which is how a caller sees where a weighted alias sent it.
    ``function_error`` is set when the function failed (AWS still answers 200; the payload
    then describes the error, see :meth:`raise_for_function_error`). ``log_result`` is the
    decoded log tail, with ``log_type=LogType.TAIL``.

    Example::

        result = await client.invoke("my-fn", payload={"order": 42}, qualifier="live")
        result.raise_for_function_error()
        print(result.executed_version, result.json())
    """

    status_code: int
    payload: bytes = attrs.field(repr=_payload_repr)
    executed_version: str | None
    function_error: str | None
    log_result: str | None
    request_id: str | None

    def json(self) -> Any:
        """The payload decoded as JSON. Raises ``ValueError`` if it is not JSON, or is
        nested too deeply for Python to decode."""
        try:
            return json.loads(self.payload)
        except RecursionError:
            raise ValueError("the payload is JSON nested too deeply to decode") from None

    def raise_for_function_error(self) -> None:
        """Raise :class:`~lambdaclient.errors.FunctionError` if the function failed."""
        if self.function_error is not None:
            raise function_error_from_payload(
                self.function_error, self.payload, self.executed_version
            )


@attrs.frozen(slots=True)
class InvokeComplete:
    """The last event of a response stream: how the invocation ended.

    ``error_code`` (e.g. ``"Unhandled"``) and ``error_details`` are set when the function
    failed mid-stream; ``log_result`` is the decoded log tail with ``log_type=LogType.TAIL``.
    """

    error_code: str | None
    error_details: str | None
    log_result: str | None


def function_error_from_payload(
    function_error: str, payload: bytes, executed_version: str | None
) -> FunctionError:
    """The :class:`FunctionError` a failed invocation's payload describes.

    Lambda's runtimes send ``{"errorType", "errorMessage", "stackTrace"}`` (some ``"trace"``);
    a payload that is not such an object still gives an error, typed by the
    ``X-Amz-Function-Error`` header.
    """
    try:
        data = json.loads(payload) if payload else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return FunctionError(function_error, "", None, executed_version)
    error_type = data.get("errorType")
    message = data.get("errorMessage")
    trace = data.get("stackTrace", data.get("trace"))
    return FunctionError(
        error_type if isinstance(error_type, str) else function_error,
        message if isinstance(message, str) else "",
        [_trace_line(line) for line in trace] if isinstance(trace, list) else None,
        executed_version,
    )


def _trace_line(line: object) -> str:
    # Runtimes send strings; older ones sent [file, line, function, code] lists.
    if isinstance(line, str):
        return line
    try:
        return str(line)
    except RecursionError:  # a list nested past what str() can walk
        return "<nested too deeply to show>"


@attrs.frozen(slots=True)
class DeadLetterConfig:
    """Where Lambda sends events it could not process (an SQS queue or SNS topic ARN)."""

    target_arn: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class FunctionConfiguration:
    """A function version's configuration, as ``get_function_configuration``,
    ``publish_version`` and ``list_versions_by_function`` return it.

    Every field is optional because AWS omits what does not apply; fields AWS adds later are
    ignored rather than rejected. ``version`` is ``"$LATEST"`` or a published number.
    ``state`` (``Pending``, ``Active``, ``Inactive``, ``Failed``...) says whether the version
    can be invoked, ``last_update_status`` (``InProgress``, ``Successful``, ``Failed``) how
    its last update went; each ``*_reason`` and ``*_reason_code`` says why.
    """

    function_name: str | None = None
    function_arn: str | None = None
    version: str | None = None
    description: str | None = None
    code_sha256: str | None = None
    revision_id: str | None = None
    role: str | None = None
    dead_letter_config: DeadLetterConfig | None = None
    state: str | None = None
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: str | None = None
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None
    last_modified: str | None = None
    runtime: str | None = None
    handler: str | None = None
    timeout: int | None = None
    memory_size: int | None = None


@attrs.frozen(slots=True)
class VersionPage:
    """One page of ``list_versions_by_function``: its versions and the next page's marker."""

    versions: tuple[FunctionConfiguration, ...]
    next_marker: str | None
