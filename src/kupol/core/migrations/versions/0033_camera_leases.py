"""camera leases: vision workers' heartbeats and which worker runs each camera

Revision ID: 0033
Revises: 0032
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_leases")),
    )
    with op.batch_alter_table("camera_leases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_camera_leases_worker"), ["worker"], unique=False)
    op.create_table(
        "vision_workers",
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_vision_workers")),
    )
    with op.batch_alter_table("vision_workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vision_workers_beat_at"), ["beat_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vision_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vision_workers_beat_at"))
    op.drop_table("vision_workers")
    with op.batch_alter_table("camera_leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camera_leases_worker"))
    op.drop_table("camera_leases")
