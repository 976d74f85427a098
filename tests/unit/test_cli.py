"""The kupol command line: commands, messages and the exit codes scripts rely on."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from kupol.cli import app

pytestmark = pytest.mark.usefixtures("fast_passwords")
Kupol = Callable[..., Result]


@pytest.fixture
def kupol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Kupol:
    """Run ``kupol ARGS`` in an empty folder against a migrated SQLite database."""
    monkeypatch.chdir(tmp_path)  # no ./kupol.toml
    runner = CliRunner()

    def invoke(
        *args: str, database_url: str = sqlite_url, input: str | None = None, **env: str
    ) -> Result:
        environment = {
            "KUPOL_DATABASE__URL": database_url,
            "KUPOL_DATA_DIR": str(tmp_path),
            "COLUMNS": "200",
            **env,
        }
        return runner.invoke(app, list(args), env=environment, input=input)

    return invoke


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from kupol.core.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def password_in(result: Result) -> str:
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("password: ")]
    return line.removeprefix("password: ").strip()


def test_help_lists_the_commands(kupol: Kupol) -> None:
    result = kupol("--help")

    assert result.exit_code == 0
    for command in ("db", "users", "audit", "eval", "run", "demo"):
        assert command in result.stdout


def test_the_installed_entry_point_answers() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kupol", "users", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0
    assert "add" in result.stdout


def test_db_upgrade_then_users_add_prints_a_password_that_logs_in(
    kupol: Kupol, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'kupol.sqlite'}"

    upgraded = kupol("db", "upgrade", database_url=url)
    current = kupol("db", "current", database_url=url)
    added = kupol(
        "users", "add", "ivanov", "--role", "operator", "--role", "analyst", database_url=url
    )
    listed = kupol("users", "list", database_url=url)

    assert upgraded.exit_code == 0, upgraded.output
    assert current.stdout.strip() == head_revision()
    assert added.exit_code == 0, added.output
    assert "created ivanov (analyst, operator)" in added.stdout
    assert len(password_in(added)) >= 10
    assert "ivanov" in listed.stdout
    assert "analyst, operator" in listed.stdout


def test_a_password_can_be_given_on_standard_input_and_is_not_printed(kupol: Kupol) -> None:
    result = kupol(
        "users",
        "add",
        "petrov",
        "--role",
        "auditor",
        "--password-stdin",
        input="a-long-enough-password\n",
    )

    assert result.exit_code == 0, result.output
    assert "a-long-enough-password" not in result.output
    assert "password:" not in result.stdout


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (["--role", "wizard"], "unknown role(s) wizard; valid: admin, analyst, auditor"),
        ([], "a user needs at least one role"),
    ],
)
def test_a_bad_role_exits_2_with_a_clear_message(
    kupol: Kupol, roles: list[str], message: str
) -> None:
    result = kupol("users", "add", "ivanov", *roles)

    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_adding_an_existing_user_exits_5(kupol: Kupol) -> None:
    assert kupol("users", "add", "ivanov", "--role", "operator").exit_code == 0

    result = kupol("users", "add", "ivanov", "--role", "admin")

    assert result.exit_code == 5
    assert "already exists" in result.stderr


def test_users_reset_mfa_switches_two_factor_sign_in_off_and_names_unknown_users(
    kupol: Kupol,
) -> None:
    kupol("users", "add", "ivanov", "--role", "operator")

    done = kupol("users", "reset-mfa", "ivanov")
    unknown = kupol("users", "reset-mfa", "nobody")

    assert done.exit_code == 0, done.output
    assert "two-factor sign-in of ivanov reset" in done.stdout
    assert unknown.exit_code == 4
    assert "no user 'nobody'" in unknown.stderr


def test_audit_verify_exits_0_on_an_intact_log(kupol: Kupol) -> None:
    kupol("users", "add", "ivanov", "--role", "operator")
    kupol("users", "add", "petrov", "--role", "operator")

    result = kupol("audit", "verify")

    assert result.exit_code == 0, result.output
    assert "audit log intact: 2 entries verified" in result.stdout


def test_audit_verify_exits_1_on_a_tampered_log_naming_the_entry(
    kupol: Kupol, sqlite_url: str
) -> None:
    for name in ("ivanov", "petrov", "sidorov"):
        kupol("users", "add", name, "--role", "operator")
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET resource_id = 'somebody' WHERE seq = 2")

    result = kupol("audit", "verify")

    assert result.exit_code == 1
    assert "audit log BROKEN at entry 2" in result.stderr
    assert "1 entries verified before it" in result.stderr


def test_an_unknown_setting_in_the_environment_exits_3_naming_it(kupol: Kupol) -> None:
    result = kupol("users", "list", KUPOL_DATABSE__URL="sqlite:///typo.sqlite")

    assert result.exit_code == 3
    assert "KUPOL_DATABSE__URL" in result.stderr


def test_an_unknown_key_in_the_config_file_exits_3_naming_it(kupol: Kupol, tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[database]\nurll = "sqlite:///x.sqlite"\n')

    result = kupol("--config", str(config), "users", "list")

    assert result.exit_code == 3
    assert "database.urll: unknown key" in result.stderr


def test_a_missing_config_file_exits_3(kupol: Kupol, tmp_path: Path) -> None:
    result = kupol("--config", str(tmp_path / "nowhere.toml"), "users", "list")

    assert result.exit_code == 3
    assert "config file not found" in result.stderr


def test_a_database_without_schema_exits_8_saying_what_to_run(kupol: Kupol, tmp_path: Path) -> None:
    result = kupol("users", "list", database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}")

    assert result.exit_code == 8
    assert "kupol db upgrade" in result.stderr


def test_eval_motion_on_a_missing_file_exits_9(kupol: Kupol, tmp_path: Path) -> None:
    result = kupol("eval", "motion", str(tmp_path / "missing.mp4"))

    assert result.exit_code == 9
    assert "video file not found" in result.stderr


def test_eval_motion_on_a_file_that_is_not_a_video_exits_9_without_a_traceback(
    kupol: Kupol, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video")

    result = kupol("eval", "motion", str(fake))

    assert result.exit_code == 9
    assert "cannot open video" in result.output
    assert "Traceback" not in result.output


def test_run_refuses_a_database_behind_the_current_schema(kupol: Kupol, tmp_path: Path) -> None:
    old = f"sqlite:///{tmp_path / 'old.sqlite'}"
    from kupol.core.db import upgrade

    upgrade(old, "0001")

    result = kupol("run", "--port", "0", database_url=old)

    assert result.exit_code == 8
    assert "run `kupol db upgrade`" in result.output


def test_quarantine_list_shows_what_was_rejected_and_why(
    kupol: Kupol, sqlite_url: str, tmp_path: Path
) -> None:
    from kupol.core.db import Database
    from kupol.core.quarantine import Quarantine

    db = Database.from_url(sqlite_url)
    Quarantine(db).keep(
        source="mqtt:kupol/cameras/x/events", reason="body is not JSON", body="{oops"
    )
    db.dispose()

    result = kupol("quarantine", "list", "--bodies")

    assert result.exit_code == 0, result.output
    assert "mqtt:kupol/cameras/x/events: body is not JSON" in result.stdout
    assert "{oops" in result.stdout


def test_eval_transfers_refuses_a_file_that_is_no_paysim_file_with_exit_2(
    kupol: Kupol, tmp_path: Path
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")

    result = kupol("eval", "transfers", str(other))

    assert result.exit_code == 2
    assert "not a PaySim file" in result.output and "missing column" in result.output
    assert "Traceback" not in result.output


def test_eval_speakers_says_what_is_wrong_with_the_folder(kupol: Kupol, tmp_path: Path) -> None:
    missing = kupol("eval", "speakers", str(tmp_path / "none"))
    assert missing.exit_code == 2 and "no such folder" in missing.stderr
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.wav").write_text("not audio")
    broken = kupol("eval", "speakers", str(tmp_path))
    assert broken.exit_code == 2 and "cannot read as audio" in broken.stderr
    assert "Traceback" not in broken.output
