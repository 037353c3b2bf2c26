"""A client's settings, resolved as botocore resolves them: the argument, then the environment,
then the profile in the shared config file, then the default.

Each value keeps its source ("argument max_attempts", "environment variable AWS_MAX_ATTEMPTS",
"profile 'dev' in /home/me/.aws/config"), so that a bad one is refused with a
:class:`~lambdaclient.ConfigurationError` saying where it came from, at construction, before
anything is sent. :func:`resolve_settings` is pure: the environment is a mapping and the
profile a function, called only when a setting is not found before it. The I/O is in
:func:`load_profile` (the shared config and credentials files, read as botocore reads them,
without importing it) and :func:`load_ca_bundle` (the certificates).
"""

from __future__ import annotations

import configparser
import functools
import logging
import os
import re
import shlex
import ssl
import stat
from collections.abc import Callable, Mapping
from typing import Generic, Literal, TypeAlias, TypeVar
from urllib.parse import urlsplit

import attrs

from ._endpoints import Endpoint, Service, check_region, configured_endpoint_url, resolve_endpoint
from ._errors import ConfigurationError, ValidationError

__all__ = [
    "CABundle",
    "Profile",
    "Proxy",
    "RetryMode",
    "Setting",
    "Settings",
    "load_ca_bundle",
    "load_profile",
    "resolve_settings",
]

logger = logging.getLogger("lambdaclient")

T = TypeVar("T")

RetryMode: TypeAlias = Literal["standard", "legacy"]
"""The retry modes a client takes (botocore's ``adaptive`` is refused)."""
Proxy: TypeAlias = str | Literal[False]
"""A proxy's URL, or False for no proxy whatever the environment says."""
CABundle: TypeAlias = str | os.PathLike[str] | ssl.SSLContext
"""The certificates to trust: a PEM file's path, a folder of certificates named by subject
hash, or a TLS context that verifies certificates and host names."""

DEFAULT_MAX_ATTEMPTS = 3
"""botocore's default in its standard retry mode: the first attempt and two retries."""

_RETRY_MODES = ("standard", "legacy", "adaptive")  # botocore's, spelt as it spells them
_HASHED_CERTIFICATE = re.compile(r"[0-9a-f]{8}\.[0-9]+", re.ASCII)
_WHOLE_NUMBER = re.compile(r"\s*[0-9]{1,9}\s*", re.ASCII)
_DEFAULT = "default"


@attrs.frozen(slots=True)
class Setting(Generic[T]):
    """A resolved value and where it came from."""

    value: T
    source: str


@attrs.frozen(slots=True)
class Profile:
    """The settings one profile gives in the shared files: only the keys
    :func:`resolve_settings` reads (none of the credentials), each with the file it is in as
    its source (none when there is no such profile)."""

    values: Mapping[str, Setting[str]] = attrs.field(factory=dict)


def _redact_proxy(url: str) -> str:
    """``url`` with everything between its scheme and its last ``@`` (a proxy's user name
    and password, even one holding ``/`` or ``@`` unescaped) replaced by ``***``."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    _, at, host = rest.rpartition("@")
    return f"{scheme}{separator}{'***@' if at else ''}{host}"


@attrs.frozen(slots=True)
class Settings:
    """What :func:`resolve_settings` decided that a client keeps (the FIPS and dual-stack
    flags are in ``endpoint``; the retry mode is only checked, all modes retrying alike).
    ``proxy`` and ``ca_bundle`` are None (the bundle with the reason as its source) when the
    caller brings the session or transport. The bundle keeps its source for the error a
    bundle that cannot be loaded raises."""

    region: str
    endpoint: Endpoint
    max_attempts: int
    proxy: str | None = attrs.field(repr=False)  # its URL may hold a password
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
            setting = self._profile().values.get(profile_key)
            if setting is not None and setting.value != "":
                return setting.value, setting.source
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


def _check_retry_mode(value: object, source: str) -> None:
    """Refuse a mode other than botocore's "standard" and "legacy", which retry alike here."""
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
    shown = _redact_proxy(value)
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


def _proxy(argument: object, environ: Mapping[str, str], endpoint: Endpoint) -> str | None:
    """The proxy for ``endpoint``: the argument (False: none), else the environment's proxy
    for the endpoint's scheme unless ``NO_PROXY`` matches its host, as botocore decides
    (``urllib``'s rules: no CIDR ranges, and no exception for loopback addresses)."""
    if argument is False:
        return None
    if argument is not None:
        value, source = argument, "argument proxy"
    else:
        proxies = _environment_proxies(environ)
        scheme = endpoint.url.split(":", 1)[0]
        if scheme not in proxies or _bypasses(endpoint.host, proxies.get("no")):
            return None
        names = sorted(name for name in environ if name.lower() == f"{scheme}_proxy")
        value, source = proxies[scheme], f"environment variable {names[-1]}"  # lowercase wins
    url = _proxy_url(value, source)
    logger.debug("requests go through the proxy %s (from %s)", _redact_proxy(url), source)
    return url


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

    # botocore drops a FIPS or dual-stack flag from the environment or the profile when an
    # endpoint URL is configured: neither is looked for then (the profile is not read for it).
    custom = configured_endpoint_url(endpoint_url, environ, service) is not None
    flags: list[bool] = []
    for field, argument, variable, key in (
        ("use_fips", use_fips, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"),
        ("use_dualstack", use_dualstack, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint"),
    ):
        found = sources.find(
            field, argument, () if custom else (variable,), None if custom else key
        )
        flags.append(found is not None and _boolean(field, *found))
    endpoint = resolve_endpoint(
        region_value,
        endpoint_url=endpoint_url,
        use_fips=flags[0],
        use_dualstack=flags[1],
        environ=environ,
        service=service,
    )

    found = sources.find("max_attempts", max_attempts, ("AWS_MAX_ATTEMPTS",), "max_attempts")
    attempts = DEFAULT_MAX_ATTEMPTS if found is None else _attempts(*found)
    found = sources.find("retry_mode", retry_mode, ("AWS_RETRY_MODE",), "retry_mode")
    if found is not None:
        _check_retry_mode(*found)

    if own_session:
        proxy_url = _proxy(proxy, environ, endpoint)
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
        proxy_url = None
        ca_setting = Setting(None, "the caller's session or transport")
    return Settings(
        region=region_value,
        endpoint=endpoint,
        max_attempts=attempts,
        proxy=proxy_url,
        ca_bundle=ca_setting,
    )


def load_ca_bundle(setting: Setting[str | ssl.SSLContext | None]) -> ssl.SSLContext | None:
    """The TLS context that trusts the bundle's certificates alone (a PEM file, or a folder
    of hashed certificates, as botocore takes either); the context itself when one was given;
    None for the default trust store. Reads the file, unless a context was made for it as it
    is now (same path, file, modification time and size): a missing, unreadable or
    certificate-less bundle (a folder with no file named as OpenSSL looks certificates up,
    ``<subject hash>.<n>``) is a :class:`~lambdaclient.ConfigurationError` naming the
    setting's source."""
    path = setting.value
    if path is None or isinstance(path, ssl.SSLContext):
        return path
    try:
        found = os.stat(path)
        folder = stat.S_ISDIR(found.st_mode)
        # OpenSSL looks a folder's certificates up by their subject hashes, when a handshake
        # needs one: without this check, a folder holding none would fail every request.
        if folder and not any(_HASHED_CERTIFICATE.fullmatch(entry) for entry in os.listdir(path)):
            problem = (
                "the folder holds no certificate named by its subject hash (hash.0, as"
                " `openssl rehash` names them)"
            )
        else:
            return _trusting(
                os.path.abspath(path), folder, (found.st_ino, found.st_mtime_ns, found.st_size)
            )
    except FileNotFoundError:
        problem = "the file does not exist"
    except OSError as exc:  # ssl.SSLError too: not PEM, or no certificate in it
        problem = f"it cannot be read as a bundle of PEM certificates ({exc.strerror or exc})"
    raise ConfigurationError(
        f"ca_bundle {path!r} (from {setting.source}) is not usable: {problem}",
        field="ca_bundle",
        source=setting.source,
    )


# Loading a bundle costs 27 ms for the system's (144 certificates, 215 KB), against 0.1 ms
# for the rest of a client's construction, and a process builds its clients with the same
# bundle: one context serves them all. ``version`` (the file's inode, modification time and
# size) makes a replaced or edited bundle a new entry; a failure is not cached.
@functools.lru_cache(maxsize=8)
def _trusting(path: str, folder: bool, version: tuple[int, int, int]) -> ssl.SSLContext:
    if folder:
        return ssl.create_default_context(capath=path)
    return ssl.create_default_context(cafile=path)


_PROFILE_KEYS = frozenset(
    {
        "region",
        "max_attempts",
        "retry_mode",
        "use_fips_endpoint",
        "use_dualstack_endpoint",
        "ca_bundle",
    }
)
"""The profile keys :func:`resolve_settings` reads; the other keys (credentials among them)
are not kept."""


def _sections(path: str) -> dict[str, dict[str, str]]:
    """The sections of the INI file at ``path``, with the keys of :data:`_PROFILE_KEYS` in
    each; no section when there is no such file. Parsed as botocore parses it (its
    ``raw_config_parse``: a ``RawConfigParser``, so a ``[DEFAULT]`` section's keys are in
    every section, and a file that cannot be opened is skipped). A file that cannot be parsed
    is a :class:`~lambdaclient.ConfigurationError`, as botocore refuses it."""
    if not os.path.isfile(path):
        return {}
    parser = configparser.RawConfigParser()
    try:
        parser.read([path])
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"the AWS shared file {path} cannot be parsed: {exc}",
            field="profile",
            source=f"file {path}",
        ) from None
    return {
        section: {
            key: parser.get(section, key)
            for key in _PROFILE_KEYS
            if parser.has_option(section, key)
        }
        for section in parser.sections()
    }


def _config_file_profile(sections: Mapping[str, dict[str, str]], name: str) -> dict[str, str]:
    """Profile ``name``'s keys in a config file: the section ``[default]`` for "default",
    ``[profile NAME]`` for any (the name may be quoted), the last such section winning, as
    in botocore's ``build_profile_map``; any other section is not a profile."""
    found: dict[str, str] = {}
    for section, keys in sections.items():
        if section == "default" == name:
            found = keys
        elif section.startswith("profile"):
            try:
                words = shlex.split(section)
            except ValueError:
                continue
            if len(words) == 2 and words[1] == name:
                found = keys
    return found


def _credentials_file_profile(sections: Mapping[str, dict[str, str]], name: str) -> dict[str, str]:
    """Profile ``name``'s keys in a credentials file: its section of that very name."""
    return sections.get(name, {})


def load_profile(profile: str | None, environ: Mapping[str, str]) -> Profile:
    """The settings of ``profile`` in the shared files, read as botocore reads them, without
    importing it (a cold start's cost); no settings when the profile is in neither file.

    None for ``profile`` means ``AWS_DEFAULT_PROFILE``, ``AWS_PROFILE`` or "default".
    ``environ`` supplies those and ``AWS_CONFIG_FILE`` / ``AWS_SHARED_CREDENTIALS_FILE``.
    Like botocore, this reads the profile from the config file (``~/.aws/config``), then
    from the credentials file (``~/.aws/credentials``, where a section is a profile's bare
    name), whose keys win: a setting placed in the credentials file is used, and its source
    names that file. Reads small files, synchronously.
    """
    name = profile or environ.get("AWS_DEFAULT_PROFILE") or environ.get("AWS_PROFILE") or "default"
    values: dict[str, Setting[str]] = {}
    for variable, default, in_file in (
        ("AWS_CONFIG_FILE", "~/.aws/config", _config_file_profile),
        ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials", _credentials_file_profile),
    ):
        # botocore reads no file when the variable is set empty.
        path = os.path.expanduser(os.path.expandvars(environ.get(variable, default)))
        source = f"profile {name!r} in {path}"
        values |= {
            key: Setting(value, source) for key, value in in_file(_sections(path), name).items()
        }
    return Profile(values)
