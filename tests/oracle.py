"""botocore as an independent oracle: what it would sign for the request our client sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from lambdaclient import Credentials

_SIGNATURE_HEADERS = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})


def botocore_authorization(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    when: datetime,
) -> str:
    """The Authorization header botocore's SigV4Auth gives the same request at ``when``."""
    unsigned = {k: v for k, v in headers.items() if k.lower() not in _SIGNATURE_HEADERS}
    request = AWSRequest(method=method, url=url, data=body, headers=unsigned)
    botocore_credentials = BotocoreCredentials(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
        SigV4Auth(botocore_credentials, "lambda", region).add_auth(request)
    return str(request.headers["Authorization"])
