"""traffic: violations and their review, vehicle registry, notices, crossing counts;
plate sightings indexed by track

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # A violation finds its vehicle's voted plate by the track's key.
    op.create_index("ix_plate_sightings_track", "plate_sightings", ["track"])
    op.create_table(
        "vehicle_registry",
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("owner_name", sa.String(length=300), nullable=False),
        sa.Column("owner_id", sa.String(length=12), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("make", sa.String(length=100), nullable=True),
        sa.Column("colour", sa.String(length=60), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plate", name=op.f("pk_vehicle_registry")),
    )
    op.create_table(
        "crossing_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("crossing_id", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_crossing_events_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossing_events")),
        sa.UniqueConstraint("message_id", name=op.f("uq_crossing_events_message_id")),
    )
    op.create_index("ix_crossing_events_crossing_at", "crossing_events", ["crossing_id", "at"])
    op.create_table(
        "traffic_violations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("offence", sa.String(length=60), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=True),
        sa.Column("plate_confidence", sa.Float(), nullable=True),
        sa.Column("track", sa.String(length=120), nullable=True),
        sa.Column("measured", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("article", sa.String(length=20), nullable=False),
        sa.Column("part", sa.String(length=10), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("fine_mrp", sa.Float(), nullable=False),
        sa.Column("mrp_tenge", sa.Integer(), nullable=False),
        sa.Column("fine_tenge", sa.Integer(), nullable=False),
        sa.Column("discount_share", sa.Float(), nullable=True),
        sa.Column("discount_days", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sa.String(length=40), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("signed", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_traffic_violations_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_violations")),
        sa.UniqueConstraint("message_id", name=op.f("uq_traffic_violations_message_id")),
    )
    op.create_index(
        "ix_traffic_violations_camera_occurred", "traffic_violations", ["camera_id", "occurred_at"]
    )
    op.create_index("ix_traffic_violations_plate", "traffic_violations", ["plate"])
    op.create_index(
        "ix_traffic_violations_status_occurred", "traffic_violations", ["status", "occurred_at"]
    )
    op.create_table(
        "traffic_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("violation_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("owner_name", sa.String(length=300), nullable=True),
        sa.Column("owner_id", sa.String(length=12), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("amount_tenge", sa.Integer(), nullable=False),
        sa.Column("discounted_tenge", sa.Integer(), nullable=True),
        sa.Column("discount_until", sa.Date(), nullable=True),
        sa.Column("payment", sa.String(length=20), nullable=False),
        sa.Column("paid_tenge", sa.Integer(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("payment_reference", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["traffic_violations.id"],
            name=op.f("fk_traffic_notices_violation_id_traffic_violations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_notices")),
        sa.UniqueConstraint("number", name=op.f("uq_traffic_notices_number")),
        sa.UniqueConstraint("violation_id", name=op.f("uq_traffic_notices_violation_id")),
    )


def downgrade() -> None:
    op.drop_index("ix_plate_sightings_track", table_name="plate_sightings")
    op.drop_table("traffic_notices")
    op.drop_index("ix_traffic_violations_status_occurred", table_name="traffic_violations")
    op.drop_index("ix_traffic_violations_plate", table_name="traffic_violations")
    op.drop_index("ix_traffic_violations_camera_occurred", table_name="traffic_violations")
    op.drop_table("traffic_violations")
    op.drop_index("ix_crossing_events_crossing_at", table_name="crossing_events")
    op.drop_table("crossing_events")
    op.drop_table("vehicle_registry")
