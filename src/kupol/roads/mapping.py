"""How a source's CSV maps onto the accident registry: a TOML file per source.

A mapping names the column of each registry field, translates the source's values into the
registry's vocabulary (:mod:`kupol.roads.vocabulary`), says how time and place are written
(date formats, the coordinate reference system — a national grid is converted to WGS 84 with
pyproj), and may count casualties from a related file (the Edinburgh records keep them in
``casualty.csv`` beside ``accident.csv``). Shipped mappings live in ``kupol/roads/mappings``;
a deployment writes its own for its police's export. See docs/roads.md for every key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kupol.core.errors import ConfigError
from kupol.roads.vocabulary import FIELDS

SHIPPED = Path(__file__).parent / "mappings"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeColumns(_Strict):
    """Where the time is: one column, or a date column with a time-of-day column or with hour
    and minute columns."""

    datetime: str | None = Field(None, description="One column with date and time.")
    date: str | None = None
    time: str | None = Field(None, description="A time-of-day column (with date).")
    time_format: str = Field("%H:%M", description="strptime format of the time column.")
    hour: str | None = None
    minute: str | None = None
    format: str = Field("%Y-%m-%d %H:%M", description="strptime format of the time column.")
    date_format: str = Field("%Y-%m-%d", description="strptime format of the date column.")

    @model_validator(mode="after")
    def _one_way(self) -> TimeColumns:
        if (self.datetime is None) == (self.date is None):
            raise ValueError("give either time.datetime or time.date (with hour, minute)")
        return self


class PlaceColumns(_Strict):
    """Where the place is: latitude/longitude, or x/y in a projected system (``crs``)."""

    latitude: str | None = None
    longitude: str | None = None
    x: str | None = None
    y: str | None = None
    crs: str = Field("EPSG:4326", description="The x/y columns' system, e.g. EPSG:27700.")
    bbox: tuple[float, float, float, float] | None = Field(
        None, description="South, west, north, east: a place outside is refused as a typo."
    )
    required: bool = Field(False, description="Refuse rows without a place.")

    @model_validator(mode="after")
    def _pairs(self) -> PlaceColumns:
        geographic = self.latitude is not None and self.longitude is not None
        projected = self.x is not None and self.y is not None
        if not geographic and not projected:
            raise ValueError("give place.latitude and place.longitude, or place.x and place.y")
        return self


class RelatedCount(_Strict):
    """A registry count taken from a related file: its rows for the accident, where a column
    has one of the given values (e.g. casualties whose severity is Fatal → ``killed``)."""

    field: Literal["killed", "injured", "participants", "vehicles"]
    file_replace: tuple[str, str] = Field(
        description="The related file's name: the main file's with this text replaced, e.g. "
        '["accident", "casualty"].'
    )
    key: str = Field(description="The column of both files that holds the accident's reference.")
    where: dict[str, list[str]] = Field(default_factory=dict)


class Mapping(_Strict):
    """One source's CSV layout."""

    name: str = Field(pattern=r"^[a-z0-9_-]{1,64}$")
    source: str = Field(pattern=r"^[a-z0-9_-]{1,40}$", description="Names the source's records.")
    description: str = ""
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    timezone: str = Field("Asia/Almaty", description="The local time of the records.")
    reference: str = Field(description="The column of the source's own accident reference.")
    time: TimeColumns
    place: PlaceColumns
    region: str | None = Field(None, description="The column of the region code.")
    region_fixed: str | None = Field(None, description="One region code for every row.")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Registry field → source column (district, road, road_class, kind, "
        "severity, killed, injured, vehicles, participants, light, weather, surface, "
        "speed_limit, description).",
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per field, the source's value → the registry's (see vocabulary).",
    )
    defaults: dict[str, str] = Field(
        default_factory=dict,
        description="Per field, the registry value for a source value not in `values` "
        "(without one, such a row is rejected).",
    )
    speed_unit: Literal["kmh", "mph"] = "kmh"
    counts: list[RelatedCount] = Field(default_factory=list)
    extra: list[str] = Field(default_factory=list, description="Source columns kept as they are.")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        known = {
            "district",
            "road",
            "road_class",
            "kind",
            "severity",
            "killed",
            "injured",
            "vehicles",
            "participants",
            "light",
            "weather",
            "surface",
            "speed_limit",
            "description",
        }
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown registry fields: {', '.join(unknown)}")
        if "severity" not in value:
            raise ValueError("columns.severity is required")
        return value

    @model_validator(mode="after")
    def _vocabulary(self) -> Mapping:
        for field, table in (
            *self.values.items(),
            *((k, {"": v}) for k, v in self.defaults.items()),
        ):
            allowed = FIELDS.get(field)
            if allowed is None:
                raise ValueError(f"values/defaults for {field!r}, which has no fixed list")
            wrong = sorted({v for v in table.values() if v not in allowed})
            if wrong:
                raise ValueError(f"{field}: {', '.join(wrong)} not among {', '.join(allowed)}")
        return self


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A shipped mapping by name (``edinburgh``) or a mapping file.

    Raises:
        ConfigError: no such mapping, not TOML, or not a valid mapping (every problem named).
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = SHIPPED / f"{name_or_path}.toml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.toml")))
        raise ConfigError(f"no mapping {name_or_path!s} (shipped: {shipped})")
    try:
        return Mapping.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"mapping {path} is not TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'mapping'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"mapping {path} is invalid: {problems}") from None
