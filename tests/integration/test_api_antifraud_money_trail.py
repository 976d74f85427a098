"""The money trail in organised groups, through the API: two phone banks with nothing in
common on the network whose victims pay one account each carry the account and are linked by
it; the account is tied to the caught number that rang the payer last (not to a spoofed call
after it, nor to another gang that rang earlier); the transfers and the reports on the
account go into the group's case file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from kupol.antifraud.model import TransferCheck
from kupol.bootstrap import Container
from tests.conftest import add_user
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "complaint KUI-2026-0077"}
MULE = "KZ44MULE0000000001"


def ring_strangers(
    api: Any, switch: dict[str, str], number: str, imsi: str, imei: str, also: str = ""
) -> str:
    """A number rings 30 strangers within minutes from its own SIM and handset (blocked for
    fan-out) — ``also`` last, if given; returns the last one rung."""
    called = ""
    for i in range(30):
        called = also if also and i == 29 else f"+7701{number[-4:]}{i:03d}"
        answer = api.post(
            "/api/antifraud/calls/screen",
            json={"call_id": f"{number}-{i}", "caller": number, "called": called,
                  "imsi": imsi, "imei": imei},
            headers=switch,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
    return called


def test_victims_paying_one_account_tie_two_phone_banks_into_one_group(
    api: Any, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    switch = login_as(api, container, "tele2-switch", "telecom")
    bank = login_as(api, container, "bank-forte", "bank")
    analyst = login_as(api, container, "cyber2", "fraud_analyst")
    # A third gang rings the second one's victim too, but earlier: the payer was talked into
    # the transfer by the latest caller, and the account is tied to that one alone.
    ring_strangers(api, switch, "+77757773333", "401011000003333", "356938035643333",
                   also="+77012222029")  # fmt: skip
    first = ring_strangers(api, switch, "+77757771111", "401011000001111", "356938035641111")
    second = ring_strangers(api, switch, "+77757772222", "401011000002222", "356938035642222")
    assert second == "+77012222029"

    def groups() -> list[dict[str, Any]]:
        found = api.get("/api/antifraud/groups", headers={**analyst, **PURPOSE})
        assert found.status_code == 200, found.text
        return list(found.json())

    assert groups() == []  # one SIM and one handset each, no cell: nothing ties them yet

    def pay(ref: str, payer_phone: str, payee: str, amount: float) -> dict[str, Any]:
        answer = api.post(
            "/api/antifraud/transfers/check",
            json={"ref": ref, "kind": "TRANSFER", "amount": amount, "payer": f"KZ-{ref}",
                  "payer_balance": 900_000.0, "payee": payee, "payer_phone": payer_phone},
            headers=bank,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    # After the first gang, a spoofed call (a Kazakhstan number from abroad) reaches its victim:
    # the spoofed number says nothing of who called, and the trail passes it by.
    spoof = api.post(
        "/api/antifraud/calls/screen",
        json={"call_id": "spoof-1", "caller": "+77011112299", "called": first,
              "international": True},
        headers=switch,
    )  # fmt: skip
    assert spoof.json()["verdict"] == "block"
    held = pay("F-1", first, MULE, 150_000.0)
    assert held["status"] == "held"
    assert "suspicious_call" in [r["code"] for r in held["reasons"]]
    held_second = pay("F-2", second.replace("+7", "8"), MULE, 90_000.0)  # written 8 7…
    pay("F-3", "+77015550000", MULE, 5_000.0)  # a payer nobody suspicious rang: no tie

    with container.db.reader() as session:
        kept = {c.bank_ref: c.callers for c in session.scalars(select(TransferCheck))}
    assert kept == {
        "F-1": ["+77757771111", "+77011112299"],
        "F-2": ["+77757773333", "+77757772222"],
        "F-3": None,
    }
    queue = api.get("/api/antifraud/transfers?status=held", headers={**analyst, **PURPOSE})
    assert queue.status_code == 200, queue.text
    rung = {h["bank_ref"]: h["callers"] for h in queue.json()}
    assert rung["F-1"][0] == "+77757771111" and rung["F-2"][-1] == "+77757772222"
    first_group, second_group = sorted(groups(), key=lambda g: g["numbers"])
    # Each phone bank stays its own group (the network found them; the money does not merge
    # them), each with the account its victims paid, and the two are linked by it.
    assert first_group["numbers"] == ["+77757771111"]
    assert second_group["numbers"] == ["+77757772222"]  # not the earlier third gang
    for group, other, amount in ((first_group, second_group, 150_000.0),
                                 (second_group, first_group, 90_000.0)):  # fmt: skip
        assert group["accounts"] == [MULE] and group["linked"] == [other["id"]]
        assert [p["caller"] for p in group["payments"]] == group["numbers"]
        assert group["amounts"] == {"KZT": {"held": amount}}
        assert ["account:" + MULE, "number:" + group["numbers"][0]] in group["edges"]
    # The audit record of the search names the accounts it showed.
    from kupol.core.audit.model import AuditEntry

    with container.db.reader() as session:
        searches = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.actor == "cyber2", AuditEntry.resource_type == "fraud_group")
                .order_by(AuditEntry.seq)  # without it PostgreSQL may give any order
            )
        )
    assert searches[-1].details["accounts"] == [MULE]
    assert searches[-1].purpose == PURPOSE["X-Purpose"]

    # A hold past its period reads as released (as the holds service releases it).
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    with container.db.unit_of_work() as session:
        session.execute(
            update(TransferCheck)
            .where(TransferCheck.id == held["id"])
            .values(hold_until=datetime.now(UTC) - timedelta(minutes=1))
        )
    lapsed = next(g for g in groups() if g["numbers"] == ["+77757771111"])
    assert lapsed["amounts"] == {"KZT": {"released": 150_000.0}}

    # A report on the mule account goes into the group's case file with the trail.
    report = api.post(
        "/api/antifraud/reports",
        json={"kind": "account", "subject": MULE, "category": "mule",
              "summary": "paid by two victims of two phone banks"},
        headers={**analyst, **PURPOSE},
    )  # fmt: skip
    assert report.status_code == 201, report.text
    export = api.post(
        "/api/antifraud/groups/export",
        json={"number": "+77757772222", "case_number": "CYB-2026-201"},
        headers={**analyst, **PURPOSE},
    )
    assert export.status_code == 201, export.text
    assert (export.json()["numbers"], export.json()["accounts"]) == (1, 1)
    investigator = login_as(api, container, "inv2", "investigator")
    item = export.json()["evidence_item"]
    document = json.loads(
        api.get(f"/api/evidence/{item}/file", headers={**investigator, **PURPOSE}).content
    )
    assert document["group"]["accounts"] == [MULE] and "linked" not in document["group"]
    assert document["linked_groups"] == [{"numbers": ["+77757771111"], "accounts": [MULE]}]
    assert [p["check_id"] for p in document["group"]["payments"]] == [held_second["id"]]
    assert [r["subject"] for r in document["afc_reports"]] == [MULE]

    # Whoever may read numbers but not transfers (no shipped role today) sees no money trail:
    # the two lone numbers are groups only by the account their victims paid.
    from kupol.core.auth.permissions import PERMISSIONS, Permission

    monkeypatch.setitem(PERMISSIONS, Permission.TRANSFERS_READ, frozenset())
    assert groups() == []
    with container.db.reader() as session:
        last = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.actor == "cyber2", AuditEntry.resource_type == "fraud_group")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert last is not None and last.details["accounts"] == []


def test_the_latest_caller_to_get_through_is_last_even_if_a_later_call_of_another_was_blocked(
    api: Any, container: Container
) -> None:
    """G rang the payer and got through, H too, then G rang again and was blocked (a spoof
    from abroad): G reached the payer last, so G is the latest; a caller whose every call
    was blocked would come before both."""
    from datetime import UTC, datetime, timedelta

    from kupol.antifraud.screening import CallAttempt

    calls = container.antifraud.calls
    switch, _ = add_user(container, "tele2-switch-2", "telecom")
    payer = "+77015550999"
    now = datetime.now(UTC)

    def ring(call_id: str, caller: str, minutes: int, *, international: bool = False) -> str:
        attempt = CallAttempt(call_id=call_id, at=now - timedelta(minutes=minutes), caller=caller,
                              called=payer, international=international)  # fmt: skip
        return calls.screen(actor=switch, attempt=attempt).verdict.value

    assert ring("w-0", "+77759990000", 40, international=True) == "block"  # never got through
    assert ring("g-1", "+77751110000", 30) == "allow"
    assert ring("h-1", "+77752220000", 20) == "allow"
    analyst, _ = add_user(container, "cyber-lists", "fraud_analyst")
    calls.add_to_list(actor=analyst, number="+77752220000", list_name="block", source="test")
    assert ring("g-2", "+77751110000", 10, international=True) == "block"  # spoofed: not listed
    assert calls.suspicious_calls_to(payer, since=now - timedelta(hours=1), until=now) == [
        "+77759990000",
        "+77752220000",
        "+77751110000",
    ]
