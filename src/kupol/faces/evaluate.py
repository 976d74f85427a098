"""Measure face matching on labelled photos: verification pairs and identification.

Both take a folder, run the face engine over its pictures (every face embedded, usable or
not: this measures the recogniser, and reports how many faces the quality check would have
refused) and return a JSON-ready dict. Where the detector finds no face (e.g. AT&T's 92 x 112
crops, which the face fills), the whole picture is taken as the face box, the landmarks
placed in it, and the miss counted in ``detector_misses``. Of several faces the largest is
the subject.

Similarities are cosine similarities of unit-length templates. :data:`OPERATING_THRESHOLD` is
the threshold kupol recommends (see ``docs/faces-performance.md`` for how it was measured).
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.core.errors import InvalidInputError
from kupol.faces.engine import FaceEngine, FaceEngineConfig, shared_engine
from kupol.faces.types import Face, FaceBox

OPERATING_THRESHOLD = 0.94
"""Recommended cosine-similarity threshold for dlib's ResNet templates."""
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".webp"}


@dataclass
class _Run:
    """Templates of pictures, with the counts and time it took to make them."""

    engine: FaceEngine
    templates: dict[Path, NDArray[np.float32]] = field(default_factory=dict)
    detector_misses: int = 0
    unreadable: int = 0
    unusable: int = 0
    faces: int = 0
    seconds: float = 0.0

    def template(self, path: Path) -> NDArray[np.float32] | None:
        """The subject's template in the picture at ``path`` (cached), ``None`` if unreadable."""
        if path in self.templates:
            return self.templates[path]
        read = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if read is None:
            self.unreadable += 1
            return None
        image = np.asarray(read, np.uint8)
        started = time.perf_counter()
        faces = self.engine.analyze(image, embed_unusable=True)
        if not faces:
            self.detector_misses += 1
            height, width = image.shape[:2]
            whole = FaceBox(box=(0.0, 0.0, float(width), float(height)), score=0.0)
            faces = self.engine.describe(image, [whole], embed_unusable=True)
        self.seconds += time.perf_counter() - started
        face = max(faces, key=_width)
        self.faces += 1
        self.unusable += not face.quality.usable
        self.templates[path] = face.embedding
        return face.embedding

    def counts(self) -> dict[str, Any]:
        return {
            "faces_embedded": self.faces,
            "detector_misses": self.detector_misses,
            "unusable_faces": self.unusable,
            "unreadable_images": self.unreadable,
            "ms_per_face": round(1000 * self.seconds / max(self.faces, 1), 1),
            "detector": self.engine.detector.name,
            "embedder": self.engine.embedder.name,
        }


def evaluate_pairs(
    folder: Path, *, config: FaceEngineConfig | None = None, threshold: float | None = None
) -> dict[str, Any]:
    """Verification on ``folder/master.csv`` (``file_x,file_y,Decision`` with Yes/No), the
    deepface test set's layout.

    Returns ``pairs``, ``genuine``, ``impostor``; ``threshold`` (the cosine similarity that
    maximises accuracy on these same pairs, hence optimistic: the midpoint of the widest
    best-accuracy gap between sorted scores) and ``accuracy`` there;
    ``operating_threshold`` (fixed, ``threshold`` argument or :data:`OPERATING_THRESHOLD`) and
    ``accuracy_at_operating``, ``tar_at_operating``, ``far_at_operating``; ``tar_at_far_1pct``
    (genuine pairs accepted at the lowest threshold that accepts at most 1 % of impostor
    pairs) with that ``threshold_at_far_1pct``; and the counts of :class:`_Run`.
    """
    listing = folder / "master.csv"
    if not listing.is_file():
        raise InvalidInputError(f"{listing} does not exist (file_x,file_y,Decision)")
    with listing.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    run = _Run(engine=shared_engine(config or FaceEngineConfig()))
    scores, same = [], []
    for row in rows:
        a = run.template(folder / row["file_x"])
        b = run.template(folder / row["file_y"])
        if a is None or b is None:
            continue
        scores.append(float(a @ b))
        same.append(row["Decision"].strip().lower() == "yes")
    similarity, genuine = np.array(scores), np.array(same, bool)
    if not genuine.any() or genuine.all():
        raise InvalidInputError(f"{listing}: needs both genuine (Yes) and impostor (No) pairs")
    best, best_accuracy = best_threshold(similarity, genuine)
    operating = OPERATING_THRESHOLD if threshold is None else threshold
    at_far, tar = tar_at_far(similarity, genuine, far=0.01)
    accepted = similarity >= operating
    return {
        "pairs": len(similarity),
        "genuine": int(genuine.sum()),
        "impostor": int((~genuine).sum()),
        "accuracy": round(best_accuracy, 4),
        "threshold": round(best, 4),
        "threshold_chosen": "best accuracy on these pairs (optimistic)",
        "operating_threshold": operating,
        "accuracy_at_operating": round(float((accepted == genuine).mean()), 4),
        "tar_at_operating": round(float(accepted[genuine].mean()), 4),
        "far_at_operating": round(float(accepted[~genuine].mean()), 4),
        "tar_at_far_1pct": round(tar, 4),
        "threshold_at_far_1pct": round(at_far, 4),
        **run.counts(),
    }


def evaluate_identification(
    folder: Path, *, config: FaceEngineConfig | None = None, threshold: float | None = None
) -> dict[str, Any]:
    """Identification over ``folder``'s sub-folders, one identity each.

    The first half of each identity's pictures (sorted by name; at least one) is enrolled, the
    rest are probes. A probe's score for an identity is its best similarity to that
    identity's enrolled templates.

    Returns ``identities``, ``enrolled``, ``probes``; ``rank1`` (probes whose best-scoring
    identity is their own); at the operating threshold (``threshold`` argument or
    :data:`OPERATING_THRESHOLD`): ``hit_rate`` (probes whose own identity scores at least the
    threshold and best) and ``false_alarm_rate``: each probe is also an impostor, with its
    own identity left out of the gallery (leave-one-identity-out), and raises a false alarm
    when another identity scores at least the threshold; the rate is false alarms over
    probes. ``threshold_for_far_1pct`` is the lowest threshold that keeps it at or below 1 %;
    plus the counts of :class:`_Run`.
    """
    if not folder.is_dir():
        raise InvalidInputError(f"{folder} is not a folder")
    identities = sorted(p for p in folder.iterdir() if p.is_dir() and _pictures(p))
    if len(identities) < 2:
        raise InvalidInputError(f"{folder} needs at least two identity folders of pictures")
    run = _Run(engine=shared_engine(config or FaceEngineConfig()))
    gallery: list[NDArray[np.float32]] = []
    owner: list[int] = []
    probes: list[tuple[int, NDArray[np.float32]]] = []
    for index, folder_of_one in enumerate(identities):
        pictures = _pictures(folder_of_one)
        enrolled = max(1, len(pictures) // 2)
        for position, picture in enumerate(pictures):
            template = run.template(picture)
            if template is None:
                continue
            if position < enrolled:
                gallery.append(template)
                owner.append(index)
            else:
                probes.append((index, template))
    if not probes:
        raise InvalidInputError(f"{folder}: no identity has a picture left to probe with")
    owners = np.array(owner)
    templates = np.stack(gallery)
    operating = OPERATING_THRESHOLD if threshold is None else threshold
    rank1 = hits = alarms = 0
    impostor_best = []
    for identity, template in probes:
        similarity = templates @ template
        per_identity = np.full(len(identities), -np.inf)
        np.maximum.at(per_identity, owners, similarity)
        best = int(np.argmax(per_identity))
        rank1 += best == identity
        hits += best == identity and per_identity[identity] >= operating
        others = np.delete(per_identity, identity)
        impostor_best.append(float(others.max()))
        alarms += others.max() >= operating
    worst = np.sort(np.array(impostor_best))[::-1]
    allowed = int(np.floor(0.01 * len(worst)))  # false alarms allowed at 1 %
    return {
        "identities": len(identities),
        "enrolled": len(gallery),
        "probes": len(probes),
        "rank1": round(rank1 / len(probes), 4),
        "threshold": operating,
        "hit_rate": round(hits / len(probes), 4),
        "false_alarm_rate": round(alarms / len(probes), 4),
        "false_alarm_definition": "probes whose best OTHER identity scores >= threshold "
        "(own identity left out of the gallery) / probes",
        "threshold_for_far_1pct": round(float(np.nextafter(worst[allowed], np.inf)), 4),
        **run.counts(),
    }


def best_threshold(
    similarity: NDArray[np.float64], genuine: NDArray[np.bool_]
) -> tuple[float, float]:
    """The threshold with the best accuracy (accept at ``>=``) and that accuracy: of the
    candidate thresholds (midpoints between consecutive distinct scores, and beyond both
    ends) the best, ties broken by the widest gap around it.

    Example:
        >>> best_threshold(np.array([0.1, 0.4, 0.6, 0.9]), np.array([False, False, True, True]))
        (0.5, 1.0)
    """
    values = np.unique(similarity)
    candidates = np.concatenate(
        [[values[0] - 1e-6], (values[1:] + values[:-1]) / 2, [values[-1] + 1e-6]]
    )
    gaps = np.concatenate([[0.0], values[1:] - values[:-1], [0.0]])
    accuracy = np.array([((similarity >= t) == genuine).mean() for t in candidates])
    best = np.flatnonzero(accuracy == accuracy.max())
    choice = best[np.argmax(gaps[best])]
    return float(candidates[choice]), float(accuracy[choice])


def tar_at_far(
    similarity: NDArray[np.float64], genuine: NDArray[np.bool_], *, far: float
) -> tuple[float, float]:
    """The lowest threshold accepting at most ``far`` of the impostor pairs, and the share of
    genuine pairs it accepts.

    Example:
        >>> scores = np.array([0.2, 0.3, 0.8, 0.25])
        >>> tar_at_far(scores, np.array([False, False, True, True]), far=0.0)
        (0.3000..., 0.5)
    """
    impostor = np.sort(similarity[~genuine])[::-1]
    allowed = int(np.floor(far * len(impostor)))
    threshold = float(np.nextafter(impostor[allowed], np.inf)) if allowed < len(impostor) else -1.0
    return threshold, float((similarity[genuine] >= threshold).mean())


def _pictures(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _width(face: Face) -> float:
    return face.box[2] - face.box[0]
