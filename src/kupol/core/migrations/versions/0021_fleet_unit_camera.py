"""a unit's camera: events and violations it sees are placed on the unit's track

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fleet_units") as batch:
        batch.add_column(sa.Column("camera_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_fleet_units_camera_id"), ["camera_id"])


def downgrade() -> None:
    with op.batch_alter_table("fleet_units") as batch:
        batch.drop_constraint(op.f("uq_fleet_units_camera_id"), type_="unique")
        batch.drop_column("camera_id")
