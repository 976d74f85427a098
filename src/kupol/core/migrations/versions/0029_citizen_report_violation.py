"""the traffic violation a confirmed citizen's report became

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_reports") as batch:
        batch.add_column(sa.Column("violation_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("offence", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("citizen_reports") as batch:
        batch.drop_column("offence")
        batch.drop_column("violation_id")
