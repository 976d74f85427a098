"""The demo's registries: a region of driving schools with known fraud, ranked and checked,
and yesterday's e-scooter trips of three operators sent as their feeds — seeded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kupol.bootstrap import Container
from kupol.demo import ensure_admin, seed_registries
from tests.unit.factories import fast_passwords

pytestmark = [pytest.mark.usefixtures(fast_passwords.__name__), pytest.mark.slow]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_registries_are_seeded_once(container: Container) -> None:
    username, _ = ensure_admin(container)
    seed_registries(container, username)
    seed_registries(container, username)  # a second start adds nothing
    admin = container.auth.principal_of(username)
    ranking = container.schools.ranking(actor=admin)
    assert len(ranking) == 40 and ranking[0].score.rank == 1
    flags = container.schools.flags(actor=admin, status="open")
    assert flags and len({f.kind for f in flags}) >= 5
    operators = container.scooters.operators(actor=admin)
    assert sorted(o.letter for o in operators) == ["J", "W", "Y"]
    yesterday = (datetime.now(UTC) + timedelta(hours=5)).date() - timedelta(days=1)
    reports = [
        container.scooters.compliance(actor=admin, provider_id=o.provider_id, day=yesterday)
        for o in operators
    ]
    assert sum(r.trips for r in reports) == 2000
    assert all(r.violations_total > 0 and r.fleet_peak for r in reports)
