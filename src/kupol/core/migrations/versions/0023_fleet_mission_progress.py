"""a mission's progress as the drone reports it (the last item reached)

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fleet_missions") as batch:
        batch.add_column(sa.Column("reached_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fleet_missions") as batch:
        batch.drop_column("reached_seq")
