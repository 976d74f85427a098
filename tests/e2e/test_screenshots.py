"""The main pages look as approved, in every language: login, dashboard, map, search, audit.

Each language gets a fresh server with the fixed seed, so the pages hold the same data on
every run; the clock and the audit log's write times are masked. Regenerate the baselines
with KUPOL_UPDATE_SCREENSHOTS=1 after an intended change, and look at them before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import seed
from tests.e2e.conftest import expect_images_loaded, login_api, start_server
from tests.e2e.screenshots import Comparison, compare

pytestmark = pytest.mark.browser
VOLATILE = "#clock, #audit-table time"


def shoot(page: Any, name: str) -> Comparison:
    """Screenshot the viewport (animations stopped, volatile parts masked) and compare it."""
    png = page.screenshot(
        animations="disabled", caret="hide", scale="css", mask=[page.locator(VOLATILE)]
    )
    return compare(name, png)


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
def test_main_pages_match_their_baselines(
    locale: str,
    sqlite_template: Path,
    tmp_path: Path,
    new_context: Callable[..., Any],
    chromium_path: str,
) -> None:
    server = start_server(sqlite_template, tmp_path / "server")
    try:
        for user in seed.USERS:
            server.set_locale(user.username, locale)
        investigator = server.token(seed.INVESTIGATOR.username, seed.INVESTIGATOR.password)
        found = httpx.get(
            f"{server.url}/api/events",
            params={"camera_id": "ala-abai-01"},
            headers={
                **investigator,
                "X-Purpose": "alert-12-follow-up",
                "X-Case-Number": "ERDR-261500-0042",
            },
        )
        assert found.status_code == 200, found.text
        results: list[Comparison] = []

        operator = new_context(server.url)
        page = operator.new_page()
        page.goto(f"/login?lang={locale}")
        results.append(shoot(page, f"login-{locale}"))

        login_api(operator, seed.OPERATOR.username, seed.OPERATOR.password)
        page.goto("/")
        page.locator('#live-status[data-live="on"]').wait_for()
        ticker = httpx.post(
            f"{server.url}/api/events",
            json=seed.ticker_batch(),
            headers=server.token(seed.OPERATOR.username, seed.OPERATOR.password),
        )
        assert ticker.status_code == 202, ticker.text
        page.locator("#ticker .tick").nth(len(seed.TICKER) - 1).wait_for()
        results.append(shoot(page, f"dashboard-{locale}"))

        page.goto("/map")
        page.locator('#live-status[data-live="on"]').wait_for()
        page.click('.marker[data-camera-id="ala-abai-01"]')
        page.mouse.move(1300, 740)
        page.locator('#camera-details [data-field="card"]').wait_for()
        results.append(shoot(page, f"map-{locale}"))

        auditor = new_context(server.url)
        login_api(auditor, seed.AUDITOR.username, seed.AUDITOR.password)
        audit_page = auditor.new_page()
        audit_page.goto("/audit")
        audit_page.locator("#audit-table tbody tr").first.wait_for()
        results.append(shoot(audit_page, f"audit-{locale}"))

        # After the audit page: snapshots load in parallel, so their audit order varies.
        page.goto("/search")
        page.fill("#purpose", "alert-12-follow-up")
        page.click("#search-form button[type=submit]")
        page.locator("#results-table tbody tr").first.wait_for()
        expect_images_loaded(page.locator("#results img"))
        results.append(shoot(page, f"search-{locale}"))
    finally:
        server.stop()
    failed = [f"{r.name}: {r.message}" for r in results if not r.ok]
    assert not failed, "screenshots differ from their baselines:\n" + "\n".join(failed)
