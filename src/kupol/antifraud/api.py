"""Anti-fraud API: banks ask about transfers and report the payer's answer; fraud analysts see
the holds (audited) and their totals, and keep the mule list."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.antifraud.calls import reason_texts
from kupol.antifraud.holds import TransferRequest, summary_dict
from kupol.antifraud.screening import CallAttempt, Screened
from kupol.antifraud.transfers import TransferKind
from kupol.antifraud.voiceprints import MAX_BYTES, SOURCES, VoiceCheck
from kupol.api.deps import ContainerDep, Why, require
from kupol.core.auth import Permission, Principal
from kupol.core.errors import InvalidInputError
from kupol.core.messages import utcnow

if TYPE_CHECKING:
    from kupol.bootstrap import Container

router = APIRouter(prefix="/api/antifraud", tags=["anti-fraud"])
Bank = Annotated[Principal, Depends(require(Permission.TRANSFERS_CHECK))]
Analyst = Annotated[Principal, Depends(require(Permission.TRANSFERS_READ))]
MuleKeeper = Annotated[Principal, Depends(require(Permission.MULES_MANAGE))]
Amount = Annotated[float, Field(allow_inf_nan=False)]


class TransferIn(BaseModel):
    """A transfer the bank is about to execute."""

    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=64, description="The bank's own reference.")
    kind: TransferKind
    amount: Amount = Field(gt=0, le=1e13)
    currency: str = Field("KZT", min_length=3, max_length=3)
    payer: str = Field(min_length=1, max_length=64, description="The payer's account.")
    payer_balance: Amount = Field(description="The payer's balance before the transfer.")
    payee: str = Field(min_length=1, max_length=64, description="The payee's account.")
    payee_balance: Amount | None = None
    at: AwareDatetime | None = Field(None, description="The transfer's time (default: now).")
    payer_phone: str | None = Field(
        None, min_length=5, max_length=32, description="The payer's phone: calls to it count."
    )


class Resolution(BaseModel):
    """The payer's answer, or the bank's."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["confirmed", "cancelled"]
    note: str | None = Field(None, max_length=500)


class MuleIn(BaseModel):
    """An account for the mule list."""

    model_config = ConfigDict(extra="forbid")

    account: str = Field(min_length=1, max_length=64)
    kind: Literal["known", "suspected"]
    source: str = Field(min_length=3, max_length=120, description="A case, a report, a notice.")
    note: str | None = Field(None, max_length=1000)
    expires_at: AwareDatetime | None = None


@router.post("/transfers/check")
def check_transfer(body: TransferIn, container: ContainerDep, bank: Bank) -> dict[str, Any]:
    """Allow or hold a transfer, with the reasons and the hold period. Asking again with the
    same reference returns the same decision."""
    decision = container.antifraud.holds.check(
        actor=bank,
        request=TransferRequest(
            bank_ref=body.ref, kind=body.kind, amount=body.amount, currency=body.currency,
            payer=body.payer, payer_balance=body.payer_balance, payee=body.payee,
            payee_balance=body.payee_balance, at=body.at, payer_phone=body.payer_phone,
        ),
    )  # fmt: skip
    container.metrics.decision(f"transfer_{decision.decision}")
    return asdict(decision)


@router.post("/transfers/{check_id}/resolution")
def resolve_transfer(
    check_id: int, body: Resolution, container: ContainerDep, bank: Bank
) -> dict[str, Any]:
    """The payer confirmed the held transfer (it is released) or it was cancelled."""
    view = container.antifraud.holds.resolve(
        actor=bank, check_id=check_id, outcome=body.outcome, note=body.note
    )
    return asdict(view)


@router.get("/transfers")
def list_transfers(
    container: ContainerDep,
    analyst: Analyst,
    why: Why,
    status: Literal["allowed", "held", "released", "cancelled"] | None = "held",
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Transfer checks, newest first; by default the holds waiting for an answer (audited)."""
    rows = container.antifraud.holds.holds(actor=analyst, why=why, status=status, limit=limit)
    return [asdict(r) for r in rows]


@router.get("/transfers/summary")
def transfers_summary(
    container: ContainerDep,
    analyst: Analyst,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> dict[str, Any]:
    """Checks, holds, released and cancelled ("protected") amounts per currency, reasons."""
    summary = container.antifraud.holds.summary(actor=analyst, since=since, until=until)
    return summary_dict(summary)


@router.get("/mules")
def list_mules(container: ContainerDep, keeper: MuleKeeper, why: Why) -> list[dict[str, Any]]:
    """The accounts on the mule list now (audited)."""
    return [asdict(m) for m in container.antifraud.mules.listed(actor=keeper, why=why)]


@router.post("/mules", status_code=201)
def add_mule(body: MuleIn, container: ContainerDep, keeper: MuleKeeper) -> dict[str, Any]:
    """Put an account on the mule list (or update its listing)."""
    view = container.antifraud.mules.add(
        actor=keeper, account=body.account, kind=body.kind, source=body.source,
        note=body.note, expires_at=body.expires_at,
    )  # fmt: skip
    return asdict(view)


@router.delete("/mules/{account}")
def remove_mule(
    account: str,
    container: ContainerDep,
    keeper: MuleKeeper,
    reason: Annotated[str, Query(min_length=3, max_length=500)],
) -> dict[str, Any]:
    """Take an account off the list (kept inactive for the record)."""
    return asdict(container.antifraud.mules.remove(actor=keeper, account=account, reason=reason))


class CallIn(BaseModel):
    """A call attempt as the switch sees it."""

    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=64)
    at: AwareDatetime | None = Field(None, description="The attempt's time (default: now).")
    caller: str = Field(min_length=1, max_length=32, description="As presented.")
    called: str = Field(min_length=1, max_length=32)
    international: bool = Field(False, description="Arrived on an international trunk.")
    network: str | None = Field(None, max_length=64, description="The originating network.")
    roaming: bool = Field(False, description="The operator's own subscriber, roaming abroad.")
    imsi: str | None = Field(None, max_length=16, pattern=r"^[0-9]{5,16}$")
    imei: str | None = Field(None, max_length=17, pattern=r"^[0-9]{8,17}$")
    cell: str | None = Field(None, max_length=64)

    def attempt(self) -> CallAttempt:
        """The attempt for the screen (now, if the switch gave no time)."""
        return CallAttempt(
            call_id=self.call_id, at=self.at or utcnow(), caller=self.caller, called=self.called,
            international=self.international, network=self.network, roaming=self.roaming,
            imsi=self.imsi, imei=self.imei, cell=self.cell,
        )  # fmt: skip


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answered: bool
    duration_s: float = Field(ge=0, le=86_400, allow_inf_nan=False)


class ListIn(BaseModel):
    """A number for the block or allow list."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=3, max_length=32)
    list: Literal["block", "allow"]
    source: str = Field(min_length=3, max_length=160, description="A case, a report, a contract.")
    note: str | None = Field(None, max_length=1000)
    expires_at: AwareDatetime | None = None


Switch = Annotated[Principal, Depends(require(Permission.CALLS_SCREEN))]
NumberReader = Annotated[Principal, Depends(require(Permission.NUMBERS_READ))]
NumberKeeper = Annotated[Principal, Depends(require(Permission.NUMBERS_MANAGE))]


@router.post("/calls/screen")
async def screen_call(body: CallIn, container: ContainerDep, switch: Switch) -> dict[str, Any]:
    """Allow, warn the callee, or block one call attempt, with the reasons. (A coroutine: the
    verdict is reached in memory and the request waits for its decision's group commit
    without holding a worker thread; with a Bearer token the request usually takes the short
    way, :mod:`kupol.antifraud.fastpath`, and answers the same.)"""
    return await screen_one(container, switch, body)


async def screen_one(container: Container, switch: Principal, call: CallIn) -> dict[str, Any]:
    """One call screened for a switch — its decision stored and counted — and the answer; the
    endpoint, its short way (:mod:`~kupol.antifraud.fastpath`) and the switches' port
    (:mod:`~kupol.antifraud.switchport`) all answer with it."""
    result = await container.antifraud.calls.screen_async(actor=switch, attempt=call.attempt())
    container.metrics.decision(f"call_{result.verdict.value}")
    return screen_answer(result)


class CallBatchIn(BaseModel):
    """Several call attempts in one request (a switch or border controller that gathers them)."""

    model_config = ConfigDict(extra="forbid")

    calls: list[CallIn] = Field(min_length=1, max_length=500)


@router.post("/calls/screen-batch")
async def screen_calls(
    body: CallBatchIn, container: ContainerDep, switch: Switch
) -> dict[str, Any]:
    """Up to 500 call attempts in one request, judged in order as if sent one by one; the
    verdicts come back in the same order."""
    results = await container.antifraud.calls.screen_batch_async(
        actor=switch, attempts=[c.attempt() for c in body.calls]
    )
    for r in results:
        container.metrics.decision(f"call_{r.verdict.value}")
    return {"results": [screen_answer(r) for r in results]}


ANSWER_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""How the switches' answers are written (one encoder: building one per answer cost as much
as writing it)."""


def screen_answer(result: Screened) -> dict[str, Any]:
    """What a switch is told about a screened call."""
    return {
        "call_id": result.call_id,
        "verdict": result.verdict.value,
        "reasons": reason_texts(result.reasons),
        "caller": result.caller.e164,
        "caller_kind": result.caller.kind.value,
    }


@router.post("/calls/{call_id}/outcome", status_code=204)
def call_outcome(call_id: str, body: OutcomeIn, container: ContainerDep, switch: Switch) -> None:
    """Whether a screened call was answered and for how long (the behaviour rules learn it)."""
    container.antifraud.calls.outcome(
        actor=switch, call_id=call_id, answered=body.answered, duration_s=body.duration_s
    )


@router.get("/numbers/{number}")
def look_up_number(
    number: str, container: ContainerDep, reader: NumberReader, why: Why
) -> dict[str, Any]:
    """A number: where it belongs, its list entries, its recent calls and verdicts (audited)."""
    return container.antifraud.calls.lookup(actor=reader, why=why, number=number)


@router.post("/numbers/lists", status_code=201)
def list_number(body: ListIn, container: ContainerDep, keeper: NumberKeeper) -> dict[str, Any]:
    """Put a number on the block or allow list, with its source and expiry."""
    view = container.antifraud.calls.add_to_list(
        actor=keeper, number=body.number, list_name=body.list, source=body.source,
        note=body.note, expires_at=body.expires_at,
    )  # fmt: skip
    return asdict(view)


@router.delete("/numbers/lists/{list_name}/{number}")
def unlist_number(
    list_name: Literal["block", "allow"],
    number: str,
    container: ContainerDep,
    keeper: NumberKeeper,
    reason: Annotated[str, Query(min_length=3, max_length=500)],
) -> dict[str, Any]:
    """Take a number off a list (kept inactive for the record)."""
    view = container.antifraud.calls.remove_from_list(
        actor=keeper, number=number, list_name=list_name, reason=reason
    )
    return asdict(view)


@router.get("/calls/summary")
def calls_summary(
    container: ContainerDep, reader: NumberReader, minutes: int = Query(60, ge=1, le=10_080)
) -> dict[str, Any]:
    """The screening dashboard: calls, verdicts, calls/s over the last minute, top reasons."""
    return container.antifraud.calls.summary(actor=reader, minutes=minutes)


@router.get("/groups")
def fraud_groups(
    container: ContainerDep, reader: NumberReader, why: Why, hours: int = Query(24, ge=1, le=744)
) -> list[dict[str, Any]]:
    """Organised groups among the numbers screened in the last hours, with their evidence
    (numbers, SIMs, handsets, cells; audited)."""
    return [asdict(g) for g in container.antifraud.calls.groups(actor=reader, why=why, hours=hours)]


class ReportIn(BaseModel):
    """A suspicious number or account for the Anti-Fraud Centre."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["number", "account"]
    subject: str = Field(min_length=1, max_length=64)
    category: Literal[
        "call_centre", "simbox", "wangiri", "spoofing", "mule", "fraud_transfer", "other"
    ]
    summary: str = Field(min_length=10, max_length=4000)


class CheckIn(BaseModel):
    """The operator's or bank's answer to a report."""

    model_config = ConfigDict(extra="forbid")

    result: Literal["confirmed", "rejected"]
    checked_by: str = Field(min_length=2, max_length=120)
    note: str = Field(min_length=3, max_length=4000)


Reporter = Annotated[Principal, Depends(require(Permission.AFC_REPORT))]


@router.post("/reports", status_code=201)
def make_report(
    body: ReportIn, container: ContainerDep, reporter: Reporter, why: Why
) -> dict[str, Any]:
    """Report a number or account, the evidence gathered now; the check is due in two working
    days."""
    view = container.antifraud.reports.report(
        actor=reporter, kind=body.kind, subject=body.subject, category=body.category,
        summary=body.summary, why=why,
    )  # fmt: skip
    return asdict(view)


@router.get("/reports/summary")
def reports_summary(container: ContainerDep, reporter: Reporter) -> dict[str, int]:
    """Reports awaiting their check (and how many are overdue), confirmed and rejected:
    counts only."""
    return container.antifraud.reports.summary(actor=reporter)


@router.get("/reports")
def list_reports(
    container: ContainerDep,
    reporter: Reporter,
    why: Why,
    status: Literal["submitted", "confirmed", "rejected"] | None = None,
    overdue: bool = False,
    limit: int = Query(200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Reports, newest first; ``overdue=true``: waiting past their due time (audited)."""
    rows = container.antifraud.reports.reports(
        actor=reporter, why=why, status=status, overdue=overdue, limit=limit
    )
    return [asdict(r) for r in rows]


@router.post("/reports/{report_id}/check")
def check_report(
    report_id: int, body: CheckIn, container: ContainerDep, reporter: Reporter
) -> dict[str, Any]:
    """Record the operator's or bank's answer (audited). The answer names the report and its
    new state, not its subject or evidence: reading those asks a purpose (the listing)."""
    view = container.antifraud.reports.check(
        actor=reporter, report_id=report_id, result=body.result, checked_by=body.checked_by,
        note=body.note,
    )  # fmt: skip
    return {
        "id": view.id, "exchange_id": view.exchange_id, "status": view.status,
        "result": view.result, "checked_at": view.checked_at, "checked_by": view.checked_by,
        "due_by": view.due_by, "overdue": view.overdue,
    }  # fmt: skip


@router.get("/reports/{report_id}/exchange.json")
def report_exchange(
    report_id: int, container: ContainerDep, reporter: Reporter, why: Why
) -> dict[str, Any]:
    """The report in the exchange format (kupol-afc-report/1; audited as an export)."""
    return container.antifraud.reports.exchange(
        actor=reporter, why=why, report_id=report_id,
        organisation=container.settings.antifraud.organisation,
    )  # fmt: skip


class CaseFileIn(BaseModel):
    """Which group to export, and for which case."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=5, max_length=32, description="Any number of the group.")
    case_number: str = Field(min_length=1, max_length=64)
    hours: int = Field(24, ge=1, le=744, description="The window the group was found in.")


@router.post("/groups/export", status_code=201)
def export_group(
    body: CaseFileIn, container: ContainerDep, reader: NumberReader, why: Why
) -> dict[str, Any]:
    """Put the case file of the group that ``number`` belongs to (ties, calls, reports, voices)
    in the evidence vault under ``case_number`` (audited)."""
    result = container.antifraud.case_files.export(
        actor=reader, why=why, number=body.number, case_number=body.case_number, hours=body.hours
    )
    return asdict(result)


VoiceChecker = Annotated[Principal, Depends(require(Permission.VOICES_CHECK))]


def _voice_dict(check: VoiceCheck) -> dict[str, Any]:
    return asdict(check)


@router.post("/voices", status_code=201)
def check_voice(
    container: ContainerDep,
    checker: VoiceChecker,
    why: Why,
    file: Annotated[UploadFile, File(description="The recording (WAV, MP3, OGG, M4A, FLAC).")],
    source: Annotated[str, Form(description=f"One of {', '.join(SOURCES)}.")],
    reference: Annotated[str, Form(description="A call's id, a complaint's number, a case.")],
    number: Annotated[str | None, Form(description="The fraudster's number, if known.")] = None,
) -> dict[str, Any]:
    """Check a recording: is the voice synthetic, and which recordings have a similar voice
    (audited; kupol keeps the embedding and the score, not the audio)."""
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InvalidInputError(f"the recording is larger than {MAX_BYTES // 2**20} MB")
    check = container.antifraud.voices.check(
        actor=checker, why=why, data=data, filename=file.filename or "recording",
        source=source, reference=reference, number=number,
    )  # fmt: skip
    return _voice_dict(check)


@router.get("/voices")
def list_voices(
    container: ContainerDep,
    checker: VoiceChecker,
    why: Why,
    number: str | None = Query(None, max_length=32),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Recordings checked, newest first, or one number's (audited)."""
    rows = container.antifraud.voices.recordings(actor=checker, why=why, number=number, limit=limit)
    return [asdict(r) for r in rows]


@router.get("/voices/{recording_id}")
def get_voice(
    recording_id: int, container: ContainerDep, checker: VoiceChecker, why: Why
) -> dict[str, Any]:
    """A recording and the recordings with a similar voice now (audited)."""
    return _voice_dict(
        container.antifraud.voices.get(actor=checker, why=why, recording_id=recording_id)
    )
