"""AWS credentials, and the providers that find and refresh them.

:func:`credential_provider` picks where credentials come from, in this order:

1. credentials passed explicitly (:class:`StaticCredentialProvider`), or a provider of the
   caller's own, any object with ``async def load() -> Credentials`` (a
   :class:`CredentialsLoader`, refreshed by :class:`LoaderCredentialProvider`);
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
import contextvars
import inspect
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import attrs

from ._errors import ClientClosedError, CredentialsError, ValidationError

__all__ = [
    "BotocoreCredentialProvider",
    "CredentialProvider",
    "Credentials",
    "CredentialsLoader",
    "EnvironmentCredentialProvider",
    "LoaderCredentialProvider",
    "StaticCredentialProvider",
    "check_credentials",
    "credential_provider",
]

_log = logging.getLogger(__name__)

# Refresh when less than 5 minutes remain. botocore starts trying at 15 minutes (advisory) and
# insists at 10 (mandatory) because its refresh blocks the calling thread; ours runs in the
# background while callers keep the current credentials, so a shorter margin costs nothing, and
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


class CredentialsLoader(Protocol):
    """Your own source of AWS credentials: any object with ``async def load() -> Credentials``.

    Pass one as ``credentials=`` to :class:`~lambdaclient.LambdaClient` (or
    ``CloudWatchClient``) and the client refreshes it as it refreshes botocore's chain:

    - :meth:`load` is called on the first request, and again when fewer than 5 minutes of the
      credentials' ``expiration`` remain (half their lifetime when they live less than 10
      minutes); credentials without an ``expiration`` are kept for the client's life;
    - however many requests need credentials at once, one :meth:`load` runs and they share it;
    - while the current credentials are valid for more than another minute, the refresh runs
      in the background and requests keep signing with them; requests wait for :meth:`load`
      only when there are no credentials yet or they are that close to expiry;
    - a :meth:`load` that raises, returns something other than a
      :class:`~lambdaclient.Credentials`, or returns credentials that have expired already, is
      reported as :class:`~lambdaclient.CredentialsError` naming the provider's class, with
      the secrets the client holds redacted; the failure is not cached (the next request calls
      :meth:`load` again), and a failed background refresh keeps the current credentials (a
      warning is logged) and is tried again 30 seconds later. A failure no request waited for
      is logged at WARNING too.

    A naive ``expiration`` is read as UTC, as AWS's timestamps are. :meth:`load` runs on the
    event loop: run blocking work (a synchronous SDK call) in a thread. It runs in a task of
    its own, in an empty :mod:`contextvars` context: one load serves many requests and may
    outlive the one that started it, so its OpenTelemetry spans have no parent from the
    client. Closing the client cancels a :meth:`load` in flight.

    Example, a role assumed through boto3's STS client (in a thread: boto3 blocks)::

        class AssumedRole:
            def __init__(self, role_arn: str) -> None:
                self._sts = boto3.client("sts")
                self._role_arn = role_arn

            async def load(self) -> Credentials:
                answer = await asyncio.to_thread(
                    self._sts.assume_role, RoleArn=self._role_arn, RoleSessionName="deploy"
                )
                c = answer["Credentials"]
                return Credentials(
                    c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"], c["Expiration"]
                )

        role = AssumedRole("arn:aws:iam::123456789012:role/deploy")
        async with LambdaClient("eu-west-1", credentials=role) as client:
            ...

    The README has another, reading a secrets store.
    """

    async def load(self) -> Credentials:
        """Fresh credentials; may raise any exception to say that none could be had."""
        ...


class CredentialProvider(abc.ABC):
    """Something that gives the credentials to sign the next request with."""

    @abc.abstractmethod
    async def get(self) -> Credentials:
        """The credentials to sign with now.

        Returns without suspending while cached credentials are fresh, so calling this for
        every request is cheap. Raises :class:`~lambdaclient.CredentialsError`.
        """

    async def aclose(self) -> None:  # noqa: B027 (most providers have nothing to stop)
        """Stop any load in flight; the client's ``close()`` calls it."""


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


class _RefreshingCredentialProvider(_ExpiringCredentialProvider):
    """Credentials from a source that may be slow, refreshed by the rules
    :class:`CredentialsLoader` lists; subclasses say how to load them (:meth:`_load`) and
    name the source in messages (:meth:`_source`).

    One load at a time, shared by every caller; a caller that is cancelled does not cancel it
    for the others. Past the refresh time it runs in the background while the credentials
    held are still usable (``_EXPIRY_SKEW``), and callers wait for it only when they are not.
    The load runs in a context of its own, not the first caller's: it serves every caller,
    and it may outlive the request (and the OpenTelemetry span) that started it.
    """

    __slots__ = ("_closing", "_refreshing", "_waiting")

    def __init__(self, clock: Callable[[], datetime] | None) -> None:
        super().__init__(clock)
        self._refreshing: asyncio.Task[Credentials] | None = None
        self._waiting = 0  # callers awaiting the load in flight
        self._closing: asyncio.Task[Credentials] | None = None  # the load aclose() cancelled

    @abc.abstractmethod
    async def _load(self, redact: tuple[str, ...]) -> Credentials:
        """Credentials from the source; raises :class:`~lambdaclient.CredentialsError`, whose
        message must not show any of the secrets in ``redact`` (those held now)."""

    @abc.abstractmethod
    def _source(self) -> str:
        """Where the credentials come from, for messages: "botocore", "MyProvider.load()"."""

    async def get(self) -> Credentials:
        """The current credentials, loading or refreshing them first when needed."""
        credentials = self._held()
        if credentials is not None:
            return credentials
        task = self._refresh_task()
        current = self._credentials
        if current is not None and self._usable(current):
            return current  # the refresh goes on in the background
        self._waiting += 1
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # The load was cancelled under us by aclose(), not this caller: say so, rather than
            # pass a cancellation on to a task nobody cancelled.
            if task is self._closing and not _being_cancelled():
                raise ClientClosedError("the client was closed while loading credentials") from None
            raise
        finally:
            self._waiting -= 1

    async def aclose(self) -> None:
        """Cancel the load in flight, and wait for it to stop; a caller waiting for it gets
        :class:`~lambdaclient.ClientClosedError`."""
        task = self._refreshing
        if task is None or task.done():
            return
        self._closing = task
        task.cancel()
        if task.get_loop() is asyncio.get_running_loop():
            await asyncio.wait((task,))

    def _usable(self, credentials: Credentials) -> bool:
        """Whether a request signed with ``credentials`` now is sure to reach AWS before they
        expire."""
        expiration = credentials.expiration
        return expiration is None or self._clock() < expiration - _EXPIRY_SKEW

    def _refresh_task(self) -> asyncio.Task[Credentials]:
        """The load in flight, started if there is none."""
        loop = asyncio.get_running_loop()
        task = self._refreshing
        # A task left over from another (maybe closed) event loop cannot be awaited here; one
        # that is done, but whose done callback has not run yet, holds an outcome that must
        # not be handed out again (a failure would be cached).
        if task is None or task.done() or task.get_loop() is not loop:
            # A fresh context: the caller's would make the load a child of the caller's span,
            # which ends long before a background refresh does.
            task = loop.create_task(self._refresh(), context=contextvars.Context())
            task.add_done_callback(self._refresh_done)
            self._refreshing = task
        return task

    def _refresh_done(self, task: asyncio.Task[Credentials]) -> None:
        if self._refreshing is task:
            self._refreshing = None
        if not task.cancelled():
            # Mark the exception retrieved: a background refresh, or one whose waiters were all
            # cancelled, has nobody else to (_refresh logged it), and asyncio would log
            # "exception was never retrieved".
            task.exception()

    async def _refresh(self) -> Credentials:
        current = self._credentials
        redact = () if current is None else _secrets_of(current)
        try:
            # Held inside the try: credentials that have expired already are a failed refresh
            # like any other, with its warning and its delay before the next try.
            return self._hold(
                await self._load(redact),
                lambda at: f"{self._source()} gave AWS credentials that expired at {at}",
            )
        except CredentialsError as exc:
            if current is not None and current.expiration is not None and self._usable(current):
                self._refresh_at = min(
                    self._clock() + _RETRY_AFTER_FAILED_REFRESH,
                    current.expiration - _EXPIRY_SKEW,
                )
                _log.warning(
                    "Refreshing AWS credentials failed; using the current ones, which expire "
                    "at %s, meanwhile: %s",
                    current.expiration.isoformat(),
                    exc,
                )
                return current
            if not self._waiting:  # no caller is there to be told
                _log.warning("Loading AWS credentials failed: %s", exc)
            raise


class BotocoreCredentialProvider(_RefreshingCredentialProvider):
    """Credentials from botocore's full chain for ``profile`` (botocore's default when None).

    botocore is imported, and its chain run, in a worker thread on the first :meth:`get`, and
    again before the credentials expire, by the rules :class:`CredentialsLoader` lists (once
    for all callers, in the background while the current credentials are valid for more than
    another minute, failures not cached). Each refresh runs the whole chain again, so it
    really reaches the source (STS, SSO, the process...) rather than botocore's cached copy,
    and it picks up changes to the config files.

    ``clock`` gives the aware UTC "now" used to decide when to refresh.
    """

    __slots__ = ("_profile",)

    def __init__(
        self, profile: str | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(clock)
        self._profile = profile

    def __repr__(self) -> str:
        return f"BotocoreCredentialProvider(profile={self._profile!r})"

    @property
    def profile(self) -> str | None:
        """The profile asked for; None for botocore's default (``AWS_DEFAULT_PROFILE``,
        ``AWS_PROFILE`` or "default")."""
        return self._profile

    async def _load(self, redact: tuple[str, ...]) -> Credentials:
        # aclose() cancels this await only: a thread cannot be stopped, so botocore's chain
        # finishes on its own in the worker thread, and its result is dropped.
        return await asyncio.to_thread(_load_from_botocore, self._profile, redact)

    def _source(self) -> str:
        return f"botocore{_for_profile(self._profile)}"


class LoaderCredentialProvider(_RefreshingCredentialProvider):
    """Credentials from a caller's :class:`CredentialsLoader`, loaded and refreshed as
    :class:`BotocoreCredentialProvider` refreshes botocore's chain (see
    :class:`CredentialsLoader` for the rules), except that ``load()`` runs on the event loop.

    ``loader`` is checked by the client that makes this provider (:func:`check_credentials`).
    """

    __slots__ = ("_loader", "_name")

    def __init__(
        self, loader: CredentialsLoader, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(clock)
        self._loader = loader
        # The class, not repr(): a provider's repr could show what it holds.
        self._name = type(loader).__qualname__

    def __repr__(self) -> str:
        return f"LoaderCredentialProvider({self._name})"

    async def _load(self, redact: tuple[str, ...]) -> Credentials:
        try:
            loaded: object = await self._loader.load()
        except Exception as exc:
            # "from None", as for botocore: the message names the cause with the secrets we
            # hold redacted; chained, the raw exception would show them in a traceback.
            raise CredentialsError(
                f"Loading AWS credentials from {self._source()} failed: {_describe(exc, redact)}"
            ) from None
        if not isinstance(loaded, Credentials):
            # Its type only: the value may well be a dict of secrets.
            raise CredentialsError(
                f"{self._source()} returned {type(loaded).__qualname__}, not a "
                "lambdaclient.Credentials"
            )
        if loaded.expiration is not None and loaded.expiration.utcoffset() is None:
            loaded = attrs.evolve(loaded, expiration=_as_utc(loaded.expiration))
        return loaded

    def _source(self) -> str:
        return f"{self._name}.load()"


def check_credentials(credentials: object) -> None:
    """Raise :class:`~lambdaclient.ValidationError` unless ``credentials`` is None, a
    :class:`Credentials`, or a :class:`CredentialsLoader` (an object whose ``load`` is a
    coroutine function). Checked when a client is made, so that a wrong object fails there
    rather than on the first request."""
    if credentials is None or isinstance(credentials, Credentials):
        return
    name = type(credentials).__qualname__
    expected = "a Credentials, or an object with async def load() -> Credentials"
    if isinstance(credentials, type):
        raise ValidationError(
            f"credentials must be {expected}: got the class {credentials.__qualname__}, "
            "not an instance of it",
            field="credentials",
        )
    load = getattr(credentials, "load", None)
    if load is None:
        raise ValidationError(f"credentials must be {expected}, not {name}", field="credentials")
    if not inspect.iscoroutinefunction(load):
        raise ValidationError(
            f"credentials: {name}.load must be a coroutine function (async def load(self) ->"
            " Credentials); a synchronous load would block the event loop",
            field="credentials",
        )


def credential_provider(
    credentials: Credentials | CredentialsLoader | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> CredentialProvider:
    """The provider for these settings: ``credentials`` if given (a :class:`CredentialsLoader`
    is refreshed by a :class:`LoaderCredentialProvider`); else, when no ``profile`` is
    given (as botocore skips the environment for an explicit profile), the environment when
    ``AWS_ACCESS_KEY_ID`` is set, without importing botocore; else botocore's full chain.

    ``environ`` (default ``os.environ``) is where the environment credentials are looked for;
    botocore's chain always reads the process environment. ``clock`` gives the aware UTC "now"
    that expiry is judged by (for tests).

    Example::

        provider = credential_provider(profile="deploy")
        creds = await provider.get()
    """
    if isinstance(credentials, Credentials):
        return StaticCredentialProvider(credentials)
    if credentials is not None:
        return LoaderCredentialProvider(credentials, clock=clock)
    if profile is None:
        env = os.environ if environ is None else environ
        if env.get(_ENV_ACCESS_KEY):
            return EnvironmentCredentialProvider(env, clock=clock)
    return BotocoreCredentialProvider(profile, clock=clock)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


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
