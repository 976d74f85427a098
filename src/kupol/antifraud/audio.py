"""Speech clips for the voice checks: read at 16 kHz mono, spectral features, and the channels
a clip may have passed through (an MP3 encoder, a telephone line).

Features (:func:`spectral_features`, 79 numbers a clip): linear-frequency cepstral
coefficients (20, over a 40-band linear filter bank — synthetic speech shows itself in the
high bands that mel scales squeeze) averaged and spread over the voiced frames, the spread of
their frame-to-frame change, the shape of the average spectrum in 16 bands, spectral flatness
and the clip's length.
"""

from __future__ import annotations

import io
from math import gcd
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.fft import dct  # type: ignore[import-untyped]
from scipy.signal import resample_poly, stft  # type: ignore[import-untyped]

from kupol.core.errors import InvalidInputError

RATE = 16_000
Audio = npt.NDArray[np.float32]
MAX_SECONDS = 600


def read_audio(path: Path) -> Audio:
    """A clip as 16 kHz mono floats in [-1, 1]: WAV read directly, anything else through
    FFmpeg (PyAV).

    Raises:
        InvalidInputError: unreadable, not audio, empty, or longer than ten minutes.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path.name}: cannot read ({exc})") from exc
    return audio_from_bytes(data, path.name)


def audio_from_bytes(data: bytes, name: str) -> Audio:
    """Like :func:`read_audio` for a file's content (an upload); ``name`` says how to read it
    (``.wav``: directly) and names it in errors."""
    try:
        if name.lower().endswith(".wav"):
            from scipy.io import wavfile  # type: ignore[import-untyped]

            rate, raw = wavfile.read(io.BytesIO(data))
            samples = _floats(np.asarray(raw))
        else:
            rate, samples = _decode(data)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{name}: cannot read as audio ({exc})") from exc
    except Exception as exc:  # PyAV raises its own error types for broken media
        raise InvalidInputError(f"{name}: cannot decode audio ({exc})") from exc
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    if samples.size == 0:
        raise InvalidInputError(f"{name}: no samples")
    if samples.size > MAX_SECONDS * rate:
        raise InvalidInputError(f"{name}: longer than {MAX_SECONDS} s")
    return _to_rate(samples.astype(np.float32), rate)


def _floats(data: npt.NDArray[np.generic]) -> Audio:
    if data.dtype == np.int16:
        return (data.astype(np.float32) / 32768).astype(np.float32)
    if data.dtype == np.int32:
        return (data.astype(np.float64) / 2**31).astype(np.float32)
    if data.dtype == np.uint8:
        return ((data.astype(np.float32) - 128) / 128).astype(np.float32)
    return data.astype(np.float32)


def _decode(blob: bytes) -> tuple[int, Audio]:
    import av

    chunks: list[Audio] = []
    rate = RATE
    with av.open(io.BytesIO(blob), mode="r") as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.float32))
    return rate, (np.concatenate(chunks) if chunks else np.zeros(0, np.float32))


def _to_rate(samples: Audio, rate: int) -> Audio:
    if rate == RATE:
        return samples
    g = gcd(rate, RATE)
    return np.asarray(resample_poly(samples, RATE // g, rate // g), dtype=np.float32)


def through_mp3(samples: Audio, bitrate: int = 32_000) -> Audio:
    """The clip after an MP3 encoder and decoder (as recordings shared online are)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=RATE)
        stream.bit_rate = bitrate
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    _, decoded = _decode(buffer.getvalue())
    return decoded


def through_phone(samples: Audio) -> Audio:
    """The clip after a telephone line: 8 kHz, G.711 μ-law (8 bits), back to 16 kHz."""
    narrow = np.clip(resample_poly(samples, 1, 2), -1, 1)
    mu = 255.0
    law = np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu)
    law = np.round(law * 127) / 127
    back = np.sign(law) * ((1 + mu) ** np.abs(law) - 1) / mu
    return np.asarray(resample_poly(back, 2, 1), dtype=np.float32)


def spectral_features(samples: Audio) -> npt.NDArray[np.float64]:
    """The 79 numbers the synthetic-speech detector judges a clip by (see the module)."""
    if samples.size < 1024:
        samples = np.pad(samples, (0, 1024 - samples.size))
    _, _, z = stft(samples, fs=RATE, nperseg=512, noverlap=384)
    power = np.abs(z) ** 2 + 1e-10
    bands = 40
    edges = np.linspace(0, power.shape[0], bands + 1).astype(int)
    bank = np.stack([power[edges[i] : edges[i + 1]].mean(axis=0) for i in range(bands)])
    lfcc = dct(np.log(bank), axis=0, norm="ortho")[:20]
    change = np.diff(lfcc, axis=1) if lfcc.shape[1] > 1 else np.zeros((20, 1))
    energy = np.log(power.sum(axis=0))
    voiced = energy > np.percentile(energy, 30)
    if voiced.sum() <= 5:
        voiced = np.ones_like(voiced)
    kept = lfcc[:, voiced]
    spectrum = np.log(power)[:, voiced].mean(axis=1)
    shape = np.array([spectrum[a : a + 16].mean() for a in range(0, 256, 16)])
    flatness = np.exp(np.log(power).mean(axis=0)) / power.mean(axis=0)
    return np.concatenate(
        [
            kept.mean(axis=1),
            kept.std(axis=1),
            change.std(axis=1),
            shape - shape.mean(),
            [flatness.mean(), flatness.std(), samples.size / RATE],
        ]
    ).astype(np.float64)
