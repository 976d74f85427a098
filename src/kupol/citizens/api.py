"""The citizens' API (the portal's): a code by text, login with it, reports with their photos
and videos, one's own reports. Asking for a code and logging in need no account."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from kupol.api.auth import set_session_cookies
from kupol.api.deps import ContainerDep, Why, client_of, require
from kupol.citizens.open_data import to_csv
from kupol.citizens.reports import Media
from kupol.core.auth import Permission, Principal
from kupol.core.errors import InvalidInputError

router = APIRouter(prefix="/api/citizen", tags=["citizens"])
public_router = APIRouter(prefix="/api/public", tags=["public"])
review_router = APIRouter(prefix="/api/citizens", tags=["citizens"])
Citizen = Annotated[Principal, Depends(require(Permission.CITIZEN_REPORT))]
Reviewer = Annotated[Principal, Depends(require(Permission.CITIZEN_REVIEW))]


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=5, max_length=32, examples=["+7 701 123 45 67"])
    device_id: str = Field(min_length=8, max_length=64)


class LoginIn(CodeIn):
    code: str = Field(min_length=4, max_length=8)


@router.post("/code")
def send_code(body: CodeIn, request: Request, container: ContainerDep) -> dict[str, Any]:
    """Text a login code to a Kazakhstan mobile number (a few an hour per phone and device)."""
    sent = container.citizens.accounts.send_code(phone=body.phone, device=body.device_id,
                                                 client=client_of(request))  # fmt: skip
    return asdict(sent)


@router.post("/login")
def login(
    body: LoginIn, request: Request, response: Response, container: ContainerDep
) -> dict[str, str]:
    """Log in (signing up the first time) with the code; the token comes back and in cookies."""
    result = container.citizens.accounts.verify(phone=body.phone, code=body.code,
                                                device=body.device_id,
                                                client=client_of(request))  # fmt: skip
    security = container.settings.security
    set_session_cookies(response, token=result.token, secure=security.cookie_secure,
                        max_age=security.token_ttl_minutes * 60)  # fmt: skip
    return {"access_token": result.token, "token_type": "bearer"}


@router.post("/reports", status_code=201)
async def submit(
    container: ContainerDep,
    citizen: Citizen,
    kind: Annotated[str, Form()],
    description: Annotated[str, Form(max_length=4000)],
    device_id: Annotated[str, Form(max_length=64)],
    files: Annotated[list[UploadFile], File(description="1 to 5 photos or videos")],
    occurred_at: Annotated[datetime | None, Form(description="Default: the media's time.")] = None,
    lat: Annotated[float | None, Form(description="Default: the media's place.")] = None,
    lon: Annotated[float | None, Form()] = None,
) -> dict[str, Any]:
    """Report what happened, with photos or videos (kept as evidence from the first byte)."""
    limit = container.settings.citizens.max_media_mb << 20
    media = []
    for upload in files[:6]:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise InvalidInputError(f"{upload.filename}: larger than {limit >> 20} MB")
        media.append(Media(filename=upload.filename or "upload",
                           media_type=upload.content_type or "", data=data))  # fmt: skip
    citizens = container.citizens
    citizen_id = citizens.accounts.citizen_id(citizen.user_id)
    view = citizens.reports.submit(
        actor=citizen, citizen_id=citizen_id, device=device_id, kind=kind,
        description=description, occurred_at=occurred_at, lat=lat, lon=lon, media=media,
    )  # fmt: skip
    return asdict(view)


@router.get("/reports")
def mine(container: ContainerDep, citizen: Citizen) -> list[dict[str, Any]]:
    """One's own reports, newest first, with their status and reward."""
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    return [asdict(r) for r in container.citizens.reports.mine(actor=citizen,
                                                               citizen_id=citizen_id)]  # fmt: skip


@router.get("/reports/{report_id}")
def one(report_id: int, container: ContainerDep, citizen: Citizen) -> dict[str, Any]:
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    view = container.citizens.reports.one_of_mine(actor=citizen, citizen_id=citizen_id,
                                                  report_id=report_id)  # fmt: skip
    return asdict(view)


@router.get("/reports/{report_id}/media/{index}/preview", response_class=Response)
def media_preview(
    report_id: int, index: int, container: ContainerDep, citizen: Citizen
) -> Response:
    """One of one's own photos (a video: a still) as shown back: every face blurred, no
    metadata."""
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    shown = container.citizens.reports.preview(actor=citizen, citizen_id=citizen_id,
                                               report_id=report_id, index=index)  # fmt: skip
    return Response(shown.jpeg, media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=300",
                             "X-Faces-Blurred": str(shown.faces_blurred)})  # fmt: skip


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=10, max_length=2000)


@router.post("/reports/{report_id}/appeal")
def appeal(
    report_id: int, body: AppealIn, container: ContainerDep, citizen: Citizen
) -> dict[str, Any]:
    """Ask for a rejected report to be looked at again (once), saying why."""
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    view = container.citizens.review.appeal(actor=citizen, citizen_id=citizen_id,
                                            report_id=report_id, text=body.text)  # fmt: skip
    return asdict(view)


@review_router.get("/review")
def queue(container: ContainerDep, reviewer: Reviewer, why: Why) -> list[dict[str, Any]]:
    """Reports waiting for a decision — new and appealed — oldest first (audited, with the
    purpose)."""
    return [asdict(item) for item in container.citizens.review.queue(actor=reviewer, why=why)]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["confirmed", "rejected"]
    reason: str | None = Field(None, max_length=40)
    note: str = Field("", max_length=2000)
    plate: str | None = Field(None, max_length=20, description="The plate read from the media.")
    offence: str | None = Field(
        None, max_length=60, description="A traffic report: the offence (red_light …)."
    )


@review_router.post("/reports/{report_id}/decision")
def decide(
    report_id: int, body: DecisionIn, container: ContainerDep, reviewer: Reviewer
) -> dict[str, Any]:
    """Confirm a report or reject it with one of the reasons."""
    view = container.citizens.review.decide(actor=reviewer, report_id=report_id,
                                            outcome=body.outcome, reason=body.reason,
                                            note=body.note, plate=body.plate,
                                            offence=body.offence)  # fmt: skip
    return asdict(view)


class OverturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=40)
    note: str = Field(min_length=10, max_length=2000)
    on: date | None = Field(None, description="The ledger's day (default: today).")


@review_router.post("/reports/{report_id}/overturn")
def overturn(
    report_id: int, body: OverturnIn, container: ContainerDep, reviewer: Reviewer
) -> dict[str, Any]:
    """Reject a confirmed report after all: its case settled again, its reward taken back."""
    on = body.on or container.traffic.notices.today()
    view = container.citizens.review.overturn(actor=reviewer, report_id=report_id,
                                              reason=body.reason, note=body.note,
                                              on=on)  # fmt: skip
    return asdict(view)


Payer = Annotated[Principal, Depends(require(Permission.CITIZEN_PAYOUTS))]


class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date


@review_router.post("/payouts")
def payout(body: PayoutIn, container: ContainerDep, payer: Payer) -> dict[str, Any]:
    """A batch of every citizen owed at least the minimum, with its CSV for the provider."""
    batch, csv = container.citizens.rewards.payout_batch(actor=payer, on=body.on)
    return {"batch": asdict(batch), "csv": csv}


class SettlementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date
    paid: list[str] = Field(default_factory=list, max_length=100_000)
    failed: list[str] = Field(default_factory=list, max_length=100_000)


@review_router.post("/payouts/{batch_ref}/settlement")
def settle(
    batch_ref: str, body: SettlementIn, container: ContainerDep, payer: Payer
) -> dict[str, Any]:
    """The provider's answer: the lines paid and those that failed (back to payable)."""
    settled = container.citizens.rewards.settle(actor=payer, batch_ref=batch_ref,
                                                paid=body.paid, failed=body.failed,
                                                on=body.on)  # fmt: skip
    return asdict(settled)


@review_router.get("/ledger/reconcile")
def reconcile(container: ContainerDep, payer: Payer) -> dict[str, Any]:
    """Every invariant of the rewards ledger checked (an empty ``problems`` list: it holds)."""
    report = container.citizens.rewards.reconcile(actor=payer)
    return {**asdict(report), "ok": report.ok}


Period = Annotated[str, Query(max_length=7, description="2026, 2026-03, 2026-Q1 or 2026-H1")]


@public_router.get("/citizen-statistics")
def public_statistics(container: ContainerDep, period: Period) -> dict[str, Any]:
    """Citizens' reports and their outcomes per region, as open data: no person in them, small
    counts withheld; beside the official crime figures of the period where imported (no
    login)."""
    return asdict(container.citizens.statistics.of(period))


@public_router.get("/citizen-statistics.csv")
def public_statistics_csv(container: ContainerDep, period: Period) -> Response:
    """The same figures as CSV, one row per region and kind (no login)."""
    figures = container.citizens.statistics.of(period)
    return Response(
        to_csv(figures.reports), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="citizen-reports-{period}.csv"'},
    )  # fmt: skip
