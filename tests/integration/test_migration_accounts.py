"""Migration 0042: accounts stored before kupol kept them in one form are rewritten in it, so
that a mule listed the old way still holds transfers (SQLite; the SQL is portable)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from kupol.core.db import upgrade


def test_old_spellings_are_rewritten_and_two_listings_of_one_mule_merged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0041")
    engine = create_engine(url)
    with engine.begin() as conn:
        for i, (account, at) in enumerate(
            [("kz86 125K ZT50 0410 0100", "2026-11-01"), ("KZ86125KZT5004100100", "2026-11-05"),
             ("8 701 555 44 33", "2026-11-02"), ("M-SHOP-17", "2026-11-03")]
        ):  # fmt: skip
            conn.execute(
                text("INSERT INTO mule_accounts (id, account, kind, source, active, added_by, "
                     "added_at) VALUES (:id, :account, 'known', 'case 1', 1, 'cyber', :at)"),
                {"id": i + 1, "account": account, "at": at},
            )  # fmt: skip
        conn.execute(
            text("INSERT INTO afc_reports (id, exchange_id, kind, subject, category, summary, "
                 "evidence, reported_by, reported_at, status, due_by) VALUES (1, 'x', 'account', "
                 "'kz86 125k zt50 0410 0100', 'mule', 's', '{}', 'cyber', '2026-11-06', "
                 "'submitted', '2026-11-08')"),
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO transfer_checks (id, bank, bank_ref, asked_at, transfer_at, kind, "
                 "amount, currency, payer, payer_balance, payee, decision, reasons, status) "
                 "VALUES (1, 'bank', 'R1', '2026-11-06', '2026-11-06', 'TRANSFER', 1.0, 'KZT', "
                 "'KZ01ACC', 10.0, '+7 (701) 555-44-33', 'hold', '[]', 'held')"),
        )  # fmt: skip
    upgrade(url)
    with engine.connect() as conn:
        payee = conn.execute(text("SELECT payer || ' ' || payee FROM transfer_checks")).scalar()
        mules = conn.execute(text("SELECT id, account FROM mule_accounts ORDER BY id")).all()
        subject = conn.execute(text("SELECT subject FROM afc_reports")).scalar_one()
    engine.dispose()
    assert [tuple(m) for m in mules] == [
        (2, "KZ86125KZT5004100100"), (3, "+77015554433"), (4, "M-SHOP-17")
    ]  # fmt: skip
    assert subject == "KZ86125KZT5004100100"
    assert payee == "KZ01ACC +77015554433"  # a bank's own id as written
