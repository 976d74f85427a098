"""Wildcard and one-character-off searches are index lookups and find exactly what a scan finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import Justification
from kupol.core.auth.service import SYSTEM
from kupol.plates.formats import wildcard, within_one
from kupol.plates.messages import PlateObserved
from kupol.plates.model import KnownPlate, PlateSighting
from kupol.plates.queries import Match, PlateFilter, _newest, _one_off, _wildcard_clause
from tests.conftest import add_user

T = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WHY = Justification(purpose="stolen car report 2026-55")
PLATES = [
    "123ABC02", "123ABD02", "124ABC02", "123AB02", "23ABC02", "1234ABC02", "923ABC02",
    "777KKK17", "777KKZ17", "A123BC", "A123BCD", "B12345", "A12", "Z9", "ZZZABC02", "999ZZZ20",
    "12ZABZ02", "120AB902",
]  # fmt: skip
PATTERNS = [
    "12?AB?02", "?23ABC02", "123ABC0?", "123AB*", "123*", "*ABC02", "*BC02", "*C02", "*2",
    "???ABC02", "12?AB*", "*AB?02", "1*2", "A1*", "A1?", "*", "??", "Z*", "ZZZ*", "*ZZZ20",
    "1?3A?C0?", "12%AB_02", "??3ABC02", "1?3ABC02", "?2?ABC02", "?23?BC02",
]  # fmt: skip


@pytest.fixture
def stored(container: Container) -> Container:
    container.cameras.register(
        camera=CameraCreate(id="ast-1", name="ast-1", latitude=51.13, longitude=71.43),
        actor=SYSTEM,
    )
    stats = container.plate_store.record(
        [
            PlateObserved(
                camera_id="ast-1", plate=p, seen_at=T + timedelta(hours=i), confidence=0.9
            )
            for i, p in enumerate(PLATES)
        ]
    )
    assert stats.stored == len(PLATES)
    return container


def found(container: Container, plate: str, match: Match) -> list[str]:
    officer = add_user(container, f"officer-{len(plate)}-{match}", "traffic_officer")[0]
    views = container.plates.search(
        filters=PlateFilter(plate=plate, match=match, limit=1000), actor=officer, why=WHY
    )
    return sorted(v.plate for v in views)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_wildcard_search_finds_every_plate_the_pattern_matches_and_no_other(
    stored: Container, pattern: str
) -> None:
    if not pattern.replace("?", "").replace("*", ""):
        return  # refused: no character given
    expected = sorted(p for p in PLATES if wildcard(pattern).match(p))
    assert found(stored, pattern, Match.WILDCARD) == expected


@pytest.mark.parametrize("plate", ["123ABC02", "23ABC02", "777KKK17", "A12", "Z", "ZZZABC0"])
def test_a_fuzzy_search_finds_every_plate_one_character_off_and_no_other(
    stored: Container, plate: str
) -> None:
    expected = sorted(p for p in PLATES if within_one(p, plate))
    assert found(stored, plate, Match.FUZZY) == expected


def test_the_newest_matches_come_first_whichever_index_finds_them(stored: Container) -> None:
    officer = add_user(stored, "officer", "traffic_officer")[0]
    views = stored.plates.search(
        filters=PlateFilter(plate="123ABC02", match=Match.FUZZY, limit=2), actor=officer, why=WHY
    )
    assert [v.plate for v in views] == ["923ABC02", "1234ABC02"]


def test_one_character_off_is_a_few_hundred_exact_plates() -> None:
    neighbours = _one_off("123ABC02")
    assert len(neighbours) == 605
    assert {"123ABC02", "23ABC02", "1234ABC02", "X23ABC02", "123ABC029"} <= set(neighbours)
    assert all(within_one(p, "123ABC02") for p in neighbours)


def sqlite_plan(url: str, query: Any) -> str:
    """SQLite's plan for ``query`` (EXPLAIN QUERY PLAN), its lines joined."""
    engine = create_engine(url)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    engine.dispose()
    return plan


@pytest.mark.parametrize(
    ("pattern", "index"),
    [
        ("12?AB?02", "ix_plate_sightings_plate_seen"),
        ("123AB*", "ix_plate_sightings_plate_seen"),
        ("*ABC02", "ix_plate_sightings_tail_seen"),
        ("???ABC02", "ix_plate_sightings_tail_seen"),
        ("??3ABC02", "ix_plate_sightings_tail_seen"),
    ],
)
def test_sqlite_answers_wildcards_from_an_index(sqlite_url: str, pattern: str, index: str) -> None:
    condition, few = _wildcard_clause(pattern, PlateSighting.plate, dialect="sqlite")
    plan = sqlite_plan(sqlite_url, _newest([condition], few=few).limit(100))
    assert index in plan, plan
    assert f"SCAN {PlateSighting.__tablename__}" not in plan.replace(" USING", "|"), plan


@pytest.mark.parametrize(
    ("pattern", "index"),
    [
        ("12?AB?02", "sqlite_autoindex_known_plates_1"),
        ("123AB*", "sqlite_autoindex_known_plates_1"),
        ("*ABC02", "ix_known_plates_tail"),
        ("???ABC02", "ix_known_plates_tail"),
        ("??3ABC02", "ix_known_plates_tail"),
    ],
)
def test_sqlite_answers_wildcards_from_the_directory_of_plates_by_its_indexes(
    sqlite_url: str, pattern: str, index: str
) -> None:
    condition, few = _wildcard_clause(pattern, KnownPlate.plate, dialect="sqlite")
    assert few
    plan = sqlite_plan(sqlite_url, select(KnownPlate.plate).where(condition))
    assert index in plan, plan
    assert "SCAN known_plates" not in plan.replace(" USING", "|"), plan
