"""Drawing what the pipeline sees: boxes with class and track id, zones, lines, a walk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.vision.detections import BAGS, COCO_CLASSES, PERSON, VEHICLES, Detections, class_name
from kupol.vision.events import EvidenceFrame, VisionEvent
from kupol.vision.zones import LineConfig, ZoneConfig

_GREEN = (80, 200, 80)
_BLUE = (230, 160, 40)
_RED = (40, 40, 230)
_YELLOW = (0, 210, 240)
_GREY = (200, 200, 200)


def _colour(class_id: int) -> tuple[int, int, int]:
    if class_id == PERSON:
        return _GREEN
    if class_id in VEHICLES:
        return _BLUE
    if class_id in BAGS:
        return _RED
    return _GREY


def draw_zones(
    image: NDArray[np.uint8], zones: Sequence[ZoneConfig], lines: Sequence[LineConfig]
) -> None:
    """Outline zones (restricted ones in red) and lines, in place."""
    h, w = image.shape[:2]
    for zone in zones:
        points = np.array([[x * w, y * h] for x, y in zone.polygon], np.int32)
        colour = _RED if zone.kind == "restricted" else _YELLOW
        cv2.polylines(image, [points], True, colour, 2, cv2.LINE_AA)
        x, y = points[0]
        cv2.putText(image, zone.name, (int(x) + 4, int(y) + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    colour, 1, cv2.LINE_AA)  # fmt: skip
    for line in lines:
        a = (int(line.a[0] * w), int(line.a[1] * h))
        b = (int(line.b[0] * w), int(line.b[1] * h))
        cv2.arrowedLine(image, a, b, _YELLOW, 2, cv2.LINE_AA, tipLength=0.03)
        cv2.putText(image, line.name, (a[0] + 4, a[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    _YELLOW, 1, cv2.LINE_AA)  # fmt: skip


def draw_detections(
    image: NDArray[np.uint8], detections: Detections, names: Sequence[str] = COCO_CLASSES
) -> None:
    """Boxes labelled with class (``names``: the detector's), track id and confidence."""
    for box, class_id, track_id, score in zip(
        detections.xyxy,
        detections.class_id,
        detections.tracker_id,
        detections.confidence,
        strict=True,
    ):
        x1, y1, x2, y2 = (int(v) for v in box)
        colour = _colour(int(class_id))
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, 2)
        label = class_name(int(class_id), names)
        if track_id >= 0:
            label += f" #{int(track_id)}"
        label += f" {float(score):.2f}"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        top = max(th + 4, y1)
        cv2.rectangle(image, (x1, top - th - 4), (x1 + tw + 4, top), colour, -1)
        cv2.putText(image, label, (x1 + 2, top - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0),
                    1, cv2.LINE_AA)  # fmt: skip


def annotated(
    image: NDArray[np.uint8],
    detections: Detections,
    *,
    zones: Sequence[ZoneConfig] = (),
    lines: Sequence[LineConfig] = (),
    names: Sequence[str] = COCO_CLASSES,
) -> NDArray[np.uint8]:
    """A copy of ``image`` with zones, lines and detections drawn."""
    canvas = image.copy()
    draw_zones(canvas, zones, lines)
    draw_detections(canvas, detections, names)
    return canvas


def evidence_image(frame: EvidenceFrame) -> NDArray[np.uint8]:
    """An evidence frame with its boxes and the walk drawn, BGR."""
    canvas = frame.image.copy()
    for x1, y1, x2, y2 in frame.boxes:
        cv2.rectangle(canvas, (int(x1), int(y1)), (int(x2), int(y2)), _RED, 2)
    if len(frame.path) >= 2:
        points = np.array(frame.path, np.int32)
        cv2.polylines(canvas, [points], False, _GREEN, 2, cv2.LINE_AA)
        cv2.circle(canvas, tuple(int(v) for v in points[-1]), 5, _GREEN, -1)
    cv2.putText(canvas, f"{frame.label} {frame.pts_s:.1f}s", (8, 20), cv2.FONT_HERSHEY_SIMPLEX,
                0.6, _YELLOW, 2, cv2.LINE_AA)  # fmt: skip
    return canvas


def encode_jpeg(image: NDArray[np.uint8], quality: int = 85) -> bytes:
    """JPEG bytes of a BGR image."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("image could not be encoded as JPEG")
    return data.tobytes()


def save_evidence(event: VisionEvent, *, folder: Path) -> list[Path]:
    """Write an event's evidence frames as annotated JPEGs; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for frame in event.evidence:
        path = folder / f"{event.type}-{event.pts_s:08.2f}-{frame.label}.jpg"
        path.write_bytes(encode_jpeg(evidence_image(frame)))
        paths.append(path)
    return paths
