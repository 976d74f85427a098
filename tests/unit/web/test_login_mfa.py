"""The console login's second step: the code form, and enrolling where two factors are
required (recovery codes shown once), all as plain forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.core.auth import totp
from kupol.web.i18n import translate
from tests.conftest import add_user, make_settings

START = 1_800_000_000.0
HIDDEN_TOKEN = re.compile(r'name="mfa_token" value="([^"]+)"')


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def console(sqlite_url: str, data_dir: Path, **security: object) -> Container:
    settings = make_settings(database_url=sqlite_url, data_dir=data_dir, security=security)
    container = build_container(settings)
    container.auth.mfa.clock = Clock(START)
    return container


@pytest.fixture
def plain(sqlite_url: str, tmp_path: Path, fast_passwords: None) -> Iterator[Container]:
    container = console(sqlite_url, tmp_path)
    yield container
    container.db.dispose()


@pytest.fixture
def strict(sqlite_url: str, tmp_path: Path, fast_passwords: None) -> Iterator[Container]:
    container = console(sqlite_url, tmp_path, mfa_required=True)
    yield container
    container.db.dispose()


def client_of(container: Container) -> TestClient:
    return TestClient(create_app(container), follow_redirects=False)


def enrolled(container: Container) -> bytes:
    """An operator, ivanov, with two-factor sign-in on; the clock at the next code."""
    principal, _ = add_user(container, "ivanov", "operator")
    key = totp.decode_secret(container.auth.mfa.setup(principal=principal).secret)
    clock = container.auth.mfa.clock
    assert isinstance(clock, Clock)
    container.auth.mfa.confirm(principal=principal, code=totp.code_at(key, clock.at))
    clock.at += 30
    return key


def password(client: TestClient, **form: str) -> tuple[int, str]:
    response = client.post(
        "/login", data={"username": "ivanov", "password": "ivanov-password-123", **form}
    )
    assert "kupol_session" not in response.cookies
    return response.status_code, response.text


def test_the_password_step_asks_for_the_code_and_the_right_code_signs_in(
    plain: Container,
) -> None:
    key = enrolled(plain)
    with client_of(plain) as client:
        status, page = password(client, lang="en", next="/search")
        token = HIDDEN_TOKEN.search(page)
        assert token is not None
        form = {"mfa_token": token.group(1), "lang": "en", "next": "/search"}

        wrong = client.post("/login/code", data={**form, "code": "000000"})
        right = client.post("/login/code", data={**form, "code": totp.code_at(key, START + 30)})

    assert status == 200
    assert 'action="/login/code"' in page and 'name="password"' not in page
    assert translate("en", "login.mfa_code_lead") in page
    assert wrong.status_code == 401
    assert translate("en", "login.mfa_wrong") in wrong.text
    assert HIDDEN_TOKEN.search(wrong.text) is not None  # the code form again, not the password
    assert right.status_code == 303 and right.headers["location"] == "/search"
    assert {"kupol_session", "kupol_csrf"} <= set(right.cookies)


def test_a_stale_code_step_goes_back_to_the_password(plain: Container) -> None:
    enrolled(plain)
    with client_of(plain) as client:
        response = client.post(
            "/login/code", data={"mfa_token": "forged.token", "code": "123456", "lang": "ru"}
        )

    assert response.status_code == 401
    assert translate("ru", "login.mfa_expired") in response.text
    assert 'name="password"' in response.text


def test_a_code_posted_from_another_site_is_refused(plain: Container) -> None:
    key = enrolled(plain)
    with client_of(plain) as client:
        _, page = password(client)
        token = HIDDEN_TOKEN.search(page)
        assert token is not None
        response = client.post(
            "/login/code",
            data={"mfa_token": token.group(1), "code": totp.code_at(key, START + 30)},
            headers={"Origin": "https://evil.example"},
        )

    assert response.status_code == 403 and "kupol_session" not in response.cookies


def test_where_required_the_console_enrols_the_app_and_shows_the_recovery_codes_once(
    strict: Container,
) -> None:
    add_user(strict, "ivanov", "operator")
    with client_of(strict) as client:
        status, page = password(client, lang="en")
        token = HIDDEN_TOKEN.search(page)
        secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', page)
        assert token is not None and secret is not None
        key = totp.decode_secret(secret.group(1))
        form = {"mfa_token": token.group(1), "lang": "en"}

        wrong = client.post("/login/enrol", data={**form, "code": "000000"})
        done = client.post("/login/enrol", data={**form, "code": totp.code_at(key, START)})

    assert status == 200
    assert translate("en", "login.mfa_enrol_lead") in page
    assert "otpauth://totp/kupol:ivanov?secret=" in unescape(page)
    assert wrong.status_code == 422
    assert secret.group(1) in wrong.text  # the same key again: the app already holds it
    assert done.status_code == 200
    assert translate("en", "login.mfa_recovery_title") in done.text
    assert len(re.findall(r"<code>[a-z2-9]{5}-[a-z2-9]{5}</code>", done.text)) == 8
    assert {"kupol_session", "kupol_csrf"} <= set(done.cookies)
    assert 'href="/"' in done.text
