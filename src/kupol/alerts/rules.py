"""Compiled alert rules: does this event meet this rule's conditions?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from kupol.alerts.model import AlertRule


class Facts(Protocol):
    """What a rule reads off an event: an observed event itself has these attributes, so the
    alert engine hands its events over as they are (a copy of the five fields per event made
    matching a 2,000-event batch against two rules take 2.6 ms instead of 0.65)."""

    @property
    def type(self) -> str: ...
    @property
    def camera_id(self) -> str: ...
    @property
    def zone(self) -> str | None: ...
    @property
    def confidence(self) -> float: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True, kw_only=True)
class EventFacts:
    """The fields of an event that rules look at, on their own: a rule can be tried without
    building an event (the example below)."""

    type: str
    camera_id: str
    zone: str | None
    confidence: float
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True)
class CompiledRule:
    """An :class:`AlertRule` turned into fast checks.

    Example:
        >>> from datetime import UTC
        >>> rule = CompiledRule(id=1, name="night motion", severity="high",
        ...     event_types=frozenset({"motion"}), camera_ids=frozenset(), zones=frozenset(),
        ...     min_confidence=0.5, window=(time(22), time(6)), weekdays=frozenset(),
        ...     tz=ZoneInfo("Asia/Almaty"), cooldown_s=60)
        >>> facts = EventFacts(type="motion", camera_id="c1", zone=None, confidence=0.9,
        ...     occurred_at=datetime(2026, 1, 5, 20, 0, tzinfo=UTC))  # 01:00 in Almaty
        >>> rule.matches(facts)
        True
    """

    id: int
    name: str
    severity: str
    event_types: frozenset[str]
    camera_ids: frozenset[str]
    zones: frozenset[str]
    min_confidence: float
    window: tuple[time, time] | None
    weekdays: frozenset[int]
    tz: ZoneInfo
    cooldown_s: int

    @classmethod
    def from_row(cls, row: AlertRule) -> CompiledRule:
        """Compile a stored rule."""
        window = None
        if row.active_from and row.active_to:
            window = (time.fromisoformat(row.active_from), time.fromisoformat(row.active_to))
        return cls(
            id=row.id,
            name=row.name,
            severity=row.severity,
            event_types=frozenset(row.event_types),
            camera_ids=frozenset(row.camera_ids),
            zones=frozenset(row.zones),
            min_confidence=row.min_confidence,
            window=window,
            weekdays=frozenset(row.weekdays),
            tz=ZoneInfo(row.timezone),
            cooldown_s=row.cooldown_s,
        )

    def matches(self, event: Facts) -> bool:
        """Whether ``event`` meets every condition of the rule."""
        if self.event_types and event.type not in self.event_types:
            return False
        if self.camera_ids and event.camera_id not in self.camera_ids:
            return False
        if self.zones and event.zone not in self.zones:
            return False
        if event.confidence < self.min_confidence:
            return False
        if self.window is None and not self.weekdays:
            return True
        local = event.occurred_at.astimezone(self.tz)
        if self.weekdays and local.isoweekday() not in self.weekdays:
            return False
        if self.window is not None:
            start, end = self.window
            now = local.time()
            inside = start <= now < end if start <= end else (now >= start or now < end)
            if not inside:
                return False
        return True
