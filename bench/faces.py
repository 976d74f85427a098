"""Faces/s end to end (detect + align + embed) beside the face_recognition library, same frame.

The frame: 1280 x 720, eight faces of different people and sizes (about 95-150 px wide) cut
from real photos in ``$KUPOL_DATA_ROOT/faces`` (default ``../shared/data/faces``) and laid on
a plain background, the same every run. Both sides run in this process, taking turns:

- ``face_recognition`` 1.3.0 (dlib's HOG detector, 5-point landmarks, dlib's ResNet via
  ``face_recognition_model_v1``), at its defaults (HOG upsampled once) and at upsample 0;
- kupol's :class:`~kupol.faces.engine.FaceEngine` (detect, the same 5-point landmarks and
  chip, quality, embed; every face embedded) with the same ResNet on ONNX Runtime
  (:class:`~kupol.faces.dlib_onnx.OnnxDlibEmbedder`, one thread, a frame's chips in one
  batch), once with dlib's HOG at upsample 0 (the library's detector) and once with the
  engine's default detector (BlazeFace).

Then the embedding alone per face (dlib, and ONNX Runtime on 1 and 2 threads), and pair
accuracy on deepface's master.csv (file_x, file_y, Decision; the largest face of each photo,
HOG upsampled once on both sides): face_recognition at its distance 0.6, kupol at the same rule
and at the cosine similarity new watchlists start with. Target (faces issue): ≥ 3x
face_recognition's faces/s at equal or better accuracy.

    .venv/bin/python bench/faces.py [--repeats 10] [--no-accuracy]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cv2
import dlib  # type: ignore[import-untyped, unused-ignore]
import face_recognition  # type: ignore[import-untyped, unused-ignore]
import face_recognition_models as models  # type: ignore[import-untyped, unused-ignore]
import numpy as np
from numpy.typing import NDArray

from kupol.faces.detectors import BlazeFaceConfig, DlibHogConfig
from kupol.faces.dlib_onnx import DLIB_TOLERANCE, OnnxDlibEmbedder
from kupol.faces.engine import FaceEngine, FaceEngineConfig
from kupol.faces.types import Image
from kupol.settings import FacesSettings

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("KUPOL_DATA_ROOT", str(ROOT.parent / "shared" / "data")))
FACES = DATA_ROOT / "faces"
KNN = "face_recognition/knn_examples/train"
# (photo, face width on the frame): eight people, one face each.
CAST = (
    (f"{KNN}/obama/obama.jpg", 150),
    (f"{KNN}/biden/biden.jpg", 120),
    (f"{KNN}/kit_harington/john1.jpeg", 135),
    (f"{KNN}/rose_leslie/img1.jpg", 105),
    (f"{KNN}/alex_lacamoire/img1.jpg", 140),
    ("deepface/img1.jpg", 95),
    ("deepface/img12.jpg", 125),
    ("deepface/img30.jpg", 110),
)
FRAME_W, FRAME_H = 1280, 720
TARGET_SPEEDUP = 3.0

Rgb = NDArray[np.uint8]


@dataclass(frozen=True, kw_only=True)
class Timing:
    faces: int
    wall_ms: float
    cpu_ms: float

    @property
    def faces_per_s(self) -> float:
        return self.faces / self.wall_ms * 1000


def largest(rects: Any) -> Any:
    return max(rects, key=lambda r: r.width() * r.height())


def compose_frame(detector: Any) -> Rgb:
    """The benchmark frame, RGB: each photo's face scaled to its width, in a 4 x 2 grid."""
    canvas = np.empty((FRAME_H, FRAME_W, 3), np.uint8)
    canvas[:] = np.linspace(70, 150, FRAME_W, dtype=np.uint8)[None, :, None]
    cell_w, cell_h = FRAME_W // 4, FRAME_H // 2
    for index, (name, width) in enumerate(CAST):
        rgb = face_recognition.load_image_file(str(FACES / name))
        face = largest(detector(rgb, 1))
        scale = width / face.width()
        side = int(min(cell_w, cell_h) * 0.9 / scale)  # head and shoulders, 90 % of a cell
        cx, cy = face.center().x, face.center().y
        padded = cv2.copyMakeBorder(rgb, side, side, side, side, cv2.BORDER_REPLICATE)
        crop = padded[
            cy + side - side // 2 : cy + side + side // 2,
            cx + side - side // 2 : cx + side + side // 2,
        ]
        size = int(side * scale)
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        x = (index % 4) * cell_w + (cell_w - size) // 2
        y = (index // 4) * cell_h + (cell_h - size) // 2
        canvas[y : y + size, x : x + size] = crop
    return canvas


def timed(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, Timing]:
    """Median wall and CPU milliseconds of each run over ``repeats`` rounds, after a warm-up.

    The runs take turns within each round, so a busy machine slows them alike.
    """
    faces = {label: run() for label, run in runs.items()}
    walls: dict[str, list[float]] = {label: [] for label in runs}
    cpus: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeats):
        for label, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            walls[label].append(time.perf_counter() - wall)
            cpus[label].append(time.process_time() - cpu)
    return {
        label: Timing(
            faces=faces[label],
            wall_ms=1000 * statistics.median(walls[label]),
            cpu_ms=1000 * statistics.median(cpus[label]),
        )
        for label in runs
    }


def engine(detector: BlazeFaceConfig | DlibHogConfig, *, threads: int = 1) -> FaceEngine:
    """kupol's face engine with ``detector`` and the ONNX embedder."""
    config = FaceEngineConfig(detector=detector)
    return FaceEngine(config, embedder=OnnxDlibEmbedder(threads=threads))


def kupol_run(faces: FaceEngine, bgr: Image) -> int:
    return sum(face.embedding.size > 0 for face in faces.analyze(bgr, embed_unusable=True))


def embedded(embedder: OnnxDlibEmbedder, chips: list[Image]) -> int:
    return len(embedder.embed(chips))


def dlib_run(net: Any, rgb_chips: list[Rgb]) -> int:
    return len([net.compute_face_descriptor(chip) for chip in rgb_chips])


def face_recognition_run(rgb: Rgb, upsample: int) -> int:
    locations = face_recognition.face_locations(rgb, number_of_times_to_upsample=upsample)
    return len(face_recognition.face_encodings(rgb, known_face_locations=locations))


def end_to_end(frame: Rgb, repeats: int) -> None:
    bgr = np.ascontiguousarray(frame[:, :, ::-1])
    hog = engine(DlibHogConfig(upsample=0))
    library = f"face_recognition {version('face-recognition')}"
    theirs_default = f"{library}, defaults (HOG upsample 1)"
    theirs_hog0 = f"{library}, HOG upsample 0"
    ours_hog0 = "kupol engine: dlib HOG 0 + ONNX ResNet (1 thread)"
    ours_default = "kupol engine: BlazeFace (default) + ONNX ResNet (1 thread)"
    timings = timed(
        {
            theirs_default: partial(face_recognition_run, frame, 1),
            theirs_hog0: partial(face_recognition_run, frame, 0),
            ours_hog0: partial(kupol_run, hog, bgr),
            ours_default: partial(kupol_run, engine(BlazeFaceConfig()), bgr),
        },
        repeats,
    )
    print(
        f"end to end on one {FRAME_W}x{FRAME_H} frame with {len(CAST)} faces, median of "
        f"{repeats} rounds (wall; CPU of all threads):"
    )
    for label, t in timings.items():
        print(
            f"  {label:<58} {t.faces} faces  {t.wall_ms:7.1f} ms  (CPU {t.cpu_ms:6.1f} ms)  "
            f"{t.faces_per_s:6.1f} faces/s"
        )
    for label, ours, theirs in (
        ("HOG 0 vs HOG 0 (same detector)", ours_hog0, theirs_hog0),
        ("HOG 0 vs its defaults", ours_hog0, theirs_default),
        ("BlazeFace vs its defaults", ours_default, theirs_default),
    ):
        speedup = timings[ours].faces_per_s / timings[theirs].faces_per_s
        cpu_ratio = timings[theirs].cpu_ms / timings[ours].cpu_ms
        verdict = "meets" if speedup >= TARGET_SPEEDUP else "MISSES"
        print(
            f"  kupol / face_recognition, {label:<31} {speedup:4.1f}x faces/s, "
            f"{cpu_ratio:4.1f}x less CPU ({verdict} the {TARGET_SPEEDUP:.0f}x target)"
        )

    chips = [face.chip for face in hog.analyze(bgr, embed_unusable=True)]
    rgb_chips = [np.ascontiguousarray(chip[:, :, ::-1]) for chip in chips]
    dlib_net = dlib.face_recognition_model_v1(models.face_recognition_model_location())
    runs: dict[str, Callable[[], int]] = {
        "dlib compute_face_descriptor, one by one": partial(dlib_run, dlib_net, rgb_chips)
    }
    for threads in (1, 2):
        embedder = OnnxDlibEmbedder(threads=threads)
        runs[f"ONNX Runtime, {threads} thread(s), one batch"] = partial(embedded, embedder, chips)
    print(f"embedding only, the frame's {len(chips)} chips (ms per face, wall; CPU):")
    for label, t in timed(runs, max(3, repeats // 2)).items():
        print(f"  {label:<44} {t.wall_ms / len(chips):6.1f}  ({t.cpu_ms / len(chips):5.1f})")


Template = NDArray[Any] | None


def same_by_distance(a: Template, b: Template) -> bool:
    """dlib's rule on raw descriptors (what face_recognition.compare_faces does)."""
    return a is not None and b is not None and float(np.linalg.norm(a - b)) <= DLIB_TOLERANCE


def same_by_cosine(a: Template, b: Template) -> bool:
    """kupol's rule: cosine similarity against the threshold new watchlists start with."""
    if a is None or b is None:
        return False
    cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    return cosine >= FacesSettings().default_threshold


def pair_accuracy() -> None:
    folder = FACES / "deepface"
    with (folder / "master.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    pairs = [(r["file_x"], r["file_y"], r["Decision"].strip() == "Yes") for r in rows]
    names = sorted({name for x, y, _ in pairs for name in (x, y)})
    faces = engine(DlibHogConfig(upsample=1))
    assert isinstance(faces.embedder, OnnxDlibEmbedder)
    theirs: dict[str, Template] = {}
    ours: dict[str, Template] = {}
    for name in names:  # the largest face of each photo, each side finding it its own way
        rgb = face_recognition.load_image_file(str(folder / name))
        boxes = face_recognition.face_locations(rgb)  # its defaults: HOG upsample 1
        box = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]), default=None)
        theirs[name] = face_recognition.face_encodings(rgb, [box])[0] if box else None
        found = faces.analyze(np.ascontiguousarray(rgb[:, :, ::-1]), embed_unusable=True)
        face = max(found, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), default=None)
        ours[name] = faces.embedder.descriptors([face.chip])[0] if face else None

    same_total = sum(truth for _, _, truth in pairs)
    print(
        f"pair accuracy, deepface master.csv: {len(pairs)} pairs ({same_total} same person) "
        f"of {len(names)} photos; photos without a face: face_recognition "
        f"{sum(v is None for v in theirs.values())}, kupol {sum(v is None for v in ours.values())}"
    )
    threshold = FacesSettings().default_threshold
    for label, table, same in (
        (f"face_recognition, distance <= {DLIB_TOLERANCE}", theirs, same_by_distance),
        (f"kupol engine, distance <= {DLIB_TOLERANCE} (same rule)", ours, same_by_distance),
        (f"kupol engine, cosine >= {threshold} (watchlist default)", ours, same_by_cosine),
    ):
        verdicts = [(same(table[x], table[y]), truth) for x, y, truth in pairs]
        right = sum(said == truth for said, truth in verdicts)
        missed = sum(truth and not said for said, truth in verdicts)
        false = sum(said and not truth for said, truth in verdicts)
        print(
            f"  {label:<52} {right / len(pairs):6.1%}  (missed {missed}/{same_total}, "
            f"false matches {false}/{len(pairs) - same_total})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--no-accuracy", action="store_true", help="speed only")
    args = parser.parse_args()
    if not FACES.is_dir():
        raise SystemExit(f"{FACES} is absent: the face benchmark needs the shared photos")
    frame = compose_frame(dlib.get_frontal_face_detector())
    end_to_end(frame, args.repeats)
    if not args.no_accuracy:
        pair_accuracy()


if __name__ == "__main__":
    main()
