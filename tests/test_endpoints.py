"""Tests for lambdaclient._endpoints: where a client sends its requests.

botocore is the oracle for the regional endpoints. It is asked through its endpoint rule-set
engine (``EndpointProvider`` over Lambda's ``endpoint-rule-set-1`` and ``partitions.json``),
which is what picks the URL of every request botocore sends. ``client.meta.endpoint_url`` is
not used as the oracle: it comes from the legacy ``endpoints.json`` data, and for aws-iso and
aws-iso-b with dual-stack it names ``...api.aws`` while botocore actually sends the request to
``...api.aws.ic.gov`` / ``...api.aws.scloud``, as the rule set says. For the same reason
botocore's ``create_client`` refuses FIPS + dual-stack in aws-iso-e and aws-iso-f
(``EndpointVariantError``) where the rule set, and so this library, gives a URL.

The environment is always passed as a dict; ``os.environ`` is never read or changed.
"""

from __future__ import annotations

import re
from typing import Any

import botocore.config
import botocore.session
import pytest
from botocore.endpoint_provider import EndpointProvider
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lambdaclient._endpoints import Endpoint, resolve_endpoint
from lambdaclient._errors import ValidationError

_SESSION = botocore.session.get_session()
_LOADER = _SESSION.get_component("data_loader")
_PARTITIONS: dict[str, Any] = _LOADER.load_data("partitions")
_PROVIDER = EndpointProvider(
    _LOADER.load_service_model("lambda", "endpoint-rule-set-1"), _PARTITIONS
)

FLAGS = [(False, False), (True, False), (False, True), (True, True)]

# Every region botocore lists, except the "*-global" pseudo-regions: they are not Lambda
# regions (no lambda.aws-cn-global... host exists), and botocore files them under a partition
# by name where we go by the partitions' region patterns.
KNOWN_REGIONS = sorted(
    region
    for partition in _PARTITIONS["partitions"]
    for region in partition["regions"]
    if not region.endswith("-global")
)
# Regions botocore does not list yet, placed by its partition patterns.
FUTURE_REGIONS = ["ap-future-9", "cn-west-7", "us-gov-north-2", "us-isof-west-3", "eusc-de-west-2"]
DNS_SUFFIXES = {
    partition["outputs"][key]
    for partition in _PARTITIONS["partitions"]
    for key in ("dnsSuffix", "dualStackDnsSuffix")
}


def botocore_url(region: str, use_fips: bool, use_dualstack: bool) -> str:
    url: str = _PROVIDER.resolve_endpoint(
        Region=region, UseFIPS=use_fips, UseDualStack=use_dualstack
    ).url
    return url


def _regional(region: str, use_fips: bool = False, use_dualstack: bool = False) -> Endpoint:
    return resolve_endpoint(region, use_fips=use_fips, use_dualstack=use_dualstack, environ={})


def _outcome(region: str, use_fips: bool, use_dualstack: bool) -> Endpoint | ValidationError:
    try:
        return _regional(region, use_fips, use_dualstack)
    except ValidationError as exc:
        return exc


# --------------------------------------------------------------------------------------------
# Regional endpoints
# --------------------------------------------------------------------------------------------


def test_the_region_table_covers_every_partition() -> None:
    covered = {p["id"] for p in _PARTITIONS["partitions"] if set(p["regions"]) & {*KNOWN_REGIONS}}
    assert covered >= {
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-iso",
        "aws-iso-b",
        "aws-iso-e",
        "aws-iso-f",
        "aws-eusc",
    }


@pytest.mark.parametrize(("use_fips", "use_dualstack"), FLAGS)
@pytest.mark.parametrize("region", KNOWN_REGIONS + FUTURE_REGIONS)
def test_regional_endpoint_matches_botocore(
    region: str, use_fips: bool, use_dualstack: bool
) -> None:
    endpoint = _regional(region, use_fips, use_dualstack)
    assert endpoint.url == botocore_url(region, use_fips, use_dualstack)
    assert endpoint.url == f"https://{endpoint.host}"
    assert endpoint.path == ""
    assert endpoint.signing_region == region


@pytest.mark.parametrize(
    ("region", "use_fips", "use_dualstack", "url"),
    [
        ("eu-west-1", False, False, "https://lambda.eu-west-1.amazonaws.com"),
        ("us-gov-west-1", True, False, "https://lambda-fips.us-gov-west-1.amazonaws.com"),
        ("cn-north-1", False, True, "https://lambda.cn-north-1.api.amazonwebservices.com.cn"),
        ("us-iso-east-1", False, True, "https://lambda.us-iso-east-1.api.aws.ic.gov"),
        (
            "eusc-de-east-1",
            True,
            True,
            "https://lambda-fips.eusc-de-east-1.api.amazonwebservices.eu",
        ),
    ],
)
def test_regional_endpoint_examples(
    region: str, use_fips: bool, use_dualstack: bool, url: str
) -> None:
    # A few spelled out, so a change in botocore's data cannot silently move both sides.
    assert _regional(region, use_fips, use_dualstack).url == url


@pytest.mark.parametrize("pseudo", ["fips-us-east-1", "us-gov-west-1-fips", "fips-eu-west-1"])
@pytest.mark.parametrize("use_dualstack", [False, True])
def test_fips_pseudo_region_matches_botocore_client(pseudo: str, use_dualstack: bool) -> None:
    # The client (not the rule set) turns a FIPS pseudo-region into FIPS in the real region.
    client = _SESSION.create_client(
        "lambda",
        region_name=pseudo,
        config=botocore.config.Config(use_dualstack_endpoint=use_dualstack),
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    expected: str = client.meta.endpoint_url
    endpoint = _regional(pseudo, use_dualstack=use_dualstack)
    assert endpoint.url == expected
    assert endpoint.signing_region == client.meta.region_name
    assert "fips" not in endpoint.signing_region


_REGIONISH = st.sampled_from(["us", "eu", "ap", "cn", "eusc-de", "us-gov", "us-iso", "us-isob"])
# Regions as they look, and region-like text with the characters that could move a request.
_REGIONS = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True) | (
    _REGIONISH.flatmap(lambda p: st.from_regex(p + r"-[a-z]{1,9}-[0-9]{1,2}", fullmatch=True))
)
_HOSTILE = st.from_regex(r"[a-z0-9]{1,8}([-./@: ?#A-Z][a-z0-9]{1,8}){0,3}", fullmatch=True)


@settings(deadline=None)  # the first botocore rule-set evaluations are slow, and not the point
@given(st.text() | _REGIONS | _HOSTILE, st.booleans(), st.booleans())
def test_no_region_can_redirect_the_request(
    region: str, use_fips: bool, use_dualstack: bool
) -> None:
    endpoint = _outcome(region, use_fips, use_dualstack)
    if isinstance(endpoint, ValidationError):
        assert endpoint.field == "region"
        return
    host = endpoint.host
    assert not re.search(r"[/@:?#\s]", host)
    # The region fills exactly one DNS label, between "lambda[-fips]" and a partition suffix.
    service, region_label, *suffix = host.split(".")
    assert service in ("lambda", "lambda-fips")
    assert region_label == endpoint.signing_region
    assert region_label in region
    assert ".".join(suffix) in DNS_SUFFIXES
    # botocore turns "fips" anywhere in a region into the FIPS flag; compare only plain ones.
    assume("fips" not in region)
    assert endpoint.url == botocore_url(region, use_fips, use_dualstack)


@pytest.mark.parametrize(
    "region",
    [
        "",
        "US-EAST-1",
        "us-east-1/",
        "evil.com",
        "evil.com/x",
        "us-east-1.evil.com",
        "us-east-1.amazonaws.com.evil",
        "user@evil.com",
        "evil.com:443",
        "localhost:8080",
        "us east 1",
        "us-east-1\n",
        "-us-east-1",
        "us--east-1",
        "a" * 64,
    ],
)
def test_bad_region_is_rejected(region: str) -> None:
    with pytest.raises(ValidationError) as info:
        _regional(region)
    assert info.value.field == "region"


# --------------------------------------------------------------------------------------------
# Configured endpoint URLs
# --------------------------------------------------------------------------------------------

ENV_ALL = {
    "AWS_ENDPOINT_URL_LAMBDA": "http://lambda-only:1",
    "AWS_ENDPOINT_URL": "http://every-service:2",
}


REGIONAL = "https://lambda.us-west-2.amazonaws.com"
IGNORE = {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}


@pytest.mark.parametrize(
    ("endpoint_url", "environ", "url"),
    [
        ("http://argument:3", ENV_ALL, "http://argument:3"),
        (None, ENV_ALL, "http://lambda-only:1"),
        (None, {"AWS_ENDPOINT_URL": "http://every-service:2"}, "http://every-service:2"),
        (None, {}, REGIONAL),
        (None, {**ENV_ALL, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"}, "http://lambda-only:1"),
        (None, {**ENV_ALL, **IGNORE}, REGIONAL),
        (None, {**ENV_ALL, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "True"}, REGIONAL),
        # The switch ignores configuration, not what the caller passes in.
        ("http://argument:3", {**ENV_ALL, **IGNORE}, "http://argument:3"),
    ],
)
def test_endpoint_url_precedence(
    endpoint_url: str | None, environ: dict[str, str], url: str
) -> None:
    endpoint = resolve_endpoint("us-west-2", endpoint_url=endpoint_url, environ=environ)
    assert endpoint.url == url
    assert endpoint.signing_region == "us-west-2"


@pytest.mark.parametrize(
    ("endpoint_url", "environ"),
    [
        ("http://localhost:4566", {}),
        (None, {"AWS_ENDPOINT_URL_LAMBDA": "http://localhost:4566"}),
        (None, {"AWS_ENDPOINT_URL": "http://localhost:4566"}),
    ],
)
@pytest.mark.parametrize(("use_fips", "use_dualstack"), FLAGS[1:])
def test_custom_endpoint_with_fips_or_dualstack_is_rejected(
    endpoint_url: str | None, environ: dict[str, str], use_fips: bool, use_dualstack: bool
) -> None:
    # The rule set calls this an invalid configuration; silently dropping FIPS would send
    # traffic a caller required to be FIPS to a non-FIPS endpoint.
    with pytest.raises(ValidationError) as info:
        resolve_endpoint(
            "us-east-1",
            endpoint_url=endpoint_url,
            use_fips=use_fips,
            use_dualstack=use_dualstack,
            environ=environ,
        )
    assert info.value.field == "endpoint_url"


def test_custom_endpoint_still_needs_a_valid_region() -> None:
    with pytest.raises(ValidationError) as info:
        resolve_endpoint("evil.com/", endpoint_url="http://localhost:4566", environ={})
    assert info.value.field == "region"


@pytest.mark.parametrize(
    ("endpoint_url", "url", "host", "path"),
    [
        ("http://LocalHost:4566", "http://localhost:4566", "localhost:4566", ""),
        ("https://Example.COM:443/", "https://example.com", "example.com", ""),
        ("http://example.com:80", "http://example.com", "example.com", ""),
        ("https://example.com:80", "https://example.com:80", "example.com:80", ""),
        ("http://example.com:443", "http://example.com:443", "example.com:443", ""),
        ("https://example.com/", "https://example.com", "example.com", ""),
        ("https://example.com/prefix/", "https://example.com/prefix", "example.com", "/prefix"),
        ("https://example.com/a/b", "https://example.com/a/b", "example.com", "/a/b"),
        ("http://[::1]:8080/", "http://[::1]:8080", "[::1]:8080", ""),
        ("https://[2001:DB8::1]", "https://[2001:db8::1]", "[2001:db8::1]", ""),
        (
            "http://127.0.0.1:9001/lambda",
            "http://127.0.0.1:9001/lambda",
            "127.0.0.1:9001",
            "/lambda",
        ),
    ],
)
def test_endpoint_url_normalised(endpoint_url: str, url: str, host: str, path: str) -> None:
    endpoint = resolve_endpoint("us-east-1", endpoint_url=endpoint_url, environ={})
    assert endpoint == Endpoint(url, host, path, "us-east-1")


@pytest.mark.parametrize(
    "endpoint_url",
    [
        "ftp://example.com",
        "example.com",
        "localhost:4566",
        "http://",
        "http:///path",
        "https://example.com/?x=1",
        "https://example.com/#frag",
        "https://user:pass@example.com",
        "https://user@example.com",
        "https://example.com:99999",
        "https://example.com:port",
    ],
)
def test_bad_endpoint_url_is_rejected(endpoint_url: str) -> None:
    with pytest.raises(ValidationError) as info:
        resolve_endpoint("us-east-1", endpoint_url=endpoint_url, environ={})
    assert info.value.field == "endpoint_url"


def test_bad_endpoint_url_from_environment_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        resolve_endpoint("us-east-1", environ={"AWS_ENDPOINT_URL": "http://u:p@example.com"})
    assert info.value.field == "endpoint_url"
