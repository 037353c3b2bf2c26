"""Tests for the credential providers.

Nothing here touches the network or the developer's own AWS files: every test that can reach
botocore uses the ``aws_home`` fixture, which empties the ``AWS_*`` environment, points HOME,
the shared files and the boto config into ``tmp_path`` and disables instance metadata.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lambdaclient import LambdaClient, ValidationError
from lambdaclient._credentials import (
    BotocoreCredentialProvider,
    CredentialProvider,
    Credentials,
    EnvironmentCredentialProvider,
    StaticCredentialProvider,
    credential_provider,
)
from lambdaclient._errors import CredentialsError

REPO_ROOT = Path(__file__).resolve().parents[1]

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN"

# Writes one line per run to runs.log, so concurrent runs would all be counted; fails (echoing
# fail.txt, which a test may fill with a secret) while fail.txt exists; else prints credentials
# that expire at the time in expiration.txt.
PROCESS_SCRIPT = textwrap.dedent(
    """\
    import json, pathlib, sys

    state = pathlib.Path(sys.argv[1])
    with open(state / "runs.log", "a") as log:
        log.write("run\\n")
    run = len((state / "runs.log").read_text().splitlines())
    fail = state / "fail.txt"
    if fail.exists():
        sys.stderr.write("credential source unavailable: " + fail.read_text())
        sys.exit(1)
    print(json.dumps({
        "Version": 1,
        "AccessKeyId": f"AKIDPROC{run}",
        "SecretAccessKey": f"proc-secret-{run}",
        "SessionToken": f"proc-token-{run}",
        "Expiration": (state / "expiration.txt").read_text(),
    }))
    """
)


class FakeClock:
    """An aware UTC clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait, letting the event loop run, until ``condition()`` holds: for a refresh going on
    in the background. Fails after 30 seconds."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def refreshed(provider: CredentialProvider, access_key_id: str) -> Credentials:
    """What ``provider`` gives once its background refresh has brought ``access_key_id``."""
    for _ in range(3000):
        credentials = await provider.get()
        if credentials.access_key_id == access_key_id:
            return credentials
        await asyncio.sleep(0.01)
    raise AssertionError(f"{access_key_id} never came")


def write_process_profile(home: Path, expires_in: timedelta) -> Path:
    """A ``credential_process`` profile named "proc"; returns its state directory."""
    state = home / "process-state"
    state.mkdir()
    script = home / "credential_process.py"
    script.write_text(PROCESS_SCRIPT)
    set_process_expiration(state, expires_in)
    (home / "config").write_text(
        f'[profile proc]\ncredential_process = "{sys.executable}" "{script}" "{state}"\n'
    )
    return state


def set_process_expiration(state: Path, expires_in: timedelta) -> datetime:
    # Far enough ahead in real time that botocore's own 15/10-minute windows (judged by the
    # real clock) never trigger a second run; the fake clock decides when we refresh.
    expiration = (datetime.now(UTC) + expires_in).replace(microsecond=0)
    (state / "expiration.txt").write_text(expiration.isoformat())
    return expiration


def process_runs(state: Path) -> int:
    log = state / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def env_credentials(**extra: str) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": SECRET, **extra}


# --- choosing the provider -----------------------------------------------------------------


async def test_explicit_credentials_win_over_profile_and_environment() -> None:
    explicit = Credentials("AKIDEXPLICIT", SECRET)
    provider = credential_provider(explicit, profile="dev", environ=env_credentials())
    assert isinstance(provider, StaticCredentialProvider)
    assert await provider.get() is explicit


async def test_environment_credentials_without_token() -> None:
    provider = credential_provider(environ=env_credentials())
    assert isinstance(provider, EnvironmentCredentialProvider)
    assert await provider.get() == Credentials("AKIDENV", SECRET)


async def test_environment_credentials_with_session_token() -> None:
    provider = credential_provider(environ=env_credentials(AWS_SESSION_TOKEN=TOKEN))
    assert await provider.get() == Credentials("AKIDENV", SECRET, TOKEN)


async def test_environment_legacy_security_token() -> None:
    provider = credential_provider(environ=env_credentials(AWS_SECURITY_TOKEN=TOKEN))
    assert (await provider.get()).session_token == TOKEN


async def test_environment_session_token_preferred_over_legacy() -> None:
    environ = env_credentials(AWS_SESSION_TOKEN=TOKEN, AWS_SECURITY_TOKEN="stale")
    assert (await credential_provider(environ=environ).get()).session_token == TOKEN


async def test_environment_empty_token_is_unset() -> None:
    environ = env_credentials(AWS_SESSION_TOKEN="", AWS_SECURITY_TOKEN="")
    assert (await credential_provider(environ=environ).get()).session_token is None


def test_empty_access_key_is_not_environment_credentials() -> None:
    environ = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": SECRET}
    assert isinstance(credential_provider(environ=environ), BotocoreCredentialProvider)


def test_profile_given_skips_the_environment() -> None:
    provider = credential_provider(profile="dev", environ=env_credentials())
    assert isinstance(provider, BotocoreCredentialProvider)
    assert provider.profile == "dev"


async def test_environment_without_secret_is_an_error() -> None:
    provider = credential_provider(environ={"AWS_ACCESS_KEY_ID": "AKIDENV"})
    with pytest.raises(CredentialsError, match="AWS_SECRET_ACCESS_KEY is not"):
        await provider.get()


async def test_environment_provider_without_credentials() -> None:
    with pytest.raises(CredentialsError, match="No AWS credentials found in the environment"):
        await EnvironmentCredentialProvider({}).get()


async def test_environment_expiration_is_parsed_as_utc() -> None:
    environ = env_credentials(AWS_CREDENTIAL_EXPIRATION="2099-01-02T03:04:05Z")
    creds = await credential_provider(environ=environ).get()
    assert creds.expiration == datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_environment_expiration_with_offset_and_without() -> None:
    with_offset = env_credentials(AWS_CREDENTIAL_EXPIRATION="2099-01-02T05:04:05+02:00")
    naive = env_credentials(AWS_CREDENTIAL_EXPIRATION="2099-01-02T03:04:05")
    expected = datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (await credential_provider(environ=with_offset).get()).expiration == expected
    assert (await credential_provider(environ=naive).get()).expiration == expected


async def test_environment_bad_expiration_is_an_error() -> None:
    environ = env_credentials(AWS_CREDENTIAL_EXPIRATION="tomorrow")
    with pytest.raises(CredentialsError, match="AWS_CREDENTIAL_EXPIRATION"):
        await credential_provider(environ=environ).get()


async def test_expired_environment_credentials_are_an_error() -> None:
    clock = FakeClock()
    expired = (clock.now - timedelta(seconds=1)).isoformat()
    environ = env_credentials(AWS_CREDENTIAL_EXPIRATION=expired)
    with pytest.raises(CredentialsError, match="expired") as info:
        await credential_provider(environ=environ, clock=clock).get()
    assert SECRET not in str(info.value)


async def test_environment_is_read_again_near_expiration() -> None:
    clock = FakeClock()
    environ = env_credentials(
        AWS_CREDENTIAL_EXPIRATION=(clock.now + timedelta(hours=1)).isoformat()
    )
    provider = credential_provider(environ=environ, clock=clock)
    assert (await provider.get()).access_key_id == "AKIDENV"

    environ["AWS_ACCESS_KEY_ID"] = "AKIDROTATED"
    environ["AWS_CREDENTIAL_EXPIRATION"] = (clock.now + timedelta(hours=2)).isoformat()
    clock.advance(timedelta(minutes=50))  # 10 minutes left: still fresh, not read again
    assert (await provider.get()).access_key_id == "AKIDENV"
    clock.advance(timedelta(minutes=6))  # 4 minutes left: read again
    assert (await provider.get()).access_key_id == "AKIDROTATED"


def test_environment_credentials_do_not_import_botocore() -> None:
    code = textwrap.dedent(
        """\
        import asyncio, sys
        import lambdaclient
        import lambdaclient._credentials as c

        creds = asyncio.run(c.credential_provider().get())
        assert creds.access_key_id == "AKIDSUB", creds
        assert creds.session_token == "token-sub"
        assert "botocore" not in sys.modules, "botocore was imported"
        print("ok")
        """
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env |= {
        "AWS_ACCESS_KEY_ID": "AKIDSUB",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": "token-sub",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# --- the fast path -------------------------------------------------------------------------


async def test_cached_credentials_are_returned_without_suspending(aws_home: Path) -> None:
    (aws_home / "credentials").write_text(
        f"[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = {SECRET}\n"
    )
    providers = [
        credential_provider(Credentials("AKID", SECRET)),
        credential_provider(environ=env_credentials()),
        credential_provider(),
    ]
    for provider in providers:
        await provider.get()  # the first call may load
        coroutine = provider.get()
        with pytest.raises(StopIteration):
            coroutine.send(None)  # completes in one step: nothing was awaited


# --- botocore's chain ----------------------------------------------------------------------


async def test_shared_credentials_file_profile(aws_home: Path) -> None:
    (aws_home / "credentials").write_text(
        f"[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = {SECRET}\n\n"
        f"[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = {SECRET}\n"
        f"aws_session_token = {TOKEN}\n"
    )
    dev = credential_provider(profile="dev")
    assert await dev.get() == Credentials("AKIDDEV", SECRET, TOKEN)
    assert await credential_provider().get() == Credentials("AKIDDEFAULT", SECRET)


async def test_profile_given_ignores_environment_credentials(
    aws_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    (aws_home / "credentials").write_text(
        f"[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = {SECRET}\n"
    )
    assert (await credential_provider(profile="dev").get()).access_key_id == "AKIDDEV"
    assert (await credential_provider().get()).access_key_id == "AKIDENV"


async def test_no_credentials_anywhere(aws_home: Path) -> None:
    provider = credential_provider()
    assert isinstance(provider, BotocoreCredentialProvider)
    with pytest.raises(CredentialsError, match="No AWS credentials found") as info:
        await provider.get()
    assert str(aws_home / "credentials") in str(info.value)
    assert "instance metadata" in str(info.value)

    # Not cached: once credentials appear, the same provider finds them.
    (aws_home / "credentials").write_text(
        f"[default]\naws_access_key_id = AKIDLATE\naws_secret_access_key = {SECRET}\n"
    )
    assert (await provider.get()).access_key_id == "AKIDLATE"


async def test_no_credentials_names_a_profile_only_when_one_was_chosen(
    aws_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (aws_home / "config").write_text("[profile dev]\nregion = eu-west-1\n")
    with pytest.raises(CredentialsError) as info:
        await credential_provider().get()
    assert "for profile" not in str(info.value)
    assert "the default profile" in str(info.value)

    with pytest.raises(CredentialsError, match=r"found for profile 'dev'\. ") as info:
        await credential_provider(profile="dev").get()
    assert "default" not in str(info.value)

    monkeypatch.setenv("AWS_PROFILE", "dev")
    with pytest.raises(CredentialsError, match="for profile 'dev' \\(chosen by the environment"):
        await credential_provider().get()


async def test_unknown_profile_is_a_credentials_error(aws_home: Path) -> None:
    with pytest.raises(CredentialsError, match="'nope'"):
        await credential_provider(profile="nope").get()


async def test_credential_process_gives_refreshable_credentials(aws_home: Path) -> None:
    state = write_process_profile(aws_home, timedelta(hours=1))
    expiration = datetime.fromisoformat((state / "expiration.txt").read_text())
    provider = credential_provider(profile="proc", clock=FakeClock())

    creds = await provider.get()
    assert creds == Credentials("AKIDPROC1", "proc-secret-1", "proc-token-1", expiration)
    assert creds.expiration is not None
    assert creds.expiration.tzinfo is not None
    assert process_runs(state) == 1


async def test_one_refresh_for_many_concurrent_callers(aws_home: Path) -> None:
    state = write_process_profile(aws_home, timedelta(hours=1))
    clock = FakeClock()
    provider = credential_provider(profile="proc", clock=clock)

    first = await asyncio.gather(*(provider.get() for _ in range(200)))
    assert {c.access_key_id for c in first} == {"AKIDPROC1"}
    assert process_runs(state) == 1

    new_expiration = set_process_expiration(state, timedelta(hours=2))
    clock.advance(timedelta(minutes=54))  # 6 minutes left: not yet
    assert (await provider.get()).access_key_id == "AKIDPROC1"
    assert process_runs(state) == 1

    # 4 minutes left: refreshed once, in the background; nobody waits for it meanwhile.
    clock.advance(timedelta(minutes=2))
    during = await asyncio.gather(*(provider.get() for _ in range(200)))
    assert {c.access_key_id for c in during} == {"AKIDPROC1"}
    second = await refreshed(provider, "AKIDPROC2")
    assert second == Credentials("AKIDPROC2", "proc-secret-2", "proc-token-2", new_expiration)
    assert process_runs(state) == 2

    # 30 seconds from expiry, too close to sign with: every caller waits for one refresh.
    set_process_expiration(state, timedelta(hours=3))
    clock.now = new_expiration - timedelta(seconds=30)
    third = await asyncio.gather(*(provider.get() for _ in range(200)))
    assert {c.access_key_id for c in third} == {"AKIDPROC3"}
    assert process_runs(state) == 3


async def test_cancelled_caller_does_not_cancel_the_refresh(aws_home: Path) -> None:
    state = write_process_profile(aws_home, timedelta(hours=1))
    provider = credential_provider(profile="proc", clock=FakeClock())

    cancelled = asyncio.create_task(provider.get())
    waiting = asyncio.create_task(provider.get())
    await asyncio.sleep(0)  # both are now waiting for the one load
    cancelled.cancel()
    assert (await waiting).access_key_id == "AKIDPROC1"
    assert cancelled.cancelled()
    assert process_runs(state) == 1


async def test_load_finishes_when_every_caller_is_cancelled(aws_home: Path) -> None:
    state = write_process_profile(aws_home, timedelta(hours=1))
    provider = credential_provider(profile="proc", clock=FakeClock())

    caller = asyncio.create_task(provider.get())
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    # A later caller joins the load still in flight instead of starting another.
    assert (await provider.get()).access_key_id == "AKIDPROC1"
    assert process_runs(state) == 1


async def test_failing_credential_process_is_retried(aws_home: Path) -> None:
    state = write_process_profile(aws_home, timedelta(hours=1))
    (state / "fail.txt").write_text("no network")
    provider = credential_provider(profile="proc", clock=FakeClock())

    with pytest.raises(CredentialsError, match=r"'proc'.*no network") as info:
        await provider.get()
    # The message carries the cause; the cause itself is not chained, since a source's raw
    # output may hold secrets that a logged traceback would show (see test_secrets.py).
    assert "CredentialRetrievalError" in str(info.value)
    assert info.value.__cause__ is None
    assert process_runs(state) == 1
    with pytest.raises(CredentialsError):
        await provider.get()
    assert process_runs(state) == 2  # the failure was not cached

    (state / "fail.txt").unlink()
    assert (await provider.get()).access_key_id == "AKIDPROC3"
    assert process_runs(state) == 3


async def test_failed_refresh_keeps_unexpired_credentials(
    aws_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = write_process_profile(aws_home, timedelta(hours=1))
    clock = FakeClock()
    provider = credential_provider(profile="proc", clock=clock)
    first = await provider.get()
    assert first.expiration is not None

    # The failing source echoes the secret we hold; it must not reach a message or a log.
    (state / "fail.txt").write_text(f"secret was {first.secret_access_key}")
    clock.now = first.expiration - timedelta(minutes=3)
    failed = "Refreshing AWS credentials failed"
    with caplog.at_level(logging.WARNING, logger="lambdaclient._credentials"):
        assert await provider.get() is first  # the refresh runs in the background
        await eventually(lambda: caplog.text.count(failed) == 1)
        assert process_runs(state) == 2
        assert first.secret_access_key not in caplog.text

        assert await provider.get() is first  # within the retry back-off: not run again
        assert process_runs(state) == 2
        clock.advance(timedelta(seconds=31))
        assert await provider.get() is first
        await eventually(lambda: caplog.text.count(failed) == 2)
        assert process_runs(state) == 3

    clock.now = first.expiration - timedelta(seconds=30)  # too close to expiry to keep using
    with pytest.raises(CredentialsError, match="credential source unavailable") as info:
        await provider.get()
    assert first.secret_access_key not in str(info.value)
    assert process_runs(state) == 4
    with pytest.raises(CredentialsError):
        await provider.get()
    assert process_runs(state) == 5

    (state / "fail.txt").unlink()
    set_process_expiration(state, timedelta(hours=2))
    assert (await provider.get()).access_key_id == "AKIDPROC6"


async def test_short_lived_credentials_refresh_at_half_their_life(aws_home: Path) -> None:
    state = write_process_profile(aws_home, timedelta(hours=1))
    clock = FakeClock()
    provider = credential_provider(profile="proc", clock=clock)
    first = await provider.get()
    assert first.expiration is not None

    # As if the source handed out 4-minute credentials: refresh at 2 minutes, not every call.
    clock.now = first.expiration - timedelta(minutes=4)
    provider = credential_provider(profile="proc", clock=clock)
    await provider.get()
    await provider.get()
    assert process_runs(state) == 2
    clock.advance(timedelta(minutes=1, seconds=59))
    await provider.get()
    assert process_runs(state) == 2
    clock.advance(timedelta(seconds=2))
    await provider.get()  # starts the refresh in the background
    await refreshed(provider, "AKIDPROC3")
    assert process_runs(state) == 3


async def test_botocore_credentials_already_expired_are_an_error(aws_home: Path) -> None:
    state = write_process_profile(aws_home, timedelta(hours=1))
    clock = FakeClock()
    clock.advance(timedelta(hours=2))
    with pytest.raises(CredentialsError, match="expired"):
        await credential_provider(profile="proc", clock=clock).get()
    assert process_runs(state) == 1


# --- secrets stay secret -------------------------------------------------------------------


def test_repr_and_str_hide_secret_and_token() -> None:
    creds = Credentials("AKIDEXAMPLE", SECRET, TOKEN, datetime(2099, 1, 1, tzinfo=UTC))
    for text in (
        repr(creds),
        str(creds),
        repr(StaticCredentialProvider(creds)),
        f"{creds}",
        repr([creds]),
    ):
        assert "AKIDEXAMPLE" in text
        assert SECRET not in text
        assert TOKEN not in text


# --- region --------------------------------------------------------------------------------


def _region(profile: str | None = None) -> str:
    return LambdaClient(profile=profile, credentials=Credentials("AKID", "secret")).region


def test_region_from_profile(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (aws_home / "config").write_text(
        "[default]\nregion = eu-west-1\n\n"
        "[profile dev]\nregion = us-east-2\n\n"
        "[profile bare]\noutput = json\n"
    )
    assert _region() == "eu-west-1"
    assert _region("dev") == "us-east-2"
    for no_region in ("bare", "missing"):
        with pytest.raises(ValidationError, match="no region"):
            _region(no_region)
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert _region() == "us-east-2"


def test_region_from_the_config_file_aws_config_file_names(
    aws_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other-config"
    other.write_text("[default]\nregion = ap-south-1\n\n[profile dev]\nregion = sa-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(other))
    assert _region() == "ap-south-1"
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert _region() == "sa-east-1"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(ValidationError, match="no region"):
        _region()


def test_process_script_output_is_valid_json(tmp_path: Path) -> None:
    # Guards the fixture the credential_process tests rely on.
    state = tmp_path / "state"
    state.mkdir()
    set_process_expiration(state, timedelta(hours=1))
    script = tmp_path / "p.py"
    script.write_text(PROCESS_SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script), str(state)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert json.loads(out)["AccessKeyId"] == "AKIDPROC1"


async def test_a_refresh_that_just_ended_is_not_handed_out_again() -> None:
    clock = FakeClock()

    class Flaky:
        loads = 0

        async def load(self) -> Credentials:
            self.loads += 1
            if self.loads > 1:
                raise ConnectionError("token service down")
            return Credentials("AKIDFLAKY", SECRET, TOKEN, clock.now + timedelta(hours=1))

    loader = Flaky()
    provider = credential_provider(loader, clock=clock)
    first = await provider.get()
    assert first.expiration is not None
    clock.now = first.expiration - timedelta(minutes=3)
    assert await provider.get() is first  # starts the refresh in the background
    await asyncio.sleep(0)  # it fails at once, and keeps the current credentials
    assert loader.loads == 2

    # Too close to expiry now: this call must run load() again, not reuse that outcome.
    clock.now = first.expiration - timedelta(seconds=30)
    with pytest.raises(CredentialsError, match="token service down"):
        await provider.get()
    assert loader.loads == 3
