"""Registry records (:mod:`kupol.schools.model`) to and from their rows
(:mod:`kupol.schools.store`)."""

from __future__ import annotations

from typing import Any, cast

from kupol.schools import store
from kupol.schools.model import (
    Branch,
    Cadet,
    Category,
    Complaint,
    ExamAttempt,
    Examiner,
    GraduateRecord,
    Instructor,
    Lesson,
    School,
    Vehicle,
)

Values = dict[str, Any]
"""A row as its columns' values: the bulk tables are inserted from these (a region's lessons
are a hundred thousand; building ORM objects for them took half of an import's time)."""


def school_row(s: School) -> store.SchoolRow:
    return store.SchoolRow(
        id=s.id,
        name=s.name,
        region=s.region,
        licence_no=s.licence_no,
        registered_on=s.registered_on,
        categories=list(s.categories),
    )


def school(r: store.SchoolRow) -> School:
    return School(
        id=r.id,
        name=r.name,
        region=r.region,
        licence_no=r.licence_no,
        registered_on=r.registered_on,
        categories=cast("tuple[Category, ...]", tuple(r.categories)),
    )


def branch_row(b: Branch) -> Values:
    return dict(id=b.id, school_id=b.school_id, address=b.address, lat=b.place[0], lon=b.place[1])


def branch(r: store.BranchRow) -> Branch:
    return Branch(id=r.id, school_id=r.school_id, address=r.address, place=(r.lat, r.lon))


def instructor_row(i: Instructor) -> Values:
    return dict(id=i.id, school_id=i.school_id, name=i.name, categories=list(i.categories))


def instructor(r: store.InstructorRow) -> Instructor:
    categories = cast("tuple[Category, ...]", tuple(r.categories))
    return Instructor(id=r.id, school_id=r.school_id, name=r.name, categories=categories)


def vehicle_row(v: Vehicle) -> Values:
    return dict(id=v.id, school_id=v.school_id, plate=v.plate, category=v.category)


def vehicle(r: store.VehicleRow) -> Vehicle:
    category = cast("Category", r.category)
    return Vehicle(id=r.id, school_id=r.school_id, plate=r.plate, category=category)


def examiner_row(e: Examiner) -> Values:
    return dict(id=e.id, region=e.region, name=e.name)


def examiner(r: store.ExaminerRow) -> Examiner:
    return Examiner(id=r.id, region=r.region, name=r.name)


def cadet_row(c: Cadet) -> Values:
    return dict(
        id=c.id,
        school_id=c.school_id,
        category=c.category,
        registered_on=c.registered_on,
        instructor_id=c.instructor_id,
        licence_no=c.licence_no,
    )


def cadet(r: store.CadetRow) -> Cadet:
    return Cadet(
        id=r.id,
        school_id=r.school_id,
        category=cast("Category", r.category),
        registered_on=r.registered_on,
        instructor_id=r.instructor_id,
        licence_no=r.licence_no,
    )


def lesson_row(lesson: Lesson) -> Values:
    end = lesson.end_place
    return dict(
        id=lesson.id,
        school_id=lesson.school_id,
        cadet_id=lesson.cadet_id,
        instructor_id=lesson.instructor_id,
        vehicle_id=lesson.vehicle_id,
        kind=lesson.kind,
        start=lesson.start,
        end=lesson.end,
        start_lat=lesson.start_place[0],
        start_lon=lesson.start_place[1],
        end_lat=end[0] if end else None,
        end_lon=end[1] if end else None,
    )


def lesson(r: store.LessonRow) -> Lesson:
    end = (r.end_lat, r.end_lon) if r.end_lat is not None and r.end_lon is not None else None
    return Lesson(
        id=r.id,
        school_id=r.school_id,
        cadet_id=r.cadet_id,
        instructor_id=r.instructor_id,
        kind=cast("Any", r.kind),
        start=r.start,
        end=r.end,
        start_place=(r.start_lat, r.start_lon),
        end_place=end,
        vehicle_id=r.vehicle_id,
    )


def exam_row(e: ExamAttempt) -> Values:
    return dict(
        id=e.id,
        school_id=e.school_id,
        cadet_id=e.cadet_id,
        kind=e.kind,
        stage=e.stage,
        attempt=e.attempt,
        passed=e.passed,
        taken_at=e.taken_at,
        examiner_id=e.examiner_id,
    )


def exam(r: store.ExamRow) -> ExamAttempt:
    return ExamAttempt(
        id=r.id,
        cadet_id=r.cadet_id,
        school_id=r.school_id,
        kind=cast("Any", r.kind),
        stage=cast("Any", r.stage),
        attempt=r.attempt,
        passed=r.passed,
        taken_at=r.taken_at,
        examiner_id=r.examiner_id,
    )


def graduate_row(g: GraduateRecord) -> Values:
    return dict(
        cadet_id=g.cadet_id,
        school_id=g.school_id,
        licence_no=g.licence_no,
        licensed_on=g.licensed_on,
        exposure_years=g.exposure_years,
        violations=g.violations,
        accidents=g.accidents,
    )


def graduate(r: store.GraduateRow) -> GraduateRecord:
    return GraduateRecord(
        cadet_id=r.cadet_id,
        school_id=r.school_id,
        licence_no=r.licence_no,
        licensed_on=r.licensed_on,
        exposure_years=r.exposure_years,
        violations=r.violations,
        accidents=r.accidents,
    )


def complaint_row(c: Complaint) -> Values:
    return dict(
        id=c.id,
        school_id=c.school_id,
        received_on=c.received_on,
        upheld=c.upheld,
        instructor_id=c.instructor_id,
    )


def complaint(r: store.ComplaintRow) -> Complaint:
    return Complaint(
        id=r.id,
        school_id=r.school_id,
        received_on=r.received_on,
        upheld=r.upheld,
        instructor_id=r.instructor_id,
    )
