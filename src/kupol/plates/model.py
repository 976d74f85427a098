"""Tables of the plates domain: every plate a camera read (the sightings), and hotlists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    any_,
    bindparam,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class PlateSighting(Base):
    """A vehicle's plate read by a camera (voted over the vehicle's track)."""

    __tablename__ = "plate_sightings"
    __table_args__ = (
        Index("ix_plate_sightings_plate_seen", "plate", "seen_at"),
        Index("ix_plate_sightings_camera_seen", "camera_id", "seen_at"),
        Index("ix_plate_sightings_seen", "seen_at"),
        Index("ix_plate_sightings_track", "track"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    """The message it came from: a redelivered one is stored once."""
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    plate: Mapped[str] = mapped_column(String(16))
    """Normalised: Latin letters and digits, no spaces (see kupol.plates.formats)."""
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(2), nullable=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confidence: Mapped[float] = mapped_column(Float)
    direction: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """Which way the vehicle moved past the camera (the camera's own words: in, out, north…)."""
    vehicle_class: Mapped[str | None] = mapped_column(String(40), nullable=True)
    vehicle_colour: Mapped[str | None] = mapped_column(String(40), nullable=True)
    track: Mapped[str | None] = mapped_column(String(120), nullable=True)
    crop_uri: Mapped[str | None] = mapped_column(String(300), nullable=True)
    crop_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


TAIL = 5
"""How many of a plate's last characters :func:`plate_tail` indexes."""


def plate_tail(plate: InstrumentedAttribute[str] | ColumnElement[str]) -> ColumnElement[str]:
    """A plate's last :data:`TAIL` characters, as the tail index stores them, so a search for
    ``*ABC02`` (the end of a plate) is an index lookup, not a scan.

    The same SQL on SQLite and PostgreSQL for plates of at least five characters (shorter
    ones give a shorter text, which no five-character key equals). The offset is a literal,
    not a bound parameter: only the very expression of the index can use it.
    """
    return func.substr(plate, func.length(plate) - literal_column(str(TAIL - 1)))


def one_of(
    column: ColumnElement[str] | InstrumentedAttribute[str], values: list[str], dialect: str
) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as one array parameter, not a thousand: binding
    1,296 parameters cost more than the 1,296 index lookups."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    return column.in_(values)


Index("ix_plate_sightings_tail_seen", plate_tail(PlateSighting.plate), PlateSighting.seen_at)


class KnownPlate(Base):
    """Every plate ``plate_sightings`` holds, once, with the first and last time it was seen.

    The plate searches over all history look here first: a wildcard or one-character-off
    search's hundreds of candidate plates are looked up in this one small table (millions of
    plates, not hundreds of millions of sightings in one index per partition), and only the
    few that exist are then read from the sightings, within the times they were seen. A plate
    never seen is answered without touching the sightings at all.

    Kept by the store's one writer in the transaction that stores the sightings; a plate
    stays here for as long as any of its sightings might (retention removes the entries last
    seen before the oldest sighting kept). ``first_seen_at`` may be earlier than the oldest
    sighting left after retention: it is only ever a lower bound.

    A busy plate's row is rewritten by every batch that sees it, so nothing that changes is
    indexed (and on PostgreSQL pages are left 30 % free): the new version then goes into the
    same page without touching an index (a "HOT" update). The retention's delete by
    ``last_seen_at`` reads the whole table, once a round.
    """

    __tablename__ = "known_plates"

    plate: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


Index("ix_known_plates_tail", plate_tail(KnownPlate.plate))


class Hotlist(Base):
    __tablename__ = "hotlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    fuzzy: Mapped[bool] = mapped_column(Boolean, default=False)
    """Also hit on reads one character off (a misread plate still raises the alert)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    owner: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HotlistEntry(Base):
    __tablename__ = "hotlist_entries"
    __table_args__ = (
        UniqueConstraint("hotlist_id", "plate"),
        Index("ix_hotlist_entries_plate", "plate"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hotlist_id: Mapped[int] = mapped_column(ForeignKey("hotlists.id"))
    plate: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(120), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    added_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
