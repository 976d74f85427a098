"""Plate OCR throughput: crops read per second on one core, kupol's CRNN beside rapidocr.

Both readers get the same crops — the 228 real US plate crops of
``../shared/data/plates/openalpr-us-crops`` and as many rendered Kazakh crops from the held-out
recipe — one thread each (ONNX Runtime ``intra_op_num_threads=1``), after a warm-up. kupol is
timed two ways: one crop per call (what a camera track's read costs) and 32 crops per call
(what the evaluation and a busy camera batch), both as configured by default (a first read
at least 0.9 sure stands; an unsure crop is read in two more views that vote), and one crop
per call with a single view (``variants=1``). rapidocr is timed as its
recogniser alone (``use_det=False, use_cls=False``), one crop per call, as it reads crops.
Target (issue 5): kupol ≥ 10 × rapidocr. The last line holds the figures as JSON.

    .venv/bin/python bench/plate_ocr.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.plates.crnn import CrnnPlateReader, CrnnSettings
from kupol.plates.dataset import heldout_fonts, make_sample
from kupol.plates.render import available_fonts

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "plates" / "openalpr-us-crops"
TARGET_RATIO = 10.0
Crop = NDArray[np.uint8]


def crops() -> list[Crop]:
    """The real US crops (when the data is here) and rendered Kazakh crops."""
    found: list[Crop] = []
    if DATA.is_dir():
        for path in sorted(DATA.glob("*.png")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                found.append(np.asarray(image, np.uint8))
    fonts = heldout_fonts() or available_fonts()
    found += [make_sample(seed=11, index=i, fonts=fonts, heldout=True).crop for i in range(228)]
    return found


def rate(read: Callable[[list[Crop]], Any], items: list[Crop], batch: int, rounds: int) -> float:
    """Best crops per second over ``rounds`` passes."""
    read(items[:batch])  # warm-up
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(0, len(items), batch):
            read(items[i : i + batch])
        best = max(best, len(items) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    items = crops()
    kupol = CrnnPlateReader(CrnnSettings(threads=1))
    figures: dict[str, Any] = {"crops": len(items)}
    figures["kupol_single"] = rate(kupol.read_crops, items, 1, args.rounds)
    figures["kupol_batch32"] = rate(kupol.read_crops, items, 32, args.rounds)
    unmended = CrnnPlateReader(CrnnSettings(threads=1, mend=False))
    figures["kupol_single_unmended"] = rate(unmended.read_crops, items, 1, args.rounds)
    single_view = CrnnPlateReader(CrnnSettings(threads=1, variants=1))
    figures["kupol_one_view"] = rate(single_view.read_crops, items, 1, args.rounds)
    unsure = [r for r in single_view.read_crops(items) if r.confidence < kupol.settings.sure]
    figures["second_look_share"] = len(unsure) / len(items)
    try:
        from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]
    except ImportError:
        print("rapidocr_onnxruntime is not installed (pip install -e '.[dev]'): no baseline")
    else:
        engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

        def rapid(batch: list[Crop]) -> None:
            for crop in batch:
                engine(crop, use_det=False, use_cls=False, use_rec=True)

        figures["rapidocr_rec"] = rate(rapid, items, 1, args.rounds)
        figures["ratio_single"] = figures["kupol_single"] / figures["rapidocr_rec"]
        figures["ratio_batch32"] = figures["kupol_batch32"] / figures["rapidocr_rec"]
        figures["ratio_one_view"] = figures["kupol_one_view"] / figures["rapidocr_rec"]
    print(f"plate OCR on {len(items)} crops, one core ({os.cpu_count()} on this machine)")
    print(f"  kupol CRNN, 1 crop per call:   {figures['kupol_single']:8.0f} crops/s")
    print(f"  kupol CRNN, 32 crops per call: {figures['kupol_batch32']:8.0f} crops/s")
    print(f"  kupol CRNN, no mending, 1 a call: {figures['kupol_single_unmended']:6.0f} crops/s")
    print(f"  kupol CRNN, one view (no vote): {figures['kupol_one_view']:7.0f} crops/s")
    print(f"  crops the default reads again:  {figures['second_look_share']:7.1%}")
    if "rapidocr_rec" in figures:
        print(f"  rapidocr recogniser:           {figures['rapidocr_rec']:8.0f} crops/s")
        print(
            f"  ratio: {figures['ratio_single']:.1f}x (single), "
            f"{figures['ratio_batch32']:.1f}x (batched), {figures['ratio_one_view']:.1f}x "
            f"(one view); target >= {TARGET_RATIO:.0f}x"
        )
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
