"""The alert engine (runs in the event-recording transaction) and alert handling by operators."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, func, insert, select, text, tuple_
from sqlalchemy.orm import Session

from kupol.alerts.messages import AlertChanged
from kupol.alerts.model import Alert, AlertEvent, AlertRule, AlertStatus
from kupol.alerts.rules import CompiledRule
from kupol.alerts.schemas import AlertRead, AlertRuleCreate, AlertRuleRead
from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import EVERYWHERE, CameraScope
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import Event, utcnow
from kupol.core.outbox import OutboxRelay
from kupol.events.messages import CameraEventObserved


class AlertEngine:
    """Turns stored events into alerts. Events matching a rule within its cooldown join the
    rule's open alert for that camera instead of raising a new one (no alert storms)."""

    # Other processes (NATS workers) change rules too: cached rules are at most this old.
    RULES_MAX_AGE_S = 2.0

    def __init__(self, *, db: Database) -> None:
        self._db = db
        self._rules: list[CompiledRule] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Reload rules before the next evaluation (after a rule changed)."""
        self._rules = None

    def rules(self, session: Session) -> list[CompiledRule]:
        """The enabled rules, compiled and cached."""
        with self._lock:
            now = time.monotonic()
            if self._rules is None or now - self._loaded_at > self.RULES_MAX_AGE_S:
                enabled = select(AlertRule).where(AlertRule.enabled.is_(True))
                rows = session.scalars(enabled.order_by(AlertRule.id))
                self._rules = [CompiledRule.from_row(r) for r in rows]
                self._loaded_at = now
            return self._rules

    def __call__(self, session: Session, events: Sequence[CameraEventObserved]) -> list[Event]:
        """Processor hook: evaluate ``events`` in the caller's transaction.

        A handful of statements per batch, however many alerts it raises or joins: the open
        alerts are read at once, the new ones inserted at once (bench/load.py).
        """
        rules = self.rules(session)
        if not rules:
            return []
        matches: list[tuple[CompiledRule, CameraEventObserved]] = []
        for event in events:
            matches.extend((rule, event) for rule in rules if rule.matches(event))
        if not matches:
            return []
        # Only rules with a cooldown gather events into a shared alert; one without raises an
        # alert per event and has nothing to wait for.
        keys = sorted(
            {(r.id, e.camera_id, subject_key(e.subject)) for r, e in matches if r.cooldown_s > 0}
        )
        open_alerts = self._open_alerts(session, keys)
        steps: list[tuple[Alert, CameraEventObserved, str, str, int]] = []
        raised: list[Alert] = []
        for rule, event in matches:
            subject = subject_key(event.subject)
            key = (rule.id, event.camera_id, subject)
            alert = open_alerts.get(key)
            if alert is not None and _joins(alert, rule, event):
                alert.event_count += 1
                alert.last_event_at = max(alert.last_event_at, event.occurred_at)
                steps.append((alert, event, rule.name, "repeated", alert.event_count))
                continue
            alert = Alert(
                rule_id=rule.id,
                camera_id=event.camera_id,
                subject=subject,
                first_event_id=event.id,
                event_type=event.type,
                zone=event.zone,
                severity=rule.severity,
                status=AlertStatus.OPEN.value,
                raised_at=event.occurred_at,
                last_event_at=event.occurred_at,
                event_count=1,
            )
            raised.append(alert)
            if rule.cooldown_s > 0:
                open_alerts[key] = alert  # the batch's later events may join it
            steps.append((alert, event, rule.name, "raised", 1))
        _insert_raised(session, raised)
        session.execute(
            insert(ALERT_EVENTS), [{"alert_id": a.id, "event_id": e.id} for a, e, *_ in steps]
        )
        return [_changed(a, name, change, count=n) for a, _, name, change, n in steps]

    @staticmethod
    def _open_alerts(
        session: Session, keys: Sequence[tuple[int, str, str]]
    ) -> dict[tuple[int, str, str], Alert]:
        """The latest open alert of each (rule, camera, subject), row-locked: an operator
        closing one right now is waited for, and then the event raises a new alert instead of
        joining a closed one. Two recorders must not both raise an alert for a key, nor lose a
        count: on PostgreSQL each key is locked until commit first, in one global order
        (``keys`` is sorted), so recorders working on overlapping batches cannot deadlock each
        other (SQLite write transactions are serial already)."""
        if not keys:
            return {}
        if session.get_bind().dialect.name == "postgresql":
            locks = [_lock_key(*key) for key in keys]
            session.execute(
                text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
                {"keys": locks},
            )
        open_status = Alert.status != AlertStatus.CLOSED.value
        latest = (
            select(func.max(Alert.id))
            .where(tuple_(Alert.rule_id, Alert.camera_id, Alert.subject).in_(keys), open_status)
            .group_by(Alert.rule_id, Alert.camera_id, Alert.subject)
        )
        rows = session.scalars(
            select(Alert).where(Alert.id.in_(latest), open_status).with_for_update()
        )
        return {(a.rule_id, a.camera_id, a.subject): a for a in rows}


def _joins(alert: Alert, rule: CompiledRule, event: CameraEventObserved) -> bool:
    """Whether ``event`` belongs to the open ``alert`` (within the rule's cooldown of it)."""
    cooldown = timedelta(seconds=rule.cooldown_s)
    return (
        rule.cooldown_s > 0
        and event.occurred_at - alert.last_event_at <= cooldown
        and event.occurred_at >= alert.raised_at - cooldown
    )


def subject_key(subject: str | None) -> str:
    """What an alert stores of its events' subject: a fixed-length digest, its grouping key
    (not a protection: the alert's events name the subject), or ``""`` when they name none."""
    if not subject:
        return ""
    return hashlib.blake2b(subject.encode(), digest_size=16).hexdigest()


def _lock_key(rule_id: int, camera_id: str, subject: str) -> int:
    name = f"alert:{rule_id}:{camera_id}" + (f":{subject}" if subject else "")
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


ALERTS = cast(Table, Alert.__table__)
ALERT_EVENTS = cast(Table, AlertEvent.__table__)
_RAISED_COLUMNS = ("rule_id", "camera_id", "subject", "first_event_id", "event_type", "zone",
                   "severity", "status", "raised_at", "last_event_at", "event_count")  # fmt: skip


def _insert_raised(session: Session, raised: Sequence[Alert]) -> None:
    """Insert the alerts a batch raised (not added to the session) in one statement and give
    each its id. Through the table, not the unit of work: the ORM's flush of a batch's new
    alerts was the largest part of the alert engine's time under load (py-spy,
    bench/load.py); the batch's events that joined them are already counted in them."""
    if not raised:
        return
    ids = session.execute(
        insert(ALERTS).returning(ALERTS.c.id, sort_by_parameter_order=True),
        [{column: getattr(alert, column) for column in _RAISED_COLUMNS} for alert in raised],
    ).scalars()
    for alert, id_ in zip(raised, ids, strict=True):
        alert.id = id_


def _changed(
    alert: Alert, rule_name: str, change: str, by: str | None = None, count: int | None = None
) -> AlertChanged:
    """The notice of a change; ``count``: the alert's event count just after it, when the
    alert has gathered more of the batch's events since."""
    return AlertChanged(
        alert_id=alert.id,
        change=change,
        rule_name=rule_name,
        camera_id=alert.camera_id,
        event_type=alert.event_type,
        zone=alert.zone,
        severity=alert.severity,
        status=alert.status,
        raised_at=alert.raised_at,
        event_count=alert.event_count if count is None else count,
        by=by,
    )


class AlertService:
    """Rules management and the operator's alert workflow: open → acknowledged → closed."""

    def __init__(
        self, *, db: Database, audit: AuditLog, outbox: OutboxRelay, engine: AlertEngine
    ) -> None:
        self._db = db
        self._audit = audit
        self._outbox = outbox
        self._engine = engine

    def create_rule(self, *, rule: AlertRuleCreate, actor: Principal) -> AlertRuleRead:
        """Add a rule; names are unique."""
        actor.require(Permission.RULES_WRITE)
        with self._db.unit_of_work() as session:
            if session.scalar(select(AlertRule.id).where(AlertRule.name == rule.name)):
                raise ConflictError(f"a rule named {rule.name!r} exists")
            row = AlertRule(**rule.model_dump(mode="json"), created_by=actor.username)
            session.add(row)
            session.flush()
            result = AlertRuleRead.model_validate(row)
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="create",
                    resource_type="alert_rule",
                    resource_id=str(result.id),
                    details={"name": rule.name},
                ),
                session=session,
            )
        self._engine.invalidate()
        return result

    def set_rule_enabled(self, *, rule_id: int, enabled: bool, actor: Principal) -> AlertRuleRead:
        """Switch a rule on or off."""
        actor.require(Permission.RULES_WRITE)
        with self._db.unit_of_work() as session:
            row = session.get(AlertRule, rule_id)
            if row is None:
                raise NotFoundError(f"no rule {rule_id}")
            row.enabled = enabled
            session.flush()
            result = AlertRuleRead.model_validate(row)
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="enable" if enabled else "disable",
                    resource_type="alert_rule",
                    resource_id=str(rule_id),
                ),
                session=session,
            )
        self._engine.invalidate()
        return result

    def list_rules(self) -> list[AlertRuleRead]:
        """Every rule."""
        with self._db.reader() as session:
            return [
                AlertRuleRead.model_validate(r)
                for r in session.scalars(select(AlertRule).order_by(AlertRule.id))
            ]

    def list_alerts(
        self, *, actor: Principal, status: str | None = None, limit: int = 100
    ) -> list[AlertRead]:
        """Alerts, newest first, optionally of one status."""
        actor.require(Permission.ALERTS_READ)
        if status is not None and status not in {s.value for s in AlertStatus}:
            raise InvalidInputError(
                f"status must be one of {', '.join(s.value for s in AlertStatus)}"
            )
        query = (
            select(Alert, AlertRule.name)
            .join(AlertRule, AlertRule.id == Alert.rule_id)
            .where(CameraScope.of(actor).clause(Alert.camera_id))
            .order_by(Alert.raised_at.desc(), Alert.id.desc())
            .limit(min(max(limit, 1), 500))
        )
        if status:
            query = query.where(Alert.status == status)
        with self._db.reader() as session:
            return [_read(alert, name) for alert, name in session.execute(query)]

    def counts(self, *, scope: CameraScope = EVERYWHERE) -> dict[str, int]:
        """How many alerts of the cameras in ``scope`` there are in each status."""
        query = select(Alert.status, func.count()).where(scope.clause(Alert.camera_id))
        with self._db.reader() as session:
            rows = session.execute(query.group_by(Alert.status))
            return {status: int(n) for status, n in rows}

    async def acknowledge(self, *, alert_id: int, actor: Principal) -> AlertRead:
        """An operator takes the alert: open → acknowledged."""
        actor.require(Permission.ALERTS_HANDLE)
        return await self._transition(alert_id=alert_id, actor=actor, to=AlertStatus.ACKNOWLEDGED)

    async def close(self, *, alert_id: int, comment: str, actor: Principal) -> AlertRead:
        """An operator closes the alert with what was found or done."""
        actor.require(Permission.ALERTS_HANDLE)
        if len(comment.strip()) < 3:
            raise InvalidInputError("a closing comment is required")
        return await self._transition(
            alert_id=alert_id, actor=actor, to=AlertStatus.CLOSED, comment=comment.strip()
        )

    async def _transition(
        self, *, alert_id: int, actor: Principal, to: AlertStatus, comment: str | None = None
    ) -> AlertRead:
        result, change = await asyncio.to_thread(
            self._apply, alert_id=alert_id, actor=actor, to=to, comment=comment
        )
        await self._outbox.publish_now([change])
        return result

    def _apply(
        self, *, alert_id: int, actor: Principal, to: AlertStatus, comment: str | None
    ) -> tuple[AlertRead, AlertChanged]:
        now = utcnow()
        with self._db.unit_of_work() as session:
            # Row lock (PostgreSQL; SQLite's write lock is taken at BEGIN): two operators
            # acting at once are serialised and the second gets a clear conflict.
            row = session.execute(
                select(Alert, AlertRule.name)
                .join(AlertRule, AlertRule.id == Alert.rule_id)
                .where(Alert.id == alert_id, CameraScope.of(actor).clause(Alert.camera_id))
                .with_for_update(of=Alert)
            ).first()
            if row is None:
                raise NotFoundError(f"no alert {alert_id}")
            alert, rule_name = row
            if alert.status == AlertStatus.CLOSED.value:
                raise ConflictError(f"alert {alert_id} is already closed")
            if to is AlertStatus.ACKNOWLEDGED:
                if alert.status == AlertStatus.ACKNOWLEDGED.value:
                    raise ConflictError(
                        f"alert {alert_id} was already acknowledged by {alert.acknowledged_by}"
                    )
                alert.acknowledged_by, alert.acknowledged_at = actor.username, now
            else:
                if alert.acknowledged_at is None:
                    alert.acknowledged_by, alert.acknowledged_at = actor.username, now
                alert.closed_by, alert.closed_at, alert.close_comment = actor.username, now, comment
            alert.status = to.value
            session.flush()
            result = _read(alert, rule_name)
            change = _changed(alert, rule_name, to.value, by=actor.username)
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action=to.value,
                    resource_type="alert",
                    resource_id=str(alert_id),
                    details={"comment": comment} if comment else {},
                ),
                session=session,
            )
            self._outbox.add(session, [change])
        return result, change


def _read(alert: Alert, rule_name: str) -> AlertRead:
    result = AlertRead.model_validate(alert)
    return result.model_copy(update={"rule_name": rule_name})
