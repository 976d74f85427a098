"""Evidence API: upload a file with its metadata (its SHA-256 checked when given), an item's
metadata, file and chain of custody. Reading an item or its file is a custody entry and an
audit record with the stated purpose."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser, Why
from kupol.core.errors import InvalidInputError
from kupol.evidence.service import CATEGORIES, Metadata

router = APIRouter(prefix="/api/evidence", tags=["evidence"])
INLINE_TYPES = frozenset(
    {
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "image/jpeg",
        "image/png",
        "application/pdf",
        "audio/mpeg",
        "audio/ogg",
    }
)
"""Kinds a browser shows without running anything: served inline; any other is a download."""


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
    item and ``duplicate: true``); at most ``[evidence] max_upload_bytes``."""
    limit = container.settings.evidence.max_upload_bytes
    if file.size is not None and file.size > limit:
        raise InvalidInputError(f"the file is over {limit} bytes")
    meta = Metadata(
        filename=(file.filename or "upload").rsplit("/", 1)[-1][:300] or "upload",
        media_type=(file.content_type or "application/octet-stream").split(";")[0].strip().lower(),
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


@router.get("")
def search(
    container: ContainerDep,
    user: CurrentUser,
    why: Why,
    case_number: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    officer: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Items by case, device, officer, category and recording time (audited as a search)."""
    return [
        asdict(i)
        for i in container.evidence.search(
            actor=user,
            why=why,
            case_number=case_number or None,
            device_id=device_id or None,
            officer=officer or None,
            category=category or None,
            since=since,
            until=until,
            limit=limit,
        )
    ]


@router.post("/dock")
async def dock(
    container: ContainerDep,
    user: CurrentUser,
    files: Annotated[list[UploadFile], File(description="A docked camera's clips and sidecars.")],
    category: Annotated[str, Form()] = "bodycam",
) -> dict[str, Any]:
    """A docking station's folder, uploaded: every clip with its sidecar ``.json`` (see
    ``kupol evidence import-folder``). Bad clips are listed with their reason, the rest kept."""
    import tempfile
    from pathlib import Path

    from kupol.core.auth import Permission
    from kupol.evidence.docking import import_folder

    user.require(Permission.EVIDENCE_INGEST)
    if not files:
        raise InvalidInputError("send the folder's clips and their sidecar .json files")
    limit = container.settings.evidence.max_upload_bytes
    refused: list[dict[str, str]] = []
    container.evidence.store.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=container.evidence.store.root) as folder:
        total, names = 0, set()
        for upload in files:
            name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
            if not name or name.startswith(".") or "\x00" in name or len(name.encode()) > 200:
                refused.append({"file": name[:80], "reason": "not a usable file name"})
                continue
            if name in names:
                refused.append({"file": name, "reason": "two files of this name were sent"})
                continue
            names.add(name)
            with (Path(folder) / name).open("wb") as out:
                while chunk := await upload.read(1024 * 1024):
                    total += len(chunk)
                    if total > limit:
                        raise InvalidInputError(
                            f"the folder is over {limit} bytes: import it in parts, or upload "
                            "large clips resumably (/api/evidence/uploads)"
                        )
                    await asyncio.to_thread(out.write, chunk)
        report = await asyncio.to_thread(
            import_folder, container.evidence, Path(folder), actor=user, category=category
        )
    report.refused.extend((r["file"], r["reason"]) for r in refused)
    return {
        "imported": report.imported,
        "duplicates": report.duplicates,
        "refused": [{"file": name, "reason": reason} for name, reason in report.refused],
    }


class Hold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=5, max_length=1000)
    on: bool = True


class CaseClosed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_number: str = Field(min_length=1, max_length=64)
    closed_at: AwareDatetime


@router.post("/cases/close")
def close_case(body: CaseClosed, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """A case was closed: its items are kept ``case_years`` more (evidence.manage)."""
    count = container.evidence.close_case(
        case_number=body.case_number, closed_at=body.closed_at, actor=user
    )
    return {"case_number": body.case_number, "items": count}


@router.post("/{item_id}/hold")
def hold(item_id: int, body: Hold, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Put an item under legal hold (``on``) or release it, saying why (evidence.manage)."""
    return asdict(
        container.evidence.hold(item_id=item_id, reason=body.reason, actor=user, on=body.on)
    )


@router.get("/{item_id}/incidents")
def item_incidents(
    item_id: int, container: ContainerDep, user: CurrentUser
) -> list[dict[str, Any]]:
    """The incidents an item is linked to."""
    return container.incidents.of_item(item_id=item_id, actor=user)


@router.get("/{item_id}")
def get_item(item_id: int, container: ContainerDep, user: CurrentUser, why: Why) -> dict[str, Any]:
    """An item's metadata (recorded in its custody)."""
    return asdict(container.evidence.get(item_id=item_id, actor=user, why=why))


@router.get(
    "/{item_id}/file",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file's bytes, as its media type if shown inline, else a download.",
            "content": {t: {} for t in ("application/octet-stream", *sorted(INLINE_TYPES))},
        }
    },
)
def get_file(
    item_id: int, container: ContainerDep, user: CurrentUser, why: Why
) -> StreamingResponse:
    """An item's file (recorded in its custody before it is sent)."""
    view, chunks = container.evidence.content(item_id=item_id, actor=user, why=why)
    # The media type is the uploader's word: only kinds a browser shows without running
    # anything are shown inline; anything else (HTML, SVG, …) is a download, and no script
    # in the file may run whatever it claims to be.
    inline = view.media_type in INLINE_TYPES
    disposition = "inline" if inline else "attachment"
    return StreamingResponse(
        chunks,
        media_type=view.media_type if inline else "application/octet-stream",
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Content-Disposition": f'{disposition}; filename="{_ascii(view.filename)}"',
            "X-Content-SHA256": view.sha256,
            "Content-Length": str(view.size),
        },
    )


def _ascii(name: str) -> str:
    """A file name safe in a header: ASCII letters, digits and a few marks."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)[:120]


@router.get("/{item_id}/alerts")
def item_alerts(item_id: int, container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Alerts the clip saw: raised while it recorded, at cameras near its device."""
    return [asdict(a) for a in container.evidence.related_alerts(item_id=item_id, actor=user)]


@router.get("/{item_id}/custody")
def get_custody(item_id: int, container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """An item's chain of custody, oldest first."""
    return container.evidence.custody_log(item_id=item_id, actor=user)
