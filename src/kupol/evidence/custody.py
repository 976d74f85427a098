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
from datetime import datetime
from typing import Any

from sqlalchemy import select
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
    canonical = _CANONICAL(
        [item_id, seq, at.isoformat(timespec="microseconds"), actor, action, details, prev_hash]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


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


@dataclass(frozen=True, slots=True)
class _Row:
    item_id: int
    seq: int
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def _chain(item_id: int, item_sha256: str, entries: list[_Row]) -> Iterator[Problem]:
    prev = GENESIS
    for expected, entry in enumerate(entries, start=1):
        if entry.seq != expected:
            yield Problem(
                item_id=item_id,
                seq=expected,
                reason=f"entry {expected} is missing (the next one is number {entry.seq})",
            )
            return
        if entry.prev_hash != prev:
            yield Problem(
                item_id=item_id, seq=entry.seq, reason="does not link to the entry before it"
            )
            return
        recomputed = entry_hash(
            item_id=entry.item_id,
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            yield Problem(item_id=item_id, seq=entry.seq, reason="its content was changed")
            return
        prev = entry.hash
    if not entries or entries[0].action != "ingest":
        yield Problem(item_id=item_id, seq=1, reason="the chain does not start with the ingest")
    elif entries[0].details.get("sha256") != item_sha256:
        yield Problem(item_id=item_id, seq=1, reason="the item's SHA-256 is not the one ingested")


def verify(
    session: Session, store: Store, *, heads: dict[int, tuple[int, str]] | None = None
) -> VaultReport:
    """Check every item: its chain of custody, its file's SHA-256 and, given ``heads`` (item →
    the number and hash of its last entry, as the audit log recorded them), that no entry was
    cut off the end."""
    problems: list[Problem] = []
    # Plain rows, not ORM objects: a million entries are read in seconds, not tens.
    items: list[tuple[int, str]] = [
        (row[0], row[1])
        for row in session.execute(
            select(EvidenceItem.id, EvidenceItem.sha256).order_by(EvidenceItem.id)
        )
    ]
    by_item: dict[int, list[_Row]] = {item_id: [] for item_id, _ in items}
    count = 0
    columns = (
        CustodyEntry.item_id,
        CustodyEntry.seq,
        CustodyEntry.at,
        CustodyEntry.actor,
        CustodyEntry.action,
        CustodyEntry.details,
        CustodyEntry.prev_hash,
        CustodyEntry.hash,
    )
    rows = session.execute(
        select(*columns)
        .order_by(CustodyEntry.item_id, CustodyEntry.seq, CustodyEntry.id)
        .execution_options(yield_per=20_000)
    )
    for values in rows:
        count += 1
        entry = _Row(*values)
        chain = by_item.get(entry.item_id)
        if chain is None:
            problems.append(
                Problem(item_id=entry.item_id, seq=entry.seq, reason="belongs to no item")
            )
            continue
        chain.append(entry)
    purged = set(
        session.scalars(
            select(CustodyEntry.item_id).where(CustodyEntry.action == "purge").distinct()
        )
    )
    for item_id, item_sha256 in items:
        broken = list(_chain(item_id, item_sha256, by_item[item_id]))
        problems.extend(broken)
        head = (heads or {}).get(item_id)
        chain = by_item[item_id]
        if not broken and head is not None:
            seq, digest = head
            if len(chain) < seq:
                problems.append(
                    Problem(
                        item_id=item_id,
                        seq=len(chain) + 1,
                        reason=f"entries {len(chain) + 1}-{seq} were cut off the end "
                        "(the audit log recorded them)",
                    )
                )
            elif chain[seq - 1].hash != digest:
                problems.append(
                    Problem(item_id=item_id, seq=seq, reason="differs from the audit log's record")
                )
        by_item[item_id] = []  # checked: let the memory go
        if item_id in purged:
            continue  # a purged item's file is gone on purpose; its record of that stays
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
    return VaultReport(items=len(items), entries=count, problems=problems)
