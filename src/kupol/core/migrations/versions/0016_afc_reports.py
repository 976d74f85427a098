"""reports to the Anti-Fraud Centre: suspicious numbers and accounts with their evidence, and
the operators' and banks' checks due within two working days

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "afc_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_by", sa.String(length=120), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_afc_reports")),
        sa.UniqueConstraint("exchange_id", name=op.f("uq_afc_reports_exchange_id")),
    )
    op.create_index("ix_afc_reports_status_due", "afc_reports", ["status", "due_by"])
    op.create_index("ix_afc_reports_subject", "afc_reports", ["subject"])


def downgrade() -> None:
    op.drop_table("afc_reports")
