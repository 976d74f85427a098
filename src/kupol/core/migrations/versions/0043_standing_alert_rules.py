"""a new deployment alerts on wanted plates, cloned plates and watchlisted faces from the start

Revision ID: 0043
Revises: 0042

Hotlist hits, possible cloned plates and face matches became events that only an alert rule
turns into an alert, and a deployment started with no rule: an investigator who put a stolen
car on a hotlist got a stored event, not an alert, until an administrator wrote a rule. Three
standing rules are created once, here — the events whose lists a user fills on purpose, so
that a hit is always worth an alert. Administrators edit or disable them like any other rule
(a deleted one is not created again: this runs once). A deployment that already has a rule
for one of these events — one naming it, one for every event (no event types), or one of the
same name — gets no standing rule for it, so no hit raises two alerts. The names are the
console's default language's (Russian), as the demo's are; cooldowns: one alert for the same
wanted car at a camera within 5 minutes (another car raises its own, alerts being kept apart by
their subject since 0041), every cloned plate and face match its own. The rows are written by
the migration, not through the rules service, so no audit record names their creation; their
``created_by`` is ``system``.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

STANDING = (
    # name, event type, severity, cooldown (s)
    ("Номер в розыске", "plate_hotlist_hit", "high", 300),
    ("Возможный двойник номера", "possible_cloned_plate", "high", 0),
    ("Совпадение с лицом из списка", "face_match", "high", 0),
)

rules = sa.table(
    "alert_rules",
    sa.column("name", sa.String),
    sa.column("enabled", sa.Boolean),
    sa.column("severity", sa.String),
    sa.column("event_types", sa.JSON),
    sa.column("camera_ids", sa.JSON),
    sa.column("zones", sa.JSON),
    sa.column("min_confidence", sa.Float),
    sa.column("active_from", sa.String),
    sa.column("active_to", sa.String),
    sa.column("weekdays", sa.JSON),
    sa.column("timezone", sa.String),
    sa.column("cooldown_s", sa.Integer),
    sa.column("created_by", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    existing: set[str] = set()
    covered: set[str] = set()
    catch_all = False
    for name, event_types in bind.execute(sa.select(rules.c.name, rules.c.event_types)):
        existing.add(name)
        covered.update(event_types or [])
        catch_all = catch_all or not event_types
    now = datetime.now(UTC)
    missing = [
        {
            "name": name, "enabled": True, "severity": severity, "event_types": [event_type],
            "camera_ids": [], "zones": [], "min_confidence": 0.0, "active_from": None,
            "active_to": None, "weekdays": [], "timezone": "Asia/Almaty",
            "cooldown_s": cooldown, "created_by": "system", "created_at": now,
        }
        for name, event_type, severity, cooldown in STANDING
        if name not in existing and event_type not in covered and not catch_all
    ]  # fmt: skip
    if missing:
        op.bulk_insert(rules, missing)


def downgrade() -> None:
    # Rules and their alerts stay: an alert refers to its rule, and the rules may have been
    # edited since.
    pass
