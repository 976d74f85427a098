"""Migration 0043: a deployment has the standing alert rules — a wanted plate, a possible
cloned plate and a watchlisted face raise alerts without an administrator writing a rule —
and a rule of the same name written before is left as it was."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from kupol.core.db import upgrade

STANDING = {
    "Номер в розыске": ('["plate_hotlist_hit"]', 300),
    "Возможный двойник номера": ('["possible_cloned_plate"]', 0),
    "Совпадение с лицом из списка": ('["face_match"]', 0),
}


def rules(url: str) -> dict[str, tuple[str, int, str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, event_types, cooldown_s, created_by FROM alert_rules")
        ).all()
    engine.dispose()
    # SQLite hands JSON back as text, PostgreSQL as a list.
    return {
        name: (json.dumps(json.loads(types) if isinstance(types, str) else types), cooldown, by)
        for name, types, cooldown, by in rows
    }


def test_a_new_deployment_gets_the_three_standing_rules(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    upgrade(url)
    assert rules(url) == {name: (*rule, "system") for name, rule in STANDING.items()}


def upgraded_with(tmp_path: Path, name: str, event_types: str, cooldown: int = 60) -> str:
    """A database at 0042 holding an administrator's rule, then migrated to the head."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0042")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO alert_rules (name, enabled, severity, event_types, camera_ids, "
                 "zones, min_confidence, weekdays, timezone, cooldown_s, created_by, created_at) "
                 "VALUES (:name, 1, 'medium', :types, '[]', '[]', 0.5, '[]', 'Asia/Almaty', "
                 ":cooldown, 'admin', '2026-11-01')"),
            {"name": name, "types": event_types, "cooldown": cooldown},
        )  # fmt: skip
    engine.dispose()
    upgrade(url)
    return url


def test_a_rule_an_administrator_wrote_under_the_same_name_is_kept(tmp_path: Path) -> None:
    found = rules(upgraded_with(tmp_path, "Номер в розыске", '["plate_hotlist_hit"]', 45))
    assert found["Номер в розыске"] == ('["plate_hotlist_hit"]', 45, "admin")
    assert set(found) == set(STANDING)


def test_an_event_a_rule_already_covers_gets_no_second_rule(tmp_path: Path) -> None:
    url = upgraded_with(tmp_path, "Угон", '["plate_hotlist_hit", "intrusion"]')
    assert set(rules(url)) == {"Угон", "Возможный двойник номера", "Совпадение с лицом из списка"}


def test_a_deployment_with_a_rule_for_every_event_gets_none(tmp_path: Path) -> None:
    assert set(rules(upgraded_with(tmp_path, "Всё", "[]"))) == {"Всё"}


def test_the_standing_rules_on_postgresql() -> None:
    from tests.conftest import fresh_postgres

    with fresh_postgres("kupol_rules") as url:
        assert rules(url) == {name: (*rule, "system") for name, rule in STANDING.items()}
