"""Storing call decisions, and the block-list entries some of them earn, in one transaction.

The decisions' process of its own (:mod:`~kupol.antifraud.writerproc`) stores with it, the
rare decision whose caller the screening has just put on the block list included: that entry
and its audit record are written in the decisions' transaction, so no thread of the API's
process holds the database's write lock while it waits for the interpreter's (on SQLite the
other writers wait meanwhile: measured, such a thread held it up to 185 ms at 1,000 calls/s,
and every call stored behind it waited as long). Without that process (``decision_writer =
"thread"``, or while it cannot be started) a thread of the API's process stores such rows with
this function. :func:`store_entry` also serves the lists' own API.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kupol.antifraud.model import CallDecision, NumberListEntry
from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.db import Database
from kupol.core.messages import utcnow

log = logging.getLogger(__name__)

LISTED = "listed"
"""The key of a decision row whose caller the screening has just listed: ``{"source": str,
"expires_at": datetime | None}`` (not a column: the entry is stored beside the row)."""


def store_entry(
    session: Session, audit: AuditLog, *, number: str, list_name: str, source: str,
    note: str | None, expires_at: datetime | None, added_by: str,
) -> NumberListEntry:  # fmt: skip
    """Put ``number`` on a list (or renew its entry) in ``session``, with its audit record."""
    row = session.scalar(
        select(NumberListEntry).where(
            NumberListEntry.number == number, NumberListEntry.list == list_name
        )
    )
    if row is None:
        row = NumberListEntry(number=number, list=list_name)
        session.add(row)
    row.source, row.note, row.active, row.expires_at = source[:160], note, True, expires_at
    row.added_by, row.added_at = added_by, utcnow()
    session.flush()
    audit.append(
        AuditRecord(
            actor=added_by, action=f"{list_name}_list", resource_type="phone_number",
            resource_id=number,
            details={"source": row.source,
                     "expires_at": expires_at.isoformat() if expires_at else None},
        ),
        session=session,
    )  # fmt: skip
    return row


def store_decisions(db: Database, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store decision ``rows`` (``call_decisions``' columns, and :data:`LISTED` where the
    caller was just listed) in one transaction: at the driver when none lists its caller
    (:meth:`~kupol.core.db.Database.insert_many`), else in a unit of work with the entries
    and their audit records. When the decisions cannot be stored, nothing is; an entry that
    cannot be (a caller's text too long for the lists, a listing an analyst made meanwhile)
    is logged and left out, and the decisions are stored without it — the screen keeps the
    number blocked in memory all the same."""
    if not any(LISTED in row for row in rows):
        db.insert_many(CallDecision, rows)
        return
    audit = AuditLog(db)
    with db.unit_of_work() as session:
        session.execute(
            insert(CallDecision), [{k: v for k, v in row.items() if k != LISTED} for row in rows]
        )
        for row in rows:
            if (listed := row.get(LISTED)) is None:
                continue
            try:
                with session.begin_nested():
                    store_entry(
                        session, audit, number=row["caller"], list_name="block",
                        source=listed["source"], note=None, expires_at=listed["expires_at"],
                        added_by="screening",
                    )  # fmt: skip
            except Exception:
                log.exception("the block-list entry for %s was not stored", row["caller"])
