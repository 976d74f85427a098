"""plates: an index on each plate's last five characters, for searches by a plate's end

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # The expression is kupol.plates.model.plate_tail's, character for character: SQLite
    # uses an expression index only for the same expression.
    op.create_index(
        "ix_plate_sightings_tail_seen",
        "plate_sightings",
        [sa.text("substr(plate, length(plate) - 4)"), "seen_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_plate_sightings_tail_seen", table_name="plate_sightings")
