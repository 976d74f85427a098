"""The rewards ledger: double entry, in memory, rebuilt from its immutable entries.

Accounts (a posting is positive for a debit, negative for a credit):

* ``reward_expense`` — rewards granted, less those reversed;
* ``rewards_payable:<citizen>`` — owed to a citizen and not yet sent (a credit balance);
* ``payouts_clearing`` — sent to the payment provider, its answer not yet in;
* ``bank`` — paid out (a credit balance);
* ``rewards_receivable:<citizen>`` — a reward reversed after it was paid: the citizen owes it.

Each operation appends one :class:`Entry`; a database stores the entries append-only and
replays them with :meth:`Ledger.from_entries`; :meth:`Ledger.reconcile` replays them afresh
and lists every broken invariant.

Example:
    >>> from datetime import date
    >>> ledger = Ledger()
    >>> _ = ledger.accrue(report_id="r1", citizen="c1", amount_tenge=4325, on=date(2026, 4, 2))
    >>> batch = ledger.payout_batch(on=date(2026, 5, 1), minimum_tenge=1000)
    >>> [(line.reference, line.citizen, line.amount_tenge) for line in batch.lines]
    [('RWD-20260501-001-0001', 'c1', 4325)]
    >>> ledger.settle(batch_ref=batch.reference, paid=[batch.lines[0].reference], failed=[],
    ...               on=date(2026, 5, 2)).outstanding
    ()
    >>> ledger.reconcile().ok, ledger.balance("bank")
    (True, -4325)
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from kupol.citizens.ledger_types import (
    BANK,
    CLEARING,
    CSV_COLUMNS,
    EXPENSE,
    ID_PATTERN,
    Entry,
    EntryKind,
    PayoutBatch,
    PayoutLine,
    Posting,
    ReconcileReport,
    ReportState,
    ReportStatus,
    Settlement,
    payable,
    receivable,
)
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError


class Ledger:
    """The rewards ledger; every change is one appended, balanced :class:`Entry`."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._balances: dict[str, int] = defaultdict(int)
        self._reports: dict[str, ReportState] = {}
        self._batches: dict[str, PayoutBatch] = {}
        self._outcomes: dict[str, bool] = {}  # line reference: paid
        self._totals: dict[str, int] = defaultdict(int)
        self._problems: list[str] = []

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> Ledger:
        """The ledger the stored ``entries`` add up to, replayed in order.

        Replay does not refuse a broken list; :meth:`reconcile` says what is wrong with it.
        """
        ledger = cls()
        for entry in entries:
            ledger._problems += ledger._apply(entry)
        return ledger

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry, oldest first (what a database stores)."""
        return tuple(self._entries)

    def balance(self, account: str) -> int:
        """The balance of ``account``: positive is a debit balance, negative a credit one."""
        return self._balances.get(account, 0)

    def status(self, report_id: str) -> ReportStatus | None:
        """Where a report's reward stands, or ``None`` if it was never accrued."""
        report = self._reports.get(report_id)
        return report.status if report else None

    def accrued_in_month(self, *, citizen: str, month: date) -> int:
        """What ``citizen`` was awarded by accruals in ``month``'s calendar month, net of
        reversals (the ``already_this_month_tenge`` of ``RewardRules.reward_for``)."""
        mine = [r for r in self._reports.values() if r.citizen == citizen]
        month_of = [r for r in mine if (r.on.year, r.on.month) == (month.year, month.month)]
        return _sum(month_of) - _sum(month_of, ReportStatus.REVERSED)

    def accrue(self, *, report_id: str, citizen: str, amount_tenge: int, on: date) -> Entry:
        """Owe ``citizen`` a reward for ``report_id``: debit expense, credit their payable.

        Idempotent: accruing a report again with the same citizen and amount returns the first
        accrual and records nothing (even after a reversal: a report accrues once, ever).

        Raises:
            InvalidInputError: An id is malformed or the amount is not a positive integer.
            ConflictError: The report was accrued before to another citizen or amount.
        """
        _check_id(report_id, "report_id")
        _check_id(citizen, "citizen")
        if isinstance(amount_tenge, bool) or not isinstance(amount_tenge, int) or amount_tenge <= 0:
            raise InvalidInputError("a reward is a positive number of whole tenge")
        known = self._reports.get(report_id)
        if known is not None:
            if (known.citizen, known.amount) != (citizen, amount_tenge):
                raise ConflictError(
                    f"report {report_id} was already accrued to {known.citizen}",
                    code="report_already_accrued",
                )
            return self._find(EntryKind.ACCRUAL, report_id)
        postings = _move(EXPENSE, payable(citizen), amount_tenge)
        return self._record(
            EntryKind.ACCRUAL, on, amount_tenge, postings, report_id=report_id, citizen=citizen
        )

    def reverse(self, *, report_id: str, reason: str, on: date) -> Entry:
        """Take back a report's reward (fine refunded, decision overturned on appeal).

        Before payout the citizen's payable is debited; after payout a receivable from the
        citizen is raised instead. Reversing a reversed report returns the first reversal.

        Raises:
            InvalidInputError: No reason is given.
            NotFoundError: The report was never accrued.
            ConflictError: The reward is in a batch the provider has not answered for yet.
        """
        if not reason.strip():
            raise InvalidInputError("a reversal needs a reason")
        report = self._reports.get(report_id)
        if report is None:
            raise NotFoundError(f"no reward was accrued for report {report_id}")
        if report.status is ReportStatus.REVERSED:
            return self._find(EntryKind.REVERSAL, report_id)
        if report.status is ReportStatus.IN_BATCH:
            raise ConflictError(
                f"the reward for report {report_id} is in a payout awaiting the provider's "
                "answer; settle the batch first",
                code="reward_in_payout",
            )
        paid = report.status is ReportStatus.PAID
        debit = receivable(report.citizen) if paid else payable(report.citizen)
        postings = _move(debit, EXPENSE, report.amount)
        refs = {"report_id": report_id, "citizen": report.citizen, "reason": reason.strip()}
        return self._record(EntryKind.REVERSAL, on, report.amount, postings, **refs)

    def payout_batch(self, *, on: date, minimum_tenge: int) -> PayoutBatch:
        """Send every citizen whose payable is at least ``minimum_tenge`` their whole balance:
        one line each (by citizen id), moved from payable to clearing.

        Nothing is recorded when no one is due; the batch then has no lines.

        Raises:
            InvalidInputError: The minimum is below 1 ₸.
        """
        if minimum_tenge < 1:
            raise InvalidInputError("the minimum payout must be at least 1 ₸")
        ref = f"RWD-{on:%Y%m%d}-{len(self._batches) + 1:03d}"
        owed: dict[str, list[str]] = defaultdict(list)
        for rid, report in self._reports.items():
            if report.status is ReportStatus.ACCRUED:
                owed[report.citizen].append(rid)
        lines: list[PayoutLine] = []
        for citizen, rids in sorted(owed.items()):
            amount = -self.balance(payable(citizen))
            if amount >= minimum_tenge:
                number, ids = f"{ref}-{len(lines) + 1:04d}", tuple(rids)
                line = PayoutLine(
                    reference=number, citizen=citizen, amount_tenge=amount, report_ids=ids
                )
                lines.append(line)
        total = sum(line.amount_tenge for line in lines)
        if lines:
            postings = [Posting(account=payable(x.citizen), tenge=x.amount_tenge) for x in lines]
            postings.append(Posting(account=CLEARING, tenge=-total))
            self._record(EntryKind.PAYOUT, on, total, postings, batch_ref=ref, lines=tuple(lines))
        return PayoutBatch(reference=ref, on=on, lines=tuple(lines), total_tenge=total)

    def settle(
        self, *, batch_ref: str, paid: Collection[str], failed: Collection[str], on: date
    ) -> Settlement:
        """Record the payment provider's answer for some or all lines of a batch.

        Paid lines move from clearing to bank; failed ones go back to the citizen's payable
        (their reports can be paid in a later batch, or reversed). A line answered again with
        the same outcome is ignored, so a repeated answer is harmless.

        Raises:
            NotFoundError: No such batch.
            InvalidInputError: A line is not in the batch, or is both paid and failed.
            ConflictError: A line was answered before with the other outcome.
        """
        batch = self._batches.get(batch_ref)
        if batch is None:
            raise NotFoundError(f"no payout batch {batch_ref}")
        lines = {line.reference: line for line in batch.lines}
        answers = {**dict.fromkeys(failed, False), **dict.fromkeys(paid, True)}
        if set(paid) & set(failed) or set(answers) - set(lines):
            raise InvalidInputError(f"lines not in batch {batch_ref}, or both paid and failed")
        clash = sorted(ref for ref, ok in answers.items() if self._outcomes.get(ref, ok) != ok)
        if clash:
            raise ConflictError(f"lines {', '.join(clash)} were already answered otherwise")
        new = {ref: ok for ref, ok in sorted(answers.items()) if ref not in self._outcomes}
        postings: list[Posting] = []
        for ref, ok in new.items():
            line = lines[ref]
            postings += _move(CLEARING, BANK if ok else payable(line.citizen), line.amount_tenge)
        good = tuple(ref for ref, ok in new.items() if ok)
        bad = tuple(ref for ref, ok in new.items() if not ok)
        paid_tenge, failed_tenge = (sum(lines[ref].amount_tenge for ref in x) for x in (good, bad))
        if new:
            answer = {"batch_ref": batch_ref, "paid": good, "failed": bad}
            self._record(EntryKind.SETTLEMENT, on, paid_tenge + failed_tenge, postings, **answer)
        unanswered = tuple(ref for ref in lines if ref not in self._outcomes)
        return Settlement(
            batch_ref=batch_ref,
            paid_tenge=paid_tenge,
            failed_tenge=failed_tenge,
            outstanding=unanswered,
        )

    def reconcile(self) -> ReconcileReport:
        """Replay the entries afresh and check every invariant.

        Checked: sequence numbers run 0, 1, 2 …; each entry balances to zero; a report is
        accrued once and reversed once at most, never in an unanswered batch; a batch's total
        equals its lines, each line its reports, and a line is answered once at most; each
        citizen's payable equals their open rewards and is never negative beyond a receivable,
        and their receivable equals their rewards reversed after payment; payable + clearing =
        accrued − paid − reversed before payout; clearing = unanswered lines; bank = paid;
        expense = accrued − reversed; no other accounts.
        """
        fresh = Ledger.from_entries(self._entries)
        t, balances = fresh._totals, fresh._balances
        return ReconcileReport(
            problems=tuple(fresh._problems + fresh._final_problems()),
            accrued_tenge=t["accrued"],
            paid_tenge=t["paid"],
            reversed_before_payout_tenge=t["reversed_before"],
            reversed_after_payout_tenge=t["reversed_after"],
            payable_tenge=-sum(_by_citizen(balances, payable("")).values()),
            clearing_tenge=-balances.get(CLEARING, 0),
            receivable_tenge=sum(_by_citizen(balances, receivable("")).values()),
        )

    def _record(
        self, kind: EntryKind, on: date, amount: int, postings: Iterable[Posting], **refs: Any
    ) -> Entry:
        seq, postings = len(self._entries), tuple(postings)
        entry = Entry(seq=seq, kind=kind, on=on, amount_tenge=amount, postings=postings, **refs)
        problems = self._apply(entry)
        if problems:  # only a bug in this module gets here
            raise RuntimeError(f"rewards ledger: {'; '.join(problems)}")
        return self._entries[-1]

    def _find(self, kind: EntryKind, report_id: str) -> Entry:
        return next(e for e in self._entries if e.kind is kind and e.report_id == report_id)

    def _apply(self, entry: Entry) -> list[str]:
        """Add ``entry`` to the state; what it breaks (nothing, from this module's operations)."""
        at, seq = f"entry {entry.seq}", len(self._entries)
        self._entries.append(entry)
        problems = [] if entry.seq == seq else [f"{at}: expected sequence number {seq}"]
        if sum(p.tenge for p in entry.postings) != 0:
            problems.append(f"{at}: postings do not balance to zero")
        if entry.amount_tenge <= 0 or any(p.tenge == 0 for p in entry.postings):
            problems.append(f"{at}: amounts must be positive and postings non-zero")
        if sum(p.tenge for p in entry.postings if p.tenge > 0) != entry.amount_tenge:
            problems.append(f"{at}: debits differ from the entry's amount")
        for posting in entry.postings:
            self._balances[posting.account] += posting.tenge
        steps = {
            EntryKind.ACCRUAL: self._accrued,
            EntryKind.REVERSAL: self._reversed,
            EntryKind.PAYOUT: self._sent,
            EntryKind.SETTLEMENT: self._answered,
        }
        steps[entry.kind](entry, problems)
        return [p if p.startswith(at) else f"{at}: {p}" for p in problems]

    def _accrued(self, e: Entry, problems: list[str]) -> None:
        rid, citizen = e.report_id or "", e.citizen or ""
        if rid in self._reports:
            problems.append(f"report {rid} accrued more than once")
        else:
            self._reports[rid] = ReportState(citizen=citizen, amount=e.amount_tenge, on=e.on)
            self._totals["accrued"] += e.amount_tenge

    def _reversed(self, e: Entry, problems: list[str]) -> None:
        report = self._reports.get(e.report_id or "")
        if report is None or report.status in (ReportStatus.REVERSED, ReportStatus.IN_BATCH):
            problems.append(f"report {e.report_id} cannot be reversed here")
            return
        if report.amount != e.amount_tenge:
            problems.append(f"reversal of {e.report_id} differs from its accrual")
        paid = report.status is ReportStatus.PAID
        self._totals["reversed_after" if paid else "reversed_before"] += report.amount
        self._totals[f"receivable:{report.citizen}"] += report.amount if paid else 0
        report.status = ReportStatus.REVERSED

    def _sent(self, e: Entry, problems: list[str]) -> None:
        ref, total = e.batch_ref or "", sum(line.amount_tenge for line in e.lines)
        if ref in self._batches or total != e.amount_tenge:
            problems.append(f"batch {ref} is repeated or its total differs from its lines")
        self._batches[ref] = PayoutBatch(reference=ref, on=e.on, lines=e.lines, total_tenge=total)
        for line in e.lines:
            owed = [self._reports.get(rid) for rid in line.report_ids]
            mine = [r for r in owed if r and r.status is ReportStatus.ACCRUED]
            whose = {r.citizen for r in mine} | {line.citizen}
            if len(mine) != len(owed) or len(whose) > 1 or _sum(mine) != line.amount_tenge:
                problems.append(f"line {line.reference} does not match its reports")
            for report in mine:
                report.status = ReportStatus.IN_BATCH

    def _answered(self, e: Entry, problems: list[str]) -> None:
        batch = self._batches.get(e.batch_ref or "")
        lines = {line.reference: line for line in batch.lines} if batch else {}
        for ref, paid in [(r, True) for r in e.paid] + [(r, False) for r in e.failed]:
            line = lines.get(ref)
            if line is None or ref in self._outcomes:
                problems.append(f"line {ref} is unknown or already answered")
                continue
            self._outcomes[ref] = paid
            self._totals["paid"] += line.amount_tenge if paid else 0
            self._totals["answered"] += line.amount_tenge
            for rid in line.report_ids:
                if report := self._reports.get(rid):
                    report.status = ReportStatus.PAID if paid else ReportStatus.ACCRUED

    def _final_problems(self) -> list[str]:
        problems: list[str] = []
        payables = _by_citizen(self._balances, payable(""))
        receivables = _by_citizen(self._balances, receivable(""))
        open_rewards: dict[str, int] = defaultdict(int)
        for r in self._reports.values():
            open_rewards[r.citizen] += r.amount if r.status is ReportStatus.ACCRUED else 0
        for citizen in sorted(set(payables) | set(open_rewards)):
            if -payables.get(citizen, 0) != open_rewards[citizen]:
                problems.append(f"the payable of {citizen} differs from their open rewards")
            if payables.get(citizen, 0) > max(0, receivables.get(citizen, 0)):
                problems.append(f"the payable of {citizen} is negative without a receivable")
            if receivables.get(citizen, 0) != self._totals[f"receivable:{citizen}"]:
                problems.append(f"the receivable of {citizen} differs from their paid reversals")
        t, clearing = self._totals, -self._balances.get(CLEARING, 0)
        if -sum(payables.values()) + clearing != t["accrued"] - t["paid"] - t["reversed_before"]:
            problems.append("payable + clearing differ from accrued − paid − reversed")
        unanswered = sum(b.total_tenge for b in self._batches.values()) - t["answered"]
        if clearing != unanswered or -self._balances.get(BANK, 0) != t["paid"]:
            problems.append("clearing or bank differ from the batches' lines")
        expense = t["accrued"] - t["reversed_before"] - t["reversed_after"]
        known = {EXPENSE, CLEARING, BANK} | {payable(c) for c in payables}
        known |= {receivable(c) for c in receivables}
        if self._balances.get(EXPENSE, 0) != expense or set(self._balances) - known:
            problems.append("reward_expense differs from accrued − reversed, or unknown accounts")
        return problems


def _move(debit: str, credit: str, tenge: int) -> tuple[Posting, ...]:
    return (Posting(account=debit, tenge=tenge), Posting(account=credit, tenge=-tenge))


def _sum(reports: Iterable[ReportState | None], status: ReportStatus | None = None) -> int:
    return sum(r.amount for r in reports if r and status in (None, r.status))


def _by_citizen(balances: dict[str, int], prefix: str) -> dict[str, int]:
    return {a.removeprefix(prefix): b for a, b in balances.items() if a.startswith(prefix)}


def _check_id(value: str, name: str) -> None:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise InvalidInputError(f"{name} must be 1–64 letters, digits, '.', '_' or '-'")


def export_batch_csv(batch: PayoutBatch) -> str:
    """The batch as CSV for the payment provider (UTF-8, CRLF line ends, a header row).

    Columns (:data:`CSV_COLUMNS`): ``line_reference`` (the provider echoes it in its answer),
    ``batch_reference``, ``citizen_id``, ``amount_tenge`` (whole tenge), ``currency`` (``KZT``)
    and ``value_date`` (ISO 8601). Report ids are not sent: the provider needs none of them.

    Example:
        >>> line = PayoutLine(reference="B-0001", citizen="c1", amount_tenge=4325, report_ids=())
        >>> batch = PayoutBatch(reference="B", on=date(2026, 5, 1), lines=(line,), total_tenge=4325)
        >>> export_batch_csv(batch).splitlines()[1]
        'B-0001,B,c1,4325,KZT,2026-05-01'
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(
        (x.reference, batch.reference, x.citizen, x.amount_tenge, "KZT", batch.on.isoformat())
        for x in batch.lines
    )
    return out.getvalue()
