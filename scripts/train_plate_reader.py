#!/usr/bin/env python3
"""Train kupol's plate reader (a small CRNN with CTC) on rendered plates and export it to ONNX.

Run it as ``make plate-model``: that target makes a separate virtual environment with PyTorch
(training only; kupol itself reads with onnxruntime) and calls this script. The shipped model
was trained on a GPU (``--device cuda``, the default where one is present: an NVIDIA H200 lent
for one session, PyTorch 2.11 + CUDA 13.0); on a CPU the same recipe gives other weights and
takes hours on two cores.

What it does, all from one seed:

1. draws ``--train`` samples (and ``--val`` for watching) from the recipe in
   :mod:`kupol.plates.dataset` — sample *i* from its own generator, so the data are the same
   byte for byte however many processes draw them — and keeps them as 32 x 128 grey inputs
   (cached under ``var/model-build/plate-data``, keyed by the recipe's source and fonts);
2. trains the network below with Adam and a one-cycle schedule, deterministic algorithms only,
   a fixed thread count and a seeded shuffle, so a rerun on the same PyTorch and device gives
   the same weights bit for bit (on the GPU: checked with two short runs, same SHA-256);
3. exports ``src/kupol/plates/models/plate-crnn.onnx`` and writes its card (recipe, seed,
   figures, SHA-256) beside it.

With ``--from-onnx FILE --start-epoch K`` it continues from an exported model instead of
starting afresh (see :func:`load_exported`), the shuffle and the schedule advanced as if the
first ``K`` epochs had run.

``python scripts/train_plate_reader.py -h`` lists the knobs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import PIL
import torch
from torch import nn

from kupol.plates import augment, crnn_input, dataset, render
from kupol.plates.crnn_input import CHARSET, INPUT_H, INPUT_W, decode, encode, model_order, to_input

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "src" / "kupol" / "plates" / "models"


class PlateCRNN(nn.Module):
    """Conv feature extractor (32 x 128 → 1 x 32 columns), dilated 1-D convs for context,
    and a per-column classifier over blank + 36 characters."""

    def __init__(self, classes: int = len(CHARSET) + 1, width: float = 1.0) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = (round(c * width) for c in (16, 32, 64, 96, 128))

        def block(cin: int, cout: int, pool: tuple[int, int] | None) -> list[nn.Module]:
            layers: list[nn.Module] = [
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
            if pool:
                layers.append(nn.MaxPool2d(pool))
            return layers

        self.features = nn.Sequential(
            *block(1, c1, (2, 2)),  # 16 x 64
            *block(c1, c2, (2, 2)),  # 8 x 32
            *block(c2, c3, (2, 1)),  # 4 x 32
            *block(c3, c4, (2, 1)),  # 2 x 32
            nn.Conv2d(c4, c5, (2, 1), bias=False),  # 1 x 32
            nn.BatchNorm2d(c5),
            nn.ReLU(inplace=True),
        )
        # Dilated 1-D convolutions: each column sees ±7 columns (about a third of a plate),
        # enough to learn which groups hold letters and which digits.
        self.context = nn.Sequential(
            nn.Conv1d(c5, c5, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Dropout(0.1),
            nn.Conv1d(c5, c5, 3, padding=2, dilation=2),
            nn.ReLU(inplace=True),
            nn.Conv1d(c5, c5, 3, padding=4, dilation=4),
            nn.ReLU(inplace=True),
        )
        self.classify = nn.Conv1d(c5, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``N x 1 x 32 x 128`` inputs → ``N x 32 x classes`` logits."""
        f = self.features(x).squeeze(2)
        f = f + self.context(f)
        return self.classify(f).transpose(1, 2)


def _draw(job: tuple[int, int, int, bool]) -> tuple[np.ndarray, str, bool]:
    seed, index, _, heldout = job
    fonts = dataset.heldout_fonts() if heldout else render.available_fonts()
    sample = dataset.make_sample(seed=seed, index=index, fonts=fonts, heldout=heldout)
    x = to_input(sample.crop, two_line=sample.two_line)
    # Stored as uint8 to keep 100k samples in 400 MB; the standardised input is in [-6, 6].
    stored = np.clip(x * 20.0 + 128.0, 0, 255).astype(np.uint8)
    return stored, model_order(sample.text, two_line=sample.two_line), sample.two_line


CHUNK = 20_000
"""Samples are drawn and cached in chunks, so a longer run reuses a shorter one's."""


def recipe_key(seed: int) -> str:
    """A hash of everything that decides the samples: the recipe's code, the fonts, the seed."""
    digest = hashlib.sha256()
    for module in (dataset, render, augment, crnn_input):
        digest.update(Path(str(module.__file__)).read_bytes())
    for font in render.available_fonts():
        digest.update(font.name.encode() + font.read_bytes()[:4096])
    digest.update(str(seed).encode())
    return digest.hexdigest()[:16]


def draw_set(seed: int, n: int, workers: int, cache: Path) -> tuple[np.ndarray, list[str]]:
    """Samples 0 … n-1 of ``seed`` as stored inputs and labels, cached chunk by chunk."""
    key = recipe_key(seed)
    xs = np.empty((n, INPUT_H, INPUT_W), np.uint8)
    labels: list[str] = []
    started = time.perf_counter()
    for first in range(0, n, CHUNK):
        size = min(CHUNK, n - first)
        path = cache / f"plates-{key}-{first}-{size}.npz"
        if path.exists():
            data = np.load(path)
            xs[first : first + size] = data["x"]
            labels += [str(t) for t in data["y"]]
            continue
        jobs = [(seed, i, n, False) for i in range(first, first + size)]
        chunk_labels: list[str] = []
        with multiprocessing.Pool(workers) as pool:
            for i, (x, text, _) in enumerate(pool.imap(_draw, jobs, chunksize=256)):
                xs[first + i] = x
                chunk_labels.append(text)
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, x=xs[first : first + size], y=np.array(chunk_labels))
        labels += chunk_labels
        print(f"  drew {first + size}/{n} ({time.perf_counter() - started:.0f} s)", flush=True)
    return xs, labels


def to_tensor(stored: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Stored uint8 inputs back to the standardised floats the model takes."""
    x = torch.from_numpy(stored) if isinstance(stored, np.ndarray) else stored
    return (x.float().unsqueeze(1) - 128.0) / 20.0


def load_exported(model: PlateCRNN, path: Path) -> None:
    """Set ``model``'s weights from an ONNX file :func:`export` wrote.

    The export folds each batch normalisation into the convolution before it, so the
    convolutions take the folded weights and each normalisation becomes the identity plus the
    folded bias (running mean 0, variance ``1 - eps``, scale 1): in eval mode the network
    computes what the file does. Its statistics cannot be recovered, so a run that continues
    from a file keeps the normalisations in eval mode (their scale and shift still learn).
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    folded = [n for n in graph.node if n.op_type == "Conv" and weights[n.input[1]].ndim == 4]
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.features if isinstance(m, nn.BatchNorm2d)]
    if len(folded) != len(convs) or len(norms) != len(convs):
        raise SystemExit(f"{path}: not a model of this network ({len(folded)} image convolutions)")
    with torch.no_grad():
        for node, conv, norm in zip(folded, convs, norms, strict=True):
            conv.weight.copy_(torch.from_numpy(weights[node.input[1]].copy()))
            norm.weight.fill_(1.0)
            norm.bias.copy_(torch.from_numpy(weights[node.input[2]].copy()))
            norm.running_mean.zero_()
            norm.running_var.fill_(1.0 - norm.eps)
        state = model.state_dict()
        for name, value in weights.items():
            key = name.removeprefix("inner.")
            if key in state and not key.startswith("features."):
                state[key].copy_(torch.from_numpy(value.copy()))
    missing = [k for k in state if k.startswith(("context.", "classify.")) and
               f"inner.{k}" not in weights]  # fmt: skip
    if missing:
        raise SystemExit(f"{path}: no weights for {missing}")


def exact_rate(model: nn.Module, xs: np.ndarray, labels: list[str], device: str = "cpu") -> float:
    """Share of ``xs`` read exactly (greedy decoding, the model's order)."""
    model.eval()
    right = 0
    with torch.no_grad():
        for start in range(0, len(xs), 512):
            batch = to_tensor(xs[start : start + 512]).to(device)
            probs = model(batch).softmax(-1).cpu().numpy()
            for p, label in zip(probs, labels[start : start + 512], strict=True):
                right += decode(p)[0] == label
    model.train()
    return right / max(1, len(xs))


def train(args: argparse.Namespace) -> dict[str, object]:
    """Draw the data, train, and return the figures for the model card.

    On ``--device cuda`` the samples live on the GPU and the network runs there, with
    deterministic kernels only (``CUBLAS_WORKSPACE_CONFIG`` set, cuDNN's deterministic
    algorithms); the CTC loss is computed on the CPU, whose kernel is deterministic where
    CUDA's backward is not. A rerun on the same GPU, driver and PyTorch gives the same weights.
    """
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.set_num_threads(args.threads)
    device = args.device
    print(f"drawing {args.train} training samples (seed {args.seed})", flush=True)
    xs, labels = draw_set(args.seed, args.train, args.workers, args.cache)
    val_x, val_labels = draw_set(args.seed + 1_000_003, args.val, args.workers, args.cache)
    targets = [torch.tensor(encode(t), dtype=torch.long) for t in labels]
    stored = torch.from_numpy(xs).to(device)
    model = PlateCRNN(width=args.width)
    if args.from_onnx is not None:
        load_exported(model, args.from_onnx)
    model = model.to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params} parameters, on {device}", flush=True)
    steps_per_epoch = len(xs) // args.batch
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=args.lr, total_steps=steps_per_epoch * args.epochs, pct_start=0.15
    )
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    order = np.random.default_rng(args.seed)
    started = time.perf_counter()
    history = []
    if args.from_onnx is not None:
        history.append({"epoch": args.start_epoch - 1, "loss": None,
                        "val_exact": exact_rate(model, val_x, val_labels, device)})  # fmt: skip
        print(f"from {args.from_onnx}: val exact {history[-1]['val_exact']:.4f}", flush=True)
    for epoch in range(args.stop_after or args.epochs):
        perm = order.permutation(len(xs))
        if epoch < args.start_epoch:  # run before: the shuffle and the schedule move on alone
            for _ in range(steps_per_epoch):
                order.uniform(0.8, 1.2, (args.batch, 1, 1, 1))
                order.uniform(-0.3, 0.3, (args.batch, 1, 1, 1))
                with warnings.catch_warnings():  # (stepped without an optimiser step)
                    warnings.simplefilter("ignore")
                    schedule.step()
            continue
        if args.from_onnx is not None:  # (validation and export leave it in train mode)
            for norm in model.features:
                if isinstance(norm, nn.BatchNorm2d):
                    norm.eval()
        total = 0.0
        for step in range(steps_per_epoch):
            idx = np.sort(perm[step * args.batch : (step + 1) * args.batch])
            batch = to_tensor(stored[torch.from_numpy(idx).to(device)])
            # A small shift of brightness and contrast per sample, drawn from the seeded stream.
            gain = torch.from_numpy(order.uniform(0.8, 1.2, (len(idx), 1, 1, 1))).float()
            shift = torch.from_numpy(order.uniform(-0.3, 0.3, (len(idx), 1, 1, 1))).float()
            batch = batch * gain.to(device) + shift.to(device)
            tgt = [targets[i] for i in idx]
            logp = model(batch).log_softmax(-1).transpose(0, 1).cpu()  # T x N x C
            loss = ctc(
                logp,
                torch.cat(tgt),
                torch.full((len(idx),), logp.shape[0], dtype=torch.long),
                torch.tensor([len(t) for t in tgt], dtype=torch.long),
            )
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimiser.step()
            schedule.step()
            total += float(loss)
            if step % 200 == 0:
                elapsed = time.perf_counter() - started
                print(
                    f"  epoch {epoch} step {step}/{steps_per_epoch} loss {float(loss):.3f} "
                    f"({elapsed:.0f} s)",
                    flush=True,
                )
        val = exact_rate(model, val_x, val_labels, device)
        history.append({"epoch": epoch, "loss": total / steps_per_epoch, "val_exact": val})
        print(f"epoch {epoch}: loss {total / steps_per_epoch:.3f}, val exact {val:.4f}", flush=True)
        if args.export_every_epoch:
            export(model, args.out)
    return {
        "parameters": params,
        "history": history,
        "train_seconds": round(time.perf_counter() - started),
        "model": model.cpu(),
    }


def export(model: nn.Module, out: Path) -> str:
    """Write the ONNX file (softmax included, dynamic batch) and return its SHA-256."""
    was_training = model.training
    model.eval()

    class WithSoftmax(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x).softmax(-1)

    out.parent.mkdir(parents=True, exist_ok=True)
    device = next(model.parameters()).device
    torch.onnx.export(
        WithSoftmax(model).cpu(),
        (torch.zeros(1, 1, INPUT_H, INPUT_W),),
        str(out),
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "n"}, "probs": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    model.to(device).train(was_training)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def _device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    return "cpu"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--train", type=int, default=400_000, help="training samples")
    parser.add_argument("--val", type=int, default=2_000, help="validation samples")
    parser.add_argument("--epochs", type=int, default=6, help="epochs the schedule spans")
    parser.add_argument(
        "--stop-after",
        type=int,
        default=5,
        help="stop after this many epochs (the shipped model: 5 of a 6-epoch schedule, where "
        "the GPU's time ran out); 0 runs the whole schedule",
    )
    parser.add_argument(
        "--from-onnx",
        type=Path,
        help="start from this exported model's weights (its normalisations frozen)",
    )
    parser.add_argument(
        "--start-epoch",
        type=int,
        default=0,
        help="skip the epochs before this one (the shuffle and schedule advance as if they ran)",
    )
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument(
        "--threads", type=int, default=2, help="PyTorch threads (fixed: results depend on it)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="processes drawing samples"
    )
    parser.add_argument("--width", type=float, default=1.25, help="channel width multiplier")
    parser.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="cuda (the shipped model was trained on one) or cpu (same recipe, other weights)",
    )
    parser.add_argument(
        "--export-every-epoch", action="store_true", help="write the ONNX file after each epoch"
    )
    parser.add_argument(
        "--draw-only", action="store_true", help="draw (and cache) the samples, train nothing"
    )
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "model-build" / "plate-data")
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "plate-crnn.onnx")
    args = parser.parse_args(argv)
    if not render.available_fonts():
        raise SystemExit("no fonts to draw plates with: run `make plate-fonts` first")
    if args.draw_only:
        draw_set(args.seed, args.train, args.workers, args.cache)
        draw_set(args.seed + 1_000_003, args.val, args.workers, args.cache)
        return 0
    if args.device.startswith("cuda"):
        # cuBLAS is deterministic only with a fixed workspace; set before CUDA starts.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    result = train(args)
    model = result.pop("model")
    assert isinstance(model, nn.Module)
    sha = export(model, args.out)
    card = {
        "seed": args.seed,
        "train_samples": args.train,
        "epochs": args.epochs,
        "stopped_after_epochs": args.stop_after or args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "threads": args.threads,
        "width": args.width,
        "device": _device_name(args.device),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "pillow": PIL.__version__,
        "fonts": [f.name for f in render.available_fonts()],
        "recipe": recipe_key(args.seed),
        "sha256": sha,
        **result,
    }
    args.out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in card.items() if k != "history"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
