"""Public-order helpers and the open data of citizens' reports, on SQLite and PostgreSQL: a
citizen applies, is approved, takes a shift and checks in on the spot (not from elsewhere);
the situation centre plans and marks shifts, reads activity (audited) and awards recognition
once; the public statistics per region withhold small counts and name no one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.citizens.helpers_rules import ALMATY
from kupol.core.audit.model import AuditEntry
from kupol.core.messages import utcnow
from tests.integration.test_citizens import photo, report, sign_in
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
ABAI = {"lat": 43.2389, "lon": 76.8897}  # Almaty, Abai avenue


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_a_citizen_applies_is_approved_takes_a_shift_and_checks_in_on_the_spot(
    api: TestClient, container: Container
) -> None:
    operator = login_as(api, container, "oleg", "operator")
    why = {**operator, "X-Purpose": "planning the weekend patrols"}
    avenue = {"name": "Almaly — Abai avenue", **ABAI, "radius_m": 1500}
    area = ok(api.post("/api/helpers/areas", headers=operator, json=avenue), 201)
    assert area["region"] == "02"  # Almaty city, found from the centre
    assert api.post("/api/helpers/areas", headers=operator,
                    json={"name": "Almaly — Abai avenue", **ABAI, "radius_m": 1500}
                    ).status_code == 409  # fmt: skip

    aigerim = sign_in(api, container, "+77011234567")
    assert ok(api.get("/api/citizen/helper", headers=aigerim)) is None
    assert api.post("/api/citizen/helper", headers=aigerim,
                    json={"full_name": "Ai"}).status_code == 422  # fmt: skip
    applied = ok(api.post("/api/citizen/helper", headers=aigerim, json={
        "full_name": "Айгерим Садыкова", "motivation": "I live on Abai avenue",
        "home_area_id": area["id"]}), 201)  # fmt: skip
    assert applied["status"] == "applied" and applied["phone"] == "+7701***4567"
    start = utcnow() + timedelta(minutes=10)
    shift = {"area_id": area["id"], "start": start.isoformat(),
             "end": (start + timedelta(hours=4)).isoformat()}  # fmt: skip
    assert api.post("/api/citizen/helper/shifts", headers=aigerim, json=shift).status_code == 409

    # The situation centre sees the applicants under a purpose, and approves.
    assert api.get("/api/helpers", headers=operator).status_code == 428  # no purpose
    [listed] = ok(api.get("/api/helpers", headers=why, params={"status": "applied"}))
    assert listed["full_name"] == "Айгерим Садыкова" and listed["phone"] == "+7701***4567"
    assert api.get("/api/helpers", headers=aigerim).status_code == 403
    decide = f"/api/helpers/{listed['id']}/decision"
    assert api.post(decide, headers=operator, json={"decision": "decline"}).status_code == 422
    ok(api.post(decide, headers=operator, json={"decision": "approve"}))

    taken = ok(api.post("/api/citizen/helper/shifts", headers=aigerim, json=shift), 201)
    overlap = {**shift, "start": (start + timedelta(hours=2)).isoformat(),
               "end": (start + timedelta(hours=5)).isoformat()}  # fmt: skip
    refused = api.post("/api/citizen/helper/shifts", headers=aigerim, json=overlap)
    assert refused.status_code == 422 and "overlap" in refused.text
    too_long = {**shift, "end": (start + timedelta(hours=9)).isoformat()}
    assert api.post("/api/citizen/helper/shifts", headers=aigerim,
                    json=too_long).status_code == 422  # fmt: skip

    # Checking in from Astana does not count; from the avenue it does; then out.
    url = f"/api/citizen/helper/shifts/{taken['id']}"
    far = api.post(url + "/check-in", headers=aigerim, json={"lat": 51.1283, "lon": 71.4305})
    assert far.status_code == 409 and "km from" in far.text
    assert api.post(url + "/check-out", headers=aigerim, json=ABAI).status_code == 409
    ok(api.post(url + "/check-in", headers=aigerim, json={"lat": 43.2450, "lon": 76.8900}))
    assert api.post(url + "/check-in", headers=aigerim, json=ABAI).status_code == 409
    done = ok(api.post(url + "/check-out", headers=aigerim, json=ABAI))
    assert done["status"] == "attended" and done["checked_out"] is not None

    window = {"start": (start - timedelta(days=1)).isoformat(),
              "end": (start + timedelta(days=1)).isoformat()}  # fmt: skip
    [seen] = ok(api.get("/api/helpers/shifts", headers=why, params=window))
    assert seen["helper_name"] == "Айгерим Садыкова" and seen["status"] == "attended"
    month_of_start = start.astimezone(ALMATY).date().isoformat()  # shifts count by Almaty's
    [month] = ok(api.get("/api/helpers/activity", headers=why,
                         params={"month": month_of_start}))  # fmt: skip
    assert month["activity"]["attended"] == 1 and month["name"] == "Айгерим Садыкова"
    with container.db.reader() as session:
        looks = set(session.scalars(select(AuditEntry.resource_type).where(
            AuditEntry.purpose == "planning the weekend patrols")))  # fmt: skip
    assert {"public_helpers", "helper_shifts", "helper_activity"} <= looks

    # Suspended: the helper's future shifts are cancelled, and no new ones are taken.
    later = {**shift, "start": (start + timedelta(days=2)).isoformat(),
             "end": (start + timedelta(days=2, hours=4)).isoformat()}  # fmt: skip
    planned = ok(api.post("/api/citizen/helper/shifts", headers=aigerim, json=later), 201)
    ok(api.post(decide, headers=operator, json={"decision": "suspend", "note": "no badge worn"}))
    mine = ok(api.get("/api/citizen/helper", headers=aigerim))
    assert mine["status"] == "suspended"
    assert {s["id"]: s["status"] for s in mine["shifts"]}[planned["id"]] == "cancelled"
    assert api.post("/api/citizen/helper/shifts", headers=aigerim,
                    json=later).status_code == 409  # fmt: skip


def test_a_quarter_s_attended_hours_earn_a_thanks_letter_once(
    api: TestClient, container: Container
) -> None:
    operator = login_as(api, container, "oleg", "operator")
    area = ok(api.post("/api/helpers/areas", headers=operator,
                       json={"name": "Esil — Expo", "lat": 51.0891, "lon": 71.4150,
                             "radius_m": 800}), 201)  # fmt: skip
    boris = sign_in(api, container, "+77771234567")
    me = ok(api.post("/api/citizen/helper", headers=boris,
                     json={"full_name": "Борис Ким", "home_area_id": area["id"]}), 201)  # fmt: skip
    ok(api.post(f"/api/helpers/{me['id']}/decision", headers=operator,
                json={"decision": "approve"}))  # fmt: skip
    # Six shifts of four hours in the third quarter, a week apart, seen on duty (24 h).
    first = datetime(2026, 7, 6, 5, tzinfo=UTC)  # 10:00 in Astana
    for week in range(6):
        start = first + timedelta(weeks=week)
        body = {"area_id": area["id"], "start": start.isoformat(),
                "end": (start + timedelta(hours=4)).isoformat()}  # fmt: skip
        planned = ok(api.post(f"/api/helpers/{me['id']}/shifts", headers=operator, json=body), 201)
        status = "no_show" if week == 5 else "attended"
        ok(api.post(f"/api/helpers/shifts/{planned['id']}/mark", headers=operator,
                    json={"status": status}))  # fmt: skip
    on = {"on": "2026-10-05"}
    awarded = ok(api.post("/api/helpers/recognitions", headers=operator, json=on))
    assert [(a["level"], a["period"], a["hours"]) for a in awarded] == [
        ("thanks_letter", "2026-Q3", 20.0)
    ]
    assert awarded[0]["reliability"] == pytest.approx(5 / 6)
    assert ok(api.post("/api/helpers/recognitions", headers=operator, json=on)) == []
    [mine] = ok(api.get("/api/citizen/helper", headers=boris))["recognitions"]
    assert mine["level"] == "thanks_letter" and mine["period"] == "2026-Q3"


def test_the_public_statistics_per_region_withhold_small_counts_and_name_no_one(
    api: TestClient, container: Container
) -> None:
    anna = sign_in(api, container, "+77011234567")
    at = (utcnow() - timedelta(hours=2)).isoformat()
    for n in range(6):  # six in Almaty
        ok(report(api, anna, photo(80 + n), occurred_at=at, lat="43.2389", lon="76.8897",
                  description=f"Parked on the crossing, Abai avenue {n}"), 201)  # fmt: skip
    for n in range(2):  # two in Astana: too few to publish
        ok(report(api, anna, photo(90 + n), occurred_at=at), 201)
    for n in range(5):  # five in Shymkent: withheld too, or Astana's two = country − the rest
        ok(report(api, anna, photo(95 + n), occurred_at=at, lat="42.3417", lon="69.5901"), 201)
    year = str(utcnow().astimezone(ALMATY).year)  # counted by the Almaty date
    got = ok(api.get("/api/public/citizen-statistics", params={"period": year}))
    regions = {r["region"]: r for r in got["reports"]["regions"]}
    almaty = regions["02"]["kinds"]["traffic_violation"]
    assert almaty["received"] == {"value": 6, "suppressed": False}
    assert almaty["waiting"]["value"] == 6
    assert regions["01"]["total"]["received"] == {"value": None, "suppressed": True}
    assert regions["17"]["total"]["received"] == {"value": None, "suppressed": True}
    assert got["reports"]["country"]["total"]["received"]["value"] == 13
    text = str(got)
    assert "Abai avenue" not in text and "7701" not in text  # nothing about anyone
    csv = api.get("/api/public/citizen-statistics.csv", params={"period": year})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("start,end,region,kind")
    assert api.get("/api/public/citizen-statistics",
                   params={"period": "last year"}).status_code == 422  # fmt: skip
