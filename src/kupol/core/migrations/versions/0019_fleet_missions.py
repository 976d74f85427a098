"""fleet missions and geofences: waypoint plans checked against no-fly zones, patrol areas and
endurance before they are accepted

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_geofences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("polygon", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_geofences")),
        sa.UniqueConstraint("name", name=op.f("uq_fleet_geofences_name")),
    )
    op.create_table(
        "fleet_missions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("waypoints", sa.JSON(), nullable=False),
        sa.Column("speed_mps", sa.Float(), nullable=False),
        sa.Column("patrol_area_id", sa.Integer(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patrol_area_id"],
            ["fleet_geofences.id"],
            name=op.f("fk_fleet_missions_patrol_area_id_fleet_geofences"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["fleet_units.id"],
            name=op.f("fk_fleet_missions_unit_id_fleet_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_missions")),
    )
    op.create_index("ix_fleet_missions_unit", "fleet_missions", ["unit_id", "status"])


def downgrade() -> None:
    op.drop_table("fleet_missions")
    op.drop_table("fleet_geofences")
