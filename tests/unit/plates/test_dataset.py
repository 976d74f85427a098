"""The training recipe and its held-out twin: reproducible, labelled right, kept apart."""

from __future__ import annotations

import numpy as np
import pytest

from kupol.plates.dataset import HELDOUT_FONT_DIR, heldout_fonts, make_sample
from kupol.plates.formats import parse_plate
from kupol.plates.render import available_fonts


def test_one_seed_and_index_give_the_same_sample_byte_for_byte() -> None:
    fonts = available_fonts()
    a = make_sample(seed=3, index=11, fonts=fonts)
    b = make_sample(seed=3, index=11, fonts=fonts)
    c = make_sample(seed=3, index=12, fonts=fonts)
    assert a.text == b.text and np.array_equal(a.crop, b.crop)
    assert (a.text, a.crop.shape) != (c.text, c.crop.shape) or not np.array_equal(a.crop, c.crop)


def test_training_samples_carry_plain_labels_in_several_layouts() -> None:
    fonts = available_fonts()
    samples = [make_sample(seed=1, index=i, fonts=fonts) for i in range(60)]
    assert all((s.text.isalnum() and s.text.isupper()) or s.text.isdigit() for s in samples)
    assert any(s.two_line for s in samples)
    assert any(parse_plate(s.text).kazakh for s in samples)
    assert any(not parse_plate(s.text).kazakh for s in samples)


def test_the_held_out_set_is_kazakh_only_and_never_uses_a_training_font() -> None:
    held = heldout_fonts()
    if not held:
        pytest.skip("no held-out fonts here (make plate-fonts)")
    assert not set(held) & set(available_fonts())
    assert all(f.parent == HELDOUT_FONT_DIR or "Mono" in f.name for f in held)
    samples = [make_sample(seed=7, index=i, fonts=held, heldout=True) for i in range(30)]
    assert all(parse_plate(s.text).kazakh for s in samples)
