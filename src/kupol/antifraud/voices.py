"""The synthetic-speech (deepfake voice) detector: spectral features of a clip
(:mod:`kupol.antifraud.audio`) and a support-vector classifier trained by the project.

Training (``make voice-model``): every training clip as given, through an MP3 encoder and
through a telephone line (8 kHz μ-law), so that the codec a clip went through is not what
tells synthetic from human — in the shared data most synthetic clips were MP3-decoded and no
human one was. Evaluation (``kupol eval voices DIR``) reads the clips under ``DIR``'s ``fake``
and ``real`` folders (recursively) and prints the equal error rate, accuracy at 0.5, and the
same through a telephone line and — for the human clips — after MP3.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kupol.antifraud.audio import Audio, read_audio, spectral_features, through_mp3, through_phone
from kupol.antifraud.modelfile import load_checked
from kupol.core.errors import InvalidInputError

MODEL_PATH = Path(__file__).with_name("models") / "voice-svm.joblib"
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a")
FEATURES = "kupol.antifraud.audio.spectral_features v1 (79)"


@dataclass(frozen=True)
class Clip:
    path: Path
    synthetic: bool


def labelled_clips(folder: Path) -> list[Clip]:
    """Clips under ``folder`` whose path has a ``fake`` or ``real`` folder in it.

    Raises:
        InvalidInputError: no such folder, or no labelled clip in it.
    """
    if not folder.is_dir():
        raise InvalidInputError(f"{folder}: no such folder")
    clips = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
            continue
        parts = {p.lower() for p in path.relative_to(folder).parts[:-1]} | ({folder.name.lower()})
        if "fake" in parts:
            clips.append(Clip(path, True))
        elif "real" in parts:
            clips.append(Clip(path, False))
    if not clips or len({c.synthetic for c in clips}) < 2:
        raise InvalidInputError(f"{folder}: needs clips under both fake/ and real/ folders")
    return clips


def equal_error_rate(truth: npt.NDArray[np.bool_], scores: npt.NDArray[np.float64]) -> float:
    """Where false acceptances and false rejections are equal: the ROC's crossing of
    FNR = FPR, interpolated between the two thresholds around it."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(truth, scores, drop_intermediate=False)
    fnr = 1 - tpr
    gap = fnr - fpr  # falls from 1 to -1 as the threshold falls
    i = int(np.argmax(gap <= 0))
    if i == 0 or gap[i] == 0:
        return float((fpr[i] + fnr[i]) / 2)
    share = gap[i - 1] / (gap[i - 1] - gap[i])
    return float(fpr[i - 1] + share * (fpr[i] - fpr[i - 1]))


def new_classifier() -> Any:
    """The learner: standardised features, an RBF support-vector machine with probabilities."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(C=1.0, probability=True, random_state=0))


def training_matrix(
    clips: Iterable[Clip], *, augment: bool = True
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Features of each clip as given and, with ``augment``, through MP3 and a phone line."""
    channels: list[Callable[[Audio], Audio]] = [lambda a: a]
    if augment:
        channels += [through_mp3, through_phone]
    rows, labels = [], []
    for clip in clips:
        audio = read_audio(clip.path)
        for channel in channels:
            rows.append(spectral_features(channel(audio)))
            labels.append(clip.synthetic)
    return np.array(rows), np.array(labels, dtype=bool)


class SyntheticSpeechDetector:
    """Scores clips: the probability that the voice is synthetic."""

    def __init__(self, estimator: Any, card: dict[str, Any]) -> None:
        self.estimator = estimator
        self.card = card

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> SyntheticSpeechDetector:
        """The shipped (or a deployment's) model, checked against its card.

        Raises:
            ConfigError: missing, made by another scikit-learn, or changed since.
        """
        estimator, card = load_checked(path)
        if card.get("features") != FEATURES:
            from kupol.core.errors import ConfigError

            raise ConfigError(f"voice model {path.name} was made for other features: retrain it")
        return cls(estimator, card)

    def scores(self, audios: Iterable[Audio]) -> npt.NDArray[np.float64]:
        rows = np.array([spectral_features(a) for a in audios])
        if rows.size == 0:
            return np.zeros(0)
        return np.asarray(self.estimator.predict_proba(rows)[:, 1], dtype=np.float64)


def evaluate_voices(folder: Path, detector: SyntheticSpeechDetector) -> dict[str, Any]:
    """The detector on every labelled clip under ``folder``: EER and accuracy as given,
    through a telephone line, and how many human clips it calls synthetic after MP3."""
    clips = labelled_clips(folder)
    audios = [read_audio(c.path) for c in clips]
    truth = np.array([c.synthetic for c in clips])
    started = time.perf_counter()
    given = detector.scores(audios)
    ms = 1000 * (time.perf_counter() - started) / len(audios)
    phone = detector.scores(through_phone(a) for a in audios)
    human = [a for a, c in zip(audios, clips, strict=True) if not c.synthetic]
    human_mp3 = detector.scores(through_mp3(a) for a in human)
    return {
        "folder": folder.name,
        "n": len(clips),
        "synthetic": int(truth.sum()),
        "human": int((~truth).sum()),
        "eer": round(equal_error_rate(truth, given), 4),
        "accuracy": round(float(((given >= 0.5) == truth).mean()), 4),
        "phone_line": {
            "eer": round(equal_error_rate(truth, phone), 4),
            "accuracy": round(float(((phone >= 0.5) == truth).mean()), 4),
        },
        "human_called_synthetic": {
            "as_given": int((given[~truth] >= 0.5).sum()),
            "after_mp3": int((human_mp3 >= 0.5).sum()),
            "of": len(human),
        },
        "ms_per_clip": round(ms, 2),
        "model": detector.card.get("sha256", "")[:12],
    }
