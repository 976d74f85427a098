"""The e-scooter registry as a service: rental operators and their numbered, insured scooters;
the city's zones; operators' MDS trip feeds checked against the city's rules as they arrive
(violations stored, the operator's fines worked out from the dated table); GBFS snapshots
counted against the fleet cap; and an operator's compliance report for a day.

A feed is validated record by record (:mod:`kupol.scooters.mds`): the valid trips are kept, the
invalid ones are answered with where and why; a trip from a device that is not a registered
scooter of the sending operator is refused too. A trip sent again is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.scooters import store
from kupol.scooters.city import CityRules, Curfew, Zone, ZoneKind
from kupol.scooters.compliance import (
    ComplianceReport,
    FleetCount,
    OperatorResponse,
    compliance_report,
)
from kupol.scooters.feeds import FeedError
from kupol.scooters.fines import ScooterFineTable, fines_for, load_scooter_fines
from kupol.scooters.gbfs import parse_vehicle_status
from kupol.scooters.mds import parse_trips
from kupol.scooters.model import Position, Trip
from kupol.scooters.plates import parse_scooter_plate
from kupol.scooters.registry import Operator
from kupol.scooters.rules import check_trips
from kupol.scooters.violations import ScooterViolation, ViolationKind
from kupol.settings import ScootersSettings


@dataclass(frozen=True, kw_only=True)
class FeedAnswer:
    """What a feed did: trips stored (new), already stored, violations found, and each
    refused record with where and why."""

    accepted: int
    duplicates: int
    violations: int
    rejected: list[str]


@dataclass(frozen=True, kw_only=True)
class OperatorView:
    id: int
    provider_id: str
    name: str
    letter: str
    bin: str
    fleet_cap: int
    account: str | None
    scooters: int


class Scooters:
    """The e-scooter registry (see the module)."""

    def __init__(
        self, *, db: Database, audit: AuditLog, settings: ScootersSettings,
        fines: ScooterFineTable | None = None,
    ) -> None:  # fmt: skip
        self._db = db
        self._audit = audit
        self.settings = settings
        self._fines = fines or load_scooter_fines()

    # Registry -------------------------------------------------------------------------

    def register_operator(
        self, *, actor: Principal, provider_id: str, name: str, letter: str, bin: str,
        fleet_cap: int, account: str | None = None,
    ) -> OperatorView:  # fmt: skip
        """Register a rental operator (audited).

        Raises:
            InvalidInputError: a bad letter, BIN or cap.
            ConflictError: the provider id, letter or account is taken.
        """
        actor.require(Permission.SCOOTERS_MANAGE)
        letter = letter.strip().upper()
        if not (len(letter) == 1 and "A" <= letter <= "Z"):
            raise InvalidInputError("letter must be one Latin letter: its scooters' numbers")
        if not (len(bin) == 12 and bin.isdigit()):
            raise InvalidInputError("bin must be the 12 digits of the business number")
        if not 1 <= fleet_cap <= 100_000:
            raise InvalidInputError("fleet_cap must be 1 to 100,000")
        with self._db.unit_of_work() as session:
            for column, value in ((store.OperatorRow.provider_id, provider_id),
                                  (store.OperatorRow.letter, letter),
                                  (store.OperatorRow.account, account)):  # fmt: skip
                if value is not None and session.scalar(select(column).where(column == value)):
                    raise ConflictError(f"{column.key} {value!r} is already registered")
            row = store.OperatorRow(provider_id=provider_id, name=name.strip(), letter=letter,
                                    bin=bin, fleet_cap=fleet_cap, account=account)  # fmt: skip
            session.add(row)
            session.flush()
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="register",
                            resource_type="scooter_operator", resource_id=provider_id,
                            details={"name": name, "letter": letter}),
                session=session,
            )  # fmt: skip
            return _operator_view(row, 0)

    def operators(self, *, actor: Principal) -> list[OperatorView]:
        actor.require(Permission.SCOOTERS_READ)
        with self._db.reader() as session:
            rows = list(session.scalars(select(store.OperatorRow).order_by(store.OperatorRow.name)))
            counts: dict[int, int] = {}
            for operator_id in session.scalars(select(store.ScooterRow.operator_id)):
                counts[operator_id] = counts.get(operator_id, 0) + 1
            return [_operator_view(r, counts.get(r.id, 0)) for r in rows]

    def register_scooters(
        self, *, actor: Principal, provider_id: str, scooters: Sequence[dict[str, object]]
    ) -> int:
        """Register an operator's scooters: ``{plate, device_id, insurer?, policy_no?,
        insured_until?}`` each (audited). All or none.

        Raises:
            NotFoundError: no such operator.
            InvalidInputError: a plate that is not the operator's letter and up to 5 digits,
                a device id or plate given twice or already registered.
        """
        actor.require(Permission.SCOOTERS_MANAGE)
        with self._db.unit_of_work() as session:
            operator = _operator(session, provider_id)
            plates = set(session.scalars(select(store.ScooterRow.plate)))
            devices = set(session.scalars(select(store.ScooterRow.device_id)))
            for n, item in enumerate(scooters):
                plate = parse_scooter_plate(str(item.get("plate", ""))).text
                if not plate.startswith(operator.letter):
                    raise InvalidInputError(
                        f"scooters[{n}].plate: {plate} is not a number of {operator.name} "
                        f"(its numbers start with {operator.letter})"
                    )
                device = str(item.get("device_id", "")).strip()
                if not 1 <= len(device) <= 64:
                    raise InvalidInputError(f"scooters[{n}].device_id: missing")
                if plate in plates or device in devices:
                    raise InvalidInputError(f"scooters[{n}]: {plate} / {device} is registered")
                plates.add(plate)
                devices.add(device)
                until = item.get("insured_until")
                session.add(store.ScooterRow(
                    plate=plate, operator_id=operator.id, device_id=device,
                    insurer=_text(item.get("insurer")), policy_no=_text(item.get("policy_no")),
                    insured_until=date.fromisoformat(str(until)) if until else None,
                ))  # fmt: skip
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="register",
                            resource_type="scooters", resource_id=provider_id,
                            details={"count": len(scooters)}),
                session=session,
            )  # fmt: skip
        return len(scooters)

    # Zones and rules ------------------------------------------------------------------

    def add_zone(
        self, *, actor: Principal, name: str, kind: str, polygon: list[list[float]],
        max_speed_kmh: float | None = None, sidewalk: bool = False,
    ) -> None:  # fmt: skip
        """Add a zone of the city's rules (checked as the rules check it; audited).

        Raises:
            InvalidInputError: a bad polygon or kind, a slow zone without its limit.
            ConflictError: the name is taken.
        """
        actor.require(Permission.SCOOTERS_MANAGE)
        try:
            zone = Zone(name=name, kind=ZoneKind(kind), max_speed_kmh=max_speed_kmh,
                        sidewalk=sidewalk, polygon=tuple((float(p[0]), float(p[1]))
                                                         for p in polygon))  # fmt: skip
        except (ValueError, IndexError, TypeError) as exc:
            raise InvalidInputError(f"zone {name!r}: {exc}") from exc
        with self._db.unit_of_work() as session:
            if session.scalar(select(store.ZoneRow.id).where(store.ZoneRow.name == name)):
                raise ConflictError(f"a zone {name!r} exists")
            session.add(store.ZoneRow(
                name=zone.name, kind=zone.kind.value, polygon=[list(p) for p in zone.polygon],
                max_speed_kmh=zone.max_speed_kmh, sidewalk=zone.sidewalk,
                created_by=actor.username,
            ))  # fmt: skip
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="add",
                            resource_type="scooter_zone", resource_id=name),
                session=session,
            )  # fmt: skip

    def zones(self, *, actor: Principal) -> list[dict[str, object]]:
        """The city's zones (the map's and the rules')."""
        actor.require(Permission.SCOOTERS_READ)
        with self._db.reader() as session:
            return [
                {"name": r.name, "kind": r.kind, "polygon": r.polygon,
                 "max_speed_kmh": r.max_speed_kmh, "sidewalk": r.sidewalk, "active": r.active}
                for r in session.scalars(select(store.ZoneRow).order_by(store.ZoneRow.name))
            ]  # fmt: skip

    def rules(self) -> CityRules:
        """The city's rules now: its active zones and the configured limits and curfew."""
        with self._db.reader() as session:
            zones = tuple(
                Zone(name=r.name, kind=ZoneKind(r.kind), max_speed_kmh=r.max_speed_kmh,
                     sidewalk=r.sidewalk, polygon=tuple((p[0], p[1]) for p in r.polygon))
                for r in session.scalars(select(store.ZoneRow).where(store.ZoneRow.active)
                                .order_by(store.ZoneRow.name))
            )  # fmt: skip
        s = self.settings
        curfews: tuple[Curfew, ...] = ()
        if s.curfew:
            start, end = (time.fromisoformat(p) for p in s.curfew.split("-"))
            curfews = (Curfew(start=start, end=end),)
        return CityRules(zones=zones, curfews=curfews, max_speed_kmh=s.max_speed_kmh,
                         sidewalk_max_kmh=s.sidewalk_max_kmh, timezone=s.timezone,
                         min_age=s.min_age, licence_required=s.licence_required)  # fmt: skip

    # Feeds ----------------------------------------------------------------------------

    def submit_trips(self, *, actor: Principal, document: object) -> FeedAnswer:
        """An operator's MDS trips: validated, checked against the rules, stored with what
        they broke. The sender's account must be the operator's.

        Raises:
            InvalidInputError: the document is not an MDS trips document.
            PermissionDeniedError: not an operator's account.
        """
        actor.require(Permission.SCOOTER_FEEDS)
        feed = parse_trips(document, now=utcnow())
        rejected = [str(e) for e in feed.rejected]
        with self._db.reader() as session:
            operator = session.scalar(
                select(store.OperatorRow).where(store.OperatorRow.account == actor.username)
            )
            if operator is None:
                raise NotFoundError(f"account {actor.username!r} is no registered operator's")
            owned = select(store.ScooterRow).where(store.ScooterRow.operator_id == operator.id)
            fleet = {r.device_id: r.plate for r in session.scalars(owned)}
            operator_id, provider_id = operator.id, operator.provider_id
        trips: list[Trip] = []
        for trip in feed.accepted:
            if trip.provider_id != provider_id:
                rejected.append(f"trip {trip.trip_id}: provider_id is not this account's")
            elif trip.device_id not in fleet:
                rejected.append(f"trip {trip.trip_id}: device {trip.device_id} is not a "
                                "registered scooter of this operator")  # fmt: skip
            elif trip.plate is not None and trip.plate.text != fleet[trip.device_id]:
                rejected.append(f"trip {trip.trip_id}: plate {trip.plate.text} is not device "
                                f"{trip.device_id}'s ({fleet[trip.device_id]})")  # fmt: skip
            else:
                trips.append(trip)
        found = check_trips(trips, self.rules()) if trips else []
        tz = ZoneInfo(self.settings.timezone)
        with self._db.unit_of_work() as session:
            known = set(session.scalars(select(store.TripRow.trip_id).where(
                store.TripRow.operator_id == operator_id,
                store.TripRow.trip_id.in_([t.trip_id for t in trips]))))  # fmt: skip
            new = [t for t in trips if t.trip_id not in known]
            earlier = self._earlier(session, operator_id, provider_id)
            fresh = [v for v in found if v.trip_id not in known]
            fines = {f.trip_id: f for f in fines_for(fresh, self._fines, earlier=earlier)}
            by_trip: dict[str, list[ScooterViolation]] = {}
            for v in found:
                by_trip.setdefault(v.trip_id, []).append(v)
            stored = 0
            for trip in new:
                mine = by_trip.get(trip.trip_id, [])
                row = store.TripRow(
                    operator_id=operator_id, trip_id=trip.trip_id, device_id=trip.device_id,
                    plate=fleet[trip.device_id], rider_id=trip.rider.rider_id if trip.rider
                    else None, start_at=trip.start_time, end_at=trip.end_time,
                    day=trip.start_time.astimezone(tz).date(), distance_m=trip.distance_m,
                    duration_s=trip.duration_s, points=len(trip.route) if trip.route else 0,
                    violations=len(mine),
                )  # fmt: skip
                session.add(row)
                session.flush()
                for v in mine:
                    fine = fines.get(v.trip_id) if v.kind.speeding else None
                    session.add(_violation_row(row.id, operator_id, fleet[trip.device_id], v,
                                               fine.tenge if fine else None,
                                               fine.source if fine else None))  # fmt: skip
                    if fine is not None:
                        fines.pop(v.trip_id)  # one fine a trip
                    stored += 1
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="submit",
                            resource_type="scooter_trips", resource_id=provider_id,
                            details={"accepted": len(new), "rejected": len(rejected),
                                     "violations": stored}),
                session=session,
            )  # fmt: skip
        return FeedAnswer(accepted=len(new), duplicates=len(trips) - len(new), violations=stored,
                          rejected=rejected[:1000])  # fmt: skip

    def _earlier(
        self, session: Session, operator_id: int, provider_id: str
    ) -> dict[str, list[date]]:
        days = session.scalars(
            select(store.ViolationRow.at).where(
                store.ViolationRow.operator_id == operator_id,
                store.ViolationRow.operator_fine_tenge.is_not(None),
                store.ViolationRow.at >= utcnow() - timedelta(days=400),
            )
        )
        return {provider_id: sorted(at.date() for at in days)}

    def submit_gbfs(self, *, actor: Principal, document: object) -> FleetCount:
        """An operator's GBFS vehicle list: counted (with its trips under way then) as the
        fleet on the street at the feed's time. Vehicles whose plate is not the operator's
        registered scooter are counted apart."""
        actor.require(Permission.SCOOTER_FEEDS)
        feed = parse_vehicle_status(document, now=utcnow())
        if feed.rejected:
            raise InvalidInputError("; ".join(str(e) for e in feed.rejected[:20]))
        at = feed.header.last_updated
        with self._db.unit_of_work() as session:
            operator = session.scalar(
                select(store.OperatorRow).where(store.OperatorRow.account == actor.username)
            )
            if operator is None:
                raise NotFoundError(f"account {actor.username!r} is no registered operator's")
            riding = len(session.scalars(select(store.TripRow.id).where(
                store.TripRow.operator_id == operator.id, store.TripRow.start_at <= at,
                store.TripRow.end_at > at)).all())  # fmt: skip
            count = FleetCount(provider_id=operator.provider_id, at=at,
                               vehicles=len(feed.accepted) + riding, source="gbfs")  # fmt: skip
            session.add(store.AvailabilityRow(operator_id=operator.id, at=at,
                                              vehicles=count.vehicles))  # fmt: skip
        return count

    def submit_responses(
        self, *, actor: Principal, responses: Sequence[dict[str, object]]
    ) -> FeedAnswer:
        """What an operator did about its renters' violations: ``{trip_id, kind, acted_at,
        action}`` each (warned, fined, blocked the rider …); recorded on the violation, for the
        report's response times. Each record is refused alone with its index and reason.

        Raises:
            NotFoundError: the account is no registered operator's.
        """
        actor.require(Permission.SCOOTER_FEEDS)
        rejected: list[str] = []
        accepted = duplicates = 0
        now = utcnow()
        with self._db.unit_of_work() as session:
            operator = session.scalar(
                select(store.OperatorRow).where(store.OperatorRow.account == actor.username)
            )
            if operator is None:
                raise NotFoundError(f"account {actor.username!r} is no registered operator's")
            for n, item in enumerate(responses):
                where = f"responses[{n}]"
                try:
                    kind = ViolationKind(str(item.get("kind")))
                    acted = datetime.fromisoformat(str(item.get("acted_at")))
                except ValueError as exc:
                    rejected.append(f"{where}: {exc}")
                    continue
                action = str(item.get("action") or "").strip()
                if acted.tzinfo is None or acted > now + timedelta(minutes=5):
                    rejected.append(f"{where}.acted_at: needs its UTC offset, not in the future")
                    continue
                if not 1 <= len(action) <= 120:
                    rejected.append(f"{where}.action: say what was done (1-120 characters)")
                    continue
                row = session.scalar(
                    select(store.ViolationRow)
                    .join(store.TripRow, store.TripRow.id == store.ViolationRow.trip_row_id)
                    .where(store.TripRow.operator_id == operator.id,
                           store.TripRow.trip_id == str(item.get("trip_id")),
                           store.ViolationRow.kind == kind.value)
                )  # fmt: skip
                if row is None:
                    rejected.append(f"{where}: no {kind.value} on trip {item.get('trip_id')}")
                elif row.resolved_at is not None:
                    duplicates += 1
                elif acted < row.at:
                    rejected.append(f"{where}.acted_at: before the violation ({row.at})")
                else:
                    row.resolved_at, row.resolution = acted, action
                    accepted += 1
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="submit",
                            resource_type="scooter_responses", resource_id=operator.provider_id,
                            details={"accepted": accepted, "rejected": len(rejected)}),
                session=session,
            )  # fmt: skip
        return FeedAnswer(accepted=accepted, duplicates=duplicates, violations=0,
                          rejected=rejected[:1000])  # fmt: skip

    # Reports --------------------------------------------------------------------------

    def compliance(self, *, actor: Principal, provider_id: str, day: date) -> ComplianceReport:
        """The operator's compliance report for ``day`` (local) from what is stored."""
        actor.require(Permission.SCOOTERS_READ)
        if not date(2010, 1, 1) <= day <= date(2100, 1, 1):  # as feeds' times (feeds.EARLIEST_MS)
            raise InvalidInputError("day must be between 2010 and 2100")
        tz = ZoneInfo(self.settings.timezone)
        start = datetime.combine(day, time(0), tz).astimezone(UTC)
        end = start + timedelta(days=1)
        with self._db.reader() as session:
            row = _operator(session, provider_id)
            operator = Operator(provider_id=row.provider_id, name=row.name, letter=row.letter,
                                fleet_cap=row.fleet_cap)  # fmt: skip
            trips = list(session.scalars(select(store.TripRow).where(
                store.TripRow.operator_id == row.id, store.TripRow.day == day)))  # fmt: skip
            ids = {t.id: t.trip_id for t in trips}
            rows = list(session.scalars(select(store.ViolationRow).where(
                store.ViolationRow.trip_row_id.in_(list(ids)))))  # fmt: skip
            violations = [_violation(v, ids[v.trip_row_id], provider_id) for v in rows]
            responses = [
                OperatorResponse(trip_id=ids[v.trip_row_id], kind=ViolationKind(v.kind),
                                 acted_at=v.resolved_at, action=v.resolution or "")
                for v in rows if v.resolved_at is not None
            ]  # fmt: skip
            answers_responses = session.scalar(
                select(store.ViolationRow.id).where(
                    store.ViolationRow.operator_id == row.id,
                    store.ViolationRow.resolved_at.is_not(None)).limit(1)
            ) is not None  # fmt: skip
            counts = [
                FleetCount(provider_id=provider_id, at=a.at, vehicles=a.vehicles, source="gbfs")
                for a in session.scalars(select(store.AvailabilityRow).where(
                    store.AvailabilityRow.operator_id == row.id,
                    store.AvailabilityRow.at >= start, store.AvailabilityRow.at < end)
                    .order_by(store.AvailabilityRow.at))
            ]  # fmt: skip
            fines = sum(v.operator_fine_tenge or 0 for v in rows)
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="report",
                            resource_type="scooter_operator", resource_id=provider_id,
                            details={"day": day.isoformat()}),
            )  # fmt: skip
        report = compliance_report(
            operator=operator, day=day, trips=[_trip(t, provider_id) for t in trips],
            violations=violations, fleet_counts=counts, timezone=self.settings.timezone,
            # An operator that has never answered is "not reported", not "never acted".
            responses=responses if answers_responses else None,
        )  # fmt: skip
        return replace(report, fines_tenge=fines)

    def scooter(self, *, actor: Principal, plate: str) -> dict[str, object]:
        """One scooter's record: its registration and insurance, its trips, the violations
        found on them and those traffic cameras recorded against its number (audited).

        Raises:
            InvalidInputError: not a scooter number.
            NotFoundError: no scooter has that number.
        """
        actor.require(Permission.SCOOTERS_READ)
        number = parse_scooter_plate(plate).text
        from kupol.traffic.model import Violation

        with self._db.reader() as session:
            row = session.get(store.ScooterRow, number)
            if row is None:
                raise NotFoundError(f"no scooter {number}")
            operator = session.get(store.OperatorRow, row.operator_id)
            assert operator is not None
            trips = len(session.scalars(
                select(store.TripRow.id).where(store.TripRow.plate == number)).all())  # fmt: skip
            cameras = [
                {"id": v.id, "offence": v.offence, "camera_id": v.camera_id,
                 "at": v.occurred_at.isoformat(), "status": v.status, "article": v.article}
                for v in session.scalars(select(Violation).where(Violation.plate == number)
                                         .order_by(Violation.occurred_at.desc()).limit(200))
            ]  # fmt: skip
            record: dict[str, object] = {
                "plate": number, "operator": operator.name, "provider_id": operator.provider_id,
                "device_id": row.device_id, "insurer": row.insurer, "policy_no": row.policy_no,
                "insured_until": row.insured_until.isoformat() if row.insured_until else None,
                "insured_today": bool(row.insured_until and row.insured_until >= utcnow().date()),
                "trips": trips, "camera_violations": cameras,
            }  # fmt: skip
        record["trip_violations"] = self.violations(actor=actor, plate=number)
        return record

    def violations(
        self, *, actor: Principal, provider_id: str | None = None, plate: str | None = None,
        day: date | None = None, rider_id: str | None = None, limit: int = 200,
    ) -> list[dict[str, object]]:  # fmt: skip
        """Stored violations, newest first (audited: they name riders)."""
        actor.require(Permission.SCOOTERS_READ)
        query = select(store.ViolationRow, store.OperatorRow.provider_id, store.TripRow.trip_id)
        query = query.join(store.TripRow, store.TripRow.id == store.ViolationRow.trip_row_id)
        query = query.join(
            store.OperatorRow, store.OperatorRow.id == store.ViolationRow.operator_id
        )
        if provider_id:
            query = query.where(store.OperatorRow.provider_id == provider_id)
        if plate:
            query = query.where(store.ViolationRow.plate == parse_scooter_plate(plate).text)
        if day:
            query = query.where(store.TripRow.day == day)
        if rider_id:
            query = query.where(store.ViolationRow.rider_id == rider_id)
        with self._db.unit_of_work() as session:
            rows = session.execute(query.order_by(store.ViolationRow.at.desc()).limit(limit))
            out: list[dict[str, object]] = [
                {"id": v.id, "kind": v.kind, "trip_id": trip_id, "provider_id": provider,
                 "plate": v.plate, "rider_id": v.rider_id, "at": v.at.isoformat(),
                 "lat": v.lat, "lon": v.lon, "speed_kmh": v.speed_kmh, "limit_kmh": v.limit_kmh,
                 "zone": v.zone, "duration_s": v.duration_s, "detail": v.detail,
                 "operator_fine_tenge": v.operator_fine_tenge}
                for v, provider, trip_id in rows
            ]  # fmt: skip
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="search",
                            resource_type="scooter_violations",
                            resource_id=plate or rider_id or provider_id or "all",
                            details={"count": len(out)}),
                session=session,
            )  # fmt: skip
        return out


def _text(value: object) -> str | None:
    return str(value).strip()[:120] or None if value is not None else None


def _operator(session: Session, provider_id: str) -> store.OperatorRow:
    row = session.scalar(
        select(store.OperatorRow).where(store.OperatorRow.provider_id == provider_id)
    )
    if row is None:
        raise NotFoundError(f"no operator {provider_id!r}")
    return row


def _operator_view(r: store.OperatorRow, scooters: int) -> OperatorView:
    return OperatorView(id=r.id, provider_id=r.provider_id, name=r.name, letter=r.letter,
                        bin=r.bin, fleet_cap=r.fleet_cap, account=r.account,
                        scooters=scooters)  # fmt: skip


def _violation_row(
    trip_row_id: int, operator_id: int, plate: str, v: ScooterViolation, fine: int | None,
    basis: str | None,
) -> store.ViolationRow:  # fmt: skip
    return store.ViolationRow(
        trip_row_id=trip_row_id, operator_id=operator_id, kind=v.kind.value, plate=plate,
        rider_id=v.rider_id, at=v.at, lat=v.position.lat, lon=v.position.lon,
        speed_kmh=v.speed_kmh, limit_kmh=v.limit_kmh, zone=v.zone, duration_s=v.duration_s,
        detail=v.detail, operator_fine_tenge=fine, operator_fine_basis=basis,
    )  # fmt: skip


def _violation(v: store.ViolationRow, trip_id: str, provider_id: str) -> ScooterViolation:
    return ScooterViolation(
        kind=ViolationKind(v.kind), trip_id=trip_id, provider_id=provider_id, device_id="",
        plate=v.plate, rider_id=v.rider_id, at=v.at, position=Position(lat=v.lat, lon=v.lon),
        speed_kmh=v.speed_kmh, limit_kmh=v.limit_kmh, zone=v.zone, duration_s=v.duration_s,
        detail=v.detail,
    )  # fmt: skip


def _trip(t: store.TripRow, provider_id: str) -> Trip:
    return Trip(
        provider_id=provider_id, device_id=t.device_id, trip_id=t.trip_id,
        start_ms=int(t.start_at.timestamp() * 1000), end_ms=int(t.end_at.timestamp() * 1000),
        start_location=Position(lat=0.0, lon=0.0), end_location=Position(lat=0.0, lon=0.0),
        duration_s=t.duration_s, distance_m=t.distance_m,
    )  # fmt: skip


__all__ = ["FeedAnswer", "FeedError", "OperatorView", "Scooters"]
