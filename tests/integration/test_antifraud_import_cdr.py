"""A switch's CDR file imported into the service (``kupol antifraud import-cdr``): screened
with the lists, every decision stored under the switch's account, bad rows reported with
their line and the good ones kept."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from kupol import cli
from kupol.antifraud.cdr_sim import simulate_day, write_cdr
from kupol.antifraud.model import CallDecision
from kupol.bootstrap import build_container
from kupol.core.audit import Justification
from tests.conftest import add_user, make_settings


def test_a_switchs_cdr_file_is_screened_with_the_lists_and_stored(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(database_url=sqlite_url, data_dir=tmp_path / "data")
    container = build_container(settings)
    try:
        add_user(container, "kcell-switch", "telecom")
        analyst, _ = add_user(container, "cyber", "fraud_analyst")
        day = simulate_day(5, subscribers=400)
        legit = next(c for c in day.calls if c.truth == "legit").attempt.caller
        container.antifraud.calls.add_to_list(
            actor=analyst, number=legit, list_name="block", source="АФЦ report 2026-5"
        )
        cdr = tmp_path / "day.csv"
        write_cdr(day.calls, cdr)
        with cdr.open("a", encoding="utf-8") as handle:
            handle.write("bad-1,not a time,+77011234567,+77051234567,false,,,,,,,,legit,\n")
        env = {"KUPOL_DATABASE__URL": sqlite_url, "KUPOL_DATA_DIR": str(tmp_path / "data")}
        runner = CliRunner()
        result = runner.invoke(
            cli.app, ["antifraud", "import-cdr", str(cdr), "--as", "kcell-switch"], env=env
        )
        assert result.exit_code == 2, result.output  # one row refused, the rest kept
        assert f"{cdr}:{len(day.calls) + 2}: refused" in result.stderr
        figures = json.loads(result.stdout)
        assert (figures["stored"], figures["refused"]) == (len(day.calls), 1)
        assert figures["verdicts"]["block"] > 0
        with container.db.reader() as session:
            stored = session.scalar(select(func.count()).select_from(CallDecision))
            switches = set(session.scalars(select(CallDecision.switch).distinct()))
            listed = session.scalars(
                select(CallDecision.reasons).where(CallDecision.caller == legit)
            ).all()
        assert stored == len(day.calls) and switches == {"kcell-switch"}
        assert listed and all("block_list" in reasons for reasons in listed)
        from kupol.core.audit.model import AuditEntry

        with container.db.reader() as session:
            [audited] = session.scalars(
                select(AuditEntry).where(AuditEntry.resource_type == "cdr_file")
            ).all()
        assert (audited.actor, audited.action, audited.client) == ("kcell-switch", "import", "cli")
        assert audited.details["stored"] == len(day.calls) and len(audited.resource_id) == 64
        why = Justification(purpose="CDR import check")
        looked_up = container.antifraud.calls.lookup(actor=analyst, number=legit, why=why)
        assert looked_up["calls"]
        # Only a switch's account imports its records.
        refused = runner.invoke(
            cli.app, ["antifraud", "import-cdr", str(cdr), "--as", "cyber"], env=env
        )
        assert refused.exit_code != 0 and "calls.screen" in refused.output
    finally:
        container.db.dispose()
