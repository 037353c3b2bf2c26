"""A CA bundle given as a folder: OpenSSL looks its certificates up by subject hash when a
handshake needs one, so a folder holding none is refused at construction, not at every
request."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
import trustme

from lambdaclient import ConfigurationError, Credentials, LambdaClient
from lambdaclient.testing import LocalLambda

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret")


@pytest.mark.parametrize("content", [[], ["ca.pem"], ["README", "0a1b2c3d"]])
async def test_a_folder_with_no_hashed_certificate_is_refused(
    tmp_path: Path, content: list[str]
) -> None:
    for name in content:
        trustme.CA().cert_pem.write_to_path(str(tmp_path / name))
    with pytest.raises(ConfigurationError) as raised:
        LambdaClient("us-east-1", credentials=CREDENTIALS, ca_bundle=tmp_path)
    assert (raised.value.field, raised.value.source) == ("ca_bundle", "argument ca_bundle")
    assert "no certificate named by its subject hash" in str(raised.value)


async def test_the_refusal_names_the_variable_it_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path))
    with pytest.raises(ConfigurationError) as raised:
        LambdaClient("us-east-1", credentials=CREDENTIALS)
    assert raised.value.source == "environment variable AWS_CA_BUNDLE"


def greet(event: Any, context: Any) -> Any:
    return {"hello": event["name"]}


@pytest.fixture
def hashed(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A folder holding an authority's certificate under its subject hash (as ``openssl
    rehash`` names it), and a server context with a certificate it signed for 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("naming a certificate by its subject hash needs the openssl command")
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    pem = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    command = [openssl, "x509", "-subject_hash", "-noout", "-in", str(pem)]
    subject_hash = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    folder = tmp_path / "certs"
    folder.mkdir()
    pem.rename(folder / f"{subject_hash.strip()}.0")
    return folder, server


async def test_a_folder_of_hashed_certificates_is_trusted(
    hashed: tuple[Path, ssl.SSLContext],
) -> None:
    folder, server = hashed
    async with LocalLambda(credentials=CREDENTIALS, ssl=server) as lam:
        lam.add_function("greet", greet)
        async with LambdaClient(
            "us-east-1", credentials=CREDENTIALS, endpoint_url=lam.endpoint_url, ca_bundle=folder
        ) as client:
            result = await client.invoke("greet", payload={"name": "ada"})
    assert result.json() == {"hello": "ada"}
