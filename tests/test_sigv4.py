"""Tests for lambdaclient._sigv4: AWS's SigV4 test suite, and byte-equality with botocore."""

from __future__ import annotations

import hashlib
import json
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import quote

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.utils
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from lambdaclient._credentials import Credentials
from lambdaclient._errors import ValidationError
from lambdaclient._sigv4 import (
    EMPTY_SHA256,
    RepeatedRequestSigner,
    SigV4Signer,
    canonical_path,
    canonical_query,
    canonical_request,
    signing_key,
    string_to_sign,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

# --------------------------------------------------------------------------------------------
# AWS's SigV4 test suite
# --------------------------------------------------------------------------------------------

# Vendored from AWS's aws-sig-v4-test-suite (Apache-2.0; its LICENSE and NOTICE are beside it).
SUITE = Path(__file__).resolve().parent / "sigv4-testsuite"
SUITE_CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SUITE_NOW = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
SUITE_AMZ_DATE = "20150830T123600Z"

# Cases that do not describe Lambda's (botocore's) signing, with the reason. Every other case
# runs, get-header-value-multiline included: aiohttp would never send a folded value, but
# botocore's Trimall (str.split) unfolds it exactly as the suite expects.
SUITE_SKIPS = {
    "post-sts-token/post-sts-header-after": (
        "the suite adds X-Amz-Security-Token after signing, so it is not signed; botocore "
        "(and Lambda) sign the token, which post-sts-header-before covers"
    ),
}

# The request line of the .req files carries raw non-ASCII in the query (get-vanilla-utf8-query);
# on the wire a client sends it percent-encoded, which is what sign() takes.
_WIRE_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def _suite_cases() -> list[Any]:
    params = []
    for req in sorted(SUITE.rglob("*.req")):
        name = req.parent.relative_to(SUITE).as_posix()
        reason = SUITE_SKIPS.get(name)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(req, id=name, marks=marks))
    return params


def _parse_headers(lines: list[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for line in lines:
        if not line:
            continue
        if line[0] in " \t":
            # obs-fold continuation (get-header-value-multiline): part of the previous value.
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value}\n{line}")
            continue
        name, _, value = line.partition(":")
        pairs.append((name, value))
    return pairs


def test_suite_is_present() -> None:
    # Guards against the parametrized suite test silently collecting nothing.
    assert len(_suite_cases()) >= 30, f"SigV4 test suite not found at {SUITE}"


@pytest.mark.parametrize("req_file", _suite_cases())
def test_aws_sigv4_testsuite(req_file: Path) -> None:
    head, _, body = req_file.read_text(encoding="utf-8").partition("\n\n")
    request_line, *header_lines = head.split("\n")
    method, rest = request_line.split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    path, _, raw_query = target.partition("?")
    query = quote(raw_query, safe=_WIRE_SAFE)

    # A multidict, like the one aiohttp sends, so repeated header names survive.
    headers = CIMultiDict(_parse_headers(header_lines))
    host = headers.popone("Host")
    assert headers.popall("X-Amz-Date") == [SUITE_AMZ_DATE]
    headers.popall("X-Amz-Security-Token", None)
    # The signed request shows the token, also when the credentials (not the .req) carry it.
    sreq_headers = dict(
        _parse_headers(req_file.with_suffix(".sreq").read_text(encoding="utf-8").split("\n")[1:])
    )
    token = sreq_headers.get("X-Amz-Security-Token")
    credentials = Credentials(
        SUITE_CREDENTIALS.access_key_id, SUITE_CREDENTIALS.secret_access_key, token
    )
    payload = hashlib.sha256(body.encode()).hexdigest()

    creq, _ = canonical_request(
        method=method,
        host=host,
        path=path,
        query=query,
        headers=headers,
        payload_sha256=payload,
        amz_date=SUITE_AMZ_DATE,
        session_token=token,
    )
    assert creq == req_file.with_suffix(".creq").read_text(encoding="utf-8")
    sts = string_to_sign(
        amz_date=SUITE_AMZ_DATE,
        scope="20150830/us-east-1/service/aws4_request",
        canonical_request=creq,
    )
    assert sts == req_file.with_suffix(".sts").read_text(encoding="utf-8")

    added = SigV4Signer(service="service", region="us-east-1").sign(
        method=method,
        host=host,
        path=path,
        query=query,
        headers=headers,
        payload_sha256=payload,
        credentials=credentials,
        now=SUITE_NOW,
    )
    assert added["Authorization"] == req_file.with_suffix(".authz").read_text(encoding="utf-8")
    assert added["X-Amz-Date"] == SUITE_AMZ_DATE
    assert added.get("X-Amz-Security-Token") == token


# --------------------------------------------------------------------------------------------
# Byte-equality with botocore for Lambda-like requests
# --------------------------------------------------------------------------------------------


def _botocore_sign(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    now: datetime,
) -> tuple[dict[str, str | None], str]:
    """Sign with botocore at ``now``; return the headers it set and its canonical request."""
    auth = botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        "lambda",
        region,
    )
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=headers)
    # Recomputing it after add_auth() would sign the Authorization header too: capture it.
    canonical: list[str] = []
    compute = auth.canonical_request

    def capture(req: Any) -> Any:
        canonical.append(compute(req))
        return canonical[-1]

    auth.canonical_request = capture
    # botocore.auth reads the clock through its own imported name of botocore.compat's helper.
    naive_utc = now.astimezone(UTC).replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=naive_utc):
        auth.add_auth(request)
    added = {
        name: request.headers.get(name)
        for name in ("X-Amz-Date", "X-Amz-Security-Token", "Authorization")
    }
    return added, canonical[0]


def _enc(label: str) -> str:
    # How the client encodes a path label or query value.
    return quote(label, safe="-._~")


_NAME = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=64)
_ALIAS = st.from_regex(r"\A[a-zA-Z0-9_-]{0,20}[a-zA-Z_-][a-zA-Z0-9_-]{0,20}\Z")
_QUALIFIER = st.one_of(st.just("$LATEST"), st.integers(1, 10**6).map(str), _ALIAS)
_REGION = st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"])
_TEXT = st.text(max_size=40)  # any code point but surrogates


@st.composite
def _function_name(draw: st.DrawFn) -> str:
    name = draw(_NAME)
    form = draw(st.sampled_from(["plain", "partial", "full"]))
    if form == "partial":
        name = f"123456789012:function:{name}"
    elif form == "full":
        region = draw(_REGION)
        name = f"arn:aws:lambda:{region}:123456789012:function:{name}"
    if draw(st.booleans()):
        name = f"{name}:{draw(_QUALIFIER)}"
    return name


@st.composite
def _endpoint(draw: st.DrawFn, region: str) -> tuple[str, str]:
    """Return (URL prefix botocore gets, host sign() gets)."""
    scheme, host, port = draw(
        st.sampled_from(
            [
                ("https", f"lambda.{region}.amazonaws.com", None),
                ("https", f"lambda.{region}.amazonaws.com", 443),
                ("https", f"lambda-fips.{region}.amazonaws.com", 8443),
                ("http", "127.0.0.1", 9001),
                ("http", "localhost", 80),
                ("http", "[::1]", 3000),
            ]
        )
    )
    # botocore lowercases the host it takes from the URL; sign() is given it lowercase.
    url_host = "".join(c.upper() if draw(st.booleans()) else c for c in host)
    url = f"{scheme}://{url_host}" + (f":{port}" if port is not None else "")
    default = {"http": 80, "https": 443}[scheme]
    wire_host = host if port in (None, default) else f"{host}:{port}"
    return url, wire_host


@st.composite
def _query(draw: st.DrawFn) -> str:
    keys = draw(
        st.lists(
            st.sampled_from(["Qualifier", "FunctionVersion", "Marker", "MaxItems"]),
            unique=True,
            max_size=4,
        )
    )
    pairs = []
    for key in keys:
        if key == "Marker":
            value = draw(_TEXT)
        elif key == "MaxItems":
            value = str(draw(st.integers(1, 10000)))
        else:
            value = draw(_QUALIFIER)
        pairs.append(f"{key}={_enc(value)}")
    return "&".join(pairs)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=10,
)


def _header_value(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # Surrounding and inner whitespace runs exercise Trimall.
    pad = st.sampled_from(["", " ", "  ", "\t", " \t "])
    return st.tuples(pad, base, pad).map(lambda t: f"{t[0]}{t[1]}{t[2]}")


_HEADER_VALUES: dict[str, st.SearchStrategy[str]] = {
    "content-type": _header_value(
        st.sampled_from(["application/json", "application/x-amz-json-1.1"])
    ),
    "x-amz-invocation-type": _header_value(st.sampled_from(["RequestResponse", "Event", "DryRun"])),
    "x-amz-log-type": _header_value(st.sampled_from(["None", "Tail"])),
    "x-amz-client-context": _header_value(
        st.one_of(st.binary(max_size=60).map(lambda b: b.hex()), _TEXT)
    ),
    "user-agent": _TEXT,
    "x-amzn-trace-id": _TEXT,
    "x-custom-header": _header_value(st.from_regex(r"\A[ -~]{0,10}( {2,4}[ -~]{1,10})?\Z")),
}


@st.composite
def _headers(draw: st.DrawFn) -> dict[str, str]:
    """Extra headers; random name casing, so a name can occur twice (botocore joins those)."""
    headers: dict[str, str] = {}
    for name in draw(st.lists(st.sampled_from(sorted(_HEADER_VALUES)), max_size=7)):
        cased = "".join(c.upper() if draw(st.booleans()) else c for c in name)
        headers[cased] = draw(_HEADER_VALUES[name])
    return headers


@st.composite
def _request(draw: st.DrawFn) -> dict[str, Any]:
    region = draw(_REGION)
    url_prefix, host = draw(_endpoint(region))
    function = _enc(draw(_function_name()))
    method, path = draw(
        st.sampled_from(
            [
                ("GET", "/2015-03-31/functions/{fn}/aliases/{alias}"),
                ("GET", "/2015-03-31/functions/{fn}/aliases"),
                ("POST", "/2015-03-31/functions/{fn}/aliases"),
                ("PUT", "/2015-03-31/functions/{fn}/aliases/{alias}"),
                ("DELETE", "/2015-03-31/functions/{fn}/aliases/{alias}"),
                ("POST", "/2015-03-31/functions/{fn}/invocations"),
                ("GET", "/2015-03-31/functions/{fn}/versions"),
                ("GET", "/2015-03-31/functions/{fn}/configuration"),
            ]
        )
    )
    path = path.format(fn=function, alias=_enc(draw(_ALIAS)))
    body = b"" if method in ("GET", "DELETE") or draw(st.booleans()) else None
    if body is None:
        body = json.dumps(draw(_JSON), ensure_ascii=draw(st.booleans())).encode()
    token = draw(st.none() | st.just("") | st.text(string.ascii_letters + "+/=", min_size=1))
    credentials = Credentials(
        draw(st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=20)),
        draw(st.text(min_size=1, max_size=40)),
        token,
    )
    return {
        "region": region,
        "url_prefix": url_prefix,
        "host": host,
        "method": method,
        "path": path,
        "query": draw(_query()),
        "headers": draw(_headers()),
        "body": body,
        "credentials": credentials,
        "now": draw(
            st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
        ).replace(tzinfo=UTC),
    }


@settings(max_examples=300, deadline=None)
@given(_request())
def test_matches_botocore(r: dict[str, Any]) -> None:
    query = r["query"]
    url = r["url_prefix"] + r["path"] + (f"?{query}" if query else "")
    expected, expected_creq = _botocore_sign(
        method=r["method"],
        url=url,
        headers=r["headers"],
        body=r["body"],
        credentials=r["credentials"],
        region=r["region"],
        now=r["now"],
    )
    payload = hashlib.sha256(r["body"]).hexdigest()
    added = SigV4Signer(service="lambda", region=r["region"]).sign(
        method=r["method"],
        host=r["host"],
        path=r["path"],
        query=query,
        headers=r["headers"],
        payload_sha256=payload,
        credentials=r["credentials"],
        now=r["now"],
    )
    creq, _ = canonical_request(
        method=r["method"],
        host=r["host"],
        path=r["path"],
        query=query,
        headers=r["headers"],
        payload_sha256=payload,
        amz_date=added["X-Amz-Date"],
        session_token=r["credentials"].session_token,
    )
    assert creq == expected_creq
    assert added["Authorization"] == expected["Authorization"]
    assert added["X-Amz-Date"] == expected["X-Amz-Date"]
    assert added.get("X-Amz-Security-Token") == expected["X-Amz-Security-Token"]
    assert list(added) == [name for name, value in expected.items() if value is not None]


@pytest.mark.parametrize("signer_class", [SigV4Signer, RepeatedRequestSigner])
@settings(max_examples=150, deadline=None)
@given(
    _request(),
    st.lists(
        st.tuples(
            st.integers(-2_500_000, 2_500_000),  # microseconds from the first request
            st.binary(max_size=32),
            st.sampled_from([None, "Tail", "None"]),
            st.sampled_from([None, "a-token", "another token"]),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_a_reused_signer_signs_like_a_fresh_one(
    signer_class: type[SigV4Signer],
    r: dict[str, Any],
    follow_ups: list[tuple[int, bytes, str | None, str | None]],
) -> None:
    # A signer keeps the signing key it derived, and a RepeatedRequestSigner the last request
    # it signed; every signature must still be the one a fresh signer gives.
    shared = signer_class(service="lambda", region=r["region"])
    requests = [(0, r["body"], None, r["credentials"].session_token), *follow_ups]
    # One credentials object per token, as a provider hands out the same one until it refreshes.
    access, secret = r["credentials"].access_key_id, r["credentials"].secret_access_key
    credentials = {token: Credentials(access, secret, token) for *_, token in requests}
    for offset, body, log_type, token in requests:
        headers = dict(r["headers"])
        if log_type is not None:
            headers["X-Amz-Log-Type"] = log_type
        arguments: dict[str, Any] = {
            "method": r["method"],
            "host": r["host"],
            "path": r["path"],
            "query": r["query"],
            "headers": headers,
            "payload_sha256": hashlib.sha256(body).hexdigest(),
            "credentials": credentials[token],
            "now": r["now"] + timedelta(microseconds=offset),
        }
        fresh = SigV4Signer(service="lambda", region=r["region"]).sign(**arguments)
        assert shared.sign(**arguments) == fresh


# --------------------------------------------------------------------------------------------
# One signer, many requests: the signing key it keeps, the date
# --------------------------------------------------------------------------------------------

LAMBDA_HOST = "lambda.us-east-1.amazonaws.com"
ALIAS_PATH = (
    "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn"
    "/aliases/live"
)
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
NOW = datetime(2026, 5, 9, 7, 35, 25, 123456, tzinfo=UTC)


def _sign(
    signer: SigV4Signer,
    *,
    now: datetime = NOW,
    credentials: Credentials = CREDS,
    host: str = LAMBDA_HOST,
    path: str = ALIAS_PATH,
    headers: Mapping[str, str] | None = None,
    payload_sha256: str = EMPTY_SHA256,
) -> Mapping[str, str]:
    return signer.sign(
        method="GET",
        host=host,
        path=path,
        query="",
        headers=headers or {},
        payload_sha256=payload_sha256,
        credentials=credentials,
        now=now,
    )


def test_signing_key_matches_the_published_example() -> None:
    # AWS's worked example of deriving a signing key (SigV4 documentation, IAM in us-east-1).
    key = signing_key(
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        date_stamp="20120215",
        region="us-east-1",
        service="iam",
    )
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_one_signer_across_days_and_credentials_signs_like_fresh_ones() -> None:
    # The signer keeps the last signing key; a new day or a rotated secret must not reuse it.
    signer = SigV4Signer(service="lambda", region="us-east-1")
    other = Credentials("AKID2", "other-secret")
    for now, credentials in [
        (NOW, CREDS),
        (NOW + timedelta(hours=10), CREDS),
        (NOW + timedelta(days=1), CREDS),
        (NOW + timedelta(days=1), other),
        (NOW + timedelta(days=1), CREDS),
        (NOW, CREDS),
    ]:
        fresh = _sign(
            SigV4Signer(service="lambda", region="us-east-1"), now=now, credentials=credentials
        )
        assert _sign(signer, now=now, credentials=credentials) == fresh
        scope = f"/{now:%Y%m%d}/us-east-1/lambda/aws4_request,"
        assert f"Credential={credentials.access_key_id}{scope}" in fresh["Authorization"]


def test_a_repeated_request_gets_headers_of_its_own() -> None:
    signer = RepeatedRequestSigner(service="lambda", region="us-east-1")
    first = _sign(signer)
    assert isinstance(first, dict)
    first["Authorization"] = "changed by the caller"
    again = _sign(signer, now=NOW + timedelta(microseconds=1))
    assert again == _sign(SigV4Signer(service="lambda", region="us-east-1"))


def test_x_amz_date_is_right_on_both_sides_of_a_second() -> None:
    signer = SigV4Signer(service="lambda", region="us-east-1")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    dates = [
        _sign(signer, now=epoch + timedelta(microseconds=offset))["X-Amz-Date"]
        for offset in (-500_000, 500_000, -1, 0, 999_999, 1_000_000)
    ]
    assert dates == [
        "19691231T235959Z",
        "19700101T000000Z",
        "19691231T235959Z",
        "19700101T000000Z",
        "19700101T000000Z",
        "19700101T000001Z",
    ]


# --------------------------------------------------------------------------------------------
# Small unit tests
# --------------------------------------------------------------------------------------------


def test_empty_sha256() -> None:
    assert hashlib.sha256(b"").hexdigest() == EMPTY_SHA256


def test_non_default_port_is_in_canonical_request() -> None:
    creq, signed = canonical_request(
        method="GET",
        host="127.0.0.1:9001",
        path="/",
        query="",
        headers={},
        payload_sha256=EMPTY_SHA256,
        amz_date="20260509T073525Z",
    )
    assert "\nhost:127.0.0.1:9001\n" in creq
    assert signed == "host;x-amz-date"


def test_user_agent_is_not_signed() -> None:
    signer = SigV4Signer(service="lambda", region="us-east-1")
    with_ua = _sign(signer, headers={"User-Agent": "lambdaclient/0.1", "Content-Type": "a/b"})
    without_ua = _sign(signer, headers={"Content-Type": "a/b"})
    assert "SignedHeaders=content-type;host;x-amz-date," in with_ua["Authorization"]
    assert with_ua == without_ua


def test_session_token_is_signed() -> None:
    signer = SigV4Signer(service="lambda", region="us-east-1")
    one = _sign(signer, credentials=Credentials(CREDS.access_key_id, CREDS.secret_access_key, "t1"))
    two = _sign(signer, credentials=Credentials(CREDS.access_key_id, CREDS.secret_access_key, "t2"))
    assert one["X-Amz-Security-Token"] == "t1"
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in one["Authorization"]
    assert one["Authorization"] != two["Authorization"]
    assert list(one) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"]
    assert list(_sign(signer)) == ["X-Amz-Date", "Authorization"]


def test_lambda_path_is_double_encoded() -> None:
    assert canonical_path(ALIAS_PATH) == (
        "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012"
        "%253Afunction%253Amy-fn/aliases/live"
    )


@pytest.mark.parametrize(
    "path",
    ["", "/", "//", "/a//b/", "/./a/../b/.", "a/b", ".", "..", "/a/..", "/%24x/$y", "/~a b/"],
)
def test_canonical_path_matches_botocore(path: str) -> None:
    assert canonical_path(path) == quote(botocore.utils.normalize_url_path(path), safe="/~")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ""),
        ("a", "a="),
        ("a=1", "a=1"),
        ("b=2&a=1", "a=1&b=2"),
        ("a-b=1&a=2", "a=2&a-b=1"),
        ("a=2&a=1&b", "a=1&a=2&b="),
        ("x=1=2&x=1", "x=1&x=1=2"),
    ],
)
def test_canonical_query(query: str, expected: str) -> None:
    assert canonical_query(query) == expected


def test_repeated_header_names_are_joined_in_order() -> None:
    headers = CIMultiDict([("X-A", " 2 "), ("x-b", "1"), ("x-a", "1  1")])
    creq, signed = canonical_request(
        method="get",
        host="h",
        path="/",
        query="",
        headers=headers,
        payload_sha256=EMPTY_SHA256,
        amz_date="20260509T073525Z",
    )
    assert "\nx-a:2,1 1\nx-amz-date:20260509T073525Z\nx-b:1\n" in creq
    assert creq.startswith("GET\n")
    assert signed == "host;x-a;x-amz-date;x-b"


def test_now_in_another_zone_is_converted_to_utc() -> None:
    signer = SigV4Signer(service="lambda", region="us-east-1")
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    assert _sign(signer, now=plus_two) == _sign(signer)


def test_naive_now_is_rejected() -> None:
    signer = SigV4Signer(service="lambda", region="us-east-1")
    with pytest.raises(ValidationError):
        _sign(signer, now=NOW.replace(tzinfo=None))


def test_signer_exposes_scope() -> None:
    signer = SigV4Signer(service="lambda", region="eu-west-3")
    assert (signer.service, signer.region) == ("lambda", "eu-west-3")
