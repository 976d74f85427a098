"""plates: the sightings table (every plate a camera read) and hotlists

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plate_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=True),
        sa.Column("vehicle_class", sa.String(length=40), nullable=True),
        sa.Column("vehicle_colour", sa.String(length=40), nullable=True),
        sa.Column("track", sa.String(length=120), nullable=True),
        sa.Column("crop_uri", sa.String(length=300), nullable=True),
        sa.Column("crop_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_plate_sightings_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate_sightings")),
        sa.UniqueConstraint("message_id", name=op.f("uq_plate_sightings_message_id")),
    )
    op.create_index("ix_plate_sightings_plate_seen", "plate_sightings", ["plate", "seen_at"])
    op.create_index("ix_plate_sightings_camera_seen", "plate_sightings", ["camera_id", "seen_at"])
    op.create_index("ix_plate_sightings_seen", "plate_sightings", ["seen_at"])
    op.create_table(
        "hotlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fuzzy", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotlists")),
        sa.UniqueConstraint("name", name=op.f("uq_hotlists_name")),
    )
    op.create_table(
        "hotlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotlist_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hotlist_id"], ["hotlists.id"], name=op.f("fk_hotlist_entries_hotlist_id_hotlists")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotlist_entries")),
        sa.UniqueConstraint("hotlist_id", "plate", name=op.f("uq_hotlist_entries_hotlist_id")),
    )
    op.create_index("ix_hotlist_entries_plate", "hotlist_entries", ["plate"])


def downgrade() -> None:
    op.drop_index("ix_hotlist_entries_plate", table_name="hotlist_entries")
    op.drop_table("hotlist_entries")
    op.drop_table("hotlists")
    op.drop_index("ix_plate_sightings_seen", table_name="plate_sightings")
    op.drop_index("ix_plate_sightings_camera_seen", table_name="plate_sightings")
    op.drop_index("ix_plate_sightings_plate_seen", table_name="plate_sightings")
    op.drop_table("plate_sightings")
