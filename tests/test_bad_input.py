"""Property-based bad input: every public method of the client, given random strings, numbers,
None, bools, lists, maps and odder objects for each argument, either works or raises
:class:`ValidationError` before anything is sent, and never anything else (no TypeError,
KeyError, UnicodeEncodeError, OverflowError...).

aioresponses stands in for the network: it records every request that would have left the
process and answers it with a canned success, so a valid call completes and an invalid one
is seen to have sent nothing.

The other way round, every field of every canned response (``stubs/``) and of the event
stream's JSON events gets numbers of any size, strings of any code point and nesting of
any depth, and the call gives its model or a typed error (``ResponseParseError``, the
response's ``ServiceError``, ``EventStreamError``), never anything else.

Also here: the wire converter round-trips the models the other suites leave out
(``RoutingConfig`` and ``DeadLetterConfig`` on their own; AliasConfiguration and AliasPage
are round-tripped in ``test_wire.py``, FunctionConfiguration and VersionPage in
``test_versions.py``). That the event-stream decoder yields the same events however the
bytes are split, and rejects corrupted frames, is ``test_eventstream.py``'s property.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yarl import URL

from lambdaclient import (
    AliasConfiguration,
    Credentials,
    DeadLetterConfig,
    EventStreamError,
    FunctionConfiguration,
    FunctionError,
    InvocationType,
    InvokeComplete,
    InvokeResult,
    LambdaClient,
    LambdaError,
    LogType,
    ResponseParseError,
    RoutingConfig,
    ServiceError,
    TooManyRequestsError,
    ValidationError,
)
from lambdaclient._eventstream import encode_message, invoke_complete_event, payload_chunk_event
from lambdaclient._wire import converter
from lambdaclient.testing import MockTransport
from lambdaclient.transport import Request, Response
from tests import stubs
from tests.conftest import CompatClientResponse

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token")
ENDPOINT = "https://lambda.us-east-1.amazonaws.com"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
# Every example builds a client and an aioresponses mock: no deadline, and enough examples
# per method to reach the later arguments without the file taking more than a few seconds.
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- canned answers --------------------------------------------------------------------------

ALIAS = {
    "AliasArn": f"{ARN}:live",
    "Name": "live",
    "FunctionVersion": "1",
    "Description": "",
    "RevisionId": "rev-1",
}
CONFIGURATION = {"FunctionName": "my-fn", "FunctionArn": ARN, "Version": "1", "Timeout": 3}
STREAM = payload_chunk_event(b"streamed") + invoke_complete_event()


def canned(method: str, path: str) -> tuple[int, bytes, dict[str, str]]:
    """What Lambda answers to a valid request for ``method`` and ``path``."""
    as_json = {"Content-Type": "application/json"}
    if path.endswith("/response-streaming-invocations"):
        return 200, STREAM, {"Content-Type": "application/vnd.amazon.eventstream"}
    if path.endswith("/invocations"):
        return 200, b'{"ok":true}', {**as_json, "X-Amz-Executed-Version": "1"}
    if path.endswith("/configuration"):
        return 200, json.dumps(CONFIGURATION).encode(), as_json
    if path.endswith("/versions"):
        if method == "GET":
            return 200, json.dumps({"Versions": [CONFIGURATION]}).encode(), as_json
        return 201, json.dumps(CONFIGURATION).encode(), as_json
    if path.endswith("/aliases"):
        if method == "GET":
            return 200, json.dumps({"Aliases": [ALIAS]}).encode(), as_json
        return 201, json.dumps(ALIAS).encode(), as_json
    if method == "DELETE":
        return 204, b"", {}
    return 200, json.dumps(ALIAS).encode(), as_json


class Network:
    """aioresponses catching every request to any host: records it, answers it."""

    def __init__(self, mocked: aioresponses) -> None:
        self.sent: list[tuple[str, str]] = []
        anything = re.compile(r".*")
        for method in ("GET", "POST", "PUT", "DELETE"):
            mocked.add(anything, method, callback=self._answer(method), repeat=True)

    def _answer(self, method: str) -> Any:
        def answer(url: URL, **kwargs: Any) -> CallbackResult:
            self.sent.append((method, str(url)))
            status, body, headers = canned(method, url.path)
            return CallbackResult(
                status=status, body=body, headers=headers, response_class=CompatClientResponse
            )

        return answer


@contextmanager
def network() -> Iterator[Network]:
    """A fresh mock: hypothesis forbids function-scoped fixtures in @given tests, so every
    example opens its own."""
    with aioresponses() as mocked:
        yield Network(mocked)


# --- arguments: valid ones, and anything at all --------------------------------------------


def with_surrogate(text: str) -> str:
    # A lone surrogate is what os.fsdecode and JSON's "\ud800" escapes can produce; it is a
    # str, but not one that can be encoded.
    return text + "\ud800"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.sampled_from([10**400, -(10**400)]),  # past float's range: comparisons must not overflow
    st.floats(),
    st.text(max_size=20),
    st.text(max_size=10).map(with_surrogate),
    st.binary(max_size=10),
    st.sampled_from(
        [
            "",
            " ",
            "../x",
            "a/b?c#d",
            "$LATEST",
            "0",
            "١٢",  # Arabic-Indic digits: \d would match them without re.ASCII
            object(),
            InvocationType.EVENT,
            LogType.TAIL,
            Ellipsis,
            b"\xff",
        ]
    ),
)
hashable = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.text(max_size=5))
junk: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(hashable, children, max_size=3),
        st.builds(RoutingConfig, st.dictionaries(hashable, children, max_size=2)),
        st.frozensets(hashable, max_size=2),
    ),
    max_leaves=6,
)


async def chunks_of(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def chunks_of_anything(parts: list[Any]) -> AsyncIterator[Any]:
    for part in parts:
        yield part


function_names = st.one_of(
    st.sampled_from(
        ["my-fn", "fn_2", ARN, f"{ARN}:live", f"{ARN}:$LATEST", "123456789012:function:my-fn"]
    ),
    st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True),
)
namespaced_names = function_names | st.sampled_from(["my.fn", f"{ARN}:$LATEST.PUBLISHED"])
alias_names = st.from_regex(r"[a-zA-Z_-][a-zA-Z0-9_-]{0,30}", fullmatch=True)
versions = st.sampled_from(["1", "42", "$LATEST"])
descriptions = st.text(max_size=256)
routing_configs = st.builds(
    RoutingConfig, st.dictionaries(st.sampled_from(["2", "3"]), st.floats(0.0, 1.0), max_size=1)
)
opaque = st.text(min_size=1, max_size=40)
page_sizes = st.integers(1, 10_000)
qualifiers = st.sampled_from(["$LATEST", "1", "live"])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
payloads = st.one_of(
    st.none(),
    st.binary(max_size=50),
    st.binary(max_size=50).map(bytearray),
    st.binary(max_size=50).map(lambda data: memoryview(data)),
    st.text(max_size=50),
    json_values,
    st.binary(max_size=50).map(io.BytesIO),
    st.lists(st.binary(max_size=10), max_size=3).map(chunks_of),
)
bad_payloads = st.one_of(
    junk,
    # Not JSON-serialisable, or not bytes where bytes must be.
    st.lists(st.text(max_size=5), max_size=2).map(lambda parts: io.StringIO("".join(parts))),
    st.lists(st.text(max_size=5) | st.integers(), min_size=1, max_size=2).map(chunks_of_anything),
    st.builds(lambda value: {"x": value}, st.sampled_from([math.nan, math.inf, b"x", {1j}])),
)
invocation_types = st.sampled_from([*InvocationType, *(t.value for t in InvocationType)])
log_types = st.sampled_from([*LogType, *(t.value for t in LogType)])
client_contexts = st.dictionaries(st.text(max_size=10), json_values, max_size=3)
read_timeouts = st.floats(0.01, 900.0)
total_timeouts = st.none() | st.floats(1.0, 900.0)
counts = st.none() | st.integers(1, 10**6)


def arg(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid value or anything at all; valid first, so shrinking heads towards it."""
    return st.one_of(valid, junk)


Strategies = dict[str, st.SearchStrategy[Any]]

INVOKE_KWARGS: Strategies = {
    "payload": payloads,
    "qualifier": st.none() | qualifiers,
    "invocation_type": invocation_types,
    "log_type": log_types,
    "client_context": st.none() | client_contexts,
    "read_timeout": st.none() | read_timeouts,
    "idempotent": st.booleans(),
    "total_timeout": total_timeouts,
}
# What a corrupted argument gets instead of a valid value; anything at all by default.
JUNK: Strategies = {"payload": st.one_of(junk, bad_payloads)}

# method: (positional arguments, required keywords, optional keywords), all valid values.
METHODS: dict[str, tuple[Strategies, Strategies, Strategies]] = {
    "create_alias": (
        {"function_name": function_names, "name": alias_names},
        {"function_version": versions},
        {
            "description": descriptions,
            "routing_config": routing_configs,
            "total_timeout": total_timeouts,
        },
    ),
    "get_alias": (
        {"function_name": function_names, "name": alias_names},
        {},
        {"total_timeout": total_timeouts},
    ),
    "update_alias": (
        {"function_name": function_names, "name": alias_names},
        {},
        {
            "function_version": versions,
            "description": descriptions,
            "routing_config": routing_configs,
            "revision_id": opaque,
            "total_timeout": total_timeouts,
        },
    ),
    "delete_alias": (
        {"function_name": function_names, "name": alias_names},
        {},
        {"total_timeout": total_timeouts},
    ),
    "list_aliases": (
        {"function_name": function_names},
        {},
        {
            "function_version": versions,
            "page_size": page_sizes,
            "marker": opaque,
            "max_items": counts,
            "max_pages": counts,
            "total_timeout": total_timeouts,
        },
    ),
    "publish_version": (
        {"function_name": function_names},
        {},
        {
            "description": descriptions,
            "code_sha256": opaque,
            "revision_id": opaque,
            "total_timeout": total_timeouts,
        },
    ),
    "list_versions_by_function": (
        {"function_name": namespaced_names},
        {},
        {
            "page_size": page_sizes,
            "marker": opaque,
            "max_items": counts,
            "max_pages": counts,
            "total_timeout": total_timeouts,
        },
    ),
    "get_function_configuration": (
        {"function_name": namespaced_names},
        {},
        {"qualifier": st.none() | qualifiers, "total_timeout": total_timeouts},
    ),
    "invoke": ({"function_name": namespaced_names}, {}, INVOKE_KWARGS),
    "invoke_stream": ({"function_name": namespaced_names}, {}, INVOKE_KWARGS),
    "invoke_with_response_stream": ({"function_name": namespaced_names}, {}, INVOKE_KWARGS),
}


@st.composite
def calls(draw: st.DrawFn, method: str) -> tuple[frozenset[str], tuple[Any, ...], dict[str, Any]]:
    """Arguments for ``method``: valid, except for a few chosen at random ("corrupt"), which
    get anything at all. Corrupting one or two at a time, rather than drawing every argument
    from "valid or junk", lets the later arguments be reached past the earlier checks."""
    positional, required, optional = METHODS[method]
    names = [*positional, *required, *optional]
    corrupt = draw(st.frozensets(st.sampled_from(names), max_size=2), label="corrupt")

    def value(name: str, valid: st.SearchStrategy[Any]) -> Any:
        return draw(JUNK.get(name, junk) if name in corrupt else valid, label=name)

    args = tuple(value(name, valid) for name, valid in positional.items())
    kwargs = {name: value(name, valid) for name, valid in required.items()}
    for name, valid in optional.items():
        # An optional argument is left out now and then, as callers do.
        if name in corrupt or draw(st.booleans(), label=f"pass {name}"):
            kwargs[name] = value(name, valid)
    return corrupt, args, kwargs


async def call(client: LambdaClient, method: str, args: tuple[Any, ...], kwargs: Any) -> object:
    """Call ``method`` the way a caller would, reading whatever it returns to the end."""
    if method in ("list_aliases", "list_versions_by_function"):
        # Paginators check their arguments when called, before the first page is fetched.
        paginator = getattr(client, method)(*args, **kwargs)
        return [item async for item in paginator]
    if method == "invoke_stream":
        async with client.invoke_stream(*args, **kwargs) as response:
            return await response.read()
    if method == "invoke_with_response_stream":
        async with client.invoke_with_response_stream(*args, **kwargs) as stream:
            return [chunk async for chunk in stream]
    result: object = await getattr(client, method)(*args, **kwargs)
    return result


EXPECTED: dict[str, object] = {
    "create_alias": converter.structure(ALIAS, AliasConfiguration),
    "get_alias": converter.structure(ALIAS, AliasConfiguration),
    "update_alias": converter.structure(ALIAS, AliasConfiguration),
    "delete_alias": None,
    "list_aliases": [converter.structure(ALIAS, AliasConfiguration)],
    "publish_version": converter.structure(CONFIGURATION, FunctionConfiguration),
    "list_versions_by_function": [converter.structure(CONFIGURATION, FunctionConfiguration)],
    "get_function_configuration": converter.structure(CONFIGURATION, FunctionConfiguration),
    "invoke_stream": b'{"ok":true}',
    "invoke_with_response_stream": [b"streamed"],
}


@pytest.mark.parametrize("method", sorted(METHODS))
@FUZZ
@given(data=st.data())
async def test_any_arguments_work_or_raise_validation_error_before_sending(
    method: str, data: st.DataObject
) -> None:
    corrupt, args, kwargs = data.draw(calls(method), label="call")
    refused: ValidationError | None = None
    with network() as mock:
        async with LambdaClient("us-east-1", credentials=CREDENTIALS) as client:
            try:
                result = await call(client, method, args, kwargs)
            except ValidationError as error:
                refused = error
    if refused is not None:
        event(f"refused: {refused.field}")
        # Refused before anything left the process...
        assert mock.sent == []
        # ...naming the argument at fault: a corrupted one, or one whose valid value clashes
        # with another's (weights on a $LATEST alias; an EVENT invocation streamed).
        assert refused.field in corrupt | {"routing_config", "invocation_type"}, refused
        return
    event("sent")
    # A call that was not refused went out, once, and returned the canned answer.
    assert len(mock.sent) == 1, mock.sent
    assert mock.sent[0][1].startswith(f"{ENDPOINT}/")
    if method == "invoke":
        assert isinstance(result, InvokeResult)
        assert result.json() == {"ok": True}
    else:
        assert result == EXPECTED[method]


# --- the constructor ------------------------------------------------------------------------

endpoint_urls = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "https://lambda.eu-west-1.amazonaws.com",
            "http://127.0.0.1:9001",
            "http://localhost:4566/prefix/",
            "https://[::1]:8443",
        ]
    ),
    st.text(max_size=30),
    st.text(max_size=20).map(lambda rest: f"https://{rest}"),
)


@FUZZ
@given(
    region=arg(st.sampled_from(["us-east-1", "eu-west-1", "cn-north-1"])),
    credentials=arg(st.just(CREDENTIALS)),
    endpoint_url=endpoint_urls | junk,
    max_attempts=arg(st.integers(1, 10)),
    connect_timeout=arg(st.floats(0.01, 60.0)),
    read_timeout=arg(st.floats(0.01, 900.0)),
    total_timeout=arg(total_timeouts),
    max_response_size=arg(st.integers(1024, 10**9)),
    use_fips=arg(st.booleans()),
)
async def test_any_settings_construct_a_working_client_or_raise_validation_error(
    region: Any,
    credentials: Any,
    endpoint_url: Any,
    max_attempts: Any,
    connect_timeout: Any,
    read_timeout: Any,
    total_timeout: Any,
    max_response_size: Any,
    use_fips: Any,
) -> None:
    try:
        client = LambdaClient(
            region,
            credentials=credentials,
            endpoint_url=endpoint_url,
            max_attempts=max_attempts,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            total_timeout=total_timeout,
            max_response_size=max_response_size,
            use_fips=use_fips,
        )
    except ValidationError:
        return
    # The client it built can make a call: the call works, or fails as a LambdaError (a host
    # that does not resolve, say); it never fails as something else.
    failure: LambdaError | None = None
    with network() as mock:
        async with client:
            try:
                await client.get_alias("my-fn", "live")
            except LambdaError as error:
                failure = error
    if failure is None:
        assert len(mock.sent) == 1
    else:
        assert not isinstance(failure, ValidationError), failure


# --- the wire converter: the models the other suites do not round-trip on their own ----------

weights = st.dictionaries(
    st.from_regex(r"[0-9]{1,4}", fullmatch=True), st.floats(0.0, 1.0), min_size=1, max_size=3
)


@given(weights)
def test_routing_config_round_trips(weights: dict[str, float]) -> None:
    config = RoutingConfig(weights)
    data = json.loads(json.dumps(converter.unstructure(config)))
    assert data == {"AdditionalVersionWeights": weights}
    assert converter.structure(data, RoutingConfig) == config


def test_routing_config_without_weights_reads_back_as_none() -> None:
    # Deliberate, and why the round trip above needs a weight: AWS leaves RoutingConfig out
    # when an alias has none, so "no weights" has a single spelling, None.
    assert converter.structure(converter.unstructure(RoutingConfig({})), RoutingConfig) is None


@given(st.none() | st.text(max_size=80))
def test_dead_letter_config_round_trips(target_arn: str | None) -> None:
    config = DeadLetterConfig(target_arn)
    data = json.loads(json.dumps(converter.unstructure(config)))
    # None is left out, as AWS leaves out what does not apply.
    assert data == ({} if target_arn is None else {"TargetArn": target_arn})
    assert converter.structure(data, DeadLetterConfig) == config


# --- inputs that once escaped as other errors -------------------------------------------


async def refused_before_sending(method: str, *args: Any, **kwargs: Any) -> ValidationError:
    with network() as mock:
        async with LambdaClient("us-east-1", credentials=CREDENTIALS) as client:
            with pytest.raises(ValidationError) as caught:
                await call(client, method, args, kwargs)
            assert mock.sent == []
    return caught.value


@pytest.mark.parametrize("method", ["invoke", "invoke_stream", "invoke_with_response_stream"])
async def test_a_str_payload_that_is_not_valid_unicode_is_a_validation_error(method: str) -> None:
    error = await refused_before_sending(method, "my-fn", payload="caf\udce9")
    assert error.field == "payload"


@pytest.mark.parametrize("method", ["invoke", "invoke_stream", "invoke_with_response_stream"])
async def test_a_read_timeout_too_large_for_a_float_is_a_validation_error(method: str) -> None:
    error = await refused_before_sending(method, "my-fn", read_timeout=10**400)
    assert error.field == "read_timeout"


@pytest.mark.parametrize("method", ["create_alias", "update_alias"])
async def test_a_weight_too_large_for_a_float_is_a_validation_error(method: str) -> None:
    error = await refused_before_sending(
        method, "my-fn", "live", function_version="1", routing_config=RoutingConfig({"2": 10**400})
    )
    assert error.field == "routing_config"


@pytest.mark.parametrize(
    "settings_",
    [
        {"endpoint_url": 8443},
        {"endpoint_url": ["https://lambda.example.test"]},
        {"endpoint_url": "http://[::1"},
        {"connect_timeout": 10**400},
        {"read_timeout": 10**400},
        {"total_timeout": 10**400},
        {"max_response_size": 0},
        {"max_response_size": True},
    ],
    ids=[
        "endpoint_url=8443",
        "endpoint_url=[url]",
        "endpoint_url=http://[::1",
        "connect_timeout=10**400",
        "read_timeout=10**400",
        "total_timeout=10**400",
        "max_response_size=0",
        "max_response_size=True",
    ],
)
def test_bad_settings_are_validation_errors(settings_: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        LambdaClient("us-east-1", credentials=CREDENTIALS, **settings_)


@pytest.mark.parametrize("endpoint_url", ["http://a..b", "https://\ud800.example"])
async def test_an_unencodable_endpoint_host_is_a_validation_error(endpoint_url: str) -> None:
    # Over the real transport: aioresponses would answer before aiohttp encodes the host.
    # Neither host can be encoded, so nothing is looked up or sent.
    with pytest.raises(ValidationError):  # at construction (the fix) or at the first call
        async with LambdaClient(
            "us-east-1", credentials=CREDENTIALS, endpoint_url=endpoint_url, max_attempts=1
        ) as client:
            await client.get_alias("my-fn", "live")


# --- bad responses: any number, string or nesting in every field of every canned response ---
#
# Each canned response in stubs/ is taken as the shape AWS sends. Every example draws one
# member of each hostile family: a number of any size (past float's range, past the 4300
# digits Python turns into an int), a string of any code point (a lone surrogate included,
# escaped or raw) and a nesting of any depth (past the recursion limit); each member is put
# in turn in every field of the body (every JSON value in it, the body itself, and each key
# some parser reads, added at the top), and in every header. Every one of those responses
# must give the call's model or a typed error, never OverflowError, UnicodeEncodeError,
# RecursionError or the like.

HOLE = "\x00hole\x00"  # stands for the hostile fragment in a body until it is spliced in
HOLE_JSON = json.dumps(HOLE).encode()
# Keys some parser reads that a canned body may lack.
READ_KEYS = [
    "NextMarker",
    "retryAfterSeconds",
    "message",
    "Message",
    "code",
    "Code",
    "__type",
    "Reason",
    "RoutingConfig",
    "Aliases",
    "Versions",
    "errorType",
    "errorMessage",
    "stackTrace",
    "trace",
]
BODY_FALLBACKS = {"retry-after", "x-amzn-errortype"}
READ_HEADERS = [
    "Retry-After",
    "X-Amz-Executed-Version",
    "X-Amz-Function-Error",
    "X-Amz-Log-Result",
    "x-amzn-ErrorType",
    "x-amzn-RequestId",
]

# Numbers of any size; sizes where they change behaviour often: float's range ends past 308
# digits, Python's int parsing at 4300.
DIGITS = st.sampled_from([1, 17, 309, 400, 4300, 4301]) | st.integers(1, 6000)
integers = st.builds(lambda sign, digits: sign + "9" * digits, st.sampled_from(["", "-"]), DIGITS)
decimals = st.one_of(
    st.builds(
        lambda integer, fraction, exponent: f"{integer}.{fraction}e{exponent}",
        integers,
        st.integers(0, 10**6),
        st.integers(-1000, 1000),
    ),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity"]),  # what Python's json reads too
)
any_text = st.lists(
    st.one_of(
        st.integers(0, 0x10FFFF).map(chr),
        st.sampled_from(["\ud800", "\udfff", "\x00", '"', "\\", "\u2028", "\ufeff"]),
    ),
    max_size=30,
).map("".join)
texts = any_text | any_text.map(with_surrogate)
strings = st.one_of(
    texts.map(json.dumps),  # escaped: "\ud800"
    # Raw: a surrogate written as its bytes is not UTF-8 at all.
    texts.map(lambda text: json.dumps(text, ensure_ascii=False)),
)


def nested(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


DEPTHS = st.sampled_from([10, 900, 1000, 100_000]) | st.integers(1, 100_000)
nestings = st.builds(nested, DEPTHS, st.sampled_from(["list", "object"]))
# One member of each family, each put in every field in turn.
one_of_each_family = st.tuples(integers, decimals, strings, nestings)


def spots(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every JSON value within ``value``, itself included."""
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from spots(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from spots(item, (*at, index))


def with_hole(value: Any, path: tuple[Any, ...]) -> Any:
    """A copy of ``value`` with the value at ``path`` (which may name a new member of an
    object) replaced by :data:`HOLE`."""
    if not path:
        return HOLE
    head, *rest = path
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = with_hole(copy[head], tuple(rest)) if rest else HOLE
    return copy


def hostile_bodies(base: Any, fragment: str) -> Iterator[tuple[str, bytes]]:
    """``base`` (a decoded JSON body, or None for none) with ``fragment`` (JSON text) in
    each of its fields in turn, each named by where it went."""
    raw = fragment.encode("utf-8", "surrogatepass")
    places = list(spots(base))
    if isinstance(base, dict):
        places += [(key,) for key in READ_KEYS if key not in base]
    for path in places:
        spliced = json.dumps(with_hole(base, path)).encode().replace(HOLE_JSON, raw, 1)
        yield f"body at {list(path)}", spliced


def base_body(stub: stubs.Stub) -> Any:
    # A payload that is not JSON (an Invoke's) is taken as the JSON string of its text.
    return stub.body_text if stub.body_text is not None else stub.body


def hostile_responses(
    stub: stubs.Stub, fragment: str
) -> Iterator[tuple[str, Mapping[str, str], bytes]]:
    """The stub with ``fragment`` in each body field, then as each header's value."""
    # An error body's code and retryAfterSeconds are read only without the header each
    # stands in for, so the body's variants go without those headers.
    headers = {k: v for k, v in stub.headers.items() if k.lower() not in BODY_FALLBACKS}
    for where, body in hostile_bodies(base_body(stub), fragment):
        yield where, headers, body
    for name in sorted({*stub.headers, *READ_HEADERS}):
        yield f"header {name}", {**stub.headers, name: fragment}, stub.body_bytes


LAST_PAGE = {"ListAliases": b'{"Aliases": []}', "ListVersionsByFunction": b'{"Versions": []}'}


async def call_operation(client: LambdaClient, operation: str) -> object:
    """Call the method for ``operation`` as a caller would, using all it returns."""
    if operation == "GetAlias":
        return await client.get_alias("my-fn", "live")
    if operation == "CreateAlias":
        return await client.create_alias("my-fn", "live", function_version="1")
    if operation == "UpdateAlias":
        return await client.update_alias("my-fn", "live", description="d")
    if operation == "DeleteAlias":
        await client.delete_alias("my-fn", "live")
        return None
    if operation == "ListAliases":
        return [alias async for alias in client.list_aliases("my-fn")]
    if operation == "ListVersionsByFunction":
        return [version async for version in client.list_versions_by_function("my-fn")]
    if operation == "PublishVersion":
        return await client.publish_version("my-fn")
    if operation == "GetFunctionConfiguration":
        return await client.get_function_configuration("my-fn")
    if operation == "Invoke":
        result = await client.invoke("my-fn")
        with contextlib.suppress(FunctionError):
            result.raise_for_function_error()
        return result
    assert operation == "InvokeWithResponseStream"
    async with client.invoke_with_response_stream("my-fn") as stream:
        return [chunk async for chunk in stream]


async def answer_with(
    status: int, headers: Mapping[str, str], body: bytes, operation: str
) -> LambdaError | None:
    """Call ``operation`` against a server that answers ``status``, ``headers`` and
    ``body`` (and a last, empty page to the page after it): the error it raised, if any."""
    requests = 0

    def handler(request: Request) -> Response:
        nonlocal requests
        requests += 1
        if requests > 1 and operation in LAST_PAGE:
            return Response(200, {}, LAST_PAGE[operation])
        return Response(status, headers, body)

    async with mock_client(handler) as client:
        try:
            await call_operation(client, operation)
        except LambdaError as error:
            return error
    return None


def mock_client(handler: Any) -> LambdaClient:
    """A client answered by ``handler``; a retry (of a 429, a 5xx) is made at once."""
    return LambdaClient(
        "us-east-1",
        credentials=CREDENTIALS,
        transport=MockTransport(handler),
        max_attempts=2,
        sleep=lambda _: asyncio.sleep(0),
    )


def assert_typed(stub: stubs.Stub, error: LambdaError | None, where: str) -> None:
    """What a canned response with a hostile field may give: an error response is always
    its ServiceError (parse_error never raises), a success its model or a
    ResponseParseError."""
    if stub.status >= 300:
        assert isinstance(error, ServiceError), (where, error)
        assert error.status == stub.status, where
        if isinstance(error, TooManyRequestsError) and error.retry_after_seconds is not None:
            assert 0 <= error.retry_after_seconds < math.inf, where
    elif error is not None:
        assert isinstance(error, ResponseParseError), (where, error)
        assert error.status == stub.status, where


STUB_CASES = {f"{stub.operation}/{stub.path.stem}": stub for stub in stubs.every()}
# Each example puts four fragments in every field of a response, so a few examples cover a
# lot: a stub is a few dozen fields, each tried with an integer, a decimal, a string and a
# nesting.
FAMILIES = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("case", sorted(STUB_CASES))
@FAMILIES
@given(fragments=one_of_each_family)
async def test_any_value_in_any_field_of_a_response_gives_the_model_or_a_typed_error(
    case: str, fragments: tuple[str, ...]
) -> None:
    stub = STUB_CASES[case]
    for fragment in fragments:
        for where, headers, body in hostile_responses(stub, fragment):
            error = await answer_with(stub.status, headers, body, stub.operation)
            assert_typed(stub, error, where)


# The event stream's JSON payloads, as LocalLambda and Lambda send them.
INVOKE_COMPLETE = {"ErrorCode": "Unhandled", "ErrorDetails": "boom", "LogResult": "bG9n"}
EXCEPTION = {"message": "the function's stream failed"}


STREAM_EVENTS = {
    "InvokeComplete": (
        {":event-type": "InvokeComplete", ":message-type": "event"},
        INVOKE_COMPLETE,
    ),
    "exception": ({":exception-type": "ServiceException", ":message-type": "exception"}, EXCEPTION),
}


@pytest.mark.parametrize("kind", sorted(STREAM_EVENTS))
@FAMILIES
@given(fragments=one_of_each_family)
async def test_any_value_in_a_stream_events_json_gives_its_meaning_or_a_stream_error(
    kind: str, fragments: tuple[str, ...]
) -> None:
    headers, base = STREAM_EVENTS[kind]
    for fragment in fragments:
        for where, payload in hostile_bodies(base, fragment):
            stream = payload_chunk_event(b"first") + encode_message(headers, payload)
            received, error, complete = await read_stream(stream)
            # What came before the event always arrives.
            assert received == [b"first"], where
            if kind == "exception":
                assert isinstance(error, EventStreamError), where
                assert error.code == "ServiceException", where
            else:  # complete, or an error: never a stream that looks complete but is not
                assert (complete is None) == (error is not None), where


async def read_stream(
    stream: bytes,
) -> tuple[list[bytes], EventStreamError | None, InvokeComplete | None]:
    """Read a response stream of these bytes: its chunks, its error and its end."""

    def handler(request: Request) -> Response:
        return Response(200, {"Content-Type": "application/vnd.amazon.eventstream"}, stream)

    received: list[bytes] = []
    async with (
        LambdaClient(
            "us-east-1", credentials=CREDENTIALS, transport=MockTransport(handler)
        ) as client,
        client.invoke_with_response_stream("my-fn") as response,
    ):
        try:
            async for chunk in response:
                received.append(chunk)
        except EventStreamError as error:
            return received, error, response.complete
    return received, None, response.complete
