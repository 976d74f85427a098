"""The idle timeout: a session unused for too long ends; using it keeps it going, in every
process (on SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from kupol.bootstrap import Container
from kupol.core.auth.model import SessionActivity
from kupol.core.auth.sessions import IdleSessions
from kupol.core.auth.tokens import TokenClaims
from kupol.core.errors import AuthenticationError
from kupol.settings import load_settings
from tests.conftest import add_user

ISSUED = 1_800_000_000
MINUTE = 60


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def claims() -> TokenClaims:
    return TokenClaims(
        user_id=1, version=0, expires_at=ISSUED + 8 * 3600, token_id="t1", issued_at=ISSUED
    )


@pytest.fixture
def user_one(container: Container) -> None:
    """session_activity rows name a real user."""
    container.auth.create_user(username="ivanov", password="ivanov-password-123", roles=["auditor"])


def idle(container: Container, clock: Clock, minutes: int = 30) -> IdleSessions:
    return IdleSessions(db=container.db, timeout_s=minutes * MINUTE, clock=clock)


@pytest.mark.usefixtures("user_one")
def test_a_session_in_use_stays_and_one_left_idle_ends(container: Container) -> None:
    clock = Clock(ISSUED)
    sessions = idle(container, clock)

    for minutes in (0, 20, 40, 69):  # never 30 minutes apart
        clock.at = ISSUED + minutes * MINUTE
        sessions.check(claims())
    clock.at += 31 * MINUTE

    with pytest.raises(AuthenticationError, match="unused for more than 30 min"):
        sessions.check(claims())
    with pytest.raises(AuthenticationError):
        sessions.check(claims())  # and stays ended


@pytest.mark.usefixtures("user_one")
def test_a_token_never_used_since_it_was_issued_is_idle_since_then(container: Container) -> None:
    clock = Clock(ISSUED + 31 * MINUTE)

    with pytest.raises(AuthenticationError):
        idle(container, clock).check(claims())


@pytest.mark.usefixtures("user_one")
def test_another_process_sees_a_use_made_here(container: Container) -> None:
    clock = Clock(ISSUED)
    here, there = idle(container, clock), idle(container, clock)
    here.check(claims())
    clock.at = ISSUED + 20 * MINUTE
    here.check(claims())

    clock.at = ISSUED + 45 * MINUTE  # 45 min after issue, 25 after the last use here
    there.check(claims())


@pytest.mark.usefixtures("user_one")
def test_the_database_is_written_at_most_once_a_minute_per_token(container: Container) -> None:
    clock = Clock(ISSUED)
    sessions = idle(container, clock)

    for second in range(0, 180, 2):  # a request every 2 s for 3 minutes
        clock.at = ISSUED + second
        sessions.check(claims())

    with container.db.reader() as session:
        rows = list(session.scalars(select(SessionActivity)))
    assert [(r.token_id, r.user_id, r.last_seen_at.timestamp()) for r in rows] == [
        ("t1", 1, ISSUED + 120)
    ]


@pytest.mark.usefixtures("user_one")
def test_with_no_idle_timeout_nothing_is_checked_or_written(container: Container) -> None:
    clock = Clock(ISSUED + 10 * 24 * 3600)

    idle(container, clock, minutes=0).check(claims())

    with container.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(SessionActivity)) == 0


def test_authenticate_ends_an_idle_session(container: Container, fast_passwords: None) -> None:
    _, password = add_user(container, "ivanov", "operator")
    token = container.auth.login(username="ivanov", password=password).token
    clock = Clock(time.time())
    container.auth.idle.timeout_s = 30 * MINUTE
    container.auth.idle.clock = clock

    assert container.auth.authenticate(token).username == "ivanov"
    clock.at += 29 * MINUTE
    assert container.auth.authenticate(token).username == "ivanov"
    clock.at += 31 * MINUTE

    with pytest.raises(AuthenticationError, match="unused"):
        container.auth.authenticate(token)


def test_the_idle_timeout_is_off_by_default_and_set_in_minutes() -> None:
    default = load_settings(toml_file=None, environ={})
    chosen = load_settings(toml_file=None, environ={"KUPOL_SECURITY__IDLE_TIMEOUT_MINUTES": "30"})

    assert default.security.idle_timeout_minutes == 0
    assert chosen.security.idle_timeout_minutes == 30
