"""Checks a request's SigV4 signature with botocore's signer, an implementation independent
of lambdaclient's own, so that a test passing against LocalLambda proves the client signs
the way AWS expects and not merely the way it checks itself.

As AWS checks it: the request must be dated within five minutes of the server's clock, the
signature covers the body actually received (its SHA-256, whatever ``X-Amz-Content-SHA256``
claims), and a session token is accepted only where the credentials carry that token."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .._credentials import Credentials
from ._state import LambdaFault

__all__ = ["check_signature"]

# How far X-Amz-Date may stray from the server's clock, either way (AWS: "- 5 min.").
_MAX_CLOCK_SKEW = timedelta(minutes=5)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"

_INVALID_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your"
    " AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"


def _fault(code: str, message: str) -> LambdaFault:
    return LambdaFault(code, 403, message)


def _check_date(amz_date: str, authorization: str, now: datetime) -> datetime:
    """The request's date; refused in AWS's words when it is missing, malformed or too far
    off."""
    if not amz_date:
        raise _fault(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date'"
            f" header. Authorization={authorization}",
        )
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise _fault(
            "IncompleteSignatureException",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See"
            " http://en.wikipedia.org/wiki/ISO_8601",
        ) from None
    stamp = now.strftime(_AMZ_DATE)
    if signed_at < now - _MAX_CLOCK_SKEW:
        earliest = (now - _MAX_CLOCK_SKEW).strftime(_AMZ_DATE)
        raise _fault(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {earliest} ({stamp} - 5 min.)",
        )
    if signed_at > now + _MAX_CLOCK_SKEW:
        latest = (now + _MAX_CLOCK_SKEW).strftime(_AMZ_DATE)
        raise _fault(
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than {latest}"
            f" ({stamp} + 5 min.)",
        )
    return signed_at


def _check_host(url: str) -> None:
    # The Host header is always signed; one that cannot be read as a host and port cannot
    # be part of a canonical request, so no signature can match it.
    try:
        parts = urlsplit(url)
        valid = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:
        valid = False
    if not valid:
        raise _fault("InvalidSignatureException", _INVALID_SIGNATURE)


def check_signature(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials | Mapping[str, Credentials],
    region: str,
    now: datetime,
    service: str = "lambda",
) -> str:
    """Verify ``Authorization``; return the access key id, or raise a 403 :class:`LambdaFault`.

    ``url`` is the URL as received (scheme, Host, raw path and query); ``credentials`` are
    the only ones the server accepts (several, by access key id); those with an
    ``expiration`` are refused for a request signed at or after it; ``now`` is the server's
    clock (aware, UTC); ``service`` the signing name the request's service expects
    (``monitoring`` for CloudWatch).
    """
    if isinstance(credentials, Credentials):
        credentials = {credentials.access_key_id: credentials}
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotocoreCredentials

    authorization = headers.get("Authorization")
    if authorization is None:
        # As Lambda answers an unsigned request (quoted in brefphp/bref#1250).
        raise _fault("MissingAuthenticationTokenException", "Missing Authentication Token")
    algorithm, _, fields = authorization.partition(" ")
    parts: dict[str, str] = {}
    for field in fields.split(","):
        key, _, value = field.strip().partition("=")
        parts[key] = value
    credential = parts.get("Credential", "").split("/")
    if algorithm != "AWS4-HMAC-SHA256" or len(credential) != 5 or "Signature" not in parts:
        raise _fault(
            "IncompleteSignatureException", "Authorization header requires a SigV4 signature"
        )
    amz_date = headers.get("X-Amz-Date", "")
    signed_at = _check_date(amz_date, authorization, now)
    access_key, date, scope_region, scope_service, terminator = credential
    known = credentials.get(access_key)
    # A made-up token is refused as an unknown key is: AWS resolves the caller from both.
    if known is None or headers.get("X-Amz-Security-Token") != known.session_token:
        raise _fault("UnrecognizedClientException", _INVALID_TOKEN)
    # A scope for another region or service is named as AWS's JSON services name it, so that
    # a client configured for the wrong region is told so.
    if scope_region != region:
        raise _fault("InvalidSignatureException", "Credential should be scoped to a valid region. ")
    if scope_service != service:
        raise _fault(
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{service}'. ",
        )
    if terminator != "aws4_request" or not amz_date.startswith(date):
        raise _fault("InvalidSignatureException", _INVALID_SIGNATURE)
    _check_host(url)
    signed = parts.get("SignedHeaders", "").split(";")
    # Only the headers the client says it signed, as AWS checks them; "host" comes from the URL.
    given = {name: headers[name] for name in signed if name != "host" and name in headers}
    if len(given) != len([name for name in signed if name != "host"]):
        raise _fault("InvalidSignatureException", _INVALID_SIGNATURE)
    request: Any = AWSRequest(method=method, url=url, data=body, headers=given)
    request.context["timestamp"] = amz_date
    signer: Any = SigV4Auth(
        BotocoreCredentials(access_key, known.secret_access_key, known.session_token),
        service,
        region,
    )
    # The signer's pieces, not add_auth(): add_auth would stamp the current time, and patching
    # botocore's clock would race with any other botocore client in the process.
    canonical = signer.canonical_request(request)
    # botocore takes the payload's hash from a signed X-Amz-Content-SHA256 header when there is
    # one; the server hashes the body it received instead, so a body changed after signing
    # (or sent as UNSIGNED-PAYLOAD) does not match.
    canonical = canonical.rpartition("\n")[0] + "\n" + hashlib.sha256(body).hexdigest()
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != parts["Signature"] or signer.signed_headers(
        signer.headers_to_sign(request)
    ) != parts.get("SignedHeaders"):
        raise _fault("InvalidSignatureException", _INVALID_SIGNATURE)
    # Judged at signing time, not arrival: a test's fake clock may jump while a request is
    # in flight, and what a client controls is which credentials it signs with when.
    if known.expiration is not None and signed_at >= known.expiration:
        raise _fault("ExpiredTokenException", _EXPIRED_TOKEN)
    return access_key
