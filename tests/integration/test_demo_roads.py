"""The demo's accident records: a synthetic year, labelled as such, seeded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from kupol.bootstrap import Container
from kupol.demo import seed_roads
from tests.conftest import add_user


def test_the_demo_seeds_a_synthetic_year_once_without_the_shared_data(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kupol.bootstrap import build_container
    from tests.conftest import make_settings

    monkeypatch.setenv("KUPOL_DATA_ROOT", str(tmp_path / "no-shared-data"))
    container: Container = build_container(
        make_settings(database_url=sqlite_url, data_dir=tmp_path / "data")
    )
    try:
        admin, _ = add_user(container, "admin", "admin")
        seed_roads(container, "admin")
        seed_roads(container, "admin")
        assert container.roads.registry.count(actor=admin) == 30_000
        assert container.roads.registry.count(actor=admin, source="kz-synthetic") == 30_000
        assert container.roads.crime.periods(actor=admin) == []
    finally:
        container.db.dispose()
