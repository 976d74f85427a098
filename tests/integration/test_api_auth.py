"""Logging in through the API, sessions, rate limits and who may call what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.core.auth.tokens import TokenSigner
from tests.conftest import add_user, demo_camera, make_settings
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PROBLEM = "application/problem+json"


def test_a_login_returns_a_bearer_token_and_the_users_permissions(
    api: TestClient, container: Container
) -> None:
    _, password = add_user(container, "ivanov", "operator")

    response = api.post("/api/auth/login", json={"username": "ivanov", "password": password})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["username"] == "ivanov"
    assert "alerts.handle" in body["user"]["permissions"]
    assert "cameras.write" not in body["user"]["permissions"]
    api.cookies.clear()
    me = api.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "ivanov"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ivanov", "password": "wrong-password"},
        {"username": "nobody", "password": "ivanov-password-123"},
    ],
)
def test_a_failed_login_is_a_401_problem_that_does_not_say_which_part_was_wrong(
    api: TestClient, container: Container, body: dict[str, str]
) -> None:
    add_user(container, "ivanov", "operator")

    response = api.post("/api/auth/login", json=body)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "wrong user name or password"
    assert "kupol_session" not in response.cookies


def test_after_too_many_failures_logins_get_429_with_retry_after(
    database_url: str, tmp_path: Path
) -> None:
    container = build_container(
        make_settings(
            database_url=database_url,
            data_dir=tmp_path,
            security={"login_max_failures": 3, "login_window_s": 120},
        )
    )
    _, password = add_user(container, "ivanov", "operator")
    wrong = {"username": "ivanov", "password": "wrong-password"}

    with TestClient(create_app(container)) as client:
        failures = [client.post("/api/auth/login", json=wrong).status_code for _ in range(3)]
        limited = client.post("/api/auth/login", json={"username": "ivanov", "password": password})

    assert failures == [401, 401, 401]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM
    assert 110 <= int(limited.headers["Retry-After"]) <= 120
    assert "try again in" in limited.json()["detail"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer not-a-token",
        "Basic aXZhbm92OnB3",
        "Bearer abc.\u00e9\u00e9",
    ],
)
def test_requests_without_a_valid_token_get_401(api: TestClient, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.encode()}

    response = api.get("/api/me", headers=headers)  # type: ignore[arg-type]

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


def test_an_expired_token_is_refused(api: TestClient, container: Container) -> None:
    principal, _ = add_user(container, "ivanov", "operator")
    secret = container.settings.security.secret_key.get_secret_value().encode()
    expired = TokenSigner(secret, ttl_s=300).issue(
        user_id=principal.user_id, version=0, now=1_000_000
    )
    fresh = TokenSigner(secret, ttl_s=300).issue(user_id=principal.user_id, version=0)

    refused = api.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    accepted = api.get("/api/me", headers={"Authorization": f"Bearer {fresh}"})

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]
    assert accepted.status_code == 200


def test_a_token_with_a_tampered_payload_is_refused(api: TestClient, container: Container) -> None:
    headers = login_as(api, container, "ivanov", "operator")
    body, signature = headers["Authorization"].removeprefix("Bearer ").split(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")

    response = api.get("/api/me", headers={"Authorization": f"Bearer {tampered}.{signature}"})

    assert response.status_code == 401


def test_deactivating_a_user_ends_their_sessions_at_once(
    api: TestClient, container: Container
) -> None:
    admin = login_as(api, container, "admin", "admin")
    ivanov = login_as(api, container, "ivanov", "operator")

    deactivated = api.post("/api/users/ivanov/deactivate", headers=admin)

    assert deactivated.status_code == 204
    assert api.get("/api/me", headers=ivanov).status_code == 401
    listed = {u["username"]: u["active"] for u in api.get("/api/users", headers=admin).json()}
    assert listed == {"admin": True, "ivanov": False}


def test_changing_a_password_ends_the_users_sessions(api: TestClient, container: Container) -> None:
    ivanov = login_as(api, container, "ivanov", "operator")

    container.auth.set_password(username="ivanov", password="another-long-password")

    assert api.get("/api/me", headers=ivanov).status_code == 401


def test_an_administrator_creates_users_and_gets_their_password_once(
    api: TestClient, container: Container
) -> None:
    admin = login_as(api, container, "admin", "admin")

    created = api.post(
        "/api/users", headers=admin, json={"username": "petrov", "roles": ["investigator"]}
    )

    assert created.status_code == 201
    password = created.json()["password"]
    assert (
        api.post("/api/auth/login", json={"username": "petrov", "password": password}).status_code
        == 200
    )


def test_creating_a_user_with_an_unknown_role_is_a_422_naming_roles(
    api: TestClient, container: Container
) -> None:
    admin = login_as(api, container, "admin", "admin")

    response = api.post(
        "/api/users", headers=admin, json={"username": "petrov", "roles": ["operator", "superuser"]}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert "superuser" in response.json()["detail"]
    assert [e["field"] for e in response.json()["errors"]] == ["roles"]


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("operator", "post", "/api/cameras", demo_camera(), 403),
        ("operator", "get", "/api/users", None, 403),
        ("operator", "get", "/api/audit", None, 403),
        ("admin", "get", "/api/audit", None, 403),
        ("admin", "post", "/api/audit/verify", None, 403),
        ("auditor", "get", "/api/audit", None, 200),
        ("auditor", "get", "/api/cameras", None, 200),
        ("auditor", "post", "/api/cameras", demo_camera(), 403),
        ("admin", "post", "/api/cameras", demo_camera(), 201),
        ("device", "get", "/api/cameras", None, 403),
        ("device", "get", "/api/alerts", None, 403),
        ("analyst", "post", "/api/events", {"events": []}, 403),  # refused before validation
        ("analyst", "post", "/api/rules", {"name": "r"}, 403),
        ("operator", "post", "/api/rules", {"name": "r"}, 201),
        ("auditor", "get", "/api/alerts", None, 403),
    ],
)
def test_each_endpoint_checks_the_callers_permission(
    api: TestClient,
    container: Container,
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    headers = login_as(api, container, "someone", role)

    response = api.request(method, path, headers=headers, json=body)

    assert response.status_code == status, response.text
    if status == 403:
        assert response.headers["content-type"] == PROBLEM


def test_a_console_session_reads_with_its_cookie_alone(
    api: TestClient, container: Container
) -> None:
    _, password = add_user(container, "ivanov", "operator")
    api.post("/api/auth/login", json={"username": "ivanov", "password": password})

    assert api.get("/api/me").json()["username"] == "ivanov"


def test_a_console_session_needs_the_csrf_header_to_change_anything(
    api: TestClient, container: Container
) -> None:
    _, password = add_user(container, "ivanov", "operator")
    api.post("/api/auth/login", json={"username": "ivanov", "password": password})
    csrf = api.cookies["kupol_csrf"]

    missing = api.put("/api/me/locale", json={"locale": "kk"})
    wrong = api.put("/api/me/locale", json={"locale": "kk"}, headers={"X-CSRF-Token": "guess"})
    right = api.put("/api/me/locale", json={"locale": "kk"}, headers={"X-CSRF-Token": csrf})

    assert (missing.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
    assert "CSRF" in missing.json()["detail"]
    assert api.get("/api/me").json()["locale"] == "kk"


def test_logging_out_ends_the_console_session(api: TestClient, container: Container) -> None:
    _, password = add_user(container, "ivanov", "operator")
    api.post("/api/auth/login", json={"username": "ivanov", "password": password})

    assert api.post("/api/auth/logout").status_code == 204
    assert api.get("/api/me").status_code == 401
