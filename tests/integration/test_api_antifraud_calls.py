"""Call screening through the API, on SQLite and PostgreSQL: an operator's switch (a device
account) asks per call attempt; analysts keep the block and allow lists and look numbers up
(audited); a bank's transfer is held when the payer was just called by a suspicious number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kupol.antifraud.model import CallDecision, NumberListEntry
from kupol.bootstrap import Container
from kupol.core.audit import Justification
from kupol.core.audit.model import AuditEntry
from tests.conftest import add_user
from tests.unit.factories import fast_passwords, listing_of, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "complaint 2026-4471 check"}
VICTIM = "+77015550101"


def attempt(call_id: str, **fields: Any) -> dict[str, Any]:
    return {"call_id": call_id, "caller": "+77051234567", "called": VICTIM, **fields}


def test_a_switch_gets_verdicts_with_reasons_and_each_is_kept(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "kcell-switch", "telecom")
    ok = api.post("/api/antifraud/calls/screen", json=attempt("A1"), headers=switch)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["verdict"], ok.json()["reasons"]) == ("allow", [])
    spoofed = api.post(
        "/api/antifraud/calls/screen",
        json=attempt("A2", caller="8 777 123 45 67", international=True),
        headers=switch,
    ).json()
    assert spoofed["verdict"] == "block" and spoofed["caller"] == "+77771234567"
    assert spoofed["reasons"][0]["code"] == "domestic_on_international"
    assert "abroad" in spoofed["reasons"][0]["text"]
    bad = api.post(
        "/api/antifraud/calls/screen", json=attempt("A3", imsi="not-digits"), headers=switch
    )
    assert bad.status_code == 422
    naive = api.post(
        "/api/antifraud/calls/screen",
        json=attempt("A4", at="2026-12-04T10:00:00"),
        headers=switch,
    )
    assert naive.status_code == 422
    assert (
        api.post(
            "/api/antifraud/calls/A1/outcome",
            json={"answered": True, "duration_s": 62},
            headers=switch,
        ).status_code
        == 204
    )
    missing = api.post(
        "/api/antifraud/calls/ZZ/outcome", json={"answered": True, "duration_s": 1}, headers=switch
    )
    assert missing.status_code == 404
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    assert (
        api.post("/api/antifraud/calls/screen", json=attempt("A5"), headers=analyst).status_code
        == 403
    )
    with container.db.reader() as session:
        kept = [
            (d.call_id, d.verdict)
            for d in session.scalars(select(CallDecision).order_by(CallDecision.id))
        ]
    assert kept == [("A1", "allow"), ("A2", "block")]


def test_lists_block_and_vouch_and_a_caught_number_is_listed_with_its_rule(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "beeline-switch", "telecom")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    listed = api.post(
        "/api/antifraud/numbers/lists",
        json={"number": "8 702 000 11 22", "list": "block", "source": "АФЦ report 2026-311"},
        headers=analyst,
    )
    assert listed.status_code == 201, listed.text
    assert listed.json()["number"] == "+77020001122"
    blocked = api.post(
        "/api/antifraud/calls/screen", json=attempt("B1", caller="+77020001122"), headers=switch
    ).json()
    assert [r["code"] for r in blocked["reasons"]] == ["block_list"]
    api.post(
        "/api/antifraud/numbers/lists",
        json={"number": "+77272500000", "list": "allow", "source": "clinic reminders, contract 9"},
        headers=analyst,
    )
    for i in range(30):  # the clinic rings 30 patients in 5 minutes: vouched for
        answer = api.post(
            "/api/antifraud/calls/screen",
            json=attempt(f"C{i}", caller="+77272500000", called=f"+7701600{i:04d}"),
            headers=switch,
        ).json()
        assert answer["verdict"] == "allow", answer
    for i in range(25):  # an unknown number doing the same is caught, and listed
        answer = api.post(
            "/api/antifraud/calls/screen",
            json=attempt(f"D{i}", caller="+77757770000", called=f"+7701700{i:04d}"),
            headers=switch,
        ).json()
    assert answer["verdict"] == "block"
    with container.db.reader() as session:
        auto = session.scalar(
            select(NumberListEntry).where(NumberListEntry.number == "+77757770000")
        )
    assert auto is not None and auto.list == "block" and auto.added_by == "screening"
    assert auto.source.startswith("auto: fan_out_heavy")
    assert auto.expires_at is not None
    removed = api.delete(
        "/api/antifraud/numbers/lists/block/+77020001122",
        params={"reason": "number reassigned"},
        headers=analyst,
    )
    assert removed.status_code == 200 and removed.json()["active"] is False
    again = api.post(
        "/api/antifraud/calls/screen", json=attempt("B2", caller="+77020001122"), headers=switch
    ).json()
    assert again["verdict"] == "allow"
    refused = api.post(
        "/api/antifraud/numbers/lists",
        json={"number": "hello", "list": "block", "source": "test"},
        headers=analyst,
    )
    assert refused.status_code == 422 and "not a telephone number" in refused.text
    # A day later the auto-block has lapsed: the look-up says so, not that it blocks.
    from sqlalchemy import update

    with container.db.unit_of_work() as session:
        session.execute(
            update(NumberListEntry)
            .where(NumberListEntry.number == "+77757770000")
            .values(expires_at=datetime.now(UTC) - timedelta(hours=1))
        )
    found = api.get("/api/antifraud/numbers/+77757770000", headers={**analyst, **PURPOSE})
    [entry] = found.json()["lists"]
    assert (entry["active"], entry["in_force"], entry["added_by"]) == (True, False, "screening")
    vouched = api.get("/api/antifraud/numbers/+77272500000", headers={**analyst, **PURPOSE})
    assert vouched.json()["lists"][0]["in_force"] is True


def test_a_number_look_up_shows_its_place_lists_and_calls_and_is_audited(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "tele2-switch", "telecom")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    api.post("/api/antifraud/calls/screen", json=attempt("E1"), headers=switch)
    api.post(
        "/api/antifraud/calls/screen",
        json=attempt("E2", international=True),
        headers=switch,
    )
    assert api.get("/api/antifraud/numbers/87051234567", headers=analyst).status_code == 428
    found = api.get("/api/antifraud/numbers/87051234567", headers={**analyst, **PURPOSE}).json()
    assert (found["number"], found["kind"], found["operator"]) == (
        "+77051234567",
        "kz_mobile",
        "Beeline",
    )
    assert found["as_caller"] == {"allow": 1, "block": 1}
    assert [c["call_id"] for c in found["calls"]] == ["E2", "E1"]
    assert api.get("/api/antifraud/numbers/87051234567", headers=switch).status_code == 403
    with container.db.reader() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type == "phone_number")
        )
    assert (entry.actor, entry.resource_id, entry.purpose) == (
        "cyber",
        "+77051234567",
        "complaint 2026-4471 check",
    )


def test_a_transfer_is_held_when_the_payer_was_just_called_by_a_suspicious_number(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "kcell-switch", "telecom")
    bank = login_as(api, container, "bank-halyk", "bank")
    now = datetime.now(UTC)
    spoof = attempt(
        "F1",
        caller="+77019998877",
        international=True,
        at=(now - timedelta(minutes=30)).isoformat(),
    )
    assert (
        api.post("/api/antifraud/calls/screen", json=spoof, headers=switch).json()["verdict"]
        == "block"
    )
    payment = {
        "ref": "HB-1", "kind": "PAYMENT", "amount": 20_000.0, "payer": "KZ01P77",
        "payer_balance": 900_000.0, "payee": "M-SHOP-1", "payer_phone": "8 701 555 01 01",
    }  # fmt: skip
    held = api.post("/api/antifraud/transfers/check", json=payment, headers=bank).json()
    assert held["decision"] == "hold", held
    assert [r["code"] for r in held["reasons"]] == ["suspicious_call"]
    # Another payer, never called, is not held for it.
    other = {**payment, "ref": "HB-2", "payer": "KZ01P78", "payer_phone": "+77015550202"}
    assert (
        api.post("/api/antifraud/transfers/check", json=other, headers=bank).json()["decision"]
        == "allow"
    )


def test_a_switch_retrying_a_call_gets_the_same_answer_and_the_call_counts_once(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "kcell-switch", "telecom")
    other = login_as(api, container, "beeline-switch", "telecom")
    call = attempt("R1", caller="+77019998877", at=datetime.now(UTC).isoformat())
    answers = [
        api.post("/api/antifraud/calls/screen", json=call, headers=switch).json() for _ in range(3)
    ]
    assert answers[0] == answers[1] == answers[2]
    batch = api.post("/api/antifraud/calls/screen-batch", json={"calls": [call]}, headers=switch)
    assert batch.json()["results"][0]["verdict"] == answers[0]["verdict"]
    # Another switch's call of the same id is another call; so is this switch's id used again
    # for a call to someone else.
    api.post("/api/antifraud/calls/screen", json=call, headers=other)
    again = {**call, "called": "+77015550303"}
    api.post("/api/antifraud/calls/screen", json=again, headers=switch)
    with container.db.reader() as session:
        stored = [(d.switch, d.called) for d in session.scalars(select(CallDecision))]
    assert sorted(stored) == [
        ("beeline-switch", VICTIM), ("kcell-switch", VICTIM), ("kcell-switch", "+77015550303")
    ]  # fmt: skip
    # One outcome a call: the retry of the report is refused, the other switch's is its own.
    outcome = {"answered": False, "duration_s": 0}
    url = "/api/antifraud/calls/R1/outcome"
    assert api.post(url, json=outcome, headers=switch).status_code == 204
    assert api.post(url, json=outcome, headers=switch).status_code == 404
    assert api.post(url, json=outcome, headers=other).status_code == 204


def test_a_call_warned_only_for_its_network_does_not_hold_the_payers_transfer(
    api: Any, container: Container
) -> None:
    """A friend's number ported to another operator (no register loaded) is warned for its
    network; that says nothing of fraud, and the payer's transfer goes ahead."""
    switch = login_as(api, container, "kcell-switch", "telecom")
    bank = login_as(api, container, "bank-halyk", "bank")
    friend = attempt("P1", caller="+77011112233", imsi="401021234567890", network="Beeline")
    warned = api.post("/api/antifraud/calls/screen", json=friend, headers=switch).json()
    assert (warned["verdict"], [r["code"] for r in warned["reasons"]]) == (
        "warn",
        ["network_mismatch"],
    )
    payment = {
        "ref": "HB-5", "kind": "PAYMENT", "amount": 20_000.0, "payer": "KZ01P75",
        "payer_balance": 900_000.0, "payee": "M-SHOP-1", "payer_phone": VICTIM,
    }  # fmt: skip
    answer = api.post("/api/antifraud/transfers/check", json=payment, headers=bank).json()
    assert answer["decision"] == "allow", answer


def test_a_callee_written_the_domestic_way_is_stored_and_found_as_e164(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "kcell-switch", "telecom")
    bank = login_as(api, container, "bank-halyk", "bank")
    spoof = attempt("G1", caller="+77019998877", called="8 (701) 555-01-01", international=True)
    assert (
        api.post("/api/antifraud/calls/screen", json=spoof, headers=switch).json()["verdict"]
        == "block"
    )
    with container.db.reader() as session:
        [stored] = session.scalars(select(CallDecision))
    assert stored.called == VICTIM
    payment = {
        "ref": "HB-9", "kind": "PAYMENT", "amount": 5_000.0, "payer": "KZ01P79",
        "payer_balance": 900_000.0, "payee": "M-SHOP-1", "payer_phone": VICTIM,
    }  # fmt: skip
    held = api.post("/api/antifraud/transfers/check", json=payment, headers=bank).json()
    assert [r["code"] for r in held["reasons"]] == ["suspicious_call"]


def test_a_batch_that_catches_a_caller_stores_its_decisions_and_the_listing(
    api: Any, container: Container
) -> None:
    """Without the decisions' process (no switches' port here) a batch whose calls list their
    caller is stored by a thread: the decisions, the entry and its audit record, together."""
    switch = login_as(api, container, "kcell-switch", "telecom")
    caller = "+77757771111"
    calls = [attempt(f"F{i}", caller=caller, called=f"+7701800{i:04d}") for i in range(25)]
    answer = api.post("/api/antifraud/calls/screen-batch", json={"calls": calls}, headers=switch)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][-1]["verdict"] == "block"
    entry, audited, decisions = listing_of(container, caller)
    assert entry is not None and entry.added_by == "screening"
    assert audited == ["screening"]
    assert sorted(decisions) == sorted(c["call_id"] for c in calls)


def test_the_dashboard_counts_what_a_count_of_the_stored_decisions_gives(
    api: Any, container: Container
) -> None:
    """The database counts verdicts and reasons; checked against counting the rows here."""
    switch = login_as(api, container, "kcell-switch", "telecom")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    now = datetime.now(UTC)
    calls = [attempt(f"S{i}", caller=f"+7701333{i:04d}", at=now.isoformat()) for i in range(5)]
    calls += [attempt("S-spoof", caller="+77014440000", international=True)]
    calls += [attempt(f"S-fan{i}", caller="+77757775555", called=f"+7701900{i:04d}")
              for i in range(12)]  # fmt: skip
    calls += [attempt("S-old", caller="+77014440001", at=(now - timedelta(hours=3)).isoformat())]
    for call in calls:
        assert api.post("/api/antifraud/calls/screen", json=call, headers=switch).is_success
    summary = api.get("/api/antifraud/calls/summary", params={"minutes": 60}, headers=analyst)
    assert summary.status_code == 200, summary.text
    figures = summary.json()
    with container.db.reader() as session:
        rows = [
            (d.verdict, d.reasons)
            for d in session.scalars(select(CallDecision))
            if d.at >= now - timedelta(minutes=60)
        ]
    verdicts = {v: sum(1 for r in rows if r[0] == v) for v in ("allow", "warn", "block")}
    reasons: dict[str, int] = {}
    for _, codes in rows:
        for code in codes:
            reasons[code] = reasons.get(code, 0) + 1
    assert figures["calls"] == len(rows) == len(calls) - 1  # not the one 3 hours ago
    assert figures["verdicts"] == verdicts and verdicts["block"] and verdicts["warn"]
    assert {r["code"]: r["calls"] for r in figures["top_reasons"]} == reasons
    assert figures["calls_per_s_last_minute"] == round((len(calls) - 1) / 60, 2)


def test_groups_over_a_window_too_large_keep_the_latest_calls(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "kcell-switch", "telecom")
    analyst, _ = add_user(container, "cyber", "fraud_analyst")
    now = datetime.now(UTC)

    def gang(prefix: str, imei: str, at: datetime) -> None:
        for n in range(2):  # two SIMs through one handset, each ringing 25 strangers
            for i in range(25):
                call = attempt(
                    f"{prefix}{n}-{i}", caller=f"+7775{prefix}000{n}",
                    called=f"+7701{prefix}{n}{i:03d}", imsi=f"40101{prefix}00000{n}",
                    imei=imei, at=(at + timedelta(seconds=i)).isoformat(),
                )  # fmt: skip
                assert api.post("/api/antifraud/calls/screen", json=call, headers=switch).is_success

    gang("111", "356938035640001", now - timedelta(hours=3))
    gang("222", "356938035640002", now - timedelta(minutes=5))
    why = Justification(purpose="complaint 2026-90")
    found = container.antifraud.calls.groups(actor=analyst, why=why, hours=24)
    assert sorted(g.numbers for g in found) == [
        ["+77751110000", "+77751110001"], ["+77752220000", "+77752220001"]
    ]  # fmt: skip
    latest = container.antifraud.calls.groups(actor=analyst, why=why, hours=24, limit=50)
    assert [g.numbers for g in latest] == [["+77752220000", "+77752220001"]]


def test_a_decision_that_could_not_be_stored_is_stored_on_the_retry(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kupol.antifraud.screening import CallAttempt

    switch, _ = add_user(container, "kcell-switch", "telecom")
    calls = container.antifraud.calls
    attempt_ = CallAttempt(call_id="F-1", at=datetime.now(UTC), caller="+77011112233",
                           called=VICTIM)  # fmt: skip
    real_write = calls._writer.write

    def failing(rows: Any) -> None:
        monkeypatch.setattr(calls._writer, "write", real_write)  # the database is back
        raise TimeoutError("the database did not answer")

    monkeypatch.setattr(calls._writer, "write", failing)
    with pytest.raises(TimeoutError):
        calls.screen(actor=switch, attempt=attempt_)
    calls.screen(actor=switch, attempt=attempt_)  # the switch retries
    calls.screen(actor=switch, attempt=attempt_)  # and once more: answered from memory
    with container.db.reader() as session:
        assert [d.call_id for d in session.scalars(select(CallDecision))] == ["F-1"]
