"""Evidence API: upload a file with its metadata (its SHA-256 checked when given), an item's
metadata, file and chain of custody. Reading an item or its file is a custody entry and an
audit record with the stated purpose."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser, Why
from kupol.evidence.service import CATEGORIES, Metadata

router = APIRouter(prefix="/api/evidence", tags=["evidence"])


@router.post("", status_code=201)
async def upload(
    container: ContainerDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="The evidence file.")],
    category: Annotated[str, Form(description=f"One of {', '.join(CATEGORIES)}.")] = "other",
    device_id: Annotated[str | None, Form(max_length=64)] = None,
    officer: Annotated[str | None, Form(max_length=64)] = None,
    started_at: Annotated[AwareDatetime | None, Form()] = None,
    ended_at: Annotated[AwareDatetime | None, Form()] = None,
    case_number: Annotated[str | None, Form(max_length=64)] = None,
    description: Annotated[str | None, Form(max_length=4000)] = None,
    x_content_sha256: Annotated[
        str | None, Header(description="The file's SHA-256: a file that differs is refused.")
    ] = None,
) -> dict[str, Any]:
    """Put a file in the vault (the same content twice is stored once: 200 with the existing
    item and ``duplicate: true``)."""
    meta = Metadata(
        filename=(file.filename or "upload").rsplit("/", 1)[-1][:300] or "upload",
        media_type=file.content_type or "application/octet-stream",
        category=category,
        device_id=device_id or None,
        officer=officer or None,
        started_at=started_at,
        ended_at=ended_at,
        case_number=case_number or None,
        description=description or None,
    )
    found = await asyncio.to_thread(
        container.evidence.ingest,
        file.file,
        meta,
        actor=user,
        expected_sha256=x_content_sha256,
    )
    return {**asdict(found.item), "duplicate": found.duplicate}


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[int] = Field(min_length=1, max_length=100)


@router.post("/export", response_class=Response)
def export_package(
    body: ExportRequest, container: ContainerDep, user: CurrentUser, why: Why
) -> Response:
    """A signed ZIP of the items, their custody and a manifest, verifiable offline with
    ``kupol evidence verify-package``; each item's custody records the export."""
    package_id, data = container.evidence.export(item_ids=body.item_ids, actor=user, why=why)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{package_id}.zip"',
            "Cache-Control": "no-store",
            "X-Package-Id": package_id,
        },
    )


@router.get("/{item_id}")
def get_item(item_id: int, container: ContainerDep, user: CurrentUser, why: Why) -> dict[str, Any]:
    """An item's metadata (recorded in its custody)."""
    return asdict(container.evidence.get(item_id=item_id, actor=user, why=why))


@router.get("/{item_id}/file")
def get_file(
    item_id: int, container: ContainerDep, user: CurrentUser, why: Why
) -> StreamingResponse:
    """An item's file (recorded in its custody before it is sent)."""
    view, chunks = container.evidence.content(item_id=item_id, actor=user, why=why)
    return StreamingResponse(
        chunks,
        media_type=view.media_type,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Content-SHA256": view.sha256,
            "Content-Length": str(view.size),
        },
    )


@router.get("/{item_id}/alerts")
def item_alerts(item_id: int, container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Alerts the clip saw: raised while it recorded, at cameras near its device."""
    return [asdict(a) for a in container.evidence.related_alerts(item_id=item_id, actor=user)]


@router.get("/{item_id}/custody")
def get_custody(item_id: int, container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """An item's chain of custody, oldest first."""
    return container.evidence.custody_log(item_id=item_id, actor=user)
