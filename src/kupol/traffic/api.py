"""Traffic API: the review queue and its evidence (audited, with a stated purpose), decisions
(approve with a keyed signature, reject with a reason), rejection counts per rule and camera,
the vehicle registry import, notices and their payments, controllers' signal phases, and the
crossings' dashboards."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from fastapi import Path as FastapiPath
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser, Why, require
from kupol.core.auth import Permission, Principal
from kupol.core.errors import InvalidInputError
from kupol.traffic.review import MAX_PAGE, REJECT_REASONS

router = APIRouter(prefix="/api/traffic", tags=["traffic"])
Reader = Annotated[Principal, Depends(require(Permission.VIOLATIONS_READ))]
Reviewer = Annotated[Principal, Depends(require(Permission.VIOLATIONS_REVIEW))]
Analyst = Annotated[Principal, Depends(require(Permission.TRAFFIC_STATS))]
MAX_CSV_BYTES = 100 * 1024 * 1024


@router.get("/violations")
def list_violations(
    container: ContainerDep,
    user: Reader,
    why: Why,
    status: Literal["pending", "approved", "rejected"] = "pending",
    camera_id: str | None = Query(None, max_length=64),
    offence: str | None = Query(None, max_length=60),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The review queue (pending, oldest first) or decided violations (newest first)."""
    total, found = container.traffic.review.queue(
        actor=user,
        why=why,
        status=status,
        camera_id=camera_id,
        offence=offence,
        limit=limit,
        offset=offset,
    )
    return {"total": total, "items": [asdict(v) for v in found]}


@router.get("/violations/{violation_id}")
def get_violation(
    violation_id: int, container: ContainerDep, user: Reader, why: Why
) -> dict[str, Any]:
    """One violation with its qualification and evidence list (audited)."""
    return asdict(container.traffic.review.get(violation_id=violation_id, actor=user, why=why))


@router.get("/violations/{violation_id}/evidence/{index}", response_class=Response)
def violation_evidence(
    violation_id: int, index: int, container: ContainerDep, user: Reader, why: Why
) -> Response:
    """One evidence file (frame, plate crop, clip); ``X-Evidence-Intact`` says whether it
    still has the SHA-256 recorded when it was made. Audited."""
    data, media_type, intact = container.traffic.review.evidence(
        violation_id=violation_id, index=index, actor=user, why=why
    )
    return Response(
        data,
        media_type=media_type,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Evidence-Intact": "true" if intact else "false",
        },
    )


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    plate: str | None = Field(
        None,
        max_length=20,
        description="The plate read from the evidence, if the camera's is wrong or missing.",
    )
    note: str | None = Field(None, max_length=2000)


@router.post("/violations/{violation_id}/approve")
def approve_violation(
    violation_id: int, body: Approval, container: ContainerDep, user: Reviewer
) -> dict[str, Any]:
    """Approve and sign; the notice to the registered owner is made at once."""
    view = container.traffic.review.approve(
        violation_id=violation_id, actor=user, plate=body.plate or None, note=body.note
    )
    return asdict(view)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Literal[REJECT_REASONS]  # type: ignore[valid-type]
    note: str | None = Field(None, max_length=2000)


@router.post("/violations/{violation_id}/reject")
def reject_violation(
    violation_id: int, body: Rejection, container: ContainerDep, user: Reviewer
) -> dict[str, Any]:
    """Reject with a reason (counted per rule and camera)."""
    view = container.traffic.review.reject(
        violation_id=violation_id, actor=user, reason=body.reason, note=body.note
    )
    return asdict(view)


@router.get("/violations/{violation_id}/verify")
def verify_violation(violation_id: int, container: ContainerDep, user: Reader) -> dict[str, Any]:
    """Check the signed decision and the evidence files against it."""
    return container.traffic.review.verify(violation_id=violation_id, actor=user)


@router.get("/stats")
def review_stats(
    container: ContainerDep,
    user: Analyst,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> list[dict[str, Any]]:
    """Per rule and camera: pending, approved, rejected, rejections by reason."""
    return [
        {**asdict(s), "rejected_share": s.rejected_share}
        for s in container.traffic.review.stats(actor=user, since=since, until=until)
    ]


@router.get("/legal")
def legal_table(container: ContainerDep, user: Analyst) -> dict[str, Any]:
    """The legal table in force: articles, fines, MRP by date, the discount."""
    return container.traffic.legal.model_dump(mode="json", by_alias=True)


@router.post("/registry/import")
async def import_registry(
    container: ContainerDep,
    user: CurrentUser,
    file: Annotated[
        UploadFile, File(description="CSV: plate,owner_name,owner_id,address[,make][,colour]")
    ],
) -> dict[str, Any]:
    """Add or update registered owners; bad rows come back with line and reason. Notices
    waiting for these owners are issued."""
    user.require(Permission.VEHICLE_REGISTRY)
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInputError(f"the file is larger than {MAX_CSV_BYTES // 2**20} MB")
    report = await asyncio.to_thread(container.traffic.registry.import_csv, data=data, actor=user)
    return {
        "added": report.added,
        "updated": report.updated,
        "notices_issued": report.notices_issued,
        "rejected": [{"line": line, "reason": reason} for line, reason in report.rejected],
    }


@router.get("/registry/{plate}")
def registered_owner(
    plate: Annotated[str, FastapiPath(max_length=20)],
    container: ContainerDep,
    user: Reader,
    why: Why,
) -> dict[str, Any]:
    """A plate's registered owner (audited)."""
    return asdict(container.traffic.registry.owner(plate=plate, actor=user, why=why))


@router.get("/notices")
def list_notices(
    container: ContainerDep,
    user: Reader,
    why: Why,
    status: Literal["issued", "owner_unknown"] | None = None,
    payment: Literal["unpaid", "paid", "cancelled", "refunded"] | None = None,
    plate: str | None = Query(None, max_length=20),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """Notices, newest first (audited)."""
    total, found = container.traffic.notices.list(
        actor=user, why=why, status=status, payment=payment, plate=plate, limit=limit, offset=offset
    )
    return {"total": total, "items": [asdict(n) for n in found]}


@router.get("/notices/{notice_id}")
def get_notice(notice_id: int, container: ContainerDep, user: Reader, why: Why) -> dict[str, Any]:
    """One notice (audited)."""
    return asdict(container.traffic.notices.get(notice_id=notice_id, actor=user, why=why))


@router.get("/notices/{notice_id}/letter.html", response_class=Response)
def notice_letter(notice_id: int, container: ContainerDep, user: Reader, why: Why) -> Response:
    """The printable notice to the owner (HTML; audited)."""
    page = container.traffic.notices.letter(notice_id=notice_id, actor=user, why=why)
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


class Payment(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Literal["paid", "cancelled"]
    reference: str = Field(
        min_length=3, max_length=120, description="Payment reference, or why it is cancelled."
    )
    amount_tenge: int | None = Field(None, gt=0, le=100_000_000)
    paid_on: date | None = None


@router.put("/notices/{notice_id}/payment")
def record_payment(
    notice_id: int, body: Payment, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """The payment gateway's (or an officer's) report: paid; or cancelled, by an officer.
    The answer is a receipt without the owner (read the notice for that, with a purpose)."""
    view = container.traffic.notices.record_payment(
        notice_id=notice_id,
        actor=user,
        status=body.status,
        reference=body.reference,
        amount_tenge=body.amount_tenge,
        paid_on=body.paid_on,
    )
    return {
        "id": view.id,
        "number": view.number,
        "payment": view.payment,
        "paid_tenge": view.paid_tenge,
        "paid_on": view.paid_on,
        "payment_reference": view.payment_reference,
    }


class Refund(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=120,
                        description="The decision that quashed the resolution.")  # fmt: skip
    refunded_on: date


@router.post("/notices/{notice_id}/refund")
def refund(
    notice_id: int, body: Refund, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """A paid fine refunded, its resolution quashed (an officer): a citizen's reward for it is
    taken back."""
    view = container.traffic.notices.refund(notice_id=notice_id, actor=user, reason=body.reason,
                                            refunded_on=body.refunded_on)  # fmt: skip
    return {"id": view.id, "number": view.number, "payment": view.payment,
            "paid_tenge": view.paid_tenge, "payment_reference": view.payment_reference}  # fmt: skip


class PhaseReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phase: Literal["green", "amber", "red", "red_amber", "off", "flashing_amber"]
    at: AwareDatetime


@router.post("/signals/{signal_id}", status_code=204)
def report_phase(
    signal_id: str, body: PhaseReport, container: ContainerDep, user: CurrentUser
) -> Response:
    """A traffic-light controller reports a phase change."""
    user.require(Permission.SIGNALS_REPORT)
    container.traffic.signals.report(signal_id=signal_id, phase=body.phase, at=body.at)
    return Response(status_code=204)


@router.get("/signals")
def signal_phases(container: ContainerDep, user: Analyst) -> dict[str, str | None]:
    """Every known signal's phase now."""
    from kupol.core.messages import utcnow

    return container.traffic.signals.phases(utcnow())


@router.get("/crossings")
def list_crossings(container: ContainerDep, user: Analyst) -> list[dict[str, Any]]:
    """Crossings that have counted something."""
    return container.traffic.dashboard.crossings(actor=user)


@router.get("/crossings/{crossing_id}/dashboard")
def crossing_dashboard(
    crossing_id: str,
    container: ContainerDep,
    user: Analyst,
    first: date | None = None,
    last: date | None = None,
) -> dict[str, Any]:
    """Pedestrians, vehicles, near misses and activations per local hour and day (default:
    the last 7 days)."""
    today = datetime.now(container.traffic.zone).date()
    from datetime import timedelta

    end = last or today
    start = first or end - timedelta(days=6)
    return container.traffic.dashboard.report(
        crossing_id=crossing_id, first=start, last=end, actor=user
    )


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: tuple[float, float] = Field(description="(x, y) fractions of the frame.")
    ground: tuple[float, float] = Field(description="(east, north) metres on the road.")


class CalibrationCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marks: list[MarkIn] = Field(min_length=1, max_length=64)


@router.post("/calibration/check")
def check_calibration(
    body: CalibrationCheck, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Fit a calibration to marks without saving it: its RMS error and each mark's error in
    metres (a mark far off its place is a clicking or measuring mistake)."""
    user.require(Permission.CAMERAS_WRITE)
    from kupol.traffic.calibration import Calibration, MarkedPoint
    from kupol.traffic.config import to_units

    marks = [MarkedPoint(image=to_units(m.image), ground=m.ground) for m in body.marks]
    fitted = Calibration.fit(marks)
    errors = [
        round(
            float(
                sum((a - b) ** 2 for a, b in zip(fitted.to_ground(m.image), m.ground, strict=True))
                ** 0.5
            ),
            3,
        )
        for m in marks
    ]
    return {"rms_m": round(fitted.rms_m, 3), "errors_m": errors, "marks": len(marks)}
