"""The demo's anti-fraud data: a simulated network day screened as a switch sends it, its
gangs found as groups, and a bank's transfers held for their reasons — seeded once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from kupol.antifraud.model import CallDecision, TransferCheck
from kupol.bootstrap import Container, build_container
from kupol.core.audit import Justification
from kupol.demo import seed_antifraud
from tests.conftest import add_user, make_settings


def test_the_demo_seeds_a_screened_day_its_groups_and_held_transfers_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    container: Container = build_container(
        make_settings(database_url=sqlite_url, data_dir=tmp_path / "data")
    )
    try:
        analyst, _ = add_user(container, "cyber", "fraud_analyst")
        seed_antifraud(container, "admin")
        seed_antifraud(container, "admin")  # a second start adds nothing
        with container.db.reader() as session:
            calls = session.scalar(select(func.count()).select_from(CallDecision))
            checks = {
                c.bank_ref: (c.decision, c.reasons) for c in session.scalars(select(TransferCheck))
            }
        assert calls is not None and calls > 10_000
        summary = container.antifraud.calls.summary(actor=analyst, minutes=1440)
        assert summary["calls"] == calls and summary["verdicts"]["block"] > 0
        groups = container.antifraud.calls.groups(
            actor=analyst, why=Justification(purpose="demo walk-through"), hours=24
        )
        sizes = sorted((len(g.numbers), len(g.handsets)) for g in groups)
        assert sizes == [(4, 4), (4, 4), (16, 2), (16, 2), (16, 2)]
        assert checks["DEMO-1"] == ("allow", [])
        assert checks["DEMO-2"] == ("hold", ["empties_balance", "new_payee_large"])
        assert checks["DEMO-3"][0] == "hold" and "suspicious_call" in checks["DEMO-3"][1]
        # The call centre's victim paid its mule: the office's group carries the money trail.
        assert checks["DEMO-4"][0] == "hold" and "suspicious_call" in checks["DEMO-4"][1]
        (trail,) = [g for g in groups if g.accounts]
        assert trail.accounts == ["KZ77DEMO9100"] and len(trail.numbers) == 4
        assert trail.amounts == {"KZT": {"held": 640_000.0}} and trail.linked == []
    finally:
        container.db.dispose()
