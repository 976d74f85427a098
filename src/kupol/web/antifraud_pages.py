"""The anti-fraud page for fraud analysts: the live screening dashboard, number look-up with
its history, organised groups drawn as graphs (and their case files put in the evidence
vault), voice checks, reports to the Anti-Fraud Centre with their two-working-day checks, and
the transfer holds queue — all drawn by its script from
``/api/antifraud``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.antifraud.numbers import NumberKind
from kupol.antifraud.reports import CATEGORIES
from kupol.antifraud.screening import REASONS
from kupol.antifraud.transfer_signals import REASONS as TRANSFER_REASONS
from kupol.antifraud.voiceprints import SOURCES
from kupol.core.auth import Permission, Principal
from kupol.web.rendering import guard, render
from kupol.web.session import page

router = APIRouter(include_in_schema=False)
VERDICTS = ("allow", "warn", "block")
HOLD_STATUSES = ("held", "released", "cancelled", "allowed")
REPORT_STATUSES = ("submitted", "confirmed", "rejected")
REPORT_KINDS = ("number", "account")


@router.get("/antifraud")
def antifraud(request: Request) -> Response:
    """Call screening and transfer holds."""
    user = guard(request, page("antifraud").permission)
    if not isinstance(user, Principal):
        return user
    return render(
        request,
        "antifraud.html",
        user=user,
        locale=user.locale,
        active="antifraud",
        statuses=HOLD_STATUSES,
        voice_sources=SOURCES,
        report_kinds=REPORT_KINDS,
        report_categories=CATEGORIES,
        report_statuses=REPORT_STATUSES,
        data={
            "can_see_holds": user.can(Permission.TRANSFERS_READ),
            "can_export": user.can(Permission.EVIDENCE_INGEST),
            "can_check_voices": user.can(Permission.VOICES_CHECK),
            "can_report": user.can(Permission.AFC_REPORT),
        },
    )


def dynamic_keys() -> list[str]:
    """Catalogue keys the page builds from values."""
    return (
        [f"antifraud.verdict.{v}" for v in VERDICTS]
        + [f"antifraud.status.{s}" for s in HOLD_STATUSES]
        + [f"antifraud.reason.{r}" for r in (*REASONS, *TRANSFER_REASONS, "model")]
        + [f"antifraud.kind.{k.value}" for k in NumberKind]
        + [f"antifraud.list.{name}" for name in ("block", "allow")]
        + [f"antifraud.node.{n}" for n in ("number", "sim", "handset", "cell", "account")]
        + [f"antifraud.source.{s}" for s in SOURCES]
        + [f"antifraud.category.{c}" for c in CATEGORIES]
        + [f"antifraud.report_status.{s}" for s in (*REPORT_STATUSES, "any")]
        + [f"antifraud.subject_kind.{k}" for k in REPORT_KINDS]
    )
