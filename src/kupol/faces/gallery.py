"""The templates live matching searches: every enrolled photo of an active person on an active
list, in a vector index. Rebuilt when a list changes (in this process or any other: the lists'
``version`` counters are the signal) and when a person's expiry date passes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, or_, select

from kupol.core.db import Database
from kupol.core.messages import utcnow
from kupol.faces.files import template_of
from kupol.faces.index import FaceIndex
from kupol.faces.model import EnrolledPhoto, Watchlist, WatchlistPerson
from kupol.faces.saved_index import load_checked, save_index

log = logging.getLogger(__name__)


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

    def __init__(
        self, *, db: Database, model_name: str, dim: int, path: Path | None = None
    ) -> None:
        self._db = db
        self._path = path
        self._loaded = False
        self._dirty = False
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

    def invalidate(self) -> None:
        """Check the lists at the next match (a change was just made in this process)."""
        self._checked = 0.0

    def refresh(self, *, force: bool = False) -> bool:
        """Rebuild if the lists changed; whether it rebuilt."""
        now = time.monotonic()
        with self._lock:
            if not force and now - self._checked < self.MAX_AGE_S:
                return False
            self._checked = now
            with self._db.reader() as session:
                generation = (
                    session.scalar(select(func.sum(Watchlist.version))),
                    session.scalar(select(func.count()).select_from(Watchlist)),
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

    def save(self) -> bool:
        """Write the index to its file if it changed since the last save; whether it wrote."""
        with self._lock:
            if self._path is None or not self._dirty:
                return False
            save_index(self._index, self._path)
            self._dirty = False
            return True

    def _load(self) -> None:
        """The saved index, if any and the database agrees with it."""
        self._loaded = True
        loaded = load_checked(self._path, self._dim, self._stored)
        if loaded is not None:
            self._index = loaded

    def _stored(self, ids: Sequence[int]) -> dict[int, bytes]:
        with self._db.reader() as session:
            return {
                int(key): template
                for key, template in session.execute(
                    select(EnrolledPhoto.id, EnrolledPhoto.template).where(
                        EnrolledPhoto.id.in_(list(ids))
                    )
                )
            }

    def _rebuild(self) -> None:
        """Bring the index in step with the database: add new templates, drop gone ones.

        Only templates not yet in the index are read (a million enrolled faces are not
        re-read for each new one); the people's details, which are small, are read whole.
        """
        if not self._loaded:
            self._load()
        now = utcnow()
        query = (
            select(
                EnrolledPhoto.id,
                EnrolledPhoto.crop_uri,
                WatchlistPerson.id,
                WatchlistPerson.name,
                WatchlistPerson.expires_at,
                Watchlist.id,
                Watchlist.name,
                Watchlist.kind,
                Watchlist.threshold,
            )
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
        next_expiry: datetime | None = None
        with self._db.reader() as session:
            for row in session.execute(query):
                photo_id, crop_uri, person_id, person, expires, list_id, name, kind, threshold = row
                entries[photo_id] = Enrolled(
                    photo_id=photo_id,
                    person_id=person_id,
                    person=person,
                    watchlist_id=list_id,
                    watchlist=name,
                    kind=kind,
                    threshold=threshold,
                    crop_uri=crop_uri,
                )
                if expires is not None and (next_expiry is None or expires < next_expiry):
                    next_expiry = expires
            new = [key for key in entries if key not in self._index]
            for chunk in range(0, len(new), 1000):
                keys = new[chunk : chunk + 1000]
                rows = session.execute(
                    select(EnrolledPhoto.id, EnrolledPhoto.template).where(
                        EnrolledPhoto.id.in_(keys)
                    )
                ).all()
                self._index.add(
                    np.asarray([r[0] for r in rows], np.int64),
                    np.stack([template_of(r[1]) for r in rows]),
                )
        gone = [key for key in self._index.ids() if key not in entries]
        if gone:
            self._index.remove(np.asarray(gone, np.int64))
        if self._index.needs_rebuild:
            # Too many tombstones from removed photos: a fresh graph from the database.
            with self._db.reader() as session:
                everything = session.execute(
                    select(EnrolledPhoto.id, EnrolledPhoto.template).where(
                        EnrolledPhoto.model == self._model
                    )
                )
                self._index = FaceIndex.rebuild(
                    ((int(r[0]), template_of(r[1])) for r in everything if r[0] in entries),
                    dim=self._dim,
                )
        self._dirty = self._dirty or bool(new or gone)
        self._entries = entries
        self._next_expiry = next_expiry
