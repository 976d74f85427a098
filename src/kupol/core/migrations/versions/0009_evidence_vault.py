"""evidence: the vault's items and their append-only, hash-chained custody log

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER evidence_custody_no_update BEFORE UPDATE ON evidence_custody "
    "BEGIN SELECT RAISE(ABORT, 'evidence_custody is append-only'); END",
    "CREATE TRIGGER evidence_custody_no_delete BEFORE DELETE ON evidence_custody "
    "BEGIN SELECT RAISE(ABORT, 'evidence_custody is append-only'); END",
)
APPEND_ONLY_POSTGRES = (
    """CREATE FUNCTION kupol_custody_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'evidence_custody is append-only'; END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER evidence_custody_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
    "ON evidence_custody FOR EACH STATEMENT EXECUTE FUNCTION kupol_custody_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("officer", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("gps", sa.JSON(), nullable=False),
        sa.Column("ingested_by", sa.String(length=64), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
    )
    op.create_index("ix_evidence_items_case", "evidence_items", ["case_number"])
    op.create_index("ix_evidence_items_sha256", "evidence_items", ["sha256"])
    op.create_table(
        "evidence_custody",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_custody_item_id_evidence_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_custody")),
        sa.UniqueConstraint("item_id", "seq", name=op.f("uq_evidence_custody_item_id")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in APPEND_ONLY_POSTGRES if postgres else APPEND_ONLY_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evidence_custody_append_only ON evidence_custody")
        op.execute("DROP FUNCTION IF EXISTS kupol_custody_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS evidence_custody_no_update")
        op.execute("DROP TRIGGER IF EXISTS evidence_custody_no_delete")
    op.drop_table("evidence_custody")
    op.drop_index("ix_evidence_items_sha256", table_name="evidence_items")
    op.drop_index("ix_evidence_items_case", table_name="evidence_items")
    op.drop_table("evidence_items")
