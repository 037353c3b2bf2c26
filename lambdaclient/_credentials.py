"""AWS credentials, and the providers that find and refresh them.

:func:`credential_provider` picks where credentials come from, in this order:

1. credentials passed explicitly (:class:`StaticCredentialProvider`);
2. unless a profile is named, the ``AWS_*`` environment variables
   (:class:`EnvironmentCredentialProvider`), read without importing botocore, because importing
   it costs more than a cold start should;
3. botocore's full chain (:class:`BotocoreCredentialProvider`): shared files, assume-role, web
   identity, SSO, ``credential_process``, container and instance metadata. It runs in a worker
   thread, because every one of those may block on the network or a subprocess.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ._config import load_profile
from ._errors import CredentialsError

__all__ = [
    "BotocoreCredentialProvider",
    "CredentialProvider",
    "Credentials",
    "EnvironmentCredentialProvider",
    "StaticCredentialProvider",
    "credential_provider",
    "region_from_profile",
]

_log = logging.getLogger(__name__)

# Refresh when less than 5 minutes remain. botocore starts trying at 15 minutes (advisory) and
# insists at 10 (mandatory) because its refresh blocks the calling thread; ours runs in a worker
# thread while callers keep the current credentials, so a shorter margin costs nothing, and
# 5 minutes still covers clock skew and a slow STS/SSO call. Credentials that live less than
# twice the margin are refreshed at half their lifetime instead, so that short-lived ones (a
# credential_process giving 4 minutes) do not trigger a refresh on every call.
_REFRESH_MARGIN = timedelta(minutes=5)
# When a refresh fails while the current credentials are still valid, keep signing with them
# (botocore does the same in its advisory window), but only until this close to their expiry:
# a request signed later could reach AWS after they have expired.
_EXPIRY_SKEW = timedelta(minutes=1)
# ...and try again no sooner than this, so that a broken source is not run on every call.
_RETRY_AFTER_FAILED_REFRESH = timedelta(seconds=30)
# botocore's messages can carry a credential_process's stderr; keep ours readable.
_MAX_CAUSE_CHARS = 500

_ENV_ACCESS_KEY = "AWS_ACCESS_KEY_ID"
_ENV_SECRET_KEY = "AWS_SECRET_ACCESS_KEY"
# AWS_SESSION_TOKEN is the name every SDK agrees on. botocore checks the legacy
# AWS_SECURITY_TOKEN first; we prefer the standard one when both are set and differ.
_ENV_TOKENS = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_ENV_EXPIRATION = "AWS_CREDENTIAL_EXPIRATION"


@attrs.frozen(slots=True)
class Credentials:
    """An AWS key pair, with the session token of temporary credentials.

    The secret key and the session token never appear in ``repr()`` or ``str()``.

    Example::

        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    """

    access_key_id: str
    secret_access_key: str = attrs.field(repr=False)
    session_token: str | None = attrs.field(default=None, repr=False)
    expiration: datetime | None = None


class CredentialProvider(abc.ABC):
    """Something that gives the credentials to sign the next request with."""

    @abc.abstractmethod
    async def get(self) -> Credentials:
        """The credentials to sign with now.

        Returns without suspending while cached credentials are fresh, so calling this for
        every request is cheap. Raises :class:`~lambdaclient.CredentialsError`.
        """


class StaticCredentialProvider(CredentialProvider):
    """Always gives the credentials it was made with; it never refreshes them."""

    __slots__ = ("_credentials",)

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"StaticCredentialProvider({self._credentials!r})"

    async def get(self) -> Credentials:
        """The credentials given."""
        return self._credentials


class _ExpiringCredentialProvider(CredentialProvider):
    """Holds the credentials it last loaded until their refresh time (see ``_REFRESH_MARGIN``);
    subclasses say how to load them."""

    __slots__ = ("_clock", "_credentials", "_refresh_at")

    def __init__(self, clock: Callable[[], datetime] | None) -> None:
        self._clock = _utc_now if clock is None else clock
        self._credentials: Credentials | None = None
        # None with credentials held: they do not expire, never reload them (as botocore).
        self._refresh_at: datetime | None = None

    def _held(self) -> Credentials | None:
        """The credentials held, or None when there are none or it is time to refresh them."""
        credentials = self._credentials
        if credentials is not None and (
            self._refresh_at is None or self._clock() < self._refresh_at
        ):
            return credentials
        return None

    def _hold(self, credentials: Credentials, expired: Callable[[str], str]) -> Credentials:
        """Hold freshly loaded credentials; refuse them if they have expired already, with the
        message ``expired`` gives for the time they expired."""
        now = self._clock()
        if credentials.expiration is not None and credentials.expiration <= now:
            raise CredentialsError(expired(credentials.expiration.isoformat()))
        self._credentials = credentials
        self._refresh_at = _refresh_time(credentials.expiration, now)
        return credentials


class EnvironmentCredentialProvider(_ExpiringCredentialProvider):
    """Credentials from ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``
    (or the legacy ``AWS_SECURITY_TOKEN``) and ``AWS_CREDENTIAL_EXPIRATION``.

    The variables are read on the first :meth:`get`, and read again only when
    ``AWS_CREDENTIAL_EXPIRATION`` is near, as botocore does. Never imports botocore.
    """

    __slots__ = ("_environ",)

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(clock)
        self._environ: Mapping[str, str] = os.environ if environ is None else environ

    def __repr__(self) -> str:
        return "EnvironmentCredentialProvider()"

    async def get(self) -> Credentials:
        """The credentials in the environment."""
        credentials = self._held()
        if credentials is not None:
            return credentials
        # Reading a few variables is cheap: no thread, no suspension.
        credentials = _credentials_from_environ(self._environ)
        if credentials is None:
            raise CredentialsError(
                f"No AWS credentials found in the environment: {_ENV_ACCESS_KEY} is not set"
            )
        return self._hold(
            credentials,
            lambda at: (
                f"The AWS credentials in the environment expired at {at} ({_ENV_EXPIRATION})"
            ),
        )


class BotocoreCredentialProvider(_ExpiringCredentialProvider):
    """Credentials from botocore's full chain for ``profile`` (botocore's default when None).

    botocore is imported, and its chain run, in a worker thread on the first :meth:`get`, and
    again when the credentials are within 5 minutes of their expiry. However many callers
    ask at once, one load runs and they all wait for it; a caller that is cancelled does not
    cancel it for the others. Each refresh runs the whole chain again, so it really reaches
    the source (STS, SSO, the process...) rather than botocore's cached copy, and it picks up
    changes to the config files.

    If a refresh fails while the current credentials are valid for more than another minute,
    they are kept (a warning is logged) and the refresh is tried again 30 seconds later;
    otherwise :class:`~lambdaclient.CredentialsError` is raised, and that failure is not
    cached: the next :meth:`get` tries again.

    ``clock`` gives the aware UTC "now" used to decide when to refresh.
    """

    __slots__ = ("_profile", "_refreshing")

    def __init__(
        self, profile: str | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(clock)
        self._profile = profile
        self._refreshing: asyncio.Task[Credentials] | None = None

    def __repr__(self) -> str:
        return f"BotocoreCredentialProvider(profile={self._profile!r})"

    @property
    def profile(self) -> str | None:
        """The profile asked for; None for botocore's default (``AWS_PROFILE`` or "default")."""
        return self._profile

    async def get(self) -> Credentials:
        """The current credentials, loading or refreshing them first when needed."""
        credentials = self._held()
        if credentials is not None:
            return credentials
        loop = asyncio.get_running_loop()
        task = self._refreshing
        # A task left over from another (maybe closed) event loop cannot be awaited here.
        if task is None or task.get_loop() is not loop:
            task = loop.create_task(self._refresh())
            task.add_done_callback(self._refresh_done)
            self._refreshing = task
        return await asyncio.shield(task)

    def _refresh_done(self, task: asyncio.Task[Credentials]) -> None:
        if self._refreshing is task:
            self._refreshing = None
        if not task.cancelled():
            # Mark the exception retrieved: when every waiter was cancelled nobody else will,
            # and asyncio would log "exception was never retrieved".
            task.exception()

    async def _refresh(self) -> Credentials:
        current = self._credentials
        redact = () if current is None else _secrets_of(current)
        try:
            fresh = await asyncio.to_thread(_load_from_botocore, self._profile, redact)
        except CredentialsError as exc:
            now = self._clock()
            if (
                current is not None
                and current.expiration is not None
                and now < current.expiration - _EXPIRY_SKEW
            ):
                self._refresh_at = min(
                    now + _RETRY_AFTER_FAILED_REFRESH, current.expiration - _EXPIRY_SKEW
                )
                _log.warning(
                    "Refreshing AWS credentials failed; using the current ones, which expire "
                    "at %s, meanwhile: %s",
                    current.expiration.isoformat(),
                    exc,
                )
                return current
            raise
        return self._hold(
            fresh,
            lambda at: (
                f"botocore gave AWS credentials{_for_profile(self._profile)} that expired at {at}"
            ),
        )


def credential_provider(
    credentials: Credentials | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> CredentialProvider:
    """The provider for these settings: ``credentials`` if given; else, when no ``profile`` is
    given (as botocore skips the environment for an explicit profile), the environment when
    ``AWS_ACCESS_KEY_ID`` is set, without importing botocore; else botocore's full chain.

    ``environ`` (default ``os.environ``) is where the environment credentials are looked for;
    botocore's chain always reads the process environment. ``clock`` gives the aware UTC "now"
    that expiry is judged by (for tests).

    Example::

        provider = credential_provider(profile="deploy")
        creds = await provider.get()
    """
    if credentials is not None:
        return StaticCredentialProvider(credentials)
    if profile is None:
        env = os.environ if environ is None else environ
        if env.get(_ENV_ACCESS_KEY):
            return EnvironmentCredentialProvider(env, clock=clock)
    return BotocoreCredentialProvider(profile, clock=clock)


def region_from_profile(
    profile: str | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The ``region`` the shared config files give for ``profile``, or None.

    None for ``profile`` means ``AWS_DEFAULT_PROFILE``, ``AWS_PROFILE`` or "default", and a
    profile that does not exist gives None. ``environ`` (default ``os.environ``) supplies those
    and ``AWS_CONFIG_FILE`` / ``AWS_SHARED_CREDENTIALS_FILE``. Reads small files with botocore's
    config loader, synchronously. Meant for when neither an argument nor ``AWS_REGION`` /
    ``AWS_DEFAULT_REGION`` gave a region; this does not look at those variables. Raises
    :class:`~lambdaclient.CredentialsError` when a config file cannot be parsed.
    """
    region = load_profile(profile, environ).values.get("region")
    return region if isinstance(region, str) and region else None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _refresh_time(expiration: datetime | None, now: datetime) -> datetime | None:
    if expiration is None:
        return None
    return expiration - min(_REFRESH_MARGIN, (expiration - now) / 2)


def _secrets_of(credentials: Credentials) -> tuple[str, ...]:
    return tuple(s for s in (credentials.secret_access_key, credentials.session_token) if s)


def _for_profile(profile: str | None) -> str:
    return "" if profile is None else f" for profile {profile!r}"


def _describe(exc: BaseException, redact: tuple[str, ...]) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    # Defence in depth: a source's error output should not echo secrets, but if it echoes
    # the ones we hold, they still must not reach a log through our message.
    for secret in redact:
        text = text.replace(secret, "***")
    if len(text) > _MAX_CAUSE_CHARS:
        text = text[: _MAX_CAUSE_CHARS - 3] + "..."
    return text


def _parse_expiration(value: str, source: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CredentialsError(
            f"{source} is not an ISO 8601 timestamp: {value!r}"
        ) from None  # the ValueError says nothing more
    return _as_utc(parsed)


def _as_utc(moment: datetime) -> datetime:
    # Without an offset, AWS timestamps are UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _credentials_from_environ(environ: Mapping[str, str]) -> Credentials | None:
    # As botocore: an empty variable counts as unset.
    access_key = environ.get(_ENV_ACCESS_KEY, "")
    if not access_key:
        return None
    secret_key = environ.get(_ENV_SECRET_KEY, "")
    if not secret_key:
        raise CredentialsError(f"{_ENV_ACCESS_KEY} is set but {_ENV_SECRET_KEY} is not")
    token = next((environ[name] for name in _ENV_TOKENS if environ.get(name)), None)
    raw_expiration = environ.get(_ENV_EXPIRATION, "")
    expiration = _parse_expiration(raw_expiration, _ENV_EXPIRATION) if raw_expiration else None
    return Credentials(access_key, secret_key, token, expiration)


def _load_from_botocore(profile: str | None, redact: tuple[str, ...]) -> Credentials:
    """Run botocore's chain; in a worker thread, as it may block on the network or a process."""
    try:
        # Lazy: most deployments have their credentials in the environment and never pay for
        # importing botocore; those that do pay in this thread, not on the event loop.
        import botocore.session

        # A new session each time: botocore's Credentials object would hand back its cached
        # copy until its own 15/10-minute windows (on its own clock) say otherwise.
        session: Any = botocore.session.Session(profile=profile)
        found: Any = session.get_credentials()
        if found is None:
            raise CredentialsError(_no_credentials_message(session, profile))
        frozen: Any = found.get_frozen_credentials()
        # Read after get_frozen_credentials(): deferred credentials (SSO, assume-role) only
        # learn their expiry when they first fetch. botocore has no public accessor for it.
        expiry: object = getattr(found, "_expiry_time", None)
        access_key: object = frozen.access_key
        secret_key: object = frozen.secret_key
        token: object = frozen.token
    except CredentialsError:
        raise
    except Exception as exc:
        # "from None": the message already says what failed, with the secrets we hold
        # redacted; chained, the cause (a process's raw output, say) would show them in
        # every logged traceback.
        raise CredentialsError(
            f"Loading AWS credentials{_for_profile(profile)} failed: {_describe(exc, redact)}"
        ) from None
    if not (isinstance(access_key, str) and access_key and isinstance(secret_key, str)):
        raise CredentialsError(f"botocore gave incomplete AWS credentials{_for_profile(profile)}")
    return Credentials(
        access_key,
        secret_key,
        token if isinstance(token, str) and token else None,
        # botocore parses with dateutil: usually tz-aware (UTC or local), naive when the
        # source gave no offset.
        _as_utc(expiry) if isinstance(expiry, datetime) else None,
    )


def _no_credentials_message(session: Any, profile: str | None) -> str:
    """What was looked for, where. A profile is named only when one was chosen, by the caller
    or by ``AWS_PROFILE``/``AWS_DEFAULT_PROFILE``; with none, botocore reads the files'
    ``default`` profile, and the message says so rather than name a profile nobody gave."""
    credentials_file: object = session.get_config_variable("credentials_file")
    config_file: object = session.get_config_variable("config_file")
    chosen: object = profile if profile is not None else session.profile
    if profile is not None:
        env = "not the environment (skipped because a profile was given)"
    else:
        env = f"the environment ({_ENV_ACCESS_KEY}, {_ENV_SECRET_KEY})"
    if chosen:
        by_environment = "" if profile is not None else " (chosen by the environment)"
        found_for = f" for profile {chosen!r}{by_environment}"
        section, remedy = "that profile", "configure the profile"
    else:
        found_for = ""
        section, remedy = "the default profile", "configure a default profile, or name a profile"
    return (
        f"No AWS credentials found{found_for}. Looked in {env}, {section} in the shared "
        f"credentials file {credentials_file} and the config file {config_file} (keys, "
        "credential_process, SSO, assume-role, web identity), the container credentials "
        "endpoint (if AWS_CONTAINER_CREDENTIALS_* is set) and EC2 instance metadata. Pass "
        f"credentials, set the environment variables, or {remedy}."
    )
