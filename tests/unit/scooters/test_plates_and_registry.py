"""Scooter plates read however they are typed, refused with the reason when they are not one;
the registry keeps each operator to its letter and each plate and device to one scooter."""

from __future__ import annotations

from datetime import date

import pytest

from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.scooters.plates import ScooterPlate, parse_scooter_plate
from kupol.scooters.registry import Operator, Registry, Scooter


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("W12345", "W12345"),
        ("Y7", "Y7"),
        (" w 12-345 ", "W12345"),
        ("у7", "Y7"),  # Cyrillic у, typed on a Russian keyboard
        ("К 001", "K001"),  # Cyrillic К; leading zeros kept
        ("Т.99", "T99"),
    ],
)
def test_a_plate_is_normalised_to_latin_upper_case_without_separators(
    text: str, plate: str
) -> None:
    read = parse_scooter_plate(text)
    assert read.text == plate == str(read)
    assert (read.letter, read.number) == (plate[0], plate[1:])


@pytest.mark.parametrize(
    "text", ["W123456", "WW12", "12345", "W", "", "Ж12", "W12A", "W-1-2-3-4-5-6"]
)
def test_anything_else_is_refused_with_what_was_read(text: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        parse_scooter_plate(text)
    assert error.value.detail.startswith(f"{text.strip()!r} is not a scooter plate")
    assert error.value.code == "invalid_scooter_plate"
    assert error.value.problems[0].field == "plate"


def test_w00123_and_w123_are_different_plates() -> None:
    assert parse_scooter_plate("W00123") != parse_scooter_plate("W123")


WIND = Operator(provider_id="p-w", name="Wind Rides", letter="W", fleet_cap=2)
YURT = Operator(provider_id="p-y", name="Yurt Go", letter="Y")


def scooter(plate: str, device: str, provider: str = "p-w", until: date | None = None) -> Scooter:
    return Scooter(
        plate=parse_scooter_plate(plate),
        device_id=device,
        provider_id=provider,
        insurance_policy="KZ-1" if until else None,
        insured_until=until,
    )


def test_the_registry_finds_a_scooter_by_plate_as_typed_and_by_device() -> None:
    registry = Registry([WIND, YURT], [scooter("W1", "d1", until=date(2027, 1, 1))])
    assert registry.by_plate("w 1").device_id == "d1"
    assert registry.by_device("d1") == registry.by_plate("W1")
    assert registry.by_device("d9") is None
    with pytest.raises(NotFoundError, match="no scooter W2"):
        registry.by_plate("W2")


def test_the_registry_refuses_a_plate_of_another_operators_letter_and_duplicates() -> None:
    registry = Registry([WIND, YURT], [scooter("W1", "d1")])
    with pytest.raises(InvalidInputError, match="Wind Rides's plates start with W"):
        registry.add_scooter(scooter("Y5", "d5"))
    with pytest.raises(ConflictError, match="plate W1"):
        registry.add_scooter(scooter("W1", "d2"))
    with pytest.raises(ConflictError, match="device d1"):
        registry.add_scooter(scooter("W2", "d1"))
    with pytest.raises(NotFoundError, match="no operator p-z"):
        registry.add_scooter(scooter("Z1", "d3", provider="p-z"))
    with pytest.raises(ConflictError, match="letter W is Wind Rides's"):
        registry.add_operator(Operator(provider_id="p-2", name="Other", letter="W"))
    with pytest.raises(InvalidInputError, match="letter is one of A-Z"):
        Operator(provider_id="p-3", name="Bad", letter="Ж")


def test_uninsured_scooters_on_a_day() -> None:
    registry = Registry(
        [WIND],
        [
            scooter("W1", "d1", until=date(2026, 7, 31)),
            scooter("W2", "d2"),
            scooter("W3", "d3", until=date(2026, 8, 31)),
        ],
    )
    assert [s.plate.text for s in registry.uninsured(date(2026, 7, 31))] == ["W2"]
    assert [s.plate.text for s in registry.uninsured(date(2026, 8, 1))] == ["W1", "W2"]
    assert len(registry.fleet("p-w")) == 3
    assert ScooterPlate(letter="W", number="1") == registry.by_device("d1").plate
