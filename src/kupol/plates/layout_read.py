"""A read one character short of a plate layout, mended from the model's own probabilities.

Greedy CTC decoding (:func:`kupol.plates.crnn_input.decode`) takes the likeliest class in
each column, so a character the model saw but held less likely than the blank is dropped
(``764UIX1`` for ``764UIX18``), and a region code comes out as one that does not exist
(``462FI91`` for ``462FI01``). When a one-line read fits no layout of the deployment's
countries, :func:`mend_read` tries every text **one edit away** (a character changed, added or
left out) that does fit one — Kazakh layouts also need a real region code — and scores each
exactly: the probability of its best alignment with the model's columns (CTC's best path). The
best candidate is taken only when its path is at most ``e**margin`` times less likely than the
greedy read's own path, so a crop the model read as something else entirely (a foreign plate,
a sign) is left as read.

The mended read's confidence is the smaller of the greedy read's and the ratio of the two
paths' probabilities: a character the model had to be talked into makes the read unsure.

Example:
    >>> import numpy as np
    >>> from kupol.plates.crnn_input import CHARSET, decode
    >>> columns = "1-2-3-A-B-C-0-2"  # a character per column, "-" for the blank
    >>> probs = np.full((len(columns), len(CHARSET) + 1), 0.001, np.float32)
    >>> for t, c in enumerate(columns):
    ...     probs[t, 0 if c == "-" else CHARSET.index(c) + 1] = 0.9
    >>> probs[12, 0], probs[12, CHARSET.index("0") + 1] = 0.6, 0.35  # the 0 barely missed
    >>> mend_read(probs, "123ABC2", ("kz",))
    ('123ABC02', 0.58...)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from kupol.plates.crnn_input import CHARSET, decode
from kupol.plates.formats import COUNTRY_LAYOUTS, of_kind, parse_plate

MARGIN = 3.0
"""How much less likely (in nats of the best path) a mended read may be than the greedy one:
e**3, about 20 times. Held-out rendered Kazakh plates gained 1 to 3 reads in 1,000 with it
(seeds 7, 8, 9), the real folders none lost (docs/plates-performance.md)."""

_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NEG = -1e30


def mend_read(
    probs: npt.NDArray[np.float32], text: str, countries: Sequence[str], *, margin: float = MARGIN
) -> tuple[str, float] | None:
    """The read one edit from ``text`` that fits a layout of ``countries`` and that the model's
    ``T x classes`` softmax ``probs`` supports best, with its confidence; ``None`` when no
    such read is within ``margin`` of the greedy read (``text``, decoded from ``probs``)."""
    return mend_reads([(probs, text)], countries, margin=margin)[0]


def mend_reads(
    reads: Sequence[tuple[npt.NDArray[np.float32], str]],
    countries: Sequence[str],
    *,
    margin: float = MARGIN,
) -> list[tuple[str, float] | None]:
    """:func:`mend_read` for several reads (each a softmax and its greedy text), their
    candidates scored together in one pass over the columns."""
    found: list[tuple[str, float] | None] = [None] * len(reads)
    owners: list[int] = []
    texts: list[str] = []
    for n, (_, text) in enumerate(reads):
        candidates = _candidates(text, tuple(countries))
        owners += [n] * len(candidates)
        texts += candidates
    if not texts:
        return found
    logps = {n: np.log(np.maximum(reads[n][0].astype(np.float64), 1e-12)) for n in set(owners)}
    scores = best_paths(np.stack([logps[n] for n in owners]), texts)
    for n, logp in logps.items():
        mine = [k for k, owner in enumerate(owners) if owner == n]
        best = max(mine, key=lambda k: scores[k])
        gap = float(logp.max(axis=1).sum()) - float(scores[best])
        if gap <= margin:
            found[n] = texts[best], min(decode(reads[n][0])[1], float(np.exp(-gap)))
    return found


def best_paths(logp: npt.NDArray[np.float64], texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """Each text's best CTC alignment log-probability under the log-softmax ``logp``: one
    ``T x classes`` matrix (class 0 the blank) for all texts, or one per text (``K x T x
    classes``). The Viterbi form of CTC's forward pass, for all texts at once."""
    count = len(texts)
    longest = max(len(t) for t in texts)
    states = 2 * longest + 1
    # The extended label of each text: blank, c1, blank, c2, ..., cL, blank (padded by blanks).
    labels = np.zeros((count, states), np.int64)
    jumps = np.full((count, states), _NEG)  # 0 where a path may come from two states back
    ends = np.empty(count, np.int64)
    for k, text in enumerate(texts):
        codes = [CHARSET.index(c) + 1 for c in text]
        labels[k, 1 : 2 * len(codes) : 2] = codes
        for j in range(1, len(codes)):
            if codes[j] != codes[j - 1]:
                jumps[k, 2 * j + 1] = 0.0
        ends[k] = 2 * len(codes)
    per_text = logp if logp.ndim == 3 else np.broadcast_to(logp, (count, *logp.shape))
    # emissions[t, k, s]: the log-probability of text k's state s in column t
    emissions = np.take_along_axis(per_text, labels[:, None, :], axis=2).transpose(1, 0, 2)
    alpha = np.full((count, states), _NEG)
    alpha[:, :2] = emissions[0, :, :2]
    jumps = jumps[:, 2:]
    for column in emissions[1:]:
        moved = alpha.copy()
        np.maximum(moved[:, 1:], alpha[:, :-1], out=moved[:, 1:])
        np.maximum(moved[:, 2:], alpha[:, :-2] + jumps, out=moved[:, 2:])
        alpha = moved + column
    rows = np.arange(count)
    return np.asarray(np.maximum(alpha[rows, ends], alpha[rows, ends - 1]), np.float64)


@lru_cache(maxsize=4096)
def _candidates(text: str, countries: tuple[str, ...]) -> tuple[str, ...]:
    """Every text one edit from ``text`` that is laid out as a plate of ``countries``, in
    alphabetical order (the first of equally likely candidates wins). For a ``text`` that fits
    no layout, as :func:`mend_reads` is given."""
    found: set[str] = set()
    for country in countries:
        for shape in COUNTRY_LAYOUTS.get(country, ()):
            for candidate in _one_edit_into(text, shape):
                if country != "kz" or parse_plate(candidate).kazakh:
                    found.add(candidate)
    found.discard(text)
    return tuple(sorted(found))


def _one_edit_into(text: str, shape: str) -> list[str]:
    """The texts one edit from ``text`` whose characters are of ``shape``'s kinds (D: digit,
    L: letter). A ``text`` of the shape's length whose kinds all fit already is one whose
    Kazakh region code does not exist: only its last two characters are changed."""

    def fits(s: str) -> bool:
        return len(s) == len(shape) and all(of_kind(c, k) for c, k in zip(s, shape, strict=True))

    out: list[str] = []
    if len(text) == len(shape):
        wrong = [i for i, (c, k) in enumerate(zip(text, shape, strict=True)) if not of_kind(c, k)]
        # One of the wrong kind: only it may change. None: every kind is right, so the region
        # code (a Kazakh plate's last two digits) is what does not exist.
        for i in wrong if len(wrong) == 1 else () if wrong else (len(text) - 2, len(text) - 1):
            out += [text[:i] + c + text[i + 1 :] for c in _kind(shape[i])]
    elif len(text) == len(shape) - 1:
        for i in range(len(shape)):
            out += [s for c in _kind(shape[i]) if fits(s := text[:i] + c + text[i:])]
    elif len(text) == len(shape) + 1:
        out += [s for i in range(len(text)) if fits(s := text[:i] + text[i + 1 :])]
    return out


def _kind(kind: str) -> str:
    return _DIGITS if kind == "D" else _LETTERS
