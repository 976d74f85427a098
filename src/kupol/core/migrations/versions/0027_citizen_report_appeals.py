"""a citizen's appeal of a rejected report

Revision ID: 0027
Revises: 0026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_reports") as batch:
        batch.add_column(sa.Column("appeal_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("appealed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("citizen_reports") as batch:
        batch.drop_column("appealed_at")
        batch.drop_column("appeal_text")
