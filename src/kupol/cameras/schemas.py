"""Camera API shapes: CameraCreate / CameraUpdate / CameraRead, and zones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kupol.cameras.model import CameraKind
from kupol.vision.config import camera_analytics
from kupol.vision.zones import ZoneConfig

CameraId = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="Stable id: lower-case letters, digits, dashes.",
    ),
]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "file://", "/", "./")


Zone = ZoneConfig
"""A named polygon in image coordinates (0..1 from the top-left), watched or restricted."""


def _check_scheme(value: str | None) -> None:
    if value is not None and not value.startswith(STREAM_SCHEMES):
        raise ValueError(f"stream_url must start with one of {', '.join(STREAM_SCHEMES)}")


def _check_zone_names(value: list[Zone] | None) -> None:
    names = [z.name for z in value or []]
    if len(names) != len(set(names)):
        raise ValueError("zone names must be unique within a camera")


class CameraBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: CameraKind = CameraKind.FIXED
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    heading_deg: float | None = Field(None, ge=0, lt=360, description="0 = north, clockwise.")
    stream_url: str | None = Field(None, max_length=1000)
    region_code: str | None = Field(
        None, pattern=r"^(0[1-9]|1[0-9]|20)$", description="Kazakhstan region code 01-20."
    )
    zones: list[Zone] = Field(default_factory=list, max_length=32)
    analytics: dict[str, Any] = Field(
        default_factory=dict,
        description="What the vision pipeline does with this camera (see CameraAnalytics).",
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _analytics_are_valid(self) -> CameraBase:
        camera_analytics(zones=self.zones, analytics=self.analytics)
        return self

    @field_validator("stream_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        _check_scheme(value)
        return value

    @field_validator("zones")
    @classmethod
    def _unique_zone_names(cls, value: list[Zone]) -> list[Zone]:
        _check_zone_names(value)
        return value


class CameraCreate(CameraBase):
    id: CameraId


class CameraUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    heading_deg: float | None = Field(None, ge=0, lt=360)
    stream_url: str | None = Field(None, max_length=1000)
    zones: list[Zone] | None = None
    analytics: dict[str, Any] | None = None
    enabled: bool | None = None

    # The same checks as on creation; and None means "leave out", not "clear", for the
    # fields a camera must have (an explicit null would break a NOT NULL column).
    @field_validator("name", "latitude", "longitude", "zones", "analytics", "enabled")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value

    @field_validator("stream_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        _check_scheme(value)
        return value

    @field_validator("zones")
    @classmethod
    def _unique_zone_names(cls, value: list[Zone] | None) -> list[Zone] | None:
        _check_zone_names(value)
        return value


class CameraRead(CameraBase):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    updated_at: datetime

    def without_credentials(self) -> CameraRead:
        """This camera with any user name and password removed from its stream URL.

        Example:
            >>> redact_url("rtsp://admin:secret@10.0.0.5/stream1")
            'rtsp://***@10.0.0.5/stream1'
        """
        if not self.stream_url:
            return self
        return self.model_copy(update={"stream_url": redact_url(self.stream_url)})


SENSITIVE_QUERY_KEYS = frozenset(
    {
        "user",
        "username",
        "login",
        "pass",
        "password",
        "pwd",
        "passwd",
        "token",
        "key",
        "auth",
        "secret",
        "apikey",
        "api_key",
        "access_token",
    }
)


def redact_url(url: str) -> str:
    """``url`` with its user-info (``user:password@``, up to the last ``@``) and credential-like
    query values masked. Over-masking is safe; a leaked password is not.

    Example:
        >>> redact_url("rtsp://admin:p@ss@10.0.0.5/s?channel=1&pwd=x")
        'rtsp://***@10.0.0.5/s?channel=1&pwd=***'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest, qsep, query = rest.partition("?")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    if qsep:
        pairs = []
        for pair in query.split("&"):
            key, eq, _ = pair.partition("=")
            pairs.append(f"{key}=***" if eq and key.lower() in SENSITIVE_QUERY_KEYS else pair)
        query = "&".join(pairs)
    return f"{scheme}://{rest}{qsep}{query}"
