"""Transfer holds: a bank asks before executing a transfer and gets allow or hold, with the
reasons and the hold period; the payer's confirmation releases a hold, a cancellation keeps the
money where it was ("tenge protected").

Decisions: the transfer is held when the model's fraud probability reaches
``hold_threshold``, or the payee is on the mule list (known or suspected), or the payer was
called within ``call_window_hours`` before by a number call screening warned about, blocked,
or has blocked since, or — where the model cannot be used — any explainable reason fires.
Every hold carries its reasons in words the bank can pass on; a hold by the model alone says
so with its score.

Each decision is stored once per (bank, the bank's reference): asking again returns it, so a
bank retrying after a timeout neither double-counts nor gets a different answer.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from kupol.antifraud.accounts import normalise_account
from kupol.antifraud.calls import CallScreening
from kupol.antifraud.model import MuleAccount, TransferCheck
from kupol.antifraud.numbers import Numbering
from kupol.antifraud.transfer_model import TransferModel
from kupol.antifraud.transfer_signals import REASONS, TransferHistory
from kupol.antifraud.transfers import Transfer, TransferKind
from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database, fetch
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.settings import AntifraudSettings

MAX_AMOUNT = 1e13
MODEL_REASON = "model"
REASON_TEXTS = {**REASONS, MODEL_REASON: "resembles transfers that were fraud (the model's score)"}


@dataclass(frozen=True, kw_only=True)
class TransferRequest:
    """What a bank sends before executing a transfer."""

    bank_ref: str
    kind: TransferKind
    amount: float
    payer: str
    payer_balance: float
    payee: str
    payee_balance: float | None = None
    currency: str = "KZT"
    at: datetime | None = None
    payer_phone: str | None = None
    """The payer's telephone number, where the bank has it: calls to it are looked at."""

    def checked(self, now: datetime, numbering: Numbering | None = None) -> TransferRequest:
        """The request with its time filled in and its accounts in kupol's form (telephone
        numbers placed by ``numbering``).

        Raises:
            InvalidInputError: a value a transfer cannot have.
        """
        for name, value in (
            ("bank_ref", self.bank_ref),
            ("payer", self.payer),
            ("payee", self.payee),
        ):
            if not value or len(value) > 64 or not value.isprintable() or value != value.strip():
                raise InvalidInputError(f"{name} must be 1–64 printable characters")
        if not (math.isfinite(self.amount) and 0 < self.amount <= MAX_AMOUNT):
            raise InvalidInputError(f"amount must be above 0 and at most {MAX_AMOUNT:.0e}")
        for name, balance in (
            ("payer_balance", self.payer_balance),
            ("payee_balance", self.payee_balance),
        ):
            if balance is not None and not (math.isfinite(balance) and abs(balance) <= MAX_AMOUNT):
                raise InvalidInputError(f"{name} must be a finite amount")
        if self.payer_phone is not None and not 5 <= len(self.payer_phone) <= 32:
            raise InvalidInputError("payer_phone must be a telephone number")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidInputError("currency must be an ISO 4217 code such as KZT")
        at = self.at or now
        if at.tzinfo is None:
            raise InvalidInputError("the transfer's time needs its UTC offset")
        if at > now + timedelta(days=1):
            raise InvalidInputError("the transfer's time is more than a day ahead")
        return TransferRequest(
            **{**self.__dict__, "at": at, "payer": normalise_account(self.payer, numbering),
               "payee": normalise_account(self.payee, numbering)}
        )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What the bank gets back."""

    id: int
    bank_ref: str
    decision: str
    reasons: list[dict[str, str]]
    signals: list[dict[str, str]]
    score: float | None
    model: str | None
    hold_until: datetime | None
    status: str
    repeated: bool = False


@dataclass(frozen=True, kw_only=True)
class HoldView:
    """A transfer check as analysts see it."""

    id: int
    bank: str
    bank_ref: str
    asked_at: datetime
    kind: str
    amount: float
    currency: str
    payer: str
    payee: str
    score: float | None
    decision: str
    reasons: list[str]
    hold_until: datetime | None
    status: str
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    callers: list[str] = field(default_factory=list)
    """The suspicious numbers that had just rung the payer (``suspicious_call``), ordered by
    their last call, the latest last (those whose calls were all blocked first)."""


@dataclass
class Summary:
    """Counts and amounts over a period, per currency."""

    checks: int = 0
    allowed: int = 0
    held: int = 0
    amounts: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)


def _texts(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": c, "text": REASON_TEXTS.get(c, c)} for c in codes]


def _view(row: TransferCheck) -> HoldView:
    return HoldView(
        id=row.id, bank=row.bank, bank_ref=row.bank_ref, asked_at=row.asked_at, kind=row.kind,
        amount=row.amount, currency=row.currency, payer=row.payer, payee=row.payee,
        score=row.score, decision=row.decision, reasons=list(row.reasons or []),
        hold_until=row.hold_until, status=row.status, resolved_at=row.resolved_at,
        resolved_by=row.resolved_by, resolution=row.resolution, callers=list(row.callers or []),
    )  # fmt: skip


class TransferHolds:
    """The transfer-hold service (one per process; the history lives in memory)."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        settings: AntifraudSettings,
        model: TransferModel | None,
        calls: CallScreening | None = None,
    ) -> None:
        self._calls = calls
        self._db = db
        self._audit = audit
        self._settings = settings
        self._model = model
        self._lock = threading.Lock()
        self._history: TransferHistory | None = None

    @property
    def model_name(self) -> str | None:
        """The model's file digest, or ``None`` where decisions rest on the reasons alone."""
        return f"transfer-hgb {self._model.card['sha256'][:12]}" if self._model else None

    def _warm(self, now: datetime) -> TransferHistory:
        if self._history is None:
            history = TransferHistory()
            since = now - timedelta(days=self._settings.history_days)
            with self._db.reader() as session:
                rows = session.scalars(
                    select(TransferCheck)
                    .where(TransferCheck.transfer_at >= since, TransferCheck.status != "cancelled")
                    .order_by(TransferCheck.transfer_at, TransferCheck.id)
                )
                for row in rows:
                    history.record(_transfer(row))
            self._history = history
        return self._history

    def check(self, *, actor: Principal, request: TransferRequest) -> Decision:
        """Decide on a transfer and keep the decision.

        Raises:
            InvalidInputError: the request holds a value a transfer cannot have.
            ConflictError: the bank's reference was used for another transfer.
        """
        actor.require(Permission.TRANSFERS_CHECK)
        now = utcnow()
        request = request.checked(now, self._calls.numbering if self._calls else None)
        with self._db.reader() as session:
            earlier = session.scalar(
                select(TransferCheck).where(
                    TransferCheck.bank == actor.username, TransferCheck.bank_ref == request.bank_ref
                )
            )
            mule_kind = session.scalar(
                select(MuleAccount.kind).where(
                    MuleAccount.account == request.payee,
                    MuleAccount.active.is_(True),
                    (MuleAccount.expires_at.is_(None)) | (MuleAccount.expires_at > now),
                )
            )
        if earlier is not None:
            return self._repeat(earlier, request)
        transfer = _as_transfer(request)
        callers: list[str] = []
        if request.payer_phone and self._calls is not None:
            window = timedelta(hours=self._settings.call_window_hours)
            assert request.at is not None
            callers = self._calls.suspicious_calls_to(
                request.payer_phone, since=request.at - window, until=request.at
            )
        with self._lock:
            history = self._warm(now)
            features = history.features(transfer)
            found = history.reasons(transfer)
            score = self._model.scores([features])[0] if self._model else None
            holding: list[str] = []
            if mule_kind:
                holding.append("known_mule" if mule_kind == "known" else "suspected_mule")
            if callers:
                holding.append("suspicious_call")
            if score is None:
                holding += found
            elif score >= self._settings.hold_threshold:
                holding += found or [MODEL_REASON]
            hold = bool(holding)
            signals = [] if hold else found
            hold_until = now + timedelta(hours=self._settings.hold_hours) if hold else None
            with self._db.unit_of_work() as session:
                row = TransferCheck(
                    bank=actor.username, bank_ref=request.bank_ref, asked_at=now,
                    transfer_at=request.at, kind=request.kind.value, amount=request.amount,
                    currency=request.currency, payer=request.payer,
                    payer_balance=request.payer_balance, payee=request.payee,
                    payee_balance=request.payee_balance,
                    score=None if score is None else round(score, 6),
                    decision="hold" if hold else "allow", reasons=holding,
                    callers=callers or None, hold_until=hold_until,
                    status="held" if hold else "allowed",
                )  # fmt: skip
                session.add(row)
                session.flush()
                row_id = row.id
            history.record(transfer)
        return Decision(
            id=row_id, bank_ref=request.bank_ref, decision="hold" if hold else "allow",
            reasons=_texts(holding), signals=_texts(signals),
            score=None if score is None else round(score, 4), model=self.model_name,
            hold_until=hold_until, status="held" if hold else "allowed",
        )  # fmt: skip

    def _repeat(self, row: TransferCheck, request: TransferRequest) -> Decision:
        same = (
            row.kind == request.kind.value
            and math.isclose(row.amount, request.amount)
            and row.payer == request.payer
            and row.payee == request.payee
            and row.currency == request.currency
        )
        if not same:
            raise ConflictError(
                f"reference {request.bank_ref!r} was already used for another transfer"
            )
        return Decision(
            id=row.id, bank_ref=row.bank_ref, decision=row.decision,
            reasons=_texts(list(row.reasons or [])), signals=[],
            score=None if row.score is None else round(row.score, 4), model=self.model_name,
            hold_until=row.hold_until, status=row.status, repeated=True,
        )  # fmt: skip

    def resolve(
        self, *, actor: Principal, check_id: int, outcome: str, note: str | None = None
    ) -> HoldView:
        """Release a held transfer (``confirmed``: the payer confirmed it) or stop it
        (``cancelled``). A bank resolves only its own holds.

        Raises:
            NotFoundError: no such check (or another bank's).
            ConflictError: the transfer is not held (allowed, already resolved, expired).
            InvalidInputError: an unknown outcome.
        """
        actor.require(Permission.TRANSFERS_CHECK)
        if outcome not in {"confirmed", "cancelled"}:
            raise InvalidInputError("outcome must be 'confirmed' or 'cancelled'")
        now = utcnow()
        self.expire_due(now)
        with self._db.unit_of_work() as session:
            row = fetch(session, TransferCheck, check_id, what="transfer check", lock=True)
            if row.bank != actor.username:
                raise NotFoundError(f"no transfer check {check_id}")
            if row.status != "held":
                raise ConflictError(f"transfer check {check_id} is {row.status}, not held")
            row.status = "released" if outcome == "confirmed" else "cancelled"
            row.resolved_at = now
            row.resolved_by = actor.username
            row.resolution = (
                f"{outcome}: {note.strip()[:500]}" if note and note.strip() else outcome
            )
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action=outcome,
                    resource_type="transfer_check", resource_id=str(row.id),
                    details={"amount": row.amount, "currency": row.currency},
                ),
                session=session,
            )  # fmt: skip
            view = _view(row)
        return view

    def expire_due(self, now: datetime | None = None) -> int:
        """Release the holds whose period ran out without an answer; how many."""
        now = now or utcnow()
        with self._db.unit_of_work() as session:
            result = session.execute(
                update(TransferCheck)
                .where(TransferCheck.status == "held", TransferCheck.hold_until <= now)
                .values(
                    status="released",
                    resolved_at=now,
                    resolved_by="expiry",
                    resolution="expired: no answer within the hold period",
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def holds(
        self,
        *,
        actor: Principal,
        why: Justification,
        status: str | None = "held",
        limit: int = 100,
    ) -> list[HoldView]:
        """Transfer checks, newest first (accounts are personal data: audited)."""
        actor.require(Permission.TRANSFERS_READ)
        if not 1 <= limit <= 1000:
            raise InvalidInputError("limit must be between 1 and 1000")
        statuses = {"allowed", "held", "released", "cancelled"}
        if status is not None and status not in statuses:
            raise InvalidInputError(f"status must be one of {', '.join(sorted(statuses))}")
        self.expire_due()
        query = select(TransferCheck).order_by(
            TransferCheck.asked_at.desc(), TransferCheck.id.desc()
        )
        if status:
            query = query.where(TransferCheck.status == status)
        with self._db.reader() as session:
            rows = [_view(r) for r in session.scalars(query.limit(limit))]
        self._audit.access(
            actor=actor, why=why, action="search", resource_type="transfer_check",
            details={"status": status, "returned": [r.id for r in rows]},
        )  # fmt: skip
        return rows

    def summary(
        self, *, actor: Principal, since: datetime | None = None, until: datetime | None = None
    ) -> Summary:
        """Counts and amounts (no accounts): checks, holds, released, "tenge protected"."""
        actor.require(Permission.TRANSFERS_READ)
        self.expire_due()
        keys = (TransferCheck.status, TransferCheck.currency, TransferCheck.resolved_by)
        query = select(*keys, func.count(), func.sum(TransferCheck.amount)).group_by(*keys)
        reasons_query = select(TransferCheck.reasons).where(TransferCheck.decision == "hold")
        if since:
            query = query.where(TransferCheck.asked_at >= since)
            reasons_query = reasons_query.where(TransferCheck.asked_at >= since)
        if until:
            query = query.where(TransferCheck.asked_at < until)
            reasons_query = reasons_query.where(TransferCheck.asked_at < until)
        result = Summary()
        with self._db.reader() as session:
            for status, currency, resolved_by, count, total in session.execute(query):
                result.checks += count
                key = status
                if status == "released":
                    key = "released_by_expiry" if resolved_by == "expiry" else "released_by_payer"
                result.counts[key] = result.counts.get(key, 0) + count
                if status == "allowed":
                    result.allowed += count
                else:
                    result.held += count
                amounts = result.amounts.setdefault(currency, {})
                amounts[key] = round(amounts.get(key, 0.0) + float(total or 0), 2)
                if status == "cancelled":
                    amounts["protected"] = amounts[key]
            for (codes,) in session.execute(reasons_query):
                for code in codes or []:
                    result.reasons[code] = result.reasons.get(code, 0) + 1
        return result


def _as_transfer(request: TransferRequest) -> Transfer:
    assert request.at is not None
    return Transfer(
        ref=request.bank_ref, at=request.at, kind=request.kind, amount=request.amount,
        payer=request.payer, payer_balance=request.payer_balance, payee=request.payee,
        payee_balance=request.payee_balance or 0.0,
    )  # fmt: skip


def _transfer(row: TransferCheck) -> Transfer:
    return Transfer(
        ref=row.bank_ref, at=row.transfer_at, kind=TransferKind(row.kind), amount=row.amount,
        payer=row.payer, payer_balance=row.payer_balance, payee=row.payee,
        payee_balance=row.payee_balance or 0.0,
    )  # fmt: skip


def summary_dict(summary: Summary) -> dict[str, Any]:
    """The summary as JSON-ready data."""
    return {
        "checks": summary.checks,
        "allowed": summary.allowed,
        "held": summary.held,
        "counts": summary.counts,
        "amounts": summary.amounts,
        "reasons": summary.reasons,
    }
