"""Redaction API: start a redaction of a clip, see what was found, add or remove regions,
keep tracks visible, look at a frame with the regions drawn, render the redacted copy."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser, Why

router = APIRouter(prefix="/api/redactions", tags=["evidence"])


class Start(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: int
    every_s: float = Field(0.2, ge=0.04, le=2.0, description="Seconds between searched frames.")


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid")

    t0: float = Field(ge=0)
    t1: float = Field(ge=0)
    box: tuple[float, float, float, float] = Field(
        description="x0, y0, x1, y1 as fractions of the frame (0 to 1)."
    )


class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: list[Region] = Field(default_factory=list, max_length=200)
    remove: list[str] = Field(default_factory=list, max_length=200)
    keep: list[str] = Field(default_factory=list, max_length=500)
    hide: list[str] = Field(default_factory=list, max_length=500)


@router.post("", status_code=202)
def start(body: Start, container: ContainerDep, user: CurrentUser, why: Why) -> dict[str, Any]:
    """Start a redaction of a clip (evidence.export): faces and plates are searched in the
    background; poll ``GET /api/redactions/{id}`` until it is ``planned``."""
    return asdict(
        container.redactions.start(item_id=body.item_id, actor=user, why=why, every_s=body.every_s)
    )


@router.get("")
def of_item(
    container: ContainerDep, user: CurrentUser, item_id: Annotated[int, Query()]
) -> list[dict[str, Any]]:
    """An item's redactions."""
    return [asdict(r) for r in container.redactions.of_item(item_id=item_id, actor=user)]


@router.get("/{redaction_id}")
def get(redaction_id: int, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """A redaction: its status, the regions found or added, which are kept visible."""
    return asdict(container.redactions.get(redaction_id=redaction_id, actor=user))


@router.patch("/{redaction_id}")
def edit(
    redaction_id: int, body: Edit, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Add regions, remove added ones, keep found tracks visible (or hide them again)."""
    return asdict(
        container.redactions.edit(
            redaction_id=redaction_id,
            actor=user,
            add=[(r.t0, r.t1, r.box) for r in body.add],
            remove=body.remove,
            keep=body.keep,
            hide=body.hide,
        )
    )


@router.post("/{redaction_id}/apply", status_code=202)
def apply(redaction_id: int, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Render the redacted copy in the background; it becomes a new evidence item."""
    return asdict(container.redactions.apply(redaction_id=redaction_id, actor=user))


@router.get("/{redaction_id}/frame", response_class=Response)
async def frame(
    redaction_id: int,
    container: ContainerDep,
    user: CurrentUser,
    why: Why,
    t: Annotated[float, Query(ge=0)] = 0.0,
) -> Response:
    """The original frame at ``t`` seconds with the regions drawn (red: hidden, green: kept);
    a view of the original, in its custody."""
    data = await asyncio.to_thread(
        container.redactions.frame, redaction_id=redaction_id, t=t, actor=user, why=why
    )
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
