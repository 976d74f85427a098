"""Reading clips at 16 kHz, the channels a clip may pass through, and the labelled folders the
voice evaluation reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from kupol.antifraud.audio import RATE, read_audio, spectral_features, through_mp3, through_phone
from kupol.antifraud.voices import equal_error_rate, labelled_clips
from kupol.core.errors import InvalidInputError


def tone(seconds: float = 1.0, rate: int = RATE, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_clips_are_read_as_16_khz_mono_whatever_their_rate_and_sample_format(
    tmp_path: Path,
) -> None:
    wavfile.write(tmp_path / "a.wav", 44_100, (tone(1.0, 44_100) * 32767).astype(np.int16))
    wavfile.write(tmp_path / "b.wav", 16_000, np.stack([tone(), tone()], axis=1))
    a, b = read_audio(tmp_path / "a.wav"), read_audio(tmp_path / "b.wav")
    assert a.dtype == np.float32 and abs(a.size - RATE) <= 1 and 0.25 < np.abs(a).max() < 0.35
    assert b.ndim == 1 and b.size == RATE


def test_a_file_that_is_no_audio_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("not audio")
    (tmp_path / "notes.mp3").write_bytes(b"\x00" * 100)
    for name in ("notes.wav", "notes.mp3"):
        with pytest.raises(InvalidInputError, match="cannot"):
            read_audio(tmp_path / name)


def test_the_channels_keep_the_length_and_take_away_what_they_should() -> None:
    high = tone(hz=6000.0)
    phone = through_phone(high)
    assert abs(phone.size - high.size) <= 2
    assert np.abs(phone).max() < 0.05  # a telephone line carries nothing above 4 kHz
    speech_band = through_phone(tone(hz=1000.0))
    assert np.abs(speech_band).max() > 0.25
    mp3 = through_mp3(tone())
    assert abs(mp3.size - RATE) < 0.1 * RATE
    features = spectral_features(tone())
    assert features.shape == (79,) and np.isfinite(features).all()
    assert np.isfinite(spectral_features(np.zeros(10, np.float32))).all()


def test_labelled_folders_need_both_kinds(tmp_path: Path) -> None:
    for kind in ("fake", "real"):
        (tmp_path / "set" / kind).mkdir(parents=True)
        wavfile.write(tmp_path / "set" / kind / f"{kind}.wav", RATE, tone())
    (tmp_path / "set" / "notes.txt").write_text("ignored")
    clips = labelled_clips(tmp_path)
    assert [(c.path.name, c.synthetic) for c in clips] == [("fake.wav", True), ("real.wav", False)]
    with pytest.raises(InvalidInputError, match="both"):
        labelled_clips(tmp_path / "set" / "fake")
    with pytest.raises(InvalidInputError, match="no such folder"):
        labelled_clips(tmp_path / "absent")


def test_the_equal_error_rate_is_where_both_errors_meet() -> None:
    truth = np.array([True, True, True, True, False, False, False, False])
    assert equal_error_rate(truth, np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])) == 0.0
    assert equal_error_rate(truth, np.array([0.9, 0.8, 0.7, 0.2, 0.6, 0.3, 0.2, 0.1])) == 0.25
