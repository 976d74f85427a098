"""Bus messages of the alerts domain (live feeds listen to these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kupol.core.messages import Event


@dataclass(frozen=True, kw_only=True)
class AlertChanged(Event):
    """An alert was raised, gathered another event, was acknowledged or closed."""

    alert_id: int
    change: str  # raised | repeated | acknowledged | closed
    rule_name: str
    camera_id: str
    event_type: str
    zone: str | None
    severity: str
    status: str
    raised_at: datetime
    event_count: int
    by: str | None = None
