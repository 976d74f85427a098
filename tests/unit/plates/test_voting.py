"""Reading across frames: the track's reads vote, one bad frame does not decide."""

from __future__ import annotations

import doctest

import pytest

import kupol.plates.voting as voting
from kupol.plates.formats import PlateKind
from kupol.plates.voting import TrackRead, vote


def reads(*texts: tuple[str, float]) -> list[TrackRead]:
    return [TrackRead(text=t, confidence=c, frame=i) for i, (t, c) in enumerate(texts)]


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(voting).failed == 0


def test_one_blurry_frame_does_not_decide() -> None:
    voted = vote(reads(("123ABC02", 0.8), ("128ARC07", 0.95), ("123ABC02", 0.7)))
    assert voted is not None
    assert voted.text == "123ABC02"
    assert voted.kind == PlateKind.KZ_INDIVIDUAL
    assert voted.best_frame == 0
    assert 0.5 < voted.confidence < 1.0  # the frames disagreed: not full confidence


def test_the_length_most_confidence_agrees_on_wins() -> None:
    voted = vote(reads(("123AB02", 0.9), ("123ABC02", 0.3), ("123AB02", 0.8)))
    assert voted is not None and voted.text == "123AB02"
    assert voted.kind == PlateKind.KZ_ORGANISATION


def test_characters_are_voted_position_by_position() -> None:
    # No single read is right; together they are.
    voted = vote(reads(("123ABX02", 0.6), ("1Z3ABC02", 0.6), ("123ABC03", 0.6), ("123ABC02", 0.2)))
    assert voted is not None and voted.text == "123ABC02"


def test_nothing_read_is_no_plate() -> None:
    assert vote([]) is None
    assert vote(reads(("", 0.9), ("  ", 0.5))) is None


@pytest.mark.parametrize("text", ["AB1234CD", "KA 1234 AB"])
def test_foreign_plates_are_voted_as_read(text: str) -> None:
    voted = vote(reads((text, 0.9), (text, 0.8)))
    assert voted is not None and voted.text == text.replace(" ", "")
    assert voted.confidence == pytest.approx(1.0)
