"""a mission's whole way, home to home: over the streets for ground units

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fleet_missions") as batch:
        batch.add_column(sa.Column("path", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fleet_missions") as batch:
        batch.drop_column("path")
