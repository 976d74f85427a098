"""Kazakhstan's regions as reference data: the 17 regions and 3 cities of national
significance (codes and names from :data:`kupol.plates.formats.REGIONS`), their population by
date, and the names other sources use for them.

Population is data with a date and a source (``reference/kz-population.toml``), never a
constant: a rate for a period uses the latest figure on or before the period's start.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from kupol.core.errors import ConfigError, NotFoundError
from kupol.plates.formats import REGIONS, Region

SHIPPED = Path(__file__).parent / "reference" / "kz-population.toml"


@dataclass(frozen=True, kw_only=True)
class Count:
    """Population (or vehicles) of every region from a date, with its source."""

    since: date
    source: str
    regions: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class RegionTable:
    """The regions, their population and vehicles by date, and their other names."""

    population: tuple[Count, ...]
    vehicles: tuple[Count, ...]
    aliases: dict[str, str]
    centres: dict[str, tuple[float, float]]
    """Each region's administrative centre (latitude, longitude)."""

    def regions(self) -> list[Region]:
        """Every region and city, by code."""
        return [REGIONS[c] for c in sorted(REGIONS)]

    def code_for(self, name: str) -> str:
        """The code of a region named ``name`` (a code, an English, Russian or Kazakh name,
        or an alias of the official reports).

        Raises:
            NotFoundError: no region has that name.
        """
        key = " ".join(name.strip().lower().split())
        if key in REGIONS:
            return key
        if key in self.aliases:
            return self.aliases[key]
        for region in REGIONS.values():
            if key in {region.name_en.lower(), region.name_ru.lower(), region.name_kk.lower()}:
                return region.code
        raise NotFoundError(f"no region named {name!r}")

    def population_of(self, code: str, on: date) -> tuple[int, Count] | None:
        """The region's population in force on ``on`` (the latest figure not after it, else
        the earliest), with its source; None when the table has no figure for it."""
        return _figure(self.population, code, on)

    def vehicles_of(self, code: str, on: date) -> tuple[int, Count] | None:
        """Registered vehicles, the same way; None when not given."""
        return _figure(self.vehicles, code, on)


def _figure(counts: tuple[Count, ...], code: str, on: date) -> tuple[int, Count] | None:
    usable = [c for c in counts if code in c.regions]
    if not usable:
        return None
    before = [c for c in usable if c.since <= on]
    chosen = before[-1] if before else usable[0]
    return chosen.regions[code], chosen


@lru_cache(maxsize=4)
def load_regions(path: Path | None = None) -> RegionTable:
    """The region table from ``path`` (default: the shipped one).

    Raises:
        ConfigError: the file is missing, not TOML, or names a region that does not exist or a
            number that is not a positive whole number.
    """
    path = path or SHIPPED
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"region table {path}: {exc}") from None
    problems: list[str] = []

    def counts(key: str) -> tuple[Count, ...]:
        found = []
        for i, entry in enumerate(raw.get(key, [])):
            since, regions = entry.get("date"), entry.get("regions", {})
            if not isinstance(since, date):
                problems.append(f"{key}[{i}].date is not a date")
                continue
            for code, value in regions.items():
                if code not in REGIONS:
                    problems.append(f"{key}[{i}]: no region {code!r}")
                if not isinstance(value, int) or value <= 0:
                    problems.append(f"{key}[{i}].{code}: {value!r} is not a positive number")
            found.append(Count(since=since, source=str(entry.get("source", "")), regions=regions))
        found.sort(key=lambda c: c.since)
        if len({c.since for c in found}) != len(found):
            problems.append(f"{key}: two entries for one date")
        return tuple(found)

    population, vehicles = counts("population"), counts("vehicles")
    aliases = {str(k).lower(): str(v) for k, v in raw.get("aliases", {}).items()}
    problems += [
        f"alias {k!r} → unknown region {v!r}" for k, v in aliases.items() if v not in REGIONS
    ]
    centres: dict[str, tuple[float, float]] = {}
    for code, point in raw.get("centres", {}).items():
        if code not in REGIONS or not (
            isinstance(point, list)
            and len(point) == 2
            and -90 <= point[0] <= 90
            and -180 <= point[1] <= 180
        ):
            problems.append(f"centre {code!r}: {point!r} is not a region's latitude, longitude")
            continue
        centres[code] = (float(point[0]), float(point[1]))
    if problems:
        raise ConfigError(f"region table {path} is invalid: " + "; ".join(problems))
    return RegionTable(population=population, vehicles=vehicles, aliases=aliases, centres=centres)
