"""Console pages of the evidence vault and the document flow: the evidence browser (docked
folders imported, clips played, custody timelines, holds, exports), incidents with the clips
and alerts that saw them, the redaction editor, and the document inbox (draft, sign, verify,
serve, pay).

The pages carry no personal data: their scripts fetch it through the audited API with the
purpose the user states."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.core.auth import Permission, Principal
from kupol.documents.workflow import STATES
from kupol.evidence.service import CATEGORIES
from kupol.incidents.service import KINDS
from kupol.web.rendering import guard, render
from kupol.web.session import group_pages, page

router = APIRouter(include_in_schema=False)


def _page(request: Request, name: str, template: str, **data: object) -> Response:
    user = guard(request, page(name).permission)
    if not isinstance(user, Principal):
        return user
    return render(
        request,
        template,
        tabs=group_pages(user, "evidence"),
        user=user,
        locale=user.locale,
        active=name,
        data={
            **data,
            "user": user.username,
            "can_manage": user.can(Permission.EVIDENCE_MANAGE),
            "can_export": user.can(Permission.EVIDENCE_EXPORT),
            "can_ingest": user.can(Permission.EVIDENCE_INGEST),
            "can_write_incidents": user.can(Permission.INCIDENTS_WRITE),
            "can_write_documents": user.can(Permission.DOCUMENTS_WRITE),
            "can_sign": user.can(Permission.DOCUMENTS_SIGN),
            "can_pay": user.can(Permission.PAYMENTS_UPDATE),
            "can_manage_devices": user.can(Permission.DEVICES_MANAGE),
        },
        categories=CATEGORIES,
        kinds=KINDS,
        states=STATES,
    )


@router.get("/evidence")
def evidence(request: Request) -> Response:
    """The evidence browser."""
    return _page(request, "evidence_items", "evidence.html")


@router.get("/evidence/incidents")
def incidents(request: Request) -> Response:
    """Incidents, their clips and alerts."""
    return _page(request, "incidents", "incidents.html")


@router.get("/evidence/devices")
def devices(request: Request) -> Response:
    """Body cameras and their shifts."""
    return _page(request, "devices", "devices.html")


@router.get("/evidence/redaction")
def redaction(request: Request) -> Response:
    """The redaction editor (``?item=`` a clip, or ``?redaction=`` a redaction)."""
    return _page(request, "redaction", "redaction.html")


@router.get("/documents")
def documents(request: Request) -> Response:
    """The document inbox."""
    return _page(request, "documents", "documents.html")


def dynamic_keys() -> list[str]:
    """Catalogue keys the evidence pages build from values."""
    return (
        [f"evidence.category.{c}" for c in CATEGORIES]
        + [f"incidents.kind.{k}" for k in KINDS]
        + [f"documents.status.{s}" for s in STATES]
        + [f"documents.kind.{k}" for k in ("protocol", "resolution")]
        + [
            f"documents.action.{a}"
            for a in ("create", "edit", "sign", "serve", "appeal", "pay", "cancel")
        ]
        + [f"custody.action.{a}" for a in CUSTODY_ACTIONS]
        + [f"redaction.status.{s}" for s in ("detecting", "planned", "rendering", "done", "failed")]
        + [f"redaction.kind.{k}" for k in ("face", "plate", "manual")]
        + [f"evidence.attribution.{a}" for a in ("shift", "unassigned", "conflict", "unregistered")]
        + [f"incidents.status.{s}" for s in ("open", "closed")]
        + [f"devices.kind.{k}" for k in ("bodycam", "dashcam", "drone", "other")]
        + [f"documents.done.{s}" for s in ("sign", "step")]
    )


CUSTODY_ACTIONS = (
    "ingest",
    "duplicate",
    "view",
    "export",
    "hold",
    "release",
    "retention",
    "purge",
    "redact",
)
