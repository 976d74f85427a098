"""Write a grid of rendered plates to look at: ``python scripts/plate_samples.py OUT.png``.

The first half are clean plates of every style, the second half the same kind of plates
degraded in a scene crop (``--strength``, default random per plate), as the reader will be
trained on them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from kupol.plates.augment import place_in_scene
from kupol.plates.render import PlateStyle, available_fonts, render_plate, sample_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--strength", type=float, default=None)
    args = parser.parse_args()
    fonts = available_fonts()
    rng = np.random.default_rng(args.seed)
    styles = list(PlateStyle)
    tiles = []
    for i in range(24):
        style = styles[i % len(styles)]
        plate = render_plate(sample_text(style, rng), style=style, rng=rng, font=fonts)
        image = plate.image
        if i >= 12:
            strength = args.strength if args.strength is not None else rng.uniform(0.2, 1.0)
            image = place_in_scene(image, rng, strength=float(strength))
        scale = 120 / image.shape[0]
        image = cv2.resize(image, (min(520, int(image.shape[1] * scale)), 120))
        tile = np.full((130, 530, 3), 90, np.uint8)
        tile[5:125, 5 : 5 + image.shape[1]] = image
        cv2.putText(tile, plate.text, (300, 125), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1)
        tiles.append(tile)
    grid = np.vstack([np.hstack(tiles[i : i + 3]) for i in range(0, 24, 3)])
    cv2.imwrite(str(args.out), grid)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
