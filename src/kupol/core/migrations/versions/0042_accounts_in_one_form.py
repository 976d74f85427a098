"""accounts stored before 2026-12-07 rewritten in the one form kupol now keeps

Revision ID: 0042
Revises: 0041

Transfer checks, the mule list and reports on accounts now keep an account in one form: an
IBAN whose check digits hold without its spaces, in capitals; a payee named by a Kazakhstan
mobile number in E.164 (``kupol.antifraud.accounts``). Rows stored before kept the bank's or
analyst's spelling, which the new matching would no longer find (a mule listed as
``kz86 125k …`` would hold nothing). This rewrites them. Two mule listings that become one
account are merged into the latest (the audit log keeps both listings' history).

The rules are frozen here as they were written on 2026-12-07 (with the shipped numbering
plan's mobile codes), so that this migration does the same whatever the code does later.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_PHONE = re.compile(r"\+?[0-9 ()\-]{10,20}")
_MOBILE = {"700", "701", "702", "705", "706", "707", "708", "747", "771", "775", "776", "777",
           "778"}  # fmt: skip


def _one_form(text: str) -> str:
    compact = "".join(text.split()).upper()
    if _IBAN.fullmatch(compact):
        moved = compact[4:] + compact[:4]
        if int("".join(str(int(c, 36)) for c in moved)) % 97 == 1:
            return compact
    if _PHONE.fullmatch(text):
        digits = "".join(c for c in text if c.isdigit())
        if text.startswith("+"):
            national = digits[1:] if len(digits) == 11 and digits[0] == "7" else ""
        elif digits.startswith("00"):
            national = digits[3:] if len(digits) == 13 and digits[2] == "7" else ""
        elif len(digits) == 11 and digits[0] in "78":
            national = digits[1:]
        elif len(digits) == 10 and digits[0] in "67":
            national = digits
        else:
            national = ""
        if national[:3] in _MOBILE:
            return "+7" + national
    return text


def upgrade() -> None:
    bind = op.get_bind()
    for table, column in (("transfer_checks", "payer"), ("transfer_checks", "payee")):
        values = bind.execute(sa.text(f"SELECT DISTINCT {column} FROM {table}")).scalars()
        for old in list(values):
            new = _one_form(old)
            if new != old:
                bind.execute(
                    sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
                    {"new": new, "old": old},
                )
    reports = bind.execute(
        sa.text("SELECT DISTINCT subject FROM afc_reports WHERE kind = 'account'")
    ).scalars()
    for old in list(reports):
        new = _one_form(old)
        if new != old:
            bind.execute(
                sa.text("UPDATE afc_reports SET subject = :new WHERE kind = 'account' "
                        "AND subject = :old"),
                {"new": new, "old": old},
            )  # fmt: skip
    mules = bind.execute(
        sa.text("SELECT id, account, added_at FROM mule_accounts ORDER BY added_at, id")
    ).all()
    kept: dict[str, int] = {}  # account in its one form → the listing kept (the latest)
    for id_, account, _ in mules:
        form = _one_form(account)
        if form in kept:  # an earlier listing of the same account: the later one stays
            bind.execute(sa.text("DELETE FROM mule_accounts WHERE id = :id"), {"id": kept[form]})
        kept[form] = id_
    for id_, account, _ in mules:
        form = _one_form(account)
        if kept.get(form) == id_ and form != account:
            bind.execute(
                sa.text("UPDATE mule_accounts SET account = :form WHERE id = :id"),
                {"form": form, "id": id_},
            )


def downgrade() -> None:
    """Nothing to undo: the one form is an account's spelling, not a change of meaning."""
