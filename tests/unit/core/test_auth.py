"""Users and logins: argon2 passwords, audited logins, rate limits, revocable tokens."""

from __future__ import annotations

import time as wall
from pathlib import Path

import pytest
from sqlalchemy import select

from kupol.bootstrap import Container, build_container
from kupol.core.audit import AuditEntry
from kupol.core.auth import Permission, has_permission
from kupol.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    RateLimitedError,
)
from tests.conftest import add_user, make_settings

PASSWORD = "ivanov-password-123"
pytestmark = pytest.mark.usefixtures("fast_passwords")


def audit_actions(container: Container) -> list[tuple[str, str]]:
    with container.db.reader() as session:
        return [
            (e.actor, e.action)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]


def test_a_generated_password_is_returned_once_and_works(container: Container) -> None:
    _, password = container.auth.create_user(username="petrov", password=None, roles=["analyst"])

    result = container.auth.login(username="petrov", password=password)

    assert len(password) >= 10
    assert result.principal.roles == ("analyst",)


def test_login_returns_a_token_that_authenticates_the_user(container: Container) -> None:
    add_user(container, "ivanov", "operator", "analyst")

    result = container.auth.login(username="ivanov", password=PASSWORD, client="10.0.0.5")
    principal = container.auth.authenticate(result.token)

    assert principal.username == "ivanov"
    assert principal.roles == ("analyst", "operator")
    assert principal.can(Permission.ALERTS_HANDLE)
    assert ("ivanov", "login") in audit_actions(container)


def test_a_token_trusted_a_moment_ago_is_still_refused_once_it_expires(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kupol.core.auth import service

    add_user(container, "ivanov", "operator")
    token = container.auth.login(username="ivanov", password=PASSWORD).token
    assert container.auth.authenticate(token).username == "ivanov"  # now remembered

    class Later:
        monotonic = staticmethod(wall.monotonic)

        @staticmethod
        def time() -> float:
            return wall.time() + 30 * 24 * 3600  # past any token's lifetime

    monkeypatch.setattr(service, "time", Later)
    with pytest.raises(AuthenticationError, match="expired"):
        container.auth.authenticate(token)


@pytest.mark.parametrize(
    ("username", "password"), [("ivanov", "wrong-password-1"), ("nobody", PASSWORD)]
)
def test_a_wrong_password_or_user_fails_the_same_way_and_is_audited(
    container: Container, username: str, password: str
) -> None:
    add_user(container, "ivanov", "operator")

    with pytest.raises(AuthenticationError, match="wrong user name or password"):
        container.auth.login(username=username, password=password)

    assert (username, "login-failed") in audit_actions(container)


def test_after_too_many_failures_even_the_right_password_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url=database_url, data_dir=tmp_path, security={"login_max_failures": 2}
    )
    container = build_container(settings)
    try:
        add_user(container, "ivanov", "operator")
        for _ in range(2):
            with pytest.raises(AuthenticationError):
                container.auth.login(username="ivanov", password="wrong-password-1")

        with pytest.raises(RateLimitedError) as caught:
            container.auth.login(username="ivanov", password=PASSWORD)
        assert 1 <= caught.value.retry_after_s <= settings.security.login_window_s
    finally:
        container.db.dispose()


def test_a_successful_login_clears_earlier_failures(database_url: str, tmp_path: Path) -> None:
    container = build_container(
        make_settings(
            database_url=database_url, data_dir=tmp_path, security={"login_max_failures": 2}
        )
    )
    try:
        add_user(container, "ivanov", "operator")
        with pytest.raises(AuthenticationError):
            container.auth.login(username="ivanov", password="wrong-password-1")
        container.auth.login(username="ivanov", password=PASSWORD)
        with pytest.raises(AuthenticationError):
            container.auth.login(username="ivanov", password="wrong-password-1")

        container.auth.login(username="ivanov", password=PASSWORD)  # not rate limited
    finally:
        container.db.dispose()


def test_deactivating_a_user_revokes_their_tokens_and_refuses_login(container: Container) -> None:
    add_user(container, "ivanov", "operator")
    token = container.auth.login(username="ivanov", password=PASSWORD).token

    container.auth.deactivate(username="ivanov")

    with pytest.raises(AuthenticationError, match="session ended"):
        container.auth.authenticate(token)
    with pytest.raises(AuthenticationError):
        container.auth.login(username="ivanov", password=PASSWORD)
    assert ("system", "deactivate") in audit_actions(container)


def test_changing_a_password_revokes_tokens_and_the_old_password(container: Container) -> None:
    add_user(container, "ivanov", "operator")
    token = container.auth.login(username="ivanov", password=PASSWORD).token

    container.auth.set_password(username="ivanov", password="a-brand-new-password")

    with pytest.raises(AuthenticationError, match="session ended"):
        container.auth.authenticate(token)
    with pytest.raises(AuthenticationError):
        container.auth.login(username="ivanov", password=PASSWORD)
    fresh = container.auth.login(username="ivanov", password="a-brand-new-password").token
    assert container.auth.authenticate(fresh).username == "ivanov"


@pytest.mark.parametrize("roles", [["wizard"], ["operator", "superuser"], []])
def test_unknown_or_missing_roles_are_refused(container: Container, roles: list[str]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        container.auth.create_user(username="ivanov", password=PASSWORD, roles=roles)

    assert [p.field for p in caught.value.problems] == ["roles"]
    for bad in set(roles) - {"operator"}:
        assert bad in caught.value.detail
    assert not container.auth.exists()


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("Ivanov", PASSWORD, "username"),
        ("i", PASSWORD, "username"),
        ("ivanov; drop", PASSWORD, "username"),
        ("ivanov", "short", "password"),
    ],
)
def test_bad_user_names_and_short_passwords_are_refused(
    container: Container, username: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        container.auth.create_user(username=username, password=password, roles=["operator"])

    assert [p.field for p in caught.value.problems] == [field]


def test_a_user_name_is_taken_only_once(container: Container) -> None:
    add_user(container, "ivanov", "operator")

    with pytest.raises(ConflictError, match="ivanov"):
        container.auth.create_user(username="ivanov", password=PASSWORD, roles=["admin"])


@pytest.mark.parametrize(
    ("roles", "permission", "allowed"),
    [
        (["operator"], Permission.ALERTS_HANDLE, True),
        (["admin"], Permission.ALERTS_HANDLE, False),
        (["admin"], Permission.CAMERAS_WRITE, True),
        (["operator"], Permission.CAMERAS_WRITE, False),
        (["auditor"], Permission.AUDIT_READ, True),
        (["admin"], Permission.AUDIT_READ, False),
        (["admin"], Permission.EVENTS_READ, False),
        (["device"], Permission.EVENTS_INGEST, True),
        (["device"], Permission.CAMERAS_READ, False),
        (["analyst"], Permission.EVIDENCE_VIEW, False),
        (["analyst", "investigator"], Permission.EVIDENCE_VIEW, True),
    ],
)
def test_permissions_follow_the_role_table(
    roles: list[str], permission: Permission, allowed: bool
) -> None:
    assert has_permission(roles, permission) is allowed


def test_a_principal_without_a_permission_is_refused_naming_it(container: Container) -> None:
    principal, _ = add_user(container, "ivanov", "operator")

    with pytest.raises(PermissionDeniedError, match=r"cameras\.write"):
        principal.require(Permission.CAMERAS_WRITE)
