"""Hotlists: wanted, stolen and unpaid-fines plates. Lists are imported from CSV (row by row:
bad rows are reported with the reason, good rows are kept) or added one by one; every change is
audited. The matcher checks each stored sighting against the active lists — exactly, or within
one character on lists that ask for it — in memory, refreshed when a list changes."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.plates.formats import PlateKind, normalise, parse_plate, within_one
from kupol.plates.model import Hotlist, HotlistEntry

KINDS = ("wanted", "stolen", "unpaid_fines", "other")
MAX_IMPORT_ROWS = 200_000
MAX_ENTRIES_PAGE = 1000


@dataclass(frozen=True, kw_only=True)
class HotlistView:
    """A list with its settings and how many plates it holds (no plate itself)."""

    id: int
    name: str
    kind: str
    fuzzy: bool
    active: bool
    owner: str
    entries: int
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class EntryView:
    """A listed plate: why, under what reference, until when, added by whom."""

    id: int
    hotlist_id: int
    plate: str
    reason: str
    reference: str | None
    expires_at: datetime | None
    added_by: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class EntryPage:
    """One page of a list's entries, and how many match in all."""

    total: int
    entries: list[EntryView]


@dataclass(frozen=True, kw_only=True)
class ImportReport:
    """What an import kept and what it refused, by CSV line."""

    added: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    removed: int = 0
    """Entries the file no longer holds, taken off (``replace``; not when a row was refused)."""


@dataclass(frozen=True, kw_only=True)
class HotlistHit:
    """A sighting's plate on a hotlist."""

    hotlist_id: int
    hotlist: str
    kind: str
    entry_id: int
    listed_plate: str
    reason: str
    reference: str | None
    exact: bool
    expires_at: datetime | None = None


class HotlistService:
    """Lists and their entries (changes audited)."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def create(self, *, name: str, kind: str, fuzzy: bool, actor: Principal) -> int:
        """A new list; returns its id."""
        actor.require(Permission.HOTLISTS_MANAGE)
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        if not 2 <= len(name.strip()) <= 200:
            raise InvalidInputError("a list needs a name of 2 to 200 characters")
        with self._db.unit_of_work() as session:
            if session.scalar(sa_select(Hotlist.id).where(Hotlist.name == name.strip())):
                raise ConflictError(f"a hotlist named {name!r} exists")
            row = Hotlist(name=name.strip(), kind=kind, fuzzy=fuzzy, owner=actor.username)
            session.add(row)
            session.flush()
            details = {"name": row.name, "kind": kind, "fuzzy": fuzzy}
            self._changed(session, actor, "create", "hotlist", row.id, details)
            return row.id

    def lists(self, *, actor: Principal) -> list[HotlistView]:
        """Every list by name, with its number of entries (names and counts only, so not
        audited: the plates are read through :meth:`entries`)."""
        actor.require(Permission.PLATES_SEARCH)
        counts = (
            sa_select(HotlistEntry.hotlist_id, func.count().label("n"))
            .group_by(HotlistEntry.hotlist_id)
            .subquery()
        )
        with self._db.reader() as session:
            rows = session.execute(
                sa_select(Hotlist, counts.c.n)
                .outerjoin(counts, counts.c.hotlist_id == Hotlist.id)
                .order_by(Hotlist.name)
            )
            return [_list_view(row, n or 0) for row, n in rows]

    def get(self, *, hotlist_id: int, actor: Principal) -> HotlistView:
        """One list with its number of entries."""
        actor.require(Permission.PLATES_SEARCH)
        with self._db.reader() as session:
            row = _hotlist(session, hotlist_id)
            return _list_view(row, _count(session, hotlist_id))

    def update(
        self,
        *,
        hotlist_id: int,
        actor: Principal,
        active: bool | None = None,
        fuzzy: bool | None = None,
    ) -> HotlistView:
        """Switch a list's matching on or off, or its one-character-off matching; the matcher
        picks the change up within seconds."""
        actor.require(Permission.HOTLISTS_MANAGE)
        if active is None and fuzzy is None:
            raise InvalidInputError("nothing to change: give active and/or fuzzy")
        with self._db.unit_of_work() as session:
            row = _hotlist(session, hotlist_id)
            changed: dict[str, object] = {}
            if active is not None and active != row.active:
                row.active = active
                changed["active"] = active
            if fuzzy is not None and fuzzy != row.fuzzy:
                row.fuzzy = fuzzy
                changed["fuzzy"] = fuzzy
            if changed:
                row.version += 1
                self._changed(session, actor, "update", "hotlist", hotlist_id, changed)
            session.flush()
            return _list_view(row, _count(session, hotlist_id))

    def entries(
        self,
        *,
        hotlist_id: int,
        actor: Principal,
        why: Justification,
        plate: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> EntryPage:
        """A page of a list's plates, by plate; ``plate`` narrows to plates containing it.
        Listed plates are personal data: the read is audited with the entries returned."""
        actor.require(Permission.PLATES_SEARCH)
        if not 1 <= limit <= MAX_ENTRIES_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_ENTRIES_PAGE}")
        if offset < 0:
            raise InvalidInputError("offset cannot be negative")
        wanted = normalise(plate or "")
        if not wanted.isalnum() and wanted:
            raise InvalidInputError(f"{plate!r}: a plate has only letters and digits")
        query = sa_select(HotlistEntry).where(HotlistEntry.hotlist_id == hotlist_id)
        if wanted:
            query = query.where(HotlistEntry.plate.contains(wanted, autoescape=True))
        with self._db.reader() as session:
            _hotlist(session, hotlist_id)
            total = session.scalar(sa_select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(HotlistEntry.plate, HotlistEntry.id).limit(limit).offset(offset)
            )
            found = [_entry_view(e) for e in rows]
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="hotlist_entries",
            resource_id=str(hotlist_id),
            details={"plate": wanted or None, "offset": offset, "returned": [e.id for e in found]},
        )
        return EntryPage(total=total, entries=found)

    def add_entry(
        self,
        *,
        hotlist_id: int,
        plate: str,
        reason: str,
        actor: Principal,
        reference: str | None = None,
        expires_at: datetime | None = None,
    ) -> EntryView:
        """List one plate, checked like a CSV row; a plate already on the list is a conflict
        (change it by importing, which updates)."""
        actor.require(Permission.HOTLISTS_MANAGE)
        if expires_at is not None and expires_at.tzinfo is None:
            raise InvalidInputError("expires_at needs its UTC offset")
        problem, parsed = _entry(
            {
                "plate": plate,
                "reason": reason,
                "reference": reference or "",
                "expires_at": expires_at.isoformat() if expires_at else "",
            }
        )
        if problem or parsed is None:
            raise InvalidInputError(problem or "not a plate")
        text, why, ref, expires = parsed
        with self._db.unit_of_work() as session:
            listing = _hotlist(session, hotlist_id)
            taken = session.scalar(
                sa_select(HotlistEntry.id).where(
                    HotlistEntry.hotlist_id == hotlist_id, HotlistEntry.plate == text
                )
            )
            if taken:
                raise ConflictError(f"{text} is already on this list")
            row = HotlistEntry(
                hotlist_id=hotlist_id,
                plate=text,
                reason=why,
                reference=ref,
                expires_at=expires,
                added_by=actor.username,
            )
            session.add(row)
            listing.version += 1
            session.flush()
            self._changed(session, actor, "add", "hotlist_entry", row.id, {"plate": text})
            return _entry_view(row)

    def remove_entry(
        self, *, hotlist_id: int, entry_id: int, reason: str, actor: Principal
    ) -> None:
        """Take a plate off a list, saying why; the audit log keeps what it was."""
        actor.require(Permission.HOTLISTS_MANAGE)
        if len(reason.strip()) < 5:
            raise InvalidInputError("say why the plate is removed (at least 5 characters)")
        with self._db.unit_of_work() as session:
            listing = _hotlist(session, hotlist_id)
            row = session.get(HotlistEntry, entry_id)
            if row is None or row.hotlist_id != hotlist_id:
                raise NotFoundError(f"no entry {entry_id} on hotlist {hotlist_id}")
            details = {"hotlist_id": hotlist_id, "plate": row.plate, "why": reason.strip()}
            session.delete(row)
            listing.version += 1
            self._changed(session, actor, "remove", "hotlist_entry", entry_id, details)

    def _changed(
        self,
        session: Session,
        actor: Principal,
        action: str,
        resource_type: str,
        resource_id: int,
        details: Mapping[str, object],
    ) -> None:
        self._audit.append(
            AuditRecord(
                actor=actor.username,
                roles=actor.roles,
                action=action,
                resource_type=resource_type,
                resource_id=str(resource_id),
                details=dict(details),
            ),
            session=session,
        )

    def import_csv(
        self, *, hotlist_id: int, data: bytes, actor: Principal, replace: bool = False
    ) -> ImportReport:
        """Add or update entries from CSV ``plate,reason[,reference][,expires_at]``. Each bad
        row is reported with its line and reason (a plate a second time too); the good rows
        are kept. With ``replace`` the file is the whole list (a registry's daily export): the
        entries it no longer holds are taken off — unless a row was refused, when nothing is
        taken off (the refused row may have been one of them). The audit record names the
        plates added, updated and taken off."""
        actor.require(Permission.HOTLISTS_MANAGE)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError("the file is not UTF-8 text") from None
        reader = csv.DictReader(io.StringIO(text))
        rejected: list[tuple[int, str]] = []
        good: dict[str, tuple[str, str | None, datetime | None]] = {}
        first_line: dict[str, int] = {}
        try:  # as the vehicle registry's import: a line the reader cannot split refuses the file
            if not reader.fieldnames or not {"plate", "reason"} <= set(reader.fieldnames):
                raise InvalidInputError("the CSV needs a header with at least plate,reason")
            for number, row in enumerate(reader, start=2):
                if number > MAX_IMPORT_ROWS + 1:
                    raise InvalidInputError(f"more than {MAX_IMPORT_ROWS} rows: split the file")
                problem, entry = _entry(row)
                if problem:
                    rejected.append((number, problem))
                else:
                    assert entry is not None
                    if entry[0] in first_line:
                        rejected.append(
                            (number, f"{entry[0]} is on line {first_line[entry[0]]} already")
                        )
                        continue
                    first_line[entry[0]] = number
                    good[entry[0]] = entry[1:]
        except csv.Error as exc:
            raise InvalidInputError(f"the CSV cannot be read: {exc}") from None
        added: list[str] = []
        updated: list[str] = []
        removed: list[str] = []
        with self._db.unit_of_work() as session:
            listing = session.get(Hotlist, hotlist_id)
            if listing is None:
                raise NotFoundError(f"no hotlist {hotlist_id}")
            existing = {
                e.plate: e
                for e in session.scalars(
                    sa_select(HotlistEntry).where(HotlistEntry.hotlist_id == hotlist_id)
                )
            }
            for plate, (reason, reference, expires) in good.items():
                current = existing.get(plate)
                if current is None:
                    session.add(
                        HotlistEntry(
                            hotlist_id=hotlist_id,
                            plate=plate,
                            reason=reason,
                            reference=reference,
                            expires_at=expires,
                            added_by=actor.username,
                        )
                    )
                    added.append(plate)
                else:
                    current.reason, current.reference, current.expires_at = (
                        reason,
                        reference,
                        expires,
                    )
                    updated.append(plate)
            if replace and not rejected:
                for plate, gone in existing.items():
                    if plate not in good:
                        session.delete(gone)
                        removed.append(plate)
            listing.version += 1
            details = {"added": added, "updated": updated, "removed": sorted(removed),
                       "rejected": len(rejected), "replace": replace}  # fmt: skip
            self._changed(session, actor, "import", "hotlist", hotlist_id, details)
        return ImportReport(
            added=len(added), updated=len(updated), rejected=rejected, removed=len(removed)
        )


def _entry(
    row: dict[str, str],
) -> tuple[str | None, tuple[str, str, str | None, datetime | None] | None]:
    plate = parse_plate(row.get("plate") or "")
    if plate.kind == PlateKind.INVALID:
        return f"{row.get('plate')!r} is not a plate", None
    reason = (row.get("reason") or "").strip()
    if len(reason) < 3:
        return "a reason is required", None
    expires = None
    if (row.get("expires_at") or "").strip():
        try:
            expires = datetime.fromisoformat(row["expires_at"].strip())
        except ValueError:
            return f"expires_at {row['expires_at']!r} is not a date", None
        if expires.tzinfo is None:
            return "expires_at needs its UTC offset", None
        if not 1970 <= expires.year <= 9998:  # 0001-01-01+05:00 is no time in UTC
            return f"expires_at {row['expires_at']!r} is out of range", None
    reference = (row.get("reference") or "").strip() or None
    return None, (plate.text, reason, reference, expires)


def _hotlist(session: Session, hotlist_id: int) -> Hotlist:
    row = session.get(Hotlist, hotlist_id)
    if row is None:
        raise NotFoundError(f"no hotlist {hotlist_id}")
    return row


def _count(session: Session, hotlist_id: int) -> int:
    query = sa_select(func.count()).where(HotlistEntry.hotlist_id == hotlist_id)
    return session.scalar(query) or 0


def _list_view(row: Hotlist, entries: int) -> HotlistView:
    return HotlistView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        fuzzy=row.fuzzy,
        active=row.active,
        owner=row.owner,
        entries=entries,
        created_at=row.created_at,
    )


def _entry_view(row: HotlistEntry) -> EntryView:
    return EntryView(
        id=row.id,
        hotlist_id=row.hotlist_id,
        plate=row.plate,
        reason=row.reason,
        reference=row.reference,
        expires_at=row.expires_at,
        added_by=row.added_by,
        created_at=row.created_at,
    )


class HotlistMatcher:
    """The active entries in memory: exact plates in a dict; for fuzzy lists, every plate
    with one character dropped too, so a read one character off is found without a scan."""

    MAX_AGE_S = 2.0

    def __init__(self, *, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._checked = 0.0
        self._generation: tuple[object, ...] | None = None
        self._exact: dict[str, list[HotlistHit]] = {}
        self._near: dict[str, list[HotlistHit]] = {}

    def hits(self, plate: str, at: datetime | None = None) -> list[HotlistHit]:
        """The list entries ``plate`` hits (exact first) that had not expired by ``at`` (the
        sighting's time; now when not given)."""
        self._refresh()
        read = normalise(plate)
        when = at or utcnow()

        def current(hit: HotlistHit) -> bool:
            return hit.expires_at is None or when < hit.expires_at

        with self._lock:
            found = [h for h in self._exact.get(read, []) if current(h)]
            seen = {h.entry_id for h in found}
            for key in {read, *_deletions(read)}:
                for hit in self._near.get(key, []):
                    if (
                        hit.entry_id not in seen
                        and current(hit)
                        and within_one(read, hit.listed_plate)
                    ):
                        seen.add(hit.entry_id)
                        found.append(replace(hit, exact=False))  # one character off
        return found

    def _refresh(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._checked < self.MAX_AGE_S:
                return
            self._checked = now
        with self._db.reader() as session:
            generation = (
                session.scalar(sa_select(func.sum(Hotlist.version))),
                session.scalar(sa_select(func.count()).select_from(Hotlist)),
            )
            if generation == self._generation:
                return
            exact: dict[str, list[HotlistHit]] = defaultdict(list)
            near: dict[str, list[HotlistHit]] = defaultdict(list)
            rows = session.execute(
                sa_select(HotlistEntry, Hotlist)
                .join(Hotlist, Hotlist.id == HotlistEntry.hotlist_id)
                .where(Hotlist.active.is_(True))
            )
            current = utcnow()
            for entry, listing in rows:
                if entry.expires_at is not None and entry.expires_at <= current:
                    continue
                hit = HotlistHit(
                    hotlist_id=listing.id,
                    hotlist=listing.name,
                    kind=listing.kind,
                    entry_id=entry.id,
                    listed_plate=entry.plate,
                    reason=entry.reason,
                    reference=entry.reference,
                    exact=True,
                    expires_at=entry.expires_at,
                )
                exact[entry.plate].append(hit)
                if listing.fuzzy:
                    for key in {entry.plate, *_deletions(entry.plate)}:
                        near[key].append(hit)
        with self._lock:
            self._exact, self._near, self._generation = dict(exact), dict(near), generation


def _deletions(plate: str) -> set[str]:
    """``plate`` with each one character dropped: two plates within one character of each
    other share a key (a substitution: both drop that place; an insertion: one drops it)."""
    return {plate[:i] + plate[i + 1 :] for i in range(len(plate))}
