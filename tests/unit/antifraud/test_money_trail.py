"""The money trail laid on fraud groups (``find_groups(payments=…)``): it never changes the
groups the network ties found — two large gangs sharing a mule are not merged and scattered by
the community split — each group carries the accounts its victims paid, tied to the latest
caught caller, with amounts by status, and groups sharing an account are linked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kupol.antifraud.cdr import CdrRow
from kupol.antifraud.groups import SPLIT_ABOVE, Payment, find_groups
from kupol.antifraud.numbers import load_numbering
from kupol.antifraud.screening import CallAttempt, Screened, Verdict

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sim_boxes(boxes: int, numbers: int) -> tuple[list[CdrRow], list[Screened]]:
    """SIM-boxes of ``numbers`` numbers each, every number its own SIM, one handset a box."""
    numbering = load_numbering()
    rows, verdicts = [], []
    for box in range(boxes):
        for i in range(numbers):
            k = len(rows)
            number = f"+7775{box}{i:06d}"
            attempt = CallAttempt(
                call_id=str(k), at=T0 + timedelta(seconds=k), caller=number,
                called="+77010000000", imsi=f"40101{box}{i:09d}", imei=f"35693803564{box}000",
            )  # fmt: skip
            rows.append(CdrRow(line=k, attempt=attempt, answered=None, duration_s=None, truth=None))
            verdicts.append(
                Screened(call_id=str(k), verdict=Verdict.BLOCK, reasons=("simbox_imei",),
                         caller=numbering.classify(number))
            )  # fmt: skip
    return rows, verdicts


def paid(check: int, callers: tuple[str, ...], status: str, amount: float) -> Payment:
    return Payment(callers=callers, account="KZ00MULE", amount=amount, currency="KZT",
                   at=T0 + timedelta(hours=check), status=status, check_id=check)  # fmt: skip


def test_two_large_gangs_sharing_a_mule_stay_whole_and_are_linked() -> None:
    rows, verdicts = sim_boxes(2, 80)
    alone = find_groups(rows, verdicts)
    assert [len(g.numbers) for g in alone] == [80, 80]
    assert SPLIT_ABOVE < 2 * (80 + 80 + 1)  # merged, they would have been split
    payments = [
        paid(1, ("+77750000001",), "cancelled", 100.0),
        paid(2, ("+77750000002", "+77751000001"), "held", 200.0),  # the second box rang last
        paid(3, ("+77751000002", "+77011112299"), "released", 50.0),  # a spoof after it
    ]
    first, second = find_groups(rows, verdicts, payments=payments)
    assert [g.numbers for g in (first, second)] == [g.numbers for g in alone]
    assert [len(g.sims) for g in (first, second)] == [80, 80]
    assert first.accounts == second.accounts == ["KZ00MULE"]
    assert (first.linked, second.linked) == ([second.id], [first.id])
    assert [t.check_id for t in first.payments] == [1]
    assert [(t.check_id, t.caller) for t in second.payments] == [
        (2, "+77751000001"),
        (3, "+77751000002"),
    ]
    assert first.amounts == {"KZT": {"cancelled": 100.0}}
    assert second.amounts == {"KZT": {"held": 200.0, "released": 50.0}}
    assert ("account:KZ00MULE", "number:+77751000001") in second.edges


def test_a_lone_number_with_a_paid_account_is_a_group_and_unflagged_callers_tie_nothing() -> None:
    rows, verdicts = sim_boxes(1, 1)  # one number, one SIM, one handset: no group by itself
    assert find_groups(rows, verdicts) == []
    (group,) = find_groups(rows, verdicts, payments=[paid(1, ("+77750000000",), "held", 9.0)])
    assert group.numbers == ["+77750000000"] and group.accounts == ["KZ00MULE"]
    assert find_groups(rows, verdicts, payments=[paid(1, ("+77011112299",), "held", 9.0)]) == []
