"""The templates live matching searches: every enrolled photo of an active person on an active
list, in a vector index. Rebuilt when a list changes (in this process or any other: the lists'
``updated_at`` is the signal) and when a person's expiry date passes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, or_, select

from kupol.core.db import Database
from kupol.core.messages import utcnow
from kupol.faces.files import template_of
from kupol.faces.index import FaceIndex
from kupol.faces.model import EnrolledPhoto, Watchlist, WatchlistPerson


@dataclass(frozen=True, kw_only=True)
class Enrolled:
    """Who an enrolled photo belongs to, and the list's threshold."""

    photo_id: int
    person_id: int
    person: str
    watchlist_id: int
    watchlist: str
    kind: str
    threshold: float
    crop_uri: str


@dataclass(frozen=True, kw_only=True)
class GalleryMatch:
    """The best enrolled photo above its list's threshold."""

    enrolled: Enrolled
    similarity: float


class Gallery:
    """Active watchlist templates of one embedder model, searchable in-process."""

    # Changes made by other processes are seen within this many seconds.
    MAX_AGE_S = 2.0
    CANDIDATES = 20

    def __init__(self, *, db: Database, model_name: str, dim: int) -> None:
        self._db = db
        self._model = model_name
        self._dim = dim
        self._lock = threading.Lock()
        self._index = FaceIndex(dim=dim)
        self._entries: dict[int, Enrolled] = {}
        self._generation: tuple[object, ...] | None = None
        self._checked = 0.0
        self._next_expiry: datetime | None = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def model_name(self) -> str:
        """The embedder model whose templates this gallery holds."""
        return self._model

    @property
    def dim(self) -> int:
        """Template length."""
        return self._dim

    def refresh(self, *, force: bool = False) -> bool:
        """Rebuild if the lists changed; whether it rebuilt."""
        now = time.monotonic()
        with self._lock:
            if not force and now - self._checked < self.MAX_AGE_S:
                return False
            self._checked = now
            with self._db.reader() as session:
                generation = (
                    session.scalar(select(func.max(Watchlist.updated_at))),
                    session.scalar(select(func.count()).select_from(EnrolledPhoto)),
                )
            expired = self._next_expiry is not None and self._next_expiry <= utcnow()
            if not force and not expired and generation == self._generation:
                return False
            self._rebuild()
            self._generation = generation
            return True

    def match(self, template: NDArray[np.float32]) -> GalleryMatch | None:
        """The best enrolled person whose similarity reaches their list's threshold."""
        self.refresh()
        with self._lock:
            if not self._entries:
                return None
            hits = self._index.search(template.reshape(1, -1), self.CANDIDATES)[0]
            best: GalleryMatch | None = None
            for hit in hits:
                entry = self._entries.get(int(hit.id))
                if entry is None or hit.similarity < entry.threshold:
                    continue
                if best is None or hit.similarity > best.similarity:
                    best = GalleryMatch(enrolled=entry, similarity=float(hit.similarity))
            return best

    def _rebuild(self) -> None:
        now = utcnow()
        query = (
            select(EnrolledPhoto, WatchlistPerson, Watchlist)
            .join(WatchlistPerson, EnrolledPhoto.person_id == WatchlistPerson.id)
            .join(Watchlist, WatchlistPerson.watchlist_id == Watchlist.id)
            .where(
                Watchlist.active.is_(True),
                WatchlistPerson.active.is_(True),
                EnrolledPhoto.model == self._model,
                or_(WatchlistPerson.expires_at.is_(None), WatchlistPerson.expires_at > now),
            )
        )
        entries: dict[int, Enrolled] = {}
        vectors: list[NDArray[np.float32]] = []
        next_expiry: datetime | None = None
        with self._db.reader() as session:
            for photo, person, listing in session.execute(query):
                entries[photo.id] = Enrolled(
                    photo_id=photo.id,
                    person_id=person.id,
                    person=person.name,
                    watchlist_id=listing.id,
                    watchlist=listing.name,
                    kind=listing.kind,
                    threshold=listing.threshold,
                    crop_uri=photo.crop_uri,
                )
                vectors.append(template_of(photo.template))
                if person.expires_at is not None and (
                    next_expiry is None or person.expires_at < next_expiry
                ):
                    next_expiry = person.expires_at
        index = FaceIndex(dim=self._dim)
        if entries:
            index.add(np.fromiter(entries, dtype=np.int64), np.stack(vectors))
        self._index = index
        self._entries = entries
        self._next_expiry = next_expiry
