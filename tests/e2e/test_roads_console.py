"""The road-safety page, end to end as the issue's "done when" puts it: a new analyst imports
the Edinburgh records and a synthetic Kazakhstan year in the browser, sees regional rates,
hot areas on the map and an Empirical Bayes evaluation, and downloads the PDF report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kupol.roads.regions import load_regions
from kupol.roads.synthetic import synthetic_year
from kupol.web.i18n import translate
from tests.conftest import need_data
from tests.e2e.conftest import LiveServer, login_api, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def roads_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-roads"), prepare=None)
    yield server
    server.stop()


def test_an_analyst_imports_sees_rates_hotspots_an_evaluation_and_gets_the_report(
    new_context: Callable[..., Any], roads_server: LiveServer, tmp_path: Path
) -> None:
    edinburgh = need_data("accidents", "edinburgh", "2010")
    synthetic = tmp_path / "kz-2025.csv"
    synthetic.write_bytes(synthetic_year(load_regions(), accidents=3000, seed=3))
    analyst, password = roads_server.add_user("analyst", prefix="ana")
    context = new_context(roads_server.url)
    login_api(context, analyst, password)
    page = context.new_page()
    page.goto("/roads")
    expect(page.locator('.mainnav a[data-page="traffic"]')).to_have_class("active")
    expect(page.locator("#roads-empty")).to_be_visible()

    form = page.locator("#import-form")
    form.locator("input[name=file]").set_input_files(str(edinburgh / "accident.csv"))
    form.locator("input[name=related]").set_input_files(str(edinburgh / "casualty.csv"))
    form.locator("select[name=mapping]").select_option("edinburgh")
    form.locator("button[type=submit]").click()
    expect(page.locator("#import-result")).to_contain_text("1176")
    for year, rows in (("2011", "1180"), ("2012", "1163")):
        folder = edinburgh.parent / year
        form.locator("input[name=file]").set_input_files(str(folder / "accident.csv"))
        form.locator("input[name=related]").set_input_files(str(folder / "casualty.csv"))
        form.locator("button[type=submit]").click()
        expect(page.locator("#import-result")).to_contain_text(rows)
    form.locator("input[name=file]").set_input_files(str(synthetic))
    form.locator("input[name=related]").set_input_files([])
    form.locator("select[name=mapping]").select_option("kz-synthetic")
    form.locator("button[type=submit]").click()
    expect(page.locator("#import-result")).to_contain_text("3000")

    # Kazakhstan's regions, ranked by deaths per 100,000 with their intervals.
    page.locator("#source").select_option("kz-synthetic")
    page.locator("#roads-filter select[name=measure]").select_option("killed")
    page.locator("#roads-filter button[type=submit]").click()
    ranking = page.locator("#ranking-table tbody tr")
    expect(ranking).to_have_count(20)
    expect(page.locator("#ranking-statement")).to_contain_text("per 100,000")
    expect(page.locator("#hotspot-map polygon").first).to_be_visible()

    # Edinburgh: hot areas on the map, and a measure evaluated at two city-centre sites.
    page.locator("#source").select_option("edinburgh")
    page.locator("#roads-filter select[name=measure]").select_option("accidents")
    page.locator("#roads-filter button[type=submit]").click()
    expect(page.locator("#trend-bars .bar")).to_have_count(3)  # 2010, 2011, 2012: whole years
    expect(page.locator("#hotspots-table tbody tr").first).to_be_visible()
    assert page.locator("#hotspot-map polygon").count() > 5
    page.locator("#hotspots-table tbody tr").first.click()
    expect(page.locator("#hotspot-accidents tbody tr").first).to_be_visible()
    expect(page.locator("#hotspot-accidents-title")).to_contain_text("1")
    # Link suggestions: an analyst may see no violations, incidents or clips, and is told so.
    page.locator("#hotspot-accidents tbody tr").first.locator("button").click()
    expect(page.locator("#hotspot-accidents .candidates").first).to_contain_text(
        translate("ru", "roads.no_candidates")
    )
    page.locator("#advice-form select[name=measure]").select_option("smart_crosswalk")
    page.locator("#advice-form button[type=submit]").click()
    expect(page.locator("#advice-table tbody tr").first).to_be_visible()
    expect(page.locator("#advice-statement")).to_contain_text("planning assumption")
    evaluation = page.locator("#evaluation-form")
    evaluation.locator("textarea[name=treated]").fill("55.9533, -3.1883\n55.9500, -3.1900")
    others = "\n".join(f"{55.93 + 0.004 * i:.4f}, {-3.25 + 0.01 * i:.4f}" for i in range(12))
    evaluation.locator("textarea[name=comparison]").fill(others)
    evaluation.locator("input[name=installed_on]").fill("2011-07-01")
    evaluation.locator("input[name=years]").fill("1")
    evaluation.locator("input[name=radius_m]").fill("300")
    evaluation.locator("button[type=submit]").click()
    verdicts = page.locator("#evaluation-verdicts li")
    expect(verdicts).to_have_count(3)
    expect(page.locator('#evaluation-verdicts li[data-method="Empirical Bayes"]')).to_contain_text(
        "Empirical Bayes"
    )
    # Kept under a name, and evaluated again from the list.
    page.locator("#keep-name").fill("Два перехода в центре")
    page.locator("#keep").click()
    expect(page.locator("#kept option")).to_have_count(1)
    page.locator("#evaluation-verdicts").evaluate("node => node.replaceChildren()")
    page.locator("#evaluate-kept").click()
    expect(verdicts).to_have_count(3)
    evaluation.locator("textarea[name=treated]").fill("north of here")
    evaluation.locator("button[type=submit]").click()
    expect(page.locator("#evaluation-error")).to_contain_text("north of here")

    pdf = page.request.get(page.locator("#report-pdf").get_attribute("href") or "")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    assert "source=edinburgh" in (page.locator("#report-pdf").get_attribute("href") or "")
    assert translate("ru", "roads.title") in page.title()
