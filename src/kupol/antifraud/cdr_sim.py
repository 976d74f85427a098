"""A day of a mobile network's call records, simulated with ground truth: ordinary
subscribers and businesses, and four kinds of fraud, for tests, the demo and the screening
figures.

- **legit**: subscribers calling their contacts by a day-and-night rhythm (a few at night),
  mostly answered; some numbers ported to another operator; some subscribers roaming abroad
  calling home; three businesses (a taxi dispatcher, a courier, a clinic) calling many people;
- **call_centre**: two offices of fraudsters' SIMs calling strangers one after another in
  working hours, mostly hung up on;
- **simbox**: SIM-boxes terminating international traffic as local calls: SIMs with
  consecutive IMSIs rotating through two handsets in one cell, calling out only;
- **wangiri**: foreign numbers ringing many subscribers once at night, hoping for a costly
  call back;
- **spoofed**: calls from abroad showing Kazakhstan numbers.

Everything comes from one seed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from kupol.antifraud.screening import CallAttempt

FRAUD_KINDS = ("call_centre", "simbox", "wangiri", "spoofed")
DAY = datetime(2026, 11, 30, tzinfo=UTC) - timedelta(hours=5)  # local midnight (UTC+5)
_OPERATORS = {
    "Kcell": ("701", "702", "775", "778"),
    "Beeline": ("705", "771", "776", "777"),
    "Tele2": ("707", "747"),
    "Altel": ("700", "708"),
}
_MNC = {"Kcell": "40102", "Beeline": "40101", "Tele2": "40177", "Altel": "40107"}
# A day's calls by local hour (share of a subscriber's calls), quiet at night.
_RHYTHM = np.array(
    [1, 0.5, 0.3, 0.3, 0.4, 1, 3, 6, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8, 7, 5, 3, 2], float
)


@dataclass(frozen=True, kw_only=True)
class SimCall:
    """A simulated call: the attempt, what became of it, and the truth."""

    attempt: CallAttempt
    answered: bool
    duration_s: float
    truth: str
    source: str
    """Which simulated party made it (a subscriber, a business, a fraud group)."""


@dataclass
class _Subscriber:
    number: str
    operator: str
    imsi: str
    imei: str
    cell: str


def _number(rng: np.random.Generator, operator: str) -> str:
    prefix = str(rng.choice(_OPERATORS[operator]))
    return f"+7{prefix}{int(rng.integers(0, 10_000_000)):07d}"


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, n))


@dataclass(frozen=True)
class SimulatedDay:
    """The day's calls in time order, and the numbers ported to another operator (what the
    operators' number-portability register would say)."""

    calls: list[SimCall]
    ported: dict[str, str]


def simulate_day(seed: int = 2026, *, subscribers: int = 20_000) -> SimulatedDay:
    """One day's calls, from ``seed``."""
    rng = np.random.default_rng(seed)
    operators = list(_OPERATORS)
    people: list[_Subscriber] = []
    seen: set[str] = set()
    while len(people) < subscribers:
        operator = str(rng.choice(operators, p=[0.38, 0.33, 0.2, 0.09]))
        number = _number(rng, operator)
        if number in seen:
            continue
        seen.add(number)
        people.append(
            _Subscriber(
                number=number, operator=operator, imsi=_MNC[operator] + _digits(rng, 10),
                imei=_digits(rng, 15), cell=f"C{int(rng.integers(0, 800)):04d}",
            )
        )  # fmt: skip
    ported_ids = {i for i in range(subscribers) if rng.random() < 0.02}
    ported: dict[str, str] = {}
    calls: list[SimCall] = []
    hours_p = _RHYTHM / _RHYTHM.sum()

    def at(hour: float) -> datetime:
        return DAY + timedelta(seconds=float(hour) * 3600)

    def add(truth: str, source: str, when: datetime, caller: str, called: str, *,
            answered: bool, duration: float, **fields: object) -> None:  # fmt: skip
        call = CallAttempt(
            call_id=f"{len(calls):07d}",
            at=when,
            caller=caller,
            called=called,
            **fields,  # type: ignore[arg-type]
        )
        calls.append(
            SimCall(
                attempt=call, answered=answered, duration_s=duration, truth=truth, source=source
            )
        )

    # Ordinary subscribers: 15 contacts each, 0–12 calls a day.
    for i, person in enumerate(people):
        contacts = rng.integers(0, subscribers, 15)
        network = person.operator
        if i in ported_ids:
            network = str(rng.choice([o for o in operators if o != person.operator]))
            ported[person.number] = network
        abroad = rng.random() < 0.005
        for _ in range(int(rng.poisson(4))):
            hour = int(rng.choice(24, p=hours_p)) + rng.random()
            callee = people[int(rng.choice(contacts))].number
            answered = bool(rng.random() < 0.8)
            duration = float(rng.lognormal(4.2, 1.0)) if answered else float(rng.uniform(5, 30))
            add("legit", f"subscriber {i}", at(hour), person.number, callee, answered=answered,
                duration=duration, international=abroad, roaming=abroad,
                network=None if abroad else network, imsi=person.imsi, imei=person.imei,
                cell=None if abroad else person.cell)  # fmt: skip
    # Businesses that call many people, legitimately, through the day.
    for b, (name, per_day) in enumerate((("taxi", 400), ("courier", 250), ("clinic", 150))):
        operator = operators[b]
        number = _number(rng, operator)
        imei, imsi = _digits(rng, 15), _MNC[operator] + _digits(rng, 10)
        for _ in range(per_day):
            hour = rng.uniform(8, 21)
            answered = bool(rng.random() < 0.7)
            add("legit", name, at(hour), number, people[int(rng.integers(subscribers))].number,
                answered=answered, duration=float(rng.uniform(20, 120)) if answered else 15.0,
                network=operator, imsi=imsi, imei=imei, cell="C0001")  # fmt: skip
    # Call centres: two offices of 4 SIMs (a phone each), each SIM ringing strangers every
    # 20–90 s for a few hours from the office's cell.
    for c in range(8):
        office = "AB"[c // 4]
        cell = ("C0107", "C0593")[c // 4]
        operator = str(rng.choice(operators))
        number = _number(rng, operator)
        imei, imsi = _digits(rng, 15), _MNC[operator] + _digits(rng, 10)
        t = rng.uniform(9, 15)
        for _ in range(int(rng.integers(150, 300))):
            t += rng.uniform(20, 90) / 3600
            answered = bool(rng.random() < 0.3)
            duration = (
                float(rng.uniform(1, 8)) if rng.random() < 0.7 else float(rng.uniform(60, 600))
            )
            add("call_centre", f"call centre {office}", at(t), number,
                people[int(rng.integers(subscribers))].number, answered=answered,
                duration=duration if answered else 0.0, network=operator, imsi=imsi, imei=imei,
                cell=cell)  # fmt: skip
    # SIM-boxes: 3 boxes of 16 SIMs with consecutive IMSIs, 2 handsets, one cell.
    for box in range(3):
        operator = str(rng.choice(operators))
        base = int(_MNC[operator] + _digits(rng, 10))
        imeis = [_digits(rng, 15) for _ in range(2)]
        cell = f"C{int(rng.integers(0, 800)):04d}"
        sims = [(str(base + k), _number(rng, operator)) for k in range(16)]
        for _ in range(900):
            imsi, number = sims[int(rng.integers(16))]
            hour = rng.uniform(7, 23)
            answered = bool(rng.random() < 0.75)
            add("simbox", f"SIM-box {box}", at(hour), number,
                people[int(rng.integers(subscribers))].number, answered=answered,
                duration=float(rng.lognormal(4.0, 0.8)) if answered else 0.0, network=operator,
                imsi=imsi, imei=imeis[int(rng.integers(2))], cell=cell)  # fmt: skip
    # Wangiri: 3 foreign numbers ringing subscribers once, at night.
    for w, country in enumerate(("+882", "+225", "+239")):
        number = country + _digits(rng, 8)
        for _ in range(300):
            hour = rng.uniform(0, 5)
            add("wangiri", f"wangiri {w}", at(hour), number,
                people[int(rng.integers(subscribers))].number, answered=False,
                duration=float(rng.uniform(1, 3)), international=True)  # fmt: skip
    # Spoofed: calls from abroad showing Kazakhstan mobile numbers (often real subscribers').
    for _ in range(400):
        shown = people[int(rng.integers(subscribers))].number if rng.random() < 0.5 else (
            _number(rng, str(rng.choice(operators))))  # fmt: skip
        hour = rng.uniform(9, 20)
        answered = bool(rng.random() < 0.6)
        add("spoofed", "spoofing gateway", at(hour), shown,
            people[int(rng.integers(subscribers))].number, answered=answered,
            duration=float(rng.uniform(30, 600)) if answered else 0.0,
            international=True)  # fmt: skip
    calls.sort(key=lambda c: (c.attempt.at, c.attempt.call_id))
    return SimulatedDay(calls=calls, ported=ported)


CDR_COLUMNS = (
    "call_id", "at", "caller", "called", "international", "network", "roaming", "imsi",
    "imei", "cell", "answered", "duration_s", "truth", "source",
)  # fmt: skip


def write_ported(ported: dict[str, str], path: Path) -> None:
    """Write the ported numbers as ``number,operator`` (the register's export)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["number", "operator"])
        writer.writerows(sorted(ported.items()))


def write_cdr(calls: list[SimCall], path: Path) -> None:
    """Write ``calls`` as a CDR file (the batch screening's input; ``truth`` and ``source``,
    the simulated party that made the call, last)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CDR_COLUMNS)
        for c in calls:
            a = c.attempt
            writer.writerow(
                [a.call_id, a.at.isoformat(), a.caller, a.called, int(a.international),
                 a.network or "", int(a.roaming), a.imsi or "", a.imei or "", a.cell or "",
                 int(c.answered), round(c.duration_s, 1), c.truth, c.source]
            )  # fmt: skip
