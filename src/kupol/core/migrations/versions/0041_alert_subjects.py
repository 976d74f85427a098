"""alerts are kept apart by what their events are about (a plate, a face hit)

Revision ID: 0041
Revises: 0040

Events that name one subject — the plate of a hotlist hit or a possible cloned plate, the
face hit a face match is about — join an open alert of their rule and camera only if it is
about the same subject: a second stolen car at a camera raises its own alert instead of
adding to the first car's count. ``subject`` is a fixed-length digest of the subject (a
grouping key, not a protection: the alert's events name the plate), empty for events that
name none; alerts stored before keep it empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.drop_index("ix_alerts_rule_camera_status")
        batch_op.create_index(
            "ix_alerts_rule_camera_subject_status",
            ["rule_id", "camera_id", "subject", "status"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_rule_camera_subject_status")
        batch_op.create_index(
            "ix_alerts_rule_camera_status", ["rule_id", "camera_id", "status"], unique=False
        )
        batch_op.drop_column("subject")
