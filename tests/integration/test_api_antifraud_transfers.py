"""Transfer holds through the API, on SQLite and PostgreSQL: a bank's device account asks
before executing a transfer, gets allow or hold with reasons and the hold period, and reports
the payer's answer; fraud analysts see the holds (audited) and the totals, and keep the mule
list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from kupol.antifraud.model import TransferCheck
from kupol.bootstrap import Container
from kupol.core.audit.model import AuditEntry
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "holds queue on shift"}


def transfer(ref: str, **fields: Any) -> dict[str, Any]:
    return {
        "ref": ref,
        "kind": "PAYMENT",
        "amount": 5_000.0,
        "payer": "KZ01ACC0001",
        "payer_balance": 300_000.0,
        "payee": "M-SHOP-17",
        **fields,
    }


def emptying(ref: str, payer: str = "KZ01ACC0002", amount: float = 250_000.0) -> dict[str, Any]:
    return transfer(
        ref, kind="TRANSFER", amount=amount, payer=payer, payer_balance=amount, payee="KZ99X1"
    )


def test_an_ordinary_payment_is_allowed_and_an_emptying_transfer_held_with_its_reason(
    api: Any, container: Container
) -> None:
    bank = login_as(api, container, "bank-halyk", "bank")

    allowed = api.post("/api/antifraud/transfers/check", json=transfer("T-1"), headers=bank)
    assert allowed.status_code == 200, allowed.text
    body = allowed.json()
    assert (body["decision"], body["status"], body["reasons"]) == ("allow", "allowed", [])
    assert body["hold_until"] is None and body["model"].startswith("transfer-hgb")
    assert body["score"] < 0.5

    held = api.post("/api/antifraud/transfers/check", json=emptying("T-2"), headers=bank).json()
    assert (held["decision"], held["status"]) == ("hold", "held")
    assert held["score"] >= 0.5
    assert [r["code"] for r in held["reasons"]] == ["empties_balance"]
    assert "whole balance" in held["reasons"][0]["text"]
    until = datetime.fromisoformat(held["hold_until"])
    assert timedelta(hours=23.9) < until - datetime.now(UTC) <= timedelta(hours=24)

    # A bank retrying after a timeout gets the same decision, not a second check.
    again = api.post("/api/antifraud/transfers/check", json=emptying("T-2"), headers=bank).json()
    assert (again["id"], again["decision"], again["repeated"]) == (held["id"], "hold", True)
    other = api.post(
        "/api/antifraud/transfers/check", json=emptying("T-2", amount=1.0), headers=bank
    )
    assert other.status_code == 409, other.text
    with container.db.reader() as session:
        assert len(list(session.scalars(select(TransferCheck)))) == 2


def test_bad_transfers_are_refused_with_a_clear_error_and_nothing_kept(
    api: Any, container: Container
) -> None:
    bank = login_as(api, container, "bank-kaspi", "bank")
    for bad, field in (
        (transfer("B-1", amount=-5), "amount"),
        (transfer("B-2", kind="WIRE"), "kind"),
        (transfer("B-3", at="2026-12-04T10:00:00"), "at"),
        (transfer("B-4", surprise=1), "surprise"),
        (transfer("", amount=5), "ref"),
    ):
        answer = api.post("/api/antifraud/transfers/check", json=bad, headers=bank)
        assert answer.status_code == 422, (bad, answer.text)
        assert field in answer.text
    lower = api.post(
        "/api/antifraud/transfers/check", json=transfer("B-5", currency="kzt"), headers=bank
    )
    assert lower.status_code == 422 and "ISO 4217" in lower.text
    ahead = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    future = api.post(
        "/api/antifraud/transfers/check", json=transfer("B-6", at=ahead), headers=bank
    )
    assert future.status_code == 422 and "ahead" in future.text
    with container.db.reader() as session:
        assert list(session.scalars(select(TransferCheck))) == []
    # Only banks and fraud analysts ask — not a camera's device account, not an operator.
    for name, role in (("duty", "operator"), ("cam-box", "device"), ("kcell-switch", "telecom")):
        other = login_as(api, container, name, role)
        refused = api.post("/api/antifraud/transfers/check", json=transfer("B-7"), headers=other)
        assert refused.status_code == 403, role


def test_a_listed_mule_holds_every_transfer_to_it_until_it_comes_off_the_list(
    api: Any, container: Container
) -> None:
    bank = login_as(api, container, "bank-bcc", "bank")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    listed = api.post(
        "/api/antifraud/mules",
        json={"account": "M-SHOP-17", "kind": "suspected", "source": "АФЦ report 2026-118"},
        headers=analyst,
    )
    assert listed.status_code == 201, listed.text

    held = api.post("/api/antifraud/transfers/check", json=transfer("M-1"), headers=bank).json()
    assert held["decision"] == "hold"
    assert [r["code"] for r in held["reasons"]] == ["suspected_mule"]

    assert api.get("/api/antifraud/mules", headers=analyst).status_code == 428  # no purpose
    seen = api.get("/api/antifraud/mules", headers={**analyst, **PURPOSE}).json()
    assert [(m["account"], m["kind"], m["source"]) for m in seen] == [
        ("M-SHOP-17", "suspected", "АФЦ report 2026-118")
    ]
    removed = api.delete(
        "/api/antifraud/mules/M-SHOP-17", params={"reason": "cleared by bank"}, headers=analyst
    )
    assert removed.status_code == 200 and removed.json()["active"] is False
    allowed = api.post("/api/antifraud/transfers/check", json=transfer("M-2"), headers=bank)
    assert allowed.json()["decision"] == "allow"
    assert api.post("/api/antifraud/mules", json={}, headers=bank).status_code == 403
    with container.db.reader() as session:
        actions = [
            (e.action, e.resource_type)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.resource_type == "mule_account")
                .order_by(AuditEntry.seq)
            )
        ]
    assert actions == [
        ("list", "mule_account"),
        ("search", "mule_account"),
        ("unlist", "mule_account"),
    ]


def test_a_mule_is_one_account_however_the_bank_writes_it(api: Any, container: Container) -> None:
    """An IBAN in groups of four or in small letters, a payee named by telephone: listed one
    way, held the other."""
    bank = login_as(api, container, "bank-bcc", "bank")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    for account in ("KZ86 125K ZT50 0410 0100", "8 (701) 555-44-33"):
        listed = api.post(
            "/api/antifraud/mules",
            json={"account": account, "kind": "known", "source": "case 2026-77"},
            headers=analyst,
        )
        assert listed.status_code == 201, listed.text
    seen = api.get("/api/antifraud/mules", headers={**analyst, **PURPOSE}).json()
    assert sorted(m["account"] for m in seen) == ["+77015554433", "KZ86125KZT5004100100"]
    for ref, payee in (("N-1", "kz86125kzt5004100100"), ("N-2", "+7 701 555 44 33")):
        held = api.post(
            "/api/antifraud/transfers/check", json=transfer(ref, payee=payee), headers=bank
        ).json()
        assert [r["code"] for r in held["reasons"]] == ["known_mule"], (payee, held)
    removed = api.delete(
        "/api/antifraud/mules/kz86 125k zt50 0410 0100", params={"reason": "closed"},
        headers=analyst,
    )  # fmt: skip
    assert removed.status_code == 200, removed.text


def test_the_payers_answer_releases_or_cancels_a_hold_and_the_totals_count_the_money(
    api: Any, container: Container
) -> None:
    bank = login_as(api, container, "bank-halyk", "bank")
    other_bank = login_as(api, container, "bank-kaspi", "bank")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    ids = []
    for i, amount in enumerate((100_000.0, 200_000.0, 400_000.0)):
        held = api.post(
            "/api/antifraud/transfers/check",
            json=emptying(f"H-{i}", payer=f"KZ01P{i}", amount=amount),
            headers=bank,
        ).json()
        assert held["decision"] == "hold", held
        ids.append(held["id"])
    api.post("/api/antifraud/transfers/check", json=transfer("OK-1"), headers=bank)

    def resolve(check_id: int, outcome: str, headers: dict[str, str]) -> Any:
        return api.post(
            f"/api/antifraud/transfers/{check_id}/resolution",
            json={"outcome": outcome, "note": "payer called back"},
            headers=headers,
        )

    assert resolve(ids[0], "confirmed", other_bank).status_code == 404  # not its transfer
    released = resolve(ids[0], "confirmed", bank)
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert resolve(ids[1], "cancelled", bank).json()["status"] == "cancelled"
    assert resolve(ids[1], "confirmed", bank).status_code == 409  # already decided
    assert resolve(ids[0], "maybe", bank).status_code == 422
    # The third hold's period runs out without an answer: released by expiry.
    with container.db.unit_of_work() as session:
        session.execute(
            update(TransferCheck)
            .where(TransferCheck.id == ids[2])
            .values(hold_until=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert resolve(ids[2], "cancelled", bank).status_code == 409

    summary = api.get("/api/antifraud/transfers/summary", headers=analyst).json()
    assert (summary["checks"], summary["allowed"], summary["held"]) == (4, 1, 3)
    assert summary["counts"] == {
        "allowed": 1,
        "released_by_payer": 1,
        "cancelled": 1,
        "released_by_expiry": 1,
    }
    assert summary["amounts"]["KZT"]["protected"] == 200_000.0
    assert summary["amounts"]["KZT"]["released_by_payer"] == 100_000.0
    assert summary["reasons"] == {"empties_balance": 3}

    queue = api.get("/api/antifraud/transfers", params={"status": "cancelled"}, headers=analyst)
    assert queue.status_code == 428  # the accounts in it are personal data: a purpose first
    queue = api.get(
        "/api/antifraud/transfers",
        params={"status": "cancelled"},
        headers={**analyst, **PURPOSE},
    )
    assert [(r["id"], r["payer"], r["resolved_by"]) for r in queue.json()] == [
        (ids[1], "KZ01P1", "bank-halyk")
    ]
    assert api.get("/api/antifraud/transfers/summary", headers=bank).status_code == 403
    with container.db.reader() as session:
        audited = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.resource_type == "transfer_check")
                .order_by(AuditEntry.seq)
            )
        )
    assert [(e.action, e.actor) for e in audited] == [
        ("confirmed", "bank-halyk"),
        ("cancelled", "bank-halyk"),
        ("search", "cyber"),
    ]
    assert audited[-1].purpose == "holds queue on shift"


def test_without_a_usable_model_any_reason_holds_and_the_decision_says_so(
    container: Container,
) -> None:
    from kupol.antifraud.holds import TransferHolds, TransferRequest
    from kupol.antifraud.transfers import TransferKind
    from kupol.settings import AntifraudSettings
    from tests.conftest import add_user

    holds = TransferHolds(
        db=container.db, audit=container.audit, settings=AntifraudSettings(), model=None
    )
    bank, _ = add_user(container, "bank-rbk", "bank")
    large_first = TransferRequest(
        bank_ref="N-1", kind=TransferKind.CASH_OUT, amount=2_000_000.0, payer="P1",
        payer_balance=9_000_000.0, payee="C-NEW",
    )  # fmt: skip
    decision = holds.check(actor=bank, request=large_first)
    assert (decision.decision, decision.model, decision.score) == ("hold", None, None)
    assert [r["code"] for r in decision.reasons] == ["new_payee_large"]
    small = TransferRequest(
        bank_ref="N-2", kind=TransferKind.PAYMENT, amount=900.0, payer="P1",
        payer_balance=7_000_000.0, payee="M-CAFE",
    )  # fmt: skip
    assert holds.check(actor=bank, request=small).decision == "allow"
