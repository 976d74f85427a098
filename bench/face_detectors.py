"""Face detectors compared: recall on photos, recall by face size on 1280 x 720 frames, speed.

The figures behind the default detector (``kupol.faces.detectors``), for each of BlazeFace
short and full range (native scale only, and with kupol's pyramid down to 40 px faces) and
dlib's HOG (upsample 0 and 1), on ``$KUPOL_DATA_ROOT/faces`` (default ``../shared/data/faces``):

- photos: the share of pictures with at least one face found, and the faces found, in
  deepface's 64 photos, face_recognition's 14 knn_examples photos and AT&T's 300 crops;
- frames: deepface photos with exactly one face (by HOG upsampled once, its box the ground
  truth) cut around the face, scaled so the face is 24 ... 320 px wide and laid (seeded) on
  frames of street-bgslibrary.avi enlarged to 1280 x 720, up to 12 per frame: the share of
  faces found (a detection centred within half a face of the truth, 0.5-2.5x its width) and
  the detections matching none (false faces), and ms per frame.

Every figure is wall time on one thread (ONNX Runtime intra-op 1; dlib is single-threaded).

    .venv/bin/python bench/face_detectors.py [--only blazeface-short,dlib-hog-0]
"""

# ruff: noqa: E402 — the thread limits must be set before numpy and OpenCV load their pools.
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import time
from pathlib import Path

import av
import cv2
import numpy as np

from kupol.faces.detectors import (
    BlazeFaceConfig,
    DlibHogConfig,
    DlibHogDetector,
    build_face_detector,
)
from kupol.faces.types import FaceDetector, Image

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("KUPOL_DATA_ROOT", str(ROOT.parent / "shared" / "data")))
FACES = DATA_ROOT / "faces"
PHOTO_SETS = {
    "deepface": ("deepface", "*.jpg"),
    "knn": ("face_recognition/knn_examples", "**/*.jp*g"),
    "att": ("att", "s*/*.pgm"),
}
WIDTHS = (24, 32, 40, 56, 80, 120, 200, 320)
CONFIGS: dict[str, BlazeFaceConfig | DlibHogConfig] = {
    "blazeface-short native": BlazeFaceConfig(model="short", min_face_px=0),
    "blazeface-short (kupol default)": BlazeFaceConfig(model="short"),
    "blazeface-full native": BlazeFaceConfig(model="full", min_face_px=0),
    "blazeface-full pyramid": BlazeFaceConfig(model="full"),
    "dlib-hog-0": DlibHogConfig(upsample=0),
    "dlib-hog-1": DlibHogConfig(upsample=1),
}
Truth = tuple[float, float, float, float]


def photos() -> dict[str, list[Image]]:
    sets = {}
    for name, (folder, pattern) in PHOTO_SETS.items():
        paths = sorted((FACES / folder).glob(pattern))
        sets[name] = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths]
    return sets


def scenery() -> tuple[list[tuple[Image, Truth]], list[Image]]:
    """The subjects (photo, face box) and the street frames they are laid on."""
    hog = DlibHogDetector(DlibHogConfig(upsample=1))
    subjects = []
    for path in sorted((FACES / "deepface").glob("*.jpg")):
        picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
        found = hog.detect(picture)
        if len(found) == 1:
            subjects.append((picture, found[0].box))
    with av.open(str(DATA_ROOT / "video" / "street-bgslibrary.avi")) as container:
        streets = [
            cv2.resize(f.to_ndarray(format="bgr24"), (1280, 720))
            for i, f in enumerate(container.decode(video=0))
            if i in (10, 100, 200, 300)
        ]
    return subjects, streets


def frames(
    width: int,
    rng: np.random.Generator,
    subjects: list[tuple[Image, Truth]],
    streets: list[Image],
) -> list[tuple[Image, list[Truth]]]:
    """Frames of faces ``width`` px wide laid on a street; at least 30 faces in all."""
    cell_w = min(1280, max(320, int(2.6 * width)))
    cell_h = min(720, max(240, int(3.0 * width)))
    columns, rows = 1280 // cell_w, 720 // cell_h
    made = []
    while len(made) * columns * rows < max(len(subjects), 30):
        canvas = streets[len(made) % len(streets)].copy()
        truths = []
        for cell in range(columns * rows):
            picture, (x1, y1, x2, y2) = subjects[
                (len(made) * columns * rows + cell) % len(subjects)
            ]
            scale, margin = width / (x2 - x1), 0.6 * (x2 - x1)
            left, top = int(max(0, x1 - margin)), int(max(0, y1 - margin))
            right = int(min(picture.shape[1], x2 + margin))
            bottom = int(min(picture.shape[0], y2 + 1.5 * margin))
            crop = cv2.resize(
                picture[top:bottom, left:right], None, fx=scale, fy=scale,
                interpolation=cv2.INTER_AREA,
            )[:cell_h, :cell_w]  # fmt: skip
            h, w = crop.shape[:2]
            ox = (cell % columns) * cell_w + int(rng.integers(0, cell_w - w + 1))
            oy = (cell // columns) * cell_h + int(rng.integers(0, cell_h - h + 1))
            canvas[oy : oy + h, ox : ox + w] = crop
            truths.append(
                ((x1 - left) * scale + ox, (y1 - top) * scale + oy,
                 (x2 - left) * scale + ox, (y2 - top) * scale + oy)
            )  # fmt: skip
        made.append((canvas, truths))
    return made


def score_frames(
    detector: FaceDetector, sets: dict[int, list[tuple[Image, list[Truth]]]]
) -> tuple[dict[int, tuple[float, int]], float]:
    """Per width, (share of faces found, false faces); and mean ms per frame."""
    results, seconds, count = {}, 0.0, 0
    for width, made in sets.items():
        found = total = false = 0
        for canvas, truths in made:
            started = time.perf_counter()
            faces = detector.detect(canvas)
            seconds += time.perf_counter() - started
            count += 1
            matched = set()
            for face in faces:
                x1, y1, x2, y2 = face.box
                cx, cy, w = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1
                hits = [
                    i
                    for i, (a, b, c, d) in enumerate(truths)
                    if abs(cx - (a + c) / 2) < 0.5 * (c - a)
                    and abs(cy - (b + d) / 2) < 0.6 * (d - b)
                    and 0.5 < w / (c - a) < 2.5
                ]
                matched.update(hits[:1])
                false += not hits
            found += len(matched)
            total += len(truths)
        results[width] = (found / total, false)
    return results, 1000 * seconds / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names of the detectors to run")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(CONFIGS)
    pictures = photos()
    rng = np.random.default_rng(1)
    subjects, streets = scenery()
    sets = {width: frames(width, rng, subjects, streets) for width in WIDTHS}
    print(f"frames: {', '.join(f'{w} px {sum(len(t) for _, t in sets[w])} faces' for w in WIDTHS)}")
    for name in names:
        detector = build_face_detector(CONFIGS[name])
        row = []
        for label, images in pictures.items():
            started = time.perf_counter()
            counts = [len(detector.detect(image)) for image in images]
            ms = 1000 * (time.perf_counter() - started) / len(images)
            row.append(
                f"{label} {sum(c > 0 for c in counts)}/{len(images)} ({sum(counts)} faces, "
                f"{ms:.0f} ms)"
            )
        by_width, ms_frame = score_frames(detector, sets)
        recall = " ".join(f"{w}:{r:.2f}/{f}" for w, (r, f) in by_width.items())
        print(f"{name}\n  photos: {'; '.join(row)}")
        print(f"  1280x720 frames, face px:found/false: {recall}; {ms_frame:.0f} ms/frame")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
