"""A camera's analytics configuration: one typed tree, validated at the edge.

It is stored with the camera (``cameras.analytics``), edited in the console and the API, and
given to ``kupol analyze --camera-config FILE`` as TOML or JSON. Every field is described;
unknown keys are refused.

Example:
    >>> config = CameraAnalytics.model_validate({"detector": {"type": "motion"}})
    >>> config.detector.type, config.abandoned.min_static_s
    ('motion', 10.0)
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kupol.core.errors import ConfigError, FieldProblem, InvalidInputError
from kupol.faces.config import CameraFacesConfig
from kupol.plates.config import CameraPlatesConfig
from kupol.traffic.config import CameraTrafficConfig
from kupol.vision.abandoned import AbandonedConfig
from kupol.vision.detections import COCO_CLASSES, class_id_of
from kupol.vision.detectors.base import NanoDetConfig, OnnxYoloConfig, ScriptedConfig
from kupol.vision.zones import LineConfig, ZoneConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MotionOnlyConfig(_Section):
    """No object detector: moving blobs are the objects (a fallback for weak servers)."""

    type: Literal["motion"] = "motion"
    min_area: float = Field(0.002, gt=0, lt=1, description="Smallest blob, fraction of image.")


DetectorChoice = Annotated[
    NanoDetConfig | OnnxYoloConfig | MotionOnlyConfig | ScriptedConfig,
    Field(discriminator="type"),
]


class MotionGateConfig(_Section):
    """Run the object detector only when something moves; static scenes cost almost nothing."""

    enabled: bool = Field(True, description="Gate the detector by motion.")
    min_motion: float = Field(
        0.001, ge=0, lt=1, description="Moving fraction of the image that wakes the detector."
    )
    refresh_s: float = Field(
        1.0, gt=0, le=60, description="Re-detect at least this often while objects are tracked."
    )
    idle_refresh_s: float = Field(
        5.0, gt=0, le=600, description="Re-detect at least this often in a still, empty scene."
    )


class TrackerConfig(_Section):
    """ByteTrack's thresholds."""

    high_threshold: float = Field(0.5, gt=0, lt=1, description="Confident detections.")
    low_threshold: float = Field(0.15, gt=0, lt=1, description="Weak ones, matched second.")
    match_iou: float = Field(0.3, gt=0, lt=1, description="Least IoU to continue a track.")
    max_jump: float = Field(
        0.0,
        ge=0,
        le=5,
        description=(
            "Else, farthest jump (in box sizes) to continue one; 0: IoU only. 0.75 suits "
            "fast traffic at 5 fps, but swaps identities in crowds."
        ),
    )
    min_hits: int = Field(2, ge=1, le=30, description="Frames before a track is confirmed.")
    lost_seconds: float = Field(2.0, gt=0, le=60, description="Unseen this long: track ends.")


class LoiteringConfig(_Section):
    """Someone stays too long (in the named zones, or anywhere when none are named)."""

    enabled: bool = Field(False, description="Look for loitering on this camera.")
    seconds: float = Field(60.0, gt=0, le=86400, description="Longest acceptable stay.")
    zones: list[str] = Field(default_factory=list, description="Zones watched; empty: all.")
    classes: list[str] = Field(default_factory=lambda: ["person"], description="Who counts.")


class IntrusionConfig(_Section):
    """Anyone entering a zone of kind ``restricted``."""

    enabled: bool = Field(True, description="Alert on entries into restricted zones.")
    classes: list[str] = Field(
        default_factory=lambda: ["person", "bicycle", "car", "motorcycle", "bus", "truck"],
        description="Who counts as an intruder (a zone's own classes take precedence).",
    )


class CrowdConfig(_Section):
    """Too many people at once, in a zone or the whole view."""

    enabled: bool = Field(False, description="Alert on crowds on this camera.")
    min_count: int = Field(10, ge=2, le=10000, description="People that make a crowd.")
    zone: str | None = Field(None, description="Count in this zone only.")
    hold_s: float = Field(5.0, ge=0, le=3600, description="How long the crowd must last.")
    cooldown_s: float = Field(300.0, ge=0, description="Quiet time after an alert.")


class ClipConfig(_Section):
    """Video kept around alerts."""

    enabled: bool = Field(True, description="Export a clip around each alert.")
    before_s: float = Field(5.0, ge=0, le=60, description="Seconds kept before the alert.")
    after_s: float = Field(3.0, ge=0, le=60, description="Seconds recorded after it.")


class CameraAnalytics(_Section):
    """Everything the pipeline does with one camera's frames."""

    analysis_fps: float = Field(5.0, gt=0, le=30, description="Frames analysed per second.")
    width: int = Field(640, ge=160, le=3840, description="Analysis image width in pixels.")
    input_format: str | None = Field(
        None, description='FFmpeg input format, e.g. "mpjpeg" for an MJPEG HTTP camera.'
    )
    detector: DetectorChoice = Field(
        default_factory=NanoDetConfig, description="The object detector plug-in."
    )
    motion: MotionGateConfig = MotionGateConfig()
    detect_every: int = Field(
        1,
        ge=1,
        le=4,
        description="Run the detector on every Nth analysed frame; on the others the tracker "
        "moves each track by its Kalman prediction (2 halves the detector's cost: enforcement "
        "cameras at 10 fps).",
    )
    tracker: TrackerConfig = TrackerConfig()
    zones: list[ZoneConfig] = Field(default_factory=list, description="Named polygons.")
    lines: list[LineConfig] = Field(default_factory=list, description="Counting lines.")
    abandoned: AbandonedConfig = AbandonedConfig()
    loitering: LoiteringConfig = LoiteringConfig()
    intrusion: IntrusionConfig = IntrusionConfig()
    crowd: CrowdConfig = CrowdConfig()
    clips: ClipConfig = ClipConfig()
    faces: CameraFacesConfig = CameraFacesConfig()
    plates: CameraPlatesConfig = CameraPlatesConfig()
    traffic: CameraTrafficConfig = CameraTrafficConfig()
    zone_events: bool = Field(True, description="Report zone entries, exits and crossings.")

    @model_validator(mode="after")
    def _names_are_known(self) -> CameraAnalytics:
        zone_names = [z.name for z in self.zones]
        line_names = [line.name for line in self.lines]
        for names, what in ((zone_names, "zone"), (line_names, "line")):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what} names must be unique: {', '.join(dupes)}")
        unknown = [z for z in self.loitering.zones if z not in zone_names]
        if self.crowd.zone is not None and self.crowd.zone not in zone_names:
            unknown.append(self.crowd.zone)
        if unknown:
            raise ValueError(f"rules name unknown zones: {', '.join(unknown)}")
        if (
            self.faces.enabled
            and not self.faces.whole_frame
            and isinstance(self.detector, MotionOnlyConfig)
        ):
            raise ValueError(
                "faces on tracked people need an object detector that finds people; with the "
                "motion-only detector set faces.whole_frame = true"
            )
        if (
            self.plates.enabled
            and not self.plates.whole_frame
            and isinstance(self.detector, MotionOnlyConfig)
        ):
            raise ValueError(
                "plates on tracked vehicles need an object detector that finds vehicles; with "
                "the motion-only detector set plates.whole_frame = true"
            )
        known = self.class_names()
        if known is not None:
            # Only the rules in use: a disabled rule's default (COCO) classes harm nobody.
            wanted = [*(self.loitering.classes if self.loitering.enabled else ())]
            wanted += self.intrusion.classes if self.intrusion.enabled else []
            wanted += [c for z in self.zones for c in z.classes or ()]
            wanted += [c for line in self.lines for c in line.classes or ()]
            if self.plates.enabled and not self.plates.whole_frame:
                wanted += self.plates.vehicle_classes
            if self.traffic.enabled:
                wanted += self.traffic.vehicle_classes + self.traffic.pedestrian_classes
                wanted += self.traffic.scooter_classes
            strangers = sorted({c for c in wanted if not _known_class(c, known)})
            if strangers:
                raise ValueError(
                    f"unknown object classes: {', '.join(strangers)} "
                    "(the detector's class names, or motion / object)"
                )
        return self

    def class_names(self) -> tuple[str, ...] | None:
        """The detector's class names, when known before the model is loaded."""
        if isinstance(self.detector, OnnxYoloConfig):
            return tuple(self.detector.names) if self.detector.names else None
        if isinstance(self.detector, ScriptedConfig):
            return ("car", "person", "scooter")
        return COCO_CLASSES


def _known_class(name: str, names: Sequence[str]) -> bool:
    try:
        class_id_of(name, names)
    except KeyError:
        return False
    return True


def _problems(exc: ValidationError) -> list[FieldProblem]:
    return [
        FieldProblem(field=".".join(str(p) for p in e["loc"]) or "(top)", message=e["msg"])
        for e in exc.errors()
    ]


def camera_analytics(
    *, zones: Sequence[ZoneConfig], analytics: Mapping[str, Any]
) -> CameraAnalytics:
    """A registered camera's analytics: its stored settings with the camera's own zones.

    Raises :class:`InvalidInputError` naming each bad field.

    Example:
        >>> camera_analytics(zones=[], analytics={"crowd": {"min_count": 1}})
        Traceback (most recent call last):
        ...
        kupol.core.errors.InvalidInputError: invalid analytics: crowd.min_count: ...
    """
    if "zones" in analytics:
        raise InvalidInputError(
            "zones are part of the camera (its zones field), not of its analytics",
            problems=[FieldProblem(field="analytics.zones", message="set zones on the camera")],
        )
    try:
        return CameraAnalytics.model_validate(
            {**analytics, "zones": [z.model_dump() for z in zones]}
        )
    except ValidationError as exc:
        problems = _problems(exc)
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise InvalidInputError(
            f"invalid analytics: {summary}",
            problems=[
                FieldProblem(field=f"analytics.{p.field}", message=p.message) for p in problems
            ],
        ) from None


def load_camera_config(path: Path) -> CameraAnalytics:
    """Read a camera's analytics from a TOML or JSON file; clear errors for bad files."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read camera config {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"camera config {path} is not valid: {exc}") from None
    try:
        return CameraAnalytics.model_validate(data)
    except ValidationError as exc:
        summary = "; ".join(f"{p.field}: {p.message}" for p in _problems(exc))
        raise ConfigError(f"camera config {path}: {summary}") from None
