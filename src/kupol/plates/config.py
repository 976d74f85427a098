"""A camera's plate settings (part of its analytics): off unless switched on for that camera."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

VEHICLE_CLASSES = ("car", "truck", "bus", "motorcycle")


class DirectionNames(BaseModel):
    """What a vehicle's way across the picture is called on this camera (its own words: north,
    in, to the centre…). A way left without a name is not reported."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    up: str | None = Field(None, max_length=16, description="Moving up the picture.")
    down: str | None = Field(None, max_length=16, description="Moving down the picture.")
    left: str | None = Field(None, max_length=16, description="Moving to the picture's left.")
    right: str | None = Field(None, max_length=16, description="Moving to the picture's right.")


class CameraPlatesConfig(BaseModel):
    """Plates on this camera's frames: read on tracked vehicles, voted over each vehicle's
    frames, stored as sightings and matched against the hotlists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(False, description="Read vehicle plates on this camera.")
    reader: str | None = Field(
        None, description="Plate reader plug-in; empty: the deployment's [plates] reader."
    )
    interval_s: float = Field(
        0.2,
        ge=0,
        le=60,
        description="How often one tracked vehicle's plate is read (0: every analysed frame).",
    )
    whole_frame: bool = Field(
        False,
        description=(
            "Read the whole frame instead of tracked vehicles (cameras without a vehicle "
            "detector, or gates where a plate fills the view)."
        ),
    )
    vehicle_classes: list[str] = Field(
        default_factory=lambda: list(VEHICLE_CLASSES),
        min_length=1,
        description="Detector classes whose tracks are vehicles with a plate to read.",
    )
    padding: float = Field(
        0.1, ge=0, le=1, description="Vehicle box widened by this share on each side for reading."
    )
    decide_reads: int = Field(
        2,
        ge=1,
        le=50,
        description=(
            "Reads after which a confident Kazakh plate is reported at once (a hotlist "
            "hit should not wait for the vehicle to leave)."
        ),
    )
    max_reads: int = Field(
        6, ge=1, le=100, description="Most reads of one vehicle; the vote is taken then."
    )
    max_track_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="A vehicle in view longer than this is voted on then (a parked car).",
    )
    min_confidence: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A voted plate less sure than this (agreement × reads' confidence) is "
        "not reported.",
    )
    forget_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Whole-frame reading: a plate not read again for this long has left.",
    )
    directions: DirectionNames = DirectionNames()
    colour: bool = Field(True, description="Report the vehicle's colour (its crop's main hue).")
    max_vehicles: int = Field(8, ge=1, le=100, description="Most vehicles read per frame.")
