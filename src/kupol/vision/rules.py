"""Suspicious situations from tracks and zones: intrusion, loitering, crowds.

Each rule has one verb, ``trigger``, called once per analysed frame with what the tracker and
the zone monitor saw; it returns the situations that begin on this frame. A situation is
reported once (per track and zone, or per crowd episode), never on every frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kupol.core.errors import ConfigError
from kupol.vision.config import CrowdConfig, IntrusionConfig, LoiteringConfig
from kupol.vision.detections import COCO_CLASSES, PERSON, Detections, class_id_of, class_name
from kupol.vision.zones import ZoneConfig, ZoneEvent, ZoneMonitor


@dataclass(frozen=True, kw_only=True)
class Situation:
    """A suspicious situation found on this frame."""

    type: str
    track_id: int | None
    class_id: int | None
    zone: str | None
    details: dict[str, float | int | str]


def _class_ids(classes: Sequence[str], names: Sequence[str]) -> set[int]:
    # Checked when the camera's analytics are saved, where the detector's names are known
    # then; an operator's model that names its classes only inside the file is checked here.
    try:
        return {class_id_of(c, names) for c in classes}
    except KeyError as error:
        raise ConfigError(f"unknown object class {error.args[0]!r} in the rules") from None


@dataclass(kw_only=True)
class IntrusionRule:
    """Entries into zones of kind ``restricted``."""

    config: IntrusionConfig
    zones: list[ZoneConfig]
    names: Sequence[str] = COCO_CLASSES
    _allowed: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.config.enabled:
            return
        self._allowed = {
            z.name: _class_ids(z.classes or self.config.classes, self.names)
            for z in self.zones
            if z.kind == "restricted"
        }

    def trigger(self, zone_events: list[ZoneEvent]) -> list[Situation]:
        """Situations for this frame's zone entries."""
        if not self.config.enabled:
            return []
        found = []
        for event in zone_events:
            allowed = self._allowed.get(event.zone)
            if event.kind != "zone_enter" or allowed is None or event.class_id not in allowed:
                continue
            found.append(
                Situation(
                    type="intrusion",
                    track_id=event.track_id,
                    class_id=event.class_id,
                    zone=event.zone,
                    details={"zone_kind": "restricted"},
                )
            )
        return found


@dataclass(kw_only=True)
class LoiteringRule:
    """Someone who stays longer than ``seconds`` in a watched zone (or in view)."""

    config: LoiteringConfig
    zone_names: list[str]
    names: Sequence[str] = COCO_CLASSES
    _classes: set[int] = field(default_factory=set)
    _first_seen: dict[int, float] = field(default_factory=dict)
    _reported: set[tuple[int, str | None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.config.enabled:
            self._classes = _class_ids(self.config.classes, self.names)

    def trigger(
        self, *, pts_s: float, tracked: Detections, monitor: ZoneMonitor | None
    ) -> list[Situation]:
        """Situations for tracks that have just stayed too long."""
        if not self.config.enabled:
            return []
        classes = self._classes
        current = {
            int(t): int(c)
            for t, c in zip(tracked.tracker_id, tracked.class_id, strict=True)
            if t >= 0 and int(c) in classes
        }
        for track_id in current:
            self._first_seen.setdefault(track_id, pts_s)
        for gone in set(self._first_seen) - set(current):
            if pts_s - self._first_seen[gone] > 3600:
                del self._first_seen[gone]
        found: list[Situation] = []
        watched = self.config.zones or self.zone_names
        if watched and monitor is not None:
            for zone in watched:
                for track_id, entered in monitor.occupants(zone).items():
                    if track_id in current:
                        self._check(found, track_id, current[track_id], zone, pts_s - entered)
        elif not watched:
            for track_id, class_id in current.items():
                stay = pts_s - self._first_seen[track_id]
                self._check(found, track_id, class_id, None, stay)
        return found

    def _check(
        self, found: list[Situation], track_id: int, class_id: int, zone: str | None, stay: float
    ) -> None:
        if stay < self.config.seconds or (track_id, zone) in self._reported:
            return
        self._reported.add((track_id, zone))
        found.append(
            Situation(
                type="loitering",
                track_id=track_id,
                class_id=class_id,
                zone=zone,
                details={"dwell_s": round(stay, 1)},
            )
        )

    def track_ended(self, track_id: int) -> None:
        """Forget a finished track."""
        self._first_seen.pop(track_id, None)
        self._reported = {key for key in self._reported if key[0] != track_id}


@dataclass(kw_only=True)
class CrowdRule:
    """At least ``min_count`` people for ``hold_s``; re-armed when the crowd thins out."""

    config: CrowdConfig
    _since: float | None = None
    _below_since: float | None = None
    _armed: bool = True
    _last_alert: float | None = None

    def trigger(
        self, *, pts_s: float, tracked: Detections, monitor: ZoneMonitor | None
    ) -> list[Situation]:
        """A crowd situation when one has just formed."""
        if not self.config.enabled:
            return []
        people = tracked[(tracked.class_id == PERSON) & (tracked.tracker_id >= 0)]
        if self.config.zone is not None and monitor is not None:
            inside = monitor.occupants(self.config.zone)
            count = int(np.isin(people.tracker_id, list(inside)).sum())
        else:
            count = len(people)
        if count < self.config.min_count:
            if count < max(1, int(self.config.min_count * 0.8)):
                self._armed = True
            # A detector misses someone now and then: a dip shorter than a second does not
            # break the crowd's count of time.
            if self._below_since is None:
                self._below_since = pts_s
            if pts_s - self._below_since > 1.0:
                self._since = None
            return []
        self._below_since = None
        if self._since is None:
            self._since = pts_s
        cooling = self._last_alert is not None and pts_s - self._last_alert < self.config.cooldown_s
        if not self._armed or cooling or pts_s - self._since < self.config.hold_s:
            return []
        self._armed = False
        self._last_alert = pts_s
        return [
            Situation(
                type="crowd",
                track_id=None,
                class_id=PERSON,
                zone=self.config.zone,
                details={"count": count, "class": class_name(PERSON)},
            )
        ]
