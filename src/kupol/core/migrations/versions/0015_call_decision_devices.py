"""call decisions keep the SIM, handset and cell of the attempt (the fraud groups' ties)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_decisions") as batch:
        batch.add_column(sa.Column("imsi", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("imei", sa.String(length=17), nullable=True))
        batch.add_column(sa.Column("cell", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_decisions") as batch:
        batch.drop_column("cell")
        batch.drop_column("imei")
        batch.drop_column("imsi")
