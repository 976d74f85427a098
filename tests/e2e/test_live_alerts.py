"""An event that matches a rule shows up on an open dashboard as an alert, without a reload,
and the operator acknowledges and closes it from there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from kupol.alerts.model import Severity
from kupol.alerts.schemas import AlertRuleCreate
from kupol.core.auth.service import SYSTEM
from kupol.web.i18n import translate
from tests.e2e.conftest import LiveServer, login_ui

pytestmark = pytest.mark.browser
COMMENT = "Наряд на месте: витрина разбита, задержан один человек"


def test_an_alert_appears_live_and_is_acknowledged_and_closed(
    page: Any, live_server: LiveServer
) -> None:
    username, password = live_server.add_user("operator", prefix="duty")
    rule = f"Разбитое стекло ({username})"
    live_server.container.alerts.create_rule(
        rule=AlertRuleCreate(
            name=rule,
            severity=Severity.HIGH,
            event_types=["glass.break"],
            camera_ids=["ast-baiterek-02"],
        ),
        actor=SYSTEM,
    )
    login_ui(page, username, password)
    expect(page.locator('#live-status[data-live="on"]')).to_be_visible()
    closed_before = int(page.locator('[data-count="closed"]').inner_text())
    page.evaluate("window.sameDocument = true")

    headers = live_server.token(username, password)
    event = {
        "camera_id": "ast-baiterek-02",
        "type": "glass.break",
        "confidence": 0.9,
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    response = httpx.post(
        f"{live_server.url}/api/events", json={"events": [event]}, headers=headers
    )
    assert response.status_code == 202, response.text

    card = page.locator(".alert", has_text=rule)
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-severity", "high")
    expect(card).to_have_attribute("data-status", "open")
    expect(page.locator("#alerts .alert").first).to_contain_text(rule)  # newest first
    assert page.evaluate("window.sameDocument") is True  # no reload happened

    card.locator('[data-action="acknowledge"]').click()
    expect(card).to_have_attribute("data-status", "acknowledged")
    expect(card.locator('[data-field="status"]')).to_have_text(
        translate("ru", "status.acknowledged")
    )
    expect(card.locator('[data-field="by"]')).to_contain_text(username)
    expect(card.locator('[data-action="acknowledge"]')).to_be_hidden()

    card.locator('[data-action="close"]').click()
    dialog = page.locator("#close-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea").fill("ok")
    dialog.locator('[data-action="confirm-close"]').click()
    expect(dialog.locator('[data-field="error"]')).to_have_text(
        translate("ru", "alert.comment_too_short")
    )
    dialog.locator("textarea").fill(COMMENT)
    dialog.locator('[data-action="confirm-close"]').click()
    expect(dialog).to_be_hidden()
    expect(card).to_have_count(0)
    expect(page.locator('[data-count="closed"]')).to_have_text(str(closed_before + 1))

    closed = httpx.get(
        f"{live_server.url}/api/alerts", params={"status": "closed"}, headers=headers
    ).json()
    mine = next(a for a in closed if a["rule_name"] == rule)
    assert (mine["closed_by"], mine["close_comment"]) == (username, COMMENT)
    assert mine["acknowledged_by"] == username
