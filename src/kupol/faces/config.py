"""A camera's face settings (part of its analytics): off unless switched on for that camera.

Face matching is switched on per camera, deliberately: a privacy-by-design default.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CameraFacesConfig(BaseModel):
    """Faces on this camera's frames: found on tracked people, matched against watchlists,
    kept for retrospective search within the retention window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(False, description="Look for faces on this camera.")
    interval_s: float = Field(
        0.5,
        ge=0,
        le=60,
        description="How often one tracked person's face is looked for (0: every frame).",
    )
    whole_frame: bool = Field(
        False,
        description=(
            "Search the whole frame instead of the heads of tracked people (close-up "
            "cameras at doors and gates, or with the motion-only detector)."
        ),
    )
    head_fraction: float = Field(
        0.45, gt=0.1, le=1, description="Top part of a person's box searched for the face."
    )
    max_faces: int = Field(20, ge=1, le=200, description="Most faces embedded per frame.")
