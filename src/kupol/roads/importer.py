"""Reading a source's CSV through its mapping into accident rows, each row checked on its own:
a bad row becomes a reject with its line and reason, and never stops the good ones.

The reading is pure (bytes in, rows and rejects out); :mod:`kupol.roads.registry` stores them.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import h3
from pyproj import Transformer

from kupol.core.errors import InvalidInputError
from kupol.plates.formats import REGIONS
from kupol.roads.mapping import Mapping

H3_RESOLUTION = 12
"""The finest cell kept per accident (about 300 m²); analyses use its parents."""
MPH = 1.609344
MAX_ROWS = 2_000_000


@dataclass(frozen=True, kw_only=True)
class AccidentRow:
    """One row, checked and in the registry's terms."""

    line: int
    source_ref: str
    occurred_at: datetime
    local_time: str
    latitude: float | None
    longitude: float | None
    h3_cell: str | None
    region_code: str | None
    district: str | None
    road: str | None
    road_class: str
    kind: str
    severity: str
    killed: int
    injured: int
    vehicles: int | None
    participants: int | None
    light: str
    weather: str
    surface: str
    speed_limit_kmh: float | None
    description: str | None
    extra: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Reject:
    """A row not imported, and why."""

    line: int
    reference: str
    reason: str


@dataclass(kw_only=True)
class Parsed:
    """What a file gave."""

    rows: list[AccidentRow] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.rejects)


class _RowError(Exception):
    """Why one row cannot be imported."""


@lru_cache(maxsize=8)
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def read_table(
    data: bytes, *, encoding: str, delimiter: str
) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV file.

    Raises:
        InvalidInputError: not text in ``encoding``, no header, or too many rows.
    """
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"the file is not {encoding} text: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        if not reader.fieldnames:
            raise InvalidInputError("the file has no header row")
        for row in reader:
            rows.append({k: (v or "").strip() for k, v in row.items() if k is not None})
            if len(rows) > MAX_ROWS:
                raise InvalidInputError(f"more than {MAX_ROWS:,} rows: split the file")
    except csv.Error as exc:
        # An unclosed quote or an oversized field: the file's lines cannot be told apart
        # any more, so none of it is taken rather than rows merged into one.
        raise InvalidInputError(
            f"the CSV cannot be read at line {reader.line_num}: {exc}"
        ) from None
    return [str(f) for f in reader.fieldnames or ()], rows


def related_counts(mapping: Mapping, related: MappingType[str, bytes]) -> dict[str, Counter[str]]:
    """Per count field, the number of matching related rows per accident reference.

    ``related`` holds the related files' bytes by the name the mapping gives them.
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for rule in mapping.counts:
        name = rule.file_replace[1]
        data = related.get(name)
        if data is None:
            raise InvalidInputError(
                f"the mapping counts {rule.field} from the {name} file: give it"
            )
        header, rows = read_table(data, encoding=mapping.encoding, delimiter=mapping.delimiter)
        missing = sorted({rule.key, *rule.where} - set(header))
        if missing:
            raise InvalidInputError(f"the {name} file has no column {', '.join(missing)}")
        tally = counts[rule.field]
        for row in rows:
            if all(row.get(col, "") in allowed for col, allowed in rule.where.items()):
                tally[row[rule.key]] += 1
    return counts


def parse(
    data: bytes,
    mapping: Mapping,
    *,
    related: MappingType[str, bytes] | None = None,
    now: datetime | None = None,
) -> Parsed:
    """Every row of ``data`` as an accident or a reject.

    Raises:
        InvalidInputError: the file as a whole cannot be read — not text, no header, a column
            the mapping needs is missing, a related file is missing.
    """
    header, rows = read_table(data, encoding=mapping.encoding, delimiter=mapping.delimiter)
    needed = {mapping.reference, *mapping.columns.values(), *mapping.extra}
    needed |= {c for c in (mapping.time.datetime, mapping.time.date, mapping.time.time,
                           mapping.time.hour, mapping.time.minute) if c}  # fmt: skip
    needed |= {c for c in (mapping.place.latitude, mapping.place.longitude, mapping.place.x,
                           mapping.place.y) if c}  # fmt: skip
    if mapping.region:
        needed.add(mapping.region)
    missing = sorted(needed - set(header))
    if missing:
        raise InvalidInputError(
            f"the file has no column {', '.join(missing)} (mapping {mapping.name})"
        )
    counts = related_counts(mapping, related or {}) if mapping.counts else {}
    _check_related(mapping, header, rows, related or {})
    zone = ZoneInfo(mapping.timezone)
    latest = (now or datetime.now(UTC)) + timedelta(days=1)
    parsed = Parsed()
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        line = index + 2  # the header is line 1
        ref = row.get(mapping.reference, "")
        try:
            if not ref or len(ref) > 64:
                raise _RowError(f"the reference ({mapping.reference}) is empty or too long")
            if ref in seen:
                raise _RowError(f"the reference {ref} repeats line {seen[ref]}")
            seen[ref] = line
            parsed.rows.append(_row(row, line, ref, mapping, counts, zone, latest))
        except _RowError as exc:
            parsed.rejects.append(Reject(line=line, reference=ref[:64], reason=str(exc)))
    return parsed


def _row(
    row: dict[str, str],
    line: int,
    ref: str,
    mapping: Mapping,
    counts: dict[str, Counter[str]],
    zone: ZoneInfo,
    latest: datetime,
) -> AccidentRow:
    local = _local_time(row, mapping)
    try:
        occurred = local.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:  # 01.01.0001 east of Greenwich is before the first day in UTC
        raise _RowError(f"the time {local:%Y-%m-%d %H:%M} is out of range") from None
    if occurred > latest:
        raise _RowError(f"the time {local:%Y-%m-%d %H:%M} is in the future")
    latitude, longitude = _place(row, mapping)
    values: dict[str, Any] = {}
    for field_name in ("severity", "kind", "road_class", "light", "weather", "surface"):
        values[field_name] = _term(row, mapping, field_name)
    numbers: dict[str, int | None] = {}
    key_of: dict[str, str] = {rule.field: rule.key for rule in mapping.counts}
    for field_name in ("killed", "injured", "vehicles", "participants"):
        column = mapping.columns.get(field_name)
        if field_name in counts:
            numbers[field_name] = counts[field_name].get(row.get(key_of[field_name], ""), 0)
        elif column is not None:
            numbers[field_name] = _count(row.get(column, ""), field_name)
        else:
            numbers[field_name] = None
    killed, injured = numbers["killed"] or 0, numbers["injured"] or 0
    if values["severity"] == "fatal" and numbers["killed"] is not None and killed == 0:
        raise _RowError("the severity is fatal but no one was killed")
    if killed > 0 and values["severity"] != "fatal":
        raise _RowError(f"{killed} killed but the severity is {values['severity']}")
    region = mapping.region_fixed or (row.get(mapping.region, "") if mapping.region else None)
    if region and mapping.region_fixed is None and region not in REGIONS:
        raise _RowError(f"unknown region code {region!r}")
    return AccidentRow(
        line=line,
        source_ref=ref,
        occurred_at=occurred,
        local_time=local.strftime("%Y-%m-%dT%H:%M:%S"),
        latitude=latitude,
        longitude=longitude,
        h3_cell=(
            h3.latlng_to_cell(latitude, longitude, H3_RESOLUTION)
            if latitude is not None and longitude is not None
            else None
        ),
        region_code=region or None,
        district=_text(row, mapping, "district", 80),
        road=_text(row, mapping, "road", 80),
        road_class=values["road_class"],
        kind=values["kind"],
        severity=values["severity"],
        killed=killed,
        injured=injured,
        vehicles=numbers["vehicles"],
        participants=numbers["participants"],
        light=values["light"],
        weather=values["weather"],
        surface=values["surface"],
        speed_limit_kmh=_speed(row, mapping),
        description=_text(row, mapping, "description", 4000),
        extra={c: row.get(c, "") for c in mapping.extra},
    )


def _check_related(
    mapping: Mapping,
    header: list[str],
    rows: list[dict[str, str]],
    related: MappingType[str, bytes],
) -> None:
    """The main file has each rule's key column, and each related file matches some of its
    accidents (one of another year or place would make every count 0, silently)."""
    for rule in mapping.counts:
        name = rule.file_replace[1]
        if rule.key not in header:
            raise InvalidInputError(f"the file has no column {rule.key} to match the {name} file")
        data = related.get(name)
        if data is None or not rows:
            continue
        _, theirs = read_table(data, encoding=mapping.encoding, delimiter=mapping.delimiter)
        keys = {r.get(rule.key, "") for r in theirs} - {""}
        if keys and not keys & {r.get(rule.key, "") for r in rows}:
            raise InvalidInputError(
                f"the {name} file matches none of these accidents by {rule.key}: is it the "
                "right file?"
            )


def _local_time(row: dict[str, str], mapping: Mapping) -> datetime:
    spec = mapping.time
    try:
        if spec.datetime is not None:
            return datetime.strptime(row[spec.datetime], spec.format)
        assert spec.date is not None
        day = datetime.strptime(row[spec.date], spec.date_format)
        if spec.time is not None:
            clock = datetime.strptime(row[spec.time], spec.time_format)
            return day.replace(hour=clock.hour, minute=clock.minute)
        if spec.hour and not row.get(spec.hour):
            raise _RowError(f"the hour ({spec.hour}) is empty")
        hour = int(row[spec.hour]) if spec.hour else 0
        minute = int(row[spec.minute]) if spec.minute and row.get(spec.minute) else 0
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise _RowError(f"the time {hour}:{minute:02d} is no time of day")
        return day.replace(hour=hour, minute=minute)
    except ValueError as exc:
        raise _RowError(f"the time cannot be read: {exc}") from None


def _place(row: dict[str, str], mapping: Mapping) -> tuple[float | None, float | None]:
    spec = mapping.place
    if spec.latitude is not None and spec.longitude is not None:
        raw = (row.get(spec.latitude, ""), row.get(spec.longitude, ""))
    else:
        assert spec.x is not None and spec.y is not None
        raw = (row.get(spec.x, ""), row.get(spec.y, ""))
    if not raw[0] and not raw[1]:
        if spec.required:
            raise _RowError("the place is missing")
        return None, None
    try:
        a, b = float(raw[0].replace(",", ".")), float(raw[1].replace(",", "."))
    except ValueError:
        raise _RowError(f"the place {raw[0]!r}, {raw[1]!r} is not a pair of numbers") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise _RowError("the place is not finite")
    if spec.latitude is not None:
        latitude, longitude = a, b
    else:
        longitude, latitude = _transformer(spec.crs).transform(a, b)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or not math.isfinite(latitude):
        raise _RowError(f"the place {a}, {b} is not on the Earth in {spec.crs}")
    if spec.bbox is not None:
        south, west, north, east = spec.bbox
        if not (south <= latitude <= north and west <= longitude <= east):
            raise _RowError(
                f"the place {latitude:.5f}, {longitude:.5f} is outside the source's area"
            )
    return round(latitude, 7), round(longitude, 7)


def _term(row: dict[str, str], mapping: Mapping, field_name: str) -> str:
    column = mapping.columns.get(field_name)
    if column is None:
        return mapping.defaults.get(field_name, "unknown" if field_name != "kind" else "other")
    raw = row.get(column, "")
    table = mapping.values.get(field_name, {})
    if raw in table:
        return table[raw]
    if field_name in mapping.defaults:
        return mapping.defaults[field_name]
    raise _RowError(f"{column} {raw!r} has no {field_name} in the mapping")


def _count(raw: str, field_name: str) -> int | None:
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _RowError(f"{field_name} {raw!r} is not a whole number") from None
    if not 0 <= value <= 10_000:
        raise _RowError(f"{field_name} {value} is out of range")
    return value


def _speed(row: dict[str, str], mapping: Mapping) -> float | None:
    column = mapping.columns.get("speed_limit")
    raw = row.get(column, "") if column else ""
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _RowError(f"speed limit {raw!r} is not a number") from None
    kmh = value * MPH if mapping.speed_unit == "mph" else value
    if not 0 < kmh <= 200:
        raise _RowError(f"speed limit {raw} is out of range")
    return round(kmh, 1)


def _text(row: dict[str, str], mapping: Mapping, field_name: str, limit: int) -> str | None:
    column = mapping.columns.get(field_name)
    value = row.get(column, "") if column else ""
    return value[:limit] or None


def related_names(main: Path, mapping: Mapping) -> dict[str, Path]:
    """The related files beside ``main`` that the mapping's counts need, by their role name."""
    found = {}
    for rule in mapping.counts:
        old, new = rule.file_replace
        found[new] = main.with_name(main.name.replace(old, new))
    return found
