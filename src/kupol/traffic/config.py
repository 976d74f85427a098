"""A camera's traffic settings (part of its analytics): calibration marks, stop lines with
their signals, crosswalks with their kerb waiting areas, sidewalks, traffic-light regions, and
the rules' thresholds. Off unless switched on for that camera.

Image positions are fractions of the frame (0..1 from the top-left), as for zones; road
positions are metres east and north of the camera's reference point. The calibration is fitted
when the settings are validated, so a camera is never saved with marks that fix no road plane.

Example:
    >>> config = CameraTrafficConfig.model_validate({"enabled": True, "calibration": [
    ...     {"image": (0.1, 0.9), "ground": (0, 0)}, {"image": (0.9, 0.9), "ground": (8, 0)},
    ...     {"image": (0.7, 0.3), "ground": (8, 40)}, {"image": (0.3, 0.3), "ground": (0, 40)}]})
    >>> [round(v, 2) for v in config.calibrated().to_ground(to_units((0.5, 0.9)))]
    [4.0, 0.0]
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kupol.core.errors import InvalidInputError
from kupol.traffic.calibration import Calibration, MarkedPoint
from kupol.vision.zones import ZoneConfig

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
ImagePoint = tuple[Unit, Unit]
Metres = Annotated[float, Field(ge=-100_000, le=100_000, allow_inf_nan=False)]
UNITS = 1000.0
"""Calibrations are fitted on image fractions × 1000 (the frame's size does not matter)."""
SIGNAL_ID = r"^[A-Za-z0-9_.-]{1,64}$"


def to_units(point: tuple[float, float]) -> tuple[float, float]:
    """An image fraction in calibration units."""
    return point[0] * UNITS, point[1] * UNITS


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalibrationMark(_Section):
    """A point marked on the frame whose place on the road is known."""

    image: ImagePoint = Field(description="(x, y) fractions of the frame.")
    ground: tuple[Metres, Metres] = Field(description="(east, north) metres on the road.")


class StopLineConfig(_Section):
    """A stop line and the signal that governs it."""

    name: str = Field(min_length=1, max_length=64)
    a: ImagePoint = Field(description="One end, fractions of the frame.")
    b: ImagePoint = Field(
        description="Other end. Vehicles it governs cross from the right of a→b to its left "
        "(on the road; for a camera facing oncoming traffic draw a on the left of the frame)."
    )
    signal: str = Field(pattern=SIGNAL_ID, description="The signal head's id (controller feed).")
    grace_s: float = Field(0.5, ge=0, le=5, description="Red this long before it counts.")
    front_offset_m: float = Field(
        0.0, ge=0, le=20, description="Vehicle length to add when the camera sees rears."
    )


class SignalRegionConfig(_Section):
    """Where a signal head is in the frame, to read its phase when no controller reports."""

    signal: str = Field(pattern=SIGNAL_ID)
    box: tuple[Unit, Unit, Unit, Unit] = Field(description="x1, y1, x2, y2 fractions.")

    @model_validator(mode="after")
    def _ordered(self) -> SignalRegionConfig:
        x1, y1, x2, y2 = self.box
        if x2 - x1 < 0.005 or y2 - y1 < 0.01:
            raise ValueError(f"signal {self.signal}: the box needs x1 < x2 and y1 < y2")
        return self


class CrosswalkConfig(_Section):
    """A crosswalk and its kerb waiting areas; a smart crossing when ``warn``."""

    id: str = Field(pattern=SIGNAL_ID, description="The crossing's id (its MQTT topic).")
    polygon: list[ImagePoint] = Field(min_length=3, max_length=32)
    waiting_areas: list[list[ImagePoint]] = Field(default_factory=list, max_length=8)
    warn: bool = Field(True, description="Command the warning device (lights, projection).")
    hold_s: float = Field(3.0, ge=0, le=60, description="Lights stay on this long after.")
    near_miss_gap_s: float = Field(
        1.5, ge=0, le=10, description="A vehicle this close in time to a pedestrian."
    )
    yield_rule: bool = Field(True, description="Find failures to yield (art. 600).")
    signal: str | None = Field(
        None,
        pattern=SIGNAL_ID,
        description="A regulated crossing: the signal head of the vehicles crossing it. A "
        "pedestrian has priority only if they stepped on while it showed red (their green) — "
        "and then until they are across; one crossing against their red has none. Empty: an "
        "unregulated crossing, where pedestrians always have it.",
    )
    kerb_m: float = Field(1.0, ge=0, le=5, description="Stepping on: this close to it.")

    @field_validator("polygon")
    @classmethod
    def _simple(cls, value: list[ImagePoint]) -> list[ImagePoint]:
        ZoneConfig(name="check", polygon=list(value))
        return value

    @field_validator("waiting_areas")
    @classmethod
    def _simple_areas(cls, value: list[list[ImagePoint]]) -> list[list[ImagePoint]]:
        for polygon in value:
            ZoneConfig(name="check", polygon=list(polygon))
        return value


class SidewalkConfig(_Section):
    """A sidewalk or footpath, where e-scooters may ride at walking pace only."""

    name: str = Field(min_length=1, max_length=64)
    polygon: list[ImagePoint] = Field(min_length=3, max_length=32)


class CameraTrafficConfig(_Section):
    """Traffic enforcement and smart crossings on this camera's frames."""

    enabled: bool = Field(False, description="Run the traffic rules on this camera.")
    calibration: list[CalibrationMark] = Field(
        default_factory=list, max_length=64, description="Four or more marks."
    )
    speed_limit_kmh: float | None = Field(
        None, gt=0, le=200, description="Spot speed enforced here; empty: no speed rule."
    )
    tolerance_kmh: float = Field(
        10.0,
        ge=0,
        le=50,
        description="Excess over the limit not reported (art. 592 starts above 10 km/h).",
    )
    min_track_s: float = Field(0.6, gt=0, le=30, description="Shortest track timed for speed.")
    max_residual_m: float = Field(
        1.0, gt=0, le=20, description="A track straying more from uniform motion is not timed."
    )
    stop_lines: list[StopLineConfig] = Field(default_factory=list, max_length=16)
    signal_regions: list[SignalRegionConfig] = Field(default_factory=list, max_length=16)
    crosswalks: list[CrosswalkConfig] = Field(default_factory=list, max_length=8)
    sidewalks: list[SidewalkConfig] = Field(default_factory=list, max_length=8)
    vehicle_classes: list[str] = Field(
        default_factory=lambda: ["car", "truck", "bus", "motorcycle"], min_length=1
    )
    pedestrian_classes: list[str] = Field(default_factory=lambda: ["person"], min_length=1)
    scooter_classes: list[str] = Field(
        default_factory=list,
        description="Classes that are e-scooters (a detector that tells them apart).",
    )
    riding_speed_kmh: float | None = Field(
        None,
        gt=6,
        le=60,
        description="For detectors without an e-scooter class (COCO): a person moving faster "
        "than this for a second, with no bicycle or motorcycle under them (wheel_classes), is "
        "taken as riding an e-scooter, for the speed rules (not the passenger rule, which needs "
        "the scooter's box). 15 km/h is above a jog; a runner may still be taken for a rider, "
        "so the violation says it was inferred and the officer decides. Empty: only "
        "scooter_classes are scooters.",
    )
    wheel_classes: list[str] = Field(
        default_factory=lambda: ["bicycle", "motorcycle"],
        description="Classes whose box under a fast person makes them a cyclist or "
        "motorcyclist, not an e-scooter rider (riding_speed_kmh).",
    )
    scooter_limit_kmh: float = Field(25.0, gt=0, le=100)
    sidewalk_limit_kmh: float = Field(6.0, gt=0, le=50)
    evidence_before_s: float = Field(1.0, ge=0, le=10)
    evidence_after_s: float = Field(1.0, ge=0, le=10)
    clip: bool = Field(True, description="Keep a short clip with each violation.")

    @model_validator(mode="after")
    def _usable(self) -> CameraTrafficConfig:
        if not self.enabled:
            return self
        if len(self.calibration) < 4:
            raise ValueError("traffic needs 4 or more calibration marks (image ↔ road)")
        try:
            calibration = self.calibrated()
        except InvalidInputError as exc:
            raise ValueError(f"calibration: {exc}") from None
        shapes: list[tuple[str, list[ImagePoint]]] = [
            (f"stop line {line.name}", [line.a, line.b]) for line in self.stop_lines
        ]
        for crosswalk in self.crosswalks:
            shapes.append((f"crosswalk {crosswalk.id}", crosswalk.polygon))
            shapes += [
                (f"crosswalk {crosswalk.id} waiting area", a) for a in crosswalk.waiting_areas
            ]
        shapes += [(f"sidewalk {s.name}", s.polygon) for s in self.sidewalks]
        for what, points in shapes:
            try:
                calibration.to_ground_many([to_units(p) for p in points])
            except InvalidInputError:
                raise ValueError(
                    f"{what} reaches above the road's horizon in this calibration: draw it on "
                    "the road"
                ) from None
        ids = [c.id for c in self.crosswalks]
        names = [s.name for s in self.stop_lines]
        for what, values in (("crosswalk ids", ids), ("stop line names", names)):
            if len(values) != len(set(values)):
                raise ValueError(f"{what} must be unique")
        for line in self.stop_lines:
            if math.dist(line.a, line.b) < 0.01:
                raise ValueError(f"stop line {line.name}: its ends must be apart")
        return self

    def calibrated(self) -> Calibration:
        """The image→road homography (image in :data:`UNITS`).

        Raises:
            InvalidInputError: the marks fix no road plane.
        """
        return Calibration.fit(
            [MarkedPoint(image=to_units(m.image), ground=m.ground) for m in self.calibration]
        )
