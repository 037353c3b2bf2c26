"""Shared fixtures: an isolated AWS environment, an AWS home of the test's own, and
aioresponses made to work with aiohttp 3.14."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientResponse
from hypothesis import settings

# Speed is proved by benchmarks, not by tests: on a busy machine running the suite in parallel
# workers, hypothesis's per-example deadline would only make tests flaky.
settings.register_profile("lambdaclient", deadline=None)
settings.load_profile("lambdaclient")

# Variables that would let a test read the developer's AWS set-up or reach a real endpoint.
_AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_LAMBDA_FUNCTION_NAME",
    "_X_AMZN_TRACE_ID",
)


@pytest.fixture(autouse=True)
def isolated_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the machine's AWS variables or files (``~`` is a temporary folder, for
    botocore's ``~/.aws`` and ``~/.boto``; ``BOTO_CONFIG`` replaces ``/etc/boto.cfg``), and none
    can reach IMDS, and no proxy of the machine's is used."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
            monkeypatch.delenv(name)  # a proxy of the machine's would see LocalLambda's traffic
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("BOTO_CONFIG", str(tmp_path / "boto.cfg"))


@pytest.fixture
def aws_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An AWS environment that only knows what the test writes into ``tmp_path``: no
    ``AWS_*`` variable, ``credentials`` and ``config`` files there (not yet written), and
    ``tmp_path`` as HOME. Returns ``tmp_path``."""
    # All of AWS_*: AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE,
    # AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI, AWS_CREDENTIAL_FILE, ...
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    # botocore also reads /etc/boto.cfg and ~/.boto, and keeps an SSO cache under ~.
    monkeypatch.setenv("BOTO_CONFIG", str(tmp_path / "boto.cfg"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


class CompatClientResponse(ClientResponse):
    """aioresponses 0.7.9 builds ``ClientResponse`` without the ``stream_writer`` argument that
    aiohttp 3.14 requires (pnuckowski/aioresponses#289, open). aiohttp 3.14.0 is a security
    release, so rather than hold it back the tests pass this class as ``response_class``; it
    supplies a writer whose request has been sent. Remove it once aioresponses is fixed."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)
