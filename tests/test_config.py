"""Settings as botocore resolves them (argument, environment, profile, default), proxies and
CA bundles, over real sockets on 127.0.0.1: LocalLambda over HTTP and HTTPS (a certificate
from trustme), a counting proxy (tests/proxy.py), and botocore as the oracle for which
hosts a proxy is bypassed for."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import ssl
import subprocess
import sys
import textwrap
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import botocore.exceptions
import botocore.session
import botocore.utils
import pytest
import trustme

from lambdaclient import (
    ConfigurationError,
    ConnectError,
    Credentials,
    LambdaClient,
    ServiceError,
    ValidationError,
)
from lambdaclient.cloudwatch import CloudWatchClient
from lambdaclient.testing import LocalLambda, MockTransport
from lambdaclient.transport import Request, Response
from tests.proxy import Proxy, running_proxy

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
PROXY_PASSWORD = "pr0xy-s3cret"
SECRET = "fil3-s3cret/K7MDENG"


async def no_sleep(seconds: float) -> None:
    pass


def greet(event: Any, context: Any) -> Any:
    return {"hello": event["name"]}


def write_profile(text: str, name: str = "default") -> str:
    """Write ``text`` as the keys of profile ``name`` in the test's config file; its path."""
    path = os.environ["AWS_CONFIG_FILE"]
    section = "default" if name == "default" else f"profile {name}"
    Path(path).write_text(f"[{section}]\n{text}\n")
    return path


def write_credentials(text: str, name: str) -> str:
    """Write ``text`` as the keys of profile ``name`` in the test's credentials file; its path."""
    path = os.environ["AWS_SHARED_CREDENTIALS_FILE"]
    Path(path).write_text(f"[{name}]\n{text}\n")
    return path


def profile_source(path: str, name: str = "default") -> str:
    return f"profile {name!r} in {path}"


# --- precedence: argument, environment, profile, default ---------------------------------


async def attempts_made(**settings: Any) -> int:
    """How many attempts a call that always gets a 500 makes."""
    sent: list[Request] = []

    def handler(request: Request) -> Response:
        sent.append(request)
        return Response(500, {"X-Amzn-ErrorType": "ServiceException"}, b'{"message": "down"}')

    async with LambdaClient(
        "us-east-1",
        credentials=CREDENTIALS,
        transport=MockTransport(handler),
        sleep=no_sleep,
        **settings,
    ) as client:
        with pytest.raises(ServiceError):
            await client.get_alias("my-fn", "live")
    return len(sent)


@pytest.mark.parametrize(
    ("argument", "variable", "key", "expected"),
    [
        (2, "4", "5", 2),
        (None, "4", "5", 4),
        (None, None, "5", 5),
        (None, None, None, 3),  # botocore's standard mode
        (None, "", "5", 5),  # an empty variable is unset
    ],
)
async def test_max_attempts_is_the_argument_then_the_environment_then_the_profile(
    monkeypatch: pytest.MonkeyPatch,
    argument: int | None,
    variable: str | None,
    key: str | None,
    expected: int,
) -> None:
    if variable is not None:
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", variable)
    if key is not None:
        write_profile(f"max_attempts = {key}")
    assert await attempts_made(max_attempts=argument) == expected


@pytest.mark.parametrize(
    ("field", "variable", "key", "host"),
    [
        (
            "use_fips",
            "AWS_USE_FIPS_ENDPOINT",
            "use_fips_endpoint",
            "lambda-fips.us-east-1.amazonaws.com",
        ),
        (
            "use_dualstack",
            "AWS_USE_DUALSTACK_ENDPOINT",
            "use_dualstack_endpoint",
            "lambda.us-east-1.api.aws",
        ),
    ],
)
@pytest.mark.parametrize(
    ("argument", "in_environment", "in_profile", "expected"),
    [
        (True, "false", "false", True),
        (False, "true", "true", False),
        (None, "TRUE", "false", True),  # case-insensitive, as botocore
        (None, "False", "true", False),
        (None, None, "True", True),
        (None, None, None, False),
    ],
)
def test_fips_and_dualstack_are_the_argument_then_the_environment_then_the_profile(
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    variable: str,
    key: str,
    host: str,
    argument: bool | None,
    in_environment: str | None,
    in_profile: str | None,
    expected: bool,
) -> None:
    if in_environment is not None:
        monkeypatch.setenv(variable, in_environment)
    if in_profile is not None:
        write_profile(f"{key} = {in_profile}")
    flag: dict[str, Any] = {field: argument}
    client = LambdaClient("us-east-1", credentials=CREDENTIALS, **flag)
    assert (client.endpoint_url == f"https://{host}") is expected


@pytest.mark.parametrize("value", ["true", "yes"])
def test_a_flag_from_the_environment_or_profile_gives_way_to_an_endpoint_url_as_in_botocore(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Not even read: a value that would be refused without the endpoint URL is ignored.
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", value)
    write_profile(f"use_dualstack_endpoint = {value}")
    client = LambdaClient("us-east-1", credentials=CREDENTIALS, endpoint_url="http://127.0.0.1:9")
    assert client.endpoint_url == "http://127.0.0.1:9"
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:8")
    assert LambdaClient("us-east-1", credentials=CREDENTIALS).endpoint_url == "http://127.0.0.1:8"
    # Passed as an argument, the two contradict each other: refused.
    with pytest.raises(ValidationError) as raised:
        LambdaClient(
            "us-east-1", credentials=CREDENTIALS, endpoint_url="http://127.0.0.1:9", use_fips=True
        )
    assert raised.value.field == "endpoint_url"


def test_the_profile_is_the_one_named_by_the_argument_or_aws_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_profile("use_dualstack_endpoint = true", name="dev")
    assert "api.aws" not in LambdaClient("us-east-1", credentials=CREDENTIALS).endpoint_url
    assert "api.aws" in LambdaClient("us-east-1", profile="dev").endpoint_url
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert "api.aws" in LambdaClient("us-east-1", credentials=CREDENTIALS).endpoint_url


# (config file, credentials file): where profile "dev" sets its region, or seems to.
SHARED_FILES = [
    ("[profile dev]\nregion = eu-west-1", ""),
    ("[profile dev]\nregion = eu-west-1", "[dev]\nregion = eu-west-2"),  # the credentials'
    ("", "[dev]\nregion = eu-west-2"),
    ("[dev]\nregion = eu-west-1", ""),  # not a profile in the config file
    ("", "[profile dev]\nregion = eu-west-2"),  # nor this, in the credentials file
    ('[profile "dev"]\nregion = eu-west-1', ""),
    ("[profile dev]\nregion = eu-west-1\n[profile dev ]\nregion = eu-west-3", ""),
    ("[DEFAULT]\nregion = eu-north-1\n[profile dev]\noutput = json", ""),
    ("[profile dev]\nregion = eu-west-1", "[DEFAULT]\nregion = eu-north-1\n[dev]\n"),
]


@pytest.mark.parametrize(("config", "credentials"), SHARED_FILES)
def test_the_profile_is_read_from_the_shared_files_as_botocore_reads_it(
    config: str, credentials: str
) -> None:
    Path(os.environ["AWS_CONFIG_FILE"]).write_text(f"{config}\n")
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(f"{credentials}\n")
    try:
        expected = botocore.session.Session(profile="dev").get_config_variable("region")
    except botocore.exceptions.ProfileNotFound:
        expected = None
    if expected is None:
        with pytest.raises(ValidationError) as raised:
            LambdaClient(credentials=CREDENTIALS, profile="dev")
        assert raised.value.field == "region"
    else:
        assert LambdaClient(credentials=CREDENTIALS, profile="dev").region == expected


def test_settings_from_the_shared_files_do_not_import_botocore(tmp_path: Path) -> None:
    # botocore takes a quarter of a second to import: a client with its credentials in the
    # environment does without it, whatever the shared files hold.
    code = textwrap.dedent(
        """\
        import sys
        from lambdaclient import LambdaClient

        client = LambdaClient()
        assert client.region == "eu-west-1", client.region
        LambdaClient("us-east-1", endpoint_url="http://127.0.0.1:9")
        try:
            LambdaClient("us-east-1", profile="broken")
        except ValueError as error:
            assert "max_attempts" in str(error), error
        else:
            raise AssertionError("max_attempts = 0 was taken")
        assert "botocore" not in sys.modules, "botocore was imported"
        print("ok")
        """
    )
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\nretry_mode = standard\n")
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[broken]\naws_secret_access_key = {SECRET}\nmax_attempts = 0\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env |= {
        "AWS_ACCESS_KEY_ID": "AKIDSUB",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.pop("REQUESTS_CA_BUNDLE", None)
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=env,
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize(
    "text", ["[default\nregion = eu-west-1", "[default]\nregion = eu-west-1\n[default]"]
)
@pytest.mark.parametrize("variable", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"])
def test_a_shared_file_that_cannot_be_parsed_is_refused(variable: str, text: str) -> None:
    Path(os.environ[variable]).write_text(f"{text}\n")
    with pytest.raises(ConfigurationError) as raised:
        LambdaClient(credentials=CREDENTIALS)
    assert raised.value.field == "profile"
    assert os.environ[variable] in str(raised.value)
    with pytest.raises(botocore.exceptions.ConfigParseError):  # as botocore refuses it
        botocore.session.Session().get_config_variable("region")


def test_the_cloudwatch_client_resolves_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    client = CloudWatchClient("us-east-1", credentials=CREDENTIALS)
    assert client.endpoint_url == "https://monitoring-fips.us-east-1.amazonaws.com"
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "none")
    with pytest.raises(ConfigurationError) as raised:
        CloudWatchClient("us-east-1", credentials=CREDENTIALS)
    assert raised.value.source == "environment variable AWS_MAX_ATTEMPTS"


def test_retry_mode_is_the_argument_then_the_environment_then_the_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each refused value is shadowed by an accepted one before it, so nothing is refused.
    path = write_profile("retry_mode = adaptive")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    LambdaClient("us-east-1", credentials=CREDENTIALS)
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    LambdaClient("us-east-1", credentials=CREDENTIALS, retry_mode="standard")
    with pytest.raises(ConfigurationError) as raised:
        LambdaClient("us-east-1", credentials=CREDENTIALS)
    assert raised.value.source == "environment variable AWS_RETRY_MODE"
    monkeypatch.delenv("AWS_RETRY_MODE")
    with pytest.raises(ConfigurationError) as raised:
        LambdaClient("us-east-1", credentials=CREDENTIALS)
    assert raised.value.source == profile_source(path)


async def test_retry_mode_legacy_retries_as_standard() -> None:
    assert await attempts_made(retry_mode="legacy") == 3
    assert await attempts_made(retry_mode="standard", max_attempts=2) == 2


def test_retry_mode_legacy_is_noted_once_per_process() -> None:
    code = (
        "import logging\n"
        "from lambdaclient import Credentials, LambdaClient\n"
        "logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')\n"
        "for _ in range(3):\n"
        "    LambdaClient('us-east-1', credentials=Credentials('AKID', 'secret'))\n"
    )
    env = {**os.environ, "AWS_RETRY_MODE": "legacy"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    notes = [line for line in result.stderr.splitlines() if "legacy" in line]
    assert len(notes) == 1
    assert notes[0].startswith("INFO ")
    assert "environment variable AWS_RETRY_MODE" in notes[0]
    assert "'standard'" in notes[0]


BOTH = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"}


@pytest.mark.parametrize(
    ("region", "environ", "in_profile", "expected"),
    [
        ("us-east-1", BOTH, "ap-south-1", "us-east-1"),
        (None, BOTH, "ap-south-1", "eu-west-1"),  # AWS_REGION, as most SDKs (not botocore)
        (None, {"AWS_DEFAULT_REGION": "eu-west-2"}, "ap-south-1", "eu-west-2"),
        (None, {"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-2"}, None, "eu-west-2"),
        (None, {}, "ap-south-1", "ap-south-1"),
    ],
)
def test_the_region_is_the_argument_then_the_environment_then_the_profile(
    monkeypatch: pytest.MonkeyPatch,
    region: str | None,
    environ: dict[str, str],
    in_profile: str | None,
    expected: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    if in_profile is not None:
        write_profile(f"region = {in_profile}")
    assert LambdaClient(region, credentials=CREDENTIALS).region == expected


def test_no_region_anywhere_is_an_error() -> None:
    with pytest.raises(ValidationError) as raised:
        LambdaClient(credentials=CREDENTIALS)
    assert raised.value.field == "region"
    assert "AWS_REGION" in str(raised.value)


# --- bad values: a typed error naming the setting and its source, and nothing sent --------


@pytest.fixture
async def counting_endpoint() -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server that counts the connections made to it: the endpoint of clients that must
    send nothing."""
    connections: list[int] = []

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    server = await asyncio.start_server(count, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", connections


BAD_VALUES = [
    # (where, setting, value, field, a phrase of the message)
    ("argument", "max_attempts", 0, "max_attempts", "at least 1"),
    ("AWS_MAX_ATTEMPTS", None, "three", "max_attempts", "at least 1"),
    ("profile", "max_attempts", "0", "max_attempts", "at least 1"),
    ("credentials file", "max_attempts", "0", "max_attempts", "at least 1"),
    ("argument", "retry_mode", "adaptive", "retry_mode", "not supported"),
    ("AWS_RETRY_MODE", None, "adaptive", "retry_mode", "use retry_mode 'standard'"),
    ("profile", "retry_mode", "adaptive", "retry_mode", "client-side rate limiting"),
    ("AWS_RETRY_MODE", None, "Standard", "retry_mode", "'standard'"),  # botocore's spelling
    ("argument", "use_fips", "true", "use_fips", "True, False or None"),
    ("AWS_USE_FIPS_ENDPOINT", None, "yes", "use_fips", '"true" or "false"'),
    ("profile", "use_fips_endpoint", "1", "use_fips", '"true" or "false"'),
    ("AWS_USE_DUALSTACK_ENDPOINT", None, "on", "use_dualstack", '"true" or "false"'),
    ("profile", "use_dualstack_endpoint", "enabled", "use_dualstack", '"true" or "false"'),
    ("argument", "ca_bundle", "/no/such/bundle.pem", "ca_bundle", "does not exist"),
    ("AWS_CA_BUNDLE", None, "/no/such/bundle.pem", "ca_bundle", "does not exist"),
    ("profile", "ca_bundle", "/no/such/bundle.pem", "ca_bundle", "does not exist"),
    ("REQUESTS_CA_BUNDLE", None, "/no/such/bundle.pem", "ca_bundle", "does not exist"),
    ("argument", "proxy", "ftp://proxy.example", "proxy", "http:// or https://"),
    ("argument", "proxy", "", "proxy", "False for no proxy"),
    ("HTTP_PROXY", None, f"http://me:{PROXY_PASSWORD}@127.0.0.1:port", "proxy", "not valid"),
    ("argument", "proxy", f"http://me:{PROXY_PASSWORD}/x@127.0.0.1:3128", "proxy", "not valid"),
    ("http_proxy", None, f"me:{PROXY_PASSWORD}@127.0.0.1:3128/path", "proxy", "not valid"),
    ("AWS_REGION", None, "eu west 1", "region", "not a region name"),
    ("AWS_DEFAULT_REGION", None, "evil.com/", "region", "not a region name"),
    ("argument", "region", "Us-East-1", "region", "not a region name"),
    ("profile", "region", "eu/west/1", "region", "not a region name"),
]


@pytest.mark.parametrize(("where", "setting", "value", "field", "phrase"), BAD_VALUES)
async def test_a_bad_value_names_its_setting_and_source_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch,
    counting_endpoint: tuple[str, list[int]],
    where: str,
    setting: str | None,
    value: Any,
    field: str,
    phrase: str,
) -> None:
    endpoint_url, connections = counting_endpoint
    arguments: dict[str, Any] = {"credentials": CREDENTIALS, "endpoint_url": endpoint_url}
    if field != "region":
        arguments["region"] = "us-east-1"
    if where == "argument":
        assert setting is not None
        arguments[setting] = value
        source = f"argument {setting}"
    elif where == "profile":
        source = profile_source(write_profile(f"{setting} = {value}", name="dev"), "dev")
        arguments["profile"] = "dev"
    elif where == "credentials file":
        # Read from there as botocore reads it, and named; the secret beside it is not shown.
        path = write_credentials(f"aws_secret_access_key = {SECRET}\n{setting} = {value}", "dev")
        source = profile_source(path, "dev")
        arguments["profile"] = "dev"
    else:
        monkeypatch.setenv(where, value)
        source = f"environment variable {where}"
    if field in ("use_fips", "use_dualstack") and where != "argument":
        del arguments["endpoint_url"]  # which would drop these flags unread, as botocore does
    with pytest.raises(ConfigurationError) as raised:
        LambdaClient(**arguments)
    error = raised.value
    assert isinstance(error, ValidationError)
    assert (error.field, error.source) == (field, source)
    assert source in str(error)
    assert phrase in str(error)
    assert PROXY_PASSWORD not in str(error)
    assert SECRET not in "".join(traceback.format_exception(error))
    await asyncio.sleep(0.05)  # a connection, had one been made, would be counted by now
    assert connections == []


@pytest.mark.parametrize(
    "refused",
    [
        {"on_attempt": 5},
        {"tracer_provider": object()},
        {"connect_timeout": 0},
        {"max_attempts": 0},
        {"ca_bundle": "x.pem"},
    ],
)
async def test_a_refused_client_leaves_the_callers_session_as_it_was(
    counting_endpoint: tuple[str, list[int]], refused: dict[str, Any]
) -> None:
    endpoint_url, connections = counting_endpoint
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValidationError):
            LambdaClient(
                "us-east-1",
                credentials=CREDENTIALS,
                endpoint_url=endpoint_url,
                session=session,
                **refused,
            )
        # aiohttp resends a GET once when the connection drops: a client built on the session
        # turns that off, a refused one must not have.
        with pytest.raises(aiohttp.ClientError):
            await session.get(endpoint_url)
    assert len(connections) == 2


def test_an_empty_ca_bundle_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    with pytest.raises(ConfigurationError) as raised:
        LambdaClient("us-east-1", credentials=CREDENTIALS, ca_bundle=empty)
    assert raised.value.source == "argument ca_bundle"
    assert "PEM" in str(raised.value)


@pytest.mark.parametrize("weakened", ["verify_mode", "check_hostname"])
def test_a_ca_bundle_context_that_does_not_verify_is_refused(weakened: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifying, with no trust store read
    context.check_hostname = False
    if weakened == "verify_mode":
        context.verify_mode = ssl.CERT_NONE
    with pytest.raises(ConfigurationError) as raised:
        LambdaClient("us-east-1", credentials=CREDENTIALS, ca_bundle=context)
    assert raised.value.source == "argument ca_bundle"
    assert "never turns TLS verification off" in str(raised.value)


def test_proxy_and_ca_bundle_belong_to_the_clients_own_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    transport = MockTransport(lambda request: Response(204))
    settings: list[tuple[str, Any]] = [("proxy", "http://127.0.0.1:3128"), ("ca_bundle", "x.pem")]
    for setting, value in settings:
        with pytest.raises(ConfigurationError) as raised:
            LambdaClient(
                "us-east-1", credentials=CREDENTIALS, transport=transport, **{setting: value}
            )
        assert raised.value.field == setting
        assert "transport" in str(raised.value)
    # The environment's are for the client's own session: a caller's transport is left alone.
    monkeypatch.setenv("AWS_CA_BUNDLE", "/no/such/bundle.pem")
    monkeypatch.setenv("HTTPS_PROXY", "not a url at all")
    LambdaClient("us-east-1", credentials=CREDENTIALS, transport=transport)


# --- proxies, over real sockets -------------------------------------------------------------


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    async with running_proxy() as running:
        yield running


@pytest.fixture
async def local_lambda() -> AsyncIterator[LocalLambda]:
    async with LocalLambda(credentials=CREDENTIALS) as lam:
        lam.add_function("greet", greet)
        yield lam


async def greeting(endpoint_url: str, **settings: Any) -> Any:
    async with LambdaClient(
        "us-east-1", credentials=CREDENTIALS, endpoint_url=endpoint_url, **settings
    ) as client:
        result = await client.invoke("greet", payload={"name": "ada"})
    return result.json()


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
async def test_http_proxy_from_the_environment_carries_the_requests(
    monkeypatch: pytest.MonkeyPatch, proxy: Proxy, local_lambda: LocalLambda, variable: str
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    # botocore sends requests for 127.0.0.1 through the proxy too: it makes no exception for
    # loopback addresses (urllib's rules on Linux), only for NO_PROXY.
    assert botocore.utils.get_environ_proxies(local_lambda.endpoint_url).get("http") == proxy.url
    assert await greeting(local_lambda.endpoint_url) == {"hello": "ada"}
    assert [(f.method, f.target) for f in proxy.forwarded] == [
        ("POST", f"127.0.0.1:{local_lambda.port}")
    ]


@pytest.mark.parametrize(
    ("no_proxy", "host", "bypassed"),
    [
        ("127.0.0.1", "127.0.0.1", True),
        ("example.com, 127.0.0.1", "127.0.0.1", True),
        ("*", "127.0.0.1", True),
        ("localhost", "localhost", True),
        (".localhost", "localhost", True),
        ("localhost", "127.0.0.1", False),  # names are not resolved
        ("127.0.0.0/8", "127.0.0.1", False),  # no CIDR ranges in urllib's rules
        ("example.com", "127.0.0.1", False),
    ],
)
async def test_no_proxy_bypasses_the_proxy_for_the_hosts_botocore_bypasses(
    monkeypatch: pytest.MonkeyPatch,
    proxy: Proxy,
    local_lambda: LocalLambda,
    no_proxy: str,
    host: str,
    bypassed: bool,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    endpoint_url = f"http://{host}:{local_lambda.port}"
    assert botocore.utils.should_bypass_proxies(endpoint_url) is bypassed  # the oracle
    assert await greeting(endpoint_url) == {"hello": "ada"}
    assert len(proxy.forwarded) == (0 if bypassed else 1)


async def test_the_proxy_argument_wins_and_its_password_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    proxy: Proxy,
    local_lambda: LocalLambda,
) -> None:
    # As botocore's proxies= setting, an explicit proxy replaces the environment's rules.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "*")
    with_password = proxy.url.replace("http://", f"http://me:{PROXY_PASSWORD}@")
    caplog.set_level(logging.DEBUG, logger="lambdaclient")
    client = LambdaClient(
        "us-east-1",
        credentials=CREDENTIALS,
        endpoint_url=local_lambda.endpoint_url,
        proxy=with_password,
    )
    async with client:
        await client.invoke("greet", payload={"name": "ada"})
    expected = base64.b64encode(f"me:{PROXY_PASSWORD}".encode()).decode()
    assert [f.authorization for f in proxy.forwarded] == [f"Basic {expected}"]
    assert "through the proxy http://***@127.0.0.1" in caplog.text
    assert PROXY_PASSWORD not in caplog.text
    assert PROXY_PASSWORD not in repr(client)


async def test_proxy_false_turns_the_environments_proxy_off(
    monkeypatch: pytest.MonkeyPatch, proxy: Proxy, local_lambda: LocalLambda
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert await greeting(local_lambda.endpoint_url, proxy=False) == {"hello": "ada"}
    assert proxy.forwarded == []


async def test_a_proxy_that_refuses_or_is_down_is_a_connect_error_without_its_password(
    proxy: Proxy, local_lambda: LocalLambda, tls: Tls
) -> None:
    async with LocalLambda(credentials=CREDENTIALS, ssl=tls.server) as secure:
        proxy.refuse = 407
        with_password = proxy.url.replace("http://", f"http://me:{PROXY_PASSWORD}@")
        with pytest.raises(ConnectError) as refused:
            await greeting(
                secure.endpoint_url, proxy=with_password, ca_bundle=tls.bundle, max_attempts=1
            )
    assert "407" in str(refused.value)
    assert PROXY_PASSWORD not in "".join(traceback.format_exception(refused.value))
    down = f"http://me:{PROXY_PASSWORD}@127.0.0.1:{free_port()}"
    with pytest.raises(ConnectError) as unreachable:
        await greeting(local_lambda.endpoint_url, proxy=down, max_attempts=1)
    assert "proxy" in str(unreachable.value)
    assert PROXY_PASSWORD not in "".join(traceback.format_exception(unreachable.value))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- HTTPS and CA bundles -------------------------------------------------------------------


class Tls:
    """A certificate authority of the test's own, a server context with a certificate it
    signed for 127.0.0.1 and localhost, and the authority's PEM bundle on disk."""

    def __init__(self, directory: Path) -> None:
        self.authority = trustme.CA()
        self.server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.authority.issue_cert("127.0.0.1", "localhost").configure_cert(self.server)
        self.bundle = directory / "ca.pem"
        self.authority.cert_pem.write_to_path(str(self.bundle))


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return Tls(tmp_path)


@pytest.fixture
async def secure_lambda(tls: Tls) -> AsyncIterator[LocalLambda]:
    async with LocalLambda(credentials=CREDENTIALS, ssl=tls.server) as lam:
        lam.add_function("greet", greet)
        yield lam


@pytest.mark.parametrize(
    "trusted_by",
    ["AWS_CA_BUNDLE", "profile", "argument", "path argument", "context", "REQUESTS_CA_BUNDLE"],
)
async def test_an_https_local_lambda_is_trusted_through_its_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, tls: Tls, secure_lambda: LocalLambda, trusted_by: str
) -> None:
    settings: dict[str, Any] = {}
    if trusted_by in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.setenv(trusted_by, str(tls.bundle))
    elif trusted_by == "profile":
        write_profile(f"ca_bundle = {tls.bundle}")
    elif trusted_by == "argument":
        settings["ca_bundle"] = str(tls.bundle)
    elif trusted_by == "path argument":
        settings["ca_bundle"] = tls.bundle
    else:
        # It verifies certificates and host names, trusting the test's authority alone.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.authority.configure_trust(context)
        settings["ca_bundle"] = context
    assert secure_lambda.endpoint_url.startswith("https://")
    assert await greeting(secure_lambda.endpoint_url, **settings) == {"hello": "ada"}


async def test_an_untrusted_certificate_is_refused_at_once(
    secure_lambda: LocalLambda,
) -> None:
    with pytest.raises(ConnectError) as raised:
        async with asyncio.timeout(30):  # a refusal, not a hang
            await greeting(secure_lambda.endpoint_url, max_attempts=1)
    assert "certificate" in str(raised.value)
    assert "ca_bundle" in str(raised.value)


async def test_the_ca_bundle_argument_beats_the_environment_which_beats_the_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tls: Tls, secure_lambda: LocalLambda
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    # The profile's bundle does not exist: had it been read, the client would refuse it.
    write_profile("ca_bundle = /no/such/bundle.pem")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls.bundle))
    assert await greeting(secure_lambda.endpoint_url) == {"hello": "ada"}
    monkeypatch.setenv("AWS_CA_BUNDLE", str(other))
    assert await greeting(secure_lambda.endpoint_url, ca_bundle=tls.bundle) == {"hello": "ada"}
    with pytest.raises(ConnectError):
        await greeting(secure_lambda.endpoint_url, max_attempts=1)


async def test_a_replaced_ca_bundle_is_read_again(
    tmp_path: Path, tls: Tls, secure_lambda: LocalLambda
) -> None:
    # Clients share the context made from a bundle; one made after the file is replaced
    # (as a package manager replaces it) trusts what the file holds then.
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    trusted = tmp_path / "trusted.pem"
    trusted.write_bytes(tls.bundle.read_bytes())
    assert await greeting(secure_lambda.endpoint_url, ca_bundle=tls.bundle) == {"hello": "ada"}
    os.replace(other, tls.bundle)
    with pytest.raises(ConnectError):
        await greeting(secure_lambda.endpoint_url, ca_bundle=tls.bundle, max_attempts=1)
    os.replace(trusted, tls.bundle)
    assert await greeting(secure_lambda.endpoint_url, ca_bundle=tls.bundle) == {"hello": "ada"}


async def test_https_goes_through_the_proxy_in_a_connect_tunnel(
    monkeypatch: pytest.MonkeyPatch, proxy: Proxy, tls: Tls, secure_lambda: LocalLambda
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # for http:// endpoints only
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    assert await greeting(secure_lambda.endpoint_url, ca_bundle=tls.bundle) == {"hello": "ada"}
    assert [(f.method, f.target) for f in proxy.forwarded] == [
        ("CONNECT", f"127.0.0.1:{secure_lambda.port}")
    ]
