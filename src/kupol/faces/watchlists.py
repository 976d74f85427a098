"""Watchlists: named lists of people with photos, managed by authorised roles, every change
audited. A photo is enrolled only when it holds exactly one usable face."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.faces.files import FaceFiles, encode_jpeg, template_bytes
from kupol.faces.model import EnrolledPhoto, Watchlist, WatchlistKind, WatchlistPerson
from kupol.faces.probe import one_usable_face
from kupol.faces.schemas import (
    PersonCreate,
    PersonRead,
    PersonUpdate,
    PhotoRead,
    WatchlistCreate,
    WatchlistRead,
    WatchlistUpdate,
)
from kupol.faces.types import FaceAnalyzer

T = TypeVar("T")
ENROLLED = "_faces/enrolled"
"""Where enrolled photos are kept: under the evidence folder, but in no camera's folder
(camera ids cannot start with "_"), so no camera event's evidence can point at them."""


@dataclass(frozen=True, kw_only=True)
class EnrolmentRejected:
    """Why a photo was not enrolled (also raised as :class:`InvalidInputError`)."""

    reason: str
    faces: int


class WatchlistService:
    """Lists, persons and enrolled photos."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        files: FaceFiles,
        analyzer: FaceAnalyzer,
        model_name: str,
        default_threshold: float,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._on_change = on_change
        self._db = db
        self._audit = audit
        self._files = files
        self._analyzer = analyzer
        self._model = model_name
        self._default_threshold = default_threshold

    # Lists ---------------------------------------------------------------------------

    def create(self, *, watchlist: WatchlistCreate, actor: Principal) -> WatchlistRead:
        """A new list, owned by ``actor``."""
        actor.require(Permission.WATCHLISTS_MANAGE)
        with self._db.unit_of_work() as session:
            if session.scalar(select(Watchlist.id).where(Watchlist.name == watchlist.name)):
                raise ConflictError(f"a watchlist named {watchlist.name!r} exists")
            row = Watchlist(
                name=watchlist.name,
                kind=watchlist.kind.value,
                description=watchlist.description,
                threshold=watchlist.threshold or self._default_threshold,
                active=True,
                owner=actor.username,
            )
            session.add(row)
            session.flush()
            self._changed(session, actor, "create", "watchlist", row.id, watchlist.model_dump())
            return _list_read(row, 0)

    def update(
        self, *, watchlist_id: int, change: WatchlistUpdate, actor: Principal
    ) -> WatchlistRead:
        """Change a list's description, threshold or whether it is matched."""
        actor.require(Permission.WATCHLISTS_MANAGE)
        values = change.model_dump(exclude_none=True)
        with self._db.unit_of_work() as session:
            row = _get(session, Watchlist, watchlist_id, "watchlist")
            before = {k: getattr(row, k) for k in values}
            for key, value in values.items():
                setattr(row, key, value)
            _touch(row)
            self._changed(
                session, actor, "update", "watchlist", row.id, {"before": before, "after": values}
            )
            return _list_read(row, _persons(session, row.id))

    def lists(self, *, actor: Principal) -> list[WatchlistRead]:
        """Every list with its number of persons."""
        actor.require(Permission.WATCHLISTS_READ)
        with self._db.reader() as session:
            # A comprehension, not dict(result): a Result has keys() (its column names), so
            # dict() would take it for a mapping.
            counts = {
                watchlist_id: count
                for watchlist_id, count in session.execute(
                    select(WatchlistPerson.watchlist_id, func.count()).group_by(
                        WatchlistPerson.watchlist_id
                    )
                )
            }
            return [
                _list_read(row, counts.get(row.id, 0))
                for row in session.scalars(select(Watchlist).order_by(Watchlist.name))
            ]

    def get(self, *, watchlist_id: int, actor: Principal) -> WatchlistRead:
        """One list."""
        actor.require(Permission.WATCHLISTS_READ)
        with self._db.reader() as session:
            row = _get(session, Watchlist, watchlist_id, "watchlist")
            return _list_read(row, _persons(session, row.id))

    # Persons -------------------------------------------------------------------------

    def add_person(
        self, *, watchlist_id: int, person: PersonCreate, actor: Principal
    ) -> PersonRead:
        """List a person (photos are enrolled next)."""
        actor.require(Permission.WATCHLISTS_MANAGE)
        with self._db.unit_of_work() as session:
            listing = _get(session, Watchlist, watchlist_id, "watchlist")
            if listing.kind == WatchlistKind.BANNED.value and person.expires_at is None:
                raise InvalidInputError("a venue ban needs an expiry date (expires_at)")
            if person.expires_at is not None and person.expires_at <= utcnow():
                raise InvalidInputError("expires_at is in the past")
            row = WatchlistPerson(
                watchlist_id=watchlist_id,
                name=person.name,
                reason=person.reason,
                reference=person.reference,
                expires_at=person.expires_at,
                active=True,
                added_by=actor.username,
            )
            session.add(row)
            _touch(listing)
            session.flush()
            self._changed(
                session,
                actor,
                "create",
                "watchlist_person",
                row.id,
                {"watchlist_id": watchlist_id, **person.model_dump(mode="json")},
            )
            return _person_read(row, [])

    def update_person(
        self, *, person_id: int, change: PersonUpdate, actor: Principal
    ) -> PersonRead:
        """Change a listed person's reason, reference, expiry or whether they are matched."""
        actor.require(Permission.WATCHLISTS_MANAGE)
        values = change.model_dump(exclude_none=True)
        with self._db.unit_of_work() as session:
            row = _get(session, WatchlistPerson, person_id, "person")
            before = {k: _plain(getattr(row, k)) for k in values}
            for key, value in values.items():
                setattr(row, key, value)
            _touch(_get(session, Watchlist, row.watchlist_id, "watchlist"))
            self._changed(
                session,
                actor,
                "update",
                "watchlist_person",
                row.id,
                {"before": before, "after": change.model_dump(mode="json", exclude_none=True)},
            )
            return _person_read(row, _photos(session, row.id))

    def remove_person(self, *, person_id: int, reason: str, actor: Principal) -> None:
        """Take a person off their list: no longer matched; photos and history are kept for
        the audit trail (hits refer to them)."""
        actor.require(Permission.WATCHLISTS_MANAGE)
        if len(reason.strip()) < 5:
            raise InvalidInputError("say why the person is removed (at least 5 characters)")
        with self._db.unit_of_work() as session:
            row = _get(session, WatchlistPerson, person_id, "person")
            row.active = False
            _touch(_get(session, Watchlist, row.watchlist_id, "watchlist"))
            self._changed(session, actor, "remove", "watchlist_person", row.id, {"why": reason})

    def persons(
        self, *, watchlist_id: int, actor: Principal, why: Justification
    ) -> list[PersonRead]:
        """A list's persons with their photos (personal data: audited)."""
        actor.require(Permission.WATCHLISTS_READ)
        with self._db.reader() as session:
            _get(session, Watchlist, watchlist_id, "watchlist")
            rows = list(
                session.scalars(
                    select(WatchlistPerson)
                    .where(WatchlistPerson.watchlist_id == watchlist_id)
                    .order_by(WatchlistPerson.name)
                )
            )
            result = [_person_read(r, _photos(session, r.id)) for r in rows]
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="watchlist_persons",
            resource_id=str(watchlist_id),
            details={"returned": [p.id for p in result]},
        )
        return result

    # Photos --------------------------------------------------------------------------

    def enrol(self, *, person_id: int, photo: bytes, actor: Principal) -> PhotoRead:
        """Enrol one photo of a listed person.

        Raises:
            InvalidInputError: the photo is not an image, holds no face, holds several faces,
                or its face is too poor to match (too small, blurred, turned away).
        """
        actor.require(Permission.WATCHLISTS_MANAGE)
        face = one_usable_face(
            self._analyzer, photo, use="matching", crop_hint="the one person to enrol"
        )
        with self._db.unit_of_work() as session:
            person = _get(session, WatchlistPerson, person_id, "person")
            stored = self._files.save(photo, folder=ENROLLED, suffix=_suffix(photo))
            crop = self._files.save(encode_jpeg(face.chip), folder=ENROLLED)
            row = EnrolledPhoto(
                person_id=person_id,
                image_uri=stored.uri,
                crop_uri=crop.uri,
                sha256=stored.sha256,
                template=template_bytes(face.embedding),
                model=self._model,
                quality=face.quality.score,
                box=[float(v) for v in face.box],
                added_by=actor.username,
            )
            session.add(row)
            _touch(_get(session, Watchlist, person.watchlist_id, "watchlist"))
            session.flush()
            self._changed(
                session,
                actor,
                "enrol",
                "watchlist_photo",
                row.id,
                {"person_id": person_id, "sha256": stored.sha256, "quality": row.quality},
            )
            return PhotoRead.model_validate(row)

    def remove_photo(self, *, photo_id: int, actor: Principal) -> None:
        """Stop matching against one enrolled photo (the record stays for the audit trail)."""
        actor.require(Permission.WATCHLISTS_MANAGE)
        with self._db.unit_of_work() as session:
            row = _get(session, EnrolledPhoto, photo_id, "photo")
            person = _get(session, WatchlistPerson, row.person_id, "person")
            row.model = f"removed:{row.model}"[:40]
            _touch(_get(session, Watchlist, person.watchlist_id, "watchlist"))
            self._changed(session, actor, "remove", "watchlist_photo", row.id, {})

    def photo(self, *, photo_id: int, crop: bool, actor: Principal, why: Justification) -> bytes:
        """An enrolled photo (or its aligned crop), audited."""
        actor.require(Permission.WATCHLISTS_READ)
        with self._db.reader() as session:
            row = _get(session, EnrolledPhoto, photo_id, "photo")
            uri = row.crop_uri if crop else row.image_uri
        data = self._files.read(uri)
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="watchlist_photo",
            resource_id=str(photo_id),
            details={"crop": crop},
        )
        return data

    def _changed(
        self,
        session: Session,
        actor: Principal,
        action: str,
        resource_type: str,
        resource_id: int,
        details: dict[str, Any],
    ) -> None:
        if self._on_change is not None:
            # After the commit: matching in this process sees the change at once.
            on_change = self._on_change
            event.listen(session, "after_commit", lambda _session: on_change(), once=True)
        self._audit.append(
            AuditRecord(
                actor=actor.username,
                roles=actor.roles,
                action=action,
                resource_type=resource_type,
                resource_id=str(resource_id),
                details={k: _plain(v) for k, v in details.items()},
            ),
            session=session,
        )


def _touch(listing: Watchlist) -> None:
    """Mark a list changed: its version counts every change (what other processes watch;
    clocks of different servers may disagree, a counter cannot)."""
    listing.updated_at = utcnow()
    listing.version = (listing.version or 0) + 1


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "value"):
        return value.value
    return value


def _get(session: Session, table: type[T], key: int, what: str) -> T:
    row = session.get(table, key)
    if row is None:
        raise NotFoundError(f"no {what} {key}")
    return row


def _persons(session: Session, watchlist_id: int) -> int:
    return int(
        session.scalar(select(func.count()).where(WatchlistPerson.watchlist_id == watchlist_id))
        or 0
    )


def _photos(session: Session, person_id: int) -> list[PhotoRead]:
    rows = session.scalars(
        select(EnrolledPhoto)
        .where(EnrolledPhoto.person_id == person_id, ~EnrolledPhoto.model.startswith("removed:"))
        .order_by(EnrolledPhoto.id)
    )
    return [PhotoRead.model_validate(r) for r in rows]


def _list_read(row: Watchlist, persons: int) -> WatchlistRead:
    read = WatchlistRead.model_validate(row)
    return read.model_copy(update={"persons": persons})


def _person_read(row: WatchlistPerson, photos: list[PhotoRead]) -> PersonRead:
    return PersonRead.model_validate(row).model_copy(update={"photos": photos})


def _suffix(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return ".jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png"
    return ".img"
