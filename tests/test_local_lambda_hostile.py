"""LocalLambda against hostile requests, over real sockets: raw HTTP/1.1 signed with
lambdaclient's signer at chosen timestamps, so that what reaches the server is exactly what a
test wrote.

Every answer must be one AWS could give: a status below 500, a JSON body with a message, and
``x-amzn-ErrorType`` on errors. The AWS facts behind each answer are listed, with their
sources, in ``lambdaclient/testing/README.md``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdaclient import Credentials, LambdaClient
from lambdaclient._sigv4 import SigV4Signer
from lambdaclient.testing import LocalLambda

MiB = 1024 * 1024
INVOKE = "/2015-03-31/functions/fn/invocations"
ALIASES = "/2015-03-31/functions/fn/aliases"


def echo(event: Any, context: Any) -> Any:
    return event


def size_of(event: Any, context: Any) -> int:
    return len(event)


# --- a LocalLambda on a loop of its own, and raw HTTP to it -----------------------------------


@contextmanager
def serving(**options: Any) -> Generator[LocalLambda]:
    """A LocalLambda with ``fn`` (echo) on an event loop in another thread, so a test can
    talk to it with plain blocking sockets."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    lam = LocalLambda(**options)
    asyncio.run_coroutine_threadsafe(lam.start(), loop).result()
    lam.add_function("fn", echo)
    try:
        yield lam
    finally:
        asyncio.run_coroutine_threadsafe(lam.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


@pytest.fixture
def lam() -> Iterator[LocalLambda]:
    with serving() as server:
        yield server


def sign(
    lam: LocalLambda,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    *,
    at: datetime | None = None,
    credentials: Credentials | None = None,
) -> dict[str, str]:
    """The headers of a request signed as of ``at`` (default: now) by lambdaclient's signer;
    LocalLambda checks them with botocore's, so the two stay independent."""
    host = f"{lam.host}:{lam.port}"
    wire_path, _, query = path.partition("?")
    given = dict(headers or {})
    # As botocore signs: a claimed X-Amz-Content-SHA256 is the payload hash, whatever the body.
    claimed = [value for name, value in given.items() if name.lower() == "x-amz-content-sha256"]
    added = SigV4Signer(service="lambda", region=lam.region).sign(
        method=method,
        host=host,
        path=wire_path,
        query=query,
        headers=given,
        payload_sha256=claimed[-1] if claimed else hashlib.sha256(body).hexdigest(),
        credentials=credentials or lam.credentials,
        now=at or datetime.now(UTC),
    )
    replaced = {name.lower() for name in added} | {"host"}
    kept = {name: value for name, value in given.items() if name.lower() not in replaced}
    return {"Host": host, **kept, **added}


class Answer:
    """A response as read off the socket."""

    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines)
        }

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> tuple[int, str, str]:
        """Status, ``x-amzn-ErrorType`` and message of an error answer."""
        data = self.json()
        return (
            self.status,
            self.headers["x-amzn-errortype"],
            data.get("message", data.get("Message")),
        )


def send(
    lam: LocalLambda, method: str, path: str, headers: Mapping[str, str], body: bytes = b""
) -> Answer:
    """One request on a connection of its own, written byte for byte as given."""
    head = f"{method} {path} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    if not any(name.lower() in ("content-length", "transfer-encoding") for name in headers):
        head += f"Content-Length: {len(body)}\r\n"
    head += "Connection: close\r\n\r\n"
    with socket.create_connection((lam.host, lam.port), timeout=30) as sock:
        sock.sendall(head.encode("latin-1") + body)
        chunks: list[bytes] = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return Answer(b"".join(chunks))


def signed(
    lam: LocalLambda,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    **signing: Any,
) -> Answer:
    return send(lam, method, path, sign(lam, method, path, body, headers, **signing), body)


# --- X-Amz-Date -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (timedelta(minutes=-20), "Signature expired: {date} is now earlier than "),
        (timedelta(minutes=20), "Signature not yet current: {date} is still later than "),
    ],
)
def test_a_request_signed_more_than_five_minutes_off_is_refused(
    lam: LocalLambda, offset: timedelta, words: str
) -> None:
    at = datetime.now(UTC) + offset
    answer = signed(lam, "POST", INVOKE, b"{}", at=at)
    status, code, message = answer.error
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(words.format(date=at.strftime("%Y%m%dT%H%M%SZ")))
    direction = "-" if offset < timedelta(0) else "+"
    assert message.endswith(f" {direction} 5 min.)")
    assert lam.executions("fn", "$LATEST") == 0


def test_a_request_dated_2001_names_the_bounds_in_awss_words(lam: LocalLambda) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    answer = signed(lam, "GET", ALIASES, at=datetime(2001, 1, 1, tzinfo=UTC))
    after = datetime.now(UTC)
    status, code, message = answer.error
    assert (status, code) == (403, "InvalidSignatureException")
    prefix = "Signature expired: 20010101T000000Z is now earlier than "
    assert message.startswith(prefix)
    earliest, server_now = message[len(prefix) :].removesuffix(" - 5 min.)").split(" (")
    now = datetime.strptime(server_now, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= now <= after
    assert datetime.strptime(earliest, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) == now - timedelta(
        minutes=5
    )


def test_five_minutes_of_skew_is_the_bound_to_the_second() -> None:
    # The server's own clock, not the system's, is what dates are judged by.
    server_time = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
    with serving(clock=lambda: server_time) as lam:
        for seconds, accepted in ((300, True), (301, False)):
            for at in (
                server_time - timedelta(seconds=seconds),
                server_time + timedelta(seconds=seconds),
            ):
                answer = signed(lam, "GET", ALIASES, at=at)
                assert (answer.status == 200) is accepted, (seconds, at, answer.body)


def test_a_captured_invoke_replayed_after_thirty_minutes_never_runs(lam: LocalLambda) -> None:
    headers = sign(lam, "POST", INVOKE, b"{}", at=datetime.now(UTC) - timedelta(minutes=30))
    answers = [send(lam, "POST", INVOKE, headers, b"{}") for _ in range(3)]
    assert {answer.error[:2] for answer in answers} == {(403, "InvalidSignatureException")}
    assert lam.executions("fn", "$LATEST") == 0


def test_an_undated_or_misdated_request_is_an_incomplete_signature(lam: LocalLambda) -> None:
    headers = sign(lam, "GET", ALIASES)
    del headers["X-Amz-Date"]
    status, code, message = send(lam, "GET", ALIASES, headers).error
    assert (status, code) == (403, "IncompleteSignatureException")
    assert message == (
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        f" Authorization={headers['Authorization']}"
    )
    headers["X-Amz-Date"] = "yesterday"
    status, code, message = send(lam, "GET", ALIASES, headers).error
    assert (status, code) == (403, "IncompleteSignatureException")
    assert message.startswith("Date must be in ISO-8601 'basic format'. Got 'yesterday'.")


# --- the body's hash ------------------------------------------------------------------------


def test_a_body_swapped_after_signing_is_refused_and_does_not_run(lam: LocalLambda) -> None:
    signed_body, sent_body = b'{"amount": 1}', b'{"amount": 1000}'
    claimed = {"X-Amz-Content-SHA256": hashlib.sha256(signed_body).hexdigest()}
    headers = sign(lam, "POST", INVOKE, signed_body, claimed)
    assert "x-amz-content-sha256" in headers["Authorization"]  # the claim itself is signed
    status, code, _ = send(lam, "POST", INVOKE, headers, sent_body).error
    assert (status, code) == (403, "InvalidSignatureException")
    assert lam.executions("fn", "$LATEST") == 0
    # The same signed claim with the body it describes is a good request.
    assert send(lam, "POST", INVOKE, headers, signed_body).json() == {"amount": 1}


def test_an_unsigned_payload_is_refused(lam: LocalLambda) -> None:
    answer = signed(lam, "POST", INVOKE, b"{}", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert answer.error[:2] == (403, "InvalidSignatureException")
    assert lam.executions("fn", "$LATEST") == 0


# --- session tokens ----------------------------------------------------------------------


def test_a_made_up_session_token_is_unrecognised(lam: LocalLambda) -> None:
    forged = Credentials(
        lam.credentials.access_key_id, lam.credentials.secret_access_key, "made-up-token"
    )
    status, code, message = signed(lam, "POST", INVOKE, b"{}", credentials=forged).error
    assert (status, code) == (403, "UnrecognizedClientException")
    assert message == "The security token included in the request is invalid."
    assert lam.executions("fn", "$LATEST") == 0


def test_temporary_credentials_need_their_own_token() -> None:
    temporary = Credentials("ASIALOCALLAMBDA00000", "temporary-secret", "the-session-token")
    with serving(credentials=temporary) as lam:
        assert signed(lam, "POST", INVOKE, b"1", credentials=temporary).json() == 1
        for token in (None, "another-token"):
            other = Credentials(temporary.access_key_id, temporary.secret_access_key, token)
            answer = signed(lam, "POST", INVOKE, b"1", credentials=other)
            assert answer.error[:2] == (403, "UnrecognizedClientException")
        assert lam.executions("fn", "$LATEST") == 1


def test_added_credentials_are_accepted_until_they_expire(lam: LocalLambda) -> None:
    expiration = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=2)
    rotated = Credentials("ASIAROTATED000000000", "rotated-secret", "rotated-token", expiration)
    answer = signed(lam, "POST", INVOKE, b"1", credentials=rotated)
    assert answer.error[:2] == (403, "UnrecognizedClientException")

    lam.add_credentials(rotated)
    assert signed(lam, "POST", INVOKE, b"1", credentials=rotated).json() == 1
    assert signed(lam, "POST", INVOKE, b"2").json() == 2  # its own credentials still work
    # Signed at the moment they expire (a date well within the 5 minutes of skew allowed).
    answer = signed(lam, "POST", INVOKE, b"3", credentials=rotated, at=expiration)
    assert answer.error == (
        403,
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )
    assert lam.executions("fn", "$LATEST") == 2


async def test_our_client_signs_with_temporary_credentials() -> None:
    temporary = Credentials("ASIALOCALLAMBDA00000", "temporary-secret", "the-session-token")
    async with LocalLambda(credentials=temporary) as lam:
        lam.add_function("fn", echo)
        async with LambdaClient(
            lam.region, endpoint_url=lam.endpoint_url, credentials=temporary
        ) as client:
            assert (await client.invoke("fn", payload=[1])).json() == [1]


# --- limits -------------------------------------------------------------------------------------


def test_a_synchronous_request_over_6_mib_is_too_large(lam: LocalLambda) -> None:
    lam.add_function("fn", size_of)
    at_limit = b'"' + b"a" * (6 * MiB - 2) + b'"'
    assert signed(lam, "POST", INVOKE, at_limit).json() == 6 * MiB - 2
    over = at_limit + b" "
    answer = signed(lam, "POST", INVOKE, over)
    assert answer.error == (
        413,
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    )
    assert lam.executions("fn", "$LATEST") == 1


def test_an_event_payload_over_1_mib_is_too_large(lam: LocalLambda) -> None:
    event = {"X-Amz-Invocation-Type": "Event"}
    at_limit = b'"' + b"a" * (MiB - 2) + b'"'
    assert signed(lam, "POST", INVOKE, at_limit, event).status == 202
    answer = signed(lam, "POST", INVOKE, at_limit + b" ", event)
    assert answer.error == (
        413,
        "RequestEntityTooLargeException",
        f"{MiB + 1} byte payload is too large for the Event invocation type (limit {MiB} bytes)",
    )


def test_a_body_past_the_servers_cap_is_an_aws_error_read_or_not(lam: LocalLambda) -> None:
    words = "Request must be smaller than 8388608 bytes for the CreateAlias operation"
    # Announced by Content-Length: refused before a byte of it is read.
    headers = {**sign(lam, "POST", ALIASES), "Content-Length": str(9 * MiB)}
    assert send(lam, "POST", ALIASES, headers).error == (
        413,
        "RequestEntityTooLargeException",
        words,
    )
    # Sent in chunks, so that only reading it shows its size.
    body = b"x" * (9 * MiB)
    chunked = {**sign(lam, "POST", ALIASES, body), "Transfer-Encoding": "chunked"}
    framed = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part)
        for part in (body[i : i + MiB] for i in range(0, len(body), MiB))
    )
    answer = send(lam, "POST", ALIASES, chunked, framed + b"0\r\n\r\n")
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.error[:2] == (413, "RequestEntityTooLargeException")


def test_a_response_over_6_mb_is_a_function_error(lam: LocalLambda) -> None:
    lam.add_function("fn", lambda event, context: "a" * event)
    fits = signed(lam, "POST", INVOKE, b"6291554")  # 6,291,556 bytes with its quotes
    assert (fits.status, len(fits.body)) == (200, 6_291_556)
    assert "x-amz-function-error" not in fits.headers
    answer = signed(lam, "POST", INVOKE, b"6291555")
    assert (answer.status, answer.headers["x-amz-function-error"]) == (200, "Unhandled")
    assert answer.json() == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556"
        " bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


@pytest.mark.parametrize(
    ("method", "path", "fields"),
    [
        ("POST", ALIASES, {"Name": "live", "FunctionVersion": "$LATEST"}),
        ("POST", "/2015-03-31/functions/fn/versions", {}),
    ],
)
def test_a_description_over_256_characters_is_a_validation_error(
    lam: LocalLambda, method: str, path: str, fields: dict[str, str]
) -> None:
    too_long = json.dumps({**fields, "Description": "d" * 257}).encode()
    status, code, message = signed(lam, method, path, too_long).error
    assert (status, code) == (400, "ValidationException")
    assert message.endswith(
        "at 'description' failed to satisfy constraint: Member must have length less than or"
        " equal to 256"
    )
    at_limit = json.dumps({**fields, "Description": "d" * 256}).encode()
    assert signed(lam, method, path, at_limit).status == 201


# --- inputs that used to break the server ----------------------------------------------------


def test_a_400_digit_weight_is_a_validation_error(lam: LocalLambda) -> None:
    body = b'{"FunctionVersion": "$LATEST", "RoutingConfig": {"AdditionalVersionWeights":'
    body += b' {"1": 1' + b"0" * 400 + b"}}}"
    status, code, message = signed(lam, "PUT", f"{ALIASES}/live", body).error
    assert (status, code) == (400, "ValidationException")
    assert "routingConfig.additionalVersionWeights" in message


DEEP = b"[" * 5000 + b"]" * 5000


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", INVOKE),
        ("POST", "/2021-11-15/functions/fn/response-streaming-invocations"),
        ("POST", ALIASES),
        ("PUT", f"{ALIASES}/live"),
        ("POST", "/2015-03-31/functions/fn/versions"),
    ],
)
def test_deeply_nested_json_in_a_body_cannot_be_parsed(
    lam: LocalLambda, method: str, path: str
) -> None:
    assert signed(lam, method, path, DEEP).error[:2] == (400, "InvalidRequestContentException")
    assert lam.executions("fn", "$LATEST") == 0


def test_deeply_nested_json_in_the_client_context_is_invalid(lam: LocalLambda) -> None:
    context = {"X-Amz-Client-Context": base64.b64encode(DEEP[:2000] + DEEP[-2000:]).decode()}
    assert signed(lam, "POST", INVOKE, b"{}", context).error == (
        400,
        "InvalidParameterValueException",
        "Client context must be a valid Base64-encoded JSON object.",
    )


@pytest.mark.parametrize("host", ["[", "127.0.0.1:99999999", "", "127.0.0.1:0"])
def test_a_host_header_that_is_no_host_fails_the_signature(lam: LocalLambda, host: str) -> None:
    headers = {**sign(lam, "GET", ALIASES), "Host": host}
    assert send(lam, "GET", ALIASES, headers).error[:2] == (403, "InvalidSignatureException")


# --- what a handler returns ------------------------------------------------------------------


def test_a_result_json_cannot_hold_is_a_marshal_error(lam: LocalLambda) -> None:
    lam.add_function("fn", lambda event, context: {1, 2})
    answer = signed(lam, "POST", INVOKE, b"{}")
    assert (answer.status, answer.headers["x-amz-function-error"]) == (200, "Unhandled")
    payload = answer.json()
    assert payload == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": answer.headers["x-amzn-requestid"],
        "stackTrace": [],
    }


def test_a_nan_result_is_written_as_awss_python_runtime_writes_it(lam: LocalLambda) -> None:
    # awslambdaric's marshaller encodes with allow_nan=True: the payload is NaN, not an error.
    lam.add_function("fn", lambda event, context: [float("nan"), float("inf")])
    answer = signed(lam, "POST", INVOKE, b"{}")
    assert (answer.status, answer.body) == (200, b"[NaN, Infinity]")
    assert "x-amz-function-error" not in answer.headers


async def test_a_streaming_handlers_own_connection_error_ends_the_stream_unhandled() -> None:
    async def calls_downstream(event: Any, context: Any) -> Any:
        yield b"partial"
        raise ConnectionRefusedError(111, "Connection refused")

    async with LocalLambda() as lam:
        lam.add_function("fn", calls_downstream)
        async with (
            LambdaClient(
                lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
            ) as client,
            client.invoke_with_response_stream("fn") as stream,
        ):
            chunks = [chunk async for chunk in stream]
    assert chunks == [b"partial"]
    assert stream.complete is not None
    assert stream.complete.error_code == "Unhandled"
    assert stream.complete.error_details is not None
    details = json.loads(stream.complete.error_details)
    assert details["errorType"] == "ConnectionRefusedError"


# --- idle connections ---------------------------------------------------------------------------


def test_idle_and_trickling_connections_are_closed_and_calls_still_succeed() -> None:
    with serving(idle_timeout=0.5) as lam:
        idle = [socket.create_connection((lam.host, lam.port)) for _ in range(150)]
        trickling = [socket.create_connection((lam.host, lam.port)) for _ in range(50)]
        try:
            for sock in trickling:
                sock.sendall(b"GET /2015-03-31/functions/fn/aliases HTTP/1.1\r\nHost: x\r\n")
            deadline = time.monotonic() + 10
            for sock in idle + trickling:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                # Closed by the server: end of file, or a reset, never a hang.
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                assert data == b""
            assert signed(lam, "POST", INVOKE, b'"still here"').json() == "still here"
        finally:
            for sock in idle + trickling:
                sock.close()


def test_a_body_that_never_arrives_is_given_up_on() -> None:
    with serving(idle_timeout=0.5) as lam:
        headers = {**sign(lam, "POST", INVOKE, b"{}"), "Content-Length": "100"}
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        with socket.create_connection((lam.host, lam.port), timeout=10) as sock:
            sock.sendall(f"POST {INVOKE} HTTP/1.1\r\n{head}\r\n{{}}".encode())
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
        assert data == b""
        assert lam.executions("fn", "$LATEST") == 0


def test_idle_timeout_must_be_a_positive_number_of_seconds() -> None:
    for bad in (0, -1, float("nan"), "60", True):
        with pytest.raises(ValueError, match="idle_timeout must be a finite number of seconds"):
            LocalLambda(idle_timeout=bad)  # type: ignore[arg-type]


# --- anything at all ----------------------------------------------------------------------------

_PATHS = [
    INVOKE,
    ALIASES,
    f"{ALIASES}/live",
    "/2015-03-31/functions/fn/versions",
    "/2015-03-31/functions/fn/configuration",
    "/2021-11-15/functions/fn/response-streaming-invocations",
]
_HEADER_NAMES = [
    "X-Amz-Invocation-Type",
    "X-Amz-Log-Type",
    "X-Amz-Client-Context",
    "X-Amz-Security-Token",
    "Content-Type",
    "X-Amz-Content-SHA256",
    # Replaced by the signer on a signed request; sent as drawn on an unsigned one.
    "Authorization",
    "X-Amz-Date",
]
_header_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(
    str.strip
)
# Authorization headers close enough to SigV4's shape to reach each of its checks.
_authorization = st.builds(
    "{} Credential={}/{}/{}/{}/{}, SignedHeaders={}, Signature={}".format,
    st.sampled_from(["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", ""]),
    st.sampled_from(["AKIDLOCALLAMBDA00000", "AKIDSOMEONEELSE", ""]),
    st.sampled_from(["20010101", datetime.now(UTC).strftime("%Y%m%d"), "today"]),
    st.sampled_from(["us-east-1", "eu-west-1", ""]),
    st.sampled_from(["lambda", "s3"]),
    st.sampled_from(["aws4_request", "aws5"]),
    st.sampled_from(["host;x-amz-date", "host", "x-amz-date;x-missing", ""]),
    st.text("0123456789abcdef", max_size=64),
)
_headers = st.dictionaries(st.sampled_from(_HEADER_NAMES), _header_value, max_size=4).flatmap(
    lambda drawn: (
        _authorization.map(lambda value: {**drawn, "Authorization": value})
        if "Authorization" in drawn
        else st.just(drawn)
    )
)
_json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Name",
                    "FunctionVersion",
                    "Description",
                    "RoutingConfig",
                    "AdditionalVersionWeights",
                    "RevisionId",
                    "CodeSha256",
                    "1",
                    "2",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
_body = st.one_of(
    st.binary(max_size=200),
    _json_value.map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda depth: b"[" * depth + b"]" * depth),
)
_segment = st.one_of(
    st.sampled_from(["fn", "live", "$LATEST", "1", "", "..", "%2F", "%ZZ", "a" * 300]),
    st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="?#/"), max_size=12
    ),
)
_path = st.one_of(
    st.sampled_from(_PATHS),
    st.lists(_segment, min_size=1, max_size=6).map(lambda parts: "/" + "/".join(parts)),
    st.sampled_from(_PATHS).flatmap(
        lambda path: st.lists(_segment, max_size=3).map(
            lambda query: f"{path}?" + "&".join(f"Qualifier={q}" for q in query)
        )
    ),
)


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalLambda]:
    with serving(seed=1) as server:
        yield server


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    path=_path,
    headers=_headers,
    body=_body,
    sign_it=st.booleans(),
)
def test_no_request_of_any_shape_gets_a_server_error(
    shared: LocalLambda,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    sign_it: bool,
) -> None:
    sent = (
        sign(shared, method, path, body, headers)
        if sign_it
        else {
            "Host": f"{shared.host}:{shared.port}",
            **headers,
        }
    )
    answer = send(shared, method, path, sent, body)
    assert answer.status < 500, answer.body[:500]
    if answer.status >= 400:
        data = answer.json()
        # Lambda's errors name their code in a header; CloudWatch's (a POST to "/") in the body.
        assert answer.headers.get("x-amzn-errortype") or data.get("__type")
        assert isinstance(data.get("message", data.get("Message")), str)


def test_a_body_that_flows_slowly_past_idle_timeout_is_read_to_its_end() -> None:
    body = json.dumps("x" * 50).encode()
    with serving(idle_timeout=0.5) as lam:
        headers = {**sign(lam, "POST", INVOKE, body), "Content-Length": str(len(body))}
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        with socket.create_connection((lam.host, lam.port), timeout=10) as sock:
            sock.sendall(f"POST {INVOKE} HTTP/1.1\r\n{head}\r\n".encode())
            # Ten pieces, 0.2 s apart: never idle for 0.5 s, but 2 s in all.
            for start in range(0, len(body), 6):
                time.sleep(0.2)
                sock.sendall(body[start : start + 6])
            raw = b""
            while b"\r\n\r\n" not in raw or not raw.endswith(b'"'):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
        answer = Answer(raw)
        assert answer.status == 200
        assert answer.json() == "x" * 50
