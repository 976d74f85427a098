"""What kupol's plate reader sees: a crop turned into its 32 x 128 input, and labels.

Training (``scripts/train_plate_reader.py``) and reading (:mod:`kupol.plates.crnn`) share this
module, so the model is always fed the way it was taught.

A two-line plate is read as one line: its top and bottom halves are put side by side. A Kazakh
two-line plate carries the digits and the region code on top and the letters below, so the
model reads ``123 02`` then ``ABC``; :func:`plate_order` puts that back as ``123ABC02``.

Example:
    >>> import numpy as np
    >>> to_input(np.zeros((40, 160, 3), np.uint8), two_line=False).shape
    (32, 128)
    >>> model_order("123ABC02", two_line=True), plate_order("12302ABC", two_line=True)
    ('12302ABC', '123ABC02')
"""

from __future__ import annotations

import re

import cv2
import numpy as np
import numpy.typing as npt

CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""The characters the model emits; class 0 is the CTC blank, class i + 1 is ``CHARSET[i]``."""

INPUT_H, INPUT_W = 32, 128

_KZ_TWO_LINE = re.compile(r"^(\d{3})([A-Z]{2,3})(\d{2})$")
_KZ_TWO_LINE_READ = re.compile(r"^(\d{3})(\d{2})([A-Z]{2,3})$")


def to_input(crop: npt.NDArray[np.uint8], *, two_line: bool) -> npt.NDArray[np.float32]:
    """The model's ``INPUT_H x INPUT_W`` float input for a BGR (or grey) plate crop.

    Raises:
        ValueError: The crop is empty.
    """
    if crop.size == 0 or crop.shape[0] < 2 or crop.shape[1] < 2:
        raise ValueError("the plate crop is empty")
    grey = np.asarray(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop, np.uint8)
    if two_line:
        h = grey.shape[0]
        top, bottom = grey[: h * 53 // 100], grey[h * 47 // 100 :]
        half = INPUT_W // 2
        grey = np.hstack([_resize(top, half, INPUT_H), _resize(bottom, half, INPUT_H)])
    else:
        grey = _resize(grey, INPUT_W, INPUT_H)
    x = grey.astype(np.float32)
    return np.asarray((x - x.mean()) / max(float(x.std()), 8.0), np.float32)


def _resize(grey: npt.NDArray[np.uint8], w: int, h: int) -> npt.NDArray[np.uint8]:
    shrinking = grey.shape[0] > h
    method = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(grey, (w, h), interpolation=method), np.uint8)


def model_order(text: str, *, two_line: bool) -> str:
    """The label the model should read for a plate's ``text`` (two-line plates: row by row)."""
    if two_line and (m := _KZ_TWO_LINE.match(text)):
        return m.group(1) + m.group(3) + m.group(2)
    return text


def plate_order(read: str, *, two_line: bool) -> str:
    """A read put back in plate order: the inverse of :func:`model_order`."""
    if two_line and (m := _KZ_TWO_LINE_READ.match(read)):
        return m.group(1) + m.group(3) + m.group(2)
    return read


def encode(text: str) -> list[int]:
    """Class indices of ``text`` (blank is 0).

    Raises:
        ValueError: ``text`` holds a character outside :data:`CHARSET`.
    """
    try:
        return [CHARSET.index(c) + 1 for c in text]
    except ValueError:
        raise ValueError(f"{text!r} holds a character the reader cannot emit") from None


def decode(probs: npt.NDArray[np.float32]) -> tuple[str, float]:
    """Greedy CTC decoding of one ``T x classes`` softmax: the text and its confidence.

    The confidence is the smallest probability among the emitted characters (a plate is only
    as sure as its least sure character); 0 when nothing is read.
    """
    best = probs.argmax(axis=1)
    chars: list[str] = []
    worst = 1.0
    previous = 0
    for t, k in enumerate(best):
        if k != 0 and k != previous:
            chars.append(CHARSET[int(k) - 1])
            worst = min(worst, float(probs[t, k]))
        previous = int(k)
    return "".join(chars), worst if chars else 0.0
