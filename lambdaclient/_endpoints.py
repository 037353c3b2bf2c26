"""Where requests go: region, partition, FIPS, dual-stack and endpoint_url to a base URL.

Mirrors Lambda's endpoint rule set (``endpoint-rule-set-1.json``) and botocore's endpoint
override order, without importing botocore.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from ._errors import ValidationError

__all__ = [
    "CLOUDWATCH",
    "LAMBDA",
    "Endpoint",
    "Service",
    "configured_endpoint_url",
    "is_loopback",
    "resolve_endpoint",
]

# (region pattern, dnsSuffix, dualStackDnsSuffix), from botocore's partitions.json. The first
# match wins; a region matching none is taken to be in the aws partition, as botocore does.
_PARTITIONS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern, re.ASCII), dns, dualstack)
    for pattern, dns, dualstack in (
        (r"(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+", "amazonaws.com", "api.aws"),
        (r"cn-\w+-\d+", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
        (r"eusc-(de)-\w+-\d+", "amazonaws.eu", "api.amazonwebservices.eu"),
        (r"us-iso-\w+-\d+", "c2s.ic.gov", "api.aws.ic.gov"),
        (r"us-isob-\w+-\d+", "sc2s.sgov.gov", "api.aws.scloud"),
        (r"eu-isoe-\w+-\d+", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"),
        (r"us-isof-\w+-\d+", "csp.hci.ic.gov", "api.aws.hci.ic.gov"),
        (r"us-gov-\w+-\d+", "amazonaws.com", "api.aws"),
    )
)

# A region is a DNS label made of lowercase letters, digits and dashes. Anything else ('/',
# '.', '@', ':', spaces) could move the request to another host, so it is refused.
_REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*", re.ASCII)


@attrs.frozen(slots=True)
class Endpoint:
    """A resolved endpoint: ``url`` (scheme, host, optional port and path prefix, no trailing
    slash), ``host`` as signed (with the port only when it is not the scheme's default), the
    ``path`` prefix ("" or "/prefix") and the region to sign for."""

    url: str
    host: str
    path: str
    signing_region: str


@attrs.frozen(slots=True)
class Service:
    """What tells one AWS service's endpoint apart: the host's first label
    (``endpointPrefix``), the name requests are signed for, the ``AWS_ENDPOINT_URL_*``
    suffix (the ``serviceId`` upper-cased, spaces as underscores), and the ``serviceId``
    itself without spaces, as spans name the service (``rpc.service``)."""

    endpoint_prefix: str
    signing_name: str
    environment_name: str
    service_id: str


LAMBDA = Service("lambda", "lambda", "LAMBDA", "Lambda")
CLOUDWATCH = Service("monitoring", "monitoring", "CLOUDWATCH", "CloudWatch")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as in :attr:`Endpoint.host`, maybe with a port) is this machine."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.split("]")[0].lstrip("[")  # an IPv6 literal, with or without a port
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_region(region: object) -> str:
    """Refuse anything that is not a region name."""
    if not isinstance(region, str) or _REGION.fullmatch(region) is None or len(region) > 63:
        raise ValidationError(f"region {region!r} is not a region name", field="region")
    return region


def configured_endpoint_url(
    endpoint_url: str | None, environ: Mapping[str, str], service: Service
) -> str | None:
    """The endpoint URL given or configured in the environment for ``service``, if any."""
    if endpoint_url is not None:
        return endpoint_url
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return None
    specific = environ.get(f"AWS_ENDPOINT_URL_{service.environment_name}")
    return specific or environ.get("AWS_ENDPOINT_URL") or None


def _parse_endpoint_url(url: object, region: str) -> Endpoint:
    if not isinstance(url, str):
        raise ValidationError(
            f"endpoint_url must be a str, not {type(url).__name__}", field="endpoint_url"
        )
    try:
        parts = urlsplit(url)
        if parts.hostname:
            parts.hostname.encode("idna")  # refuses a host that cannot be sent, e.g. "a..b"
    except (ValueError, UnicodeError) as exc:
        raise ValidationError(
            f"endpoint_url {url!r} is not a URL: {exc}", field="endpoint_url"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"endpoint_url {url!r} must be an http:// or https:// URL with a host",
            field="endpoint_url",
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError(
            f"endpoint_url {url!r} must not carry a query, fragment or user info",
            field="endpoint_url",
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"endpoint_url {url!r} has a bad port", field="endpoint_url") from exc
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets in the Host header
        host = f"[{host}]"
    netloc = host
    if port is not None and port != (443 if parts.scheme == "https" else 80):
        netloc = f"{host}:{port}"
    path = parts.path.rstrip("/")
    return Endpoint(f"{parts.scheme}://{netloc}{path}", netloc, path, region)


def resolve_endpoint(
    region: str,
    *,
    endpoint_url: str | None = None,
    use_fips: bool = False,
    use_dualstack: bool = False,
    environ: Mapping[str, str],
    service: Service = LAMBDA,
) -> Endpoint:
    """The endpoint of ``service`` (Lambda by default) for ``region``: ``endpoint_url``, then
    ``AWS_ENDPOINT_URL_LAMBDA`` (``_CLOUDWATCH`` for CloudWatch), then ``AWS_ENDPOINT_URL``,
    then ``https://lambda[-fips].{region}.{dnsSuffix}`` (``monitoring`` for CloudWatch, whose
    rule set has the same shape).

    Example::

        resolve_endpoint("eu-west-1", environ={}).url == "https://lambda.eu-west-1.amazonaws.com"
    """
    check_region(region)
    url = configured_endpoint_url(endpoint_url, environ, service)
    if url is not None:
        if use_fips or use_dualstack:
            # The rule set refuses this combination rather than silently dropping a flag.
            raise ValidationError(
                "use_fips and use_dualstack cannot be combined with a custom endpoint URL",
                field="endpoint_url",
            )
        return _parse_endpoint_url(url, region)
    # Legacy pseudo-regions such as "fips-us-east-1" mean FIPS in the real region.
    if region.startswith("fips-") or region.endswith("-fips"):
        region = region.removeprefix("fips-").removesuffix("-fips")
        use_fips = True
    dns_suffix, dualstack_suffix = "amazonaws.com", "api.aws"
    for pattern, dns, dualstack in _PARTITIONS:
        if pattern.fullmatch(region):
            dns_suffix, dualstack_suffix = dns, dualstack
            break
    host = (
        f"{service.endpoint_prefix}{'-fips' if use_fips else ''}.{region}."
        f"{dualstack_suffix if use_dualstack else dns_suffix}"
    )
    return Endpoint(f"https://{host}", host, "", region)
