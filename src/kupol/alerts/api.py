"""Alert and rule endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from kupol.alerts.schemas import AlertClose, AlertRead, AlertRuleCreate, AlertRuleRead
from kupol.api.deps import ContainerDep, CurrentUser, require
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope

router = APIRouter(prefix="/api", tags=["alerts"])
RuleWriter = Annotated[Principal, Depends(require(Permission.RULES_WRITE))]
AlertReader = Annotated[Principal, Depends(require(Permission.ALERTS_READ))]


@router.get("/alerts", response_model=list[AlertRead])
def list_alerts(
    container: ContainerDep,
    user: CurrentUser,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AlertRead]:
    """Alerts of the cameras in the user's scope, newest first."""
    return container.alerts.list_alerts(actor=user, status=status, limit=limit)


@router.get("/alerts/counts")
def alert_counts(container: ContainerDep, user: AlertReader) -> dict[str, int]:
    """How many alerts of the user's cameras are open, acknowledged and closed."""
    counts = container.alerts.counts(scope=CameraScope.of(user))
    return {status: counts.get(status, 0) for status in ("open", "acknowledged", "closed")}


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead)
async def acknowledge_alert(alert_id: int, container: ContainerDep, user: CurrentUser) -> AlertRead:
    """Take an open alert."""
    return await container.alerts.acknowledge(alert_id=alert_id, actor=user)


@router.post("/alerts/{alert_id}/close", response_model=AlertRead)
async def close_alert(
    alert_id: int, body: AlertClose, container: ContainerDep, user: CurrentUser
) -> AlertRead:
    """Close an alert with what was found or done."""
    return await container.alerts.close(alert_id=alert_id, comment=body.comment, actor=user)


@router.get("/rules", response_model=list[AlertRuleRead])
def list_rules(container: ContainerDep, _: AlertReader) -> list[AlertRuleRead]:
    """Every alert rule."""
    return container.alerts.list_rules()


@router.post("/rules", response_model=AlertRuleRead, status_code=status.HTTP_201_CREATED)
def create_rule(rule: AlertRuleCreate, container: ContainerDep, user: RuleWriter) -> AlertRuleRead:
    """Add an alert rule."""
    return container.alerts.create_rule(rule=rule, actor=user)


@router.post("/rules/{rule_id}/enable", response_model=AlertRuleRead)
def enable_rule(rule_id: int, container: ContainerDep, user: RuleWriter) -> AlertRuleRead:
    """Switch a rule on."""
    return container.alerts.set_rule_enabled(rule_id=rule_id, enabled=True, actor=user)


@router.post("/rules/{rule_id}/disable", response_model=AlertRuleRead)
def disable_rule(rule_id: int, container: ContainerDep, user: RuleWriter) -> AlertRuleRead:
    """Switch a rule off."""
    return container.alerts.set_rule_enabled(rule_id=rule_id, enabled=False, actor=user)
