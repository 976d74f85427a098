"""Two-factor sign-in and session expiry through the API: enrolling, the code step, recovery
codes, enrolment where it is required, switching off, resets, and idle sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.core.auth import totp
from kupol.core.auth.sessions import SessionPolicy
from tests.conftest import add_user, make_settings
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
START = 1_800_000_000.0


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock(container: Container) -> Clock:
    clock = Clock(START)
    container.auth.mfa.clock = clock
    return clock


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def enrol_from_session(api: TestClient, headers: dict[str, str], clock: Clock) -> Any:
    """Switch two-factor sign-in on from a session; returns the key and recovery codes."""
    setup = api.post("/api/auth/mfa/setup", headers=headers).json()
    key = totp.decode_secret(setup["secret"])
    confirmed = api.post(
        "/api/auth/mfa/confirm", json={"code": totp.code_at(key, clock.at)}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.at += 30
    return key, confirmed.json()


def password_step(api: TestClient, username: str = "ivanov") -> dict[str, Any]:
    response = api.post(
        "/api/auth/login", json={"username": username, "password": f"{username}-password-123"}
    )
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert ("mfa" in body) == ("kupol_session" not in response.cookies)  # no session before it
    return body


def test_after_enrolling_a_login_takes_the_code_and_each_code_works_once(
    api: TestClient, container: Container, clock: Clock
) -> None:
    headers = login_as(api, container, "ivanov", "investigator")
    key, enrolled = enrol_from_session(api, headers, clock)
    assert enrolled["login"] is None
    assert len(enrolled["recovery_codes"]) == 8

    step = password_step(api)
    assert step["mfa"] == "code"
    assert step["expires_in"] == 300
    assert api.get("/api/me", headers=bearer(step["mfa_token"])).status_code == 401

    wrong = api.post("/api/auth/mfa/verify", json={"mfa_token": step["mfa_token"], "code": "1"})
    code = totp.code_at(key, clock.at)
    right = api.post("/api/auth/mfa/verify", json={"mfa_token": step["mfa_token"], "code": code})
    again = api.post("/api/auth/mfa/verify", json={"mfa_token": step["mfa_token"], "code": code})

    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "wrong code"
    assert right.status_code == 200, right.text
    assert "kupol_session" in right.cookies
    assert api.get("/api/me", headers=bearer(right.json()["access_token"])).status_code == 200
    assert again.status_code == 401
    assert "already used" in again.json()["detail"]


def test_a_recovery_code_stands_in_for_the_phone_once(
    api: TestClient, container: Container, clock: Clock
) -> None:
    headers = login_as(api, container, "ivanov", "investigator")
    _, enrolled = enrol_from_session(api, headers, clock)
    recovery = enrolled["recovery_codes"][3]

    first = api.post(
        "/api/auth/mfa/verify",
        json={"mfa_token": password_step(api)["mfa_token"], "code": recovery},
    )
    second = api.post(
        "/api/auth/mfa/verify",
        json={"mfa_token": password_step(api)["mfa_token"], "code": recovery},
    )

    assert first.status_code == 200
    assert second.status_code == 401


def test_wrong_codes_are_counted_like_wrong_passwords(
    api: TestClient, container: Container, clock: Clock
) -> None:
    headers = login_as(api, container, "ivanov", "investigator")
    key, _ = enrol_from_session(api, headers, clock)
    token = password_step(api)["mfa_token"]
    limit = container.settings.security.login_max_failures
    right = totp.code_at(key, clock.at)
    wrong = "000000" if right != "000000" else "111111"

    answers = [
        api.post("/api/auth/mfa/verify", json={"mfa_token": token, "code": wrong}).status_code
        for _ in range(limit)
    ]
    blocked = api.post("/api/auth/mfa/verify", json={"mfa_token": token, "code": right})

    assert answers == [401] * limit
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_switching_off_needs_a_current_code(
    api: TestClient, container: Container, clock: Clock
) -> None:
    headers = login_as(api, container, "ivanov", "investigator")
    key, _ = enrol_from_session(api, headers, clock)

    wrong = api.post("/api/auth/mfa/disable", json={"code": "abcde-fghjk"}, headers=headers)
    right = api.post(
        "/api/auth/mfa/disable", json={"code": totp.code_at(key, clock.at)}, headers=headers
    )

    assert wrong.status_code == 422  # the session stays: a mistyped code is not a logout
    assert right.status_code == 204
    assert "access_token" in password_step(api)


def test_an_administrator_can_reset_a_lost_second_factor(
    api: TestClient, container: Container, clock: Clock
) -> None:
    headers = login_as(api, container, "ivanov", "investigator")
    enrol_from_session(api, headers, clock)
    admin = login_as(api, container, "boss", "admin")

    refused = api.post("/api/users/ivanov/mfa/reset", headers=headers)
    reset = api.post("/api/users/ivanov/mfa/reset", headers=admin)

    assert refused.status_code == 403
    assert reset.status_code == 204
    assert api.get("/api/me", headers=headers).status_code == 401  # their sessions ended
    assert "access_token" in password_step(api)


@pytest.fixture
def strict(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """Two factors required of the default roles; sessions end after 30 idle minutes."""
    settings = make_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        security={"mfa_required": True, "idle_timeout_minutes": 30},
    )
    container = build_container(settings)
    yield container
    container.db.dispose()


@pytest.fixture
def strict_api(strict: Container) -> Iterator[TestClient]:
    with TestClient(create_app(strict)) as client:
        yield client


def test_the_settings_reach_the_auth_service(strict: Container) -> None:
    assert strict.auth.policy == SessionPolicy.of(strict.settings.security)
    assert strict.auth.policy.must_enrol(["operator"])
    assert strict.auth.idle.timeout_s == 30 * 60


def test_where_required_the_password_step_only_opens_enrolment(
    strict_api: TestClient, strict: Container
) -> None:
    add_user(strict, "ivanov", "operator")
    clock = Clock(START)
    strict.auth.mfa.clock = clock

    step = password_step(strict_api)
    token = step["mfa_token"]
    as_session = strict_api.get("/api/me", headers=bearer(token))
    as_code = strict_api.post("/api/auth/mfa/verify", json={"mfa_token": token, "code": "123456"})
    setup = strict_api.post("/api/auth/mfa/setup", json={"mfa_token": token}).json()
    key = totp.decode_secret(setup["secret"])
    confirmed = strict_api.post(
        "/api/auth/mfa/confirm", json={"mfa_token": token, "code": totp.code_at(key, clock.at)}
    )

    assert step["mfa"] == "enrol"
    assert as_session.status_code == 401
    assert as_code.status_code == 401
    assert setup["otpauth_uri"].startswith("otpauth://totp/kupol:ivanov?secret=")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert len(body["recovery_codes"]) == 8
    assert "kupol_session" in confirmed.cookies
    me = strict_api.get("/api/me", headers=bearer(body["login"]["access_token"]))
    assert me.json()["username"] == "ivanov"
    assert password_step(strict_api)["mfa"] == "code"


def test_where_required_roles_without_personal_data_log_in_as_before(
    strict_api: TestClient, strict: Container
) -> None:
    add_user(strict, "edge-7", "device")

    assert "access_token" in password_step(strict_api, "edge-7")


def test_a_session_left_idle_ends(strict_api: TestClient, strict: Container) -> None:
    add_user(strict, "edge-7", "device")
    headers = bearer(password_step(strict_api, "edge-7")["access_token"])
    clock = Clock(time.time())
    strict.auth.idle.clock = clock

    clock.at += 25 * 60
    used = strict_api.get("/api/me", headers=headers)
    clock.at += 29 * 60
    still = strict_api.get("/api/me", headers=headers)
    clock.at += 31 * 60
    idle = strict_api.get("/api/me", headers=headers)

    assert (used.status_code, still.status_code) == (200, 200)
    assert idle.status_code == 401
    assert "unused for more than 30 min" in idle.json()["detail"]
