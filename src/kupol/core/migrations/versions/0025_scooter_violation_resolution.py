"""what an e-scooter operator did about a violation (its response)

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scooter_violations") as batch:
        batch.add_column(sa.Column("resolution", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scooter_violations") as batch:
        batch.drop_column("resolution")
