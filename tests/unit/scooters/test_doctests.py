"""The examples in the scooter modules' docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "compliance",
    "feeds",
    "fines",
    "gbfs",
    "generator",
    "geometry",
    "mds",
    "model",
    "plates",
    "points",
    "registry",
    "rules",
    "synthetic_feeds",
]


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_run(name: str) -> None:
    module = importlib.import_module(f"kupol.scooters.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
