"""PublishVersion, ListVersionsByFunction and GetFunctionConfiguration, at three layers.

- The sans-I/O protocol, with no event loop: requests compared with botocore's rest-json
  serializer, responses parsed from the canned stubs in ``stubs/`` (and compared with
  botocore's parser), malformed ones refused, and the cattrs converter round-tripping the
  models with AWS's member names.
- The client over aioresponses: what each call sends, the models and errors it returns,
  validation before the network, and which failures are retried.
- The client against :class:`~lambdaclient.testing.LocalLambda` over real sockets.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

import attrs
import botocore.awsrequest
import botocore.parsers
import botocore.serialize
import botocore.session
import botocore.utils
import pytest
from aioresponses import aioresponses
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict
from yarl import URL

from lambdaclient import (
    DeadLetterConfig,
    FunctionConfiguration,
    InvalidParameterValueError,
    LambdaClient,
    PreconditionFailedError,
    ResourceNotFoundError,
    ResponseParseError,
    ServiceError,
    ServiceException,
    ValidationError,
    VersionPage,
)
from lambdaclient._protocol import (
    HttpRequest,
    Idempotency,
    build_get_function_configuration,
    build_list_versions_by_function,
    build_publish_version,
    parse_function_configuration,
    parse_version_page,
)
from lambdaclient._wire import converter
from lambdaclient.testing import LocalLambda, ServerError
from tests import stubs
from tests.test_client import CREDENTIALS, ENDPOINT, NOW, FakeLambda

_MODEL = botocore.session.get_session().get_service_model("lambda")
_SERIALIZER = botocore.serialize.create_serializer("rest-json", include_validation=False)
_PARSER = botocore.parsers.create_parser("rest-json")
# botocore builds its models lazily, so a first example can be slow.
ORACLE = settings(deadline=None)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
ENCODED_ARN = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn"
BASE = "/2015-03-31/functions"
HEADERS = CIMultiDict({"x-amzn-RequestId": "rid-1"})

CONFIGURATION_STUBS = [
    ("PublishVersion", "201-published"),
    ("GetFunctionConfiguration", "200-version"),
    ("GetFunctionConfiguration", "200-latest"),
]
PAGE_STUBS = [
    ("ListVersionsByFunction", "200-first-page"),
    ("ListVersionsByFunction", "200-last-page"),
]


# --------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------


def assert_same_as_botocore(request: HttpRequest, params: Mapping[str, Any]) -> None:
    """``request`` is what botocore's serializer puts on the wire for ``params``."""
    expected: dict[str, Any] = _SERIALIZER.serialize_to_request(
        dict(params), _MODEL.operation_model(request.operation)
    )
    assert request.method == expected["method"]
    assert request.path == expected["url_path"]
    # botocore keeps the query as a dict and percent-encodes it (safe "-_.~") when sending;
    # ours is sent sorted, as it is signed.
    query = sorted(expected["query_string"].items())
    assert request.query == "&".join(
        f"{key}={botocore.utils.percent_encode(str(value))}" for key, value in query
    )
    assert dict(request.headers) == expected["headers"]
    if expected["body"]:
        assert json.loads(body_of(request)) == json.loads(expected["body"])
    else:
        assert request.body == b""


def body_of(request: HttpRequest) -> bytes:
    assert isinstance(request.body, bytes)  # only invoke streams a file
    return request.body


def botocore_parse(operation: str, stub: stubs.Stub) -> dict[str, Any]:
    response = {
        "status_code": stub.status,
        "headers": botocore.awsrequest.HeadersDict(dict(stub.headers)),
        "body": stub.body_bytes,
    }
    shape = _MODEL.operation_model(operation).output_shape
    parsed: dict[str, Any] = _PARSER.parse(response, shape)
    parsed.pop("ResponseMetadata")
    return parsed


def expected_configuration(body: Mapping[str, Any]) -> FunctionConfiguration:
    """The model of a FunctionConfiguration body, mapped by hand (not by the converter)."""
    dead_letter = body.get("DeadLetterConfig")
    return FunctionConfiguration(
        function_name=body.get("FunctionName"),
        function_arn=body.get("FunctionArn"),
        version=body.get("Version"),
        description=body.get("Description"),
        code_sha256=body.get("CodeSha256"),
        revision_id=body.get("RevisionId"),
        role=body.get("Role"),
        dead_letter_config=None
        if dead_letter is None
        else DeadLetterConfig(dead_letter.get("TargetArn")),
        state=body.get("State"),
        state_reason=body.get("StateReason"),
        state_reason_code=body.get("StateReasonCode"),
        last_update_status=body.get("LastUpdateStatus"),
        last_update_status_reason=body.get("LastUpdateStatusReason"),
        last_update_status_reason_code=body.get("LastUpdateStatusReasonCode"),
        last_modified=body.get("LastModified"),
        runtime=body.get("Runtime"),
        handler=body.get("Handler"),
        timeout=body.get("Timeout"),
        memory_size=body.get("MemorySize"),
    )


# Every field set: what the model keeps, under AWS's names when unstructured.
FULL_CONFIGURATION = FunctionConfiguration(
    function_name="f",
    function_arn="arn",
    version="1",
    description="d",
    code_sha256="c",
    revision_id="r",
    role="role",
    dead_letter_config=DeadLetterConfig("dlq"),
    state="Failed",
    state_reason="The function could not be created.",
    state_reason_code="InternalError",
    last_update_status="Failed",
    last_update_status_reason="The update failed.",
    last_update_status_reason_code="InternalError",
    last_modified="2026-11-25T12:30:45.123+0000",
    runtime="python3.12",
    handler="app.handler",
    timeout=3,
    memory_size=128,
)


def member_names(shape_name: str) -> set[str]:
    return set(_MODEL.shape_for(shape_name).members)


# --------------------------------------------------------------------------------------------
# Building requests
# --------------------------------------------------------------------------------------------


def test_a_bare_publish_sends_an_empty_object() -> None:
    request = build_publish_version("my-fn", description=None, code_sha256=None, revision_id=None)

    assert (request.operation, request.method) == ("PublishVersion", "POST")
    assert request.path == f"{BASE}/my-fn/versions"
    assert request.query == ""
    assert request.headers == {"Content-Type": "application/json"}
    assert request.body == b"{}"
    assert request.idempotency is Idempotency.WRITE
    assert_same_as_botocore(request, {"FunctionName": "my-fn"})


def test_publish_sends_only_the_given_fields() -> None:
    request = build_publish_version(
        f"{ARN}:$LATEST", description="", code_sha256="abc=", revision_id=None
    )

    assert request.path == f"{BASE}/{ENCODED_ARN}%3A%24LATEST/versions"
    # An empty description is a description: it is sent, as botocore sends it.
    assert json.loads(body_of(request)) == {"Description": "", "CodeSha256": "abc="}


def test_list_versions_request() -> None:
    request = build_list_versions_by_function(ARN, marker="tok/+= é", page_size=5)

    assert (request.operation, request.method) == ("ListVersionsByFunction", "GET")
    assert request.path == f"{BASE}/{ENCODED_ARN}/versions"
    assert request.query == "Marker=tok%2F%2B%3D%20%C3%A9&MaxItems=5"
    assert (request.body, dict(request.headers)) == (b"", {})
    assert request.idempotency is Idempotency.READ
    bare = build_list_versions_by_function("my-fn", marker=None, page_size=None)
    assert bare.query == ""


def test_get_function_configuration_request() -> None:
    request = build_get_function_configuration("my.fn", qualifier="$LATEST")

    assert (request.operation, request.method) == ("GetFunctionConfiguration", "GET")
    assert request.path == f"{BASE}/my.fn/configuration"
    assert request.query == "Qualifier=%24LATEST"
    assert (request.body, dict(request.headers)) == (b"", {})
    assert request.idempotency is Idempotency.READ
    assert build_get_function_configuration("f", qualifier=None).query == ""


@pytest.mark.parametrize(
    "request_",
    [
        build_publish_version("f", description=None, code_sha256=None, revision_id=None),
        build_publish_version("f", description="é", code_sha256="x", revision_id="r"),
        build_list_versions_by_function("f", marker="m", page_size=3),
        build_get_function_configuration("f", qualifier="1"),
    ],
    ids=lambda r: r.operation,
)
def test_body_sha256_is_the_hash_of_the_body(request_: HttpRequest) -> None:
    assert request_.body_sha256 == hashlib.sha256(body_of(request_)).hexdigest()


_LABEL = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+")


@given(st.text(min_size=1))
def test_no_function_name_can_change_the_path_structure(function_name: str) -> None:
    requests = [
        (
            build_publish_version(
                function_name, description=None, code_sha256=None, revision_id=None
            ),
            "versions",
        ),
        (build_list_versions_by_function(function_name, marker=None, page_size=None), "versions"),
        (build_get_function_configuration(function_name, qualifier=None), "configuration"),
    ]
    for request, last in requests:
        segments = request.path.split("/")
        assert segments[:3] == ["", "2015-03-31", "functions"]
        assert segments[4:] == [last]
        assert _LABEL.fullmatch(segments[3])
        assert unquote(segments[3]) == function_name


# Labels of dots alone are left out of the botocore comparison: botocore sends "." and ".."
# bare, which a server reads as dot segments; lambdaclient encodes them (%2E).
function_names = st.sampled_from(
    ["my-fn", "my.fn", ARN, f"{ARN}:live", f"{ARN}:$LATEST", "123456789012:function:f"]
) | st.text(min_size=1).filter(lambda text: text.strip(".") != "")
optional_text = st.none() | st.text(max_size=40)
qualifiers = st.none() | st.sampled_from(["$LATEST", "$LATEST.PUBLISHED", "1", "live"])


@ORACLE
@given(function_names, optional_text, optional_text, optional_text)
def test_publish_version_matches_botocore(
    function_name: str, description: str | None, code_sha256: str | None, revision_id: str | None
) -> None:
    request = build_publish_version(
        function_name, description=description, code_sha256=code_sha256, revision_id=revision_id
    )
    params = {
        "FunctionName": function_name,
        "Description": description,
        "CodeSha256": code_sha256,
        "RevisionId": revision_id,
    }
    assert_same_as_botocore(request, {k: v for k, v in params.items() if v is not None})


@ORACLE
@given(
    function_names, st.none() | st.text(min_size=1, max_size=40), st.none() | st.integers(1, 10_000)
)
def test_list_versions_matches_botocore(
    function_name: str, marker: str | None, page_size: int | None
) -> None:
    request = build_list_versions_by_function(function_name, marker=marker, page_size=page_size)
    params = {"FunctionName": function_name, "Marker": marker, "MaxItems": page_size}
    assert_same_as_botocore(request, {k: v for k, v in params.items() if v is not None})


@ORACLE
@given(function_names, qualifiers | st.text(min_size=1, max_size=20))
def test_get_function_configuration_matches_botocore(
    function_name: str, qualifier: str | None
) -> None:
    request = build_get_function_configuration(function_name, qualifier=qualifier)
    params = {"FunctionName": function_name}
    if qualifier is not None:
        params["Qualifier"] = qualifier
    assert_same_as_botocore(request, params)


# --------------------------------------------------------------------------------------------
# Parsing responses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("operation", "case"), CONFIGURATION_STUBS)
def test_configuration_stub_parses_to_its_fields(operation: str, case: str) -> None:
    stub = stubs.load(operation, case)
    body = stub.body

    config = parse_function_configuration(stub.status, stub.headers, stub.body_bytes)

    assert config == expected_configuration(body)
    assert config.version == body["Version"]
    assert config.code_sha256 == body["CodeSha256"]
    assert config.revision_id == body["RevisionId"]
    assert config.role == body["Role"]
    assert (config.timeout, config.memory_size) == (body["Timeout"], body["MemorySize"])
    assert (config.state, config.last_update_status) == (body["State"], body["LastUpdateStatus"])
    # LastModified is Lambda's own string format, kept as sent (not an epoch, not a datetime).
    assert config.last_modified == body["LastModified"]
    assert isinstance(config.last_modified, str)


def test_dead_letter_config_is_parsed() -> None:
    stub = stubs.load("GetFunctionConfiguration", "200-version")
    config = parse_function_configuration(stub.status, stub.headers, stub.body_bytes)
    assert config.dead_letter_config == DeadLetterConfig(
        "arn:aws:sqs:us-east-1:123456789012:my-fn-dlq"
    )
    latest = stubs.load("GetFunctionConfiguration", "200-latest")
    parsed = parse_function_configuration(latest.status, latest.headers, latest.body_bytes)
    assert parsed.dead_letter_config is None
    assert parsed.version == "$LATEST"
    assert parsed.last_update_status == "InProgress"


@pytest.mark.parametrize(("operation", "case"), CONFIGURATION_STUBS + PAGE_STUBS)
def test_stub_parses_as_botocore_reads_it(operation: str, case: str) -> None:
    # What our model keeps, botocore reads the same from the same bytes.
    stub = stubs.load(operation, case)
    expected = botocore_parse(operation, stub)
    if operation == "ListVersionsByFunction":
        page = parse_version_page(stub.status, stub.headers, stub.body_bytes)
        ours = converter.unstructure(page)
        assert ours.get("NextMarker") == expected.get("NextMarker")
        pairs = list(zip(ours["Versions"], expected["Versions"], strict=True))
    else:
        config = parse_function_configuration(stub.status, stub.headers, stub.body_bytes)
        pairs = [(converter.unstructure(config), expected)]
    modelled = set(converter.unstructure(FULL_CONFIGURATION))
    for kept, read in pairs:
        assert kept == {key: read[key] for key in kept}
        # ...and whatever botocore reads that we drop is a member our model lacks.
        assert not (set(read) - set(kept)) & modelled


def test_version_pages_from_the_stubs() -> None:
    first = stubs.load("ListVersionsByFunction", "200-first-page")
    page = parse_version_page(first.status, first.headers, first.body_bytes)
    assert isinstance(page, VersionPage)
    assert page.next_marker == "v/+=2"
    assert page.versions == tuple(expected_configuration(v) for v in first.body["Versions"])
    assert [v.version for v in page.versions] == ["$LATEST", "1"]
    assert page.versions[1].dead_letter_config == DeadLetterConfig(
        "arn:aws:sns:us-east-1:123456789012:my-fn-failures"
    )

    last = stubs.load("ListVersionsByFunction", "200-last-page")
    page = parse_version_page(last.status, last.headers, last.body_bytes)
    assert page.next_marker is None
    assert [(v.version, v.state) for v in page.versions] == [("2", "Inactive")]


@pytest.mark.parametrize(
    "body", [b"{}", b'{"Versions": null}', b'{"Versions": [], "NextMarker": ""}']
)
def test_an_empty_page_has_no_versions_and_no_next_marker(body: bytes) -> None:
    assert parse_version_page(200, HEADERS, body) == VersionPage((), None)


def test_unknown_fields_are_ignored() -> None:
    # The published stub already carries members our model lacks (VpcConfig, Layers,
    # SnapStart, LoggingConfig, ...); add ones AWS has not invented yet, at both levels.
    body = copy.deepcopy(stubs.load("PublishVersion", "201-published").body)
    assert {"VpcConfig", "Layers", "SnapStart", "LoggingConfig"} <= set(body)
    body["SomeFutureField"] = {"Nested": [1, 2, {"x": None}]}
    body["DeadLetterConfig"]["FutureFlag"] = True

    config = parse_function_configuration(200, HEADERS, json.dumps(body).encode())

    assert config == expected_configuration(body)
    page_body = {"Versions": [body], "NextMarker": "m", "SomethingElse": 1}
    page = parse_version_page(200, HEADERS, json.dumps(page_body).encode())
    assert page == VersionPage((config,), "m")


def test_null_members_read_as_absent() -> None:
    body = {"Version": "1", "Timeout": None, "DeadLetterConfig": None, "Description": None}
    config = parse_function_configuration(200, HEADERS, json.dumps(body).encode())
    assert config == FunctionConfiguration(version="1")


def _published(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(stubs.load("PublishVersion", "201-published").body)
    body.update(changes)
    return body


def _normalised(message: str) -> str:
    # The path may use AWS's member names ($.DeadLetterConfig.TargetArn) or the model's
    # ($.dead_letter_config.target_arn); either names the field.
    return message.lower().replace("_", "")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"Timeout": "3"}, "$.timeout"),
        ({"Timeout": True}, "$.timeout"),
        ({"MemorySize": 512.0}, "$.memorysize"),
        ({"Role": 5}, "$.role"),
        ({"Version": 3}, "$.version"),
        ({"LastModified": 1764073845}, "$.lastmodified"),  # an epoch, not Lambda's string
        ({"CodeSha256": ["x"]}, "$.codesha256"),
        ({"DeadLetterConfig": {"TargetArn": 5}}, "$.deadletterconfig.targetarn"),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else value,
)
def test_a_wrong_type_is_a_parse_error_naming_the_field(change: dict[str, Any], path: str) -> None:
    body = json.dumps(_published(**change)).encode()

    with pytest.raises(ResponseParseError) as caught:
        parse_function_configuration(201, HEADERS, body)

    assert (caught.value.status, caught.value.request_id) == (201, "rid-1")
    assert "FunctionConfiguration" in str(caught.value)
    assert path in _normalised(str(caught.value)), str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>Bad Gateway</html>",
        b"null",
        b"5",
        b"[]",
        b'"my-fn"',
        json.dumps(_published(DeadLetterConfig=[])).encode(),
    ],
)
def test_a_body_that_is_not_a_configuration_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ResponseParseError) as caught:
        parse_function_configuration(200, HEADERS, body)
    assert (caught.value.status, caught.value.request_id) == (200, "rid-1")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"Versions": {}}, "versions"),
        ({"Versions": "1"}, "versions"),
        ({"Versions": [], "NextMarker": 5}, "string"),
        ({"Versions": [_published(Timeout="3")]}, "timeout"),
        ({"Versions": [_published(), _published(Role=5)]}, "role"),
        ({"Versions": [[]]}, ""),
    ],
)
def test_a_malformed_page_is_a_parse_error(body: object, says: str) -> None:
    with pytest.raises(ResponseParseError) as caught:
        parse_version_page(200, HEADERS, json.dumps(body).encode())
    assert (caught.value.status, caught.value.request_id) == (200, "rid-1")
    assert "VersionPage" in str(caught.value)
    assert says in _normalised(str(caught.value)), str(caught.value)


def test_a_malformed_version_is_located_in_the_page() -> None:
    body = {"Versions": [_published(), _published(Role=5)]}
    with pytest.raises(ResponseParseError) as caught:
        parse_version_page(200, HEADERS, json.dumps(body).encode())
    assert "$.versions[1].role" in _normalised(str(caught.value)), str(caught.value)


# --------------------------------------------------------------------------------------------
# The converter: round trips, with AWS's member names
# --------------------------------------------------------------------------------------------

_opt_str = st.none() | st.text(max_size=30)
_opt_int = st.none() | st.integers(-(2**63), 2**63 - 1)
dead_letter_configs = st.none() | st.builds(DeadLetterConfig, target_arn=_opt_str)
configurations = st.builds(
    FunctionConfiguration,
    function_name=_opt_str,
    function_arn=_opt_str,
    version=_opt_str,
    description=_opt_str,
    code_sha256=_opt_str,
    revision_id=_opt_str,
    role=_opt_str,
    dead_letter_config=dead_letter_configs,
    state=_opt_str,
    state_reason=_opt_str,
    state_reason_code=_opt_str,
    last_update_status=_opt_str,
    last_update_status_reason=_opt_str,
    last_update_status_reason_code=_opt_str,
    last_modified=_opt_str,
    runtime=_opt_str,
    handler=_opt_str,
    timeout=_opt_int,
    memory_size=_opt_int,
)
# An empty NextMarker means "no next page" on the wire, so a page never holds one.
pages = st.builds(
    VersionPage,
    versions=st.lists(configurations, max_size=3).map(tuple),
    next_marker=st.none() | st.text(min_size=1, max_size=30),
)


def assert_aws_member_names(data: Mapping[str, Any]) -> None:
    assert set(data) <= member_names("FunctionConfiguration"), set(data)
    dead_letter = data.get("DeadLetterConfig")
    if dead_letter is not None:
        assert set(dead_letter) <= member_names("DeadLetterConfig"), set(dead_letter)


@given(configurations)
def test_configuration_round_trips_with_aws_member_names(config: FunctionConfiguration) -> None:
    data = converter.unstructure(config)

    assert converter.structure(data, FunctionConfiguration) == config
    assert_aws_member_names(data)
    # None is left out, as AWS leaves out what does not apply.
    assert None not in data.values()
    # And the same JSON read back as a response gives the same model.
    wire = json.dumps(data).encode()
    assert parse_function_configuration(200, HEADERS, wire) == config


@given(pages)
def test_version_page_round_trips_with_aws_member_names(page: VersionPage) -> None:
    data = converter.unstructure(page)

    assert converter.structure(data, VersionPage) == page
    assert set(data) <= member_names("ListVersionsByFunctionResponse")
    for version in data["Versions"]:
        assert_aws_member_names(version)
    assert parse_version_page(200, HEADERS, json.dumps(data).encode()) == page


def test_every_field_has_its_aws_member_name() -> None:
    assert converter.unstructure(FULL_CONFIGURATION) == {
        "FunctionName": "f",
        "FunctionArn": "arn",
        "Version": "1",
        "Description": "d",
        "CodeSha256": "c",
        "RevisionId": "r",
        "Role": "role",
        "DeadLetterConfig": {"TargetArn": "dlq"},
        "State": "Failed",
        "StateReason": "The function could not be created.",
        "StateReasonCode": "InternalError",
        "LastUpdateStatus": "Failed",
        "LastUpdateStatusReason": "The update failed.",
        "LastUpdateStatusReasonCode": "InternalError",
        "LastModified": "2026-11-25T12:30:45.123+0000",
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Timeout": 3,
        "MemorySize": 128,
    }


# --------------------------------------------------------------------------------------------
# The client, against aioresponses
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fake_lambda() -> Iterator[FakeLambda]:
    with aioresponses() as mocked:
        yield FakeLambda(mocked)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def client(sleeps: list[float]) -> AsyncIterator[LambdaClient]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with LambdaClient(
        "us-east-1", credentials=CREDENTIALS, clock=lambda: NOW, jitter=lambda: 0.5, sleep=sleep
    ) as client:
        yield client


def versions_path(function: str = "my-fn") -> str:
    return f"{BASE}/{function}/versions"


def configuration_path(function: str = "my-fn") -> str:
    return f"{BASE}/{function}/configuration"


async def test_publish_version_posts_the_conditions_and_returns_the_version(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("PublishVersion", "201-published")
    fake_lambda.reply("POST", versions_path(), stub)

    version = await client.publish_version(
        "my-fn",
        description="release 42",
        code_sha256=stub.body["CodeSha256"],
        revision_id="5a2d8b7e-xmpl-4f3c-9d41-2f1e0c9b8a76",
    )

    assert version == expected_configuration(stub.body)
    assert version.version == "3"
    [sent] = fake_lambda.sent
    assert sent.method == "POST"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {
        "Description": "release 42",
        "CodeSha256": stub.body["CodeSha256"],
        "RevisionId": "5a2d8b7e-xmpl-4f3c-9d41-2f1e0c9b8a76",
    }


async def test_a_bare_publish_posts_an_empty_object(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "POST", versions_path(ENCODED_ARN), stubs.load("PublishVersion", "201-published")
    )

    await client.publish_version(ARN)

    [sent] = fake_lambda.sent
    assert sent.url == f"{ENDPOINT}{versions_path(ENCODED_ARN)}"
    assert sent.body == b"{}"


@pytest.mark.parametrize(
    ("case", "error_class", "kwargs"),
    [
        ("412-precondition-failed", PreconditionFailedError, {"revision_id": "stale"}),
        ("400-invalid-parameter", InvalidParameterValueError, {"code_sha256": "3Yb8fEpq="}),
    ],
)
async def test_a_failed_publish_condition_raises_its_typed_error(
    client: LambdaClient,
    fake_lambda: FakeLambda,
    case: str,
    error_class: type[ServiceError],
    kwargs: dict[str, Any],
) -> None:
    stub = stubs.load("PublishVersion", case)
    fake_lambda.reply("POST", versions_path(), stub)

    with pytest.raises(error_class) as caught:
        await client.publish_version("my-fn", **kwargs)

    error = caught.value
    assert (error.code, error.status) == (stub.shape, stub.status)
    assert error.message == stub.body["message"]
    assert error.request_id == stub.headers["x-amzn-RequestId"]
    assert len(fake_lambda.sent) == 1  # a 4xx is not retried


async def test_list_versions_follows_next_marker_across_pages(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    first = stubs.load("ListVersionsByFunction", "200-first-page")
    last = stubs.load("ListVersionsByFunction", "200-last-page")
    fake_lambda.reply("GET", versions_path(), first, query="MaxItems=2")
    fake_lambda.reply("GET", versions_path(), last, query="Marker=v%2F%2B%3D2&MaxItems=2")

    versions = [v async for v in client.list_versions_by_function("my-fn", page_size=2)]

    assert [v.version for v in versions] == ["$LATEST", "1", "2"]
    assert versions == [
        expected_configuration(v) for v in first.body["Versions"] + last.body["Versions"]
    ]
    assert [dict(URL(sent.url).query) for sent in fake_lambda.sent] == [
        {"MaxItems": "2"},
        {"Marker": "v/+=2", "MaxItems": "2"},
    ]
    assert all(sent.method == "GET" and sent.body == b"" for sent in fake_lambda.sent)


async def test_list_versions_pages_are_version_pages(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    first = stubs.load("ListVersionsByFunction", "200-first-page")
    fake_lambda.reply("GET", versions_path(), first)
    fake_lambda.reply(
        "GET",
        versions_path(),
        stubs.load("ListVersionsByFunction", "200-last-page"),
        query="Marker=v%2F%2B%3D2",
    )

    pages = [page async for page in client.list_versions_by_function("my-fn").pages()]

    assert [type(page) for page in pages] == [VersionPage, VersionPage]
    assert [page.next_marker for page in pages] == ["v/+=2", None]
    assert [[v.version for v in page.versions] for page in pages] == [["$LATEST", "1"], ["2"]]


async def test_list_versions_starts_from_a_given_marker(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "GET",
        versions_path(),
        stubs.load("ListVersionsByFunction", "200-last-page"),
        query="Marker=v%2F%2B%3D2",
    )

    versions = [v.version async for v in client.list_versions_by_function("my-fn", marker="v/+=2")]

    assert versions == ["2"]


async def test_list_versions_of_a_missing_function_raises_not_found(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("ListVersionsByFunction", "404-not-found")
    fake_lambda.reply("GET", versions_path(), stub)

    with pytest.raises(ResourceNotFoundError) as caught:
        [v async for v in client.list_versions_by_function("my-fn")]

    assert caught.value.message == stub.body["Message"]
    assert len(fake_lambda.sent) == 1


@pytest.mark.parametrize(
    ("qualifier", "query", "case"),
    [
        ("2", "Qualifier=2", "200-version"),
        ("live", "Qualifier=live", "200-version"),
        ("$LATEST", "Qualifier=%24LATEST", "200-latest"),
        (None, "", "200-latest"),
    ],
)
async def test_get_function_configuration_with_a_qualifier(
    client: LambdaClient, fake_lambda: FakeLambda, qualifier: str | None, query: str, case: str
) -> None:
    stub = stubs.load("GetFunctionConfiguration", case)
    fake_lambda.reply("GET", configuration_path(ENCODED_ARN), stub, query=query)

    config = await client.get_function_configuration(ARN, qualifier=qualifier)

    assert config == expected_configuration(stub.body)
    [sent] = fake_lambda.sent
    assert sent.method == "GET"
    assert sent.body == b""
    assert sent.url.startswith(f"{ENDPOINT}{configuration_path(ENCODED_ARN)}")
    assert dict(URL(sent.url).query) == ({} if qualifier is None else {"Qualifier": qualifier})


async def test_get_function_configuration_of_a_missing_version_raises_not_found(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    stub = stubs.load("GetFunctionConfiguration", "404-not-found")
    fake_lambda.reply("GET", configuration_path(), stub, query="Qualifier=7")

    with pytest.raises(ResourceNotFoundError) as caught:
        await client.get_function_configuration("my-fn", qualifier="7")

    assert caught.value.request_id == stub.headers["x-amzn-RequestId"]


async def test_a_malformed_configuration_is_a_parse_error(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "GET",
        configuration_path(),
        body=json.dumps(_published(Timeout="3")).encode(),
        headers={"x-amzn-RequestId": "rid-9"},
    )

    with pytest.raises(ResponseParseError) as caught:
        await client.get_function_configuration("my-fn")

    assert (caught.value.status, caught.value.request_id) == (200, "rid-9")
    assert len(fake_lambda.sent) == 1  # a malformed answer is not retried


Call = Callable[[LambdaClient], object]


async def _call_and_await(call: Call, client: LambdaClient) -> None:
    # list_versions_by_function checks its arguments when called; the coroutines when awaited.
    result = call(client)
    if inspect.isawaitable(result):
        await result


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.get_function_configuration("my-fn", qualifier="bad qualifier"), "qualifier"),
        (lambda c: c.get_function_configuration("my-fn", qualifier=""), "qualifier"),
        (lambda c: c.get_function_configuration("my-fn", qualifier="q" * 129), "qualifier"),
        (lambda c: c.get_function_configuration("my fn"), "function_name"),
        (lambda c: c.get_function_configuration("my-fn/../other"), "function_name"),
        (lambda c: c.get_function_configuration(""), "function_name"),
        (lambda c: c.publish_version("my.fn"), "function_name"),  # no '.' in PublishVersion's
        (lambda c: c.publish_version("f" * 65), "function_name"),
        (lambda c: c.publish_version(f"{ARN}:$LATEST.PUBLISHED"), "function_name"),
        (lambda c: c.publish_version("my-fn", description="x" * 257), "description"),
        (lambda c: c.publish_version("my-fn", revision_id=""), "revision_id"),
        (lambda c: c.publish_version("my-fn", code_sha256=""), "code_sha256"),
        (lambda c: c.publish_version("my-fn", code_sha256=5), "code_sha256"),
        (lambda c: c.list_versions_by_function("my-fn", page_size=0), "page_size"),
        (lambda c: c.list_versions_by_function("my-fn", page_size=10_001), "page_size"),
        (lambda c: c.list_versions_by_function("my-fn", page_size=True), "page_size"),
        (lambda c: c.list_versions_by_function("my-fn", marker=""), "marker"),
        (lambda c: c.list_versions_by_function("my fn"), "function_name"),
        (lambda c: c.list_versions_by_function("f" * 257), "function_name"),
    ],
)
async def test_bad_arguments_raise_validation_error_before_any_request(
    client: LambdaClient, fake_lambda: FakeLambda, call: Call, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await _call_and_await(call, client)

    assert caught.value.field == field
    assert fake_lambda.sent == []


async def test_a_namespaced_name_is_accepted_where_the_model_allows_it(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "GET", configuration_path("my.fn"), stubs.load("GetFunctionConfiguration", "200-latest")
    )
    await client.get_function_configuration("my.fn")
    assert len(fake_lambda.sent) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_publish_is_a_write_and_is_not_retried_after_a_5xx(
    client: LambdaClient, fake_lambda: FakeLambda, sleeps: list[float], status: int
) -> None:
    fake_lambda.reply("POST", versions_path(), status=status, body=b"")
    fake_lambda.reply("POST", versions_path(), stubs.load("PublishVersion", "201-published"))

    with pytest.raises(ServiceError) as caught:
        await client.publish_version("my-fn")

    assert caught.value.status == status
    assert len(fake_lambda.sent) == 1
    assert sleeps == []


async def test_publish_service_exception_is_not_retried(
    client: LambdaClient, fake_lambda: FakeLambda
) -> None:
    fake_lambda.reply(
        "POST", versions_path(), stubs.load("PublishVersion", "500-service-exception")
    )

    with pytest.raises(ServiceException):
        await client.publish_version("my-fn")

    assert len(fake_lambda.sent) == 1


ReadCall = Callable[[LambdaClient], Awaitable[object]]


async def _list_all(client: LambdaClient) -> object:
    return [v async for v in client.list_versions_by_function("my-fn")]


@pytest.mark.parametrize(
    ("method", "path", "success", "call"),
    [
        (
            "GET",
            configuration_path(),
            ("GetFunctionConfiguration", "200-latest"),
            lambda c: c.get_function_configuration("my-fn"),
        ),
        ("GET", versions_path(), ("ListVersionsByFunction", "200-last-page"), _list_all),
    ],
    ids=["GetFunctionConfiguration", "ListVersionsByFunction"],
)
async def test_reads_are_retried_after_a_5xx(
    client: LambdaClient,
    fake_lambda: FakeLambda,
    sleeps: list[float],
    method: str,
    path: str,
    success: tuple[str, str],
    call: ReadCall,
) -> None:
    fake_lambda.reply(method, path, stubs.load("GetFunctionConfiguration", "500-service-exception"))
    fake_lambda.reply(method, path, status=503, body=b"<html>Service Unavailable</html>")
    fake_lambda.reply(method, path, stubs.load(*success))

    await call(client)

    assert len(fake_lambda.sent) == 3
    assert sleeps == [0.5, 1.0]  # jitter 0.5 * 2**n


# --------------------------------------------------------------------------------------------
# The client against LocalLambda, over real sockets
# --------------------------------------------------------------------------------------------

ROLE_1 = "arn:aws:iam::123456789012:role/app-v1"
ROLE_2 = "arn:aws:iam::123456789012:role/app-v2"
DLQ_1 = "arn:aws:sqs:us-east-1:123456789012:app-dlq"
DLQ_2 = "arn:aws:sns:us-east-1:123456789012:app-failures"


def handler_one(event: Any, context: Any) -> Any:
    return {"version": "one"}


def handler_two(event: Any, context: Any) -> Any:
    return {"version": "two"}


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    async with LocalLambda(seed=7) as server:
        yield server


@pytest.fixture
async def local(lam: LocalLambda) -> AsyncIterator[LambdaClient]:
    async with LambdaClient(
        lam.region,
        endpoint_url=lam.endpoint_url,
        credentials=lam.credentials,
        jitter=lambda: 0.0,  # no backoff wait
    ) as client:
        yield client


async def test_publish_list_and_get_versions(lam: LocalLambda, local: LambdaClient) -> None:
    lam.add_function("app", handler_one, role=ROLE_1, dead_letter_target_arn=DLQ_1)
    one = await local.publish_version("app", description="first")
    lam.add_function("app", handler_two, role=ROLE_2, dead_letter_target_arn=DLQ_2, timeout=30)
    two = await local.publish_version("app")

    assert (one.version, two.version) == ("1", "2")
    assert one.code_sha256 != two.code_sha256
    assert one.description == "first"
    assert (two.role, two.timeout) == (ROLE_2, 30)

    listed = [v async for v in local.list_versions_by_function("app")]
    assert [v.version for v in listed] == ["$LATEST", "1", "2"]
    # AWS lists versions without State and LastUpdateStatus; all else is as published.
    assert listed[1:] == [attrs.evolve(v, state=None, last_update_status=None) for v in (one, two)]
    pages = [page async for page in local.list_versions_by_function("app", page_size=2).pages()]
    assert [[v.version for v in page.versions] for page in pages] == [["$LATEST", "1"], ["2"]]
    assert pages[0].next_marker is not None
    assert pages[1].next_marker is None

    await local.create_alias("app", "live", function_version="1")
    by_version = await local.get_function_configuration("app", qualifier="1")
    by_alias = await local.get_function_configuration("app", qualifier="live")
    by_arn = await local.get_function_configuration(f"{lam_arn(lam, 'app')}:1")
    latest = await local.get_function_configuration("app")
    latest_named = await local.get_function_configuration("app", qualifier="$LATEST")

    assert by_version == one
    assert by_version.role == ROLE_1
    assert by_version.dead_letter_config == DeadLetterConfig(DLQ_1)
    assert by_version.function_arn == f"{lam_arn(lam, 'app')}:1"
    assert by_alias.version == "1"
    assert by_alias.role == ROLE_1
    assert by_alias.dead_letter_config == DeadLetterConfig(DLQ_1)
    assert by_arn == by_version
    # The same configuration, named as asked: AWS qualifies FunctionArn with the qualifier.
    assert latest == attrs.evolve(latest_named, function_arn=lam_arn(lam, "app"))
    assert latest_named.function_arn == f"{lam_arn(lam, 'app')}:$LATEST"
    assert by_alias.function_arn == f"{lam_arn(lam, 'app')}:live"
    assert latest.version == "$LATEST"
    assert (latest.role, latest.dead_letter_config) == (ROLE_2, DeadLetterConfig(DLQ_2))
    assert latest.code_sha256 == two.code_sha256
    assert latest.state == "Active"
    assert latest.last_update_status == "Successful"
    assert latest.last_modified is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", latest.last_modified)


def lam_arn(lam: LocalLambda, name: str) -> str:
    return f"arn:aws:lambda:{lam.region}:123456789012:function:{name}"


async def test_publishing_with_a_stale_revision_fails_the_precondition(
    lam: LocalLambda, local: LambdaClient
) -> None:
    lam.add_function("app", handler_one)
    read = await local.get_function_configuration("app")
    lam.add_function("app", handler_two)  # someone changes $LATEST after we read it

    with pytest.raises(PreconditionFailedError) as caught:
        await local.publish_version("app", revision_id=read.revision_id)
    assert caught.value.status == 412
    with pytest.raises(InvalidParameterValueError):
        await local.publish_version("app", code_sha256=read.code_sha256)
    assert [v.version async for v in local.list_versions_by_function("app")] == ["$LATEST"]

    current = await local.get_function_configuration("app")
    published = await local.publish_version(
        "app", revision_id=current.revision_id, code_sha256=current.code_sha256
    )
    assert published.version == "1"
    assert published.code_sha256 == current.code_sha256


async def test_publishing_unchanged_code_returns_the_existing_version(
    lam: LocalLambda, local: LambdaClient
) -> None:
    lam.add_function("app", handler_one, role=ROLE_1)
    first = await local.publish_version("app")
    again = await local.publish_version("app")
    lam.add_function("app", handler_one, role=ROLE_1)  # re-registered, but nothing changed
    once_more = await local.publish_version("app")

    assert first.version == "1"
    assert again == first
    assert once_more == first
    assert [v.version async for v in local.list_versions_by_function("app")] == ["$LATEST", "1"]


async def test_missing_functions_and_versions_are_not_found(
    lam: LocalLambda, local: LambdaClient
) -> None:
    lam.add_function("app", handler_one)

    with pytest.raises(ResourceNotFoundError):
        await local.get_function_configuration("app", qualifier="9")
    with pytest.raises(ResourceNotFoundError):
        await local.get_function_configuration("nope")
    with pytest.raises(ResourceNotFoundError):
        [v async for v in local.list_versions_by_function("nope")]
    with pytest.raises(ResourceNotFoundError):
        await local.publish_version("nope")


async def test_over_sockets_a_read_is_retried_and_a_publish_is_not(
    lam: LocalLambda, local: LambdaClient
) -> None:
    lam.add_function("app", handler_one)
    lam.inject("GetFunctionConfiguration", ServerError())
    lam.inject("ListVersionsByFunction", ServerError(503))
    lam.inject("PublishVersion", ServerError())

    assert (await local.get_function_configuration("app")).version == "$LATEST"
    assert [v.version async for v in local.list_versions_by_function("app")] == ["$LATEST"]
    with pytest.raises(ServiceException):
        await local.publish_version("app")
    # The failed publish was not sent again: the next one is the first to publish.
    assert (await local.publish_version("app")).version == "1"
