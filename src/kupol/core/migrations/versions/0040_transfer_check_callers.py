"""transfer checks keep the suspicious callers that held them (the money trail of fraud groups)

Revision ID: 0040
Revises: 0039

A transfer held because the payer had just been rung by a suspicious number now keeps those
numbers (``callers``, E.164): organised groups tie a caught number to the accounts its
victims paid. Checks stored before keep ``NULL`` (their callers were not recorded).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transfer_checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfer_checks", schema=None) as batch_op:
        batch_op.drop_column("callers")
