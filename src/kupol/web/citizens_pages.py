"""The citizens' portal (``/portal``): a phone-sized page in Russian, Kazakh or English to sign
in by phone, report what one saw with photos or videos, and follow one's reports and rewards —
drawn by its script from ``/api/citizen``. No staff account is needed or shown."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.citizens.reports import KINDS
from kupol.citizens.review import REJECT_REASONS, UNMEASURED
from kupol.core.auth import Principal
from kupol.traffic.legal import load_legal_table
from kupol.web.i18n import LOCALES
from kupol.web.rendering import guard, render
from kupol.web.session import page

router = APIRouter(include_in_schema=False)
STATUSES = ("submitted", "confirmed", "duplicate", "rejected", "appealed")


@router.get("/portal")
def portal(request: Request, lang: str | None = None) -> Response:
    """The citizens' portal."""
    locale = lang if lang in LOCALES else "ru"
    return render(request, "portal.html", user=None, locale=locale, kinds=KINDS, data={})


@router.get("/citizens/review")
def citizen_review(request: Request) -> Response:
    """Officers: citizens' reports to decide."""
    user = guard(request, page("citizen_review").permission)
    if not isinstance(user, Principal):
        return user
    offences = [a.offence for a in load_legal_table().article if a.offence not in UNMEASURED]
    return render(request, "citizen_review.html", user=user, locale=user.locale,
                  active="citizen_review", offences=offences, reasons=REJECT_REASONS,
                  data={})  # fmt: skip


def dynamic_keys() -> list[str]:
    return (
        [f"portal.kind.{k}" for k in KINDS]
        + [f"portal.status.{s}" for s in STATUSES]
        + [f"creview.reason.{r}" for r in REJECT_REASONS]
    )
