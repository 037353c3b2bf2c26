"""Sans-I/O Lambda protocol: arguments to :class:`HttpRequest`, responses to models or errors.

Nothing here does I/O or needs an event loop. ``build_*`` functions take arguments that the
client has already validated; ``parse_*`` functions take the status, the (case-insensitive)
headers and the body bytes of a response.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import attrs

from ._errors import ResponseParseError, ServiceError, TooManyRequestsError, service_error_class
from ._models import (
    AliasConfiguration,
    AliasPage,
    FunctionConfiguration,
    InvocationType,
    InvokeResult,
    LogType,
    RoutingConfig,
    VersionPage,
)
from ._sigv4 import EMPTY_SHA256
from ._wire import structure, unstructure_routing_config

if TYPE_CHECKING:
    from .transport import RequestBody  # a type only: this module imports no HTTP library

__all__ = [
    "HttpRequest",
    "Idempotency",
    "InvokeHead",
    "build_create_alias",
    "build_delete_alias",
    "build_get_alias",
    "build_get_function_configuration",
    "build_invoke",
    "build_list_aliases",
    "build_list_versions_by_function",
    "build_publish_version",
    "build_update_alias",
    "decode_log",
    "error_body",
    "is_error",
    "parse_alias",
    "parse_alias_page",
    "parse_error",
    "parse_function_configuration",
    "parse_invoke",
    "parse_invoke_head",
    "parse_version_page",
    "request_id",
]

T = TypeVar("T")

_FUNCTIONS = "/2015-03-31/functions/"
_JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json"}
_NO_HEADERS: Mapping[str, str] = {}


class Idempotency(enum.Enum):
    """What a repeated request can do, which decides what may be retried (see ``_retry``)."""

    READ = "read"  # changes nothing: any failure may be retried
    WRITE = "write"  # changes state: retried only when the server cannot have acted on it


@attrs.frozen(slots=True)
class HttpRequest:
    """A request before signing: path and query are percent-encoded exactly as sent."""

    operation: str
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: RequestBody
    body_sha256: str
    idempotency: Idempotency


def _label(value: str) -> str:
    # URI labels are percent-encoded with only "-._~" left bare, so no function or alias name
    # can add a path segment or a query ('/' -> %2F, '?' -> %3F, ':' -> %3A, '$' -> %24).
    # A label of dots alone would be a dot segment ("..": the parent), so its dots are
    # encoded too, although validation refuses such names first.
    if value.strip(".") == "":
        return "%2E" * len(value)
    return quote(value, safe="")


def _query(params: Mapping[str, str | int | None]) -> str:
    return "&".join(
        f"{key}={quote(str(value), safe='')}"
        for key, value in sorted(params.items())
        if value is not None
    )


def _json_request(
    operation: str, method: str, path: str, body: Mapping[str, Any], idempotency: Idempotency
) -> HttpRequest:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return HttpRequest(
        operation,
        method,
        path,
        "",
        _JSON_HEADERS,
        data,
        hashlib.sha256(data).hexdigest(),
        idempotency,
    )


def _alias_path(function_name: str, name: str | None = None) -> str:
    path = f"{_FUNCTIONS}{_label(function_name)}/aliases"
    return path if name is None else f"{path}/{_label(name)}"


def _alias_body(
    *,
    name: str | None = None,
    function_version: str | None,
    description: str | None,
    routing_config: RoutingConfig | None,
    revision_id: str | None = None,
) -> dict[str, Any]:
    # An argument left out is not sent: UpdateAlias leaves what is not in the body unchanged.
    body: dict[str, Any] = {}
    if name is not None:
        body["Name"] = name
    if function_version is not None:
        body["FunctionVersion"] = function_version
    if description is not None:
        body["Description"] = description
    if routing_config is not None:
        body["RoutingConfig"] = unstructure_routing_config(routing_config)
    if revision_id is not None:
        body["RevisionId"] = revision_id
    return body


def build_create_alias(
    function_name: str,
    name: str,
    *,
    function_version: str,
    description: str | None,
    routing_config: RoutingConfig | None,
) -> HttpRequest:
    """CreateAlias: ``POST /2015-03-31/functions/{FunctionName}/aliases``."""
    body = _alias_body(
        name=name,
        function_version=function_version,
        description=description,
        routing_config=routing_config,
    )
    return _json_request("CreateAlias", "POST", _alias_path(function_name), body, Idempotency.WRITE)


def build_get_alias(function_name: str, name: str) -> HttpRequest:
    """GetAlias: ``GET /2015-03-31/functions/{FunctionName}/aliases/{Name}``."""
    return HttpRequest(
        "GetAlias",
        "GET",
        _alias_path(function_name, name),
        "",
        _NO_HEADERS,
        b"",
        EMPTY_SHA256,
        Idempotency.READ,
    )


def build_update_alias(
    function_name: str,
    name: str,
    *,
    function_version: str | None,
    description: str | None,
    routing_config: RoutingConfig | None,
    revision_id: str | None,
) -> HttpRequest:
    """UpdateAlias: ``PUT /2015-03-31/functions/{FunctionName}/aliases/{Name}``."""
    body = _alias_body(
        function_version=function_version,
        description=description,
        routing_config=routing_config,
        revision_id=revision_id,
    )
    return _json_request(
        "UpdateAlias", "PUT", _alias_path(function_name, name), body, Idempotency.WRITE
    )


def build_delete_alias(function_name: str, name: str) -> HttpRequest:
    """DeleteAlias: ``DELETE /2015-03-31/functions/{FunctionName}/aliases/{Name}``."""
    return HttpRequest(
        "DeleteAlias",
        "DELETE",
        _alias_path(function_name, name),
        "",
        _NO_HEADERS,
        b"",
        EMPTY_SHA256,
        Idempotency.WRITE,
    )


def build_list_aliases(
    function_name: str,
    *,
    function_version: str | None,
    marker: str | None,
    page_size: int | None,
) -> HttpRequest:
    """ListAliases: ``GET /2015-03-31/functions/{FunctionName}/aliases``, with the query
    parameters FunctionVersion, Marker and MaxItems."""
    query = _query({"FunctionVersion": function_version, "Marker": marker, "MaxItems": page_size})
    return HttpRequest(
        "ListAliases",
        "GET",
        _alias_path(function_name),
        query,
        _NO_HEADERS,
        b"",
        EMPTY_SHA256,
        Idempotency.READ,
    )


def build_invoke(
    function_name: str,
    *,
    body: RequestBody,
    body_sha256: str,
    qualifier: str | None,
    invocation_type: InvocationType,
    log_type: LogType,
    client_context: str | None,
    idempotent: bool,
    response_stream: bool = False,
) -> HttpRequest:
    """Invoke (``POST /2015-03-31/functions/{FunctionName}/invocations``) or, with
    ``response_stream``, InvokeWithResponseStream
    (``POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations``).

    ``client_context`` is already base64. The body is sent with no Content-Type, as botocore
    sends it. Unless the caller says the function is ``idempotent``, an invocation is
    retried only when it cannot have run.
    """
    headers: dict[str, str] = {}
    # Defaults are left to the service, as botocore leaves them.
    if invocation_type is not InvocationType.REQUEST_RESPONSE:
        headers["X-Amz-Invocation-Type"] = invocation_type.value
    if log_type is not LogType.NONE:
        headers["X-Amz-Log-Type"] = log_type.value
    if client_context is not None:
        headers["X-Amz-Client-Context"] = client_context
    if response_stream:
        operation = "InvokeWithResponseStream"
        path = f"/2021-11-15/functions/{_label(function_name)}/response-streaming-invocations"
    else:
        operation = "Invoke"
        path = f"{_FUNCTIONS}{_label(function_name)}/invocations"
    return HttpRequest(
        operation,
        "POST",
        path,
        "" if qualifier is None else _query({"Qualifier": qualifier}),
        headers,
        body,
        body_sha256,
        Idempotency.READ if idempotent else Idempotency.WRITE,
    )


@attrs.frozen(slots=True)
class InvokeHead:
    """What the head of an Invoke or InvokeWithResponseStream response says, read once for
    the buffered, streamed and event-stream paths alike."""

    status: int
    executed_version: str | None
    function_error: str | None
    log_result: str | None  # decoded from base64
    request_id: str | None
    content_type: str | None


def parse_invoke_head(status: int, headers: Mapping[str, str]) -> InvokeHead:
    """The head of a 2xx invoke response: status and the ``X-Amz-*`` headers."""
    return InvokeHead(
        status,
        headers.get("X-Amz-Executed-Version"),
        headers.get("X-Amz-Function-Error"),
        decode_log(headers.get("X-Amz-Log-Result")),
        request_id(headers),
        headers.get("Content-Type"),
    )


def parse_invoke(status: int, headers: Mapping[str, str], body: bytes) -> InvokeResult:
    """Invoke: the status, the payload and the ``X-Amz-*`` headers."""
    head = parse_invoke_head(status, headers)
    return InvokeResult(
        status,
        body,
        head.executed_version,
        head.function_error,
        head.log_result,
        head.request_id,
    )


def decode_log(value: str | None) -> str | None:
    """A base64 log tail (``X-Amz-Log-Result``, ``InvokeComplete.LogResult``) as text."""
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return value  # not base64: show what was sent rather than lose it


def build_publish_version(
    function_name: str,
    *,
    description: str | None,
    code_sha256: str | None,
    revision_id: str | None,
) -> HttpRequest:
    """PublishVersion: ``POST /2015-03-31/functions/{FunctionName}/versions``."""
    body = {
        key: value
        for key, value in (
            ("Description", description),
            ("CodeSha256", code_sha256),
            ("RevisionId", revision_id),
        )
        if value is not None
    }
    path = f"{_FUNCTIONS}{_label(function_name)}/versions"
    return _json_request("PublishVersion", "POST", path, body, Idempotency.WRITE)


def build_list_versions_by_function(
    function_name: str, *, marker: str | None, page_size: int | None
) -> HttpRequest:
    """ListVersionsByFunction: ``GET /2015-03-31/functions/{FunctionName}/versions``."""
    return HttpRequest(
        "ListVersionsByFunction",
        "GET",
        f"{_FUNCTIONS}{_label(function_name)}/versions",
        _query({"Marker": marker, "MaxItems": page_size}),
        _NO_HEADERS,
        b"",
        EMPTY_SHA256,
        Idempotency.READ,
    )


def build_get_function_configuration(function_name: str, *, qualifier: str | None) -> HttpRequest:
    """GetFunctionConfiguration: ``GET /2015-03-31/functions/{FunctionName}/configuration``."""
    return HttpRequest(
        "GetFunctionConfiguration",
        "GET",
        f"{_FUNCTIONS}{_label(function_name)}/configuration",
        _query({"Qualifier": qualifier}),
        _NO_HEADERS,
        b"",
        EMPTY_SHA256,
        Idempotency.READ,
    )


def parse_function_configuration(
    status: int, headers: Mapping[str, str], body: bytes
) -> FunctionConfiguration:
    """PublishVersion and GetFunctionConfiguration: a ``FunctionConfiguration`` body."""
    return _structured(FunctionConfiguration, status, headers, body)


def parse_version_page(status: int, headers: Mapping[str, str], body: bytes) -> VersionPage:
    """ListVersionsByFunction: ``{"Versions": [...], "NextMarker": ...}``."""
    return _structured(VersionPage, status, headers, body)


def is_error(status: int) -> bool:
    """Whether a response is an error, to be read with :func:`parse_error`: any status
    outside 2xx (no redirect is followed)."""
    return not 200 <= status < 300


def request_id(headers: Mapping[str, str]) -> str | None:
    """The ``x-amzn-RequestId`` of a response (headers must be case-insensitive)."""
    return headers.get("x-amzn-RequestId")


_EXCERPT_LENGTH = 1024  # how much of a body a ResponseParseError keeps


def _structured(cls: type[T], status: int, headers: Mapping[str, str], body: bytes) -> T:
    """A JSON body as ``cls``, or :class:`ResponseParseError` with an excerpt of it.

    The error holds nothing else of the body: the decoder's own error, which holds the whole
    text (``JSONDecodeError.doc``), is neither its cause nor its context.
    """
    # The Content-Type is not checked: emulators answer JSON as text/html, and AWS's own
    # content type is not part of the contract.
    rid = request_id(headers)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        problem = f"response body is not JSON ({len(body):,} bytes): {exc}"
    else:
        try:
            return structure(data, cls, status=status, request_id=rid)
        except ResponseParseError as error:
            error.excerpt = body[:_EXCERPT_LENGTH]
            raise
    raise ResponseParseError(problem, status=status, request_id=rid, excerpt=body[:_EXCERPT_LENGTH])


def parse_alias(status: int, headers: Mapping[str, str], body: bytes) -> AliasConfiguration:
    """CreateAlias, GetAlias and UpdateAlias: an ``AliasConfiguration`` JSON body."""
    return _structured(AliasConfiguration, status, headers, body)


def parse_alias_page(status: int, headers: Mapping[str, str], body: bytes) -> AliasPage:
    """ListAliases: ``{"Aliases": [...], "NextMarker": ...}``."""
    return _structured(AliasPage, status, headers, body)


def _error_code(headers: Mapping[str, str], body: Mapping[str, Any], status: int) -> str:
    # botocore's RestJSONParser order: the header, then the body's code/Code/__type, then the
    # status. "Name:http://internal.amazon.com/coral/..." and "prefix#Name" both mean Name.
    raw = headers.get("x-amzn-ErrorType") or body.get("code") or body.get("Code")
    raw = raw or body.get("__type")
    if not isinstance(raw, str) or not raw:
        return str(status)
    return raw.split(":", 1)[0].rsplit("#", 1)[-1] or str(status)


def _retry_after(headers: Mapping[str, str], body: Mapping[str, Any]) -> float | None:
    value = headers.get("Retry-After") or body.get("retryAfterSeconds")
    try:
        seconds = float(value) if isinstance(value, str | int | float) else None
    except (ValueError, OverflowError):  # OverflowError: an integer past float's range
        return None  # an HTTP-date or garbage: fall back to the client's own backoff
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None


def error_body(body: bytes) -> tuple[dict[str, Any], str]:
    """An error answer's JSON object (empty when the body is not one) and its message. Never
    raises: an HTML page from a proxy or an empty 503 gives ``({}, "")``."""
    try:
        data = json.loads(body) if body else {}
    except (ValueError, RecursionError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    message = data.get("message") or data.get("Message") or ""
    if not isinstance(message, str):
        # A number is shown; a list or object is not a message (and str() of one nested
        # deeply enough would raise RecursionError).
        message = str(message) if isinstance(message, int | float) else ""
    return data, message


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
    """The typed error for a non-2xx response. Never raises: a body that is not JSON (an
    HTML error page from a proxy, an empty 503) still gives a ServiceError for the status."""
    data, message = error_body(body)
    code = _error_code(headers, data, status)
    cls = service_error_class(code)
    if cls is ServiceError and status == 429:
        cls = TooManyRequestsError  # a bare 429 (from a proxy, say) still carries Retry-After
    rid = request_id(headers)
    if cls is TooManyRequestsError:
        reason = data.get("Reason")
        return TooManyRequestsError(
            code,
            message,
            status=status,
            request_id=rid,
            retry_after_seconds=_retry_after(headers, data),
            reason=reason if isinstance(reason, str) else None,
        )
    return cls(code, message, status=status, request_id=rid)
