"""Scooter plates: from July 2026 a rental e-scooter in Kazakhstan carries a plate of its
operator's letter and up to five digits (``W12345``, ``Y7``).

The text is normalised as every plate in kupol is (:func:`kupol.plates.formats.normalise`):
upper case, Cyrillic look-alikes (``У``, ``К``, ``Т`` …) as the Latin letters they look like, no
spaces or dashes — an inspector typing ``у 7`` on a Russian keyboard finds scooter ``Y7``.

Example:
    >>> plate = parse_scooter_plate(" w-12345 ")
    >>> plate.text, plate.letter, plate.number
    ('W12345', 'W', '12345')
    >>> parse_scooter_plate("у7").text
    'Y7'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kupol.core.errors import FieldProblem, InvalidInputError
from kupol.plates.formats import normalise

MAX_DIGITS = 5
_PLATE = re.compile(rf"^([A-Z])(\d{{1,{MAX_DIGITS}}})$")


@dataclass(frozen=True, kw_only=True)
class ScooterPlate:
    """A rental e-scooter's plate: the operator's letter and the scooter's number."""

    letter: str
    number: str
    """The digits as written: ``W00123`` and ``W123`` are different plates."""

    @property
    def text(self) -> str:
        """The plate as kept and shown: ``W12345``."""
        return f"{self.letter}{self.number}"

    def __str__(self) -> str:
        return self.text


def parse_scooter_plate(text: str) -> ScooterPlate:
    """The scooter plate in ``text``, normalised.

    Args:
        text: The plate as read or typed: any case, spaces or dashes, Cyrillic look-alikes.

    Raises:
        InvalidInputError: ``text`` is not one letter and one to five digits (code
            ``invalid_scooter_plate``); the message quotes what was read.

    Example:
        >>> parse_scooter_plate("Ж12")
        Traceback (most recent call last):
        ...
        kupol.core.errors.InvalidInputError: 'Ж12' is not a scooter plate: \
an operator's letter (A-Z) and 1 to 5 digits, like W12345
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"a scooter plate is text, not {type(text).__name__}")
    match = _PLATE.match(normalise(text))
    if match is None:
        message = (
            f"{text.strip()!r} is not a scooter plate: an operator's letter (A-Z) and 1 to "
            f"{MAX_DIGITS} digits, like W12345"
        )
        raise InvalidInputError(
            message,
            problems=[FieldProblem(field="plate", message=message)],
            code="invalid_scooter_plate",
        )
    return ScooterPlate(letter=match.group(1), number=match.group(2))
