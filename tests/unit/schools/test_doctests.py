"""The examples in the driving-school modules' docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kupol.schools.evaluation",
    "kupol.schools.generator",
    "kupol.schools.hours",
    "kupol.schools.lesson_checks",
    "kupol.schools.outcomes",
    "kupol.schools.outliers",
    "kupol.schools.stats",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
