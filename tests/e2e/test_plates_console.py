"""The plates console: a plate search will not go without a purpose and is audited, a
vehicle's route is drawn leg by leg with travel times and the impossible leg in red and can be
exported to the evidence vault under a case, and a traffic officer builds a hotlist from a CSV
whose bad rows come back by line.

With KUPOL_UPDATE_SCREENSHOTS=1 the tests also write the documentation's pictures
(docs/img/plates-*.png), as the screenshot baselines are regenerated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect

from kupol.bootstrap import Container
from kupol.core.auth.service import SYSTEM
from kupol.plates.messages import PlateObserved
from kupol.plates.render import PlateStyle, available_fonts, render_plate
from kupol.web.i18n import translate
from tests.e2e import seed
from tests.e2e.conftest import LiveServer, login_api, start_server
from tests.e2e.screenshots import updating
from tests.unit.factories import audit_of

pytestmark = pytest.mark.browser
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PURPOSE = "Ориентировка на угнанный автомобиль, КУИ №4512"
START = seed.at("08:00:00")
# plate, camera, minutes after START, confidence, direction
READS = [
    ("123ABC01", "ast-kabanbay-01", 0, 0.97, "north"),
    ("123ABC01", "ast-baiterek-02", 14, 0.93, "east"),
    ("123ABC01", "kar-drone-01", 41, 0.88, None),  # 190 km in 27 minutes: not one car
    ("123ABC01", "ast-kabanbay-01", 185, 0.95, "south"),
    ("123ABD01", "shy-tauke-01", 30, 0.71, "in"),
    ("124ABC01", "ala-abai-01", 50, 0.90, "out"),
    ("777KKK17", "shy-tauke-01", 55, 0.92, "in"),
]
CSV = (
    "plate,reason,reference,expires_at\n"
    "123 АВС 01,Угон 2026-01-14,КУИ-4512,\n"
    "#!,ошибка,,\n"
    "555XYZ02,,,\n"
    "777KKK17,Неоплаченные штрафы (3),,2030-12-31T00:00+05:00\n"
    "999AAA05,Розыск по делу 261500-0042,ЕРДР-42,2030-01-01T00:00+05:00\n"
)


CROPPED = (0, 1)
"""The reads that come with their evidence crop (a rendered plate): the route's first two stops."""


def prepare(container: Container) -> None:
    """The seed's cameras and the plate reads above, the first two with their crops."""
    for camera in seed.CAMERAS:
        container.cameras.register(camera=camera, actor=SYSTEM)
    reads = []
    for i, (plate, camera, minutes, confidence, direction) in enumerate(READS):
        at = START + timedelta(minutes=minutes)
        crop = None
        if i in CROPPED:
            drawn = render_plate(
                plate, style=PlateStyle.KZ_INDIVIDUAL, rng=np.random.default_rng(i),
                font=available_fonts(),
            )  # fmt: skip
            crop = container.plate_domain.files.save_crop(drawn.image, camera_id=camera, at=at)
        read = PlateObserved(
            id=seed.event_id(f"plate-{i}"), camera_id=camera, plate=plate, seen_at=at,
            confidence=confidence, direction=direction,
            crop_uri=crop.uri if crop else None, crop_sha256=crop.sha256 if crop else None,
        )  # fmt: skip
        reads.append(read)
    container.plate_store.record(reads)


@pytest.fixture(scope="module")
def plates_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-plates"), prepare=prepare)
    yield server
    server.stop()


def document(page: Any, name: str) -> None:
    """Write a documentation picture when the screenshots are being regenerated."""
    if updating():
        page.mouse.move(1360, 760)
        page.locator("#toasts").evaluate("box => box.replaceChildren()")
        page.screenshot(
            path=str(DOCS_IMG / f"{name}.png"),
            full_page=True,
            animations="disabled",
            caret="hide",
        )


def test_a_plate_search_needs_a_purpose_is_audited_and_links_to_the_route(
    new_context: Callable[..., Any], plates_server: LiveServer
) -> None:
    username, password = plates_server.add_user("operator", prefix="duty")
    context = new_context(plates_server.url)
    login_api(context, username, password)
    page = context.new_page()
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/api/plates/" in r.url else None)
    page.goto("/plates/search")
    expect(page.locator('.mainnav a[data-page="plates"]')).to_have_class("active")
    expect(page.locator(".subnav a")).to_have_text(
        [translate("ru", k) for k in ("nav.plate_search", "nav.plate_route", "nav.hotlists")]
    )

    page.fill("#plate", "12?AB?01")
    page.select_option("#plate-match", "wildcard")
    page.click("#plate-search-form button[type=submit]")
    expect(page.locator("#plate-search-error")).to_have_text(
        translate("ru", "error.purpose_required")
    )
    expect(page.locator("#plate-purpose")).to_be_focused()
    assert searches == []  # the page did not send it

    page.fill("#plate-purpose", PURPOSE)
    page.fill("input[name=case]", "КУИ-4512")
    page.click("#plate-search-form button[type=submit]")
    rows = page.locator("#plate-results-table tbody tr")
    expect(rows).to_have_count(6)  # 123ABC01 four times, 123ABD01, 124ABC01
    expect(page.locator("#plate-results-summary")).to_have_text(
        translate("ru", "search.results", count=6)
    )
    expect(rows.first.locator(".plate-text")).to_have_text("123ABC01")  # newest first
    expect(rows.first).to_contain_text("south")
    registered = translate("ru", "platekind.kz_individual") + " · Астана"  # region 01
    expect(rows.first.locator("td").nth(3)).to_have_text(registered)
    expect(page.locator("#plate-results-table")).not_to_contain_text("777KKK17")
    entries = [
        e for e in audit_of(plates_server.container, "plate_sighting") if e.actor == username
    ]
    [entry] = [e for e in entries if e.action == "search"]
    assert (entry.purpose, entry.case_number) == (PURPOSE, "КУИ-4512")
    assert len(entry.details["returned"]) == 6
    document(page, "plates-search")

    rows.first.locator("a").click()
    expect(page).to_have_url(re.compile(r"/plates/route\?plate=123ABC01&since="))
    expect(page.locator("#route-plate")).to_have_value("123ABC01")
    expect(page.locator("#route-purpose")).to_be_focused()  # the purpose is asked again


def test_a_route_is_drawn_leg_by_leg_and_the_impossible_leg_is_red(
    new_context: Callable[..., Any], plates_server: LiveServer
) -> None:
    username, password = plates_server.add_user("investigator", prefix="inv")
    context = new_context(plates_server.url)
    login_api(context, username, password)
    page = context.new_page()
    window = f"since={START.isoformat()}&until={(START + timedelta(hours=6)).isoformat()}"
    page.goto(f"/plates/route?plate=123ABC01&{window.replace('+', '%2B')}")
    page.click("#plate-route-form button[type=submit]")
    expect(page.locator("#plate-route-error")).to_have_text(
        translate("ru", "error.purpose_required")
    )
    page.fill("#route-purpose", PURPOSE)
    page.click("#plate-route-form button[type=submit]")

    stops = page.locator("#route-list .sighting")
    expect(stops).to_have_count(4)
    expect(stops.locator(".stop-no")).to_have_text(["1", "2", "3", "4"])  # oldest first
    expect(stops.nth(2)).to_contain_text("kar-drone-01")
    legs = page.locator("#route-list .leg")
    expect(legs).to_have_count(3)
    expect(legs.nth(0)).to_contain_text(translate("ru", "plateroute.minutes", minutes=14))
    expect(legs.nth(1)).to_have_class("leg leg-suspicious")
    expect(legs.nth(1)).to_contain_text(translate("ru", "plateroute.leg_impossible"))
    expect(legs.nth(2)).to_contain_text(translate("ru", "plateroute.hours", hours=2, minutes=24))
    expect(page.locator("#route-clones")).to_have_text(
        translate("ru", "plateroute.clones", count=1)
    )
    expect(page.locator("#route-summary")).to_have_text(
        translate("ru", "plateroute.summary", plate="123ABC01", count=4, cameras=3)
    )

    expect(page.locator("#route-map .route-leg.suspicious")).to_have_count(1)
    expect(page.locator('#route-map .route-leg.suspicious[data-leg="2"]')).to_have_count(1)
    expect(page.locator("#route-map .leg-label.suspicious")).to_have_text(
        translate("ru", "plateroute.minutes", minutes=27)
    )
    # Stops 1 and 4 were at one camera: one marker carries both numbers and both times.
    marker = page.locator('#route-map .stop[data-cameras~="ast-kabanbay-01"]')
    expect(marker.locator("text").first).to_contain_text("1")
    expect(marker.locator("text").first).to_contain_text("4")
    expect(page.locator('#route-map .stop[data-cameras~="kar-drone-01"] text').first).to_have_text(
        "3"
    )
    # The first two stops show their evidence crops, opened under the route's purpose.
    crops = stops.locator("img.plate-crop")
    expect(crops).to_have_count(len(CROPPED))
    for n in CROPPED:
        expect(stops.nth(n).locator("img.plate-crop")).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=crops.nth(n).element_handle()
        )
    entries = [
        e for e in audit_of(plates_server.container, "plate_sighting") if e.actor == username
    ]
    [entry] = [e for e in entries if e.action == "route"]
    assert (entry.resource_id, entry.purpose) == ("123ABC01", PURPOSE)
    views = [e for e in entries if e.action == "view"]
    assert len(views) == len(CROPPED) and {e.purpose for e in views} == {PURPOSE}
    document(page, "plates-route")


def test_a_traffic_officer_builds_a_hotlist_from_csv_and_sees_the_refused_rows(
    new_context: Callable[..., Any], plates_server: LiveServer
) -> None:
    container = plates_server.container
    username, password = plates_server.add_user("traffic_officer", prefix="gai")
    context = new_context(plates_server.url)
    login_api(context, username, password)
    page = context.new_page()
    page.goto("/plates/hotlists")
    expect(page.locator("#no-hotlists")).to_be_visible()

    list_name = f"Угон и розыск ТС ({username})"
    page.click("#new-hotlist")
    dialog = page.locator("#hotlist-dialog")
    dialog.locator("input[name=name]").fill(list_name)
    dialog.locator("select[name=kind]").select_option("stolen")
    dialog.locator("input[name=fuzzy]").check()
    dialog.locator('[data-action="create"]').click()
    expect(dialog).to_be_hidden()
    selected = page.locator("#hotlists-table tr.selected")
    expect(selected).to_contain_text(list_name)
    expect(selected).to_contain_text(translate("ru", "hotlists.active_fuzzy"))
    expect(page.locator("#entries-locked")).to_be_visible()  # no plates before a purpose

    page.locator("#import-file").set_input_files(
        {"name": "ugon.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    report = page.locator("#import-report")
    expect(report.locator('[data-field="summary"]')).to_have_text(
        translate("ru", "hotlists.imported", added=3, updated=0, rejected=2)
    )
    refused = report.locator('[data-field="rejected"] tr')
    expect(refused).to_have_count(2)
    expect(refused.nth(0).locator("td")).to_have_text(
        ["3", translate("ru", "hotlists.refused_plate", value="#!")]
    )
    expect(refused.nth(1).locator("td")).to_have_text(
        ["4", translate("ru", "hotlists.refused_reason")]
    )
    expect(selected.locator("td.num")).to_have_text("3")

    page.fill("#purpose", PURPOSE)
    page.click("#purpose-form button[type=submit]")
    entries = page.locator("#entries-table tbody tr")
    expect(entries.locator(".plate-text")).to_have_text(["123ABC01", "777KKK17", "999AAA05"])
    expect(page.locator('#entries-filter [data-field="count"]')).to_have_text(
        translate("ru", "hotlists.count", shown=3, total=3)
    )

    page.click("#add-entry")
    dialog = page.locator("#entry-dialog")
    dialog.locator("input[name=plate]").fill("321 КХА 02")
    dialog.locator("textarea[name=reason]").fill("Угон 2026-01-15, ориентировка №17")
    dialog.locator('[data-action="add"]').click()
    expect(dialog).to_be_hidden()
    expect(entries.locator(".plate-text")).to_have_text(
        ["123ABC01", "321KXA02", "777KKK17", "999AAA05"]
    )
    document(page, "plates-hotlists")

    entries.filter(has_text="777KKK17").locator('[data-action="remove"]').click()
    dialog = page.locator("#remove-entry-dialog")
    dialog.locator("textarea[name=reason]").fill("Штрафы оплачены 15.01")
    dialog.locator('[data-action="confirm-remove"]').click()
    expect(dialog).to_be_hidden()
    expect(entries.locator(".plate-text")).to_have_text(["123ABC01", "321KXA02", "999AAA05"])

    # The registry's next export replaces the list: the plate it no longer holds comes off.
    page.check("#import-replace")
    export = "plate,reason\n123ABC01,Угон 2026-01-14\n321KXA02,Угон 2026-01-15\n"
    page.locator("#import-file").set_input_files(
        {"name": "reestr.csv", "mimeType": "text/csv", "buffer": export.encode()}
    )
    expect(report.locator('[data-field="summary"]')).to_have_text(
        translate("ru", "hotlists.imported", added=0, updated=2, rejected=0)
        + " "
        + translate("ru", "hotlists.imported_removed", removed=1)
    )
    expect(entries.locator(".plate-text")).to_have_text(["123ABC01", "321KXA02"])

    page.click("#toggle-active")
    expect(selected).to_contain_text(translate("ru", "hotlists.inactive"))
    views = [e for e in audit_of(container, "hotlist_entries") if e.actor == username]
    assert views and all(e.purpose == PURPOSE for e in views)
    changes = [e.action for e in audit_of(container, "hotlist_entry") if e.actor == username]
    assert changes == ["add", "remove"]


def test_an_investigator_exports_the_route_shown_to_the_evidence_vault(
    new_context: Callable[..., Any], plates_server: LiveServer
) -> None:
    container = plates_server.container
    username, password = plates_server.add_user("investigator", prefix="case")
    context = new_context(plates_server.url)
    login_api(context, username, password)
    page = context.new_page()
    window = f"since={START.isoformat()}&until={(START + timedelta(hours=6)).isoformat()}"
    page.goto(f"/plates/route?plate=123ABC01&{window.replace('+', '%2B')}")
    export = page.locator("#route-export")
    expect(export).to_be_hidden()  # nothing to export before a route is shown
    page.fill("#route-purpose", PURPOSE)
    page.fill("input[name=case]", "КУИ-4512")
    page.click("#plate-route-form button[type=submit]")
    expect(page.locator("#route-list .sighting")).to_have_count(4)
    expect(export).to_be_visible()
    expect(page.locator("#route-export-case")).to_have_value("КУИ-4512")  # the form's case

    page.fill("#route-export-case", "")
    export.locator("button[type=submit]").click()
    expect(page.locator("#route-export-error")).to_have_text(
        translate("ru", "plateroute.case_required")
    )
    page.fill("#route-export-case", "ЕРДР-261500-0042")
    export.locator("button[type=submit]").click()
    result = page.locator("#route-export-result")
    expect(result).to_be_visible()
    expect(page.locator("#route-export-error")).to_be_hidden()
    [record] = [e for e in audit_of(container, "vehicle_route") if e.actor == username]
    assert (record.action, record.resource_id, record.purpose) == ("export", "123ABC01", PURPOSE)
    assert record.details["sightings"] == 4 and record.details["possible_clones"] == 1
    item, sha256 = record.details["evidence_item"], record.details["sha256"]
    stored = translate(
        "ru",
        "plateroute.exported",
        case="ЕРДР-261500-0042",
        item=item,
        sha256=sha256,
        crops=len(CROPPED),
    )
    expect(result).to_have_text(stored)
