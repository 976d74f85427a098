"""What the registry of public-order helpers shows: areas, helpers (their phone masked), shifts,
and monthly activity read from the stored shifts and reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.citizens.accounts import mask
from kupol.citizens.helpers_rules import ALMATY, Activity, ShiftRecord, summarise
from kupol.citizens.helpers_store import HelperRow, PatrolAreaRow, RecognitionRow, ShiftRow
from kupol.citizens.store import ReportRow


@dataclass(frozen=True, kw_only=True)
class AreaView:
    id: int
    name: str
    region: str | None
    lat: float
    lon: float
    radius_m: float
    description: str


@dataclass(frozen=True, kw_only=True)
class ShiftView:
    id: int
    helper_id: int
    area_id: int
    start: datetime
    end: datetime
    status: str
    checked_in: datetime | None
    checked_out: datetime | None
    note: str
    helper_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecognitionView:
    level: str
    period: str
    reason: str
    amount_tenge: int | None
    awarded_at: datetime


@dataclass(frozen=True, kw_only=True)
class HelperView:
    id: int
    full_name: str
    phone: str
    """Masked: +7701***4567."""
    status: str
    home_area_id: int | None
    motivation: str
    applied_at: datetime
    decision_note: str | None
    shifts: list[ShiftView] = field(default_factory=list)
    recognitions: list[RecognitionView] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class HelperActivity:
    """One helper's month, with their name for the situation centre."""

    helper_id: int
    name: str
    activity: Activity
    reliability: float | None


def area_view(r: PatrolAreaRow) -> AreaView:
    return AreaView(id=r.id, name=r.name, region=r.region, lat=r.lat, lon=r.lon,
                    radius_m=r.radius_m, description=r.description)  # fmt: skip


def shift_view(r: ShiftRow, name: str | None = None) -> ShiftView:
    return ShiftView(id=r.id, helper_id=r.helper_id, area_id=r.area_id, start=r.start,
                     end=r.end, status=r.status, checked_in=r.checked_in,
                     checked_out=r.checked_out, note=r.note, helper_name=name)  # fmt: skip


def helper_view(
    r: HelperRow, phone: str, shifts: list[ShiftView], awards: Sequence[RecognitionRow]
) -> HelperView:
    return HelperView(
        id=r.id, full_name=r.full_name, phone=mask(phone), status=r.status,
        home_area_id=r.home_area_id, motivation=r.motivation, applied_at=r.applied_at,
        decision_note=r.decision_note, shifts=shifts,
        recognitions=[RecognitionView(level=a.level, period=a.period, reason=a.reason,
                                      amount_tenge=a.amount_tenge, awarded_at=a.awarded_at)
                      for a in sorted(awards, key=lambda a: (a.period, a.level))],
    )  # fmt: skip


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ALMATY)


def activity_of(session: Session, months: Sequence[date]) -> list[HelperActivity]:
    """Each helper's activity in each of ``months`` (first days), from the stored shifts and
    the reports they sent that were confirmed."""
    if not months:
        return []
    start = _local_start(months[0])
    end = _local_start((months[-1] + timedelta(days=32)).replace(day=1))
    names = {h: n for h, n in session.execute(select(HelperRow.id, HelperRow.full_name))}
    citizens = {c: h for c, h in session.execute(select(HelperRow.citizen_id, HelperRow.id))}
    records = [
        ShiftRecord(helper=str(s.helper_id), area=str(s.area_id), start=s.start, end=s.end,
                    checked_in=s.checked_in, checked_out=s.checked_out, status=s.status)
        for s in session.scalars(select(ShiftRow).where(ShiftRow.start >= start,
                                                        ShiftRow.start < end))
    ]  # fmt: skip
    confirmed: dict[date, dict[str, int]] = defaultdict(dict)
    if citizens:
        sent = session.execute(
            select(ReportRow.citizen_id, ReportRow.submitted_at)
            .where(ReportRow.citizen_id.in_(citizens),
                   ReportRow.status.in_(("confirmed", "duplicate")),
                   ReportRow.submitted_at >= start, ReportRow.submitted_at < end))  # fmt: skip
        for citizen_id, submitted in sent:
            key = submitted.astimezone(ALMATY).date().replace(day=1)
            helper = str(citizens[citizen_id])
            confirmed[key][helper] = confirmed[key].get(helper, 0) + 1
    out = []
    for month in months:
        for a in summarise(records, month, confirmed.get(month, {})):
            out.append(HelperActivity(helper_id=int(a.helper), name=names.get(int(a.helper), ""),
                                      activity=a, reliability=a.reliability))  # fmt: skip
    return out


def activities(rows: Sequence[HelperActivity]) -> list[Activity]:
    """The plain monthly activities (what recognition is computed from)."""
    return [r.activity for r in rows]
