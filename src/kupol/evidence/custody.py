"""The chain of custody: each item's actions, hash-chained, and the check that proves a vault
and its logs intact — or names the first broken link.

An entry's hash is SHA-256 over a canonical JSON of the item, its number in the item's chain,
the time, the actor, the action, the details and the previous entry's hash. So a changed
entry, a deleted one (a gap, or a chain that no longer links), entries put in another order
(their numbers are hashed) and a changed file (its SHA-256 is the item's address) are all
found. A lost tail — the last entries of a chain deleted — leaves a valid shorter chain, so
every entry is also written to the platform's audit log (one global, anchored chain) and the
check compares each item's last entry there with its chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kupol.evidence.model import CustodyEntry, EvidenceItem
from kupol.evidence.store import Store

GENESIS = "0" * 64
ACTIONS = (
    "ingest",
    "duplicate",
    "view",
    "export",
    "share",
    "redact",
    "retention",
    "hold",
    "release",
    "purge",
)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_STRING = json.encoder.encode_basestring  # a JSON string, as the encoder above writes one


def entry_hash(
    *,
    item_id: int,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """The chained hash of one custody entry: SHA-256 of the canonical JSON array
    ``[item, seq, at, actor, action, details, prev_hash]`` (keys sorted, no spaces, UTF-8)."""
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    return _hash(item_id, seq, stamp, actor, action, details, prev_hash)


def _hash(
    item_id: int,
    seq: int,
    stamp: str,
    actor: str,
    action: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """:func:`entry_hash` from the time already in ISO form: the same canonical array, written
    field by field (byte for byte what encoding the whole list gives, at half the cost)."""
    text = (
        f"[{item_id:d},{seq:d},{_STRING(stamp)},{_STRING(actor)},{_STRING(action)},"
        f"{_CANONICAL(details)},{_STRING(prev_hash)}]"
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _stamp(value: object) -> str:
    """A stored time as :func:`entry_hash` writes it (ISO, microseconds, UTC offset), straight
    from the database's own form: SQLite's text, PostgreSQL's datetime."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":  # SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff', UTC
            return f"{value[:10]}T{value[11:]}+00:00"
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a time: {value!r}")
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def append(
    session: Session,
    item_id: int,
    *,
    actor: str,
    action: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> CustodyEntry:
    """Add an entry to the end of the item's chain (in the caller's transaction; the item's
    row is locked on PostgreSQL so two writers cannot fork its chain)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown custody action {action!r}")
    session.execute(select(EvidenceItem.id).where(EvidenceItem.id == item_id).with_for_update())
    last = session.execute(
        select(CustodyEntry.seq, CustodyEntry.hash)
        .where(CustodyEntry.item_id == item_id)
        .order_by(CustodyEntry.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    info = details or {}
    entry = CustodyEntry(
        item_id=item_id,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        details=info,
        prev_hash=prev,
        hash=entry_hash(
            item_id=item_id,
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            details=info,
            prev_hash=prev,
        ),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, kw_only=True)
class Problem:
    """A broken link: which item, which entry (``None``: the file), and what is wrong."""

    item_id: int
    seq: int | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class VaultReport:
    """What :func:`verify` checked and the problems found, first first."""

    items: int
    entries: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """Whether nothing is broken."""
        return not self.problems


Row = tuple[int, int, str, str, str, dict[str, Any], str, str]
"""An entry as verified: item, seq, time (ISO), actor, action, details, previous hash, hash."""


def _chain(item_id: int, item_sha256: str, entries: list[Row]) -> Iterator[Problem]:
    prev = GENESIS
    for expected, (item, seq, stamp, actor, action, details, prev_hash, digest) in enumerate(
        entries, start=1
    ):
        if seq != expected:
            yield Problem(
                item_id=item_id,
                seq=expected,
                reason=f"entry {expected} is missing (the next one is number {seq})",
            )
            return
        if prev_hash != prev:
            yield Problem(item_id=item_id, seq=seq, reason="does not link to the entry before it")
            return
        if _hash(item, seq, stamp, actor, action, details, prev_hash) != digest:
            yield Problem(item_id=item_id, seq=seq, reason="its content was changed")
            return
        prev = digest
    if not entries or entries[0][4] != "ingest":
        yield Problem(item_id=item_id, seq=1, reason="the chain does not start with the ingest")
    elif entries[0][5].get("sha256") != item_sha256:
        yield Problem(item_id=item_id, seq=1, reason="the item's SHA-256 is not the one ingested")


ENTRIES_SQL = (
    "SELECT item_id, seq, at, actor, action, details, prev_hash, hash FROM evidence_custody "
    "WHERE item_id >= {p} AND item_id <= {p} ORDER BY item_id, seq, id"
)


@dataclass(frozen=True, kw_only=True)
class _Checked:
    """What checking the chains of a range of items found."""

    entries: int
    problems: list[Problem]


def _check_range(
    cursor: Any,
    placeholder: str,
    items: dict[int, str],
    heads: dict[int, tuple[int, str]],
    low: int,
    high: int,
) -> _Checked:
    """Check the chains of the items numbered ``low`` to ``high`` from a DB-API cursor (the
    driver's own rows: no ORM, no SQLAlchemy types — times as the database gives them, the
    details as JSON text on SQLite or already decoded on PostgreSQL)."""
    cursor.execute(ENTRIES_SQL.format(p=placeholder), (low, high))
    problems: list[Problem] = []
    count = 0
    loads = json.loads
    current: int | None = None
    chain: list[Row] = []
    seen: set[int] = set()

    def close(item_id: int, entries: list[Row]) -> None:
        broken = list(_chain(item_id, items[item_id], entries))
        problems.extend(broken)
        head = heads.get(item_id)
        if not broken and head is not None:
            seq, digest = head
            if len(entries) < seq:
                problems.append(
                    Problem(
                        item_id=item_id,
                        seq=len(entries) + 1,
                        reason=f"entries {len(entries) + 1}-{seq} were cut off the end "
                        "(the audit log recorded them)",
                    )
                )
            elif entries[seq - 1][7] != digest:
                problems.append(
                    Problem(item_id=item_id, seq=seq, reason="differs from the audit log's record")
                )

    while batch := cursor.fetchmany(20_000):
        for item, seq, at, actor, action, details, prev_hash, digest in batch:
            if item not in items:
                continue  # of no item: the caller reports those
            count += 1
            if item != current:
                if current is not None:
                    close(current, chain)
                current, chain = item, []
                seen.add(item)
            info = loads(details) if isinstance(details, str | bytes) else details
            chain.append((item, seq, _stamp(at), actor, action, info or {}, prev_hash, digest))
    if current is not None:
        close(current, chain)
    for item_id in items:
        if low <= item_id <= high and item_id not in seen:
            close(item_id, [])  # an item without a single entry
    return _Checked(entries=count, problems=problems)


def _check_range_in_process(
    url: str, items: dict[int, str], heads: dict[int, tuple[int, str]], low: int, high: int
) -> _Checked:
    """:func:`_check_range` in a worker process, on its own connection."""
    from kupol.core.db import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        raw = engine.raw_connection()
        try:
            placeholder = _placeholder(engine.dialect.paramstyle)
            return _check_range(raw.cursor(), placeholder, items, heads, low, high)
        finally:
            raw.close()
    finally:
        engine.dispose()


def _placeholder(paramstyle: str) -> str:
    return "?" if paramstyle == "qmark" else "%s"


def _ranges(ids: list[int], parts: int) -> list[tuple[int, int]]:
    """``ids`` (sorted) cut into ``parts`` contiguous ranges of about as many items."""
    size = -(-len(ids) // parts)
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def verify(
    session: Session,
    store: Store,
    *,
    heads: dict[int, tuple[int, str]] | None = None,
    workers: int = 1,
    url: str | None = None,
) -> VaultReport:
    """Check every item: its chain of custody, its file's SHA-256 and, given ``heads`` (item →
    the number and hash of its last entry, as the audit log recorded them), that no entry was
    cut off the end. With ``workers`` > 1 and the database's ``url``, the chains (which are
    independent) are checked by that many processes, each over a range of items."""
    items = {
        int(row[0]): str(row[1])
        for row in session.execute(
            select(EvidenceItem.id, EvidenceItem.sha256).order_by(EvidenceItem.id)
        )
    }
    ids = sorted(items)
    problems: list[Problem] = []
    orphans = session.execute(
        select(CustodyEntry.item_id, func.min(CustodyEntry.seq))
        .where(CustodyEntry.item_id.not_in(select(EvidenceItem.id)))
        .group_by(CustodyEntry.item_id)
    )
    problems += [Problem(item_id=i, seq=q, reason="belongs to no item") for i, q in orphans]
    orphan_entries = (
        session.scalar(
            select(func.count()).where(CustodyEntry.item_id.not_in(select(EvidenceItem.id)))
        )
        or 0
    )
    results: list[_Checked] = []
    if ids and workers > 1 and url and len(ids) >= 2 * workers:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ranges = _ranges(ids, workers)
        with ProcessPoolExecutor(
            max_workers=len(ranges), mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            futures = [
                pool.submit(
                    _check_range_in_process,
                    url,
                    {i: items[i] for i in ids if low <= i <= high},
                    {i: h for i, h in (heads or {}).items() if low <= i <= high},
                    low,
                    high,
                )
                for low, high in ranges
            ]
            results = [f.result() for f in futures]
    elif ids:
        raw = session.connection().connection
        paramstyle = session.get_bind().dialect.paramstyle
        results = [
            _check_range(
                raw.cursor(), _placeholder(paramstyle), items, heads or {}, ids[0], ids[-1]
            )
        ]
    for item_id in sorted(set(heads or {}) - set(items)):
        problems.append(
            Problem(
                item_id=item_id,
                seq=None,
                reason="the item is gone (the audit log recorded its custody)",
            )
        )
    count = orphan_entries
    for checked in results:
        problems += checked.problems
        count += checked.entries
    purged = set(
        session.scalars(
            select(CustodyEntry.item_id).where(CustodyEntry.action == "purge").distinct()
        )
    )
    for item_id in ids:
        if item_id in purged:
            continue  # a purged item's file is gone on purpose; its record of that stays
        item_sha256 = items[item_id]
        actual = store.hash_of(item_sha256)
        if actual is None:
            problems.append(Problem(item_id=item_id, seq=None, reason="its file is missing"))
        elif actual != item_sha256:
            problems.append(
                Problem(
                    item_id=item_id,
                    seq=None,
                    reason=f"its file's SHA-256 is {actual}, not {item_sha256}",
                )
            )
    problems.sort(key=lambda p: (p.item_id, p.seq if p.seq is not None else 1 << 30))
    return VaultReport(items=len(ids), entries=count, problems=problems)
