"""citizens' reports: the plate read, the media's perceptual hash, the case of one event

Revision ID: 0028
Revises: 0027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_reports") as batch:
        batch.add_column(sa.Column("plate", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("media_hash", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("case_key", sa.String(length=64), nullable=True))
        batch.create_index("ix_citizen_reports_case_key", ["case_key"])


def downgrade() -> None:
    with op.batch_alter_table("citizen_reports") as batch:
        batch.drop_index("ix_citizen_reports_case_key")
        batch.drop_column("case_key")
        batch.drop_column("media_hash")
        batch.drop_column("plate")
