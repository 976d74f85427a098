"""plates: every plate seen, once, with its first and last sighting (the plate searches'
directory)

Revision ID: 0038
Revises: 0037

Filled from the sightings already stored: one pass over ``plate_sightings`` grouped by plate
(68 s at 100 million sightings on PostgreSQL on the development machine), during which the
sightings can be read but not written. Nodes of the version before must be stopped first: they
would store sightings without adding their plates here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_plates",
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plate", name=op.f("pk_known_plates")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Room in each page for a busy plate's next version (kupol.plates.model.KnownPlate).
        op.execute("ALTER TABLE known_plates SET (fillfactor = 70)")
        # No sighting stored meanwhile without its plate here (writers wait for the commit).
        op.execute("LOCK TABLE plate_sightings IN SHARE MODE")
    op.execute(
        "INSERT INTO known_plates (plate, first_seen_at, last_seen_at)"
        " SELECT plate, min(seen_at), max(seen_at) FROM plate_sightings GROUP BY plate"
    )
    # The expression is kupol.plates.model.plate_tail's, character for character: SQLite
    # uses an expression index only for the same expression.
    op.create_index(
        "ix_known_plates_tail", "known_plates", [sa.text("substr(plate, length(plate) - 4)")]
    )
    if postgres:
        op.execute("ANALYZE known_plates")  # its statistics now, not at autovacuum's next pass


def downgrade() -> None:
    op.drop_index("ix_known_plates_tail", table_name="known_plates")
    op.drop_table("known_plates")
