"""``kupol rules``: import keeps the valid rules and names each problem; switch rules on/off."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kupol.cli import app

RULES = """
[[rules]]
name = "Ночное движение"
severity = "high"
event_types = ["motion"]
active_from = "22:00"
active_to = "06:00"

[[rules]]
name = "Сломанное окно"
severity = "urgent"
active_from = "25:00"

[[rules]]
name = "Любое событие"
"""


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return {"KUPOL_DATABASE__URL": sqlite_url, "KUPOL_DATA_DIR": str(tmp_path), "COLUMNS": "200"}


def test_rules_import_keeps_the_valid_ones_and_reports_the_rest(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "rules.toml"
    file.write_text(RULES, encoding="utf-8")
    runner = CliRunner()

    imported = runner.invoke(app, ["rules", "import", str(file)], env=env)
    # A new deployment holds the three standing rules (migration 0043): these are #4 and #5.
    disabled = runner.invoke(app, ["rules", "disable", "5"], env=env)
    listed = runner.invoke(app, ["rules", "list"], env=env)

    assert imported.exit_code == 2
    assert "2 rule(s) added, 1 refused" in imported.stdout
    assert "rules #2" in imported.stderr and "severity" in imported.stderr
    assert "active_from" in imported.stderr
    assert disabled.exit_code == 0
    lines = listed.stdout.splitlines()[3:]
    assert len(lines) == 2
    assert "on " in lines[0] and "Ночное движение" in lines[0] and "22:00-06:00" in lines[0]
    assert "off" in lines[1] and "Любое событие" in lines[1] and "everything" in lines[1]


def test_switching_an_unknown_rule_is_exit_4(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["rules", "enable", "99"], env=env)

    assert result.exit_code == 4
    assert "no rule 99" in result.stderr
