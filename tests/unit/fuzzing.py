"""Hostile input for the file parsers' fuzz tests: random bytes, and valid samples mutated.

A parser given hostile input may refuse it, but only with one of kupol's domain errors
(:class:`kupol.core.errors.KupolError`, which the API and the CLI turn into a clear message),
never with a raw ``ValueError``, ``KeyError``, ``IndexError``, ``UnicodeDecodeError``…: the
tests call the parser inside :func:`refused_or_read` and let anything else fail them.

Every fuzz test runs with :data:`FUZZ` (100 examples, derandomized so that a failure replays;
no deadline, since a parser may spend a while on one input) or a copy with fewer examples.
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Callable
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from kupol.core.errors import KupolError

T = TypeVar("T")

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
"""The fuzz tests' settings: 100 examples, derandomized."""

CSV_NOISE = ",;\"'\n\r\t\x00\ufeff\u2028 ﻿é—"
"""Characters that trouble CSV readers: separators, quotes, line ends, NUL, a byte-order mark."""


@st.composite
def mutated(draw: st.DrawFn, sample: bytes, *, noise: str = CSV_NOISE) -> bytes:
    """``sample`` with one to six edits: a bit flipped, a byte set, bytes inserted (random or
    ``noise``), removed or repeated, or the tail cut off."""
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["flip", "set", "insert", "noise", "delete", "repeat", "cut"]))
        if edit == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "set" and at < len(data):
            data[at] = draw(st.sampled_from([0, 0x7F, 0x80, 0xFF, ord('"'), ord(","), 10]))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "noise":
            data[at:at] = draw(st.text(alphabet=noise, min_size=1, max_size=4)).encode()
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif edit == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 64))]
        elif edit == "cut":
            del data[at:]
    return bytes(data)


def hostile(sample: bytes, *, noise: str = CSV_NOISE) -> st.SearchStrategy[bytes]:
    """Random bytes, or ``sample`` mutated (:func:`mutated`); mostly the latter, which gets
    past the first checks."""
    return st.one_of(
        st.binary(max_size=max(64, 2 * len(sample))),
        mutated(sample, noise=noise),
        mutated(sample, noise=noise),
        mutated(sample, noise=noise),
    )


@st.composite
def mutated_member(draw: st.DrawFn, archive: bytes, member: str, *, noise: str) -> bytes:
    """A ZIP ``archive`` (an XLSX workbook, …) with its ``member`` mutated (:func:`mutated`)
    and the archive rebuilt, so that the edits get past the archive's checksums."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, draw(mutated(data, noise=noise)) if name == member else data)
    return out.getvalue()


HOSTILE_STRINGS = ["", "0", "-1", "1e999", "NaN", "x" * 300, "2026-13-45T25:61:00Z",
                   "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]  # fmt: skip
"""Text that a reader of numbers and times must refuse: the calendar's edges among them."""
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),  # NaN and ±Infinity too: Python's json reads and writes them
    st.text(max_size=20),
    st.sampled_from(HOSTILE_STRINGS),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
"""Any JSON value, with the numbers and strings that trouble a reader."""


@st.composite
def json_mutated(draw: st.DrawFn, document: object) -> object:
    """``document`` (decoded JSON) with one to four of its values replaced by hostile ones
    (:data:`JSON_VALUES`), removed, or repeated in its array."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 4))):
        parent, key = None, None
        node = document
        while isinstance(node, dict | list) and node and draw(st.integers(0, 3)) > 0:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            parent, key = node, draw(st.sampled_from(keys))
            node = node[key]
        if parent is None:
            continue
        edit = draw(st.sampled_from(["replace", "replace", "delete", "repeat"]))
        if edit == "replace":
            parent[key] = draw(JSON_VALUES)
        elif edit == "delete":
            del parent[key]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(node))
    return document


def refused_or_read(parse: Callable[[], T]) -> T | None:
    """``parse()``'s result, or None when it refused with a domain error; any other
    exception escapes (and fails the test with the input that raised it)."""
    try:
        return parse()
    except KupolError:
        return None
