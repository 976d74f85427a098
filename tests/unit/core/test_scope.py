"""A user's scope: the cameras listed and the cameras of the regions listed; nothing listed,
every camera. Checked in Python and as SQL over a cameras table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, select

from kupol.cameras.model import Camera
from kupol.core.auth import Principal
from kupol.core.auth.scope import EVERYWHERE, CameraScope, checked_scope
from kupol.core.errors import InvalidInputError

CAMERAS = {"ast-1": "02", "ast-2": "02", "kzo-1": "11", "nowhere-1": None}
SIGHTINGS = Table(
    "sightings",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("camera_id", String(64)),
)


def scope(*, cameras: tuple[str, ...] = (), regions: tuple[str, ...] = ()) -> CameraScope:
    return CameraScope(camera_ids=frozenset(cameras), region_codes=frozenset(regions))


@pytest.fixture
def engine() -> Iterator[Engine]:
    """Cameras in two regions and one without a region, and a sighting at each."""
    engine = create_engine("sqlite://")
    Camera.__table__.create(engine)
    SIGHTINGS.create(engine)
    with engine.begin() as conn:
        for number, (camera_id, region) in enumerate(CAMERAS.items()):
            conn.execute(
                Camera.__table__.insert().values(
                    id=camera_id, name=camera_id, kind="fixed", latitude=0.0, longitude=0.0,
                    region_code=region, zones=[], analytics={}, enabled=True,
                )
            )  # fmt: skip
            conn.execute(SIGHTINGS.insert().values(id=number, camera_id=camera_id))
    yield engine
    engine.dispose()


def test_a_user_with_neither_cameras_nor_regions_sees_every_camera() -> None:
    user = Principal(user_id=1, username="u", full_name="", roles=("operator",), locale="ru")

    assert CameraScope.of(user) == EVERYWHERE
    assert EVERYWHERE.everywhere and EVERYWHERE.allows("anything", None)
    assert str(EVERYWHERE) == "every camera" and EVERYWHERE.for_audit() == {}


def test_the_scope_is_the_listed_cameras_and_the_cameras_of_the_listed_regions() -> None:
    user = Principal(user_id=1, username="u", full_name="", roles=("operator",), locale="ru",
                     camera_ids=("kzo-1",), region_codes=("02",))  # fmt: skip
    mine = CameraScope.of(user)

    assert not mine.everywhere
    assert mine.allows("kzo-1", "11") and mine.allows("kzo-1")  # listed by id
    assert mine.allows("ast-9", "02")  # in a listed region
    assert not mine.allows("kzo-2", "11") and not mine.allows("ast-9")  # region unknown
    assert str(mine) == "cameras kzo-1; regions 02"
    assert mine.for_audit() == {"scope": {"cameras": ["kzo-1"], "regions": ["02"]}}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (scope(), set(CAMERAS)),
        (scope(regions=("02",)), {"ast-1", "ast-2"}),
        (scope(cameras=("kzo-1",)), {"kzo-1"}),
        (scope(cameras=("kzo-1",), regions=("02",)), {"ast-1", "ast-2", "kzo-1"}),
        (scope(regions=("05",)), set()),
        (scope(cameras=("not-registered",)), set()),
    ],
)
def test_the_sql_clause_keeps_the_rows_of_the_cameras_in_scope(
    engine: Engine, given: CameraScope, expected: set[str]
) -> None:
    rows = select(SIGHTINGS.c.camera_id).where(given.clause(SIGHTINGS.c.camera_id))
    cameras = select(Camera.id).where(given.clause(Camera.id))
    # Joined to the cameras table, the region sub-query must stay its own (not correlated).
    joined = (
        select(SIGHTINGS.c.camera_id)
        .join(Camera.__table__, Camera.id == SIGHTINGS.c.camera_id)
        .where(given.clause(SIGHTINGS.c.camera_id))
    )

    with engine.connect() as conn:
        assert set(conn.scalars(rows)) == expected
        assert set(conn.scalars(cameras)) == expected
        assert set(conn.scalars(joined)) == expected


def test_camera_ids_and_region_codes_are_checked_sorted_and_unique() -> None:
    assert checked_scope(camera_ids=["b-1", "a-1", "b-1"], region_codes=[" 02", "11"]) == (
        ["a-1", "b-1"],
        ["02", "11"],
    )
    with pytest.raises(InvalidInputError) as bad:
        checked_scope(camera_ids=["Not A Camera"], region_codes=["21", "2"])
    assert [p.field for p in bad.value.problems] == ["camera_ids", "region_codes", "region_codes"]
