"""vision pipeline: per-camera analytics and the tracks table

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        # Existing cameras get the defaults (detector, abandoned objects, intrusion).
        batch_op.add_column(
            sa.Column("analytics", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    op.create_table(
        "tracks",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("object_class", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_confidence", sa.Float(), nullable=False),
        sa.Column("last_box", sa.JSON(), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_tracks_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
    )
    op.create_index("ix_tracks_camera_started", "tracks", ["camera_id", "started_at"])
    op.create_index("ix_tracks_class_started", "tracks", ["object_class", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_tracks_class_started", table_name="tracks")
    op.drop_index("ix_tracks_camera_started", table_name="tracks")
    op.drop_table("tracks")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("analytics")
