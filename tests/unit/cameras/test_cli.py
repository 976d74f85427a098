"""``kupol cameras``: import keeps the valid cameras and names each problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kupol.cli import app

GOOD_AND_BAD = """
[[cameras]]
id = "ast-test-01"
name = "Астана, тест"
latitude = 51.1
longitude = 71.4

[[cameras]]
id = "Bad Id"
name = "x"
latitude = 200
longitude = 71.4

[[cameras]]
id = "ala-test-02"
name = "Алматы"
kind = "ptz"
latitude = 43.2
longitude = 76.9
"""


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return {"KUPOL_DATABASE__URL": sqlite_url, "KUPOL_DATA_DIR": str(tmp_path), "COLUMNS": "200"}


def test_an_import_registers_the_valid_cameras_and_reports_the_others(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "cameras.toml"
    file.write_text(GOOD_AND_BAD, encoding="utf-8")
    runner = CliRunner()

    imported = runner.invoke(app, ["cameras", "import", str(file)], env=env)
    listed = runner.invoke(app, ["cameras", "list"], env=env)

    assert imported.exit_code == 2
    assert "2 camera(s) registered, 1 refused" in imported.stdout
    assert "cameras #2" in imported.stderr
    assert "latitude" in imported.stderr and "id:" in imported.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "ala-test-02",
        "ast-test-01",
    ]


def test_importing_a_file_that_is_not_toml_is_a_clear_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "cameras.toml"
    file.write_text("[[cameras]\nid = ", encoding="utf-8")

    result = CliRunner().invoke(app, ["cameras", "import", str(file)], env=env)

    assert result.exit_code == 2
    assert "is not valid TOML" in result.stderr
