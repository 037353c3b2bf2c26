"""Secrets and safety.

- Secret keys, session tokens, signatures (the secret part of the Authorization header) and
  payload bytes never appear in ``repr()``, ``str()``, exception messages or log records: a
  scenario of successes, retries, a 403, a 429, a function error, credentials failures,
  validation errors and transport errors runs against LocalLambda with every logger
  captured at DEBUG, and everything it produced is searched for them.
- TLS verification cannot be switched off by accident: the client has no switch for it, and
  against an https server with a self-signed certificate the call fails with a lambdaclient
  error; only a session the caller builds to trust that certificate gets through.
- Path parameters are always percent-encoded, so no function name, alias or qualifier can
  change the request's path, query or host: the request line is read off a real socket.

That an ``http://`` endpoint_url works but logs a warning unless it is a loopback address is
``test_client.py::test_plain_http_to_another_host_logs_a_warning``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import ipaddress
import json
import logging
import re
import shutil
import ssl
import subprocess
import sys
import textwrap
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import aiohttp
import attrs
import pytest
from aiohttp import web
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from lambdaclient import (
    ConnectError,
    Credentials,
    CredentialsError,
    FunctionError,
    LambdaClient,
    LambdaError,
    RoutingConfig,
    ServiceError,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)
from lambdaclient._eventstream import invoke_complete_event, payload_chunk_event
from lambdaclient.testing import DropConnection, LocalLambda, ServerError, Throttle
from lambdaclient.transport import AiohttpTransport, Request, Response

# Distinctive values, so that a match can only be a leak.
ACCESS_KEY = "AKIDSECRETSSCENARIO0"
SECRET = "SECRET-KEY-c0ffee-5e7a1d"
TOKEN = "SESSION-TOKEN-b16b00b5-7ea"
WRONG_SECRET = "WRONG-SECRET-deadbeef-11"
PROCESS_SECRET = "PROCESS-SECRET-facade-42"
PROCESS_TOKEN = "PROCESS-TOKEN-decade-77"
MARKER = "PAYLOAD-MARKER-8badf00d"
NEEDLES = {
    "secret key": SECRET,
    "session token": TOKEN,
    "wrong secret key": WRONG_SECRET,
    "process secret key": PROCESS_SECRET,
    "process session token": PROCESS_TOKEN,
    "payload": MARKER,
}


class RecordingTransport:
    """The default transport, keeping the signature of every request it sends, so that the
    search below knows what to look for."""

    def __init__(self) -> None:
        self.sent = AiohttpTransport()
        self.signatures: list[str] = []

    async def send(self, request: Request) -> Response:
        self.signatures.append(request.headers["Authorization"].rsplit("Signature=", 1)[1])
        return await self.sent.send(request)

    async def aclose(self) -> None:
        await self.sent.aclose()


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


# --- handlers --------------------------------------------------------------------------------


def echo(event: Any, context: Any) -> Any:
    return event


def boom(event: Any, context: Any) -> Any:
    raise RuntimeError("the function failed on purpose")


async def streamer(event: Any, context: Any) -> AsyncIterator[bytes]:
    yield json.dumps(event).encode()
    yield MARKER.encode()


# --- a credential_process that works once, then fails echoing what it gave ------------------

PROCESS_SCRIPT = textwrap.dedent(
    """\
    import json, pathlib, sys

    state = pathlib.Path(sys.argv[1])
    fail = state / "fail.txt"
    if fail.exists():
        # A broken source may print anything, including the credentials it handed out.
        sys.stderr.write("token service down: " + fail.read_text())
        sys.exit(1)
    print(json.dumps({
        "Version": 1,
        "AccessKeyId": "AKIDPROCESS",
        "SecretAccessKey": sys.argv[2],
        "SessionToken": sys.argv[3],
        "Expiration": (state / "expiration.txt").read_text(),
    }))
    """
)


@pytest.fixture
def process_state(aws_home: Path) -> Path:
    """Profile "proc" (a credential_process) in an AWS set-up confined to ``aws_home``."""
    state = aws_home / "process-state"
    state.mkdir()
    expiration = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    (state / "expiration.txt").write_text(expiration.replace(microsecond=0).isoformat())
    script = aws_home / "credential_process.py"
    script.write_text(PROCESS_SCRIPT)
    (aws_home / "config").write_text(
        f'[profile proc]\ncredential_process = "{sys.executable}" "{script}" "{state}"'
        f' "{PROCESS_SECRET}" "{PROCESS_TOKEN}"\n'
    )
    return state


class FakeClock:
    """An aware UTC clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


# --- what the scenario leaves behind -----------------------------------------------------------


@attrs.define
class Evidence:
    """Everything a caller or an operator could see: exceptions, values, log records."""

    errors: list[BaseException] = attrs.Factory(list)
    values: list[object] = attrs.Factory(list)
    signers: list[RecordingTransport] = attrs.Factory(list)

    async def error(self, call: Awaitable[object], expected: type[BaseException]) -> Any:
        with pytest.raises(expected) as caught:
            await call
        self.errors.append(caught.value)
        return caught.value

    def keep(self, *values: object) -> None:
        self.values.extend(values)

    def settings(self) -> dict[str, Any]:
        """A client's settings: a transport that records signatures, and retries at once
        rather than after a backoff."""
        transport = RecordingTransport()
        self.signers.append(transport)
        return {"transport": transport, "sleep": no_sleep}

    def client(self, client: LambdaClient) -> LambdaClient:
        self.values.append(client)
        return client

    def texts(self, records: list[logging.LogRecord]) -> Iterator[tuple[str, str]]:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in records:
            yield f"log record {record.name}", formatter.format(record)
            yield f"log record {record.name} message", record.getMessage()
        for error in self.errors:
            for link in chain(error):
                yield f"{type(link).__name__} str", str(link)
                yield f"{type(link).__name__} repr", repr(link)
                yield f"{type(link).__name__} args", repr(link.args)
                yield f"{type(link).__name__} attrs", repr(vars(link))
            yield f"{type(error).__name__} traceback", "".join(traceback.format_exception(error))
        for value in self.values:
            yield f"{type(value).__name__} repr", repr(value)
            yield f"{type(value).__name__} str", str(value)

    def needles(self) -> dict[str, str]:
        found = dict(NEEDLES)
        for signer in self.signers:
            found.update({f"signature {s[:8]}": s for s in signer.signatures})
        return found


def chain(error: BaseException) -> Iterator[BaseException]:
    """An exception and the exceptions chained to it, each once."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        link = todo.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        # As tracebacks show them: the cause, else the context unless suppressed ("from None").
        if link.__cause__ is not None:
            todo.append(link.__cause__)
        elif link.__context__ is not None and not link.__suppress_context__:
            todo.append(link.__context__)


@pytest.fixture
async def lam() -> AsyncIterator[LocalLambda]:
    # The session token is the server's too: LocalLambda refuses one its credentials lack.
    async with LocalLambda(credentials=Credentials(ACCESS_KEY, SECRET, TOKEN)) as server:
        server.add_function("echo", echo)
        server.add_function("boom", boom)
        server.add_function("streamer", streamer)
        yield server


async def test_no_secret_or_payload_reaches_a_repr_a_message_or_a_log(
    lam: LocalLambda,
    process_state: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every logger, at DEBUG: ours, aiohttp's (client, server, access), asyncio's, botocore's.
    caplog.set_level(logging.DEBUG)
    for name in ("lambdaclient", "aiohttp", "asyncio", "botocore"):
        caplog.set_level(logging.DEBUG, logger=name)
    seen = Evidence()
    payload = {"card": MARKER, "n": 1}
    credentials = Credentials(ACCESS_KEY, SECRET, TOKEN)
    seen.keep(credentials, str(credentials))

    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, credentials=credentials, **seen.settings()
    ) as client:
        seen.client(client)
        # Successes, each returning a model.
        version = await client.publish_version("echo", description="first")
        alias = await client.create_alias("echo", "live", function_version="1")
        seen.keep(version, alias, await client.get_alias("echo", "live"))
        seen.keep(*[page async for page in client.list_aliases("echo").pages()])
        seen.keep(*[page async for page in client.list_versions_by_function("echo").pages()])
        seen.keep(await client.get_function_configuration("echo", qualifier="live"))
        result = await client.invoke("echo", payload=payload, qualifier="live")
        assert MARKER.encode() in result.payload  # the payload is there, and only there
        seen.keep(result)
        async with client.invoke_stream("echo", payload=payload) as response:
            assert MARKER.encode() in await response.read()
            seen.keep(response)
        async with client.invoke_with_response_stream("streamer", payload=payload) as stream:
            assert MARKER.encode() in b"".join([chunk async for chunk in stream])
            seen.keep(stream, stream.complete)

        # Retries: a 500 on a read, a 429 with Retry-After on an invoke; both then succeed.
        lam.inject("GetAlias", ServerError(500))
        seen.keep(await client.get_alias("echo", "live"))
        lam.inject("Invoke", Throttle(retry_after=0))
        seen.keep(await client.invoke("echo", payload=payload))

        # A 429 that outlasts the retries.
        lam.inject("Invoke", Throttle(retry_after=0), times=3)
        await seen.error(client.invoke("echo", payload=payload), TooManyRequestsError)

        # A function error, raised from its result.
        failed = await client.invoke("boom", payload=payload)
        seen.keep(failed)
        with pytest.raises(FunctionError) as function_error:
            failed.raise_for_function_error()
        seen.errors.append(function_error.value)

        # Validation errors with the payload in hand.
        for bad in (
            {"card": MARKER, "x": float("nan")},
            [MARKER, MARKER.encode()],
            {"card": MARKER, "x": {1, 2}},
        ):
            await seen.error(client.invoke("echo", payload=bad), ValidationError)
        await seen.error(
            client.invoke("echo", payload=payload, client_context={"card": MARKER, "x": {1}}),
            ValidationError,
        )
        await seen.error(
            client.invoke("echo", payload=payload, client_context={"card": MARKER * 500}),
            ValidationError,
        )
        await seen.error(client.invoke("bad name", payload=payload), ValidationError)
        await seen.error(
            client.update_alias("echo", "live", routing_config=RoutingConfig({"2": 7.0})),
            ValidationError,
        )

        # Transport errors: the connection dropped before the answer, on a write and a read.
        lam.inject("Invoke", DropConnection(after_execution=True))
        await seen.error(client.invoke("echo", payload=payload), TransportError)
        lam.inject("GetAlias", DropConnection(), times=3)
        await seen.error(client.get_alias("echo", "live"), TransportError)

    # A 403: the wrong secret key, on a read and on an invoke carrying the payload.
    async with LambdaClient(
        lam.region,
        endpoint_url=lam.endpoint_url,
        credentials=Credentials(ACCESS_KEY, WRONG_SECRET, TOKEN),
        **seen.settings(),
    ) as wrong:
        seen.client(wrong)
        error = await seen.error(wrong.get_alias("echo", "live"), ServiceError)
        assert error.status == 403
        await seen.error(wrong.invoke("echo", payload=payload), ServiceError)

    # Nothing listening: connection refused.
    async with LambdaClient(
        lam.region,
        endpoint_url="http://127.0.0.1:9",
        credentials=credentials,
        max_attempts=2,
        **seen.settings(),
    ) as refused:
        seen.client(refused)
        await seen.error(refused.invoke("echo", payload=payload), ConnectError)

    # Credentials failures: expired environment credentials...
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2000-01-01T00:00:00Z")
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, **seen.settings()
    ) as expired:
        seen.client(expired)
        await seen.error(expired.invoke("echo", payload=payload), CredentialsError)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    # ...and a credential_process that worked, then fails when its credentials are too close
    # to expiry to keep using. (One that echoes the secrets as it fails: see the test below.)
    lam.credentials = Credentials("AKIDPROCESS", PROCESS_SECRET, PROCESS_TOKEN)
    clock = FakeClock()  # the time credentials are judged by
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, profile="proc", clock=clock, **seen.settings()
    ) as proc:
        seen.client(proc)
        seen.keep(await proc.invoke("echo", payload=payload))
        (process_state / "fail.txt").write_text("quota exceeded")
        clock.advance(dt.timedelta(minutes=59, seconds=30))
        error = await seen.error(proc.invoke("echo", payload=payload), CredentialsError)
        assert "token service down: quota exceeded" in str(error)

    # The capture saw what it should: our retries, and the warning-free rest.
    assert any("retrying" in record.getMessage() for record in caplog.records)
    assert all(signer.signatures for signer in seen.signers[:2])
    leaks = [
        (where, what)
        for where, text in seen.texts(caplog.records)
        for what, needle in seen.needles().items()
        if needle in text
    ]
    assert leaks == [], leaks


async def test_a_credential_source_that_echoes_the_secrets_it_gave_leaks_them_nowhere(
    lam: LocalLambda, process_state: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lam.credentials = Credentials("AKIDPROCESS", PROCESS_SECRET, PROCESS_TOKEN)
    clock = FakeClock()  # the time credentials are judged by
    async with LambdaClient(
        lam.region, endpoint_url=lam.endpoint_url, profile="proc", clock=clock
    ) as proc:
        await proc.invoke("echo", payload={"n": 1})
        (process_state / "fail.txt").write_text(f"had {PROCESS_SECRET} and {PROCESS_TOKEN}")
        clock.advance(dt.timedelta(minutes=59, seconds=30))
        with pytest.raises(CredentialsError) as caught:
            await proc.invoke("echo", payload={"n": 2})
    # The message itself is redacted (this much works today)...
    assert "token service down" in str(caught.value)
    assert PROCESS_SECRET not in str(caught.value)
    # ...but the way callers log an error is with its traceback, which shows the cause.
    with caplog.at_level(logging.ERROR, logger="app"):
        logging.getLogger("app").error("call failed", exc_info=caught.value)
    for secret in (PROCESS_SECRET, PROCESS_TOKEN):
        assert secret not in caplog.text
        assert secret not in "".join(traceback.format_exception(caught.value))


# --- TLS ---------------------------------------------------------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by its own key: made with the
    ``cryptography`` package, else with the ``openssl`` command, else the test is skipped."""
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("neither the cryptography package nor openssl is available")
        subprocess.run(
            [
                *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
                *("-nodes", "-days", "1", "-subj", "/CN=localhost"),
                *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
                *("-keyout", str(key_path), "-out", str(cert_path)),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


ALIAS_JSON = {
    "AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:my-fn:live",
    "Name": "live",
    "FunctionVersion": "1",
    "Description": "",
    "RevisionId": "rev-1",
}


@attrs.define
class TlsServer:
    url: str
    certificate: Path
    requests: int = 0


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[TlsServer]:
    """An https server on 127.0.0.1 with a self-signed certificate, answering any GetAlias."""
    cert_path, key_path = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = TlsServer("", cert_path)

    async def handle(request: web.Request) -> web.StreamResponse:
        server.requests += 1
        return web.json_response(ALIAS_JSON)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    server.url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield server
    finally:
        await runner.cleanup()


def test_the_client_has_no_switch_to_turn_tls_verification_off() -> None:
    parameters = set(inspect.signature(LambdaClient).parameters)
    # ca_bundle= says whom to trust, and refuses a context that does not verify (test_config).
    assert not parameters & {"verify", "verify_ssl", "ssl", "insecure", "tls"}


async def test_a_certificate_nobody_trusts_fails_the_call(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Variables that switch verification off in other tools do nothing here.
    monkeypatch.setenv("PYTHONHTTPSVERIFY", "0")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    async with LambdaClient(
        "us-east-1",
        endpoint_url=tls_server.url,
        credentials=Credentials(ACCESS_KEY, SECRET),
        sleep=no_sleep,  # the retries of a failed connect, at once
    ) as client:
        with pytest.raises(ConnectError) as caught:
            await client.get_alias("my-fn", "live")
    assert isinstance(caught.value, LambdaError)
    assert "certificate verify failed" in str(caught.value).lower()
    assert tls_server.requests == 0  # no request got through the handshake


async def test_a_session_the_caller_builds_to_trust_the_certificate_gets_through(
    tls_server: TlsServer,
) -> None:
    # The positive control: the server is sound, and trusting it takes an explicit choice.
    trusting = ssl.create_default_context(cafile=str(tls_server.certificate))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting)) as session,
        LambdaClient(
            "us-east-1",
            endpoint_url=tls_server.url,
            credentials=Credentials(ACCESS_KEY, SECRET),
            session=session,
        ) as client,
    ):
        alias = await client.get_alias("my-fn", "live")
    assert alias.name == "live"
    assert tls_server.requests == 1


# --- path parameters over a real socket ------------------------------------------------------


@attrs.define
class Received:
    request_line: str
    headers: dict[str, str]


class RawServer:
    """Reads each request head off the socket as sent, and answers as Lambda would."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines if line)
            await reader.readexactly(int(headers.get("Content-Length", "0")))
            self.received.append(Received(request_line, headers))
            status, body, content_type = answer(request_line)
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()


def answer(request_line: str) -> tuple[int, bytes, str]:
    method, target, _ = request_line.split(" ")
    path = target.split("?", 1)[0]
    as_json = "application/json"
    configuration = {"FunctionName": "f", "Version": "1"}
    if path.endswith("/response-streaming-invocations"):
        stream = payload_chunk_event(b"ok") + invoke_complete_event()
        return 200, stream, "application/vnd.amazon.eventstream"
    if path.endswith("/invocations"):
        return 200, b"{}", as_json
    if path.endswith("/configuration"):
        return 200, json.dumps(configuration).encode(), as_json
    if path.endswith("/versions"):
        if method == "GET":
            return 200, json.dumps({"Versions": [configuration]}).encode(), as_json
        return 201, json.dumps(configuration).encode(), as_json
    if path.endswith("/aliases"):
        if method == "GET":
            return 200, json.dumps({"Aliases": []}).encode(), as_json
        return 201, json.dumps(ALIAS_JSON).encode(), as_json
    if method == "DELETE":
        return 204, b"", as_json
    return 200, json.dumps(ALIAS_JSON).encode(), as_json


Operation = Callable[[LambdaClient, Any, Any, Any], Awaitable[object]]


async def _list_aliases(c: LambdaClient, fn: Any, name: Any, qualifier: Any) -> object:
    return [alias async for alias in c.list_aliases(fn)]


async def _list_versions(c: LambdaClient, fn: Any, name: Any, qualifier: Any) -> object:
    return [version async for version in c.list_versions_by_function(fn)]


async def _invoke_stream(c: LambdaClient, fn: Any, name: Any, qualifier: Any) -> object:
    async with c.invoke_stream(fn, qualifier=qualifier) as response:
        return await response.read()


async def _response_stream(c: LambdaClient, fn: Any, name: Any, qualifier: Any) -> object:
    async with c.invoke_with_response_stream(fn, qualifier=qualifier) as stream:
        return [chunk async for chunk in stream]


FN = "/2015-03-31/functions/{fn}"
# name: (the call, its method, its path template, whether a qualifier goes in the query)
OPERATIONS: dict[str, tuple[Operation, str, str, bool]] = {
    "create_alias": (
        lambda c, fn, name, q: c.create_alias(fn, name, function_version="1"),
        "POST",
        FN + "/aliases",
        False,
    ),
    "get_alias": (
        lambda c, fn, name, q: c.get_alias(fn, name),
        "GET",
        FN + "/aliases/{name}",
        False,
    ),
    "update_alias": (
        lambda c, fn, name, q: c.update_alias(fn, name, description="d"),
        "PUT",
        FN + "/aliases/{name}",
        False,
    ),
    "delete_alias": (
        lambda c, fn, name, q: c.delete_alias(fn, name),
        "DELETE",
        FN + "/aliases/{name}",
        False,
    ),
    "list_aliases": (_list_aliases, "GET", FN + "/aliases", False),
    "publish_version": (
        lambda c, fn, name, q: c.publish_version(fn),
        "POST",
        FN + "/versions",
        False,
    ),
    "list_versions_by_function": (_list_versions, "GET", FN + "/versions", False),
    "get_function_configuration": (
        lambda c, fn, name, q: c.get_function_configuration(fn, qualifier=q),
        "GET",
        FN + "/configuration",
        True,
    ),
    "invoke": (
        lambda c, fn, name, q: c.invoke(fn, qualifier=q),
        "POST",
        FN + "/invocations",
        True,
    ),
    "invoke_stream": (_invoke_stream, "POST", FN + "/invocations", True),
    "invoke_with_response_stream": (
        _response_stream,
        "POST",
        "/2021-11-15/functions/{fn}/response-streaming-invocations",
        True,
    ),
}

# A percent-encoded label: unreserved characters and %XX only.
LABEL = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+")
HOSTILE = [
    "../other",
    "..%2F..",
    "a/b",
    "a?b=c",
    "a#b",
    "%2e%2e",
    "@evil.example",
    "evil.example:80",
    "x\r\nHost: evil.example",
    "x y",
    "a\\b",
    "ünïcode",
    "arn:aws:lambda:us-east-1:123456789012:function:my-fn:../../x",
    "my-fn:..",
    "$LATEST",
    "live",
    "my-fn",
    "my.fn",
]
# Valid names as often as hostile or random ones: only a call that passes validation sends
# anything, and every argument of it must pass.
valid = st.one_of(
    st.from_regex(r"[a-zA-Z_-][a-zA-Z0-9_-]{0,20}", fullmatch=True),
    st.sampled_from(
        ["arn:aws:lambda:us-east-1:123456789012:function:my-fn", "123456789012:function:f:1"]
    ),
)
texts = st.one_of(valid, valid, st.sampled_from(HOSTILE), st.text(min_size=1, max_size=20))
qualifiers = st.one_of(st.none(), st.sampled_from(["$LATEST", "1", "live"]), texts)
# Names made only of dots pass validation but make dot segments: a known bug, pinned below.
DOTS = {".", ".."}


async def send_one(
    operation: str, function_name: Any, name: Any, qualifier: Any
) -> tuple[list[Received], int, ValidationError | None]:
    """Make the call against a fresh raw server; what the server received, its port, and the
    ValidationError if the client refused."""
    server = RawServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port: int = listener.sockets[0].getsockname()[1]
    refused: ValidationError | None = None
    try:
        async with LambdaClient(
            "us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            credentials=Credentials(ACCESS_KEY, SECRET),
            max_attempts=1,
        ) as client:
            call = OPERATIONS[operation][0]
            try:
                await call(client, function_name, name, qualifier)
            except ValidationError as error:
                refused = error
    finally:
        listener.close()
        await listener.wait_closed()
    return server.received, port, refused


def assert_structure_intact(
    received: Received, port: int, operation: str, function_name: str, name: str, qualifier: Any
) -> None:
    _, method, template, has_qualifier = OPERATIONS[operation]
    parts = received.request_line.split(" ")
    assert len(parts) == 3, received.request_line  # no space or line break got in
    sent_method, target, version = parts
    assert (sent_method, version) == (method, "HTTP/1.1")
    assert received.headers["Host"] == f"127.0.0.1:{port}"
    assert "#" not in target
    path, _, query = target.partition("?")
    expected = template.split("/")
    segments = path.split("/")
    assert len(segments) == len(expected), target
    for segment, pattern in zip(segments, expected, strict=True):
        if pattern in ("{fn}", "{name}"):
            assert LABEL.fullmatch(segment), target
            assert segment not in DOTS, target  # a dot segment would move the request
            assert unquote(segment) == (function_name if pattern == "{fn}" else name)
        else:
            assert segment == pattern, target
    params = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    if has_qualifier and qualifier is not None:
        assert params == [("Qualifier", qualifier)], target
    else:
        assert params == [], target


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    operation=st.sampled_from(sorted(OPERATIONS)),
    function_name=texts,
    name=texts,
    qualifier=qualifiers,
)
@example(operation="get_alias", function_name="../../x", name="..", qualifier=None)
@example(operation="invoke", function_name="my-fn", name="x", qualifier="1&Qualifier=2")
@example(operation="invoke", function_name="my-fn:x#y", name="x", qualifier="../x")
async def test_no_crafted_name_changes_the_request_path_or_host(
    operation: str, function_name: str, name: str, qualifier: str | None
) -> None:
    received, port, refused = await send_one(operation, function_name, name, qualifier)
    if refused is not None:
        event("refused")
        assert received == []  # refused before anything was sent
        return
    event(f"sent {operation}")
    assert len(received) == 1, received  # one request, nothing smuggled after it
    assert_structure_intact(received[0], port, operation, function_name, name, qualifier)


@pytest.mark.parametrize("function_name", sorted(DOTS))
@pytest.mark.parametrize(
    "operation",
    [
        "get_function_configuration",
        "invoke",
        "invoke_stream",
        "invoke_with_response_stream",
        "list_versions_by_function",
    ],
)
async def test_a_function_name_of_dots_cannot_make_a_dot_segment(
    operation: str, function_name: str
) -> None:
    received, port, refused = await send_one(operation, function_name, "live", None)
    if refused is not None:
        assert received == []
        return
    assert len(received) == 1
    assert_structure_intact(received[0], port, operation, function_name, "live", None)
