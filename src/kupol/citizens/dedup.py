"""Which citizens' reports describe the same event, and whose report earns the reward.

Two reports are *linked* (:func:`same_event`) when they are of the same type and:

1. **both name a plate**: the normalised plates are equal and the events are at most
   ``plate_window`` (10 min) and ``plate_radius_m`` (500 m) apart — a car that ran a red light
   is filmed by several drivers, from a little further on. Different plates never link: two
   vehicles are two offences.
2. **otherwise** (a plate missing on either side): the events are at most ``window`` (3 min)
   and ``radius_m`` (100 m) apart and either the media are near-identical (perceptual hashes
   at most ``max_hash_distance`` of 64 bits apart: the same footage sent twice, or
   re-encoded) or the events are at most ``tight_window`` (30 s) and ``tight_radius_m``
   (30 m) apart — two witnesses of one moment, filmed from two sides.

A case is a group of linked reports (union-find over the links, so links chain), except that
a case never holds two different plates: a link that would join them is skipped. Links are
taken in a fixed order (by event time, then id), so the same reports always give the same
cases, whatever order they come in.

Within a case the earliest-submitted report the officer found valid wins (ties: then by id);
the others earn nothing (:func:`first_valid`).

Example:
    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
    >>> a = Report(id="a", type="red_light", occurred_at=at, submitted_at=at,
    ...            lat=43.2380, lon=76.9450, plate="777 ABC 02")
    >>> b = Report(id="b", type="red_light", occurred_at=at.replace(minute=32),
    ...            submitted_at=at.replace(hour=9), lat=43.2387, lon=76.9450, plate="777ABC02")
    >>> [case.report_ids for case in group_reports([b, a])]
    [('a', 'b')]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kupol.core.errors import InvalidInputError
from kupol.core.geo import haversine_m
from kupol.plates.formats import normalise


@dataclass(frozen=True, kw_only=True)
class Report:
    """A citizen's report as de-duplication sees it.

    ``occurred_at`` is when the event happened (from the media), ``submitted_at`` when the
    report arrived; both must carry a time zone. ``plate`` is normalised on creation (an
    empty plate is none); ``media_hash`` is a 64-bit perceptual hash of the photo or video.
    """

    id: str
    type: str
    occurred_at: datetime
    submitted_at: datetime
    lat: float
    lon: float
    plate: str | None = None
    media_hash: int | None = None

    def __post_init__(self) -> None:
        if not self.id or not self.type:
            raise InvalidInputError("a report needs an id and a type")
        if self.occurred_at.tzinfo is None or self.submitted_at.tzinfo is None:
            raise InvalidInputError(f"report {self.id}: times must carry a time zone")
        if not (math.isfinite(self.lat) and math.isfinite(self.lon)) or (
            abs(self.lat) > 90 or abs(self.lon) > 180
        ):
            raise InvalidInputError(f"report {self.id}: not a position on Earth")
        if self.media_hash is not None and not 0 <= self.media_hash < 1 << 64:
            raise InvalidInputError(f"report {self.id}: the media hash must be 64-bit")
        object.__setattr__(self, "plate", normalise(self.plate or "") or None)


@dataclass(frozen=True, kw_only=True)
class DedupRules:
    """The thresholds of the rules in the module's docstring."""

    plate_window: timedelta = timedelta(minutes=10)
    plate_radius_m: float = 500.0
    window: timedelta = timedelta(minutes=3)
    radius_m: float = 100.0
    max_hash_distance: int = 10
    tight_window: timedelta = timedelta(seconds=30)
    tight_radius_m: float = 30.0

    def __post_init__(self) -> None:
        spans = (self.plate_window, self.window, self.tight_window)
        radii = (self.plate_radius_m, self.radius_m, self.tight_radius_m)
        if any(s < timedelta(0) for s in spans) or any(not r >= 0 for r in radii):
            raise InvalidInputError("windows and radii cannot be negative")
        if not 0 <= self.max_hash_distance <= 64:
            raise InvalidInputError("max_hash_distance is a number of bits, 0 to 64")


@dataclass(frozen=True, kw_only=True)
class Case:
    """Reports of one event, earliest-submitted first; ``key`` is the first one's id."""

    key: str
    type: str
    plate: str | None
    reports: tuple[Report, ...] = field(repr=False)

    @property
    def report_ids(self) -> tuple[str, ...]:
        """The reports' ids, earliest-submitted first."""
        return tuple(r.id for r in self.reports)


DEFAULT_RULES = DedupRules()


def same_event(a: Report, b: Report, rules: DedupRules = DEFAULT_RULES) -> bool:
    """Whether two reports are linked by the rules in the module's docstring.

    Example:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
        >>> a = Report(id="a", type="red_light", occurred_at=at, submitted_at=at, lat=43.0,
        ...            lon=76.0, plate="777ABC02")
        >>> same_event(a, Report(id="b", type="red_light", occurred_at=at, submitted_at=at,
        ...            lat=43.0, lon=76.0, plate="777ABD02"))
        False
    """
    if a.type != b.type:
        return False
    gap = abs(a.occurred_at - b.occurred_at)
    if a.plate is not None and b.plate is not None:
        if a.plate != b.plate or gap > rules.plate_window:
            return False
        return _metres(a, b) <= rules.plate_radius_m
    if gap > rules.window:
        return False
    metres = _metres(a, b)
    if metres > rules.radius_m:
        return False
    near = gap <= rules.tight_window and metres <= rules.tight_radius_m
    if a.media_hash is None or b.media_hash is None:
        return near
    return near or (a.media_hash ^ b.media_hash).bit_count() <= rules.max_hash_distance


def group_reports(reports: Iterable[Report], rules: DedupRules = DEFAULT_RULES) -> list[Case]:
    """The cases the reports make up, ordered by their first submission (then key).

    Raises:
        InvalidInputError: Two reports share an id.
    """
    ordered = sorted(reports, key=lambda r: (r.occurred_at, r.id))
    if len({r.id for r in ordered}) != len(ordered):
        raise InvalidInputError("report ids must be unique")
    parent = list(range(len(ordered)))
    plates = [r.plate for r in ordered]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    reach = max(rules.plate_window, rules.window)
    for i, a in enumerate(ordered):
        for j in range(i + 1, len(ordered)):
            b = ordered[j]
            if b.occurred_at - a.occurred_at > reach:
                break
            ra, rb = root(i), root(j)
            if ra == rb or not same_event(a, b, rules):
                continue
            if plates[ra] is not None and plates[rb] is not None and plates[ra] != plates[rb]:
                continue
            keep, gone = min(ra, rb), max(ra, rb)
            parent[gone], plates[keep] = keep, plates[keep] or plates[gone]
    groups: dict[int, list[Report]] = {}
    for i, report in enumerate(ordered):
        groups.setdefault(root(i), []).append(report)
    cases = []
    for i, members in groups.items():
        members.sort(key=_submission)
        cases.append(
            Case(key=members[0].id, type=members[0].type, plate=plates[i], reports=tuple(members))
        )
    return sorted(cases, key=lambda c: _submission(c.reports[0]))


def first_valid(case: Case, validity: Mapping[str, bool]) -> str | None:
    """The report of ``case`` that earns the reward: the earliest-submitted one the officer
    found valid (ties broken by id). Later reports earn nothing.

    A report missing from ``validity`` is not reviewed yet: while an earlier report awaits
    review no one wins (``None``), so a later reporter is never paid ahead of one who may
    still prove first. ``None`` also when every report was found invalid.

    Example:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
        >>> r = [Report(id=i, type="red_light", occurred_at=at, submitted_at=at, lat=43.0,
        ...             lon=76.0, plate="777ABC02") for i in ("a", "b")]
        >>> case = group_reports(r)[0]
        >>> first_valid(case, {"a": False, "b": True}), first_valid(case, {"b": True})
        ('b', None)
    """
    for report in sorted(case.reports, key=_submission):
        verdict = validity.get(report.id)
        if verdict is None:
            return None
        if verdict:
            return report.id
    return None


def _submission(report: Report) -> tuple[datetime, str]:
    return report.submitted_at, report.id


def _metres(a: Report, b: Report) -> float:
    return haversine_m((a.lat, a.lon), (b.lat, b.lon))
