"""transfer holds: the transfers banks asked about with the decision and what became of a
hold, and the mule list

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mule_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mule_accounts")),
        sa.UniqueConstraint("account", name=op.f("uq_mule_accounts_account")),
    )
    op.create_table(
        "transfer_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("bank_ref", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transfer_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payer", sa.String(length=64), nullable=False),
        sa.Column("payer_balance", sa.Float(), nullable=False),
        sa.Column("payee", sa.String(length=64), nullable=False),
        sa.Column("payee_balance", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_checks")),
        sa.UniqueConstraint("bank", "bank_ref", name=op.f("uq_transfer_checks_bank")),
    )
    op.create_index("ix_transfer_checks_asked", "transfer_checks", ["asked_at"])
    op.create_index("ix_transfer_checks_payee", "transfer_checks", ["payee", "transfer_at"])
    op.create_index("ix_transfer_checks_payer", "transfer_checks", ["payer", "transfer_at"])
    op.create_index("ix_transfer_checks_status", "transfer_checks", ["status", "asked_at"])


def downgrade() -> None:
    op.drop_table("transfer_checks")
    op.drop_table("mule_accounts")
