#!/usr/bin/env python3
"""Train kupol's plate detector (a small fully convolutional net) on rendered scenes; export ONNX.

Run it as ``make plate-detector``: that target makes the same separate virtual environment with
PyTorch as ``make plate-model`` (training only; kupol detects with onnxruntime) and calls this
script. Trained on this machine's CPU (two cores, about 20 minutes).

What it does, all from one seed:

1. reads background pictures: frames of the shared videos (``$KUPOL_DATA_ROOT/video``, by
   default ../shared/data/video; every 20th frame) — the plate photo folders are never read;
2. draws ``--train`` scenes (and ``--val`` for watching) from the recipe in
   :mod:`kupol.plates.scenes` — scene *i* from its own generator, so the data are the same
   byte for byte however many processes draw them — cached under
   ``var/model-build/detector-data``, keyed by the recipe's source, fonts, backgrounds and seed;
3. trains the network below (a plate-or-not probability for every 4 x 4 pixels) with Adam and
   a one-cycle schedule, deterministic algorithms only, a fixed thread count and a seeded
   shuffle, so a rerun on the same PyTorch gives the same weights bit for bit;
4. exports ``src/kupol/plates/models/plate-detector.onnx`` (any input size that is a multiple
   of 16) and writes its card (recipe, seed, figures, SHA-256) beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import PIL
import torch
from torch import nn

from kupol.plates import augment, render, scenes

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "src" / "kupol" / "plates" / "models"
DATA_ROOT = Path(os.environ.get("KUPOL_DATA_ROOT", str(ROOT.parent / "shared" / "data")))
VIDEOS = (
    "cars-intel.mp4",
    "street-bgslibrary.avi",
    "highway-cdnet.avi",
    "people-intel.mp4",
    "abandoned-bag-aboda4.avi",
)


def _cbr(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class PlateNet(nn.Module):
    """Down to 1/16 (dilated convolutions for context: a plate is a row of characters in a
    frame), back up to 1/4 with skips; one logit per 4 x 4 pixels."""

    def __init__(self) -> None:
        super().__init__()
        self.quarter = nn.Sequential(_cbr(3, 16, 2), _cbr(16, 24, 2))
        self.eighth = nn.Sequential(_cbr(24, 32, 2), _cbr(32, 32))
        self.sixteenth = nn.Sequential(_cbr(32, 48, 2), _cbr(48, 48, 1, 2), _cbr(48, 48, 1, 4))
        self.up8 = _cbr(48 + 32, 32)
        self.up4 = _cbr(32 + 24, 24)
        self.head = nn.Conv2d(24, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.quarter(x)
        b = self.eighth(a)
        c = self.sixteenth(b)
        u = self.up8(torch.cat([nn.functional.interpolate(c, scale_factor=2.0), b], 1))
        u = self.up4(torch.cat([nn.functional.interpolate(u, scale_factor=2.0), a], 1))
        return self.head(u)


class Exported(nn.Module):
    """What the ONNX file computes: BGR ``uint8``-valued floats in, probabilities out."""

    def __init__(self, net: PlateNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net((x / 255.0 - 0.5) / 0.25))


def backgrounds() -> list[np.ndarray]:
    """Every 20th frame of the shared videos (BGR)."""
    frames: list[np.ndarray] = []
    for name in VIDEOS:
        path = DATA_ROOT / "video" / name
        if not path.exists():
            sys.exit(f"{path} is missing: the recipe draws backgrounds from the shared videos")
        capture = cv2.VideoCapture(str(path))
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % 20 == 0:
                frames.append(np.ascontiguousarray(frame))
            index += 1
        capture.release()
    return frames


_BACKGROUNDS: list[np.ndarray] = []


def _init(frames: list[np.ndarray]) -> None:
    _BACKGROUNDS[:] = frames


def _draw(job: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    seed, index = job
    scene = scenes.make_scene(
        seed=seed, index=index, fonts=render.available_fonts(), backgrounds=_BACKGROUNDS
    )
    return scene.image, scene.mask


def recipe_key(seed: int, frames: list[np.ndarray]) -> str:
    """A hash of everything that decides the scenes: code, fonts, backgrounds, seed."""
    digest = hashlib.sha256()
    for module in (scenes, render, augment):
        digest.update(Path(str(module.__file__)).read_bytes())
    for font in render.available_fonts():
        digest.update(font.name.encode() + font.read_bytes()[:4096])
    for frame in frames:
        digest.update(hashlib.sha256(frame.tobytes()).digest())
    digest.update(str(seed).encode())
    return digest.hexdigest()[:16]


def draw_set(
    seed: int, n: int, workers: int, frames: list[np.ndarray], cache: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Scenes 0 … n-1 of ``seed``: pictures (n, S, S, 3) and masks (n, S/4, S/4)."""
    path = cache / f"scenes-{recipe_key(seed, frames)}-{n}.npz"
    if path.exists():
        data = np.load(path)
        return data["x"], data["y"]
    side, small = scenes.SIZE, scenes.SIZE // scenes.STRIDE
    xs = np.empty((n, side, side, 3), np.uint8)
    ys = np.empty((n, small, small), np.uint8)
    started = time.perf_counter()
    with multiprocessing.Pool(workers, initializer=_init, initargs=(frames,)) as pool:
        for i, (x, y) in enumerate(pool.imap(_draw, [(seed, i) for i in range(n)], 64)):
            xs[i], ys[i] = x, y
    print(f"drew {n} scenes of seed {seed} in {time.perf_counter() - started:.0f} s", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=xs, y=ys)
    return xs, ys


def _batch(xs: np.ndarray, ys: np.ndarray, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(xs[idx]).permute(0, 3, 1, 2).float()
    x = (x / 255.0 - 0.5) / 0.25
    y = torch.from_numpy(ys[idx]).float()[:, None]
    return x, y


def _loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    bce = nn.functional.binary_cross_entropy_with_logits(
        logits, target, pos_weight=torch.tensor(3.0)
    )
    p = torch.sigmoid(logits)
    inter = (p * target).sum()
    dice = 1 - (2 * inter + 1) / (p.sum() + target.sum() + 1)
    return bce + dice


def evaluate(net: PlateNet, xs: np.ndarray, ys: np.ndarray) -> dict[str, float]:
    """Pixel IoU of the thresholded map, and the share of plates (mask components) hit."""
    net.eval()
    inter = union = 0.0
    found = plates = 0
    with torch.no_grad():
        for start in range(0, len(xs), 64):
            idx = np.arange(start, min(len(xs), start + 64))
            x, y = _batch(xs, ys, idx)
            pred = (torch.sigmoid(net(x)) > 0.5).numpy()[:, 0]
            truth = y.numpy()[:, 0] > 0
            inter += float(np.logical_and(pred, truth).sum())
            union += float(np.logical_or(pred, truth).sum())
            for p_map, t_map in zip(pred, truth, strict=True):
                count, labels = cv2.connectedComponents(t_map.astype(np.uint8))
                for k in range(1, count):
                    plates += 1
                    found += bool(p_map[labels == k].mean() > 0.3)
    net.train()
    return {"pixel_iou": inter / max(union, 1.0), "plates_found": found / max(plates, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train", type=int, default=24_000)
    parser.add_argument("--val", type=int, default=1_000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "plate-detector.onnx")
    parser.add_argument("--cache", type=Path, default=ROOT / "var/model-build/detector-data")
    args = parser.parse_args()

    frames = backgrounds()
    print(f"{len(frames)} background frames", flush=True)
    xs, ys = draw_set(args.seed, args.train, args.workers, frames, args.cache)
    vx, vy = draw_set(args.seed + 1000, args.val, args.workers, frames, args.cache)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    net = PlateNet()
    steps = args.epochs * (len(xs) // args.batch)
    optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr, total_steps=steps)
    order = np.random.default_rng(args.seed)
    started = time.perf_counter()
    history = []
    for epoch in range(args.epochs):
        perm = order.permutation(len(xs))
        total = 0.0
        for step in range(len(xs) // args.batch):
            x, y = _batch(xs, ys, perm[step * args.batch : (step + 1) * args.batch])
            loss = _loss(net(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach())
        figures = evaluate(net, vx, vy)
        history.append({"epoch": epoch + 1, "loss": total / (len(xs) // args.batch), **figures})
        print(json.dumps(history[-1]), f"{time.perf_counter() - started:.0f} s", flush=True)

    net.eval()
    exported = Exported(net)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        exported,
        (torch.zeros(1, 3, 256, 256),),
        str(args.out),
        input_names=["image"],
        output_names=["plate"],
        dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "plate": {0: "n", 2: "h4", 3: "w4"}},
        opset_version=17,
        dynamo=False,
    )
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    card = {
        "model": args.out.name,
        "sha256": digest,
        "bytes": args.out.stat().st_size,
        "parameters": sum(p.numel() for p in net.parameters()),
        "recipe": "kupol.plates.scenes",
        "recipe_key": recipe_key(args.seed, frames),
        "seed": args.seed,
        "train": args.train,
        "val": args.val,
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "threads": args.threads,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "pillow": PIL.__version__,
        "fonts": [f.name for f in render.available_fonts()],
        "background_frames": len(frames),
        "history": history,
        "seconds": round(time.perf_counter() - started),
    }
    args.out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, sha256 {digest})")


if __name__ == "__main__":
    main()
