"""Tests for lambdaclient._protocol: the sans-I/O request builders and response parsers.

botocore is the oracle on both sides: its rest-json serializer (run without validation) for
what goes on the wire, and its rest-json parser for what an error response means. The canned
responses in ``stubs/`` stand in for AWS.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import botocore.awsrequest
import botocore.parsers
import botocore.serialize
import botocore.session
import botocore.utils
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from lambdaclient._errors import (
    InvalidParameterValueError,
    PreconditionFailedError,
    ResourceConflictError,
    ResourceNotFoundError,
    ResponseParseError,
    ServiceError,
    ServiceException,
    TooManyRequestsError,
    ValidationError,
)
from lambdaclient._models import AliasConfiguration, AliasPage, RoutingConfig
from lambdaclient._protocol import (
    HttpRequest,
    Idempotency,
    InvokeHead,
    build_create_alias,
    build_delete_alias,
    build_get_alias,
    build_list_aliases,
    build_update_alias,
    is_error,
    parse_alias,
    parse_alias_page,
    parse_error,
    parse_invoke,
    parse_invoke_head,
    request_id,
)
from lambdaclient._validate import check_description
from lambdaclient._wire import converter
from tests import stubs

_MODEL = botocore.session.get_session().get_service_model("lambda")
_SERIALIZER = botocore.serialize.create_serializer("rest-json", include_validation=False)
_PARSER = botocore.parsers.create_parser("rest-json")

ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
ENCODED_ARN = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn"
BASE = "/2015-03-31/functions"
# botocore builds and caches its models lazily, so a first call can be slow; speed is not
# what the oracle tests measure.
ORACLE = settings(deadline=None)


def botocore_request(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    serialized: dict[str, Any] = _SERIALIZER.serialize_to_request(
        dict(params), _MODEL.operation_model(operation)
    )
    return serialized


def assert_same_as_botocore(request: HttpRequest, params: Mapping[str, Any]) -> None:
    """``request`` is what botocore would put on the wire for ``params``."""
    expected = botocore_request(request.operation, params)
    assert request.method == expected["method"]
    assert request.path == expected["url_path"]
    # botocore keeps the query as a dict and encodes it (safe "-_.~") when it sends it; we
    # send it sorted, as it is signed.
    query = sorted(expected["query_string"].items())
    assert request.query == "&".join(
        f"{key}={botocore.utils.percent_encode(str(value))}" for key, value in query
    )
    assert dict(request.headers) == expected["headers"]
    if expected["body"]:
        assert json.loads(_body(request)) == json.loads(expected["body"])
    else:
        assert request.body == b""


def _body(request: HttpRequest) -> bytes:
    """The body of an alias request: always bytes in memory (only invoke streams a file)."""
    assert isinstance(request.body, bytes)
    return request.body


def _routing_params(config: RoutingConfig | None) -> dict[str, Any]:
    if config is None:
        return {}
    return {"RoutingConfig": {"AdditionalVersionWeights": dict(config.additional_version_weights)}}


def _not_none(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


# --------------------------------------------------------------------------------------------
# Building requests
# --------------------------------------------------------------------------------------------


def test_create_alias_request() -> None:
    request = build_create_alias(
        ARN,
        "live",
        function_version="1",
        description="d",
        routing_config=RoutingConfig({"2": 0.1}),
    )
    assert request.operation == "CreateAlias"
    assert request.method == "POST"
    assert request.path == f"{BASE}/{ENCODED_ARN}/aliases"
    assert request.query == ""
    assert request.headers == {"Content-Type": "application/json"}
    assert json.loads(_body(request)) == {
        "Name": "live",
        "FunctionVersion": "1",
        "Description": "d",
        "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}},
    }
    assert request.idempotency is Idempotency.WRITE


def test_get_alias_request() -> None:
    request = build_get_alias("my-fn", "live")
    assert (request.operation, request.method) == ("GetAlias", "GET")
    assert request.path == f"{BASE}/my-fn/aliases/live"
    assert (request.query, request.body) == ("", b"")
    assert request.headers == {}  # no body, so no Content-Type
    assert request.idempotency is Idempotency.READ


def test_delete_alias_request() -> None:
    request = build_delete_alias(f"{ARN}:$LATEST", "live")
    assert (request.operation, request.method) == ("DeleteAlias", "DELETE")
    assert request.path == f"{BASE}/{ENCODED_ARN}%3A%24LATEST/aliases/live"
    assert (request.query, request.body, dict(request.headers)) == ("", b"", {})
    # DeleteAlias is idempotent in the model, but a repeated delete still changes state.
    assert request.idempotency is Idempotency.WRITE


def test_update_alias_request() -> None:
    request = build_update_alias(
        "my-fn",
        "live",
        function_version="2",
        description=None,
        routing_config=None,
        revision_id="rev-1",
    )
    assert (request.operation, request.method) == ("UpdateAlias", "PUT")
    assert request.path == f"{BASE}/my-fn/aliases/live"
    assert request.headers == {"Content-Type": "application/json"}
    assert request.body == b'{"FunctionVersion":"2","RevisionId":"rev-1"}'
    assert request.idempotency is Idempotency.WRITE


def test_update_alias_with_nothing_set_sends_empty_object() -> None:
    request = build_update_alias(
        "f", "a", function_version=None, description=None, routing_config=None, revision_id=None
    )
    assert request.body == b"{}"
    assert request.headers == {"Content-Type": "application/json"}


def test_empty_routing_config_is_sent_to_clear_weights() -> None:
    request = build_update_alias(
        "f",
        "a",
        function_version="3",
        description=None,
        routing_config=RoutingConfig({}),
        revision_id=None,
    )
    assert (
        request.body == b'{"FunctionVersion":"3","RoutingConfig":{"AdditionalVersionWeights":{}}}'
    )


@pytest.mark.parametrize(("description", "sent"), [("", True), ("x", True), (None, False)])
def test_empty_description_is_sent_none_is_not(description: str | None, sent: bool) -> None:
    request = build_update_alias(
        "f",
        "a",
        function_version=None,
        description=description,
        routing_config=None,
        revision_id=None,
    )
    assert ("Description" in json.loads(_body(request))) is sent
    if sent:
        assert json.loads(_body(request))["Description"] == description


def test_list_aliases_query_is_sorted_encoded_and_skips_none() -> None:
    request = build_list_aliases(
        "my-fn", function_version="$LATEST", marker="tok/+= é", page_size=5
    )
    assert (request.operation, request.method) == ("ListAliases", "GET")
    assert request.path == f"{BASE}/my-fn/aliases"
    assert request.query == "FunctionVersion=%24LATEST&Marker=tok%2F%2B%3D%20%C3%A9&MaxItems=5"
    assert request.idempotency is Idempotency.READ
    only_marker = build_list_aliases("my-fn", function_version=None, marker="m", page_size=None)
    assert only_marker.query == "Marker=m"
    assert build_list_aliases("f", function_version=None, marker=None, page_size=None).query == ""


@pytest.mark.parametrize(
    "request_",
    [
        build_get_alias("f", "a"),
        build_delete_alias("f", "a"),
        build_list_aliases("f", function_version=None, marker=None, page_size=None),
        build_create_alias("f", "a", function_version="1", description="é", routing_config=None),
        build_update_alias(
            "f", "a", function_version=None, description=None, routing_config=None, revision_id=None
        ),
    ],
    ids=lambda r: r.operation,
)
def test_body_sha256_is_the_hash_of_the_body(request_: HttpRequest) -> None:
    # The signer trusts this hash; a mismatch is a signature the server rejects.
    assert request_.body_sha256 == hashlib.sha256(_body(request_)).hexdigest()


_LABEL = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+")


def _labels(path: str, *fixed: str | None) -> list[str]:
    """The decoded labels of ``path``, after checking that its other segments are ``fixed``
    (None marks a label) and that each label is fully percent-encoded."""
    segments = path.split("/")
    assert len(segments) == len(fixed)
    labels: list[str] = []
    for segment, expected in zip(segments, fixed, strict=True):
        if expected is None:
            assert _LABEL.fullmatch(segment)
            labels.append(unquote(segment))
        else:
            assert segment == expected
    return labels


@given(st.text(min_size=1), st.text(min_size=1))
def test_no_name_can_change_the_path_structure(function_name: str, name: str) -> None:
    with_alias = [
        build_get_alias(function_name, name),
        build_delete_alias(function_name, name),
        build_update_alias(
            function_name,
            name,
            function_version=None,
            description=None,
            routing_config=None,
            revision_id=None,
        ),
    ]
    without_alias = [
        build_create_alias(
            function_name, name, function_version="1", description=None, routing_config=None
        ),
        build_list_aliases(function_name, function_version=None, marker=None, page_size=None),
    ]
    for request in with_alias + without_alias:
        assert "?" not in request.path
        assert "#" not in request.path
    for request in with_alias:
        labels = _labels(request.path, "", "2015-03-31", "functions", None, "aliases", None)
        assert labels == [function_name, name]
    for request in without_alias:
        labels = _labels(request.path, "", "2015-03-31", "functions", None, "aliases")
        assert labels == [function_name]


# --------------------------------------------------------------------------------------------
# Requests compared with botocore's serializer
# --------------------------------------------------------------------------------------------

# Labels of dots alone are left out: botocore sends "." and ".." bare, which a server reads
# as dot segments; lambdaclient encodes them (%2E) and refuses such names before that.
_not_dots = st.text(min_size=1).filter(lambda text: text.strip(".") != "")
function_names = st.sampled_from(["my-fn", ARN, f"{ARN}:live", "123456789012:function:f"]) | (
    _not_dots
)
alias_names = st.sampled_from(["live", "1a", "_"]) | _not_dots
versions = st.sampled_from(["1", "42", "$LATEST", "$LATEST.PUBLISHED"])
descriptions = st.none() | st.text(max_size=40)
routing_configs = st.none() | st.dictionaries(
    st.from_regex(r"[0-9]{1,3}", fullmatch=True), st.floats(0.0, 1.0), max_size=1
).map(RoutingConfig)


@ORACLE
@given(function_names, alias_names, versions, descriptions, routing_configs)
def test_create_alias_matches_botocore(
    function_name: str,
    name: str,
    version: str,
    description: str | None,
    routing: RoutingConfig | None,
) -> None:
    request = build_create_alias(
        function_name,
        name,
        function_version=version,
        description=description,
        routing_config=routing,
    )
    params = _not_none(FunctionName=function_name, Name=name, FunctionVersion=version)
    params |= _not_none(Description=description) | _routing_params(routing)
    assert_same_as_botocore(request, params)


@ORACLE
@given(
    function_names,
    alias_names,
    st.none() | versions,
    descriptions,
    routing_configs,
    st.none() | st.text(min_size=1, max_size=40),
)
def test_update_alias_matches_botocore(
    function_name: str,
    name: str,
    version: str | None,
    description: str | None,
    routing: RoutingConfig | None,
    revision_id: str | None,
) -> None:
    request = build_update_alias(
        function_name,
        name,
        function_version=version,
        description=description,
        routing_config=routing,
        revision_id=revision_id,
    )
    params = _not_none(FunctionName=function_name, Name=name, FunctionVersion=version)
    params |= _not_none(Description=description, RevisionId=revision_id) | _routing_params(routing)
    assert_same_as_botocore(request, params)


@ORACLE
@given(function_names, alias_names)
def test_get_and_delete_alias_match_botocore(function_name: str, name: str) -> None:
    params = {"FunctionName": function_name, "Name": name}
    assert_same_as_botocore(build_get_alias(function_name, name), params)
    assert_same_as_botocore(build_delete_alias(function_name, name), params)


@ORACLE
@given(
    function_names,
    st.none() | versions,
    st.none() | st.text(min_size=1, max_size=40),
    st.none() | st.integers(1, 10_000),
)
def test_list_aliases_matches_botocore(
    function_name: str, version: str | None, marker: str | None, page_size: int | None
) -> None:
    request = build_list_aliases(
        function_name, function_version=version, marker=marker, page_size=page_size
    )
    params = _not_none(FunctionName=function_name, FunctionVersion=version, Marker=marker)
    params |= _not_none(MaxItems=page_size)
    assert_same_as_botocore(request, params)


def test_an_accepted_description_can_always_be_sent() -> None:
    try:
        description = check_description("caf\udce9")
    except ValidationError:
        return  # rejecting it up front is a fine outcome too
    request = build_update_alias(
        "f",
        "a",
        function_version=None,
        description=description,
        routing_config=None,
        revision_id=None,
    )
    assert json.loads(_body(request))["Description"] == description


# --------------------------------------------------------------------------------------------
# Parsing successful responses
# --------------------------------------------------------------------------------------------

ALIAS_STUBS = [
    ("GetAlias", "200-unweighted"),
    ("GetAlias", "200-weighted"),
    ("CreateAlias", "201-created"),
    ("UpdateAlias", "200-updated"),
]
PAGE_STUBS = [
    ("ListAliases", "200-first-page"),
    ("ListAliases", "200-last-page"),
    ("ListAliases", "200-empty"),
]


HEADERS = CIMultiDict({"X-Amzn-RequestId": "rid-1"})


def _alias_body(**changes: Any) -> dict[str, Any]:
    """The weighted GetAlias stub's body with ``changes``; a change to ``...`` drops the key."""
    body: dict[str, Any] = dict(stubs.load("GetAlias", "200-weighted").body)
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def botocore_parse(operation: str, status: int, headers: Mapping[str, str], body: bytes) -> Any:
    response = {
        "status_code": status,
        "headers": botocore.awsrequest.HeadersDict(dict(headers)),
        "body": body,
    }
    parsed: dict[str, Any] = _PARSER.parse(response, _MODEL.operation_model(operation).output_shape)
    parsed.pop("ResponseMetadata")
    return parsed


@pytest.mark.parametrize(("operation", "case"), ALIAS_STUBS + PAGE_STUBS)
def test_success_stub_parses_as_botocore_does(operation: str, case: str) -> None:
    stub = stubs.load(operation, case)
    parse = parse_alias_page if operation == "ListAliases" else parse_alias
    parsed = parse(stub.status, stub.headers, stub.body_bytes)
    expected = botocore_parse(operation, stub.status, stub.headers, stub.body_bytes)
    assert converter.unstructure(parsed) == expected


def test_unweighted_alias_has_no_routing_config() -> None:
    stub = stubs.load("GetAlias", "200-unweighted")
    alias = parse_alias(stub.status, stub.headers, stub.body_bytes)
    assert alias.routing_config is None
    assert alias.name == stub.body["Name"]
    assert alias.revision_id == stub.body["RevisionId"]


def test_weighted_alias_has_its_weights() -> None:
    stub = stubs.load("GetAlias", "200-weighted")
    alias = parse_alias(stub.status, stub.headers, stub.body_bytes)
    assert alias.routing_config == RoutingConfig({"2": 0.25})
    assert alias.function_version == "1"


def test_alias_page_markers() -> None:
    first = stubs.load("ListAliases", "200-first-page")
    page = parse_alias_page(first.status, first.headers, first.body_bytes)
    assert page.next_marker == "tok/+=1"
    assert [a.name for a in page.aliases] == ["live", "beta"]
    assert page.aliases[1].routing_config == RoutingConfig({"4": 0.5})
    last = stubs.load("ListAliases", "200-last-page")
    assert parse_alias_page(last.status, last.headers, last.body_bytes).next_marker is None
    empty = stubs.load("ListAliases", "200-empty")
    assert parse_alias_page(empty.status, empty.headers, empty.body_bytes).aliases == ()


@pytest.mark.parametrize("body", [b'{"Aliases": [], "NextMarker": ""}', b'{"NextMarker": null}'])
def test_empty_or_missing_marker_ends_the_listing(body: bytes) -> None:
    # An empty marker sent back as "Marker=" would not be a next page; it means the last one.
    page = parse_alias_page(200, HEADERS, body)
    assert page == AliasPage((), None)


@pytest.mark.parametrize(
    "routing", [None, {}, {"AdditionalVersionWeights": {}}, {"AdditionalVersionWeights": None}]
)
def test_no_weights_in_any_spelling_is_no_routing_config(routing: object) -> None:
    body = json.dumps(_alias_body(RoutingConfig=routing)).encode()
    assert parse_alias(200, HEADERS, body).routing_config is None


def test_unknown_keys_are_ignored() -> None:
    # New AWS fields must not break an old client.
    body = _alias_body(NewField={"x": 1}, RoutingConfig={"AdditionalVersionWeights": {"2": 1}})
    body["RoutingConfig"]["Extra"] = True
    alias = parse_alias(200, HEADERS, json.dumps(body).encode())
    assert alias == AliasConfiguration(
        body["AliasArn"], "live", "1", "prod", RoutingConfig({"2": 1.0}), body["RevisionId"]
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>Bad Gateway</body></html>",
        b"\xff\xfe",
        b"[]",
        b"null",
        b'"live"',
        json.dumps(_alias_body(AliasArn=...)).encode(),
        json.dumps(_alias_body(Name=5)).encode(),
        json.dumps(_alias_body(RevisionId=None)).encode(),
        json.dumps(_alias_body(Description=["prod"])).encode(),
        json.dumps(_alias_body(RoutingConfig=[])).encode(),
        json.dumps(_alias_body(RoutingConfig={"AdditionalVersionWeights": [["2", 0.5]]})).encode(),
        json.dumps(_alias_body(RoutingConfig={"AdditionalVersionWeights": {"2": "0.5"}})).encode(),
        json.dumps(_alias_body(RoutingConfig={"AdditionalVersionWeights": {"2": True}})).encode(),
    ],
)
def test_malformed_alias_is_a_response_parse_error(body: bytes) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse_alias(200, HEADERS, body)
    assert (info.value.status, info.value.request_id) == (200, "rid-1")


@pytest.mark.parametrize(
    "body",
    [
        {"Aliases": {}},
        {"Aliases": ["live"]},
        {"Aliases": [_alias_body(AliasArn=...)]},
        {"Aliases": [], "NextMarker": 5},
    ],
)
def test_malformed_page_is_a_response_parse_error(body: object) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse_alias_page(200, HEADERS, json.dumps(body).encode())
    assert (info.value.status, info.value.request_id) == (200, "rid-1")


def test_deeply_nested_json_is_a_response_parse_error() -> None:
    with pytest.raises(ResponseParseError):
        parse_alias(200, HEADERS, b"[" * 100_000 + b"]" * 100_000)


def test_request_id_header_is_case_insensitive() -> None:
    assert request_id(CIMultiDict({"x-amzn-requestid": "abc"})) == "abc"
    assert request_id(CIMultiDict()) is None


# --------------------------------------------------------------------------------------------
# Parsing errors
# --------------------------------------------------------------------------------------------

ERROR_CLASSES: dict[str, type[ServiceError]] = {
    "ResourceNotFoundException": ResourceNotFoundError,
    "ResourceConflictException": ResourceConflictError,
    "PreconditionFailedException": PreconditionFailedError,
    "InvalidParameterValueException": InvalidParameterValueError,
    "TooManyRequestsException": TooManyRequestsError,
    "ServiceException": ServiceException,
    "AliasLimitExceededException": ServiceError,  # no class of its own
}
ALIAS_OPERATIONS = {"CreateAlias", "GetAlias", "UpdateAlias", "DeleteAlias", "ListAliases"}
ERROR_STUBS = [
    stub for stub in stubs.every() if stub.operation in ALIAS_OPERATIONS and stub.status >= 400
]


def test_every_error_class_has_a_stub() -> None:
    assert {stub.shape for stub in ERROR_STUBS} >= set(ERROR_CLASSES)


@pytest.mark.parametrize("stub", ERROR_STUBS, ids=lambda s: f"{s.operation}/{s.path.stem}")
def test_error_stub_gives_its_class(stub: stubs.Stub) -> None:
    error = parse_error(stub.status, stub.headers, stub.body_bytes)
    assert stub.shape is not None
    assert type(error) is ERROR_CLASSES.get(stub.shape, ServiceError)
    assert error.code == stub.shape
    assert error.message == (stub.body.get("message") or stub.body["Message"])
    assert error.status == stub.status
    assert error.request_id == stub.headers["x-amzn-RequestId"]
    assert error.message in str(error)
    assert stub.shape in str(error)


def test_throttling_stub_carries_retry_after_and_reason() -> None:
    stub = stubs.load("GetAlias", "429-too-many-requests")
    error = parse_error(stub.status, stub.headers, stub.body_bytes)
    assert isinstance(error, TooManyRequestsError)
    assert error.retry_after_seconds == 2.0
    assert error.reason == "CallerRateLimitExceeded"


@pytest.mark.parametrize(
    "header",
    [
        "ResourceNotFoundException",
        "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/",
        "aws.protocols#ResourceNotFoundException",
    ],
)
def test_error_type_header_forms(header: str) -> None:
    headers = CIMultiDict({"x-amzn-ErrorType": header, "x-amzn-RequestId": "r"})
    error = parse_error(404, headers, b'{"Message": "gone"}')
    assert isinstance(error, ResourceNotFoundError)
    assert (error.code, error.message, error.request_id) == (
        "ResourceNotFoundException",
        "gone",
        "r",
    )


def test_the_services_validation_exception_is_a_service_error_not_a_validation_error() -> None:
    # AWS answers a value outside the model's constraints with 400 ValidationException (coral's
    # header form). It is the service's answer, so a ServiceError a caller can read the code
    # of; ValidationError stays the client's own refusal, raised before anything is sent.
    headers = CIMultiDict(
        {
            "x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/"
            "com.amazon.coral.validate/",
            "x-amzn-RequestId": "r",
        }
    )
    message = "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint"
    error = parse_error(400, headers, json.dumps({"message": message}).encode())
    assert type(error) is ServiceError
    assert not isinstance(error, ValidationError)
    assert (error.code, error.status, error.message, error.request_id) == (
        "ValidationException",
        400,
        message,
        "r",
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "ResourceConflictException"}, "ResourceConflictException"),
        ({"Code": "ResourceConflictException"}, "ResourceConflictException"),
        ({"__type": "com.amazonaws.lambda#ResourceConflictException"}, "ResourceConflictException"),
        ({"message": "no code anywhere"}, "409"),
    ],
)
def test_error_code_without_header(body: dict[str, str], code: str) -> None:
    error = parse_error(409, CIMultiDict(), json.dumps(body).encode())
    assert error.code == code
    assert (type(error) is ResourceConflictError) is (code == "ResourceConflictException")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (502, b"<html><head><title>502 Bad Gateway</title></head></html>"),
        (503, b""),
        (500, b"[1, 2]"),
        (504, b"\xff"),
    ],
)
def test_error_without_json_body_is_still_a_service_error(status: int, body: bytes) -> None:
    error = parse_error(status, CIMultiDict({"x-amzn-RequestId": "r"}), body)
    assert type(error) is ServiceError
    assert (error.code, error.status, error.request_id) == (str(status), status, "r")


def test_parse_error_never_raises_on_deeply_nested_json() -> None:
    error = parse_error(502, CIMultiDict(), b"[" * 100_000 + b"]" * 100_000)
    assert error.code == "502"


@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [
        ("2", 2.0),
        ("0.5", 0.5),
        ("0", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("soon", None),
    ],
)
def test_retry_after(retry_after: str, seconds: float | None) -> None:
    headers = CIMultiDict(
        {"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": retry_after}
    )
    error = parse_error(429, headers, b'{"message": "Rate exceeded"}')
    assert isinstance(error, TooManyRequestsError)
    assert error.retry_after_seconds == seconds


_CODES = st.sampled_from(
    ["ResourceNotFoundException", "TooManyRequestsException", "ServiceException", "SomeNewError"]
)
_SPELLINGS = st.sampled_from(["{}", "{}:http://internal.amazon.com/coral/x/", "aws.protocols#{}"])


@ORACLE
@given(
    status=st.sampled_from([400, 404, 409, 412, 429, 500, 502, 503]),
    header_code=st.none() | st.builds(str.format, _SPELLINGS, _CODES),
    body_code_key=st.sampled_from([None, "code", "Code", "__type"]),
    body_code=st.builds(str.format, _SPELLINGS, _CODES),
    message_key=st.sampled_from([None, "message", "Message"]),
    message=st.text(),
)
def test_error_code_and_message_match_botocore(
    status: int,
    header_code: str | None,
    body_code_key: str | None,
    body_code: str,
    message_key: str | None,
    message: str,
) -> None:
    headers = {"x-amzn-RequestId": "rid"}
    if header_code is not None:
        headers["x-amzn-ErrorType"] = header_code
    body = {}
    if body_code_key is not None:
        body[body_code_key] = body_code
    if message_key is not None:
        body[message_key] = message
    raw = json.dumps(body).encode()
    error = parse_error(status, CIMultiDict(headers), raw)
    expected = botocore_parse("GetAlias", status, headers, raw)["Error"]
    assert (error.code, error.message) == (expected["Code"], expected["Message"])
    assert error.status == status
    assert error.request_id == "rid"


def test_an_invoke_head_is_read_once_the_same_for_every_path() -> None:
    headers = CIMultiDict(
        {
            "x-amz-executed-version": "7",
            "X-Amz-Function-Error": "Unhandled",
            "X-Amz-Log-Result": "U1RBUlQK",  # base64 of "START\n"
            "x-amzn-requestid": "req-1",
            "content-type": "application/vnd.amazon.eventstream",
        }
    )
    head = parse_invoke_head(200, headers)
    assert head == InvokeHead(
        200, "7", "Unhandled", "START\n", "req-1", "application/vnd.amazon.eventstream"
    )
    result = parse_invoke(200, headers, b"{}")
    assert (result.executed_version, result.function_error, result.log_result) == (
        head.executed_version,
        head.function_error,
        head.log_result,
    )
    assert result.request_id == head.request_id


@pytest.mark.parametrize(
    ("status", "error"), [(199, True), (200, False), (299, False), (304, True)]
)
def test_only_a_2xx_is_not_an_error(status: int, error: bool) -> None:
    assert is_error(status) is error
