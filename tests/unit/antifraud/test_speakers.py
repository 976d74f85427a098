"""Speaker embeddings: the pieces kupol computes itself (levelling, silence cutting, the
spectrogram, the 1.6 s windows) and the shipped ONNX encoder's contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kupol.antifraud import speakers
from kupol.antifraud.speakers import (
    HOP,
    RATE,
    SpeakerEncoder,
    normalise_volume,
    partial_windows,
    power_spectrogram,
    shipped_encoder,
    trim_silences,
)
from kupol.core.errors import ConfigError, InvalidInputError


def babble(seconds: float, seed: int = 0, pitch: float = 140.0) -> np.ndarray:
    """Voiced-sounding noise: a harmonic buzz with a wobbling pitch, under an envelope of
    syllables."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = pitch * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    buzz = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = 0.5 * (1 + np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6)))
    noise = 0.02 * rng.standard_normal(t.size)
    return (0.1 * buzz * syllables + noise).astype(np.float32)


def test_quiet_recordings_are_raised_to_minus_30_dbfs_and_loud_ones_left_alone() -> None:
    quiet = babble(2.0) * 0.01
    raised = normalise_volume(quiet)
    rms = np.sqrt(np.mean(raised.astype(np.float64) ** 2))
    assert 20 * np.log10(rms) == pytest.approx(-30, abs=0.01)
    loud = babble(2.0) * 5
    assert normalise_volume(loud) is loud
    assert not normalise_volume(np.zeros(100, np.float32)).any()


def test_long_silences_are_cut_and_short_pauses_kept() -> None:
    speech = babble(1.5)
    pause = np.zeros(int(0.09 * RATE), np.float32)  # 90 ms: between words
    silence = 1e-4 * np.random.default_rng(1).standard_normal(3 * RATE).astype(np.float32)
    recording = np.concatenate([speech, pause, speech, silence, speech])
    kept = trim_silences(recording)
    # Three stretches of speech (4.5 s) and the short pause stay; of the 3 s silence only
    # the widening around speech (under half a second) does.
    assert 4.5 * RATE <= kept.size <= 5.1 * RATE


def test_the_spectrogram_is_librosa_s_centred_power_stft() -> None:
    t = np.arange(RATE) / RATE
    power = power_spectrogram(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert power.shape == (1 + RATE // HOP, 201)
    assert int(np.argmax(power[50])) == 25  # 1,000 Hz in 40 Hz bins


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.5, [(0, 160)]),  # shorter than one window: one, padded
        (1.6, [(0, 160)]),
        (2.5, [(0, 160), (77, 237)]),  # the second covers 0.9 s of its 1.6: kept
        (1.9, [(0, 160)]),  # the second would cover 0.7 of its 1.6 s: dropped
        (4.0, [(0, 160), (77, 237), (154, 314), (231, 391)]),
    ],
)
def test_recordings_are_embedded_in_1_6_second_windows_as_resemblyzer_does(
    seconds: float, expected: list[tuple[int, int]]
) -> None:
    assert partial_windows(int(seconds * RATE)) == expected


def test_the_shipped_encoder_gives_unit_length_embeddings_and_refuses_silence() -> None:
    encoder = shipped_encoder()
    a = encoder.embed(babble(3.0, seed=1))
    assert a.shape == (256,) and a.dtype == np.float32
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    assert (a >= 0).all()  # ReLU before the norm: embeddings are non-negative
    # A recording embeds the same every time, however its windows are batched.
    assert np.array_equal(a, encoder.embed(babble(3.0, seed=1)))
    long = encoder.embed(babble(12.0, seed=1))
    assert long.shape == (256,)
    with pytest.raises(InvalidInputError, match=r"at least 0\.5 s"):
        encoder.embed(np.zeros(RATE * 3, np.float32))
    with pytest.raises(InvalidInputError, match=r"at least 0\.5 s"):
        encoder.embed(babble(0.3))


def test_the_encoder_refuses_a_model_file_changed_since_its_card(tmp_path: Path) -> None:
    model = tmp_path / "speaker-encoder.onnx"
    shutil.copy(speakers.MODEL_PATH, model)
    shutil.copy(speakers.MODEL_PATH.with_suffix(".json"), model.with_suffix(".json"))
    SpeakerEncoder.from_file(model)  # as shipped: loads
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["agreement_with_resemblyzer"]["same_input_min_cosine"] == 1.0
    with model.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ConfigError, match="SHA-256"):
        SpeakerEncoder.from_file(model)
    with pytest.raises(ConfigError, match="missing"):
        SpeakerEncoder.from_file(tmp_path / "none.onnx")
