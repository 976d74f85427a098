"""The examples in the vision modules' docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kupol.vision.abandoned",
    "kupol.vision.background",
    "kupol.vision.clips",
    "kupol.vision.config",
    "kupol.vision.detections",
    "kupol.vision.events",
    "kupol.vision.pipeline",
    "kupol.vision.sources",
    "kupol.vision.kalman",
    "kupol.vision.metrics",
    "kupol.vision.scenario",
    "kupol.vision.tracking",
    "kupol.vision.zones",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
