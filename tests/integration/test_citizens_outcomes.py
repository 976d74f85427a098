"""What becomes of a confirmed citizen's report after the decision, on SQLite and PostgreSQL:
a decision overturned takes the reward back and lets the next valid report of the event win it;
a refunded fine takes the reward back, even one already sent for payout; a confirmed
public-order report becomes an incident with the citizen's media linked to it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kupol.bootstrap import Container
from kupol.core.messages import utcnow
from tests.integration.test_api_traffic_review import REGISTRY, signing_officer
from tests.integration.test_citizens import photo, report, sign_in
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
RED = {"outcome": "confirmed", "offence": "red_light", "plate": "123ABC02"}


def decide(api: TestClient, officer: dict[str, str], report_id: int, **body: Any) -> Any:
    got = api.post(f"/api/citizens/reports/{report_id}/decision", headers=officer, json=body)
    assert got.status_code == 200, got.text
    return got.json()


def approve_and_pay(api: TestClient, container: Container, officer: dict[str, str]) -> Any:
    """The citizens' violation approved and signed, its notice issued and paid; the notice."""
    why = {**officer, "X-Purpose": "citizen reports review"}
    [item] = api.get("/api/traffic/violations", headers=why).json()["items"]
    approved = api.post(f"/api/traffic/violations/{item['id']}/approve", json={}, headers=officer)
    assert approved.status_code == 200, approved.text
    api.post("/api/traffic/registry/import", headers=officer,
             files={"file": ("r.csv", REGISTRY.encode())})  # fmt: skip
    [notice] = [n for n in api.get("/api/traffic/notices", headers=why).json()["items"]
                if n["violation_id"] == item["id"]]  # fmt: skip
    gateway = login_as(api, container, "gateway", "device")
    paid = {"status": "paid", "reference": "KASPI-9", "paid_on": notice["issued_on"],
            "amount_tenge": notice["discounted_tenge"]}  # fmt: skip
    done = api.put(f"/api/traffic/notices/{notice['id']}/payment", json=paid, headers=gateway)
    assert done.status_code == 200, done.text
    return notice


def own(api: TestClient, headers: dict[str, str], report_id: int) -> Any:
    return api.get(f"/api/citizen/reports/{report_id}", headers=headers).json()


def test_an_overturned_winner_loses_its_reward_and_the_next_valid_report_earns_it(
    api: TestClient, container: Container
) -> None:
    anna = sign_in(api, container, "+77011234567")
    boris = sign_in(api, container, "+77771234567")
    at = utcnow() - timedelta(minutes=30)
    first = report(api, anna, photo(51), occurred_at=at.isoformat()).json()
    second = report(api, boris, photo(52), occurred_at=(at + timedelta(minutes=1)).isoformat(),
                    lat="51.1290").json()  # fmt: skip
    officer = signing_officer(api, container)
    decide(api, officer, first["id"], **RED)
    assert decide(api, officer, second["id"], **RED)["status"] == "duplicate"
    notice = approve_and_pay(api, container, officer)
    reward = notice["discounted_tenge"] // 10
    assert own(api, anna, first["id"])["reward_tenge"] == reward

    url = f"/api/citizens/reports/{first['id']}/overturn"
    for body in ({"reason": "whatever", "note": "the photo was taken elsewhere"},
                 {"reason": "inconsistent_metadata", "note": "short"}):  # fmt: skip
        assert api.post(url, headers=officer, json=body).status_code == 422
    citizen_cannot = api.post(url, headers=anna, json={"reason": "abusive",
                                                       "note": "trying my own luck"})  # fmt: skip
    assert citizen_cannot.status_code == 403
    done = api.post(
        url,
        headers=officer,
        json={"reason": "inconsistent_metadata", "note": "the photo was taken a day earlier"},
    )
    assert done.status_code == 200, done.text
    mine = own(api, anna, first["id"])
    assert mine["status"] == "rejected" and mine["reward_tenge"] == 0
    assert "overturned" in mine["reward_reversal"]
    theirs = own(api, boris, second["id"])
    assert theirs["status"] == "confirmed" and theirs["reward_tenge"] == reward
    again = api.post(url, headers=officer, json={"reason": "abusive", "note": "once more please"})
    assert again.status_code == 409

    admin = login_as(api, container, "boss", "admin")
    check = api.get("/api/citizens/ledger/reconcile", headers=admin).json()
    assert check["ok"], check["problems"]
    assert check["accrued_tenge"] == 2 * reward and check["reversed_before_payout_tenge"] == reward


def test_a_refunded_fine_takes_the_reward_back_even_one_already_sent_for_payout(
    api: TestClient, container: Container
) -> None:
    anna = sign_in(api, container, "+77011234567")
    first = report(api, anna, photo(61), occurred_at=(utcnow() - timedelta(minutes=40))
                   .isoformat()).json()  # fmt: skip
    officer = signing_officer(api, container)
    decide(api, officer, first["id"], **RED)
    notice = approve_and_pay(api, container, officer)
    reward = own(api, anna, first["id"])["reward_tenge"]
    assert reward > 0
    admin = login_as(api, container, "boss", "admin")
    batch = api.post("/api/citizens/payouts", headers=admin,
                     json={"on": notice["issued_on"]}).json()["batch"]  # fmt: skip

    refund = f"/api/traffic/notices/{notice['id']}/refund"
    today = date.fromisoformat(notice["issued_on"])
    gateway = login_as(api, container, "gateway2", "device")
    body = {"reason": "court ruling 2-123/2026", "refunded_on": today.isoformat()}
    assert api.post(refund, headers=gateway, json=body).status_code == 403  # an officer's act
    early = {**body, "refunded_on": (today - timedelta(days=1)).isoformat()}
    assert api.post(refund, headers=officer, json=early).status_code == 422
    done = api.post(refund, headers=officer, json=body)
    assert done.status_code == 200 and done.json()["payment"] == "refunded", done.text
    assert api.post(refund, headers=officer, json=body).status_code == 409
    # In a batch awaiting the provider: the reversal waits for its answer …
    mine = own(api, anna, first["id"])
    assert mine["reward_tenge"] == reward and "refunded" in mine["reward_reversal"]
    # … which comes: the reward was paid, so the citizen now owes it back.
    settled = api.post(f"/api/citizens/payouts/{batch['reference']}/settlement", headers=admin,
                       json={"on": today.isoformat(),
                             "paid": [batch["lines"][0]["reference"]]})  # fmt: skip
    assert settled.status_code == 200, settled.text
    assert own(api, anna, first["id"])["reward_tenge"] == 0
    ledger = container.citizens.rewards.ledger()
    assert ledger.balance(f"rewards_receivable:citizen-{mine_id(container, first['id'])}") == (
        reward
    )
    check = api.get("/api/citizens/ledger/reconcile", headers=admin).json()
    assert check["ok"], check["problems"]


def mine_id(container: Container, report_id: int) -> int:
    from kupol.citizens.store import ReportRow

    with container.db.reader() as session:
        row = session.get(ReportRow, report_id)
        assert row is not None
        return row.citizen_id


def test_a_confirmed_public_order_report_becomes_an_incident_with_the_media_linked(
    api: TestClient, container: Container
) -> None:
    anna = sign_in(api, container, "+77011234567")
    boris = sign_in(api, container, "+77771234567")
    at = utcnow() - timedelta(minutes=15)
    fight = {"kind": "public_order", "description": "A fight outside the bar on Abai avenue"}
    first = report(api, anna, photo(71), occurred_at=at.isoformat(), **fight).json()
    second = report(api, boris, photo(72), occurred_at=(at + timedelta(seconds=20)).isoformat(),
                    lat="51.12835", **fight).json()  # two witnesses of one moment  # fmt: skip
    operator = login_as(api, container, "oleg", "operator")
    made = decide(api, operator, first["id"], outcome="confirmed")
    assert made["incident_id"] is not None and made["violation_id"] is None
    also = decide(api, operator, second["id"], outcome="confirmed")
    assert also["status"] == "duplicate" and also["incident_id"] == made["incident_id"]
    incident = api.get(f"/api/incidents/{made['incident_id']}", headers=operator).json()
    assert incident["kind"] == "public_order" and "fight outside the bar" in incident["title"]
    linked = {e["item_id"]: e["how"] for e in incident["evidence"]}
    assert linked == {
        first["media"][0]["evidence_id"]: "citizen",
        second["media"][0]["evidence_id"]: "citizen",
    }
    assert own(api, anna, first["id"])["incident_id"] == made["incident_id"]
