"""The device registry: body cameras (video badges) and other recorders, and which officer
holds each during which shift. A clip from a registered device is attributed to the officer
whose shift covers it; a clip no shift covers, or one that names another officer, is kept and
marked so (evidence is never refused for its paperwork)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.auth.model import User
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.evidence.model import Assignment, Device

DEVICE_KINDS = ("bodycam", "dashcam", "drone", "other")
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True, kw_only=True)
class DeviceView:
    id: str
    kind: str
    serial: str | None
    model: str | None
    active: bool
    holder: str | None
    """The officer whose shift is on now."""
    shift_id: int | None


@dataclass(frozen=True, kw_only=True)
class ShiftView:
    id: int
    device_id: str
    officer: str
    starts_at: datetime
    ends_at: datetime | None
    assigned_by: str


@dataclass(frozen=True, kw_only=True)
class Attribution:
    """Whose a clip is, by the registry."""

    status: str
    """shift, unassigned, conflict or unregistered."""
    officer: str | None
    shift_id: int | None


def attribute(
    session: Session,
    device_id: str,
    started_at: datetime | None,
    ended_at: datetime | None,
    officer: str | None,
) -> Attribution:
    """Whose shift covers a clip of ``device_id`` recorded from ``started_at`` to ``ended_at``."""
    if session.get(Device, device_id) is None:
        return Attribution(status="unregistered", officer=officer, shift_id=None)
    if started_at is None:
        return Attribution(status="unassigned", officer=officer, shift_id=None)
    end = ended_at or started_at
    shift = session.scalar(
        select(Assignment)
        .where(
            Assignment.device_id == device_id,
            Assignment.starts_at <= started_at,
            or_(Assignment.ends_at.is_(None), Assignment.ends_at >= end),
        )
        .order_by(Assignment.starts_at.desc())
        .limit(1)
    )
    if shift is None:
        return Attribution(status="unassigned", officer=officer, shift_id=None)
    if officer and officer != shift.officer:
        return Attribution(status="conflict", officer=officer, shift_id=shift.id)
    return Attribution(status="shift", officer=shift.officer, shift_id=shift.id)


class DeviceRegistry:
    """Registers devices and hands them to officers for shifts."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def _record(
        self,
        session: Session,
        actor: Principal,
        action: str,
        device_id: str,
        details: dict[str, object],
    ) -> None:
        self._audit.append(
            AuditRecord(
                actor=actor.username,
                roles=actor.roles,
                action=action,
                resource_type="evidence_device",
                resource_id=device_id,
                details=details,
            ),
            session=session,
        )

    def register(
        self,
        *,
        device_id: str,
        kind: str,
        actor: Principal,
        serial: str | None = None,
        model: str | None = None,
    ) -> DeviceView:
        """Add a device to the registry."""
        actor.require(Permission.DEVICES_MANAGE)
        if not DEVICE_ID.match(device_id):
            raise InvalidInputError("a device id is 1 to 64 letters, digits, '.', '_', ':' or '-'")
        if kind not in DEVICE_KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(DEVICE_KINDS)}")
        with self._db.unit_of_work() as session:
            if session.get(Device, device_id) is not None:
                raise ConflictError(f"device {device_id} is registered already")
            device = Device(
                id=device_id,
                kind=kind,
                serial=serial,
                model=model,
                active=True,
                registered_by=actor.username,
            )
            session.add(device)
            session.flush()
            self._record(session, actor, "device.register", device_id, {"kind": kind})
            return _device_view(session, device)

    def devices(self, *, actor: Principal) -> list[DeviceView]:
        actor.require(Permission.EVIDENCE_VIEW)
        with self._db.reader() as session:
            return [
                _device_view(session, d)
                for d in session.scalars(select(Device).order_by(Device.id))
            ]

    def assign(
        self,
        *,
        device_id: str,
        officer: str,
        starts_at: datetime,
        ends_at: datetime | None,
        actor: Principal,
    ) -> ShiftView:
        """Hand ``device_id`` to ``officer`` for a shift (refused if it overlaps another)."""
        actor.require(Permission.DEVICES_MANAGE)
        for value in (starts_at, ends_at):
            if value is not None and value.tzinfo is None:
                raise InvalidInputError("shift times need their UTC offset")
        if ends_at is not None and ends_at <= starts_at:
            raise InvalidInputError("a shift ends after it starts")
        with self._db.unit_of_work() as session:
            device = session.get(Device, device_id)
            if device is None:
                raise NotFoundError(f"no device {device_id}")
            if not device.active:
                raise ConflictError(f"device {device_id} is retired")
            if session.scalar(select(User.id).where(User.username == officer)) is None:
                raise InvalidInputError(f"no user {officer}")
            overlap = session.scalar(
                select(Assignment).where(
                    Assignment.device_id == device_id,
                    or_(Assignment.ends_at.is_(None), Assignment.ends_at > starts_at),
                    *([Assignment.starts_at < ends_at] if ends_at is not None else []),
                )
            )
            if overlap is not None:
                raise ConflictError(
                    f"device {device_id} is with {overlap.officer} from "
                    f"{overlap.starts_at:%Y-%m-%d %H:%M}"
                    + (f" to {overlap.ends_at:%H:%M}" if overlap.ends_at else " (shift not ended)")
                )
            shift = Assignment(
                device_id=device_id,
                officer=officer,
                starts_at=starts_at,
                ends_at=ends_at,
                assigned_by=actor.username,
            )
            session.add(shift)
            session.flush()
            self._record(
                session, actor, "device.assign", device_id, {"officer": officer, "shift": shift.id}
            )
            return _shift_view(shift)

    def end_shift(self, *, shift_id: int, ends_at: datetime | None, actor: Principal) -> ShiftView:
        """The device came back: the shift ends (now, by default)."""
        actor.require(Permission.DEVICES_MANAGE)
        end = ends_at or utcnow()
        if end.tzinfo is None:
            raise InvalidInputError("ends_at needs its UTC offset")
        with self._db.unit_of_work() as session:
            shift = session.get(Assignment, shift_id)
            if shift is None:
                raise NotFoundError(f"no shift {shift_id}")
            if shift.ends_at is not None:
                raise ConflictError(f"shift {shift_id} ended at {shift.ends_at:%Y-%m-%d %H:%M}")
            if end <= shift.starts_at:
                raise InvalidInputError("a shift ends after it starts")
            shift.ends_at = end
            self._record(session, actor, "device.return", shift.device_id, {"shift": shift_id})
            return _shift_view(shift)

    def shifts(self, *, device_id: str, actor: Principal) -> list[ShiftView]:
        actor.require(Permission.EVIDENCE_VIEW)
        with self._db.reader() as session:
            return [
                _shift_view(s)
                for s in session.scalars(
                    select(Assignment)
                    .where(Assignment.device_id == device_id)
                    .order_by(Assignment.starts_at.desc())
                )
            ]


def _shift_view(shift: Assignment) -> ShiftView:
    return ShiftView(
        id=shift.id,
        device_id=shift.device_id,
        officer=shift.officer,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        assigned_by=shift.assigned_by,
    )


def _device_view(session: Session, device: Device) -> DeviceView:
    now = utcnow()
    shift = session.scalar(
        select(Assignment)
        .where(
            Assignment.device_id == device.id,
            Assignment.starts_at <= now,
            or_(Assignment.ends_at.is_(None), Assignment.ends_at > now),
        )
        .limit(1)
    )
    return DeviceView(
        id=device.id,
        kind=device.kind,
        serial=device.serial,
        model=device.model,
        active=bool(device.active),
        holder=shift.officer if shift else None,
        shift_id=shift.id if shift else None,
    )
