"""Export Resemblyzer's speaker encoder to ONNX, so kupol embeds voices with onnxruntime and
needs no PyTorch.

``make speaker-model`` builds a separate environment with PyTorch, librosa, webrtcvad and the
``resemblyzer`` package (which ships its trained weights, ``pretrained.pt``: no download) and
calls this script. It

1. loads the weights into the same network (3-layer LSTM, 256 units, a linear layer, ReLU,
   L2 norm) and puts librosa's mel filter bank in front of it, so the ONNX graph takes the
   power spectrogram (201 bins, 25 ms Hann windows every 10 ms) that kupol computes with NumPy;
2. exports ``src/kupol/antifraud/models/speaker-encoder.onnx``;
3. checks kupol's whole pipeline (:mod:`kupol.antifraud.speakers`: its own voice-activity
   trimming, STFT and this graph) against Resemblyzer's own ``preprocess_wav`` +
   ``embed_utterance`` on the real clips of ``../shared/data/voice/fake-or-real`` and writes
   the agreement (cosine similarity of the two embeddings) into the card.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import librosa
import numpy as np
import onnx
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kupol.antifraud import audio, speakers  # noqa: E402
from kupol.core.errors import InvalidInputError  # noqa: E402

MODEL_DIR = ROOT / "src" / "kupol" / "antifraud" / "models"
DATA = ROOT.parent / "shared" / "data" / "voice" / "fake-or-real"


class Encoder(nn.Module):
    """Power spectrogram frames → mel → Resemblyzer's LSTM → an L2-normed 256-d embedding."""

    def __init__(self, mel_basis: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mel", torch.from_numpy(mel_basis.T.astype(np.float32)))
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        mels = power @ self.mel
        _, (hidden, _) = self.lstm(mels)
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-12)


def weights_file() -> Path:
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or spec.origin is None:
        raise SystemExit("resemblyzer is not installed (make speaker-model installs it)")
    return Path(spec.origin).parent / "pretrained.pt"


def export(out: Path) -> dict[str, object]:
    weights = weights_file()
    state = torch.load(weights, map_location="cpu")["model_state"]
    mel_basis = librosa.filters.mel(sr=speakers.RATE, n_fft=speakers.N_FFT, n_mels=40)
    model = Encoder(mel_basis)
    missing, unexpected = model.load_state_dict(
        {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}, strict=False
    )
    if [m for m in missing if m != "mel"] or unexpected:
        raise SystemExit(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (torch.zeros(2, speakers.PARTIAL_FRAMES, speakers.N_FFT // 2 + 1),),
        str(out),
        input_names=["power"],
        output_names=["embedding"],
        dynamic_axes={"power": {0: "n", 1: "frames"}, "embedding": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    onnx.checker.check_model(onnx.load(str(out)))
    return {
        "weights": "resemblyzer 0.1.4 pretrained.pt (Apache-2.0; GE2E speaker encoder)",
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "torch": torch.__version__,
        "librosa": librosa.__version__,
    }


def agreement(model_path: Path) -> dict[str, object]:
    """kupol's embeddings against Resemblyzer's own, clip by clip: the whole pipeline, and the
    graph alone (both given Resemblyzer's own levelled, silence-cut samples)."""
    from resemblyzer import VoiceEncoder, preprocess_wav

    reference = VoiceEncoder(device="cpu", verbose=False)
    ours = speakers.SpeakerEncoder.from_file(model_path)
    clips = sorted((DATA / "validation" / "real").glob("*")) + sorted(
        (DATA / "training" / "real").glob("*")
    )
    if not clips:
        raise SystemExit(f"no clips under {DATA}")
    cosines, graph = [], []
    too_short = 0
    for path in clips:
        samples = audio.read_audio(path)
        try:
            mine = ours.embed(samples)
        except InvalidInputError:
            too_short += 1
            continue
        prepared = preprocess_wav(samples, source_sr=speakers.RATE)
        theirs = reference.embed_utterance(prepared)
        if prepared.size >= speakers.MIN_SPEECH_SECONDS * speakers.RATE:
            graph.append(float(np.dot(ours.embed_speech(prepared.astype(np.float32)), theirs)))
        cosines.append(float(np.dot(mine, theirs)))
    values = np.array(cosines)
    return {
        "clips": len(values),
        "too_short_for_kupol": too_short,
        "mean_cosine": round(float(values.mean()), 4),
        "min_cosine": round(float(values.min()), 4),
        "same_input_min_cosine": round(float(np.min(graph)), 6),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "speaker-encoder.onnx")
    args = parser.parse_args(argv)
    card = export(args.out)
    card["input"] = (
        f"power spectrogram, {speakers.N_FFT // 2 + 1} bins ({speakers.N_FFT}-sample Hann, "
        f"hop {speakers.HOP}, 16 kHz), frames of {speakers.PARTIAL_FRAMES}"
    )
    card["output"] = "256-d L2-normed speaker embedding"
    card["agreement_with_resemblyzer"] = agreement(args.out)
    card["sha256"] = hashlib.sha256(args.out.read_bytes()).hexdigest()
    args.out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
