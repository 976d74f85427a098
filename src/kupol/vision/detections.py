"""One typed value passed between every vision stage: the objects seen in one frame.

Boxes are in pixels of the analysed image (``x1, y1, x2, y2``, top-left origin). Class ids are
COCO's 80 indices; ids from :data:`MOTION` upwards are kupol's own (a moving blob, an unknown
static object) so every stage handles them alike.

Example:
    >>> import numpy as np
    >>> people = Detections(
    ...     xyxy=np.array([[10, 10, 50, 120], [200, 30, 240, 140]], np.float32),
    ...     confidence=np.array([0.9, 0.4], np.float32),
    ...     class_id=np.array([PERSON, PERSON], np.int32),
    ... )
    >>> len(people[people.confidence > 0.5])
    1
    >>> class_name(int(people.class_id[0]))
    'person'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

PERSON = 0
BICYCLE = 1
CAR = 2
MOTORCYCLE = 3
BUS = 5
TRUCK = 7
BACKPACK = 24
HANDBAG = 26
SUITCASE = 28
MOTION = 1000
"""A moving blob from background subtraction (no class known)."""
STATIC_OBJECT = 1001
"""Something that appeared and stayed, found by static-foreground analysis (no class known)."""

VEHICLES = frozenset({BICYCLE, CAR, MOTORCYCLE, BUS, TRUCK})
BAGS = frozenset({BACKPACK, HANDBAG, SUITCASE})
_OWN_CLASSES = {MOTION: "motion", STATIC_OBJECT: "object"}


def class_name(class_id: int, names: Sequence[str] = COCO_CLASSES) -> str:
    """The name of a class id (``names`` for an operator's own model)."""
    if class_id in _OWN_CLASSES:
        return _OWN_CLASSES[class_id]
    if 0 <= class_id < len(names):
        return names[class_id]
    return f"class-{class_id}"


def class_id_of(name: str, names: Sequence[str] = COCO_CLASSES) -> int:
    """The id of a class name; ``KeyError`` when unknown.

    Example:
        >>> class_id_of("suitcase")
        28
    """
    for class_id, own in _OWN_CLASSES.items():
        if own == name:
            return class_id
    try:
        return list(names).index(name)
    except ValueError:
        raise KeyError(name) from None


def _empty_tracker_ids(n: int) -> NDArray[np.int64]:
    return np.full(n, -1, np.int64)


@dataclass(frozen=True, eq=False)
class Detections:
    """Objects in one frame, as parallel arrays (one row per object).

    Attributes:
        xyxy: ``float32`` (n, 4) boxes in pixels.
        confidence: ``float32`` (n,) scores in 0..1.
        class_id: ``int32`` (n,) class ids (see :func:`class_name`).
        tracker_id: ``int64`` (n,) track ids, -1 before tracking.
    """

    xyxy: NDArray[np.float32]
    confidence: NDArray[np.float32]
    class_id: NDArray[np.int32]
    tracker_id: NDArray[np.int64] = field(default_factory=lambda: _empty_tracker_ids(0))

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        object.__setattr__(self, "xyxy", np.asarray(self.xyxy, np.float32).reshape(n, 4))
        object.__setattr__(self, "confidence", np.asarray(self.confidence, np.float32))
        object.__setattr__(self, "class_id", np.asarray(self.class_id, np.int32))
        if len(self.tracker_id) == 0 and n:
            object.__setattr__(self, "tracker_id", _empty_tracker_ids(n))
        else:
            object.__setattr__(self, "tracker_id", np.asarray(self.tracker_id, np.int64))
        if not (len(self.confidence) == len(self.class_id) == len(self.tracker_id) == n):
            raise ValueError("Detections arrays must have one row per object")

    @classmethod
    def empty(cls) -> Detections:
        """No objects."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int32),
        )

    @classmethod
    def merge(cls, parts: Sequence[Detections]) -> Detections:
        """All objects of ``parts`` in one value."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
            tracker_id=np.concatenate([p.tracker_id for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: NDArray[np.bool_] | NDArray[np.integer] | slice) -> Detections:
        """The rows picked by a boolean mask, index array or slice."""
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            tracker_id=self.tracker_id[index],
        )

    def with_tracker_id(self, tracker_id: NDArray[np.int64]) -> Detections:
        """The same objects with track ids."""
        return Detections(
            xyxy=self.xyxy,
            confidence=self.confidence,
            class_id=self.class_id,
            tracker_id=tracker_id,
        )

    def of_classes(self, classes: frozenset[int] | set[int]) -> Detections:
        """Only the objects of these classes."""
        return self[np.isin(self.class_id, list(classes))]

    @property
    def area(self) -> NDArray[np.float32]:
        """Box areas in square pixels."""
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        area: NDArray[np.float32] = (wh[:, 0] * wh[:, 1]).astype(np.float32)
        return area

    @property
    def centers(self) -> NDArray[np.float32]:
        """Box centres (n, 2)."""
        return ((self.xyxy[:, :2] + self.xyxy[:, 2:]) / 2).astype(np.float32)

    @property
    def anchors(self) -> NDArray[np.float32]:
        """Bottom centres (n, 2): where an object stands, used for zones and lines."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]], axis=1).astype(
            np.float32
        )

    def scaled(self, sx: float, sy: float) -> Detections:
        """Boxes rescaled to another image size (``sx``, ``sy``: new/old)."""
        factor = np.array([sx, sy, sx, sy], np.float32)
        return Detections(
            xyxy=self.xyxy * factor,
            confidence=self.confidence,
            class_id=self.class_id,
            tracker_id=self.tracker_id,
        )


def box_iou(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    """Intersection over union of every box in ``a`` (n, 4) with every box in ``b`` (m, 4).

    Example:
        >>> import numpy as np
        >>> box_iou(np.array([[0, 0, 2, 2]], np.float32), np.array([[1, 0, 3, 2]], np.float32))
        array([[0.33333334]], dtype=float32)
    """
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    iou: NDArray[np.float32] = (inter / np.maximum(union, 1e-9)).astype(np.float32)
    return iou


def nms(
    xyxy: NDArray[np.float32],
    scores: NDArray[np.float32],
    class_id: NDArray[np.int32] | None = None,
    *,
    iou_threshold: float = 0.5,
) -> NDArray[np.int64]:
    """Indices kept by greedy non-maximum suppression, best first (per class when given).

    Example:
        >>> import numpy as np
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
        >>> nms(boxes, np.array([0.9, 0.8, 0.7], np.float32)).tolist()
        [0, 2]
    """
    if len(xyxy) == 0:
        return np.zeros(0, np.int64)
    boxes = xyxy.astype(np.float32)
    if class_id is not None:
        # Offsetting each class far apart makes one pass do per-class suppression.
        offset = (class_id.astype(np.float32) * (float(boxes.max()) + 1.0))[:, None]
        boxes = boxes + offset
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while len(order):
        best = int(order[0])
        keep.append(best)
        if len(order) == 1:
            break
        overlap = box_iou(boxes[best : best + 1], boxes[order[1:]])[0]
        order = order[1:][overlap <= iou_threshold]
    return np.asarray(keep, np.int64)
