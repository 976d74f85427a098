"""The rewards ledger: accruals once per report, reversals before and after payout, payout
batches and the provider's answers, the CSV the provider gets, replay from stored entries,
reconciliation that catches a tampered entry list, and random operation sequences that always
reconcile, never pay a report twice and never exceed a citizen's monthly cap."""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import random
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest

from kupol.citizens import ledger as ledger_module
from kupol.citizens.ledger import (
    BANK,
    CLEARING,
    EXPENSE,
    EntryKind,
    Ledger,
    PayoutBatch,
    ReportStatus,
    export_batch_csv,
    payable,
    receivable,
)
from kupol.citizens.rewards import load_reward_rules
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError

APRIL, MAY = date(2026, 4, 2), date(2026, 5, 1)


def two_citizens() -> Ledger:
    ledger = Ledger()
    ledger.accrue(report_id="r1", citizen="c1", amount_tenge=4_325, on=APRIL)
    ledger.accrue(report_id="r2", citizen="c1", amount_tenge=2_162, on=APRIL)
    ledger.accrue(report_id="r3", citizen="c2", amount_tenge=17_300, on=APRIL)
    return ledger


def test_the_examples_in_the_docstring_run() -> None:
    result = doctest.testmod(ledger_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_an_accrual_credits_the_citizen_and_debits_the_expense() -> None:
    ledger = two_citizens()
    assert ledger.balance(payable("c1")) == -6_487
    assert ledger.balance(payable("c2")) == -17_300
    assert ledger.balance(EXPENSE) == 23_787
    assert ledger.status("r1") is ReportStatus.ACCRUED
    assert ledger.status("unknown") is None
    assert ledger.reconcile().ok


def test_the_same_report_never_accrues_twice() -> None:
    ledger = two_citizens()
    first = ledger.entries[0]
    again = ledger.accrue(report_id="r1", citizen="c1", amount_tenge=4_325, on=MAY)
    assert again == first and len(ledger.entries) == 3
    with pytest.raises(ConflictError) as error:
        ledger.accrue(report_id="r1", citizen="c2", amount_tenge=4_325, on=APRIL)
    assert error.value.code == "report_already_accrued"
    with pytest.raises(ConflictError):
        ledger.accrue(report_id="r1", citizen="c1", amount_tenge=4_326, on=APRIL)
    ledger.reverse(report_id="r1", reason="fine refunded", on=APRIL)
    ledger.accrue(report_id="r1", citizen="c1", amount_tenge=4_325, on=MAY)
    assert ledger.status("r1") is ReportStatus.REVERSED
    assert len(ledger.entries) == 4


@pytest.mark.parametrize(
    ("report_id", "citizen", "amount"),
    [
        ("", "c1", 100),
        ("r 1", "c1", 100),
        ("r1", "c:1", 100),
        ("r1", "=cmd()", 100),
        ("r1", "c1", 0),
        ("r1", "c1", -5),
        ("r1", "c1", True),
        ("r1", "c1", 10.5),
    ],
)
def test_malformed_accruals_are_refused(report_id: str, citizen: str, amount: object) -> None:
    with pytest.raises(InvalidInputError):
        Ledger().accrue(report_id=report_id, citizen=citizen, amount_tenge=amount, on=APRIL)  # type: ignore[arg-type]


def test_a_reversal_before_payout_takes_the_reward_off_the_payable() -> None:
    ledger = two_citizens()
    entry = ledger.reverse(report_id="r1", reason="appeal upheld", on=APRIL)
    assert entry.kind is EntryKind.REVERSAL and entry.reason == "appeal upheld"
    assert ledger.balance(payable("c1")) == -2_162
    assert ledger.balance(EXPENSE) == 19_462
    assert ledger.balance(receivable("c1")) == 0
    assert ledger.reverse(report_id="r1", reason="again", on=MAY) == entry  # idempotent
    report = ledger.reconcile()
    assert report.ok and report.reversed_before_payout_tenge == 4_325
    batch = ledger.payout_batch(on=MAY, minimum_tenge=1_000)
    assert [(x.citizen, x.amount_tenge, x.report_ids) for x in batch.lines] == [
        ("c1", 2_162, ("r2",)),
        ("c2", 17_300, ("r3",)),
    ]


def test_a_reversal_after_payout_raises_a_receivable() -> None:
    ledger = two_citizens()
    batch = ledger.payout_batch(on=MAY, minimum_tenge=1_000)
    with pytest.raises(ConflictError) as error:
        ledger.reverse(report_id="r1", reason="appeal upheld", on=MAY)
    assert error.value.code == "reward_in_payout"
    ledger.settle(
        batch_ref=batch.reference, paid=[x.reference for x in batch.lines], failed=[], on=MAY
    )
    ledger.reverse(report_id="r1", reason="appeal upheld", on=MAY)
    assert ledger.balance(receivable("c1")) == 4_325
    assert ledger.balance(payable("c1")) == 0
    assert ledger.balance(BANK) == -23_787
    report = ledger.reconcile()
    assert report.ok, report.problems
    assert (report.reversed_after_payout_tenge, report.receivable_tenge) == (4_325, 4_325)


def test_reversing_an_unknown_report_or_without_a_reason_is_refused() -> None:
    ledger = two_citizens()
    with pytest.raises(NotFoundError):
        ledger.reverse(report_id="nope", reason="x", on=APRIL)
    with pytest.raises(InvalidInputError):
        ledger.reverse(report_id="r1", reason="  ", on=APRIL)


def test_a_batch_pays_each_citizen_at_or_above_the_minimum_their_whole_balance() -> None:
    ledger = two_citizens()
    batch = ledger.payout_batch(on=MAY, minimum_tenge=6_488)
    assert [(x.reference, x.citizen, x.amount_tenge) for x in batch.lines] == [
        ("RWD-20260501-001-0001", "c2", 17_300)
    ]
    assert batch.total_tenge == 17_300
    assert ledger.balance(payable("c2")) == 0 and ledger.balance(CLEARING) == -17_300
    assert ledger.status("r3") is ReportStatus.IN_BATCH
    assert ledger.balance(payable("c1")) == -6_487  # below the minimum: waits
    second = ledger.payout_batch(on=MAY, minimum_tenge=6_487)
    assert second.reference == "RWD-20260501-002" and second.lines[0].citizen == "c1"
    with pytest.raises(InvalidInputError):
        ledger.payout_batch(on=MAY, minimum_tenge=0)


def test_a_batch_with_no_one_due_records_nothing() -> None:
    ledger = two_citizens()
    empty = ledger.payout_batch(on=MAY, minimum_tenge=1_000_000)
    assert (empty.lines, empty.total_tenge, len(ledger.entries)) == ((), 0, 3)


def test_the_providers_answer_pays_some_lines_and_returns_failed_ones_to_payable() -> None:
    ledger = two_citizens()
    batch = ledger.payout_batch(on=MAY, minimum_tenge=1_000)
    c1, c2 = (x.reference for x in batch.lines)
    done = ledger.settle(batch_ref=batch.reference, paid=[c2], failed=[c1], on=MAY)
    assert (done.paid_tenge, done.failed_tenge, done.outstanding) == (17_300, 6_487, ())
    assert ledger.balance(BANK) == -17_300 and ledger.balance(CLEARING) == 0
    assert ledger.balance(payable("c1")) == -6_487
    assert ledger.status("r1") is ReportStatus.ACCRUED and ledger.status("r3") is ReportStatus.PAID
    retry = ledger.payout_batch(on=MAY + timedelta(days=1), minimum_tenge=1_000)
    assert [(x.citizen, x.report_ids) for x in retry.lines] == [("c1", ("r1", "r2"))]
    assert ledger.reconcile().ok


def test_a_repeated_answer_is_harmless_and_a_contradicting_one_is_refused() -> None:
    ledger = two_citizens()
    batch = ledger.payout_batch(on=MAY, minimum_tenge=1_000)
    c1, c2 = (x.reference for x in batch.lines)
    part = ledger.settle(batch_ref=batch.reference, paid=[c1], failed=[], on=MAY)
    assert part.outstanding == (c2,)
    count = len(ledger.entries)
    same = ledger.settle(batch_ref=batch.reference, paid=[c1], failed=[], on=MAY)
    assert (same.paid_tenge, len(ledger.entries)) == (0, count)
    with pytest.raises(ConflictError):
        ledger.settle(batch_ref=batch.reference, paid=[], failed=[c1], on=MAY)
    with pytest.raises(InvalidInputError):
        ledger.settle(batch_ref=batch.reference, paid=[c2], failed=[c2], on=MAY)
    with pytest.raises(InvalidInputError):
        ledger.settle(batch_ref=batch.reference, paid=["RWD-x-0001"], failed=[], on=MAY)
    with pytest.raises(NotFoundError):
        ledger.settle(batch_ref="RWD-none", paid=[], failed=[], on=MAY)


def test_the_csv_for_the_provider_is_exactly_this() -> None:
    ledger = two_citizens()
    ledger.accrue(report_id="r4", citizen="870412300123", amount_tenge=1_000, on=APRIL)
    batch = ledger.payout_batch(on=MAY, minimum_tenge=1_000)
    assert export_batch_csv(batch) == (
        "line_reference,batch_reference,citizen_id,amount_tenge,currency,value_date\r\n"
        "RWD-20260501-001-0001,RWD-20260501-001,870412300123,1000,KZT,2026-05-01\r\n"
        "RWD-20260501-001-0002,RWD-20260501-001,c1,6487,KZT,2026-05-01\r\n"
        "RWD-20260501-001-0003,RWD-20260501-001,c2,17300,KZT,2026-05-01\r\n"
    )
    empty = PayoutBatch(reference="B", on=MAY, lines=(), total_tenge=0)
    assert export_batch_csv(empty) == (
        "line_reference,batch_reference,citizen_id,amount_tenge,currency,value_date\r\n"
    )


def test_a_ledger_replayed_from_its_entries_is_the_same_ledger() -> None:
    ledger = two_citizens()
    batch = ledger.payout_batch(on=MAY, minimum_tenge=1_000)
    ledger.settle(batch_ref=batch.reference, paid=[batch.lines[0].reference], failed=[], on=MAY)
    replayed = Ledger.from_entries(ledger.entries)
    assert replayed.entries == ledger.entries
    for account in (BANK, CLEARING, EXPENSE, payable("c1"), payable("c2")):
        assert replayed.balance(account) == ledger.balance(account)
    assert replayed.reconcile() == ledger.reconcile()
    # It carries on exactly as the original would.
    for each in (ledger, replayed):
        each.settle(batch_ref=batch.reference, paid=[], failed=[batch.lines[1].reference], on=MAY)
    assert ledger.payout_batch(on=MAY, minimum_tenge=1) == replayed.payout_batch(
        on=MAY, minimum_tenge=1
    )


def tamper(ledger: Ledger, index: int, **changes: object) -> list[str]:
    entries = list(ledger.entries)
    entries[index] = dataclasses.replace(entries[index], **changes)  # type: ignore[arg-type]
    return list(Ledger.from_entries(entries).reconcile().problems)


def test_reconciliation_catches_a_tampered_entry_list() -> None:
    ledger = two_citizens()
    batch = ledger.payout_batch(on=MAY, minimum_tenge=1_000)
    ledger.settle(batch_ref=batch.reference, paid=[batch.lines[0].reference], failed=[], on=MAY)
    assert ledger.reconcile().ok
    entries = ledger.entries
    first = entries[0]
    unbalanced = (first.postings[0], dataclasses.replace(first.postings[1], tenge=-4_000))
    assert any("do not balance" in p for p in tamper(ledger, 0, postings=unbalanced))
    duplicate = dataclasses.replace(first, seq=len(entries))
    problems = Ledger.from_entries([*entries, duplicate]).reconcile().problems
    assert any("r1 accrued more than once" in p for p in problems)
    assert any("total differs" in p for p in tamper(ledger, 3, amount_tenge=1))
    line = dataclasses.replace(batch.lines[0], amount_tenge=1)
    assert any("does not match" in p for p in tamper(ledger, 3, lines=(line, batch.lines[1])))
    assert any("sequence" in p for p in tamper(ledger, 1, seq=7))
    assert any("debits differ" in p for p in tamper(ledger, 1, amount_tenge=100))
    moved = tuple(
        dataclasses.replace(p, account=payable("c9")) if p.tenge < 0 else p
        for p in entries[0].postings
    )
    assert any("payable of c" in p for p in tamper(ledger, 0, postings=moved))
    twice = dataclasses.replace(entries[4], seq=len(entries))
    assert not Ledger.from_entries([*entries, twice]).reconcile().ok


def test_a_negative_payable_without_a_receivable_is_reported() -> None:
    ledger = two_citizens()
    ledger.reverse(report_id="r1", reason="x", on=APRIL)
    over = dataclasses.replace(
        ledger.entries[3],
        postings=tuple(
            dataclasses.replace(p, tenge=p.tenge * 3) for p in ledger.entries[3].postings
        ),
    )
    entries = [*ledger.entries[:3], over]
    problems = Ledger.from_entries(entries).reconcile().problems
    assert any("negative without a receivable" in p for p in problems)


@pytest.mark.parametrize("seed", range(120))
def test_random_operations_always_reconcile_pay_once_and_respect_the_month_cap(seed: int) -> None:
    rng = random.Random(seed)
    rules = load_reward_rules()
    ledger, day, batches = Ledger(), date(2026, 2, 27), []
    citizens, offences = ["c1", "c2"], ["red_light", "speeding", "scooter_speeding"]
    for step in range(rng.randint(10, 60)):
        day += timedelta(days=rng.choice([0, 0, 0, 1, 4]))
        roll = rng.random()
        if roll < 0.5:
            citizen = rng.choice(citizens)
            decision = rules.reward_for(
                offence=rng.choice(offences),
                collected_tenge=rng.choice([0, 21_625, 43_250, 173_000, 400_000, 400_000]),
                paid_on=day,
                already_this_month_tenge=ledger.accrued_in_month(citizen=citizen, month=day),
            )
            if decision.qualifies:
                ledger.accrue(
                    report_id=f"r{step}",
                    citizen=citizen,
                    amount_tenge=decision.amount_tenge,
                    on=day,
                )
        elif roll < 0.55 and ledger.entries:
            first = rng.choice([e for e in ledger.entries if e.kind is EntryKind.ACCRUAL] or [None])
            if first is not None and first.report_id and first.citizen:
                count = len(ledger.entries)
                ledger.accrue(
                    report_id=first.report_id,
                    citizen=first.citizen,
                    amount_tenge=first.amount_tenge,
                    on=day,
                )
                assert len(ledger.entries) == count
        elif roll < 0.7:
            accrued = [e.report_id for e in ledger.entries if e.kind is EntryKind.ACCRUAL]
            if accrued:
                rid = rng.choice(accrued)
                assert rid is not None
                try:
                    ledger.reverse(report_id=rid, reason="appeal upheld", on=day)
                except ConflictError:
                    assert ledger.status(rid) is ReportStatus.IN_BATCH
        elif roll < 0.85:
            minimum = rules.minimum_payout_on(max(day, date(2026, 3, 1)))
            batch = ledger.payout_batch(on=day, minimum_tenge=minimum)
            if batch.lines:
                batches.append(batch)
        elif batches:
            batch = rng.choice(batches)
            refs = [x.reference for x in batch.lines if rng.random() < 0.7]
            paid = [r for r in refs if rng.random() < 0.8]
            failed = [r for r in refs if r not in paid]
            with contextlib.suppress(ConflictError):  # a line answered before otherwise
                ledger.settle(batch_ref=batch.reference, paid=paid, failed=failed, on=day)
        report = ledger.reconcile()
        assert report.ok, report.problems

    entries = ledger.entries
    lines = {x.reference: x for e in entries if e.kind is EntryKind.PAYOUT for x in e.lines}
    paid_reports = Counter(
        rid
        for e in entries
        if e.kind is EntryKind.SETTLEMENT
        for ref in e.paid
        for rid in lines[ref].report_ids
    )
    assert all(n == 1 for n in paid_reports.values())
    accruals = {e.report_id: e for e in entries if e.kind is EntryKind.ACCRUAL}
    assert len(accruals) == sum(e.kind is EntryKind.ACCRUAL for e in entries)
    assert -ledger.balance(BANK) == sum(accruals[r].amount_tenge for r in paid_reports)
    reversed_ids = {e.report_id for e in entries if e.kind is EntryKind.REVERSAL}
    by_month: dict[tuple[str | None, int, int], int] = defaultdict(int)
    for rid, e in accruals.items():
        if rid not in reversed_ids:
            by_month[(e.citizen, e.on.year, e.on.month)] += e.amount_tenge
    assert all(total <= 100_000 for total in by_month.values())
    assert Ledger.from_entries(entries).reconcile() == ledger.reconcile()
