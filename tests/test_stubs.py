"""Checks every canned response in ``stubs/`` against botocore's Lambda service model.

The client's tests replay these stubs, so a stub that drifts from the real API would let the
client drift with it. Each stub is held to the model twice: by a strict validator written here
(status, declared errors, ``x-amzn-ErrorType``, and the body's and header members' types and
constraints), and by botocore's own rest-json parser, which is lenient about types but is what
boto3 runs on the same bytes. Negative cases at the end show the checks fail on drift.

Invoke's output is not a JSON structure: its body is the function's raw payload (the output
shape's blob ``payload`` member) and its other members are the status code and ``X-Amz-*``
headers, so such a body is checked as bytes, not against the shape.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import io
import json
import re
from pathlib import Path
from typing import Any

import attrs
import botocore.awsrequest
import botocore.eventstream
import botocore.parsers
import botocore.response
import botocore.session
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from tests import stubs

# The operations lambdaclient implements; each needs a success and an error stub to replay.
IMPLEMENTED = (
    "CreateAlias",
    "GetAlias",
    "UpdateAlias",
    "DeleteAlias",
    "ListAliases",
    "Invoke",
    "InvokeWithResponseStream",
    "PublishVersion",
    "ListVersionsByFunction",
    "GetFunctionConfiguration",
)

# The model gives each operation one ``responseCode`` (200 for both invokes), but an
# invocation's status follows its InvocationType: Invoke answers 202 for Event and 204 for
# DryRun (lambda-wire.md §2.6), InvokeWithResponseStream 204 for DryRun (§2.7).
EXTRA_SUCCESS_STATUSES: dict[str, tuple[int, ...]] = {
    "Invoke": (202, 204),
    "InvokeWithResponseStream": (204,),
}

# The model types X-Amz-Log-Result as a plain string; Lambda sends the log tail base64-encoded
# (lambda-wire.md §2.6), and clients decode it.
BASE64_HEADERS = frozenset({"x-amz-log-result"})

# Output patterns are not checked in general: AWS returns values (``$LATEST.PUBLISHED``) that
# the model's output patterns reject. These two are stable, and the client keys on them.
PATTERN_CHECKED = frozenset({"Alias", "AdditionalVersion"})

STUBS = stubs.every()


@functools.cache
def lambda_model() -> Any:
    """botocore's installed Lambda service model (loading it takes a while, so once)."""
    return botocore.session.get_session().get_service_model("lambda")


# --------------------------------------------------------------------------------------------
# Validator over botocore shapes
# --------------------------------------------------------------------------------------------


def wire_name(member_name: str, member: Any) -> str:
    name: str = member.serialization.get("name", member_name)
    return name


def location(member: Any) -> str | None:
    """Where a member travels: None for the JSON body, else header/headers/uri/querystring/..."""
    where: str | None = member.serialization.get("location")
    return where


def payload_member(shape: Any) -> Any | None:
    """The member an output carries as its whole body (Invoke's ``Payload``), if any."""
    if shape is None or "payload" not in shape.serialization:
        return None
    return shape.members[shape.serialization["payload"]]


def mismatch(shape: Any, value: object, path: str = "$") -> str | None:
    """The first place decoded JSON ``value`` does not fit ``shape``, or None when it fits."""
    kind: str = shape.type_name
    if kind == "structure":
        return _structure_mismatch(shape, value, path)
    if kind == "list":
        if not isinstance(value, list):
            return _expected("a list", value, path)
        for index, item in enumerate(value):
            if (found := mismatch(shape.member, item, f"{path}[{index}]")) is not None:
                return found
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return _expected("an object", value, path)
        for key, item in value.items():
            at = f"{path}[{json.dumps(key)}]"
            if (found := mismatch(shape.key, key, f"{at} (key)")) is not None:
                return found
            if (found := mismatch(shape.value, item, at)) is not None:
                return found
        return None
    if kind == "string":
        return _string_mismatch(shape, value, path)
    if kind in {"integer", "long"}:
        # bool is an int subclass, but true/false on the wire is not a number.
        if not isinstance(value, int) or isinstance(value, bool):
            return _expected("an integer", value, path)
        return _bounds_mismatch(shape, value, repr(value), path)
    if kind in {"double", "float"}:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return _expected("a number", value, path)
        return _bounds_mismatch(shape, value, repr(value), path)
    if kind == "boolean":
        return None if isinstance(value, bool) else _expected("a boolean", value, path)
    if kind == "timestamp":
        # rest-json sends epoch seconds unless the shape asks for a string format.
        if isinstance(value, str) or (
            isinstance(value, int | float) and not isinstance(value, bool)
        ):
            return None
        return _expected("a timestamp", value, path)
    if kind == "blob":
        return None if isinstance(value, str) else _expected("base64 text", value, path)
    # Failing beats silently passing a type this validator does not understand.
    return f"{path}: no check for {shape.name}'s type {kind!r}"


def _expected(what: str, value: object, path: str) -> str:
    return f"{path}: expected {what}, got {value!r}"


def _structure_mismatch(shape: Any, value: object, path: str) -> str | None:
    if not isinstance(value, dict):
        return _expected(f"a {shape.name} object", value, path)
    in_body: dict[str, Any] = {}
    elsewhere: dict[str, str] = {}
    for name, member in shape.members.items():
        if (where := location(member)) is None:
            in_body[wire_name(name, member)] = member
        else:
            elsewhere[name] = elsewhere[wire_name(name, member)] = where
    for key, item in value.items():
        if key in elsewhere:
            return f"{path}.{key}: {shape.name} carries it in the {elsewhere[key]}, not the body"
        if key not in in_body:
            return f"{path}.{key}: not a member of {shape.name}"
        # The model has no nullable members: null means absent, as botocore reads it.
        if item is not None and (found := mismatch(in_body[key], item, f"{path}.{key}")):
            return found
    for name in shape.required_members:
        member = shape.members[name]
        key = wire_name(name, member)
        if location(member) is None and value.get(key) is None:
            return f"{path}.{key}: required member of {shape.name} is missing"
    return None


def _string_mismatch(shape: Any, value: object, path: str) -> str | None:
    if not isinstance(value, str):
        return _expected("a string", value, path)
    if (found := _bounds_mismatch(shape, len(value), f"length {len(value)}", path)) is not None:
        return found
    enum: list[str] | None = shape.metadata.get("enum")
    if enum is not None and value not in enum:
        return f"{path}: {value!r} is not one of {shape.name}'s values {enum}"
    pattern: str | None = shape.metadata.get("pattern")
    if shape.name in PATTERN_CHECKED and pattern is not None and not re.fullmatch(pattern, value):
        return f"{path}: {value!r} does not match {shape.name}'s pattern {pattern!r}"
    return None


def _bounds_mismatch(shape: Any, measure: float, subject: str, path: str) -> str | None:
    low: float | None = shape.metadata.get("min")
    high: float | None = shape.metadata.get("max")
    if low is not None and measure < low:
        return f"{path}: {subject} is below {shape.name}'s min {low}"
    if high is not None and measure > high:
        return f"{path}: {subject} is above {shape.name}'s max {high}"
    return None


def header_mismatch(shape: Any, raw: object, header: str) -> str | None:
    """Where a header value does not fit ``shape``; headers are text, typed per the model."""
    at = f"header {header}"
    if not isinstance(raw, str):
        return _expected("a string", raw, at)
    kind: str = shape.type_name
    value: object = raw
    if kind in {"integer", "long"}:
        if not re.fullmatch(r"-?[0-9]+", raw):
            return _expected("an integer", raw, at)
        value = int(raw)
    elif kind in {"double", "float"}:
        try:
            value = float(raw)
        except ValueError:
            return _expected("a number", raw, at)
    elif kind == "boolean":
        if raw not in {"true", "false"}:
            return _expected("true or false", raw, at)
        value = raw == "true"
    elif kind == "timestamp":
        return None
    return mismatch(shape, value, at)


# --------------------------------------------------------------------------------------------
# One stub against the model
# --------------------------------------------------------------------------------------------


def check_stub(stub: stubs.Stub) -> None:
    """Raise AssertionError, saying where, if ``stub`` is not a response Lambda could send."""
    model = lambda_model()
    assert stub.operation in model.operation_names, f"{stub.operation} is not a Lambda operation"
    operation = model.operation_model(stub.operation)
    assert "x-amzn-RequestId" in stub.headers, "every Lambda response carries x-amzn-RequestId"
    for header, raw in stub.headers.items():
        assert isinstance(raw, str), f"header {header}: {raw!r} is not text"

    if 200 <= stub.status < 300:
        shape = _check_success(stub, operation)
    elif stub.status >= 400:
        shape = _check_error(stub, operation)
    else:
        pytest.fail(f"status {stub.status} is neither a success nor an error")

    payload = payload_member(shape)
    if stub.shape is None:
        assert stub.body_bytes == b"", f"{stub.operation} returns no body, but the stub has one"
    elif payload is not None:
        _check_payload(stub, payload)
    else:
        assert stub.body_text is None, f"{stub.shape} is a JSON body, not text"
        found = mismatch(shape, stub.body)
        assert found is None, f"body does not fit {stub.shape}: {found}"
    _check_header_members(stub, shape)
    _check_with_botocore(stub, operation)

    # Last, so a wrong status is reported against the model rather than the file name.
    assert stub.path.parent.name == stub.operation, "stub filed under another operation"
    assert stub.path.stem.startswith(f"{stub.status}-"), "file name's status is not the stub's"


def _check_success(stub: stubs.Stub, operation: Any) -> Any:
    response_code: int = operation.http.get("responseCode", 200)
    statuses = (response_code, *EXTRA_SUCCESS_STATUSES.get(stub.operation, ()))
    assert stub.status in statuses, (
        f"{stub.operation} succeeds with {' or '.join(map(str, statuses))}, not {stub.status}"
    )
    assert "x-amzn-ErrorType" not in stub.headers, "a success names an error type"
    output = operation.output_shape
    if stub.shape is None:
        assert output is None or not any(location(m) is None for m in output.members.values()), (
            f"{stub.operation} returns {output.name if output else None} in its body, not nothing"
        )
    else:
        assert output is not None, f"{stub.operation} has no output shape, not {stub.shape}"
        assert stub.shape == output.name, f"{stub.operation} returns {output.name}"
    return output


def _check_error(stub: stubs.Stub, operation: Any) -> Any:
    declared = {shape.name: shape for shape in operation.error_shapes}
    assert stub.shape in declared, (
        f"{stub.shape} is not an error {stub.operation} declares: {sorted(declared)}"
    )
    shape = declared[stub.shape]
    status: int = shape.metadata["error"]["httpStatusCode"]
    assert stub.status == status, f"{stub.shape} comes with {status}, not {stub.status}"
    error_type = stub.headers.get("x-amzn-ErrorType")
    assert error_type == stub.shape, f"x-amzn-ErrorType is {error_type!r}, not {stub.shape!r}"
    return shape


def _check_payload(stub: stubs.Stub, member: Any) -> None:
    """A body that is one member: raw bytes for a blob, frames for an event stream."""
    if member.serialization.get("eventstream"):
        # Event-stream frames are binary: a JSON stub can hold only the empty DryRun answer.
        assert stub.status == 204, "an event stream cannot be written in a stub; only the 204 can"
        assert stub.body_bytes == b"", "a DryRun's event stream is empty"
        return
    assert member.type_name == "blob", f"no check for a {member.type_name} payload"
    if stub.status in {202, 204}:
        # An Event (202) or DryRun (204) invocation runs nothing here and returns nothing.
        assert stub.body_bytes == b"", f"a {stub.status} carries no payload"


def _check_header_members(stub: stubs.Stub, shape: Any) -> None:
    members: dict[str, Any] = {} if shape is None else dict(shape.members)
    declared: set[str] = set()
    for name, member in members.items():
        if location(member) != "header":
            continue
        header = wire_name(name, member)
        declared.add(header.lower())
        if header in stub.headers:
            raw = stub.headers[header]
            found = header_mismatch(member, raw, header)
            assert found is None, f"{shape.name}.{name} does not fit: {found}"
            if header.lower() in BASE64_HEADERS:
                try:
                    base64.b64decode(raw, validate=True)
                except binascii.Error:
                    raise AssertionError(f"header {header}: {raw!r} is not base64") from None
        else:
            assert name not in shape.required_members, f"required header {header} is missing"
    # A misspelt X-Amz-* header would silently read as absent: a stub sends only modeled ones.
    for header in stub.headers:
        if header.lower().startswith("x-amz-"):
            assert header.lower() in declared, (
                f"header {header} is not a header member of {shape.name if shape else None}"
            )


def _check_with_botocore(stub: stubs.Stub, operation: Any) -> None:
    """botocore reads the stub as boto3 would: an independent oracle on the same bytes."""
    request_id = stub.headers["x-amzn-RequestId"]
    output = operation.output_shape
    parsed = _botocore_parse(stub, output, operation)
    meta = parsed.pop("ResponseMetadata")
    assert meta["RequestId"] == request_id, f"botocore read request id {meta.get('RequestId')!r}"
    assert meta["HTTPStatusCode"] == stub.status
    if stub.status < 400:
        if payload_member(output) is not None:
            _assert_payload_read(stub, output, parsed)
        else:
            _assert_all_read(stub, output, parsed)
        return

    error = parsed["Error"]
    assert error["Code"] == stub.shape, f"botocore read error code {error['Code']!r}"
    body: dict[str, Any] = stub.body
    assert "message" in body or "Message" in body, "Lambda errors carry a message"
    message = body.get("message", body.get("Message"))
    assert error["Message"] == message, f"botocore read error message {error['Message']!r}"
    # As botocore's endpoint does: the code picks the modeled exception, which reads its fields.
    error_shape = lambda_model().shape_for_error_code(error["Code"])
    assert error_shape is not None, f"botocore knows no error shape for {error['Code']!r}"
    assert error_shape.name == stub.shape
    _assert_all_read(stub, error_shape, _botocore_parse(stub, error_shape))


def _botocore_parse(stub: stubs.Stub, shape: Any, operation: Any = None) -> dict[str, Any]:
    body: object = stub.body_bytes
    if operation is not None and stub.status < 400:
        # As botocore's endpoint does: a streaming output's body is handed over unread, as a
        # StreamingBody (Invoke) or the raw stream (an event stream, decoded lazily).
        if operation.has_event_stream_output:
            body = io.BytesIO(stub.body_bytes)
        elif operation.has_streaming_output:
            body = botocore.response.StreamingBody(
                io.BytesIO(stub.body_bytes), len(stub.body_bytes)
            )
    response: dict[str, Any] = {
        "status_code": stub.status,
        # Not a plain dict: botocore looks headers up lower-cased ('x-amzn-errortype'), as on
        # the wire it gets a case-insensitive one; a plain dict hides x-amzn-ErrorType and
        # botocore falls back to the status as the error code.
        "headers": botocore.awsrequest.HeadersDict(dict(stub.headers)),
        "body": body,
    }
    if operation is not None:
        # botocore's endpoint passes this too; its event-stream reader needs the name.
        response["context"] = {"operation_name": operation.name}
    parsed: dict[str, Any] = botocore.parsers.create_parser("rest-json").parse(response, shape)
    return parsed


def _assert_all_read(stub: stubs.Stub, shape: Any, parsed: dict[str, Any]) -> None:
    """botocore silently drops what the model lacks, so everything sent must come back."""
    members: dict[str, Any] = {} if shape is None else dict(shape.members)
    sent = {key for key, value in (stub.body or {}).items() if value is not None}
    sent |= {
        wire_name(name, member)
        for name, member in members.items()
        if location(member) == "header" and wire_name(name, member) in stub.headers
    }
    read = {wire_name(name, members[name]) for name in parsed}
    assert read == sent, f"botocore read {sorted(read)} of {sorted(sent)}"


def _assert_payload_read(stub: stubs.Stub, shape: Any, parsed: dict[str, Any]) -> None:
    """botocore read the status, every header member sent, and the body as the payload."""
    members: dict[str, Any] = dict(shape.members)
    payload_name: str = shape.serialization["payload"]
    expected = {payload_name}
    expected |= {name for name, member in members.items() if location(member) == "statusCode"}
    expected |= {
        name
        for name, member in members.items()
        if location(member) == "header" and wire_name(name, member) in stub.headers
    }
    assert set(parsed) == expected, f"botocore read {sorted(parsed)} of {sorted(expected)}"
    for name in expected - {payload_name}:
        member = members[name]
        if location(member) == "statusCode":
            assert parsed[name] == stub.status, f"botocore read {name} {parsed[name]!r}"
        else:
            header = stub.headers[wire_name(name, member)]
            assert parsed[name] == header, f"botocore read {name} {parsed[name]!r}"
    payload = parsed[payload_name]
    if members[payload_name].serialization.get("eventstream"):
        assert isinstance(payload, botocore.eventstream.EventStream), repr(payload)
        return
    assert _payload_bytes(payload) == stub.body_bytes, f"botocore read payload {payload!r}"


def _payload_bytes(value: object) -> bytes:
    # botocore hands a streaming payload over as a StreamingBody, but decodes a blob payload
    # given as bytes to str: take either.
    if isinstance(value, botocore.response.StreamingBody):
        data: bytes = value.read()
        return data
    if isinstance(value, str):
        return value.encode()
    assert isinstance(value, bytes), f"botocore read the payload as {type(value).__name__}"
    return value


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stub", STUBS, ids=[f"{stub.operation}/{stub.path.stem}" for stub in STUBS]
)
def test_stub_fits_model(stub: stubs.Stub) -> None:
    check_stub(stub)


@pytest.mark.parametrize("operation", IMPLEMENTED)
def test_implemented_operation_has_success_and_error_stubs(operation: str) -> None:
    statuses = [stub.status for stub in STUBS if stub.operation == operation]
    assert any(200 <= status < 300 for status in statuses), f"no 2xx stub for {operation}"
    assert any(status >= 400 for status in statuses), f"no error stub for {operation}"


def _weighted() -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(stubs.load("GetAlias", "200-weighted").body)
    return body


def _weights(**weights: object) -> dict[str, Any]:
    body = _weighted()
    body["RoutingConfig"]["AdditionalVersionWeights"] = weights
    return body


def _listed_name(name: object) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(stubs.load("ListAliases", "200-first-page").body)
    body["Aliases"][1]["Name"] = name
    return body


def _throttled(**changes: object) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(stubs.load("GetAlias", "429-too-many-requests").body)
    body.update(changes)
    return body


DRIFTED_BODIES = [
    pytest.param(
        "AliasConfiguration",
        _weights(**{"2": "0.5"}),
        '$.RoutingConfig.AdditionalVersionWeights["2"]',
        "expected a number",
        id="weight-as-string",
    ),
    pytest.param(
        "AliasConfiguration",
        _weights(**{"2": 1.5}),
        '$.RoutingConfig.AdditionalVersionWeights["2"]',
        "1.5 is above Weight's max 1.0",
        id="weight-above-one",
    ),
    pytest.param(
        "AliasConfiguration",
        _weights(**{"$LATEST": 0.5}),
        '$.RoutingConfig.AdditionalVersionWeights["$LATEST"] (key)',
        "does not match AdditionalVersion's pattern",
        id="weight-keyed-by-unpublished-version",
    ),
    pytest.param(
        "AliasConfiguration",
        {**_weighted(), "Weight": 0.5},
        "$.Weight",
        "not a member of AliasConfiguration",
        id="unknown-key",
    ),
    pytest.param(
        "AliasConfiguration",
        {**_weighted(), "Name": "123"},
        "$.Name",
        "does not match Alias's pattern",
        id="all-digit-alias-name",
    ),
    pytest.param(
        "AliasConfiguration",
        {**_weighted(), "Description": "x" * 257},
        "$.Description",
        "length 257 is above Description's max 256",
        id="description-too-long",
    ),
    pytest.param(
        "ListAliasesResponse",
        _listed_name(7),
        "$.Aliases[1].Name",
        "expected a string",
        id="listed-alias-name-not-string",
    ),
    pytest.param(
        "TooManyRequestsException",
        _throttled(Reason="Bored"),
        "$.Reason",
        "not one of ThrottleReason's values",
        id="throttle-reason-not-in-enum",
    ),
    pytest.param(
        "TooManyRequestsException",
        _throttled(retryAfterSeconds="2"),
        "$.retryAfterSeconds",
        "in the header, not the body",
        id="header-member-in-body",
    ),
    # None of the alias shapes has a required member; EphemeralStorage requires Size.
    pytest.param("EphemeralStorage", {}, "$.Size", "required member", id="required-missing"),
    pytest.param(
        "EphemeralStorage", {"Size": None}, "$.Size", "required member", id="required-null"
    ),
    pytest.param(
        "EphemeralStorage", {"Size": True}, "$.Size", "expected an integer", id="bool-as-integer"
    ),
    pytest.param(
        "EphemeralStorage",
        {"Size": 100},
        "$.Size",
        "100 is below EphemeralStorageSize's min 512",
        id="integer-below-min",
    ),
]


@pytest.mark.parametrize(("shape_name", "body", "path", "reason"), DRIFTED_BODIES)
def test_validator_catches_drifted_body(
    shape_name: str, body: dict[str, Any], path: str, reason: str
) -> None:
    shape = lambda_model().shape_for(shape_name)
    found = mismatch(shape, body)
    assert found is not None, f"{shape_name} accepted {body!r}"
    assert found.startswith(f"{path}: "), found
    assert reason in found, found


def test_validator_accepts_what_required_members_allow() -> None:
    shape = lambda_model().shape_for("EphemeralStorage")
    assert "Size" in shape.required_members, "pick another shape with a required member"
    assert mismatch(shape, {"Size": 512}) is None


def _with_headers(stub: stubs.Stub, **changes: str | None) -> stubs.Stub:
    """``stub`` with headers set (underscores for dashes) or, given None, removed."""
    headers = CIMultiDict(stub.headers)
    for name, value in changes.items():
        header = name.replace("_", "-")
        headers.popall(header, None)
        if value is not None:
            headers[header] = value
    return attrs.evolve(stub, headers=CIMultiDictProxy(headers))


def _drifted_stubs() -> list[Any]:
    get_ok = stubs.load("GetAlias", "200-weighted")
    get_missing = stubs.load("GetAlias", "404-not-found")
    throttled = stubs.load("GetAlias", "429-too-many-requests")
    deleted = stubs.load("DeleteAlias", "204-deleted")
    no_type = CIMultiDict(get_missing.headers)
    del no_type["x-amzn-ErrorType"]
    numeric_retry = CIMultiDict(throttled.headers)
    numeric_retry["Retry-After"] = 2  # type: ignore[assignment]  # JSON can hold a number here
    return [
        pytest.param(
            attrs.evolve(get_ok, operation="GetAliass"), "not a Lambda operation", id="unknown-op"
        ),
        pytest.param(attrs.evolve(get_ok, status=201), "succeeds with 200", id="wrong-2xx"),
        pytest.param(
            attrs.evolve(get_ok, shape="ListAliasesResponse"),
            "returns AliasConfiguration",
            id="wrong-output-shape",
        ),
        pytest.param(
            _with_headers(get_ok, x_amzn_RequestId=None), "x-amzn-RequestId", id="no-request-id"
        ),
        pytest.param(attrs.evolve(deleted, body={}), "returns no body", id="body-on-204"),
        pytest.param(
            attrs.evolve(
                _with_headers(get_missing, x_amzn_ErrorType="PreconditionFailedException"),
                shape="PreconditionFailedException",
                status=412,
            ),
            "not an error GetAlias declares",
            id="undeclared-error",
        ),
        pytest.param(
            attrs.evolve(get_missing, status=400), "comes with 404, not 400", id="wrong-4xx"
        ),
        pytest.param(
            attrs.evolve(get_missing, headers=CIMultiDictProxy(no_type)),
            "x-amzn-ErrorType is None",
            id="no-error-type",
        ),
        pytest.param(
            _with_headers(get_missing, x_amzn_ErrorType="ServiceException"),
            "x-amzn-ErrorType is 'ServiceException'",
            id="error-type-mismatch",
        ),
        pytest.param(
            attrs.evolve(throttled, headers=CIMultiDictProxy(numeric_retry)),
            "header Retry-After: 2 is not text",
            id="numeric-header",
        ),
        pytest.param(
            attrs.evolve(get_missing, body={"Type": "User"}),
            "Lambda errors carry a message",
            id="error-without-message",
        ),
        pytest.param(
            attrs.evolve(get_ok, body=None, body_text="{}"),
            "AliasConfiguration is a JSON body, not text",
            id="text-body-for-a-structure",
        ),
        *_drifted_invoke_stubs(),
    ]


def _drifted_invoke_stubs() -> list[Any]:
    ok = stubs.load("Invoke", "200-ok")
    tail = stubs.load("Invoke", "200-log-tail")
    queued = stubs.load("Invoke", "202-event")
    streamed_dry_run = stubs.load("InvokeWithResponseStream", "204-dry-run")
    get_ok = stubs.load("GetAlias", "200-weighted")
    return [
        pytest.param(
            attrs.evolve(ok, status=201),
            "Invoke succeeds with 200 or 202 or 204, not 201",
            id="invoke-wrong-2xx",
        ),
        # Only the invokes answer 202/204 beside their modeled 200.
        pytest.param(
            attrs.evolve(get_ok, status=202), "GetAlias succeeds with 200, not 202", id="get-202"
        ),
        pytest.param(
            attrs.evolve(streamed_dry_run, status=202),
            "InvokeWithResponseStream succeeds with 200 or 204, not 202",
            id="stream-202",
        ),
        pytest.param(
            attrs.evolve(queued, body={"queued": True}),
            "a 202 carries no payload",
            id="payload-on-event",
        ),
        pytest.param(
            attrs.evolve(streamed_dry_run, status=200),
            "an event stream cannot be written in a stub",
            id="event-stream-body",
        ),
        pytest.param(
            attrs.evolve(ok, shape="InvokeWithResponseStreamResponse"),
            "Invoke returns InvocationResponse",
            id="invoke-wrong-output-shape",
        ),
        pytest.param(
            _with_headers(ok, X_Amz_Executed_Version=""),
            "header X-Amz-Executed-Version: length 0 is below Version's min 1",
            id="empty-executed-version",
        ),
        pytest.param(
            _with_headers(tail, X_Amz_Log_Result="START RequestId: 1"),
            "header X-Amz-Log-Result: 'START RequestId: 1' is not base64",
            id="log-result-not-base64",
        ),
        pytest.param(
            _with_headers(ok, X_Amz_Executed_Version=None, X_Amz_Executed_Versoin="2"),
            "header X-Amz-Executed-Versoin is not a header member of InvocationResponse",
            id="misspelt-header",
        ),
    ]


@pytest.mark.parametrize(("stub", "reason"), _drifted_stubs())
def test_stub_check_catches_drift(stub: stubs.Stub, reason: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(reason)):
        check_stub(stub)


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param({"body": None, "body_text": ""}, id="both"),
        pytest.param({}, id="neither"),
        pytest.param({"body_text": {"a": 1}}, id="text-not-a-string"),
    ],
)
def test_a_stub_file_has_exactly_one_body(tmp_path: Path, doc: dict[str, Any]) -> None:
    path = tmp_path / "200-case.json"
    head = {"operation": "Invoke", "shape": "InvocationResponse", "status": 200, "headers": {}}
    path.write_text(json.dumps({**head, **doc}))

    with pytest.raises(ValueError, match="body_text"):
        stubs.read(path)


def test_a_text_body_is_sent_as_utf8_as_written() -> None:
    stub = stubs.load("Invoke", "200-text")

    assert stub.body is None
    assert stub.body_text is not None
    assert stub.body_bytes == stub.body_text.encode()
    with pytest.raises(json.JSONDecodeError):  # the point of body_text: a non-JSON payload
        json.loads(stub.body_bytes)
