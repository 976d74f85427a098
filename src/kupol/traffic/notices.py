"""Notices: an approved violation's demand for payment to the vehicle's registered owner.

A notice is made in the same transaction as the approval. When the plate is in the vehicle
registry it is ``issued`` to the owner, with the amount and, where the article allows it, the
discounted amount and the last day to pay it (counted from the day of issue, taken as the
day of electronic service). When it is not, the notice waits as ``owner_unknown``: nothing is
sent, and importing the registry later issues it from that day.

Payments are reported by the payment gateway (or an officer): paid with the amount and day —
less than what is due on that day is refused — or cancelled with a reason. A paid fine whose
resolution is quashed (by a court or a higher authority) is refunded by an officer, with the
reason; what followed the payment (a citizen's reward) is taken back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.plates.formats import normalise
from kupol.traffic.legal import tenge
from kupol.traffic.model import Notice, RegisteredVehicle, Violation

log = logging.getLogger(__name__)
PAYMENTS = ("paid", "cancelled")
CHUNK = 1000
"""Plates per query when many are looked up at once (databases bound their parameters)."""
MAX_PAGE = 500


@dataclass(frozen=True, kw_only=True)
class NoticeView:
    """A notice as the officer, the owner's letter and the payment gateway see it."""

    id: int
    number: str
    violation_id: int
    plate: str
    owner_name: str | None
    owner_id: str | None
    address: str | None
    status: str
    issued_on: date
    amount_tenge: int
    discounted_tenge: int | None
    discount_until: date | None
    payment: str
    paid_tenge: int | None
    paid_on: date | None
    payment_reference: str | None
    article: str
    part: str | None
    offence: str
    occurred_at: datetime
    camera_id: str

    def due_on(self, day: date) -> int:
        """What paying on ``day`` costs."""
        if self.discounted_tenge is not None and self.discount_until and day <= self.discount_until:
            return self.discounted_tenge
        return self.amount_tenge


class NoticeService:
    """Makes notices on approval, lists them, and takes payment reports."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        prefix: str,
        today: Callable[[], date],
        zone: ZoneInfo = ZoneInfo("Asia/Almaty"),
    ) -> None:
        self._zone = zone
        self._db = db
        self._audit = audit
        self._prefix = prefix
        self.on_paid: list[Callable[[int, int, date], object]] = []
        """Called after a fine is paid: (violation id, tenge paid, day) — a citizen's reward."""
        self.on_refunded: list[Callable[[int, str, date], object]] = []
        """Called after a paid fine is refunded: (violation id, reason, day) — the reward back."""
        self._today = today

    def today(self) -> date:
        """The local day payments and refunds are dated by."""
        return self._today()

    def issue(self, session: Session, violation: Violation) -> Notice:
        """The notice of an approved violation (in the approval's transaction)."""
        assert violation.plate is not None
        notice = Notice(
            number=f"pending-{uuid.uuid4().hex}",
            violation_id=violation.id,
            plate=violation.plate,
            issued_on=self._today(),
            amount_tenge=violation.fine_tenge,
            status="owner_unknown",
        )
        owner = session.get(RegisteredVehicle, violation.plate)
        if owner is not None:
            _address(notice, violation, owner, self._today())
        session.add(notice)
        session.flush()
        notice.number = f"{self._prefix}-{notice.issued_on.year}-{notice.id:07d}"
        return notice

    def issue_waiting(self, session: Session, plates: set[str]) -> int:
        """Issue the ``owner_unknown`` notices of ``plates`` now in the registry; how many."""
        if not plates:
            return 0
        ordered = sorted(plates)
        waiting: list[Any] = []
        for start in range(0, len(ordered), CHUNK):  # bound the query's parameters
            waiting += session.execute(
                select(Notice, Violation)
                .join(Violation, Violation.id == Notice.violation_id)
                .where(
                    Notice.status == "owner_unknown",
                    Notice.plate.in_(ordered[start : start + CHUNK]),
                )
            ).all()
        today = self._today()
        for notice, violation in waiting:
            owner = session.get(RegisteredVehicle, notice.plate)
            if owner is not None:
                notice.issued_on = today
                _address(notice, violation, owner, today)
        return len(waiting)

    def list(
        self,
        *,
        actor: Principal,
        why: Justification,
        status: str | None = None,
        payment: str | None = None,
        plate: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[NoticeView]]:
        """Notices, newest first, and how many match (owners are personal data: audited)."""
        actor.require(Permission.VIOLATIONS_READ)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE}")
        scope = CameraScope.of(actor)
        query = (
            select(Notice, Violation)
            .join(Violation, Violation.id == Notice.violation_id)
            .where(scope.clause(Violation.camera_id))
        )
        if status:
            query = query.where(Notice.status == status)
        if payment:
            query = query.where(Notice.payment == payment)
        if plate:
            query = query.where(Notice.plate == normalise(plate))
        with self._db.reader() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.execute(query.order_by(Notice.id.desc()).limit(limit).offset(offset))
            found = [_view(n, v) for n, v in rows]
        self._audit.access(
            actor=actor,
            why=why,
            action="list",
            resource_type="traffic_notice",
            details={"returned": [n.id for n in found], "plate": plate, **scope.for_audit()},
        )
        return total, found

    def get(self, *, notice_id: int, actor: Principal, why: Justification) -> NoticeView:
        """One notice (audited)."""
        actor.require(Permission.VIOLATIONS_READ)
        with self._db.reader() as session:
            view = _view(*_notice(session, notice_id, actor))
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="traffic_notice",
            resource_id=str(notice_id),
        )
        return view

    def letter(self, *, notice_id: int, actor: Principal, why: Justification) -> str:
        """The printable notice (HTML; audited)."""
        from kupol.cameras.model import Camera
        from kupol.traffic.letter import letter_html

        actor.require(Permission.VIOLATIONS_READ)
        with self._db.reader() as session:
            notice, violation = _notice(session, notice_id, actor)
            view = _view(notice, violation)
            camera = session.get(Camera, violation.camera_id)
            measured, signed = dict(violation.measured), violation.signed
            place = (
                (camera.name, camera.latitude, camera.longitude)
                if camera is not None
                else (violation.camera_id, 0.0, 0.0)
            )
        self._audit.access(
            actor=actor,
            why=why,
            action="print",
            resource_type="traffic_notice",
            resource_id=str(notice_id),
        )
        return letter_html(
            view,
            camera_name=place[0],
            latitude=place[1],
            longitude=place[2],
            measured=measured,
            signed=signed,
            zone=self._zone,
        )

    def record_payment(
        self,
        *,
        notice_id: int,
        actor: Principal,
        status: str,
        reference: str,
        amount_tenge: int | None = None,
        paid_on: date | None = None,
    ) -> NoticeView:
        """A payment (amount and day) or a cancellation (with its reason as ``reference``).

        Raises:
            InvalidInputError: an unknown status, a payment without amount or day, a day in
                the future or before the notice, or less than is due on that day.
            ConflictError: the notice was paid or cancelled already, or has no owner yet.
        """
        actor.require(Permission.PAYMENTS_UPDATE)
        if status not in PAYMENTS:
            raise InvalidInputError(f"status must be one of {', '.join(PAYMENTS)}")
        if status == "cancelled":
            actor.require(Permission.VIOLATIONS_REVIEW)  # a fine is cancelled by an officer
        if not 3 <= len(reference.strip()) <= 120:
            raise InvalidInputError("give the payment's reference or the cancellation's reason")
        with self._db.unit_of_work() as session:
            notice, violation = _notice(session, notice_id, actor, lock=True)
            if notice.payment != "unpaid":
                raise ConflictError(f"notice {notice.number} is {notice.payment} already")
            if status == "paid":
                if notice.status != "issued":
                    raise ConflictError(f"notice {notice.number} has not been issued")
                if amount_tenge is None or paid_on is None:
                    raise InvalidInputError("a payment needs amount_tenge and paid_on")
                if paid_on > self._today() or paid_on < notice.issued_on:
                    raise InvalidInputError(
                        f"paid_on must be between {notice.issued_on} (issue) and today"
                    )
                due = _view(notice, violation).due_on(paid_on)
                if amount_tenge < due:
                    raise InvalidInputError(
                        f"{amount_tenge} ₸ is less than the {due} ₸ due on {paid_on.isoformat()}"
                    )
                notice.paid_tenge, notice.paid_on = amount_tenge, paid_on
            notice.payment = status
            notice.payment_reference = reference.strip()
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action=f"payment_{status}",
                    resource_type="traffic_notice",
                    resource_id=str(notice_id),
                    details={"amount_tenge": amount_tenge, "reference": reference.strip()},
                ),
                session=session,
            )
            session.flush()
            view = _view(notice, violation)
            violation_id = violation.id
        if status == "paid" and amount_tenge is not None and paid_on is not None:
            for hook in self.on_paid:
                # The payment is stored: a failing follower (a citizen's reward) is logged for
                # an operator to rerun, and the gateway still hears its payment was taken.
                try:
                    hook(violation_id, amount_tenge, paid_on)
                except Exception:
                    log.exception("after the payment of violation %s", violation_id)
        return view

    def refund(
        self, *, notice_id: int, actor: Principal, reason: str, refunded_on: date
    ) -> NoticeView:
        """A paid fine refunded because its resolution was quashed (an officer, audited).

        Raises:
            InvalidInputError: no reason, or a day before the payment or in the future.
            ConflictError: the notice is not paid.
        """
        actor.require(Permission.VIOLATIONS_REVIEW)
        reason = reason.strip()
        if not 3 <= len(reason) <= 120:
            raise InvalidInputError("give the refund's reason (the decision that quashed it)")
        with self._db.unit_of_work() as session:
            notice, violation = _notice(session, notice_id, actor, lock=True)
            if notice.payment != "paid":
                raise ConflictError(f"notice {notice.number} is {notice.payment}, not paid")
            assert notice.paid_on is not None
            if refunded_on > self._today() or refunded_on < notice.paid_on:
                raise InvalidInputError(
                    f"refunded_on must be between {notice.paid_on} (payment) and today"
                )
            notice.payment = "refunded"
            notice.payment_reference = f"refunded {refunded_on.isoformat()}: {reason}"[:120]
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="payment_refunded",
                            resource_type="traffic_notice", resource_id=str(notice_id),
                            details={"paid_tenge": notice.paid_tenge, "reason": reason}),
                session=session,
            )  # fmt: skip
            session.flush()
            view = _view(notice, violation)
            violation_id = violation.id
        for hook in self.on_refunded:
            try:  # the refund is stored; a failing follower is logged for an operator to rerun
                hook(violation_id, reason, refunded_on)
            except Exception:
                log.exception("after the refund of violation %s", violation_id)
        return view


def _address(notice: Notice, violation: Violation, owner: RegisteredVehicle, day: date) -> None:
    notice.status = "issued"
    notice.owner_name, notice.owner_id, notice.address = (
        owner.owner_name,
        owner.owner_id,
        owner.address,
    )
    if violation.discount_share is not None and violation.discount_days is not None:
        notice.discounted_tenge = tenge(violation.fine_tenge * violation.discount_share)
        notice.discount_until = day + timedelta(days=violation.discount_days)


def _notice(
    session: Session, notice_id: int, actor: Principal, *, lock: bool = False
) -> tuple[Notice, Violation]:
    """The notice and its violation; one of a camera outside the actor's scope is not found
    either."""
    query = (
        select(Notice, Violation)
        .join(Violation, Violation.id == Notice.violation_id)
        .where(Notice.id == notice_id, CameraScope.of(actor).clause(Violation.camera_id))
    )
    if lock:
        query = query.with_for_update(of=Notice)
    found = session.execute(query).first()
    if found is None:
        raise NotFoundError(f"no notice {notice_id}")
    return found[0], found[1]


def _view(notice: Notice, violation: Violation) -> NoticeView:
    return NoticeView(
        id=notice.id,
        number=notice.number,
        violation_id=notice.violation_id,
        plate=notice.plate,
        owner_name=notice.owner_name,
        owner_id=notice.owner_id,
        address=notice.address,
        status=notice.status,
        issued_on=notice.issued_on,
        amount_tenge=notice.amount_tenge,
        discounted_tenge=notice.discounted_tenge,
        discount_until=notice.discount_until,
        payment=notice.payment,
        paid_tenge=notice.paid_tenge,
        paid_on=notice.paid_on,
        payment_reference=notice.payment_reference,
        article=violation.article,
        part=violation.part,
        offence=violation.offence,
        occurred_at=violation.occurred_at,
        camera_id=violation.camera_id,
    )
