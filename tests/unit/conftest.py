"""Fixtures of the unit tests (see factories.py)."""

from tests.unit.factories import fast_passwords

__all__ = ["fast_passwords"]
