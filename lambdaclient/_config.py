"""A client's settings, resolved as botocore resolves them: the argument, then the environment,
then the profile in the shared config file, then the default.

Each value keeps its source ("argument max_attempts", "environment variable AWS_MAX_ATTEMPTS",
"profile 'dev' in /home/me/.aws/config"), so that a bad one is refused with a
:class:`~lambdaclient.ConfigurationError` saying where it came from, at construction, before
anything is sent. :func:`resolve_settings` is pure: the environment is a mapping and the
profile a function, called only when a setting is not found before it. The I/O is in
:func:`load_profile` (the config files, read with botocore's loader) and
:func:`load_ca_bundle` (the certificates).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Generic, Literal, TypeAlias, TypeVar
from urllib.parse import urlsplit

import attrs

from ._endpoints import Endpoint, Service, check_region, configured_endpoint_url, resolve_endpoint
from ._errors import ConfigurationError, CredentialsError, ValidationError

__all__ = [
    "CABundle",
    "Profile",
    "Proxy",
    "RetryMode",
    "Setting",
    "Settings",
    "load_ca_bundle",
    "load_profile",
    "redact_proxy",
    "resolve_settings",
]

logger = logging.getLogger("lambdaclient")

T = TypeVar("T")

RetryMode: TypeAlias = Literal["standard", "legacy"]
"""The retry modes a client takes (botocore's ``adaptive`` is refused)."""
Proxy: TypeAlias = str | Literal[False]
"""A proxy's URL, or False for no proxy whatever the environment says."""
CABundle: TypeAlias = str | os.PathLike[str] | ssl.SSLContext
"""The certificates to trust: a PEM file's path, or a TLS context."""

DEFAULT_MAX_ATTEMPTS = 3
"""botocore's default in its standard retry mode: the first attempt and two retries."""

_RETRY_MODES = ("standard", "legacy", "adaptive")  # botocore's, spelt as it spells them
_WHOLE_NUMBER = re.compile(r"\s*[0-9]{1,9}\s*", re.ASCII)
_DEFAULT = "default"


@attrs.frozen(slots=True)
class Setting(Generic[T]):
    """A resolved value and where it came from."""

    value: T
    source: str


@attrs.frozen(slots=True)
class Profile:
    """The keys of one profile in the shared config files (empty when there is none)."""

    name: str
    path: str
    values: Mapping[str, object] = attrs.field(factory=dict)

    @property
    def source(self) -> str:
        return f"profile {self.name!r} in {self.path}"


def redact_proxy(url: str) -> str:
    """``url`` with everything between its scheme and its last ``@`` (a proxy's user name
    and password, even one holding ``/`` or ``@`` unescaped) replaced by ``***``."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    _, at, host = rest.rpartition("@")
    return f"{scheme}{separator}{'***@' if at else ''}{host}"


def _proxy_repr(setting: Setting[str | None]) -> str:
    shown = None if setting.value is None else redact_proxy(setting.value)
    return f"Setting(value={shown!r}, source={setting.source!r})"


@attrs.frozen(slots=True)
class Settings:
    """Everything :func:`resolve_settings` decided. ``proxy`` and ``ca_bundle`` are None
    (with the reason as their source) when the caller brings the session or transport."""

    region: Setting[str]
    endpoint: Endpoint
    max_attempts: Setting[int]
    retry_mode: Setting[str]
    use_fips: Setting[bool]
    use_dualstack: Setting[bool]
    proxy: Setting[str | None] = attrs.field(repr=_proxy_repr)
    ca_bundle: Setting[str | ssl.SSLContext | None]


class _Sources:
    """Where one setting is looked for, in order."""

    __slots__ = ("_environ", "_profile")

    def __init__(self, environ: Mapping[str, str], profile: Callable[[], Profile]) -> None:
        self._environ = environ
        self._profile = profile

    def find(
        self,
        field: str,
        argument: object,
        variables: tuple[str, ...],
        profile_key: str | None,
        late_variables: tuple[str, ...] = (),
    ) -> tuple[object, str] | None:
        """The argument, else the first non-empty variable, else the profile's key, else the
        first non-empty ``late_variables``; None when none is set. An empty value counts as
        unset, as botocore counts an empty ``AWS_ACCESS_KEY_ID``."""
        if argument is not None:
            return argument, f"argument {field}"
        found = self._variable(variables)
        if found is not None:
            return found
        if profile_key is not None:
            profile = self._profile()
            value = profile.values.get(profile_key)
            if value is not None and value != "":
                return value, profile.source
        return self._variable(late_variables)

    def _variable(self, names: tuple[str, ...]) -> tuple[str, str] | None:
        for name in names:
            value = self._environ.get(name)
            if value:
                return value, f"environment variable {name}"
        return None


def _from_argument(source: str) -> bool:
    return source.startswith("argument ")


def _refuse(field: str, value: object, source: str, expected: str) -> ConfigurationError:
    shown = repr(value)
    if len(shown) > 80:  # an environment variable can be long; the start says enough
        shown = f"{shown[:77]}..."
    return ConfigurationError(
        f"{field} {shown} (from {source}) is not valid: {expected}", field=field, source=source
    )


def _attempts(value: object, source: str) -> int:
    if _from_argument(source):
        if type(value) is int and value >= 1:
            return value
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value) and int(value) >= 1:
        return int(value)
    raise _refuse("max_attempts", value, source, "it must be a whole number of at least 1")


def _boolean(field: str, value: object, source: str) -> bool:
    if _from_argument(source):
        if isinstance(value, bool):
            return value
    elif isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    expected = "it must be True, False or None" if _from_argument(source) else '"true" or "false"'
    raise _refuse(field, value, source, expected)


_legacy_noted = False


def _retry_mode(value: object, source: str) -> str:
    global _legacy_noted
    if value not in _RETRY_MODES:
        raise _refuse("retry_mode", value, source, "it must be 'standard' (or 'legacy')")
    if value == "adaptive":
        raise ConfigurationError(
            f"retry_mode 'adaptive' (from {source}) is not supported: lambdaclient does not"
            " implement botocore's client-side rate limiting; use retry_mode 'standard'",
            field="retry_mode",
            source=source,
        )
    if value == "legacy" and not _legacy_noted:
        _legacy_noted = True  # once per process: a note, not a warning for every client
        logger.info(
            "retry_mode 'legacy' (from %s) is treated as 'standard', the only mode"
            " lambdaclient implements (max_attempts still defaults to 3)",
            source,
        )
    return "standard"


def _environment_proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """``urllib.request.getproxies_environment()`` over ``environ``, which botocore uses:
    ``{scheme}_proxy`` in any case, the lowercase spelling winning, and an empty lowercase
    variable removing the other; ``HTTP_PROXY`` is ignored under CGI (httpoxy)."""
    proxies: dict[str, str] = {}
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name.lower()[:-6]] = value
    if "REQUEST_METHOD" in environ:
        proxies.pop("http", None)
    for name, value in environ.items():
        if name.endswith("_proxy"):
            if value:
                proxies[name[:-6]] = value
            else:
                proxies.pop(name[:-6], None)
    return proxies


def _bypasses(host: str, no_proxy: str | None) -> bool:
    """Whether ``NO_PROXY`` exempts ``host`` (maybe with a port): ``urllib``'s
    ``proxy_bypass_environment``, which botocore uses. Each comma-separated name matches
    itself and its subdomains (a leading dot is ignored), with or without the port; ``*``
    matches every host."""
    if not no_proxy:
        return False
    if no_proxy == "*":
        return True
    host = host.lower()
    with_port = re.fullmatch(r"(.*):([0-9]*)", host, re.DOTALL)
    bare = with_port.group(1) if with_port else host
    for name in no_proxy.split(","):
        name = name.strip().lstrip(".").lower()
        if name and any(h == name or h.endswith(f".{name}") for h in (bare, host)):
            return True
    return False


def _proxy_url(value: object, source: str) -> str:
    """A proxy URL, checked; without a scheme, ``http://`` is assumed, as botocore assumes."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"proxy (from {source}) must be a URL such as 'http://proxy.example:3128', or"
            " False for no proxy",
            field="proxy",
            source=source,
        )
    if value.startswith("//"):
        value = f"http:{value}"
    elif not value.startswith(("http:", "https:")):
        value = f"http://{value}"
    shown = redact_proxy(value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ConfigurationError(
            f"proxy {shown!r} (from {source}) is not valid: it must be an http:// or https://"
            " URL with a host and nothing after it",
            field="proxy",
            source=source,
        )
    return value


def _proxy(argument: object, environ: Mapping[str, str], endpoint: Endpoint) -> Setting[str | None]:
    """The proxy for ``endpoint``: the argument (False: none), else the environment's proxy
    for the endpoint's scheme unless ``NO_PROXY`` matches its host, as botocore decides
    (``urllib``'s rules: no CIDR ranges, and no exception for loopback addresses)."""
    if argument is False:
        return Setting(None, "argument proxy")
    if argument is not None:
        value, source = argument, "argument proxy"
    else:
        proxies = _environment_proxies(environ)
        scheme = endpoint.url.split(":", 1)[0]
        if scheme not in proxies:
            return Setting(None, _DEFAULT)
        if _bypasses(endpoint.host, proxies.get("no")):
            return Setting(None, "environment variable no_proxy / NO_PROXY")
        names = sorted(name for name in environ if name.lower() == f"{scheme}_proxy")
        value, source = proxies[scheme], f"environment variable {names[-1]}"  # lowercase wins
    url = _proxy_url(value, source)
    logger.debug("requests go through the proxy %s (from %s)", redact_proxy(url), source)
    return Setting(url, source)


def _ca_bundle(found: tuple[object, str] | None) -> Setting[str | ssl.SSLContext | None]:
    if found is None:
        return Setting(None, _DEFAULT)
    value, source = found
    if isinstance(value, ssl.SSLContext):
        # A bundle says whom to trust; it is no switch to stop checking certificates.
        if value.verify_mode != ssl.CERT_REQUIRED or not value.check_hostname:
            raise ConfigurationError(
                f"ca_bundle (from {source}) is an ssl.SSLContext that does not verify"
                " certificates and host names: lambdaclient never turns TLS verification off",
                field="ca_bundle",
                source=source,
            )
        return Setting(value, source)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise _refuse(
            "ca_bundle", value, source, "it must be the path of a PEM file or an ssl.SSLContext"
        )
    return Setting(value, source)


def resolve_settings(
    *,
    region: str | None,
    endpoint_url: str | None,
    max_attempts: object,
    retry_mode: object,
    use_fips: object,
    use_dualstack: object,
    proxy: object,
    ca_bundle: object,
    own_session: bool,
    environ: Mapping[str, str],
    profile: Callable[[], Profile],
    service: Service,
) -> Settings:
    """Resolve every setting (None for an argument means "look further").

    ``own_session`` says whether requests go over the client's own aiohttp session: only
    then do ``proxy`` and ``ca_bundle`` apply, and passing either with a caller's session or
    transport is an error. A flag for FIPS or dual-stack from the environment or the profile
    is dropped when an endpoint URL is configured, as botocore drops it; passed as an
    argument, the combination is refused (see :func:`resolve_endpoint`).
    """
    sources = _Sources(environ, functools.cache(profile))
    found = sources.find("region", region, ("AWS_REGION", "AWS_DEFAULT_REGION"), "region")
    if found is None:
        raise ValidationError(
            "no region: pass region=, or set AWS_REGION or AWS_DEFAULT_REGION, or a region"
            " in the profile",
            field="region",
        )
    try:
        region_value = check_region(found[0])
    except ValidationError:
        raise _refuse("region", found[0], found[1], "it is not a region name") from None
    region_setting = Setting(region_value, found[1])

    flags: list[Setting[bool]] = []
    for field, argument, variable, key in (
        ("use_fips", use_fips, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"),
        ("use_dualstack", use_dualstack, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint"),
    ):
        found = sources.find(field, argument, (variable,), key)
        flags.append(
            Setting(False, _DEFAULT)
            if found is None
            else Setting(_boolean(field, *found), found[1])
        )
    fips, dualstack = flags
    custom = configured_endpoint_url(endpoint_url, environ, service) is not None
    endpoint = resolve_endpoint(
        region_value,
        endpoint_url=endpoint_url,
        use_fips=fips.value and (not custom or _from_argument(fips.source)),
        use_dualstack=dualstack.value and (not custom or _from_argument(dualstack.source)),
        environ=environ,
        service=service,
    )

    found = sources.find("max_attempts", max_attempts, ("AWS_MAX_ATTEMPTS",), "max_attempts")
    attempts = (
        Setting(DEFAULT_MAX_ATTEMPTS, _DEFAULT)
        if found is None
        else Setting(_attempts(*found), found[1])
    )
    found = sources.find("retry_mode", retry_mode, ("AWS_RETRY_MODE",), "retry_mode")
    mode = (
        Setting("standard", _DEFAULT) if found is None else Setting(_retry_mode(*found), found[1])
    )

    if own_session:
        proxy_setting = _proxy(proxy, environ, endpoint)
        ca_setting = _ca_bundle(
            sources.find(
                "ca_bundle", ca_bundle, ("AWS_CA_BUNDLE",), "ca_bundle", ("REQUESTS_CA_BUNDLE",)
            )
        )
    else:
        for field, argument in (("proxy", proxy), ("ca_bundle", ca_bundle)):
            if argument is not None:
                raise ConfigurationError(
                    f"{field}= applies to the client's own session: with session= or"
                    " transport=, set it on that session or transport instead",
                    field=field,
                    source=f"argument {field}",
                )
        proxy_setting = Setting(None, "the caller's session or transport")
        ca_setting = Setting(None, "the caller's session or transport")
    return Settings(
        region=region_setting,
        endpoint=endpoint,
        max_attempts=attempts,
        retry_mode=mode,
        use_fips=fips,
        use_dualstack=dualstack,
        proxy=proxy_setting,
        ca_bundle=ca_setting,
    )


def load_ca_bundle(setting: Setting[str | ssl.SSLContext | None]) -> ssl.SSLContext | None:
    """The TLS context that trusts the bundle's certificates alone (a PEM file, or a folder
    of hashed certificates, as botocore takes either); the context itself when one was given;
    None for the default trust store. Reads the file: a missing, unreadable or certificate-less
    bundle is a :class:`~lambdaclient.ConfigurationError` naming the setting's source."""
    path = setting.value
    if path is None or isinstance(path, ssl.SSLContext):
        return path
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        problem = "the file does not exist"
    except OSError as exc:  # ssl.SSLError too: not PEM, or no certificate in it
        problem = f"it cannot be read as a bundle of PEM certificates ({exc.strerror or exc})"
    raise ConfigurationError(
        f"ca_bundle {path!r} (from {setting.source}) is not usable: {problem}",
        field="ca_bundle",
        source=setting.source,
    )


def load_profile(profile: str | None, environ: Mapping[str, str] | None = None) -> Profile:
    """The keys of ``profile`` in the shared config files, read with botocore's loader
    (empty when the profile does not exist).

    None for ``profile`` means ``AWS_DEFAULT_PROFILE``, ``AWS_PROFILE`` or "default".
    ``environ`` (default ``os.environ``) supplies those and ``AWS_CONFIG_FILE`` /
    ``AWS_SHARED_CREDENTIALS_FILE``. Reads small files, synchronously; when neither file
    exists, botocore is not even imported. Raises
    :class:`~lambdaclient.CredentialsError` when a config file cannot be parsed.
    """
    env = os.environ if environ is None else environ
    name = profile or env.get("AWS_DEFAULT_PROFILE") or env.get("AWS_PROFILE") or "default"
    config_file = env.get("AWS_CONFIG_FILE") or "~/.aws/config"
    credentials_file = env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    path = os.path.expanduser(config_file)
    if not any(os.path.isfile(os.path.expanduser(f)) for f in (config_file, credentials_file)):
        # The usual case in Lambda and containers: no botocore to import (a cold start's cost).
        return Profile(name, path)
    import botocore.exceptions
    import botocore.session

    session: Any = botocore.session.Session(profile=profile)
    session.set_config_variable("config_file", config_file)
    session.set_config_variable("credentials_file", credentials_file)
    # botocore would fall back to os.environ for the profile's name.
    session.set_config_variable("profile", name)
    try:
        scoped: object = session.get_scoped_config()
    except botocore.exceptions.ProfileNotFound:
        return Profile(name, path)
    except botocore.exceptions.BotoCoreError as exc:
        raise CredentialsError(f"Could not read the AWS config files: {exc}") from exc
    return Profile(name, path, dict(scoped) if isinstance(scoped, dict) else {})
