"""A deployment's own numbering plan and portability register (``[antifraud] numbering``,
``ported``): read at start, used by the service's screening, and refused at start with the
reason when they cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from kupol.antifraud.numbers import NUMBERING_PATH, NumberKind
from kupol.antifraud.screening import CallAttempt, Verdict
from kupol.bootstrap import build_container
from kupol.core.errors import ConfigError
from kupol.core.messages import utcnow
from tests.conftest import add_user, make_settings


def test_the_service_screens_by_the_deployments_plan_and_register(
    tmp_path: Path, sqlite_url: str
) -> None:
    plan = tmp_path / "numbering.toml"
    # The regulator gave out 799 to a new operator since kupol's copy was written.
    plan.write_text(
        NUMBERING_PATH.read_text(encoding="utf-8").replace(
            '"778" = "Kcell"', '"778" = "Kcell"\n"799" = "Jusan Mobile"'
        ),
        encoding="utf-8",
    )
    register = tmp_path / "ported.csv"
    register.write_text("number,operator\n8 701 123 45 67,Beeline\n", encoding="utf-8")
    settings = make_settings(
        database_url=sqlite_url, data_dir=tmp_path / "data",
        antifraud={"numbering": str(plan), "ported": str(register)},
    )  # fmt: skip
    container = build_container(settings)
    try:
        calls = container.antifraud.calls
        placed = calls.numbering.classify("+77991234567")
        assert (placed.kind, placed.operator) == (NumberKind.KZ_MOBILE, "Jusan Mobile")
        switch, _ = add_user(container, "switch", "telecom")

        def screen(n: int, caller: str, network: str) -> tuple[str, ...]:
            """The rules' reasons (the learned model may warn too, by the hour of the run)."""
            attempt = CallAttempt(
                call_id=f"r{n}", at=utcnow(), caller=caller, called="+77051112233",
                imsi="401011234567890", network=network,
            )  # fmt: skip
            verdict = calls.screen(actor=switch, attempt=attempt)
            assert verdict.verdict is not Verdict.BLOCK
            return tuple(r for r in verdict.reasons if r != "model")

        assert screen(1, "+77991234567", "Jusan Mobile") == ()  # not unallocated_number
        assert screen(2, "+77011234567", "Beeline") == ()  # ported
        assert screen(3, "+77011234568", "Beeline") == ("network_mismatch",)
    finally:
        container.db.dispose()


@pytest.mark.parametrize(
    ("setting", "content", "error"),
    [
        ("numbering", None, r"numbering reference .*absent"),
        ("numbering", "[mobile]\n", r"no mobile codes"),
        ("ported", None, r"\[antifraud\] ported: .*absent"),
        ("ported", "number,operator\n+44 20 7946 0958,Kcell\n", r"ported: .*:2: not a Kazakhstan"),
    ],
)
def test_a_plan_or_register_that_cannot_be_read_stops_the_start(
    tmp_path: Path, sqlite_url: str, setting: str, content: str | None, error: str
) -> None:
    path = tmp_path / "absent"
    if content is not None:
        path = tmp_path / f"{setting}.file"
        path.write_text(content, encoding="utf-8")
    settings = make_settings(
        database_url=sqlite_url, data_dir=tmp_path / "data", antifraud={setting: str(path)}
    )
    with pytest.raises(ConfigError, match=error):
        build_container(settings)


def test_batch_screening_places_numbers_by_the_deployments_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from kupol import cli

    cdr = tmp_path / "day.csv"
    cdr.write_text(
        "call_id,at,caller,called,international,network,roaming,imsi,imei,cell,answered,"
        "duration_s\n1,2026-12-07T10:00:00+05:00,+77991234567,+77051112233,false,,false,,,,"
        "true,60\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    shipped = json.loads(runner.invoke(cli.app, ["antifraud", "screen-cdr", str(cdr)]).stdout)
    assert shipped["reasons"] == {"unallocated_number": 1}
    plan = tmp_path / "numbering.toml"
    plan.write_text(
        NUMBERING_PATH.read_text(encoding="utf-8").replace(
            '"778" = "Kcell"', '"778" = "Kcell"\n"799" = "Jusan Mobile"'
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("KUPOL_ANTIFRAUD__NUMBERING", str(plan))
    ours = runner.invoke(cli.app, ["antifraud", "screen-cdr", str(cdr), "--no-model"])
    assert ours.exit_code == 0, ours.output
    assert json.loads(ours.stdout)["verdicts"] == {"allow": 1}
