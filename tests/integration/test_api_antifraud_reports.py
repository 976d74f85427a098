"""Reports to the Anti-Fraud Centre through the API, on SQLite and PostgreSQL: a number with
the evidence screening holds on it, an account with its transfers, the exchange document, the
operators' check due in two working days, and overdue reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from kupol.antifraud.model import AfcReport
from kupol.bootstrap import Container
from kupol.core.audit.model import AuditEntry
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "AFC exchange, daily"}


def test_a_number_is_reported_with_its_evidence_exported_checked_and_tracked(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "kcell-switch", "telecom")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    for i in range(26):
        api.post(
            "/api/antifraud/calls/screen",
            json={"call_id": f"R{i}", "caller": "+77757770000", "called": f"+7701800{i:04d}"},
            headers=switch,
        )
    body = {
        "kind": "number", "subject": "8 775 777 00 00", "category": "call_centre",
        "summary": "rang 26 strangers in minutes from one handset",
    }  # fmt: skip
    assert api.post("/api/antifraud/reports", json=body, headers=analyst).status_code == 428
    made = api.post("/api/antifraud/reports", json=body, headers={**analyst, **PURPOSE})
    assert made.status_code == 201, made.text
    report = made.json()
    assert report["subject"] == "+77757770000" and report["status"] == "submitted"
    evidence = report["evidence"]
    assert evidence["calls_30_days"] == {"allow": 9, "warn": 15, "block": 2}
    assert evidence["distinct_callees"] == 26 and evidence["reasons"]["fan_out"] == 15
    assert evidence["lists"][0]["source"].startswith("auto: fan_out_heavy")
    due = datetime.fromisoformat(report["due_by"])
    assert timedelta(days=1) < due - datetime.now(UTC) < timedelta(days=7)
    again = api.post("/api/antifraud/reports", json=body, headers={**analyst, **PURPOSE})
    assert again.status_code == 409  # one open report per subject

    document = api.get(
        f"/api/antifraud/reports/{report['id']}/exchange.json", headers={**analyst, **PURPOSE}
    ).json()
    assert document["format"] == "kupol-afc-report/1"
    assert document["id"] == report["exchange_id"]
    assert document["subject"] == {"kind": "number", "value": "+77757770000"}
    assert document["reporter"] == {"organisation": "kupol", "officer": "cyber"}
    assert document["check"] is None

    # Past its due time, unanswered: overdue.
    with container.db.unit_of_work() as session:
        session.execute(update(AfcReport).values(due_by=datetime.now(UTC) - timedelta(minutes=5)))
    overdue = api.get(
        "/api/antifraud/reports", params={"overdue": "true"}, headers={**analyst, **PURPOSE}
    ).json()
    assert [(r["id"], r["overdue"]) for r in overdue] == [(report["id"], True)]
    # The counts need no purpose: no subject in them.
    counts = api.get("/api/antifraud/reports/summary", headers=analyst)
    assert counts.status_code == 200, counts.text
    assert counts.json() == {"submitted": 1, "overdue": 1, "confirmed": 0, "rejected": 0}
    checked = api.post(
        f"/api/antifraud/reports/{report['id']}/check",
        json={"result": "confirmed", "checked_by": "Kcell security", "note": "SIM blocked"},
        headers=analyst,
    )
    assert checked.status_code == 200 and checked.json()["status"] == "confirmed"
    assert "evidence" not in checked.json() and "subject" not in checked.json()
    twice = api.post(
        f"/api/antifraud/reports/{report['id']}/check",
        json={"result": "rejected", "checked_by": "Kcell", "note": "again"},
        headers=analyst,
    )
    assert twice.status_code == 409
    assert api.get("/api/antifraud/reports/summary", headers=analyst).json() == {
        "submitted": 0, "overdue": 0, "confirmed": 1, "rejected": 0,
    }  # fmt: skip
    assert (
        api.get(
            "/api/antifraud/reports", params={"overdue": "true"}, headers={**analyst, **PURPOSE}
        ).json()
        == []
    )
    with container.db.reader() as session:
        actions = [
            e.action
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.resource_type == "afc_report")
                .order_by(AuditEntry.seq)
            )
        ]
    assert actions == ["report", "export", "search", "check_confirmed", "search"]


def test_an_account_is_reported_with_the_transfers_banks_asked_about(
    api: Any, container: Container
) -> None:
    bank = login_as(api, container, "bank-halyk", "bank")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    for i in range(3):
        api.post(
            "/api/antifraud/transfers/check",
            json={"ref": f"T{i}", "kind": "TRANSFER", "amount": 100_000.0 + i,
                  "payer": f"KZ01P{i}", "payer_balance": 100_000.0 + i, "payee": "KZ99MULE"},
            headers=bank,
        )  # fmt: skip
    made = api.post(
        "/api/antifraud/reports",
        json={"kind": "account", "subject": "KZ99MULE", "category": "mule",
              "summary": "three victims emptied their accounts into it"},
        headers={**analyst, **PURPOSE},
    ).json()  # fmt: skip
    evidence = made["evidence"]
    assert (evidence["transfers_in"], evidence["distinct_payers"], evidence["held_in"]) == (3, 3, 3)
    assert evidence["amount_in"] == {"KZT": 300_003.0} and evidence["reasons"] == [
        "empties_balance"
    ]
    assert evidence["mule_list"] is None
    bad = api.post(
        "/api/antifraud/reports",
        json={"kind": "number", "subject": "not a number", "category": "spoofing",
              "summary": "a number that is not one"},
        headers={**analyst, **PURPOSE},
    )  # fmt: skip
    assert bad.status_code == 422 and "not a telephone number" in bad.text
    assert api.get("/api/antifraud/reports", headers={**bank, **PURPOSE}).status_code == 403
