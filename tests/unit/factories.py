"""Factories and fixtures shared by the unit tests and the API tests."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

import kupol.core.auth.service as auth_service
from kupol.bootstrap import Container
from kupol.core.audit.model import AuditEntry
from tests.conftest import add_user, login


@pytest.fixture
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its lowest cost, so tests that create users and log in stay fast.

    Request it before ``container`` (``pytest.mark.usefixtures`` does): the hasher is made
    when the container is built. The production cost is checked in test_passwords.py.
    """
    monkeypatch.setattr(
        auth_service,
        "PasswordHasher",
        lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
    )


def login_as(client: Any, container: Container, username: str, *roles: str) -> dict[str, str]:
    """Create a user with ``roles``, log in through the API and return Bearer headers.

    The session cookies the login sets are dropped, so each request is authenticated by
    the headers it carries and nothing else.
    """
    _, password = add_user(container, username, *roles)
    headers = login(client, username, password)
    client.cookies.clear()
    return headers


def listing_of(container: Container, number: str) -> tuple[Any, list[str], list[str]]:
    """What is stored of ``number``'s block-list entry: the entry (or ``None``), the actors of
    its audit records, and the call ids of the decisions on its calls."""
    from sqlalchemy import select

    from kupol.antifraud.model import CallDecision, NumberListEntry
    from kupol.core.audit import AuditEntry

    with container.db.reader() as session:
        entry = session.scalar(select(NumberListEntry).where(NumberListEntry.number == number))
        audited = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.action == "block_list", AuditEntry.resource_id == number
            )
        ).all()
        decisions = session.scalars(
            select(CallDecision.call_id).where(CallDecision.caller == number)
        ).all()
    return entry, list(audited), list(decisions)


def add_sqlite_camera(conn: Any, camera_id: str = "cam-1") -> None:
    """A camera row written in SQL on a SQLite connection, for tests that work on a migrated
    file below the services (migrations, retention)."""
    from sqlalchemy import text

    conn.execute(
        text(
            "INSERT INTO cameras (id, name, kind, latitude, longitude, zones, analytics,"
            " enabled, created_at, updated_at) VALUES (:id, 'c', 'fixed', 0, 0, '[]',"
            " '{}', 1, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')"
        ),
        {"id": camera_id},
    )


def audit_of(container: Container, resource_type: str) -> list[AuditEntry]:
    """The audit records about ``resource_type``, oldest first."""
    with container.db.reader() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.resource_type == resource_type)
                .order_by(AuditEntry.seq)
            )
        )
