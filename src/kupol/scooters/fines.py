"""Fines on rental operators for their renters' speeding, as dated data
(``reference/kz-scooter-fines.toml``, or a deployment's own copy): the amount for a first
offence and for a repeat one within a year, from the date each applies.

The amounts in the shipped table are the issue's figures and must be checked against the
published law (see the file's header).

Example:
    >>> table = load_scooter_fines()
    >>> table.fine(on=date(2026, 8, 1)).tenge
    86500
    >>> table.fine(on=date(2026, 8, 1), earlier=[date(2026, 7, 20)]).tenge
    173000
    >>> table.fine(on=date(2026, 6, 30)) is None  # before the law applies
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kupol.core.errors import ConfigError
from kupol.core.reference import read_toml
from kupol.scooters.violations import ScooterViolation

DEFAULT_TABLE = Path(__file__).with_name("reference") / "kz-scooter-fines.toml"


@dataclass(frozen=True, kw_only=True)
class FinePeriod:
    """The amounts for one offence from ``start`` until the next period of it."""

    offence: str
    start: date
    first_tenge: int
    repeat_tenge: int
    repeat_within_years: int
    source: str


@dataclass(frozen=True, kw_only=True)
class ScooterFine:
    """The fine for one offence of an operator."""

    offence: str
    on: date
    repeat: bool
    tenge: int
    source: str
    trip_id: str | None = None
    provider_id: str | None = None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True, kw_only=True)
class ScooterFineTable:
    """The dated amounts of every offence (:func:`load_scooter_fines`)."""

    periods: tuple[FinePeriod, ...]

    def fine(
        self, *, on: date, offence: str = "speeding", earlier: Sequence[date] = ()
    ) -> ScooterFine | None:
        """The fine for an offence on ``on``, given the operator's ``earlier`` offences;
        ``None`` before any period of the offence applies."""
        periods = [p for p in self.periods if p.offence == offence and p.start <= on]
        if not periods:
            return None
        period = max(periods, key=lambda p: p.start)
        since = _years_before(on, period.repeat_within_years)
        repeat = any(since <= d <= on for d in earlier)
        return ScooterFine(
            offence=offence,
            on=on,
            repeat=repeat,
            tenge=period.repeat_tenge if repeat else period.first_tenge,
            source=period.source,
        )


def fines_for(
    violations: Sequence[ScooterViolation],
    table: ScooterFineTable,
    *,
    earlier: Mapping[str, Sequence[date]] | None = None,
) -> list[ScooterFine]:
    """The operators' fines for the speeding among ``violations``, in time order: each after
    the first within a year is a repeat. ``earlier``: each operator's offences before these.

    Each speeding violation counts as one offence of the trip's operator (a simplification:
    the law's notion of a repeat — after a penalty was imposed — is the case officer's to
    apply). Dates are the violations' UTC dates.
    """
    history = {k: list(v) for k, v in (earlier or {}).items()}
    fines = []
    for violation in sorted(violations, key=lambda v: v.at):
        if not violation.kind.speeding:
            continue
        past = history.setdefault(violation.provider_id, [])
        fine = table.fine(on=violation.at.date(), earlier=past)
        if fine is None:
            continue
        past.append(fine.on)
        fines.append(
            ScooterFine(
                offence=fine.offence,
                on=fine.on,
                repeat=fine.repeat,
                tenge=fine.tenge,
                source=fine.source,
                trip_id=violation.trip_id,
                provider_id=violation.provider_id,
            )
        )
    return fines


_FIELDS = {
    "offence": str,
    "from": date,
    "first_tenge": int,
    "repeat_tenge": int,
    "repeat_within_years": int,
    "source": str,
}


def load_scooter_fines(path: Path | None = None) -> ScooterFineTable:
    """The fines table from ``path`` (TOML), or the one kupol ships.

    Raises:
        ConfigError: The file is missing, not TOML, or a period lacks a field or has a bad
            one; the message names the file and the period.
    """
    path = path or DEFAULT_TABLE
    raw = read_toml(path, "scooter fines")
    periods = raw.get("period")
    if not isinstance(periods, list) or not periods:
        raise ConfigError(f"scooter fines {path}: no [[period]]")
    out = []
    for i, period in enumerate(periods):
        for key, kind in _FIELDS.items():
            value = period.get(key)
            if not isinstance(value, kind) or isinstance(value, bool) or value in ("", None):
                raise ConfigError(
                    f"scooter fines {path}: period {i + 1}: {key} is missing or not {kind.__name__}"
                )
        if not 0 < period["first_tenge"] <= period["repeat_tenge"]:
            raise ConfigError(
                f"scooter fines {path}: period {i + 1}: amounts must be positive, "
                "the repeat one at least the first"
            )
        out.append(
            FinePeriod(
                offence=period["offence"],
                start=period["from"],
                first_tenge=period["first_tenge"],
                repeat_tenge=period["repeat_tenge"],
                repeat_within_years=period["repeat_within_years"],
                source=period["source"],
            )
        )
    return ScooterFineTable(periods=tuple(sorted(out, key=lambda p: (p.offence, p.start))))
