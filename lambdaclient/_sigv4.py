"""AWS Signature Version 4 request signing, byte-compatible with botocore's ``SigV4Auth``.

The signer is pure stdlib (``hmac``/``hashlib``) and built for the hot path: it runs on every
request and every retry. Derived signing keys are cached per day, canonical paths per path, so
a steady stream of requests costs a few string joins, one SHA-256 and one HMAC each.

Compatibility notes (all deliberate, to match what botocore signs for Lambda):

* the canonical path is ``quote(remove_dot_segments(path), safe="/~")`` of the path *as sent*,
  so percent-encoded labels are encoded a second time (every service but S3 does this);
* the query string is taken as already encoded and only split and sorted;
* every header is signed except a fixed denylist; repeated names are joined with ``","``.

Example::

    signer = SigV4Signer(service="lambda", region="us-east-1")
    extra = signer.sign(method="GET", host="lambda.us-east-1.amazonaws.com",
                        path="/2015-03-31/functions/my-fn/aliases/live", query="",
                        headers={}, payload_sha256=EMPTY_SHA256, credentials=creds,
                        now=datetime.now(UTC))
"""

from __future__ import annotations

import hmac
from datetime import UTC
from hashlib import sha256
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from lambdaclient._errors import ValidationError

if TYPE_CHECKING:
    from _hashlib import HASH as _Hash
    from collections.abc import Mapping
    from datetime import datetime

    from lambdaclient._credentials import Credentials

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "SigV4Signer",
    "canonical_path",
    "canonical_query",
    "canonical_request",
    "string_to_sign",
]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
EMPTY_SHA256: Final = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
"""Hex SHA-256 of an empty body."""

# botocore's SIGNED_HEADERS_BLACKLIST (hop-by-hop and tracing headers that proxies may rewrite),
# plus the headers sign() produces itself, so a stray caller-supplied copy is never signed twice.
_UNSIGNED: Final = frozenset(
    {
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
        "authorization",
        "host",
        "x-amz-date",
        "x-amz-security-token",
    }
)

# quote() costs microseconds per Lambda path, and a client sends the same few paths over and
# over; bounded so that a stream of distinct paths cannot grow it without limit.
_PATH_CACHE_MAX: Final = 512
_path_cache: dict[str, str] = {}

# Credentials rotate about hourly and the date changes daily; a handful of live keys suffices.
_KEY_CACHE_MAX: Final = 16
# A client sends requests of a few shapes (operation, function, headers) over and over; the
# canonical request of each shape is built once and only the date and payload hash change.
_SHAPE_CACHE_MAX: Final = 256
_IPAD: Final = bytes(b ^ 0x36 for b in range(256))
_OPAD: Final = bytes(b ^ 0x5C for b in range(256))


def _remove_dot_segments(path: str) -> str:
    # botocore.utils.remove_dot_segments: RFC 3986 §5.2.4, plus collapsing empty segments,
    # which AWS requires. A trailing "/" survives only if some segment does.
    if not path:
        return ""
    out: list[str] = []
    for seg in path.split("/"):
        if seg and seg != ".":
            if seg == "..":
                if out:
                    out.pop()
            else:
                out.append(seg)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and out else ""
    return first + "/".join(out) + last


def canonical_path(path: str) -> str:
    """Return the SigV4 canonical URI of a wire path, as botocore computes it for non-S3 services.

    ``"/a%3Ab//./c"`` becomes ``"/a%253Ab/c"``: dot and empty segments are removed, then the
    (already percent-encoded) path is quoted once more.
    """
    cached = _path_cache.get(path)
    if cached is not None:
        return cached
    if not path:
        result = "/"
    elif "//" in path or "/." in path or path[0] == ".":
        result = quote(_remove_dot_segments(path), safe="/~")
    else:
        # No empty or dot segment: remove_dot_segments would return the path unchanged.
        result = quote(path, safe="/~")
    if len(_path_cache) >= _PATH_CACHE_MAX:
        _path_cache.clear()
    _path_cache[path] = result
    return result


def canonical_query(query: str) -> str:
    """Return the SigV4 canonical query string of an already-encoded wire query (no ``"?"``).

    Pairs are sorted by key, then value; nothing is re-encoded, and a key without ``"="``
    gets an empty value (``"b&a=1"`` becomes ``"a=1&b="``).
    """
    if not query:
        return ""
    if "&" not in query:
        return query if "=" in query else query + "="
    # Sorting (key, value) tuples, not "k=v" strings: "a" must sort before "a-b" whatever follows.
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join([f"{key}={value}" for key, value in pairs])


def _canonical_parts(
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    session_token: str | None,
) -> tuple[str, str, str]:
    """The canonical request around its two varying parts, and the signed-headers list.

    The canonical request is ``before + amz_date + after + payload_sha256``: the date is the
    ``x-amz-date`` header's value, which always sorts between the other signed headers.
    """
    signed: dict[str, str] = {"host": host}
    if session_token:
        signed["x-amz-security-token"] = " ".join(session_token.split())
    for name, value in headers.items():
        lname = name.lower()
        if lname in _UNSIGNED:
            continue
        # Trimall, exactly as botocore: str.split() also splits on Unicode whitespace.
        value = " ".join(value.split())
        prev = signed.get(lname)
        signed[lname] = value if prev is None else f"{prev},{value}"
    names = sorted([*signed, "x-amz-date"])
    split = names.index("x-amz-date")
    lines_before = "".join([f"{name}:{signed[name]}\n" for name in names[:split]])
    lines_after = "".join([f"{name}:{signed[name]}\n" for name in names[split + 1 :]])
    signed_headers = ";".join(names)
    before = (
        f"{method.upper()}\n{canonical_path(path)}\n{canonical_query(query)}\n"
        f"{lines_before}x-amz-date:"
    )
    return before, f"\n{lines_after}\n{signed_headers}\n", signed_headers


def canonical_request(
    *,
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    payload_sha256: str,
    amz_date: str,
    session_token: str | None = None,
) -> tuple[str, str]:
    """Return the canonical request and its signed-headers list (``"host;x-amz-date"``).

    ``host``, ``amz_date`` and ``session_token`` (when truthy) are signed as the ``host``,
    ``x-amz-date`` and ``x-amz-security-token`` headers; copies of those in ``headers`` are
    ignored, as are botocore's denylisted headers. ``headers`` may repeat a name (any case,
    e.g. a multidict): the values are joined with ``","`` in the order given.
    """
    before, after, signed_headers = _canonical_parts(
        method, host, path, query, headers, session_token
    )
    return f"{before}{amz_date}{after}{payload_sha256}", signed_headers


def string_to_sign(*, amz_date: str, scope: str, canonical_request: str) -> str:
    """Return the SigV4 string to sign for a canonical request.

    ``scope`` is the credential scope, ``"<YYYYMMDD>/<region>/<service>/aws4_request"``.
    """
    digest = sha256(canonical_request.encode()).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


class _Shape:
    """What a signer keeps of one request shape: its canonical request around the date and
    the payload hash (see :func:`_canonical_parts`), and its last signature."""

    __slots__ = ("after", "before", "last", "signed_headers")

    def __init__(self, before: str, after: str, signed_headers: str) -> None:
        self.before = before
        self.after = after
        self.signed_headers = signed_headers
        # (X-Amz-Date, payload hash, credentials, the headers returned), replaced as a whole so
        # that threads sharing the signer never see half of one.
        self.last: tuple[str, str, Credentials, Mapping[str, str]] | None = None


class SigV4Signer:
    """Signs requests for one service and region.

    Safe to share between tasks and threads; the caches it keeps are bounded.
    """

    __slots__ = ("_date", "_keys", "_region", "_service", "_shapes")

    def __init__(self, *, service: str, region: str) -> None:
        self._service = service
        self._region = region
        # (secret key, YYYYMMDD) -> (HMAC inner state, HMAC outer state, credential scope)
        self._keys: dict[tuple[str, str], tuple[_Hash, _Hash, str]] = {}
        # (method, host, path, query, header items, session token) -> its _Shape
        self._shapes: dict[tuple[object, ...], _Shape] = {}
        self._date: tuple[float, str] | None = None  # the last second (POSIX) and its X-Amz-Date

    @property
    def service(self) -> str:
        """The service name in the credential scope, e.g. ``"lambda"``."""
        return self._service

    @property
    def region(self) -> str:
        """The region in the credential scope, e.g. ``"us-east-1"``."""
        return self._region

    def _amz_date(self, now: datetime) -> str:
        # Requests come many to a second: the last second's string is reused.
        second = now.timestamp() // 1  # floor, also before 1970
        last = self._date
        if last is not None and last[0] == second:
            return last[1]
        # %-formatting is about 3x faster than strftime here.
        amz_date = "%04d%02d%02dT%02d%02d%02dZ" % (  # noqa: UP031
            now.year,
            now.month,
            now.day,
            now.hour,
            now.minute,
            now.second,
        )
        self._date = (second, amz_date)
        return amz_date

    def _signing_key(self, secret: str, date_stamp: str) -> tuple[_Hash, _Hash, str]:
        # Four HMACs whose inputs only change once a day (or when credentials rotate).
        cache_key = (secret, date_stamp)
        entry = self._keys.get(cache_key)
        if entry is not None:
            return entry
        key = hmac.digest(f"AWS4{secret}".encode(), date_stamp.encode(), "sha256")
        key = hmac.digest(key, self._region.encode(), "sha256")
        key = hmac.digest(key, self._service.encode(), "sha256")
        key = hmac.digest(key, b"aws4_request", "sha256")
        # RFC 2104 with the keyed pad blocks hashed once: each signature then costs two
        # hash-state copies instead of a full HMAC setup (about 2.5x faster than hmac.digest).
        block = key.ljust(64, b"\0")  # a SHA-256 key is 32 bytes, under the 64-byte block
        inner = sha256(block.translate(_IPAD))
        outer = sha256(block.translate(_OPAD))
        entry = (inner, outer, f"{date_stamp}/{self._region}/{self._service}/aws4_request")
        if len(self._keys) >= _KEY_CACHE_MAX:
            # Rare (rotation, day change), and clear() cannot race with another thread's eviction.
            self._keys.clear()
        self._keys[cache_key] = entry
        return entry

    def sign(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        payload_sha256: str,
        credentials: Credentials,
        now: datetime,
    ) -> Mapping[str, str]:
        """Return the headers to add to the request.

        Those are ``X-Amz-Date``, ``X-Amz-Security-Token`` (only when the credentials carry a
        session token; it is signed) and ``Authorization``. ``host`` is lowercase, with a port
        only when it is not the scheme's default; ``path`` and ``query`` are exactly as sent
        (already percent-encoded, query without ``"?"``); ``headers`` are the other headers
        that will be sent; ``now`` is an aware datetime (converted to UTC if need be).

        A request the same as the last one of its shape, in the same second with the same
        payload and credentials object, gets the same (shared, not to be changed) mapping
        back: its signature would be the same, so it is not computed again.
        """
        if now.tzinfo is not UTC:
            if now.utcoffset() is None:
                raise ValidationError("now must be an aware datetime", field="now")
            now = now.astimezone(UTC)
        amz_date = self._amz_date(now)
        token = credentials.session_token
        key = (method, host, path, query, tuple(headers.items()), token)
        shape = self._shapes.get(key)
        if shape is None:
            shape = _Shape(*_canonical_parts(method, host, path, query, headers, token))
            if len(self._shapes) >= _SHAPE_CACHE_MAX:
                self._shapes.clear()
            self._shapes[key] = shape
        last = shape.last
        if (
            last is not None
            and last[0] == amz_date
            and last[1] == payload_sha256
            and last[2] is credentials
        ):
            return last[3]  # the same request in the same second: the same signature
        inner, outer, scope = self._signing_key(credentials.secret_access_key, amz_date[:8])
        creq = f"{shape.before}{amz_date}{shape.after}{payload_sha256}"
        mac = inner.copy()
        mac.update(string_to_sign(amz_date=amz_date, scope=scope, canonical_request=creq).encode())
        signature_hash = outer.copy()
        signature_hash.update(mac.digest())
        authorization = (
            f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
            f"SignedHeaders={shape.signed_headers}, Signature={signature_hash.hexdigest()}"
        )
        if token:
            added = {
                "X-Amz-Date": amz_date,
                "X-Amz-Security-Token": token,
                "Authorization": authorization,
            }
        else:
            added = {"X-Amz-Date": amz_date, "Authorization": authorization}
        shape.last = (amz_date, payload_sha256, credentials, added)
        return added
