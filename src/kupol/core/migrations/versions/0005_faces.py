"""faces: watchlists, enrolled photos, sightings kept for retrospective search, hits

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "watchlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlists")),
        sa.UniqueConstraint("name", name=op.f("uq_watchlists_name")),
    )
    op.create_table(
        "watchlist_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watchlist_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["watchlist_id"],
            ["watchlists.id"],
            name=op.f("fk_watchlist_persons_watchlist_id_watchlists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_persons")),
    )
    op.create_index("ix_watchlist_persons_list", "watchlist_persons", ["watchlist_id"])
    op.create_table(
        "watchlist_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("image_uri", sa.String(length=300), nullable=False),
        sa.Column("crop_uri", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("template", sa.LargeBinary(), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("quality", sa.Float(), nullable=False),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["watchlist_persons.id"],
            name=op.f("fk_watchlist_photos_person_id_watchlist_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_photos")),
    )
    op.create_index("ix_watchlist_photos_person", "watchlist_photos", ["person_id"])
    op.create_table(
        "face_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("track", sa.String(length=120), nullable=True),
        sa.Column("seen_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("quality", sa.Float(), nullable=False),
        sa.Column("template", sa.LargeBinary(), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("crop_uri", sa.String(length=300), nullable=False),
        sa.Column("crop_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_face_sightings_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_sightings")),
        sa.UniqueConstraint("message_id", name=op.f("uq_face_sightings_message_id")),
    )
    op.create_index("ix_face_sightings_expires", "face_sightings", ["expires_at"])
    op.create_index("ix_face_sightings_camera_seen", "face_sightings", ["camera_id", "seen_at"])
    op.create_table(
        "face_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("watchlist_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("sighting_id", sa.Integer(), nullable=True),
        sa.Column("track", sa.String(length=120), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("probe_uri", sa.String(length=300), nullable=False),
        sa.Column("probe_sha256", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_face_hits_camera_id_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["watchlist_id"], ["watchlists.id"], name=op.f("fk_face_hits_watchlist_id_watchlists")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["watchlist_persons.id"],
            name=op.f("fk_face_hits_person_id_watchlist_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["watchlist_photos.id"],
            name=op.f("fk_face_hits_photo_id_watchlist_photos"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_hits")),
    )
    op.create_index("ix_face_hits_status_last", "face_hits", ["status", "last_seen_at"])
    op.create_index("ix_face_hits_group", "face_hits", ["camera_id", "person_id", "last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_face_hits_group", table_name="face_hits")
    op.drop_index("ix_face_hits_status_last", table_name="face_hits")
    op.drop_table("face_hits")
    op.drop_index("ix_face_sightings_camera_seen", table_name="face_sightings")
    op.drop_index("ix_face_sightings_expires", table_name="face_sightings")
    op.drop_table("face_sightings")
    op.drop_index("ix_watchlist_photos_person", table_name="watchlist_photos")
    op.drop_table("watchlist_photos")
    op.drop_index("ix_watchlist_persons_list", table_name="watchlist_persons")
    op.drop_table("watchlist_persons")
    op.drop_table("watchlists")
