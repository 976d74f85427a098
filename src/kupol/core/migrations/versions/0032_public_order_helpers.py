"""public-order helpers

Revision ID: 0032
Revises: 0031
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "helper_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helper_areas")),
        sa.UniqueConstraint("name", name=op.f("uq_helper_areas_name")),
    )
    op.create_table(
        "public_helpers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("home_area_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_public_helpers_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["home_area_id"],
            ["helper_areas.id"],
            name=op.f("fk_public_helpers_home_area_id_helper_areas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_helpers")),
        sa.UniqueConstraint("citizen_id", name=op.f("uq_public_helpers_citizen_id")),
    )
    with op.batch_alter_table("public_helpers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_helpers_status"), ["status"], unique=False)

    op.create_table(
        "helper_recognitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amount_tenge", sa.Integer(), nullable=True),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("awarded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["helper_id"],
            ["public_helpers.id"],
            name=op.f("fk_helper_recognitions_helper_id_public_helpers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helper_recognitions")),
        sa.UniqueConstraint(
            "helper_id", "level", "period", name=op.f("uq_helper_recognitions_helper_id")
        ),
    )
    op.create_table(
        "helper_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("checked_in", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_out", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["helper_areas.id"], name=op.f("fk_helper_shifts_area_id_helper_areas")
        ),
        sa.ForeignKeyConstraint(
            ["helper_id"],
            ["public_helpers.id"],
            name=op.f("fk_helper_shifts_helper_id_public_helpers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helper_shifts")),
    )
    with op.batch_alter_table("helper_shifts", schema=None) as batch_op:
        batch_op.create_index("ix_helper_shifts_area_start", ["area_id", "start"], unique=False)
        batch_op.create_index("ix_helper_shifts_helper_start", ["helper_id", "start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("helper_shifts", schema=None) as batch_op:
        batch_op.drop_index("ix_helper_shifts_helper_start")
        batch_op.drop_index("ix_helper_shifts_area_start")

    op.drop_table("helper_shifts")
    op.drop_table("helper_recognitions")
    with op.batch_alter_table("public_helpers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_public_helpers_status"))

    op.drop_table("public_helpers")
    op.drop_table("helper_areas")
