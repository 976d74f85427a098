"""road safety: the accident registry and its imports, and the official crime figures by
region

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accident_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("mapping", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("rejects", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accident_imports")),
    )
    op.create_table(
        "crime_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("article", sa.String(length=16), nullable=True),
        sa.Column("chapter", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("in_proceedings", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crime_figures")),
        sa.UniqueConstraint(
            "region_code", "period", "line", name=op.f("uq_crime_figures_region_code")
        ),
    )
    op.create_table(
        "accidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_time", sa.String(length=19), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("h3_cell", sa.String(length=16), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("district", sa.String(length=80), nullable=True),
        sa.Column("road", sa.String(length=80), nullable=True),
        sa.Column("road_class", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("killed", sa.Integer(), nullable=False),
        sa.Column("injured", sa.Integer(), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("light", sa.String(length=12), nullable=False),
        sa.Column("weather", sa.String(length=12), nullable=False),
        sa.Column("surface", sa.String(length=12), nullable=False),
        sa.Column("speed_limit_kmh", sa.Float(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["accident_imports.id"],
            name=op.f("fk_accidents_import_id_accident_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accidents")),
        sa.UniqueConstraint("source", "source_ref", name=op.f("uq_accidents_source")),
    )
    op.create_index("ix_accidents_h3", "accidents", ["h3_cell"])
    op.create_index("ix_accidents_occurred", "accidents", ["occurred_at"])
    op.create_index("ix_accidents_region_occurred", "accidents", ["region_code", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_accidents_region_occurred", table_name="accidents")
    op.drop_index("ix_accidents_occurred", table_name="accidents")
    op.drop_index("ix_accidents_h3", table_name="accidents")
    op.drop_table("accidents")
    op.drop_table("crime_figures")
    op.drop_table("accident_imports")
