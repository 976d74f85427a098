"""The registry of rental operators and their scooters: from July 2026 each rental e-scooter
carries a plate of its operator's letter and a number, and is insured.

:class:`Registry` is an in-memory index over the registered values (a store fills it): it
refuses a scooter whose plate's letter is not its operator's, a plate or device twice, and
answers which scooter a plate or an MDS ``device_id`` is and which are uninsured on a day.

Example:
    >>> registry = Registry()
    >>> registry.add_operator(Operator(provider_id="p-1", name="Wind Rides", letter="W"))
    >>> registry.add_scooter(Scooter(plate=parse_scooter_plate("W12"), device_id="d-1",
    ...                              provider_id="p-1"))
    >>> registry.by_plate("w 12").device_id, registry.by_device("d-1").plate.text
    ('d-1', 'W12')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.scooters.plates import ScooterPlate, parse_scooter_plate


@dataclass(frozen=True, kw_only=True)
class Operator:
    """A rental operator: its MDS ``provider_id``, its plate letter and the city's fleet cap."""

    provider_id: str
    name: str
    letter: str
    fleet_cap: int | None = None
    """How many scooters the city allows it on the street at once; ``None``: no cap."""

    def __post_init__(self) -> None:
        if len(self.letter) != 1 or not "A" <= self.letter <= "Z":
            raise InvalidInputError(f"operator {self.name!r}: the letter is one of A-Z")
        if self.fleet_cap is not None and self.fleet_cap < 0:
            raise InvalidInputError(f"operator {self.name!r}: a fleet cap is 0 or more")


@dataclass(frozen=True, kw_only=True)
class Scooter:
    """A registered scooter: its plate, its MDS ``device_id`` and its insurance."""

    plate: ScooterPlate
    device_id: str
    provider_id: str
    insurance_policy: str | None = None
    insured_until: date | None = None

    def insured_on(self, day: date) -> bool:
        """Whether a policy covers ``day`` (its last day included)."""
        return self.insurance_policy is not None and (
            self.insured_until is None or day <= self.insured_until
        )


class Registry:
    """The operators and scooters, indexed by provider, letter, plate and device."""

    def __init__(self, operators: Sequence[Operator] = (), scooters: Sequence[Scooter] = ()):
        self._operators: dict[str, Operator] = {}
        self._letters: dict[str, Operator] = {}
        self._plates: dict[str, Scooter] = {}
        self._devices: dict[str, Scooter] = {}
        for operator in operators:
            self.add_operator(operator)
        for scooter in scooters:
            self.add_scooter(scooter)

    def add_operator(self, operator: Operator) -> None:
        """Registers an operator.

        Raises:
            ConflictError: Its ``provider_id`` or its letter is taken.
        """
        if operator.provider_id in self._operators:
            raise ConflictError(f"operator {operator.provider_id} is registered already")
        if operator.letter in self._letters:
            taken = self._letters[operator.letter].name
            raise ConflictError(f"letter {operator.letter} is {taken}'s")
        self._operators[operator.provider_id] = operator
        self._letters[operator.letter] = operator

    def add_scooter(self, scooter: Scooter) -> None:
        """Registers a scooter.

        Raises:
            NotFoundError: Its operator is not registered.
            InvalidInputError: The plate's letter is not its operator's.
            ConflictError: The plate or the device is registered already.
        """
        operator = self.operator(scooter.provider_id)
        if scooter.plate.letter != operator.letter:
            raise InvalidInputError(
                f"plate {scooter.plate.text}: {operator.name}'s plates start with {operator.letter}"
            )
        if scooter.plate.text in self._plates:
            raise ConflictError(f"plate {scooter.plate.text} is registered already")
        if scooter.device_id in self._devices:
            raise ConflictError(f"device {scooter.device_id} is registered already")
        self._plates[scooter.plate.text] = scooter
        self._devices[scooter.device_id] = scooter

    def operator(self, provider_id: str) -> Operator:
        """The operator with this MDS ``provider_id``.

        Raises:
            NotFoundError: None is registered.
        """
        try:
            return self._operators[provider_id]
        except KeyError:
            raise NotFoundError(f"no operator {provider_id} is registered") from None

    def by_plate(self, text: str) -> Scooter:
        """The scooter with this plate (as typed: any case, Cyrillic look-alikes).

        Raises:
            InvalidInputError: ``text`` is not a scooter plate.
            NotFoundError: No scooter has it.
        """
        plate = parse_scooter_plate(text)
        try:
            return self._plates[plate.text]
        except KeyError:
            raise NotFoundError(f"no scooter {plate.text} is registered") from None

    def by_device(self, device_id: str) -> Scooter | None:
        """The scooter with this MDS ``device_id``, if registered."""
        return self._devices.get(device_id)

    def fleet(self, provider_id: str) -> tuple[Scooter, ...]:
        """An operator's registered scooters."""
        return tuple(s for s in self._plates.values() if s.provider_id == provider_id)

    def uninsured(self, day: date) -> tuple[Scooter, ...]:
        """The scooters no policy covers on ``day``."""
        return tuple(s for s in self._plates.values() if not s.insured_on(day))
