"""The inbox that makes consumers idempotent: each id is claimed once per consumer."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from kupol.core.bus.inbox import claim
from kupol.core.db import Database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()


def test_an_id_is_claimed_once_per_consumer(db: Database) -> None:
    first, second = uuid4(), uuid4()

    with db.unit_of_work() as session:
        fresh = claim(session, consumer="alerts", ids=[first])
    with db.unit_of_work() as session:
        again = claim(session, consumer="alerts", ids=[first, second])
    with db.unit_of_work() as session:
        other = claim(session, consumer="dispatch", ids=[first])

    assert (fresh, again, other) == ({first}, {second}, {first})


def test_a_claim_rolled_back_with_its_transaction_can_be_made_again(db: Database) -> None:
    event_id = uuid4()

    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        claim(session, consumer="alerts", ids=[event_id])
        raise RuntimeError("the consumer failed after claiming")
    with db.unit_of_work() as session:
        retried = claim(session, consumer="alerts", ids=[event_id])

    assert retried == {event_id}


def test_claiming_nothing_is_nothing(db: Database) -> None:
    with db.unit_of_work() as session:
        assert claim(session, consumer="alerts", ids=[]) == set()
