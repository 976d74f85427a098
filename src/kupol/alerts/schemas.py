"""Alert API shapes."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kupol.alerts.model import AlertStatus, Severity

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class AlertRuleCreate(BaseModel):
    """A rule: which events (type, camera, zone, confidence, time) raise which alert."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    severity: Severity = Severity.MEDIUM
    event_types: list[str] = Field(default_factory=list, description="Empty: any type.")
    camera_ids: list[str] = Field(default_factory=list, description="Empty: any camera.")
    zones: list[str] = Field(default_factory=list, description="Empty: anywhere.")
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    active_from: str | None = Field(None, description="Local time HH:MM the rule starts.")
    active_to: str | None = Field(None, description="Local time HH:MM it ends (may wrap).")
    weekdays: list[int] = Field(default_factory=list, description="1=Mon..7=Sun; empty: all.")
    timezone: str = "Asia/Almaty"
    cooldown_s: int = Field(
        60, ge=0, le=86_400, description="Events within this time join the open alert."
    )
    enabled: bool = True

    @field_validator("active_from", "active_to")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not HHMM.match(value):
            raise ValueError("use 24-hour HH:MM, e.g. 22:00")
        return value

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(d < 1 or d > 7 for d in value):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _both_ends(self) -> AlertRuleCreate:
        if (self.active_from is None) != (self.active_to is None):
            raise ValueError("give both active_from and active_to, or neither")
        if self.active_from is not None and self.active_from == self.active_to:
            raise ValueError(
                "active_from equals active_to: the rule could never match; "
                "leave both out for all day"
            )
        return self


class AlertRuleRead(AlertRuleCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_by: str
    created_at: datetime


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: int
    rule_name: str = ""
    camera_id: str
    first_event_id: UUID
    event_type: str
    zone: str | None
    severity: Severity
    status: AlertStatus
    raised_at: datetime
    last_event_at: datetime
    event_count: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    close_comment: str | None


class AlertClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(
        min_length=3, max_length=2000, description="What was found or done; kept with the alert."
    )
