"""call screening: the block and allow lists with their sources, and the call attempts
screened through the API with their verdicts

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("switch", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("called", sa.String(length=32), nullable=False),
        sa.Column("international", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.String(length=5), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_decisions")),
    )
    op.create_index("ix_call_decisions_at", "call_decisions", ["at"])
    op.create_index("ix_call_decisions_called", "call_decisions", ["called", "at"])
    op.create_index("ix_call_decisions_caller", "call_decisions", ["caller", "at"])

    op.create_table(
        "number_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("list", sa.String(length=5), nullable=False),
        sa.Column("source", sa.String(length=160), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_lists")),
        sa.UniqueConstraint("number", "list", name=op.f("uq_number_lists_number")),
    )


def downgrade() -> None:
    op.drop_table("number_lists")
    op.drop_table("call_decisions")
