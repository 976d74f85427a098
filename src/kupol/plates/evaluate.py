"""``kupol eval plates DIR``: plate reading measured on labelled photos.

``DIR/groundtruth.csv`` is one of:

* ``file,x,y,w,h,plate`` — whole photos with the plate's box: detect and read. The read whose
  box overlaps the labelled box is the reader's answer for that photo (text elsewhere in the
  picture — signs, stickers — is not a plate read); ``detected`` counts photos where there is
  one.
* ``file,plate`` — crops of one plate: read only.
* ``file,plates`` — whole photos with several plates (``;``-separated), no boxes: every
  plate-like read counts, and each labelled plate is found or not.

Figures: ``n`` (plates labelled), ``detected``, ``exact`` (whole plate right, spaces and
dashes ignored, Cyrillic look-alikes as Latin), ``char_accuracy`` (1 − edit distance / the
longer length, averaged; a plate not detected scores 0), ``ms_per_image``.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kupol.core.errors import InvalidInputError
from kupol.plates.dataset import FOREIGN_STYLES, heldout_fonts, make_sample
from kupol.plates.formats import normalise
from kupol.plates.readers import PlateRead, PlateReader


@dataclass(frozen=True, kw_only=True)
class Labelled:
    """One labelled photo or crop."""

    file: str
    plates: tuple[str, ...]
    box: tuple[float, float, float, float] | None = None


def load_groundtruth(folder: Path) -> tuple[str, list[Labelled]]:
    """The labels and their kind: ``boxes``, ``crops`` or ``multi``."""
    path = folder / "groundtruth.csv"
    if not path.is_file():
        raise InvalidInputError(f"{path} not found")
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        columns = set(reader.fieldnames or ())
        rows = list(reader)
    if {"file", "x", "y", "w", "h", "plate"} <= columns:
        kind = "boxes"
        labels = [
            Labelled(
                file=r["file"],
                plates=(normalise(r["plate"]),),
                box=(
                    float(r["x"]),
                    float(r["y"]),
                    float(r["x"]) + float(r["w"]),
                    float(r["y"]) + float(r["h"]),
                ),
            )
            for r in rows
        ]
    elif {"file", "plate"} <= columns:
        kind = "crops"
        labels = [Labelled(file=r["file"], plates=(normalise(r["plate"]),)) for r in rows]
    elif {"file", "plates"} <= columns:
        kind = "multi"
        labels = [
            Labelled(
                file=r["file"],
                plates=tuple(normalise(p) for p in r["plates"].split(";") if p.strip()),
            )
            for r in rows
        ]
    else:
        raise InvalidInputError(
            f"{path}: expected columns file,x,y,w,h,plate or file,plate or file,plates; "
            f"found {', '.join(sorted(columns))}"
        )
    return kind, labels


def evaluate_plates(folder: Path, reader: PlateReader) -> dict[str, Any]:
    """Read every labelled photo of ``folder`` with ``reader``; the figures as a dict."""
    kind, labels = load_groundtruth(folder)
    n = detected = exact = 0
    char_scores: list[float] = []
    elapsed = 0.0
    unreadable = 0
    for label in labels:
        image = cv2.imread(str(folder / label.file), cv2.IMREAD_COLOR)
        if image is None:
            unreadable += 1
            continue
        pixels = np.asarray(image, dtype=np.uint8)
        start = time.perf_counter()
        reads = [reader.read_crop(pixels)] if kind == "crops" else reader.read_photo(pixels)
        elapsed += time.perf_counter() - start
        for plate in label.plates:
            n += 1
            answer = _answer(kind, plate, label, reads)
            if answer is not None:
                detected += 1
                exact += answer == plate
            char_scores.append(similarity(answer or "", plate))
    images = len(labels) - unreadable
    return {
        "folder": folder.name,
        "kind": kind,
        "reader": reader.name,
        "n": n,
        "detected": detected,
        "exact": round(exact / n, 4) if n else 0.0,
        "exact_count": exact,
        "char_accuracy": round(sum(char_scores) / len(char_scores), 4) if char_scores else 0.0,
        "ms_per_image": round(1000 * elapsed / images, 1) if images else 0.0,
        "unreadable_images": unreadable,
    }


def evaluate_rendered(
    reader: PlateReader, *, n: int, seed: int, foreign: bool = False
) -> dict[str, Any]:
    """Read ``n`` held-out rendered Kazakh plate crops (:mod:`kupol.plates.dataset`): fonts
    and degradations the reader was not trained on, a third of them two-line plates; with
    ``foreign``, yellow foreign-owned plates (``F 1234 02``), a layout it never saw either.

    Raises:
        InvalidInputError: The held-out fonts are missing (``make plate-fonts``).
    """
    fonts = heldout_fonts()
    if not fonts:
        raise InvalidInputError("no held-out fonts: run `make plate-fonts` first")
    styles = FOREIGN_STYLES if foreign else None
    samples = [
        make_sample(seed=seed, index=i, fonts=fonts, heldout=True, styles=styles) for i in range(n)
    ]
    start = time.perf_counter()
    reads = [reader.read_crop(s.crop) for s in samples]
    elapsed = time.perf_counter() - start
    by_kind: dict[str, list[bool]] = {"one_line": [], "two_line": []}
    scores = []
    for sample, read in zip(samples, reads, strict=True):
        by_kind["two_line" if sample.two_line else "one_line"].append(read.text == sample.text)
        scores.append(similarity(read.text, sample.text))
    right = by_kind["one_line"] + by_kind["two_line"]
    return {
        "set": f"rendered-kz-{'foreign' if foreign else 'heldout'} seed {seed}",
        "reader": reader.name,
        "n": n,
        "exact": round(sum(right) / n, 4),
        "exact_one_line": round(sum(by_kind["one_line"]) / max(1, len(by_kind["one_line"])), 4),
        "exact_two_line": round(sum(by_kind["two_line"]) / max(1, len(by_kind["two_line"])), 4),
        "two_line_n": len(by_kind["two_line"]),
        "char_accuracy": round(sum(scores) / n, 4),
        "ms_per_image": round(1000 * elapsed / n, 2),
        "misread": [
            {"truth": s.text, "read": r.text}
            for s, r in zip(samples, reads, strict=True)
            if r.text != s.text
        ][:20],
    }


def _answer(kind: str, plate: str, label: Labelled, reads: list[PlateRead]) -> str | None:
    """The reader's answer for one labelled plate (``None``: nothing detected)."""
    if kind == "crops":
        return reads[0].text if reads and reads[0].text else None
    candidates = [r for r in reads if 4 <= len(r.text) <= 10]
    if kind == "multi":
        # No boxes: the labelled plate is found if any read equals it; otherwise the
        # closest plate-like read is its answer (for the character accuracy).
        if not candidates:
            return None
        return max((r.text for r in candidates), key=lambda t: similarity(t, plate))
    assert label.box is not None
    overlapping = [r for r in candidates if r.box is not None and _overlap(r.box, label.box)]
    if not overlapping:
        return None
    # A plate mixes letters and digits; a city or state name printed on it does not. Among
    # the plate-like reads, the reader's own order (best first) decides.
    plate_like = [r for r in overlapping if _plate_like(r.text)]
    return (plate_like or overlapping)[0].text


def _plate_like(text: str) -> bool:
    return any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether the read's centre lies in the labelled box (widened by half its height)."""
    cx, cy = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    pad = (b[3] - b[1]) / 2
    return b[0] - pad <= cx <= b[2] + pad and b[1] - pad <= cy <= b[3] + pad


def similarity(read: str, truth: str) -> float:
    """1 − edit distance / the longer length.

    Example:
        >>> similarity("123ABC02", "123ABC02"), similarity("123ABC0", "123ABC02")
        (1.0, 0.875)
    """
    if not read and not truth:
        return 1.0
    previous = list(range(len(truth) + 1))
    for i, a in enumerate(read, 1):
        current = [i]
        for j, b in enumerate(truth, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return 1.0 - previous[-1] / max(len(read), len(truth))
