"""The language switch changes the console's text and is remembered for the user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from kupol.web.i18n import translate
from tests.e2e.conftest import LiveServer, login_api

pytestmark = pytest.mark.browser


def expect_language(page: Any, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#alerts-title")).to_have_text(translate(lang, "dashboard.alerts"))
    expect(page.locator('.mainnav a[data-page="map"]')).to_have_text(translate(lang, "nav.map"))
    expect(page.locator("#logout")).to_have_text(translate(lang, "nav.logout"))


def test_switching_ru_en_kk_changes_the_text_and_persists(
    new_context: Callable[..., Any], live_server: LiveServer
) -> None:
    username, password = live_server.add_user("operator", prefix="lang")
    context = new_context(live_server.url)
    login_api(context, username, password)
    page = context.new_page()
    page.goto("/")
    expect_language(page, "ru")

    page.click('button.lang[data-locale="en"]')
    expect_language(page, "en")
    page.reload()
    expect_language(page, "en")

    page.click('button.lang[data-locale="kk"]')
    expect_language(page, "kk")

    elsewhere = new_context(live_server.url)  # another browser: the choice is the user's
    login_api(elsewhere, username, password)
    later = elsewhere.new_page()
    later.goto("/")
    expect_language(later, "kk")
    later.goto("/map")
    expect(later.locator("#map-title")).to_have_text(translate("kk", "map.title"))
