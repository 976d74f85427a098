"""Faces API: watchlists, enrolment, the hit review queue, retrospective search and export.

Every read of a face (photo, crop, hit, search) states a purpose and is audited; searching
and exporting also need a case number. Routers stay thin: the services decide.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import AwareDatetime

from kupol.api.deps import ContainerDep, CurrentUser, Why, require
from kupol.core.auth import Permission, Principal
from kupol.core.errors import InvalidInputError
from kupol.faces.files import MAX_PHOTO_BYTES
from kupol.faces.schemas import (
    HitDecision,
    HitRead,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    PhotoRead,
    SearchResult,
    ThresholdReport,
    WatchlistCreate,
    WatchlistRead,
    WatchlistUpdate,
)
from kupol.faces.search import SearchQuery

router = APIRouter(prefix="/api/faces", tags=["faces"])
ListReader = Annotated[Principal, Depends(require(Permission.WATCHLISTS_READ))]
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


async def _read_upload(upload: UploadFile, what: str) -> bytes:
    data = await upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInputError(f"the {what} is larger than {MAX_PHOTO_BYTES // 2**20} MB")
    return data


def _image_type(data: bytes) -> str:
    """The media type of a stored photo, from its first bytes (photos are decoded on upload)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    return "application/octet-stream"


def _jpeg(data: bytes) -> Response:
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


# Watchlists --------------------------------------------------------------------------


@router.get("/watchlists")
def list_watchlists(container: ContainerDep, user: ListReader) -> list[WatchlistRead]:
    """Every watchlist with its number of persons."""
    return container.faces.watchlists.lists(actor=user)


@router.post("/watchlists", status_code=201)
def create_watchlist(
    body: WatchlistCreate, container: ContainerDep, user: CurrentUser
) -> WatchlistRead:
    """A new watchlist (investigators)."""
    return container.faces.watchlists.create(watchlist=body, actor=user)


@router.get("/watchlists/{watchlist_id}")
def get_watchlist(watchlist_id: int, container: ContainerDep, user: ListReader) -> WatchlistRead:
    """One watchlist."""
    return container.faces.watchlists.get(watchlist_id=watchlist_id, actor=user)


@router.patch("/watchlists/{watchlist_id}")
def update_watchlist(
    watchlist_id: int, body: WatchlistUpdate, container: ContainerDep, user: CurrentUser
) -> WatchlistRead:
    """Change a list's description, threshold or whether it is matched."""
    return container.faces.watchlists.update(watchlist_id=watchlist_id, change=body, actor=user)


@router.get("/watchlists/{watchlist_id}/persons")
def list_persons(
    watchlist_id: int, container: ContainerDep, user: ListReader, why: Why
) -> list[PersonRead]:
    """The persons on a list with their photos (audited)."""
    return container.faces.watchlists.persons(watchlist_id=watchlist_id, actor=user, why=why)


@router.post("/watchlists/{watchlist_id}/persons", status_code=201)
def add_person(
    watchlist_id: int, body: PersonCreate, container: ContainerDep, user: CurrentUser
) -> PersonRead:
    """List a person; enrol their photos next."""
    return container.faces.watchlists.add_person(watchlist_id=watchlist_id, person=body, actor=user)


@router.get("/watchlists/{watchlist_id}/thresholds")
def threshold_report(
    watchlist_id: int, container: ContainerDep, user: ListReader
) -> ThresholdReport:
    """Operators' decisions on this list's hits by similarity, and a suggested threshold."""
    return container.faces.hits.threshold_report(watchlist_id=watchlist_id, actor=user)


@router.patch("/persons/{person_id}")
def update_person(
    person_id: int, body: PersonUpdate, container: ContainerDep, user: CurrentUser
) -> PersonRead:
    """Change a listed person's reason, reference, expiry or whether they are matched."""
    return container.faces.watchlists.update_person(person_id=person_id, change=body, actor=user)


@router.delete("/persons/{person_id}", status_code=204)
def remove_person(
    person_id: int,
    container: ContainerDep,
    user: CurrentUser,
    reason: Annotated[str, Query(description="Why the person is taken off the list.")],
) -> Response:
    """Take a person off their list (kept for the audit trail, no longer matched)."""
    container.faces.watchlists.remove_person(person_id=person_id, reason=reason, actor=user)
    return Response(status_code=204)


@router.post("/persons/{person_id}/photos", status_code=201)
async def enrol_photo(
    person_id: int,
    container: ContainerDep,
    user: CurrentUser,
    photo: Annotated[UploadFile, File(description="A photo with exactly one clear face.")],
) -> PhotoRead:
    """Enrol a photo; refused with the reason when it has no usable face or several faces."""
    import asyncio

    user.require(Permission.WATCHLISTS_MANAGE)
    data = await _read_upload(photo, "photo")
    return await asyncio.to_thread(
        container.faces.watchlists.enrol, person_id=person_id, photo=data, actor=user
    )


@router.delete("/photos/{photo_id}", status_code=204)
def remove_photo(photo_id: int, container: ContainerDep, user: CurrentUser) -> Response:
    """Stop matching one enrolled photo."""
    container.faces.watchlists.remove_photo(photo_id=photo_id, actor=user)
    return Response(status_code=204)


@router.get("/photos/{photo_id}/image.jpg", response_class=Response)
def photo_image(
    photo_id: int,
    container: ContainerDep,
    user: ListReader,
    why: Why,
    crop: bool = Query(True, description="The aligned face instead of the whole photo."),
) -> Response:
    """An enrolled photo (audited)."""
    data = container.faces.watchlists.photo(photo_id=photo_id, crop=crop, actor=user, why=why)
    return Response(data, media_type=_image_type(data), headers=NO_STORE)


# Hits --------------------------------------------------------------------------------


@router.get("/hits")
def list_hits(
    container: ContainerDep,
    user: CurrentUser,
    why: Why,
    status: str | None = Query(None, description="pending, confirmed or rejected"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[HitRead]:
    """Watchlist hits, newest first; ``status=pending`` is the review queue."""
    return container.faces.hits.list(actor=user, why=why, status=status, limit=limit)


@router.get("/hits/{hit_id}")
def get_hit(hit_id: int, container: ContainerDep, user: CurrentUser, why: Why) -> HitRead:
    """One hit."""
    return container.faces.hits.get(hit_id=hit_id, actor=user, why=why)


@router.get("/hits/{hit_id}/{which}.jpg", response_class=Response)
def hit_image(
    hit_id: int, which: str, container: ContainerDep, user: CurrentUser, why: Why
) -> Response:
    """The face the camera saw (``probe``) or the enrolled face it matched (``enrolled``)."""
    return _jpeg(container.faces.hits.image(hit_id=hit_id, which=which, actor=user, why=why))


@router.post("/hits/{hit_id}/decision")
def decide_hit(
    hit_id: int, body: HitDecision, container: ContainerDep, user: CurrentUser
) -> HitRead:
    """Confirm or reject a hit, with a note (kept; feeds threshold tuning)."""
    return container.faces.hits.decide(hit_id=hit_id, decision=body, actor=user)


# Retrospective search -------------------------------------------------------------------


@router.post("/search")
async def search_faces(
    container: ContainerDep,
    user: CurrentUser,
    why: Why,
    photo: Annotated[UploadFile, File(description="A photo of the person searched for.")],
    since: Annotated[AwareDatetime | None, Form(description="With its UTC offset.")] = None,
    until: Annotated[AwareDatetime | None, Form(description="With its UTC offset.")] = None,
    cameras: Annotated[str, Form(description="Comma-separated camera ids; empty: all.")] = "",
    min_similarity: Annotated[float | None, Form(gt=0, lt=1)] = None,
    limit: Annotated[int, Form(ge=1, le=1000)] = 200,
) -> SearchResult:
    """Where this face was seen, oldest first (needs a case number; audited)."""
    import asyncio

    user.require(Permission.FACES_SEARCH)
    data = await _read_upload(photo, "photo")
    query = SearchQuery(
        since=since,
        until=until,
        camera_ids=tuple(c.strip() for c in cameras.split(",") if c.strip()),
        min_similarity=min_similarity,
        limit=limit,
    )
    return await asyncio.to_thread(
        container.faces.search.search, photo=data, query=query, actor=user, why=why
    )


@router.get("/sightings/{sighting_id}/crop.jpg", response_class=Response)
def sighting_crop(
    sighting_id: int, container: ContainerDep, user: CurrentUser, why: Why
) -> Response:
    """A sighting's face crop (needs a case number; audited)."""
    return _jpeg(container.faces.search.crop(sighting_id=sighting_id, actor=user, why=why))


@router.post("/export/{event_id}", response_class=Response)
async def export_event(
    event_id: UUID,
    container: ContainerDep,
    user: CurrentUser,
    why: Why,
    subject: Annotated[
        UploadFile | None, File(description="The case's subject; every other face is blurred.")
    ] = None,
) -> Response:
    """An event's snapshots and clips as a ZIP, every face but the subject's blurred (needs a
    case number; audited)."""
    import asyncio

    user.require(Permission.FACES_EXPORT)
    data = await _read_upload(subject, "subject photo") if subject is not None else None
    archive = await asyncio.to_thread(
        container.faces.export.export_event,
        event_id=event_id,
        subject_photo=data,
        actor=user,
        why=why,
    )
    return Response(
        archive,
        media_type="application/zip",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="event-{event_id}-redacted.zip"',
        },
    )
