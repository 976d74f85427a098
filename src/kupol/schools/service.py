"""The driving-school registry as a service: records imported from the national registry (or
the demo's generator), quality scores and anomaly checks over what is stored, flags kept until
an inspection takes them up, inspections with findings and sanctions, and the public ratings.

Scores and flags are computed by :mod:`kupol.schools.quality` and
:mod:`kupol.schools.anomalies` from a :class:`~kupol.schools.model.Snapshot` read from the
tables; a check run stores its flags (a flag found again is updated, not doubled), so the
inspectors' queue survives restarts and keeps what they decided.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Base, Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import kazakhstan_today, utcnow
from kupol.schools import records, store, views
from kupol.schools.anomalies import detect_all
from kupol.schools.model import Flag, Snapshot
from kupol.schools.quality import score_schools

SANCTIONS = ("none", "warning", "fine", "suspension", "revocation")
CHUNK = 5_000


class Schools:
    """The driving-school registry (see the module)."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    # Records --------------------------------------------------------------------------

    def import_snapshot(self, *, actor: Principal, snapshot: Snapshot) -> views.ImportStats:
        """Store ``snapshot``'s records, replacing those with the same ids (audited).

        Raises:
            InvalidInputError: a record names a school that is neither in the snapshot nor
                stored.
        """
        actor.require(Permission.SCHOOLS_INSPECT)
        schools = [records.school_row(s) for s in snapshot.schools]
        rows: list[tuple[str, type[Base], list[records.Values]]] = [
            ("branches", store.BranchRow, [records.branch_row(b) for b in snapshot.branches]),
            ("instructors", store.InstructorRow,
             [records.instructor_row(i) for i in snapshot.instructors]),
            ("vehicles", store.VehicleRow, [records.vehicle_row(v) for v in snapshot.vehicles]),
            ("examiners", store.ExaminerRow,
             [records.examiner_row(e) for e in snapshot.examiners]),
            ("cadets", store.CadetRow, [records.cadet_row(c) for c in snapshot.cadets]),
            ("lessons", store.LessonRow, [records.lesson_row(x) for x in snapshot.lessons]),
            ("exams", store.ExamRow, [records.exam_row(e) for e in snapshot.exams]),
            ("graduates", store.GraduateRow,
             [records.graduate_row(g) for g in snapshot.graduates]),
            ("complaints", store.ComplaintRow,
             [records.complaint_row(c) for c in snapshot.complaints]),
        ]  # fmt: skip
        for kind, table, batch in rows:
            _check_unique(kind, table, batch)
        with self._db.unit_of_work() as session:
            known = set(session.scalars(select(store.SchoolRow.id)))
            known |= {s.id for s in snapshot.schools}
            for kind, _, batch in rows:
                for row in batch:
                    school_id = row.get("school_id")
                    if school_id is not None and school_id not in known:
                        raise InvalidInputError(f"{kind}: school {school_id!r} is not registered")
            for school in schools:  # merged: deleting one would cascade to its records
                session.merge(school)
            for _, table, batch in rows:
                _replace(session, table, batch)
            counts = {"schools": len(schools)} | {kind: len(batch) for kind, _, batch in rows}
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="import",
                            resource_type="school_registry", resource_id="bundle",
                            details=counts),
                session=session,
            )  # fmt: skip
        return views.ImportStats(counts=counts)

    def snapshot(self, *, region: str | None = None, as_of: date | None = None) -> Snapshot:
        """What the registry holds (one region, or all), as the scores and checks read it."""
        with self._db.reader() as session:
            schools = [records.school(r) for r in _in_region(session, store.SchoolRow, region)]
            ids = {s.id for s in schools}
            regions = {s.region for s in schools}

            def of(table: type[Base]) -> list[Any]:
                # Plain rows, not ORM objects: a region's lessons are a hundred thousand.
                columns = table.__table__
                query = select(columns)
                if region is not None:
                    query = query.where(columns.c.school_id.in_(ids))
                return [r for r in session.execute(query) if r.school_id in ids]

            examiners = [
                records.examiner(r)
                for r in session.scalars(select(store.ExaminerRow))
                if r.region in regions
            ]
            return Snapshot(
                as_of=as_of or kazakhstan_today(),
                schools=tuple(schools),
                branches=tuple(records.branch(r) for r in of(store.BranchRow)),
                instructors=tuple(records.instructor(r) for r in of(store.InstructorRow)),
                vehicles=tuple(records.vehicle(r) for r in of(store.VehicleRow)),
                examiners=tuple(examiners),
                cadets=tuple(records.cadet(r) for r in of(store.CadetRow)),
                lessons=tuple(records.lesson(r) for r in of(store.LessonRow)),
                exams=tuple(records.exam(r) for r in of(store.ExamRow)),
                graduates=tuple(records.graduate(r) for r in of(store.GraduateRow)),
                complaints=tuple(records.complaint(r) for r in of(store.ComplaintRow)),
            )

    def regions(self) -> list[str]:
        with self._db.reader() as session:
            return sorted(set(session.scalars(select(store.SchoolRow.region))))

    # Scores ---------------------------------------------------------------------------

    def ranking(self, *, actor: Principal, region: str | None = None) -> list[views.RankedSchool]:
        """Every school's score with its evidence: ranked ones by rank, then the rest."""
        actor.require(Permission.SCHOOLS_READ)
        with self._db.reader() as session:
            open_flags = Counter(
                session.scalars(
                    select(store.FlagRow.school_id).where(store.FlagRow.status == "open")
                )
            )
        return [
            replace(r, open_flags=open_flags.get(r.score.subject_id, 0))
            for r in self._scores(region)
        ]

    def public_ratings(self, region: str | None = None) -> list[views.PublicRating]:
        """The ratings for the public page: schools only — no instructor, cadet or examiner."""
        rows = []
        for ranked in self._scores(region):
            state = next((c for c in ranked.score.components if c.name == "state_practice"), None)
            rows.append(
                views.PublicRating(
                    rank=ranked.score.rank,
                    name=ranked.name,
                    region=ranked.region,
                    score=_rounded(ranked.score.score),
                    low=_rounded(ranked.score.interval.low if ranked.score.interval else None),
                    high=_rounded(ranked.score.interval.high if ranked.score.interval else None),
                    state_first_attempt_pass=_rounded(state.estimate if state else None),
                    first_attempts=int(state.n) if state else 0,
                    status=ranked.score.status,
                )
            )
        return rows

    def _scores(self, region: str | None) -> list[views.RankedSchool]:
        data = self.snapshot(region=region)
        names = {s.id: s for s in data.schools}
        return [
            views.RankedSchool(name=names[s.subject_id].name, region=names[s.subject_id].region,
                         score=s, open_flags=0)
            for s in score_schools(data=data)
        ]  # fmt: skip

    # Flags and inspections ------------------------------------------------------------

    def check(self, *, actor: Principal, region: str | None = None) -> views.CheckStats:
        """Run the anomaly checks and store what they find (audited)."""
        actor.require(Permission.SCHOOLS_INSPECT)
        data = self.snapshot(region=region)
        found = detect_all(data=data)
        regions = {s.id: s.region for s in data.schools}
        examiner_regions = {e.id: e.region for e in data.examiners}
        now = utcnow()
        new = 0
        with self._db.unit_of_work() as session:
            for flag in found:
                # One subject can be flagged twice for one kind (two overlaps of one
                # instructor): the reason tells them apart and is stable across runs.
                digest = hashlib.sha1(flag.reason.encode(), usedforsecurity=False).hexdigest()
                key = f"{flag.kind}:{flag.subject_kind}:{flag.subject_id}"[:180] + ":" + digest[:12]
                row = session.scalar(select(store.FlagRow).where(store.FlagRow.key == key))
                if row is None:
                    row = store.FlagRow(key=key, first_found=now, status="open")
                    session.add(row)
                    new += 1
                region = regions.get(flag.school_id or "") or examiner_regions.get(
                    flag.subject_id, ""
                )
                row.kind, row.subject_kind, row.subject_id = (
                    flag.kind, flag.subject_kind, flag.subject_id,
                )  # fmt: skip
                row.school_id, row.region, row.severity = flag.school_id, region, flag.severity
                row.reason, row.evidence, row.last_found = flag.reason, _plain(flag), now
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="check",
                            resource_type="school_registry", resource_id=region or "all",
                            details={"found": len(found), "new": new}),
                session=session,
            )  # fmt: skip
        return views.CheckStats(
            found=len(found), new=new, by_kind=dict(Counter(f.kind for f in found))
        )

    def flags(
        self, *, actor: Principal, school_id: str | None = None, status: str | None = None
    ) -> list[views.FlagView]:
        """Stored flags, most severe first (audited: they name instructors and cadets)."""
        actor.require(Permission.SCHOOLS_READ)
        query = select(store.FlagRow)
        if school_id is not None:
            query = query.where(store.FlagRow.school_id == school_id)
        if status is not None:
            query = query.where(store.FlagRow.status == status)
        with self._db.unit_of_work() as session:
            rows = list(session.scalars(query))
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="view",
                            resource_type="school_flags", resource_id=school_id or "all",
                            details={"count": len(rows)}),
                session=session,
            )  # fmt: skip
            order = {"high": 0, "medium": 1, "low": 2}
            rows.sort(key=lambda r: (order.get(r.severity, 3), r.kind, r.subject_id))
            return [views.flag_view(r) for r in rows]

    def school(self, *, actor: Principal, school_id: str) -> dict[str, object]:
        """One school: its record, score with evidence, flags and inspections."""
        actor.require(Permission.SCHOOLS_READ)
        with self._db.reader() as session:
            row = session.get(store.SchoolRow, school_id)
            if row is None:
                raise NotFoundError(f"no school {school_id!r}")
            region = row.region
            inspections = [
                views.inspection_view(i)
                for i in session.scalars(
                    select(store.InspectionRow)
                    .where(store.InspectionRow.school_id == school_id)
                    .order_by(store.InspectionRow.inspected_on.desc(), store.InspectionRow.id)
                )
            ]
        ranked = next(r for r in self.ranking(actor=actor, region=region)
                      if r.score.subject_id == school_id)  # fmt: skip
        return {
            "school": asdict(records.school(row)),
            "ranked": asdict(ranked),
            "flags": [asdict(f) for f in self.flags(actor=actor, school_id=school_id)],
            "inspections": [asdict(i) for i in inspections],
        }

    def inspect(
        self, *, actor: Principal, school_id: str, inspected_on: date, findings: str,
        sanction: str, fine_tenge: int | None = None, flag_ids: Iterable[int] = (),
    ) -> views.InspectionView:  # fmt: skip
        """Record an inspection; the flags it took up are marked ``inspected`` (audited).

        Raises:
            NotFoundError: no such school or flag.
            InvalidInputError: an unknown sanction, a fine without an amount (or an amount
                without a fine), empty findings, a date in the future, a flag of another school.
            ConflictError: a flag already dealt with.
        """
        actor.require(Permission.SCHOOLS_INSPECT)
        findings = findings.strip()
        if not 1 <= len(findings) <= 10_000:
            raise InvalidInputError("findings must be 1–10,000 characters")
        if sanction not in SANCTIONS:
            raise InvalidInputError(f"sanction must be one of {', '.join(SANCTIONS)}")
        if (sanction == "fine") != (fine_tenge is not None):
            raise InvalidInputError("a fine needs its amount in tenge, and only a fine has one")
        if fine_tenge is not None and not 0 < fine_tenge <= 100_000_000:
            raise InvalidInputError("fine_tenge must be above 0")
        if inspected_on > kazakhstan_today():
            raise InvalidInputError("an inspection cannot be dated in the future")
        ids = sorted(set(flag_ids))
        with self._db.unit_of_work() as session:
            if session.get(store.SchoolRow, school_id) is None:
                raise NotFoundError(f"no school {school_id!r}")
            flags = list(session.scalars(select(store.FlagRow).where(store.FlagRow.id.in_(ids))))
            missing = set(ids) - {f.id for f in flags}
            if missing:
                raise NotFoundError(f"no flag {', '.join(map(str, sorted(missing)))}")
            for flag in flags:
                if flag.school_id != school_id:
                    raise InvalidInputError(f"flag {flag.id} is about another school")
                if flag.status != "open":
                    raise ConflictError(f"flag {flag.id} is already {flag.status}")
            row = store.InspectionRow(
                school_id=school_id, inspected_on=inspected_on, inspector=actor.username,
                findings=findings, sanction=sanction, fine_tenge=fine_tenge, flag_ids=ids,
            )  # fmt: skip
            session.add(row)
            session.flush()
            for flag in flags:
                flag.status, flag.inspection_id = "inspected", row.id
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="inspect",
                            resource_type="school", resource_id=school_id,
                            details={"inspection": row.id, "sanction": sanction,
                                     "flags": ids}),
                session=session,
            )  # fmt: skip
            return views.inspection_view(row)

    def dismiss(self, *, actor: Principal, flag_id: int, reason: str) -> views.FlagView:
        """Close a flag without an inspection, with the reason (audited)."""
        actor.require(Permission.SCHOOLS_INSPECT)
        reason = reason.strip()
        if not 3 <= len(reason) <= 2000:
            raise InvalidInputError("say why the flag is dismissed (3–2,000 characters)")
        with self._db.unit_of_work() as session:
            flag = session.get(store.FlagRow, flag_id)
            if flag is None:
                raise NotFoundError(f"no flag {flag_id}")
            if flag.status != "open":
                raise ConflictError(f"flag {flag_id} is already {flag.status}")
            flag.status = "dismissed"
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="dismiss",
                            resource_type="school_flag", resource_id=str(flag_id),
                            details={"reason": reason}),
                session=session,
            )  # fmt: skip
            return views.flag_view(flag)

    def clear(self) -> None:
        """Remove every record (tests and the demo's reset)."""
        with self._db.unit_of_work() as session:
            for table in (store.FlagRow, store.InspectionRow, store.SchoolRow, store.ExaminerRow):
                session.execute(delete(table))


# Rows and records -------------------------------------------------------------------------


def _check_unique(kind: str, table: type[Base], batch: Sequence[records.Values]) -> None:
    """Refuse a batch that gives one id twice (its bulk insert would fail half-way).

    Raises:
        InvalidInputError: naming the kind and the id.
    """
    (key,) = cast(Table, table.__table__).primary_key.columns
    seen: set[object] = set()
    for row in batch:
        value = row[key.name]
        if value in seen:
            raise InvalidInputError(f"{kind}: id {value!r} is given twice")
        seen.add(value)


def _replace(session: Session, table: type[Base], batch: Sequence[records.Values]) -> None:
    """Store ``batch`` (rows of ``table``), replacing rows with the same keys: a delete and a
    bulk insert, in chunks (a region's lessons are a hundred thousand rows)."""
    columns = cast(Table, table.__table__)
    (key,) = columns.primary_key.columns
    for start in range(0, len(batch), CHUNK):
        chunk = batch[start : start + CHUNK]
        session.execute(delete(columns).where(key.in_([row[key.name] for row in chunk])))
        session.execute(insert(columns), chunk)


def _in_region(
    session: Session, table: type[store.SchoolRow], region: str | None
) -> list[store.SchoolRow]:
    query = select(table).order_by(table.id)
    if region is not None:
        query = query.where(table.region == region)
    return list(session.scalars(query))


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 3)


def _plain(flag: Flag) -> dict[str, object]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in flag.evidence.items()}
