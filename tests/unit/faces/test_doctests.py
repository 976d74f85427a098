"""The examples in the face engine's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kupol.faces.align",
    "kupol.faces.blazeface",
    "kupol.faces.detectors",
    "kupol.faces.embedders",
    "kupol.faces.engine",
    "kupol.faces.evaluate",
    "kupol.faces.quality",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
