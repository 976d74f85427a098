"""documents, incidents, devices, redactions: protocols and resolutions with their history
and X.509 signatures; incidents and their linked evidence; the body-camera registry and
shifts; redaction jobs; an evidence item's attribution and the original it was made from

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_devices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_devices")),
    )
    op.create_table(
        "evidence_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("officer", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["evidence_devices.id"],
            name=op.f("fk_evidence_assignments_device_id_evidence_devices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_assignments")),
    )
    op.create_index(
        "ix_evidence_assignments_device_start", "evidence_assignments", ["device_id", "starts_at"]
    )

    op.create_table(
        "evidence_redactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("every_s", sa.Float(), nullable=False),
        sa.Column("tracks", sa.JSON(), nullable=False),
        sa.Column("kept", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("result_item_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_redactions_item_id_evidence_items"),
        ),
        sa.ForeignKeyConstraint(
            ["result_item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_redactions_result_item_id_evidence_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_redactions")),
    )
    op.create_index("ix_evidence_redactions_item", "evidence_redactions", ["item_id"])

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("violation_id", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("pdf_item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pdf_item_id"],
            ["evidence_items.id"],
            name=op.f("fk_documents_pdf_item_id_evidence_items"),
        ),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["traffic_violations.id"],
            name=op.f("fk_documents_violation_id_traffic_violations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_documents_number")),
    )
    op.create_index("ix_documents_case", "documents", ["case_number"])
    op.create_index("ix_documents_status_created", "documents", ["status", "created_at"])
    op.create_index("ix_documents_violation", "documents", ["violation_id"])

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("occurred_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_incidents_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("number", name=op.f("uq_incidents_number")),
    )
    op.create_index("ix_incidents_time", "incidents", ["occurred_from", "occurred_to"])

    op.create_table(
        "document_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_events_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_events")),
        sa.UniqueConstraint("document_id", "seq", name=op.f("uq_document_events_document_id")),
    )
    op.create_table(
        "document_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_signatures_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_signatures")),
    )
    op.create_table(
        "incident_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("linked_by", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_evidence_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_incident_evidence_item_id_evidence_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_evidence")),
        sa.UniqueConstraint(
            "incident_id", "item_id", name=op.f("uq_incident_evidence_incident_id")
        ),
    )
    if op.get_bind().dialect.name == "sqlite":  # no ADD CONSTRAINT: the reference inline
        op.execute(
            "ALTER TABLE evidence_items ADD COLUMN derived_from INTEGER "
            "CONSTRAINT fk_evidence_items_derived_from_evidence_items "
            "REFERENCES evidence_items (id)"
        )
    else:
        op.add_column("evidence_items", sa.Column("derived_from", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_evidence_items_derived_from_evidence_items",
            "evidence_items",
            "evidence_items",
            ["derived_from"],
            ["id"],
        )
    op.add_column("evidence_items", sa.Column("attribution", sa.String(length=20), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            "fk_evidence_items_derived_from_evidence_items", "evidence_items", type_="foreignkey"
        )
    with op.batch_alter_table("evidence_items") as batch_op:
        batch_op.drop_column("attribution")
        batch_op.drop_column("derived_from")

    op.drop_table("incident_evidence")
    op.drop_table("document_signatures")
    op.drop_table("document_events")
    op.drop_index("ix_incidents_time", table_name="incidents")

    op.drop_table("incidents")
    op.drop_index("ix_documents_violation", table_name="documents")
    op.drop_index("ix_documents_status_created", table_name="documents")
    op.drop_index("ix_documents_case", table_name="documents")

    op.drop_table("documents")
    op.drop_index("ix_evidence_redactions_item", table_name="evidence_redactions")

    op.drop_table("evidence_redactions")
    op.drop_index("ix_evidence_assignments_device_start", table_name="evidence_assignments")

    op.drop_table("evidence_assignments")
    op.drop_table("evidence_devices")
