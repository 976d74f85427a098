"""driving schools and e-scooter registries

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "school_examiners",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_examiners")),
    )
    with op.batch_alter_table("school_examiners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_examiners_region"), ["region"], unique=False)

    op.create_table(
        "school_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=True),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("first_found", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_found", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_flags")),
        sa.UniqueConstraint("key", name=op.f("uq_school_flags_key")),
    )
    with op.batch_alter_table("school_flags", schema=None) as batch_op:
        batch_op.create_index(
            "ix_school_flags_school_status", ["school_id", "status"], unique=False
        )

    op.create_table(
        "schools",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("licence_no", sa.String(length=60), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
    )
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schools_region"), ["region"], unique=False)

    op.create_table(
        "scooter_operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("letter", sa.String(length=1), nullable=False),
        sa.Column("bin", sa.String(length=12), nullable=False),
        sa.Column("fleet_cap", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scooter_operators")),
        sa.UniqueConstraint("account", name=op.f("uq_scooter_operators_account")),
        sa.UniqueConstraint("letter", name=op.f("uq_scooter_operators_letter")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_scooter_operators_provider_id")),
    )
    op.create_table(
        "scooter_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("polygon", sa.JSON(), nullable=False),
        sa.Column("max_speed_kmh", sa.Float(), nullable=True),
        sa.Column("sidewalk", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scooter_zones")),
        sa.UniqueConstraint("name", name=op.f("uq_scooter_zones_name")),
    )
    op.create_table(
        "school_branches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_branches_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_branches")),
    )
    with op.batch_alter_table("school_branches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_branches_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "school_cadets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=4), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("instructor_id", sa.String(length=40), nullable=True),
        sa.Column("licence_no", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_cadets_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_cadets")),
    )
    with op.batch_alter_table("school_cadets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_cadets_school_id"), ["school_id"], unique=False)

    op.create_table(
        "school_complaints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("upheld", sa.Boolean(), nullable=False),
        sa.Column("instructor_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_complaints_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_complaints")),
    )
    with op.batch_alter_table("school_complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_complaints_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "school_exams",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("cadet_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("examiner_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_exams_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_exams")),
    )
    with op.batch_alter_table("school_exams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_exams_cadet_id"), ["cadet_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_school_exams_examiner_id"), ["examiner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_school_exams_school_id"), ["school_id"], unique=False)

    op.create_table(
        "school_graduates",
        sa.Column("cadet_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("licence_no", sa.String(length=40), nullable=False),
        sa.Column("licensed_on", sa.Date(), nullable=False),
        sa.Column("exposure_years", sa.Float(), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False),
        sa.Column("accidents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_graduates_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cadet_id", name=op.f("pk_school_graduates")),
    )
    with op.batch_alter_table("school_graduates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_graduates_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "school_inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspector", sa.String(length=64), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("sanction", sa.String(length=20), nullable=False),
        sa.Column("fine_tenge", sa.Integer(), nullable=True),
        sa.Column("flag_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_inspections_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_inspections")),
    )
    with op.batch_alter_table("school_inspections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_inspections_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "school_instructors",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_instructors_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_instructors")),
    )
    with op.batch_alter_table("school_instructors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_instructors_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "school_lessons",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("cadet_id", sa.String(length=40), nullable=False),
        sa.Column("instructor_id", sa.String(length=40), nullable=False),
        sa.Column("vehicle_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("start_lat", sa.Float(), nullable=False),
        sa.Column("start_lon", sa.Float(), nullable=False),
        sa.Column("end_lat", sa.Float(), nullable=True),
        sa.Column("end_lon", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_lessons_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_lessons")),
    )
    with op.batch_alter_table("school_lessons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_lessons_cadet_id"), ["cadet_id"], unique=False)
        batch_op.create_index(
            "ix_school_lessons_instructor_start", ["instructor_id", "start"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_school_lessons_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "school_vehicles",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("plate", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_vehicles_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_vehicles")),
    )
    with op.batch_alter_table("school_vehicles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_vehicles_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "scooter_availability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.Column("unknown_plates", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["scooter_operators.id"],
            name=op.f("fk_scooter_availability_operator_id_scooter_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scooter_availability")),
    )
    with op.batch_alter_table("scooter_availability", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scooter_availability_operator_at", ["operator_id", "at"], unique=False
        )

    op.create_table(
        "scooter_trips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("trip_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("plate", sa.String(length=8), nullable=True),
        sa.Column("rider_id", sa.String(length=64), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["scooter_operators.id"],
            name=op.f("fk_scooter_trips_operator_id_scooter_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scooter_trips")),
        sa.UniqueConstraint("operator_id", "trip_id", name=op.f("uq_scooter_trips_operator_id")),
    )
    with op.batch_alter_table("scooter_trips", schema=None) as batch_op:
        batch_op.create_index("ix_scooter_trips_operator_day", ["operator_id", "day"], unique=False)
        batch_op.create_index(batch_op.f("ix_scooter_trips_plate"), ["plate"], unique=False)
        batch_op.create_index(batch_op.f("ix_scooter_trips_rider_id"), ["rider_id"], unique=False)

    op.create_table(
        "scooters",
        sa.Column("plate", sa.String(length=8), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("insurer", sa.String(length=120), nullable=True),
        sa.Column("policy_no", sa.String(length=60), nullable=True),
        sa.Column("insured_until", sa.Date(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["scooter_operators.id"],
            name=op.f("fk_scooters_operator_id_scooter_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plate", name=op.f("pk_scooters")),
        sa.UniqueConstraint("device_id", name=op.f("uq_scooters_device_id")),
    )
    with op.batch_alter_table("scooters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scooters_operator_id"), ["operator_id"], unique=False)

    op.create_table(
        "scooter_violations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trip_row_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("plate", sa.String(length=8), nullable=True),
        sa.Column("rider_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("limit_kmh", sa.Float(), nullable=True),
        sa.Column("zone", sa.String(length=120), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("operator_fine_tenge", sa.Integer(), nullable=True),
        sa.Column("operator_fine_basis", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["trip_row_id"],
            ["scooter_trips.id"],
            name=op.f("fk_scooter_violations_trip_row_id_scooter_trips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scooter_violations")),
    )
    with op.batch_alter_table("scooter_violations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scooter_violations_operator_at", ["operator_id", "at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scooter_violations_plate"), ["plate"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_scooter_violations_rider_id"), ["rider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scooter_violations_trip_row_id"), ["trip_row_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scooter_violations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scooter_violations_trip_row_id"))
        batch_op.drop_index(batch_op.f("ix_scooter_violations_rider_id"))
        batch_op.drop_index(batch_op.f("ix_scooter_violations_plate"))
        batch_op.drop_index("ix_scooter_violations_operator_at")

    op.drop_table("scooter_violations")
    with op.batch_alter_table("scooters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scooters_operator_id"))

    op.drop_table("scooters")
    with op.batch_alter_table("scooter_trips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scooter_trips_rider_id"))
        batch_op.drop_index(batch_op.f("ix_scooter_trips_plate"))
        batch_op.drop_index("ix_scooter_trips_operator_day")

    op.drop_table("scooter_trips")
    with op.batch_alter_table("scooter_availability", schema=None) as batch_op:
        batch_op.drop_index("ix_scooter_availability_operator_at")

    op.drop_table("scooter_availability")
    with op.batch_alter_table("school_vehicles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_vehicles_school_id"))

    op.drop_table("school_vehicles")
    with op.batch_alter_table("school_lessons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_lessons_school_id"))
        batch_op.drop_index("ix_school_lessons_instructor_start")
        batch_op.drop_index(batch_op.f("ix_school_lessons_cadet_id"))

    op.drop_table("school_lessons")
    with op.batch_alter_table("school_instructors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_instructors_school_id"))

    op.drop_table("school_instructors")
    with op.batch_alter_table("school_inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_inspections_school_id"))

    op.drop_table("school_inspections")
    with op.batch_alter_table("school_graduates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_graduates_school_id"))

    op.drop_table("school_graduates")
    with op.batch_alter_table("school_exams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_exams_school_id"))
        batch_op.drop_index(batch_op.f("ix_school_exams_examiner_id"))
        batch_op.drop_index(batch_op.f("ix_school_exams_cadet_id"))

    op.drop_table("school_exams")
    with op.batch_alter_table("school_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_complaints_school_id"))

    op.drop_table("school_complaints")
    with op.batch_alter_table("school_cadets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_cadets_school_id"))

    op.drop_table("school_cadets")
    with op.batch_alter_table("school_branches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_branches_school_id"))

    op.drop_table("school_branches")
    op.drop_table("scooter_zones")
    op.drop_table("scooter_operators")
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schools_region"))

    op.drop_table("schools")
    with op.batch_alter_table("school_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_school_flags_school_status")

    op.drop_table("school_flags")
    with op.batch_alter_table("school_examiners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_examiners_region"))

    op.drop_table("school_examiners")
