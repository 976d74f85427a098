"""The reader's input and labels: what training and reading must agree on."""

from __future__ import annotations

import numpy as np
import pytest

from kupol.plates.crnn_input import (
    CHARSET,
    INPUT_H,
    INPUT_W,
    decode,
    encode,
    model_order,
    plate_order,
    to_input,
)


def test_a_crop_of_any_size_becomes_a_standardised_32_by_128_input() -> None:
    crop = np.random.default_rng(0).integers(0, 255, (57, 301, 3), dtype=np.uint8)
    x = to_input(crop, two_line=False)
    assert x.shape == (INPUT_H, INPUT_W)
    assert abs(float(x.mean())) < 1e-4
    assert float(x.std()) == pytest.approx(1.0, abs=1e-3)


def test_a_flat_crop_is_not_blown_up_into_noise() -> None:
    x = to_input(np.full((30, 120, 3), 200, np.uint8), two_line=False)
    assert float(np.abs(x).max()) == 0.0


def test_a_two_line_crop_puts_its_top_half_left_of_its_bottom_half() -> None:
    crop = np.zeros((60, 100), np.uint8)
    crop[:30] = 255  # a white top row over a black bottom row
    x = to_input(crop, two_line=True)
    assert x[:, : INPUT_W // 2].mean() > 0 > x[:, INPUT_W // 2 :].mean()


def test_an_empty_crop_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        to_input(np.zeros((0, 10, 3), np.uint8), two_line=False)


@pytest.mark.parametrize("plate", ["123ABC02", "123AB17"])
def test_kazakh_two_line_plates_are_read_row_by_row_and_put_back(plate: str) -> None:
    read = model_order(plate, two_line=True)
    assert read[:3] == plate[:3] and read[3:5] == plate[-2:]
    assert plate_order(read, two_line=True) == plate


def test_one_line_plates_keep_their_order() -> None:
    assert model_order("AT6883CM", two_line=False) == "AT6883CM"
    assert plate_order("12302ABC", two_line=False) == "12302ABC"


def test_labels_encode_after_the_blank_and_refuse_what_cannot_be_emitted() -> None:
    assert encode("0AZ") == [1, 11, 36]
    with pytest.raises(ValueError, match="cannot emit"):
        encode("12-3")


def test_greedy_decoding_merges_repeats_unless_a_blank_separates_them() -> None:
    classes = len(CHARSET) + 1
    steps = [1, 1, 0, 1, 11, 11, 0]  # "0", "0" again after a blank, then "A"
    probs = np.full((len(steps), classes), 0.01, np.float32)
    for t, k in enumerate(steps):
        probs[t, k] = 0.9 if t != 4 else 0.6
    text, confidence = decode(probs)
    assert text == "00A"
    assert confidence == pytest.approx(0.6)


def test_nothing_read_has_no_confidence() -> None:
    probs = np.zeros((5, len(CHARSET) + 1), np.float32)
    probs[:, 0] = 1.0
    assert decode(probs) == ("", 0.0)
