"""Public-order helpers, stored: citizens apply from the portal to patrol as volunteers, the
situation centre approves them, plans their shifts in patrol areas (or accepts the shifts they
take), and recognises their activity.

A helper checks in on the spot — from 30 minutes before the shift's start, within the area
(its radius and 300 m) — and out when done; a planned shift over an hour past its end with no
check-in is a no-show. Shifts obey :mod:`kupol.citizens.helpers_rules` (length, rest, hours a
week, helpers per area, night hours); recognition follows the dated rules of
:mod:`kupol.citizens.helpers_recognition`, each level once per helper and period. Every look at
the helpers (names, phones, shifts) is audited with its purpose, every change with its author.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.citizens.helpers_recognition import AwardKey, Recognition, RecognitionRules
from kupol.citizens.helpers_rules import (
    ALMATY,
    CHECK_IN_EARLY,
    CHECK_OUT_LATE,
    ShiftPlan,
    ShiftRules,
    check_shift,
)
from kupol.citizens.helpers_store import HelperRow, PatrolAreaRow, RecognitionRow, ShiftRow
from kupol.citizens.helpers_views import (
    AreaView,
    HelperActivity,
    HelperView,
    ShiftView,
    activities,
    activity_of,
    area_view,
    helper_view,
    shift_view,
)
from kupol.citizens.store import CitizenRow
from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.geo import haversine_m
from kupol.core.messages import utcnow

CHECK_IN_SLACK_M = 300.0
"""How far outside an area's radius a check-in still counts (a phone's GPS, the area's edge)."""
DECISIONS = {
    "approve": ({"applied", "declined"}, "active"),
    "decline": ({"applied"}, "declined"),
    "suspend": ({"active"}, "suspended"),
    "reinstate": ({"suspended"}, "active"),
}
"""Each decision on a helper: the statuses it applies to, and the status it gives."""


class PublicHelpers:
    """The registry of public-order helpers (see the module)."""

    def __init__(
        self, *, db: Database, audit: AuditLog, rules: ShiftRules,
        recognition: RecognitionRules, region_of: Callable[[float, float], str | None],
    ) -> None:  # fmt: skip
        self._db = db
        self._audit = audit
        self.rules = rules
        self.recognition = recognition
        self._region_of = region_of

    def _record(self, session: Session, actor: Principal, action: str, what: str, ident: int,
                details: dict[str, object] | None = None) -> None:  # fmt: skip
        self._audit.append(
            AuditRecord(actor=actor.username, roles=actor.roles, action=action,
                        resource_type=what, resource_id=str(ident), details=details or {}),
            session=session,
        )  # fmt: skip

    # Areas -----------------------------------------------------------------------------------

    def add_area(
        self, *, actor: Principal, name: str, lat: float, lon: float, radius_m: float,
        description: str = "",
    ) -> AreaView:  # fmt: skip
        """A patrol area (a circle): its region found from its centre."""
        actor.require(Permission.HELPERS_MANAGE)
        name = " ".join(name.split())
        if not 3 <= len(name) <= 120:
            raise InvalidInputError("an area's name is 3 to 120 characters")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInputError("lat, lon must be a place on the map")
        if not 50 <= radius_m <= 20_000:
            raise InvalidInputError("radius_m is 50 to 20,000 metres")
        with self._db.unit_of_work() as session:
            if session.scalar(select(PatrolAreaRow.id).where(PatrolAreaRow.name == name)):
                raise ConflictError(f"an area named {name!r} exists")
            row = PatrolAreaRow(
                name=name, lat=lat, lon=lon, radius_m=radius_m, created_by=actor.username,
                description=description.strip()[:2000], region=self._region_of(lat, lon),
            )  # fmt: skip
            session.add(row)
            session.flush()
            self._record(session, actor, "create", "helper_area", row.id, {"name": name})
            return area_view(row)

    def areas(self, *, actor: Principal) -> list[AreaView]:
        """Every patrol area (no personal data: citizens see them too, to apply)."""
        if not (actor.can(Permission.HELPERS_MANAGE) or actor.can(Permission.CITIZEN_REPORT)):
            actor.require(Permission.HELPERS_MANAGE)
        with self._db.reader() as session:
            rows = session.scalars(select(PatrolAreaRow).order_by(PatrolAreaRow.name))
            return [area_view(r) for r in rows]

    # Helpers ---------------------------------------------------------------------------------

    def apply(
        self, *, actor: Principal, citizen_id: int, full_name: str, motivation: str,
        home_area_id: int | None = None,
    ) -> HelperView:  # fmt: skip
        """A citizen asks to become a helper (again, after a decline)."""
        actor.require(Permission.CITIZEN_REPORT)
        full_name = " ".join(full_name.split())
        if not 5 <= len(full_name) <= 200:
            raise InvalidInputError("give your full name (5–200 characters)")
        with self._db.unit_of_work() as session:
            if home_area_id is not None and session.get(PatrolAreaRow, home_area_id) is None:
                raise NotFoundError(f"no area {home_area_id}")
            row = session.scalar(select(HelperRow).where(HelperRow.citizen_id == citizen_id))
            if row is not None and row.status != "declined":
                raise ConflictError(f"you are {row.status} already")
            if row is None:
                row = HelperRow(citizen_id=citizen_id, full_name=full_name)
                session.add(row)
            row.full_name, row.motivation = full_name, motivation.strip()[:2000]
            row.home_area_id, row.status, row.applied_at = home_area_id, "applied", utcnow()
            session.flush()
            self._record(session, actor, "apply", "public_helper", row.id)
            return self._view(session, row)

    def decide(
        self, *, actor: Principal, helper_id: int, decision: str, note: str = ""
    ) -> HelperView:
        """Approve, decline, suspend or reinstate a helper (audited, with the note)."""
        actor.require(Permission.HELPERS_MANAGE)
        if decision not in DECISIONS:
            raise InvalidInputError(f"decision must be one of {', '.join(DECISIONS)}")
        allowed, becomes = DECISIONS[decision]
        with self._db.unit_of_work() as session:
            row = _helper(session, helper_id)
            if row.status not in allowed:
                raise ConflictError(f"helper {helper_id} is {row.status}: cannot {decision}")
            if decision in ("decline", "suspend") and len(note.strip()) < 5:
                raise InvalidInputError(f"say why you {decision} (a note of 5 characters or more)")
            row.status, row.decided_by, row.decided_at = becomes, actor.username, utcnow()
            row.decision_note = note.strip()[:2000] or None
            if becomes != "active":  # a suspended or declined helper's future shifts go
                for shift in _future_shifts(session, helper_id):
                    shift.status, shift.note = "cancelled", f"helper {becomes}"
            self._record(session, actor, decision, "public_helper", helper_id, {"note": note})
            return self._view(session, row)

    def helpers(
        self, *, actor: Principal, why: Justification, status: str | None = None
    ) -> list[HelperView]:
        """The helpers (names, masked phones) — audited with the purpose."""
        actor.require(Permission.HELPERS_MANAGE)
        with self._db.unit_of_work() as session:
            query = select(HelperRow).order_by(HelperRow.applied_at)
            if status:
                query = query.where(HelperRow.status == status)
            rows = list(session.scalars(query))
            views = [self._view(session, r) for r in rows]
        self._audit.access(actor=actor, why=why, action="search", resource_type="public_helpers",
                           details={"status": status, "count": len(views)})  # fmt: skip
        return views

    def me(self, *, actor: Principal, citizen_id: int) -> HelperView | None:
        """The citizen's own standing as a helper (None: never applied), with their shifts."""
        actor.require(Permission.CITIZEN_REPORT)
        with self._db.unit_of_work() as session:
            row = session.scalar(select(HelperRow).where(HelperRow.citizen_id == citizen_id))
            return self._view(session, row, shifts=True) if row else None

    def _view(self, session: Session, row: HelperRow, *, shifts: bool = False) -> HelperView:
        self._close_past(session)
        phone = session.scalar(select(CitizenRow.phone).where(CitizenRow.id == row.citizen_id))
        own = []
        if shifts:
            own = list(session.scalars(select(ShiftRow).where(ShiftRow.helper_id == row.id)
                                       .order_by(ShiftRow.start.desc()).limit(50)))  # fmt: skip
        got = session.scalars(select(RecognitionRow).where(RecognitionRow.helper_id == row.id))
        return helper_view(row, phone or "", [shift_view(s) for s in own], list(got))

    # Shifts ----------------------------------------------------------------------------------

    def plan_shift(
        self, *, actor: Principal, helper_id: int | None = None, citizen_id: int | None = None,
        area_id: int, start: datetime, end: datetime, now: datetime | None = None,
    ) -> ShiftView:  # fmt: skip
        """A shift planned by the situation centre (``helper_id``) or taken by the helper
        themself (``citizen_id``), checked against the shift rules."""
        if citizen_id is not None:
            actor.require(Permission.CITIZEN_REPORT)
        else:
            actor.require(Permission.HELPERS_MANAGE)
        with self._db.unit_of_work() as session:
            helper = _active(session, helper_id=helper_id, citizen_id=citizen_id)
            if session.get(PatrolAreaRow, area_id) is None:
                raise NotFoundError(f"no area {area_id}")
            window = (start - timedelta(days=8), end + timedelta(days=8))
            around = session.scalars(select(ShiftRow).where(
                ShiftRow.status != "cancelled", ShiftRow.start < window[1],
                ShiftRow.end > window[0],
                (ShiftRow.helper_id == helper.id) | (ShiftRow.area_id == area_id)))  # fmt: skip
            plans = [ShiftPlan(helper=str(s.helper_id), area=str(s.area_id), start=s.start,
                               end=s.end) for s in around]  # fmt: skip
            new = ShiftPlan(helper=str(helper.id), area=str(area_id), start=start, end=end)
            check_shift(new, plans, self.rules, now=now)
            row = ShiftRow(helper_id=helper.id, area_id=area_id, start=start, end=end,
                           planned_by=actor.username, status="planned")  # fmt: skip
            session.add(row)
            session.flush()
            self._record(session, actor, "plan", "helper_shift", row.id,
                         {"helper": helper.id, "area": area_id})  # fmt: skip
            return shift_view(row)

    def check(
        self, *, actor: Principal, citizen_id: int, shift_id: int, way: str, lat: float,
        lon: float, at: datetime | None = None,
    ) -> ShiftView:  # fmt: skip
        """The helper checks in (``way="in"``) or out on the spot.

        Raises:
            NotFoundError: not the helper's shift.
            ConflictError: too early or too late, checked in or out already, not in the area.
        """
        actor.require(Permission.CITIZEN_REPORT)
        at = at or utcnow()
        with self._db.unit_of_work() as session:
            helper = _active(session, citizen_id=citizen_id)
            row = session.get(ShiftRow, shift_id)
            if row is None or row.helper_id != helper.id:
                raise NotFoundError(f"no shift {shift_id}")
            area = session.get(PatrolAreaRow, row.area_id)
            assert area is not None
            away = haversine_m((lat, lon), (area.lat, area.lon))
            if away > area.radius_m + CHECK_IN_SLACK_M:
                raise ConflictError(f"you are {away / 1000:.1f} km from {area.name}: check "
                                    "in and out there")  # fmt: skip
            if way == "in":
                if row.checked_in is not None:
                    raise ConflictError(f"shift {shift_id}: checked in already")
                if row.status != "planned":
                    raise ConflictError(f"shift {shift_id} is {row.status}")
                if not row.start - CHECK_IN_EARLY <= at <= row.end:
                    raise ConflictError("check in from 30 minutes before the shift to its end")
                row.checked_in = at
            elif way == "out":
                if row.checked_in is None or row.checked_out is not None:
                    raise ConflictError("check in first (and out once)")
                if at > row.end + CHECK_OUT_LATE:
                    at = row.end + CHECK_OUT_LATE  # a forgotten check-out counts to the limit
                row.checked_out, row.status = max(at, row.checked_in), "attended"
            else:
                raise InvalidInputError("way is in or out")
            self._record(session, actor, f"check_{way}", "helper_shift", shift_id,
                         {"distance_m": round(away)})  # fmt: skip
            return shift_view(row)

    def mark(self, *, actor: Principal, shift_id: int, status: str, note: str = "") -> ShiftView:
        """The situation centre's word on a shift: attended (seen on duty), no_show or
        cancelled."""
        actor.require(Permission.HELPERS_MANAGE)
        if status not in ("attended", "no_show", "cancelled"):
            raise InvalidInputError("status is attended, no_show or cancelled")
        with self._db.unit_of_work() as session:
            row = session.get(ShiftRow, shift_id)
            if row is None:
                raise NotFoundError(f"no shift {shift_id}")
            if status == "attended":
                row.checked_in = row.checked_in or row.start
                row.checked_out = row.checked_out or row.end
            row.status, row.note = status, note.strip()[:2000]
            self._record(session, actor, f"mark_{status}", "helper_shift", shift_id)
            return shift_view(row)

    def cancel_own(self, *, actor: Principal, citizen_id: int, shift_id: int) -> ShiftView:
        """The helper cancels a shift that has not begun."""
        actor.require(Permission.CITIZEN_REPORT)
        with self._db.unit_of_work() as session:
            helper = _active(session, citizen_id=citizen_id)
            row = session.get(ShiftRow, shift_id)
            if row is None or row.helper_id != helper.id:
                raise NotFoundError(f"no shift {shift_id}")
            if row.status != "planned" or row.start <= utcnow():
                raise ConflictError("only a planned shift that has not begun can be cancelled")
            row.status, row.note = "cancelled", "cancelled by the helper"
            self._record(session, actor, "cancel", "helper_shift", shift_id)
            return shift_view(row)

    def shifts(
        self, *, actor: Principal, why: Justification, start: datetime, end: datetime,
        area_id: int | None = None,
    ) -> list[ShiftView]:  # fmt: skip
        """Shifts overlapping ``start``–``end`` (at most 31 days), with the helpers' names."""
        actor.require(Permission.HELPERS_MANAGE)
        if not timedelta(0) < end - start <= timedelta(days=31):
            raise InvalidInputError("a window of up to 31 days")
        with self._db.unit_of_work() as session:
            self._close_past(session)
            query = (
                select(ShiftRow, HelperRow.full_name)
                .join(HelperRow, HelperRow.id == ShiftRow.helper_id)
                .where(ShiftRow.start < end, ShiftRow.end > start)
                .order_by(ShiftRow.start)
            )
            if area_id is not None:
                query = query.where(ShiftRow.area_id == area_id)
            views = [shift_view(s, name) for s, name in session.execute(query)]
        self._audit.access(actor=actor, why=why, action="search", resource_type="helper_shifts",
                           details={"from": start.isoformat(), "count": len(views)})  # fmt: skip
        return views

    def _close_past(self, session: Session) -> None:
        """Planned shifts past their end (and the late check-out) with no check-in: no-shows;
        checked in and never out: attended to the limit."""
        cutoff = utcnow() - CHECK_OUT_LATE
        for row in session.scalars(select(ShiftRow).where(ShiftRow.status == "planned",
                                                          ShiftRow.end < cutoff)):  # fmt: skip
            if row.checked_in is None:
                row.status = "no_show"
            else:
                row.status, row.checked_out = "attended", row.end + CHECK_OUT_LATE

    # Activity and recognition ----------------------------------------------------------------

    def activity(
        self, *, actor: Principal, why: Justification, month: date
    ) -> list[HelperActivity]:
        """Each helper's activity in a calendar month (local time), audited."""
        actor.require(Permission.HELPERS_MANAGE)
        with self._db.unit_of_work() as session:
            self._close_past(session)
            found = activity_of(session, [month.replace(day=1)])
        self._audit.access(actor=actor, why=why, action="view", resource_type="helper_activity",
                           resource_id=f"{month:%Y-%m}")  # fmt: skip
        return found

    def recognise(self, *, actor: Principal, on: date) -> list[Recognition]:
        """Award what the quarters and years over by ``on`` earned, each level once."""
        actor.require(Permission.HELPERS_MANAGE)
        with self._db.unit_of_work() as session:
            self._close_past(session)
            first = session.scalar(select(ShiftRow.start).order_by(ShiftRow.start).limit(1))
            if first is None:
                return []
            months = _months(first.astimezone(ALMATY).date(), on)
            rows = activity_of(session, months)
            done = {AwardKey(helper=str(r.helper_id), level=r.level, period=r.period)
                    for r in session.scalars(select(RecognitionRow))}  # fmt: skip
            earned = self.recognition.earned(activities(rows), on=on, already=done)
            for award in earned:
                session.add(RecognitionRow(helper_id=int(award.helper), level=award.level,
                                           period=award.period, reason=award.reason,
                                           amount_tenge=award.amount_tenge,
                                           awarded_by=actor.username))  # fmt: skip
                self._record(session, actor, "recognise", "public_helper", int(award.helper),
                             {"level": award.level, "period": award.period})  # fmt: skip
            return earned


def _helper(session: Session, helper_id: int) -> HelperRow:
    row = session.get(HelperRow, helper_id)
    if row is None:
        raise NotFoundError(f"no helper {helper_id}")
    return row


def _active(
    session: Session, *, helper_id: int | None = None, citizen_id: int | None = None
) -> HelperRow:
    if citizen_id is not None:
        row = session.scalar(select(HelperRow).where(HelperRow.citizen_id == citizen_id))
        if row is None:
            raise NotFoundError("you are not a public-order helper: apply first")
    else:
        row = _helper(session, helper_id or 0)
    if row.status != "active":
        raise ConflictError(f"the helper is {row.status}, not active")
    return row


def _future_shifts(session: Session, helper_id: int) -> list[ShiftRow]:
    return list(session.scalars(select(ShiftRow).where(
        ShiftRow.helper_id == helper_id, ShiftRow.status == "planned",
        ShiftRow.start > utcnow())))  # fmt: skip


def _months(first: date, on: date) -> list[date]:
    months, day = [], first.replace(day=1)
    while day <= on:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months
