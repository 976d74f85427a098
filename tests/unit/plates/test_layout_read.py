"""Mending a read one character short of a plate layout from the model's own probabilities."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest

from kupol.plates.crnn_input import CHARSET
from kupol.plates.layout_read import best_paths, mend_read

CLASSES = len(CHARSET) + 1


def columns(spec: str, *, sure: float = 0.9) -> npt.NDArray[np.float32]:
    """A softmax with one likely class a column ("-" the blank), the rest sharing what is left."""
    probs = np.full((len(spec), CLASSES), (1 - sure) / (CLASSES - 1), np.float32)
    for t, c in enumerate(spec):
        probs[t] = (1 - sure) / (CLASSES - 1)
        probs[t, 0 if c == "-" else CHARSET.index(c) + 1] = sure
    return probs


def code(c: str) -> int:
    return CHARSET.index(c) + 1


def test_a_character_the_blank_barely_beat_is_put_back() -> None:
    probs = columns("7-6-4-U-I-X-1-8-")
    probs[14, 0], probs[14, code("8")] = 0.55, 0.40  # greedy decoding drops the 8
    mended = mend_read(probs, "764UIX1", ("kz",))
    assert mended is not None
    text, confidence = mended
    assert text == "764UIX18"
    assert confidence == pytest.approx(0.40 / 0.55, rel=1e-3)  # as unsure as the 8 was


def test_a_region_code_that_does_not_exist_is_mended_to_the_likeliest_that_does() -> None:
    probs = columns("4-6-2-F-I-9-1-")
    probs[10, code("9")], probs[10, code("0")] = 0.5, 0.4  # 91 is no region; 01 is Astana
    # The 0's path is 0.8 as likely as the 9's, and the read no surer than the greedy one (0.5).
    assert mend_read(probs, "462FI91", ("kz",)) == ("462FI01", pytest.approx(0.5, rel=1e-3))


def test_a_read_the_model_does_not_support_is_left_as_read() -> None:
    # The same dropped 8, but the model gave it a thousandth: no read is 20 times less likely.
    probs = columns("7-6-4-U-I-X-1-8-")
    probs[14, 0], probs[14, code("8")] = 0.95, 0.001
    assert mend_read(probs, "764UIX1", ("kz",)) is None
    # Two characters short of any layout: never mended, however likely.
    assert mend_read(columns("7-6-4-U-I-X-"), "764UIX", ("kz",)) is None
    # A foreign plate with the deployment's layouts only: nothing one edit away fits.
    assert mend_read(columns("1-2-6-P-L-K-"), "126PLK", ("kz",)) is None


def test_other_countries_layouts_are_mended_to_as_well() -> None:
    probs = columns("A-T-6-8-8-3-C-M-")
    probs[14, 0], probs[14, code("M")] = 0.6, 0.35
    assert mend_read(probs, "AT6883C", ("kz",)) is None  # no Kazakh layout one edit away
    mended = mend_read(probs, "AT6883C", ("kz", "ua"))
    assert mended is not None and mended[0] == "AT6883CM"


def _brute_force(logp: npt.NDArray[np.float64], text: str) -> float:
    """The best alignment's log-probability, by trying every path of classes."""
    best = -np.inf
    classes = [0] + [code(c) for c in set(text)]
    for path in itertools.product(classes, repeat=logp.shape[0]):
        collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or k != path[i - 1])]
        if collapsed == [code(c) for c in text]:
            best = max(best, float(sum(logp[t, k] for t, k in enumerate(path))))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_best_paths_are_ctcs_best_alignments(seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (6, CLASSES))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    logp = np.log(probs)
    texts = ["AB", "AA", "ABA", "B", "ABB"]  # repeats need a blank between them
    got = best_paths(logp, texts)
    assert got == pytest.approx([_brute_force(logp, t) for t in texts])
