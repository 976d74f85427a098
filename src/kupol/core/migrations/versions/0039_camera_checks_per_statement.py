"""camera ids of events and sightings checked once a statement, not once a row (PostgreSQL)

Revision ID: 0039
Revises: 0038

``camera_events`` and ``plate_sightings`` took their foreign key to ``cameras`` as every
table does: PostgreSQL checks such a key with a query and a row lock on the camera for every
row inserted — about 4 µs of the server's time a row, a third of what storing an event costs
it, on the two tables that take every event and every plate read (20,000 a second under the
load bench). On PostgreSQL the two keys become triggers that check a whole statement's rows at
once: an ``AFTER INSERT`` and an ``AFTER UPDATE`` trigger per statement over its new rows
(one anti-join against ``cameras``), and a ``BEFORE DELETE OR UPDATE OF id`` trigger on
``cameras`` that refuses to remove or rename a camera such rows name. Both raise the error a
foreign key raises (SQLSTATE 23503, ``foreign_key_violation``), so writers see the same
failure. What the key did and the triggers do not: lock the camera against a delete committed
by another transaction at the same moment (kupol disables cameras, it never deletes them) and
reach these tables from ``TRUNCATE cameras CASCADE``. SQLite keeps its foreign keys (checked in memory, cheaply).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TABLES = ("camera_events", "plate_sightings")

CHECK_ROWS = """
CREATE FUNCTION kupol_check_camera_ids() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    SELECT n.camera_id INTO missing FROM kupol_new_rows n
     WHERE n.camera_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM cameras c WHERE c.id = n.camera_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
            TG_TABLE_NAME, 'fk_' || TG_TABLE_NAME || '_camera_id_cameras'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (camera_id)=(%s) is not present in table "cameras".',
                                  missing),
                  TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END
$$
"""

CAMERA_IN_USE = """
CREATE FUNCTION kupol_camera_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    referencing text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id IS NOT DISTINCT FROM OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM camera_events WHERE camera_id = OLD.id) THEN
        referencing := 'camera_events';
    ELSIF EXISTS (SELECT 1 FROM plate_sightings WHERE camera_id = OLD.id) THEN
        referencing := 'plate_sightings';
    END IF;
    IF referencing IS NOT NULL THEN
        RAISE EXCEPTION
            'update or delete on table "cameras" violates foreign key constraint "%" on table "%"',
            'fk_' || referencing || '_camera_id_cameras', referencing
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "%s".',
                                  OLD.id, referencing),
                  TABLE = 'cameras';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CHECK_ROWS)
    op.execute(CAMERA_IN_USE)
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_camera_id_cameras")
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_camera_ids_{event.lower()} AFTER {event} ON {table} "
                "REFERENCING NEW TABLE AS kupol_new_rows FOR EACH STATEMENT "
                "EXECUTE FUNCTION kupol_check_camera_ids()"
            )
    op.execute(
        "CREATE TRIGGER cameras_in_use BEFORE DELETE OR UPDATE OF id ON cameras "
        "FOR EACH ROW EXECUTE FUNCTION kupol_camera_in_use()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER cameras_in_use ON cameras")
    for table in TABLES:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER {table}_camera_ids_{event} ON {table}")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_camera_id_cameras "
            "FOREIGN KEY (camera_id) REFERENCES cameras (id)"
        )
    op.execute("DROP FUNCTION kupol_camera_in_use()")
    op.execute("DROP FUNCTION kupol_check_camera_ids()")
