"""The vehicle registry: who owns which plate, imported from the registry's CSV export.

``plate,owner_name,owner_id,address[,make][,colour]`` — ``owner_id`` is the owner's ИИН or
БИН (12 digits). Each bad row is reported with its line and reason and the good rows are kept;
a plate already known is updated. Importing issues the notices that waited for these plates'
owners. Owners are personal data: a look-up is audited with its purpose.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.plates.formats import PlateKind, parse_plate
from kupol.traffic.model import RegisteredVehicle
from kupol.traffic.notices import NoticeService

REQUIRED = ("plate", "owner_name", "owner_id", "address")
CHUNK = 1000
"""Plates per query (databases bound a query's parameters)."""
MAX_ROWS = 500_000


@dataclass(frozen=True, kw_only=True)
class RegistryImport:
    """What an import kept, refused (by CSV line) and set going."""

    added: int = 0
    updated: int = 0
    notices_issued: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Owner:
    """A plate's registered owner."""

    plate: str
    owner_name: str
    owner_id: str
    address: str
    make: str | None
    colour: str | None


class VehicleRegistry:
    """Imports and looks up registered owners."""

    def __init__(self, *, db: Database, audit: AuditLog, notices: NoticeService) -> None:
        self._db = db
        self._audit = audit
        self._notices = notices

    def import_csv(self, *, data: bytes, actor: Principal) -> RegistryImport:
        """Add or update owners; see the module's description of the columns."""
        actor.require(Permission.VEHICLE_REGISTRY)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError("the file is not UTF-8 text") from None
        reader = csv.DictReader(io.StringIO(text))
        rejected: list[tuple[int, str]] = []
        good: dict[str, Owner] = {}
        try:  # the header is read here too: a stray carriage return breaks it as well
            if not reader.fieldnames or not set(REQUIRED) <= set(reader.fieldnames):
                names = ",".join(REQUIRED)
                raise InvalidInputError(f"the CSV needs a header with at least {names}")
            for number, row in enumerate(reader, start=2):
                if number > MAX_ROWS + 1:
                    raise InvalidInputError(f"more than {MAX_ROWS} rows: split the file")
                problem, owner = _owner(row)
                if owner is None:
                    rejected.append((number, problem or "bad row"))
                else:
                    good[owner.plate] = owner
        except csv.Error as exc:
            raise InvalidInputError(f"the CSV cannot be read: {exc}") from None
        added = updated = 0
        with self._db.unit_of_work() as session:
            plates = sorted(good)
            known: dict[str, RegisteredVehicle] = {}
            for start in range(0, len(plates), CHUNK):  # bound the query's parameters
                chunk = plates[start : start + CHUNK]
                known.update(
                    (r.plate, r)
                    for r in session.scalars(
                        select(RegisteredVehicle).where(RegisteredVehicle.plate.in_(chunk))
                    )
                )
            for plate, owner in good.items():
                current = known.get(plate)
                if current is None:
                    session.add(RegisteredVehicle(**owner.__dict__))
                    added += 1
                else:
                    for name, value in owner.__dict__.items():
                        setattr(current, name, value)
                    updated += 1
            session.flush()
            issued = self._notices.issue_waiting(session, set(good))
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="import",
                    resource_type="vehicle_registry",
                    details={
                        "added": added,
                        "updated": updated,
                        "rejected": len(rejected),
                        "notices_issued": issued,
                    },
                ),
                session=session,
            )
        return RegistryImport(
            added=added, updated=updated, notices_issued=issued, rejected=rejected
        )

    def owner(self, *, plate: str, actor: Principal, why: Justification) -> Owner:
        """The registered owner of ``plate`` (audited)."""
        actor.require(Permission.VIOLATIONS_READ)
        reading = parse_plate(plate[:40])
        if reading.kind == PlateKind.INVALID:
            raise InvalidInputError(f"{plate[:40]!r} is not a plate")
        with self._db.reader() as session:
            row = session.get(RegisteredVehicle, reading.text)
            found = None if row is None else _as_owner(row)
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="vehicle_registry",
            resource_id=reading.text,
        )
        if found is None:
            raise NotFoundError(f"{reading.text} is not in the vehicle registry")
        return found


def _owner(row: dict[str, str | None]) -> tuple[str | None, Owner | None]:
    if None in row:
        return "more fields than the header names", None
    values = {k: (v or "").strip() for k, v in row.items() if k}
    reading = parse_plate(values.get("plate", ""))
    if reading.kind == PlateKind.INVALID:
        return f"{values.get('plate')!r} is not a plate", None
    owner_id = values.get("owner_id", "")
    if not (len(owner_id) == 12 and owner_id.isascii() and owner_id.isdigit()):
        return "owner_id must be the owner's 12-digit ИИН or БИН", None
    name, address = values.get("owner_name", ""), values.get("address", "")
    if not 2 <= len(name) <= 300:
        return "owner_name must have 2 to 300 characters", None
    if not 5 <= len(address) <= 500:
        return "address must have 5 to 500 characters", None
    return None, Owner(
        plate=reading.text,
        owner_name=name,
        owner_id=owner_id,
        address=address,
        make=values.get("make", "")[:100] or None,
        colour=values.get("colour", "")[:60] or None,
    )


def _as_owner(row: RegisteredVehicle) -> Owner:
    return Owner(
        plate=row.plate,
        owner_name=row.owner_name,
        owner_id=row.owner_id,
        address=row.address,
        make=row.make,
        colour=row.colour,
    )
