"""The plate sightings store, search and routes on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import Justification
from kupol.core.auth.service import SYSTEM
from kupol.core.errors import InvalidInputError, PermissionDeniedError
from kupol.plates.messages import PlateObserved
from kupol.plates.queries import Match, PlateFilter, PlateQueries
from kupol.plates.store import PlateStore
from tests.conftest import add_user

T = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WHY = Justification(purpose="stolen car report 2026-55")
CAMERAS = {  # id: (lat, lon)
    "ast-1": (51.1283, 71.4305),
    "ast-2": (51.1600, 71.4700),
    "kar-1": (49.8047, 73.1094),
}


@pytest.fixture
def plates(container: Container) -> tuple[PlateStore, PlateQueries]:
    for camera_id, (lat, lon) in CAMERAS.items():
        container.cameras.register(
            camera=CameraCreate(id=camera_id, name=camera_id, latitude=lat, longitude=lon),
            actor=SYSTEM,
        )
    return container.plate_store, container.plates


def read(plate: str, camera: str, minutes: float, confidence: float = 0.9) -> PlateObserved:
    return PlateObserved(
        camera_id=camera, plate=plate, seen_at=T + timedelta(minutes=minutes), confidence=confidence
    )


def test_reads_are_stored_normalised_once_and_bad_ones_refused(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, queries = plates
    first = read("123 авс 02", "ast-1", 0)
    stats = store.record([first, read("#!", "ast-1", 1), read("777KKK17", "nowhere", 2)])
    assert (stats.stored, stats.refused) == (1, 2)
    assert store.record([first]).duplicates == 1
    officer = add_user(container, "officer", "traffic_officer")[0]
    [found] = queries.search(filters=PlateFilter(plate="123ABC02"), actor=officer, why=WHY)
    assert (found.plate, found.camera_id) == ("123ABC02", "ast-1")


def test_search_by_exact_wildcard_and_one_character(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, queries = plates
    store.record(
        [
            read("123ABC02", "ast-1", 0),
            read("123ABD02", "ast-1", 1),
            read("124ABC02", "ast-2", 2),
            read("777KKK17", "ast-2", 3),
            read("23ABC02", "ast-2", 4),
        ]
    )
    officer = add_user(container, "officer", "operator")[0]

    def plates_found(plate: str, match: Match, **extra: object) -> list[str]:
        found = queries.search(
            filters=PlateFilter(plate=plate, match=match, **extra),  # type: ignore[arg-type]
            actor=officer,
            why=WHY,
        )
        return sorted(s.plate for s in found)

    assert plates_found("123ABC02", Match.EXACT) == ["123ABC02"]
    assert plates_found("12?AB?02", Match.WILDCARD) == ["123ABC02", "123ABD02", "124ABC02"]
    assert plates_found("*KKK17", Match.WILDCARD) == ["777KKK17"]
    assert plates_found("123ABC02", Match.FUZZY) == [
        "123ABC02",
        "123ABD02",
        "124ABC02",
        "23ABC02",
    ]
    assert plates_found("12?AB?02", Match.WILDCARD, camera_id="ast-2") == ["124ABC02"]
    with pytest.raises(InvalidInputError):
        plates_found("??", Match.WILDCARD, limit=0)


def test_sightings_at_one_moment_come_newest_id_first_whatever_their_place_on_disk(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    """A search cut at its limit among sightings of one time returns the same ones each time:
    the newest ids (PostgreSQL would otherwise give them in the order they lie on disk)."""
    store, queries = plates
    store.record([read("123ABC02", camera, 0) for camera in CAMERAS])
    store.record([read("123ABD02", "ast-1", 0), read("123ABD02", "ast-2", 0)])
    with container.db.engine.begin() as conn:
        ids = list(conn.scalars(text("select id from plate_sightings order by id")))
        # The oldest row rewritten with a smaller id: on PostgreSQL it now lies last on disk.
        conn.execute(text("update plate_sightings set id = -id where id = :id"), {"id": ids[0]})
    officer = add_user(container, "officer", "operator")[0]

    def found(plate: str, match: Match, limit: int) -> list[int]:
        filters = PlateFilter(plate=plate, match=match, limit=limit)
        return [s.id for s in queries.search(filters=filters, actor=officer, why=WHY)]

    assert found("123ABC02", Match.EXACT, 2) == [ids[2], ids[1]]
    assert found("123ABC02", Match.EXACT, 5) == [ids[2], ids[1], -ids[0]]
    assert found("123AB?02", Match.WILDCARD, 4) == [ids[4], ids[3], ids[2], ids[1]]
    assert found("123ABC02", Match.FUZZY, 3) == [ids[4], ids[3], ids[2]]


def test_a_route_orders_the_sightings_and_flags_a_plate_in_two_cities_at_once(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, queries = plates
    store.record(
        [
            read("123ABC01", "ast-2", 12),
            read("123ABC01", "ast-1", 0),
            read("123ABC01", "kar-1", 40),  # 190 km in under half an hour: not one car
            read("999XYZ01", "ast-1", 5),
        ]
    )
    investigator = add_user(container, "inv", "investigator")[0]
    route = queries.route(
        plate="123 ABC 01", since=T, until=T + timedelta(hours=2), actor=investigator, why=WHY
    )
    assert [s.camera_id for s in route.sightings] == ["ast-1", "ast-2", "kar-1"]
    assert [leg.minutes for leg in route.legs] == [12.0, 28.0]
    assert route.legs[0].distance_km == pytest.approx(4.5, abs=0.5)
    assert [(s.first.camera_id, s.second.camera_id) for s in route.suspicions] == [
        ("ast-2", "kar-1")
    ]


def test_plates_are_personal_data_searched_only_by_field_roles_and_audited(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    from sqlalchemy import select

    from kupol.core.audit.model import AuditEntry

    store, queries = plates
    store.record([read("123ABC02", "ast-1", 0)])
    for role in ("analyst", "admin", "auditor"):
        someone = add_user(container, f"u-{role}", role)[0]
        with pytest.raises(PermissionDeniedError):
            queries.search(filters=PlateFilter(plate="123ABC02"), actor=someone, why=WHY)
    officer = add_user(container, "officer", "traffic_officer")[0]
    queries.route(plate="123ABC02", since=T, until=T + timedelta(hours=1), actor=officer, why=WHY)
    with container.db.reader() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type == "plate_sighting")
        ).one()
    assert (entry.action, entry.resource_id, entry.purpose) == ("route", "123ABC02", WHY.purpose)


def test_the_api_searches_and_routes_for_field_roles_with_a_purpose(
    container: Container, plates: tuple[PlateStore, PlateQueries], api: Any
) -> None:
    from tests.unit.factories import login_as

    store, _ = plates
    store.record([read("123ABC01", "ast-1", 0), read("123ABC01", "kar-1", 20)])
    officer = login_as(api, container, "officer", "traffic_officer")
    analyst = login_as(api, container, "analyst", "analyst")
    purpose = {"X-Purpose": "stolen car report 2026-55"}
    window = {
        "plate": "123ABC01",
        "since": T.isoformat(),
        "until": (T + timedelta(hours=1)).isoformat(),
    }
    route = api.get("/api/plates/route", params=window, headers={**officer, **purpose})
    assert route.status_code == 200, route.text
    assert [s["camera_id"] for s in route.json()["sightings"]] == ["ast-1", "kar-1"]
    assert route.json()["possible_clones"][0]["second"] == "kar-1"
    assert route.json()["possible_clones"][0]["leg"] == 0
    assert route.json()["legs"][0]["needed_speed_kmh"] > 200
    assert api.get("/api/plates/route", params=window, headers=officer).status_code == 428
    assert (
        api.get("/api/plates/route", params=window, headers={**analyst, **purpose}).status_code
        == 403
    )
    found = api.get(
        "/api/plates/sightings",
        params={"plate": "12?ABC01", "match": "wildcard"},
        headers={**officer, **purpose},
    )
    assert len(found.json()) == 2
    naive = api.get(
        "/api/plates/route",
        params={**window, "since": "2026-11-25T08:00"},
        headers={**officer, **purpose},
    )
    assert naive.status_code == 422


def test_sightings_show_and_are_searched_by_the_vehicles_class_and_colour(
    container: Container, plates: tuple[PlateStore, PlateQueries], api: Any
) -> None:
    from dataclasses import replace

    from tests.unit.factories import login_as

    store, _ = plates
    store.record([
        replace(read("123ABC01", "ast-1", 0), vehicle_class="car", vehicle_colour="white"),
        replace(read("123ABC02", "ast-1", 1), vehicle_class="truck", vehicle_colour="white"),
        replace(read("123ABC03", "ast-1", 2), vehicle_class="car", vehicle_colour="red"),
        read("123ABC04", "ast-1", 3),
    ])  # fmt: skip
    officer = login_as(api, container, "officer", "traffic_officer")
    purpose = {"X-Purpose": "white car seen leaving 2026-77"}
    url = "/api/plates/sightings"
    params = {"plate": "123ABC0?", "match": "wildcard", "vehicle_colour": "white"}
    found = api.get(url, params=params, headers={**officer, **purpose})
    assert found.status_code == 200, found.text
    assert [(s["plate"], s["vehicle_class"]) for s in found.json()] == [
        ("123ABC02", "truck"), ("123ABC01", "car")
    ]  # fmt: skip
    cars = api.get(url, params={**params, "vehicle_class": "car"}, headers={**officer, **purpose})
    assert [s["plate"] for s in cars.json()] == ["123ABC01"]
    everything = api.get(url, params={"since": T.isoformat()}, headers={**officer, **purpose})
    assert {s["plate"]: s["vehicle_colour"] for s in everything.json()}["123ABC04"] is None
    bad = api.get(url, params={**params, "vehicle_colour": "plaid"}, headers={**officer, **purpose})
    assert bad.status_code == 422


def test_sightings_say_the_plates_format_and_the_region_it_was_registered_in(
    container: Container, plates: tuple[PlateStore, PlateQueries], api: Any
) -> None:
    from tests.unit.factories import login_as

    store, _ = plates
    store.record([
        read("123ABC17", "ast-1", 0), read("F 1234 02", "ast-1", 1), read("H 123 ABC", "ast-1", 2),
        read("X 123 AB", "ast-1", 3), read("AB1234CD", "ast-1", 4), read("A12345", "ast-1", 5),
    ])  # fmt: skip
    officer = login_as(api, container, "officer", "traffic_officer")
    found = api.get(
        "/api/plates/sightings", params={"since": T.isoformat()},
        headers={**officer, "X-Purpose": "vehicles registered elsewhere 2026-78"},
    )  # fmt: skip
    assert found.status_code == 200, found.text
    assert {s["plate"]: (s["kind"], s["region"]) for s in found.json()} == {
        "123ABC17": ("kz_individual", "17"),
        "F123402": ("kz_foreign", "02"),  # yellow: a foreign citizen's car, Almaty
        "H123ABC": ("kz_1993", "08"),  # H: the Jambyl oblast of 1993
        "X123AB": ("kz_1993", None),  # South Kazakhstan's: Turkestan or Shymkent today
        "AB1234CD": ("other", None),
        "A12345": ("kz_scooter", None),
    }


def test_of_two_legs_between_the_same_cameras_only_the_impossible_one_is_marked(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, queries = plates
    # Astana → Karaganda in 3 h (drivable), back in 4 h, then again in 10 minutes (not).
    store.record([read("123ABC01", cam, m) for cam, m in
                  (("ast-1", 0), ("kar-1", 180), ("ast-1", 420), ("kar-1", 430))])  # fmt: skip
    officer = add_user(container, "officer", "traffic_officer")[0]
    route = queries.route(
        plate="123ABC01", since=T, until=T + timedelta(hours=8), actor=officer, why=WHY
    )
    assert [leg.needed_speed_kmh is not None for leg in route.legs] == [False, False, True]
    assert route.legs[2].needed_speed_kmh is not None and route.legs[2].needed_speed_kmh > 500
    assert len(route.suspicions) == 1


def test_hotlists_are_imported_row_by_row_and_hit_exactly_or_one_character_off(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    officer = add_user(container, "officer", "traffic_officer")[0]
    operator = add_user(container, "operator", "operator")[0]
    with pytest.raises(PermissionDeniedError):
        container.hotlists.create(name="Stolen", kind="stolen", fuzzy=True, actor=operator)
    stolen = container.hotlists.create(name="Stolen", kind="stolen", fuzzy=True, actor=officer)
    fines = container.hotlists.create(name="Fines", kind="unpaid_fines", fuzzy=False, actor=officer)
    report = container.hotlists.import_csv(
        hotlist_id=stolen,
        data=(
            b"plate,reason,reference,expires_at\n"
            b"123 ABC 02,stolen 2026-11-20,KUI-9,\n"
            b"#!,bad plate,,\n"
            b"777KKK17,,,\n"
            b"555XYZ01,stolen,,2030-01-01T00:00\n"
        ),
        actor=officer,
    )
    assert (report.added, [line for line, _ in report.rejected]) == (1, [3, 4, 5])
    container.hotlists.import_csv(
        hotlist_id=fines, data=b"plate,reason\n999AAA05,3 unpaid fines\n", actor=officer
    )
    stats = store.record(
        [read("123ABC02", "ast-1", 0), read("123ABC08", "ast-2", 1), read("999AAB05", "ast-2", 2)]
    )
    hits = [(e.payload["plate"], e.payload["hotlist"], e.payload["exact"]) for e in stats.events]
    # Exact on the stolen list; one character off on it (fuzzy); none on the exact-only list.
    assert hits == [("123ABC02", "Stolen", True), ("123ABC08", "Stolen", False)]
    assert {e.type for e in stats.events} == {"plate_hotlist_hit"}


def test_a_plate_too_far_from_its_last_sighting_raises_a_possible_clone(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    assert store.record([read("123ABC01", "ast-1", 0)]).events == ()
    stats = store.record([read("123ABC01", "kar-1", 25)])
    [event] = stats.events
    assert event.type == "possible_cloned_plate"
    assert event.payload["from_camera"] == "ast-1"
    assert event.payload["needed_speed_kmh"] > 200
    assert store.record([read("123ABC01", "kar-1", 300)]).events == ()  # later: plausible


def test_a_batch_is_checked_for_clones_in_time_order_within_itself_and_against_the_store(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    assert store.record([read("555XYZ05", "ast-2", 0)]).events == ()
    # One batch: a near camera soon after (plausible), then Karaganda 10 minutes later (not),
    # and a late-arriving read from before the first of them, which is compared with the
    # sighting before it in time (ast-2 at 0), not with the batch's last.
    stats = store.record(
        [
            read("555XYZ05", "ast-1", 20),
            read("555XYZ05", "kar-1", 30),
            read("555XYZ05", "ast-1", 10),
            read("404ZZZ04", "kar-1", 30),
        ]
    )
    assert stats.stored == 4
    [event] = stats.events
    assert event.type == "possible_cloned_plate"
    assert (event.payload["from_camera"], event.camera_id) == ("ast-1", "kar-1")
    assert event.payload["minutes"] == 10.0


def test_two_reads_of_a_plate_at_the_same_moment_in_two_cities_are_a_possible_clone(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    # The same time to the microsecond: the one stored second is compared with the first.
    stats = store.record([read("777KZT07", "ast-1", 5), read("777KZT07", "kar-1", 5)])
    [event] = stats.events
    assert (event.type, event.camera_id) == ("possible_cloned_plate", "kar-1")
    assert event.payload["from_camera"] == "ast-1" and event.payload["minutes"] == 0.0


def test_the_api_manages_hotlists_for_their_roles_only(container: Container, api: Any) -> None:
    from tests.unit.factories import login_as

    officer = login_as(api, container, "officer", "traffic_officer")
    operator = login_as(api, container, "operator", "operator")
    body = {"name": "Stolen", "kind": "stolen", "fuzzy": True}
    assert api.post("/api/plates/hotlists", json=body, headers=operator).status_code == 403
    created = api.post("/api/plates/hotlists", json=body, headers=officer)
    assert created.status_code == 201, created.text
    bad_kind = api.post("/api/plates/hotlists", json={**body, "kind": "x"}, headers=officer)
    assert bad_kind.status_code == 422
    imported = api.post(
        f"/api/plates/hotlists/{created.json()['id']}/import",
        files={"file": ("s.csv", b"plate,reason\n123ABC02,stolen car\nXX,\n")},
        headers=officer,
    )
    assert imported.json() == {
        "added": 1,
        "updated": 0,
        "removed": 0,
        "rejected": [{"line": 3, "reason": "a reason is required"}],
    }


def test_a_registrys_export_replaces_the_list_and_the_audit_names_the_plates(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    from sqlalchemy import select

    from kupol.core.audit.model import AuditEntry

    officer = add_user(container, "officer", "traffic_officer")[0]
    stolen = container.hotlists.create(name="Stolen", kind="stolen", fuzzy=False, actor=officer)

    def load(csv: str, replace: bool = True) -> Any:
        return container.hotlists.import_csv(
            hotlist_id=stolen, data=csv.encode(), actor=officer, replace=replace
        )

    load("plate,reason\n123ABC02,stolen 1\n777KKK17,stolen 2\n555XYZ01,stolen 3\n")
    # The next day's export: one car recovered, one new; a plate twice is refused.
    twice = load("plate,reason\n123ABC02,stolen 1\n888AAA02,stolen 4\n123ABC02,again\n")
    assert twice.rejected == [(4, "123ABC02 is on line 2 already")]
    assert twice.removed == 0  # a row was refused: nothing is taken off
    report = load("plate,reason\n123ABC02,stolen 1\n888AAA02,stolen 4\n")
    assert (report.added, report.updated, report.removed) == (0, 2, 2)
    page = container.hotlists.entries(hotlist_id=stolen, actor=officer, why=WHY)
    assert [e.plate for e in page.entries] == ["123ABC02", "888AAA02"]
    with container.db.reader() as session:
        imports = [
            e.details
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.seq)
            )
        ]
    assert imports[1]["added"] == ["888AAA02"] and imports[1]["removed"] == []
    assert sorted(imports[2]["removed"]) == ["555XYZ01", "777KKK17"] and imports[2]["replace"]


def test_a_sightings_evidence_crop_opens_for_field_roles_with_a_purpose_and_is_audited(
    container: Container, plates: tuple[PlateStore, PlateQueries], api: Any
) -> None:
    import numpy as np

    from kupol.core.audit import AuditEntry
    from tests.unit.factories import login_as

    store, _ = plates
    stored = container.plate_domain.files.save_crop(
        np.full((30, 120, 3), 200, np.uint8), camera_id="ast-1", at=T
    )
    crop_read = replace(
        read("555KZA01", "ast-1", 0), crop_uri=stored.uri, crop_sha256=stored.sha256
    )
    store.record([crop_read, read("555KZA01", "ast-2", 30)])
    officer = login_as(api, container, "officer", "traffic_officer")
    analyst = login_as(api, container, "analyst", "analyst")
    purpose = {"X-Purpose": "stolen car report 2026-55"}
    found = api.get(
        "/api/plates/sightings", params={"plate": "555KZA01"}, headers={**officer, **purpose}
    ).json()
    with_crop = next(s for s in found if s["has_crop"])
    without = next(s for s in found if not s["has_crop"])
    url = f"/api/plates/sightings/{with_crop['id']}/crop.jpg"
    shown = api.get(url, headers={**officer, **purpose})
    assert shown.status_code == 200 and shown.content[:2] == b"\xff\xd8"
    assert shown.headers["cache-control"] == "no-store"
    assert api.get(url, headers=officer).status_code == 428
    assert api.get(url, headers={**analyst, **purpose}).status_code == 403
    missing = f"/api/plates/sightings/{without['id']}/crop.jpg"
    assert api.get(missing, headers={**officer, **purpose}).status_code == 404
    with container.db.reader() as session:
        views = session.query(AuditEntry).filter_by(
            action="view", resource_type="plate_sighting", resource_id=str(with_crop["id"])
        )
        assert views.count() == 1


def test_a_late_read_between_a_plates_first_and_last_sightings_is_checked_against_its_own_previous(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    assert store.record([read("321CBA03", "ast-1", 0)]).events == ()
    assert store.record([read("321CBA03", "ast-1", 300)]).events == ()
    # Arriving late: 20 minutes after the first sighting, long before the last one.
    [late] = store.record([read("321CBA03", "kar-1", 20)]).events
    assert (late.payload["from_camera"], late.payload["minutes"]) == ("ast-1", 20.0)
    # In order: the last sighting (ast-1 at 300) is the one before.
    [soon] = store.record([read("321CBA03", "kar-1", 310)]).events
    assert (soon.payload["from_camera"], soon.payload["minutes"]) == ("ast-1", 10.0)
    # Before every sighting of the plate: nothing to compare with.
    assert store.record([read("321CBA03", "kar-1", -50)]).events == ()


def test_a_read_at_the_time_of_a_plates_last_sighting_but_with_a_smaller_id_looks_further_back(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    """Ids are drawn before commit: a concurrent store's sighting at the same time may have the
    larger id, and so come after this one; the one before is then older still."""
    store, _ = plates
    store.record([read("654FED06", "ast-1", 0)])
    store.record([read("654FED06", "ast-2", 10)])
    with container.db.unit_of_work() as session:  # as if stored by a store that drew id 1000
        session.execute(
            text("UPDATE plate_sightings SET id = 1000 WHERE plate = :p AND camera_id = 'ast-2'"),
            {"p": "654FED06"},
        )
    [event] = store.record([read("654FED06", "kar-1", 10)]).events
    with container.db.reader() as session:
        stored = session.execute(
            text("SELECT id, camera_id FROM plate_sightings WHERE plate = '654FED06'")
        ).all()
    new_id = next(key for key, camera in stored if camera == "kar-1")
    # PostgreSQL's sequence gives it a smaller id than 1000, so it comes first at that time and
    # Astana 10 minutes earlier is the one before; SQLite draws the next id past the largest.
    expected = ("ast-1", 10.0) if new_id < 1000 else ("ast-2", 0.0)
    assert (event.payload["from_camera"], event.payload["minutes"]) == expected
    assert container.db.dialect == "sqlite" or new_id < 1000
