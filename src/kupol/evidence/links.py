"""Clips linked to alerts by time and place: an alert raised at a camera while the clip was
recording, within ``radius_m`` of where the device was then (its GPS track), is the clip's
— and to incidents (:func:`nearest_approach`). A clip without a GPS track is linked to
nothing automatically."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.alerts.model import Alert
from kupol.cameras.model import Camera
from kupol.core.geo import haversine_m
from kupol.evidence.model import EvidenceItem


@dataclass(frozen=True, kw_only=True)
class RelatedAlert:
    """An alert a clip saw, and how near the device was."""

    alert_id: int
    camera_id: str
    event_type: str
    raised_at: datetime
    distance_m: float


def track(item: EvidenceItem) -> list[tuple[datetime, float, float]]:
    points = []
    for point in item.gps or []:
        try:
            at = datetime.fromisoformat(str(point[2]))
            points.append((at, float(point[0]), float(point[1])))
        except (ValueError, TypeError, IndexError):
            continue
    return sorted(p for p in points if p[0].tzinfo is not None)


def related_alerts(
    session: Session, item: EvidenceItem, *, radius_m: float = 300.0, slack_s: float = 120.0
) -> list[RelatedAlert]:
    """Alerts raised during the clip (± ``slack_s``) at cameras within ``radius_m`` of the
    device's position nearest that time."""
    points = track(item)
    if item.started_at is None or item.ended_at is None or not points:
        return []
    slack = timedelta(seconds=slack_s)
    rows = session.execute(
        select(Alert, Camera.latitude, Camera.longitude)
        .join(Camera, Camera.id == Alert.camera_id)
        .where(Alert.raised_at >= item.started_at - slack, Alert.raised_at <= item.ended_at + slack)
        .order_by(Alert.raised_at)
    )
    found = []
    for alert, latitude, longitude in rows:
        at, lat, lon = min(points, key=lambda p: abs((p[0] - alert.raised_at).total_seconds()))
        if abs((at - alert.raised_at).total_seconds()) > slack_s:
            continue  # the track has no position near that time
        distance = haversine_m((lat, lon), (latitude, longitude))
        if distance <= radius_m:
            found.append(
                RelatedAlert(
                    alert_id=alert.id,
                    camera_id=alert.camera_id,
                    event_type=alert.event_type,
                    raised_at=alert.raised_at,
                    distance_m=round(distance, 1),
                )
            )
    return found


def nearest_approach(
    item: EvidenceItem,
    *,
    latitude: float,
    longitude: float,
    start: datetime,
    end: datetime,
    slack_s: float = 120.0,
) -> float | None:
    """How close (metres) the clip's device came to a place between ``start`` and ``end``
    (± ``slack_s``) while it recorded; ``None`` when its track has no point then."""
    if item.started_at is None or item.ended_at is None:
        return None
    slack = timedelta(seconds=slack_s)
    low, high = max(start - slack, item.started_at), min(end + slack, item.ended_at)
    if low > high:
        return None
    distances = [
        haversine_m((lat, lon), (latitude, longitude))
        for at, lat, lon in track(item)
        if low - slack <= at <= high + slack
    ]
    return round(min(distances), 1) if distances else None
