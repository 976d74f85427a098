"""Recognition of public-order helpers (thanks letter, badge, reward) as dated data: what a
quarter's or a year's activity earns, by the version in force on the day of the award
(``reference/kz-helper-recognition.toml``, or a deployment's own copy), each level once per
helper and period. Money is in MCI (МРП), turned into tenge at the award year's value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kupol.citizens.helpers_rules import Activity, reliability_of
from kupol.core.errors import ConfigError, InvalidInputError
from kupol.core.reference import load_rules

DEFAULT_RECOGNITION = Path(__file__).with_name("reference") / "kz-helper-recognition.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecognitionLevel(_Frozen):
    """One kind of recognition and what earns it in one quarter or calendar year."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="e.g. thanks_letter, badge.")
    per: Literal["quarter", "year"] = Field(description="The period the thresholds apply to.")
    min_hours: float = Field(ge=0, description="Attended hours in the period, at least.")
    min_reliability: float | None = Field(default=None, ge=0, le=1, description="At least.")
    min_reports: int = Field(default=0, ge=0, description="Confirmed reports, at least.")
    amount_mci: int | None = Field(default=None, gt=0, description="Money, in MCI (МРП).")


class RecognitionVersion(_Frozen):
    """The levels in force from ``since`` until ``until`` (inclusive) or the next version."""

    since: date
    until: date | None = None
    source: str = Field(min_length=1, description="The order that set them.")
    level: tuple[RecognitionLevel, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.until is not None and self.until < self.since:
            raise ValueError("until cannot be before since")
        if len({lv.name for lv in self.level}) != len(self.level):
            raise ValueError("each level may be listed once")
        return self


@dataclass(frozen=True, kw_only=True)
class AwardKey:
    """What may be awarded once only: one level, to one helper, for one period."""

    helper: str
    level: str
    period: str


@dataclass(frozen=True, kw_only=True)
class Recognition:
    """A level a helper earned for a period (``2026-Q2`` or ``2026``), with the figures why."""

    helper: str
    level: str
    period: str
    reason: str
    hours: float
    reliability: float | None
    reports_confirmed: int
    amount_mci: int | None
    amount_tenge: int | None
    source: str

    @property
    def key(self) -> AwardKey:
        """The key that stops this level being awarded again for this period."""
        return AwardKey(helper=self.helper, level=self.level, period=self.period)


class RecognitionRules(_Frozen):
    """Recognition versions, oldest first, and the MCI (МРП) in tenge for each year."""

    mci_tenge: dict[int, Annotated[int, Field(gt=0)]]
    version: tuple[RecognitionVersion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for before, after in zip(self.version, self.version[1:], strict=False):
            if after.since <= before.since or (before.until and before.until >= after.since):
                raise ValueError(
                    f"versions overlap or are out of order: {before.since} and {after.since}"
                )
        return self

    def version_on(self, day: date) -> RecognitionVersion | None:
        """The version in force on ``day``, or ``None``."""
        known = [v for v in self.version if v.since <= day and (v.until is None or day <= v.until)]
        return known[-1] if known else None

    def earned(
        self, activities: Sequence[Activity], *, on: date, already: Collection[AwardKey] = ()
    ) -> list[Recognition]:
        """The recognition earned by quarters and years that are over by ``on``.

        The version in force on ``on`` sets the thresholds; a reward is paid at the MCI of
        ``on``'s year. Windows are summed from the monthly ``activities`` (a missing month
        counts as no activity); hours are compared after rounding to 0.1.

        Args:
            activities: Monthly activity, at most one per helper and month.
            on: The day the awards are made.
            already: Awards made before; they are never made again.

        Raises:
            InvalidInputError: Two activities share a helper and month.
            ConfigError: A reward is due but no MCI value is known for ``on``'s year.
        """
        version = self.version_on(on)
        if version is None:
            return []
        seen: set[tuple[str, date]] = set()
        windows: defaultdict[tuple[str, str, str], list[Activity]] = defaultdict(list)
        for a in activities:
            if (a.helper, a.month.replace(day=1)) in seen:
                raise InvalidInputError(f"two activities of {a.helper} for {a.month:%Y-%m}")
            seen.add((a.helper, a.month.replace(day=1)))
            quarter = f"{a.month.year}-Q{(a.month.month - 1) // 3 + 1}"
            windows[a.helper, "quarter", quarter].append(a)
            windows[a.helper, "year", str(a.month.year)].append(a)
        result = []
        for (helper, per, period), months in sorted(windows.items()):
            if _period_end(period) >= on:
                continue
            hours = round(sum(m.hours for m in months), 1)
            reliability = reliability_of(
                sum(m.attended for m in months), sum(m.no_shows for m in months)
            )
            reports = sum(m.reports_confirmed for m in months)
            for level in version.level:
                key = AwardKey(helper=helper, level=level.name, period=period)
                if level.per != per or key in already or hours < level.min_hours:
                    continue
                if level.min_reliability is not None and (
                    reliability is None or reliability < level.min_reliability
                ):
                    continue
                if reports < level.min_reports:
                    continue
                result.append(
                    Recognition(
                        helper=helper,
                        level=level.name,
                        period=period,
                        reason=_reason(level, period, hours, reliability, reports),
                        hours=hours,
                        reliability=reliability,
                        reports_confirmed=reports,
                        amount_mci=level.amount_mci,
                        amount_tenge=self._tenge(level.amount_mci, on.year),
                        source=version.source,
                    )
                )
        return result

    def _tenge(self, mci: int | None, year: int) -> int | None:
        if mci is None:
            return None
        if year not in self.mci_tenge:
            raise ConfigError(f"recognition rules give no MCI (МРП) value for {year}")
        return mci * self.mci_tenge[year]


def load_recognition(path: Path | None = None) -> RecognitionRules:
    """The recognition rules from ``path`` (TOML), or the ones kupol ships.

    Raises:
        ConfigError: The file is missing, is not TOML, or has unknown keys, negative
            thresholds or overlapping versions; the message names the file and each problem.
    """
    return load_rules(path or DEFAULT_RECOGNITION, RecognitionRules, "recognition rules")


def _period_end(period: str) -> date:
    year, _, quarter = period.partition("-Q")
    if not quarter:
        return date(int(year), 12, 31)
    after = date(int(year) + (quarter == "4"), int(quarter) % 4 * 3 + 1, 1)
    return after - timedelta(days=1)


def _reason(
    level: RecognitionLevel, period: str, hours: float, reliability: float | None, reports: int
) -> str:
    parts = [f"{hours:g} h attended in {period} (needs {level.min_hours:g})"]
    if level.min_reliability is not None and reliability is not None:
        parts.append(f"reliability {reliability:.2f} (needs {level.min_reliability:g})")
    if level.min_reports:
        parts.append(f"{reports} confirmed reports (needs {level.min_reports})")
    return ", ".join(parts)
