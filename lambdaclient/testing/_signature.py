"""Checks a request's SigV4 signature with botocore's signer, an implementation independent
of lambdaclient's own, so that a test passing against LocalLambda proves the client signs
the way AWS expects and not merely the way it checks itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._state import LambdaFault

__all__ = ["check_signature"]

_INVALID_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your"
    " AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def _fault(code: str, message: str) -> LambdaFault:
    return LambdaFault(code, 403, message)


def check_signature(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    region: str,
) -> str:
    """Verify ``Authorization``; return the access key id, or raise a 403 :class:`LambdaFault`.

    ``url`` is the URL as received (scheme, Host, raw path and query); ``secrets`` maps the
    access key ids the server accepts to their secret keys.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

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
    access_key, date, scope_region, service, terminator = credential
    if access_key not in secrets:
        raise _fault(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    amz_date = headers.get("X-Amz-Date", "")
    # A scope for another region or service is named as AWS's JSON services name it, so that
    # a client configured for the wrong region is told so.
    if scope_region != region:
        raise _fault("InvalidSignatureException", "Credential should be scoped to a valid region. ")
    if service != "lambda":
        raise _fault(
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'lambda'. ",
        )
    if terminator != "aws4_request" or not amz_date.startswith(date):
        raise _fault("InvalidSignatureException", _INVALID_SIGNATURE)
    signed = parts.get("SignedHeaders", "").split(";")
    # Only the headers the client says it signed, as AWS checks them; "host" comes from the URL.
    given = {name: headers[name] for name in signed if name != "host" and name in headers}
    if len(given) != len([name for name in signed if name != "host"]):
        raise _fault("InvalidSignatureException", _INVALID_SIGNATURE)
    request: Any = AWSRequest(method=method, url=url, data=body, headers=given)
    request.context["timestamp"] = amz_date
    token = headers.get("X-Amz-Security-Token")
    signer: Any = SigV4Auth(Credentials(access_key, secrets[access_key], token), "lambda", region)
    # The signer's pieces, not add_auth(): add_auth would stamp the current time, and patching
    # botocore's clock would race with any other botocore client in the process.
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != parts["Signature"] or signer.signed_headers(
        signer.headers_to_sign(request)
    ) != parts.get("SignedHeaders"):
        raise _fault("InvalidSignatureException", _INVALID_SIGNATURE)
    return access_key
