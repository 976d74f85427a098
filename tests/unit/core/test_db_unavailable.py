"""A database that cannot be reached is a 503 ServiceUnavailableError (the API answers it, bus
consumers hold their events); a bad statement stays the error it is."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from kupol.core.db import Database, is_unavailable
from kupol.core.errors import ServiceUnavailableError


def lost_connection() -> OperationalError:
    return OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))


def test_a_lost_postgresql_connection_in_a_unit_of_work_is_service_unavailable() -> None:
    db = Database.from_url("sqlite://")
    with pytest.raises(ServiceUnavailableError) as raised, db.unit_of_work():
        raise lost_connection()
    assert raised.value.status == 503 and raised.value.code == "database_unavailable"
    assert "refused" not in raised.value.detail  # hosts and ports stay in the log


def test_a_lost_connection_while_reading_is_service_unavailable() -> None:
    db = Database.from_url("sqlite://")
    with pytest.raises(ServiceUnavailableError), db.reader():
        raise lost_connection()


def test_a_sqlite_syntax_error_is_not_mistaken_for_an_outage() -> None:
    db = Database.from_url("sqlite://")
    with pytest.raises(OperationalError) as raised, db.unit_of_work() as session:
        session.execute(text("SELEC 1"))
    assert not is_unavailable(raised.value)
