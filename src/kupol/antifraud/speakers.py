"""Speaker embeddings: who is speaking, as 256 numbers, to link one fraudster's voice across
recorded calls and victims' complaints.

The network is Resemblyzer's GE2E speaker encoder (its trained weights ship in the
``resemblyzer`` package; Apache-2.0), exported to ONNX by ``make speaker-model``
(``scripts/export_speaker_encoder.py``) with the mel filter bank folded in, so kupol runs it
with onnxruntime alone. This module does the rest as Resemblyzer does: raise quiet recordings
to −30 dBFS, cut long silences, split the speech into 1.6 s windows overlapping by about half,
embed each and average. Resemblyzer cuts silences with WebRTC's voice detector; kupol uses an
energy detector with the same smoothing (the card records how closely the two pipelines agree).

Two recordings of one speaker have a cosine similarity near 1; :data:`SAME_SPEAKER` is the
threshold measured on real clips (``kupol eval speakers``, docs/antifraud.md).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.ndimage import binary_dilation  # type: ignore[import-untyped]
from scipy.signal import get_window  # type: ignore[import-untyped]

from kupol.core.errors import ConfigError, InvalidInputError

RATE = 16_000
N_FFT = 400
HOP = 160
PARTIAL_FRAMES = 160
"""Frames (10 ms each) in one window the network embeds: 1.6 s."""
PARTIALS_PER_SECOND = 1.3
MIN_COVERAGE = 0.75
MIN_SPEECH_SECONDS = 0.5
MODEL_PATH = Path(__file__).parent / "models" / "speaker-encoder.onnx"
SAME_SPEAKER = 0.67
"""Cosine similarity at or above which two recordings are put to an analyst as one speaker:
between the equal-error points on the training clips (as recorded 0.691, one side through a
phone line 0.651); the held-out error rates at it are in docs/antifraud.md. A candidate
link, not an identification."""

Embedding = npt.NDArray[np.float32]

_VAD_WINDOW = 480  # 30 ms
_VAD_SMOOTHING = 8
_VAD_MAX_SILENCE = 6
_VAD_MIN_RANGE = 12.0  # dB between the quietest windows and the loudest


def normalise_volume(
    samples: npt.NDArray[np.float32], target_dbfs: float = -30.0
) -> npt.NDArray[np.float32]:
    """Quiet recordings raised to ``target_dbfs`` RMS; loud ones left as they are."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms <= 0:
        return samples
    change = target_dbfs - 20 * np.log10(rms)
    if change < 0:
        return samples
    return (samples * np.float32(10 ** (change / 20))).astype(np.float32)


def trim_silences(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The recording with silences longer than about 0.2 s cut out (30 ms windows, an energy
    threshold between the recording's noise floor and its loudest speech, smoothed and
    widened as Resemblyzer does). A recording whose noise is nearly as loud as its speech
    (under 12 dB apart) is kept whole; one that is all silence comes back empty."""
    n = samples.size // _VAD_WINDOW
    if n < _VAD_SMOOTHING:
        return samples
    windows = samples[: n * _VAD_WINDOW].reshape(n, _VAD_WINDOW)
    ac = windows.astype(np.float64) - windows.mean(axis=1, keepdims=True)  # no DC offset
    level = 10 * np.log10(np.mean(ac**2, axis=1) + 1e-12)
    floor, peak = np.percentile(level, 10), np.percentile(level, 99)
    if peak - floor < _VAD_MIN_RANGE and peak > -60:
        return samples  # noise as loud as the speech: no silence to tell apart
    voiced = level > floor + max(6.0, 0.3 * (peak - floor))
    padded = np.concatenate(
        [np.zeros((_VAD_SMOOTHING - 1) // 2), voiced, np.zeros(_VAD_SMOOTHING // 2)]
    )
    smooth = np.convolve(padded, np.ones(_VAD_SMOOTHING) / _VAD_SMOOTHING, mode="valid")
    mask = binary_dilation(np.round(smooth).astype(bool), np.ones(_VAD_MAX_SILENCE + 1))
    return np.asarray(windows[mask].reshape(-1), dtype=np.float32)


def power_spectrogram(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """|STFT|² as librosa computes it (centred, zero-padded, periodic Hann): frames × 201."""
    padded = np.pad(samples.astype(np.float32), N_FFT // 2)
    count = 1 + (padded.size - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    window = get_window("hann", N_FFT, fftbins=True).astype(np.float32)
    spectrum = np.fft.rfft(padded[index] * window, axis=1)
    return np.asarray(np.abs(spectrum) ** 2, dtype=np.float32)


def partial_windows(n_samples: int) -> list[tuple[int, int]]:
    """(first frame, end frame) of each 1.6 s window over an ``n_samples`` recording; the last
    is kept when at least three quarters of it is speech."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = round(RATE / PARTIALS_PER_SECOND / HOP)
    starts = range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step)
    windows = [(s, s + PARTIAL_FRAMES) for s in starts]
    last = windows[-1]
    coverage = (n_samples - last[0] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(windows) > 1:
        windows.pop()
    return windows


class SpeakerEncoder:
    """Embeds recordings; one instance is safe to share between threads."""

    def __init__(self, session: object, card: dict[str, object]) -> None:
        self._session = session
        self.card = card

    @classmethod
    def from_file(cls, path: Path = MODEL_PATH) -> SpeakerEncoder:
        """The shipped (or ``path``'s) encoder, checked against its card.

        Raises:
            ConfigError: the model or its card is missing, changed, or not loadable.
        """
        import onnxruntime as ort

        card_file = path.with_suffix(".json")
        if not path.is_file():
            raise ConfigError(f"speaker model {path} is missing (make speaker-model)")
        card: dict[str, object] = (
            json.loads(card_file.read_text(encoding="utf-8")) if card_file.is_file() else {}
        )
        if card and card.get("sha256") != hashlib.sha256(path.read_bytes()).hexdigest():
            raise ConfigError(f"speaker model {path.name} does not match its card's SHA-256")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises bare RuntimeError subclasses
            raise ConfigError(f"speaker model {path} is not loadable: {exc}") from exc
        return cls(session, card)

    def embed(self, samples: npt.NDArray[np.float32]) -> Embedding:
        """The recording's speaker embedding (16 kHz mono samples; 256 numbers, unit length).

        Raises:
            InvalidInputError: under half a second of speech, so no voice to compare.
        """
        return self.embed_speech(trim_silences(normalise_volume(samples)))

    def embed_speech(self, speech: npt.NDArray[np.float32]) -> Embedding:
        """Like :meth:`embed` for samples already levelled and cut to speech."""
        if speech.size < MIN_SPEECH_SECONDS * RATE:
            raise InvalidInputError(
                f"only {speech.size / RATE:.2f} s of speech: at least "
                f"{MIN_SPEECH_SECONDS} s is needed to compare voices"
            )
        windows = partial_windows(speech.size)
        end = windows[-1][1] * HOP
        if end >= speech.size:
            speech = np.pad(speech, (0, end - speech.size))
        power = power_spectrogram(speech)
        batch = np.stack([power[a:b] for a, b in windows])
        (partials,) = self._session.run(None, {"power": batch})  # type: ignore[attr-defined]
        mean = np.asarray(partials, dtype=np.float32).mean(axis=0)
        unit: Embedding = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        return unit


def similarity(a: Embedding, b: Embedding) -> float:
    """Cosine similarity of two embeddings (both unit length)."""
    return float(np.dot(a, b))


@cache
def shipped_encoder() -> SpeakerEncoder:
    """The shipped encoder, loaded once per process."""
    return SpeakerEncoder.from_file()
