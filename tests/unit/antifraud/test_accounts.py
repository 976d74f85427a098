"""Accounts written two ways are one account."""

from __future__ import annotations

import doctest

import pytest

from kupol.antifraud import accounts
from kupol.antifraud.accounts import normalise_account


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(accounts).failed == 0


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("KZ86125KZT5004100100", "KZ86125KZT5004100100"),
        ("kz86 125k zt50 0410 0100", "KZ86125KZT5004100100"),
        ("+7 701 555 44 33", "+77015554433"),
        ("87015554433", "+77015554433"),
        ("M-SHOP-17", "M-SHOP-17"),  # a bank's own id: as written
        ("C1231006815", "C1231006815"),  # PaySim's: no IBAN, no telephone
        ("+7 495 123 45 67", "+7 495 123 45 67"),  # not a Kazakhstan mobile: as written
        ("KZ-F-1", "KZ-F-1"),
        ("kz87 125k zt50 0410 0100", "kz87 125k zt50 0410 0100"),  # check digits fail: as given
        ("ab12cdefghijklmnop", "ab12cdefghijklmnop"),  # IBAN-shaped, no IBAN: as given
        ("gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"),
    ],
)
def test_ibans_and_mobile_numbers_are_kept_in_one_form(written: str, kept: str) -> None:
    assert normalise_account(written) == kept
