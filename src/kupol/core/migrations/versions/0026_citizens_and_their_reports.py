"""citizens and their reports

Revision ID: 0026
Revises: 0025
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "citizen_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_codes")),
    )
    with op.batch_alter_table("citizen_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_codes_device_id"), ["device_id"], unique=False)
        batch_op.create_index("ix_citizen_codes_phone_sent", ["phone", "sent_at"], unique=False)

    op.create_table(
        "citizens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_citizens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizens")),
        sa.UniqueConstraint("phone", name=op.f("uq_citizens_phone")),
        sa.UniqueConstraint("user_id", name=op.f("uq_citizens_user_id")),
    )
    op.create_table(
        "citizen_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("location_source", sa.String(length=8), nullable=False),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("reward_tenge", sa.Integer(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_citizen_reports_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_reports")),
    )
    with op.batch_alter_table("citizen_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_citizen_reports_citizen_submitted", ["citizen_id", "submitted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_citizen_reports_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_citizen_reports_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_citizen_reports_submitted_at"), ["submitted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("citizen_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_reports_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_citizen_reports_status"))
        batch_op.drop_index(batch_op.f("ix_citizen_reports_device_id"))
        batch_op.drop_index("ix_citizen_reports_citizen_submitted")

    op.drop_table("citizen_reports")
    op.drop_table("citizens")
    with op.batch_alter_table("citizen_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_citizen_codes_phone_sent")
        batch_op.drop_index(batch_op.f("ix_citizen_codes_device_id"))

    op.drop_table("citizen_codes")
