"""Auditors read and verify the audit log through the API; reading it is audited too."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from kupol.bootstrap import Container
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


@pytest.fixture
def auditor(api: TestClient, container: Container) -> dict[str, str]:
    return login_as(api, container, "auditor", "auditor")


def test_an_auditor_reads_entries_newest_first_with_filters(
    api: TestClient, container: Container, auditor: dict[str, str]
) -> None:
    login_as(api, container, "ivanov", "operator")

    everything = api.get("/api/audit", headers=auditor).json()
    logins = api.get("/api/audit", headers=auditor, params={"action": "login"}).json()

    seqs = [e["seq"] for e in everything]
    assert seqs == sorted(seqs, reverse=True)
    assert [e["actor"] for e in logins] == ["ivanov", "auditor"]


def test_reading_the_audit_log_is_itself_audited(
    api: TestClient, container: Container, auditor: dict[str, str]
) -> None:
    api.get("/api/audit", headers=auditor, params={"actor": "ivanov"})

    latest = api.get("/api/audit", headers=auditor, params={"limit": 2}).json()

    assert [(e["actor"], e["action"], e["resource_type"]) for e in latest] == [
        ("auditor", "search", "audit_log"),
        ("auditor", "search", "audit_log"),
    ]
    assert latest[1]["details"] == {"actor": "ivanov"}


def test_paging_goes_back_with_before_seq(api: TestClient, auditor: dict[str, str]) -> None:
    first = api.get("/api/audit", headers=auditor, params={"limit": 1}).json()

    older = api.get(
        "/api/audit", headers=auditor, params={"before_seq": first[0]["seq"], "limit": 1}
    ).json()

    assert older[0]["seq"] == first[0]["seq"] - 1


def test_verify_reports_an_intact_chain(api: TestClient, auditor: dict[str, str]) -> None:
    response = api.post("/api/audit/verify", headers=auditor)

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["checked"] >= 2  # the auditor's creation and login


def test_verify_reports_the_first_tampered_entry(
    api: TestClient, container: Container, auditor: dict[str, str]
) -> None:
    with container.db.engine.begin() as conn:
        if container.db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            conn.execute(text("UPDATE audit_log SET actor = 'nobody' WHERE seq = 1"))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET actor = 'nobody' WHERE seq = 1"))

    report = api.post("/api/audit/verify", headers=auditor).json()

    assert (report["ok"], report["first_bad_seq"], report["checked"]) == (False, 1, 0)
