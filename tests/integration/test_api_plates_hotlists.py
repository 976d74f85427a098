"""The hotlist API the console uses: lists and their counts for every field role, the listed
plates only with a stated purpose (audited), and changes — one plate added or taken off with a
reason, a list switched off or made fuzzy — only for those who manage hotlists."""

from __future__ import annotations

from typing import Any

import pytest

from kupol.bootstrap import Container
from tests.unit.factories import audit_of, fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "hotlist check on shift"}
CSV = b"plate,reason,reference\n123ABC02,stolen 2026-11-20,KUI-9\n777KKK17,unpaid fines,\n"


def stolen_list(api: Any, officer: dict[str, str]) -> int:
    created = api.post(
        "/api/plates/hotlists", json={"name": "Угон", "kind": "stolen"}, headers=officer
    )
    assert created.status_code == 201, created.text
    hotlist_id: int = created.json()["id"]
    imported = api.post(
        f"/api/plates/hotlists/{hotlist_id}/import",
        files={"file": ("s.csv", CSV)},
        headers=officer,
    )
    assert imported.json()["added"] == 2
    return hotlist_id


def test_field_roles_see_the_lists_with_counts_and_others_do_not(
    api: Any, container: Container
) -> None:
    officer = login_as(api, container, "officer", "traffic_officer")
    operator = login_as(api, container, "duty", "operator")
    analyst = login_as(api, container, "analyst", "analyst")
    hotlist_id = stolen_list(api, officer)

    listed = api.get("/api/plates/hotlists", headers=operator)
    assert listed.status_code == 200, listed.text
    [only] = listed.json()
    assert (only["id"], only["name"], only["kind"], only["entries"]) == (
        hotlist_id,
        "Угон",
        "stolen",
        2,
    )
    assert (only["fuzzy"], only["active"], only["owner"]) == (False, True, "officer")
    assert api.get(f"/api/plates/hotlists/{hotlist_id}", headers=operator).json() == only
    assert api.get("/api/plates/hotlists", headers=analyst).status_code == 403
    assert api.get("/api/plates/hotlists/999", headers=operator).status_code == 404
    assert audit_of(container, "hotlist_entries") == []  # names and counts: no plates


def test_listed_plates_are_read_only_with_a_purpose_and_each_read_is_audited(
    api: Any, container: Container
) -> None:
    officer = login_as(api, container, "officer", "traffic_officer")
    operator = login_as(api, container, "duty", "operator")
    hotlist_id = stolen_list(api, officer)
    url = f"/api/plates/hotlists/{hotlist_id}/entries"

    assert api.get(url, headers=operator).status_code == 428
    page = api.get(url, headers={**operator, **PURPOSE})
    assert page.status_code == 200, page.text
    assert page.json()["total"] == 2
    assert [e["plate"] for e in page.json()["entries"]] == ["123ABC02", "777KKK17"]
    first = page.json()["entries"][0]
    assert (first["reason"], first["reference"], first["added_by"]) == (
        "stolen 2026-11-20",
        "KUI-9",
        "officer",
    )
    narrowed = api.get(url, params={"plate": "abc 0"}, headers={**operator, **PURPOSE})
    assert [e["plate"] for e in narrowed.json()["entries"]] == ["123ABC02"]
    paged = api.get(url, params={"limit": 1, "offset": 1}, headers={**operator, **PURPOSE})
    assert (paged.json()["total"], len(paged.json()["entries"])) == (2, 1)
    assert api.get(url, params={"limit": 0}, headers={**operator, **PURPOSE}).status_code == 422
    assert api.get(url, params={"plate": "#!"}, headers={**operator, **PURPOSE}).status_code == 422
    assert (
        api.get("/api/plates/hotlists/999/entries", headers={**operator, **PURPOSE}).status_code
        == 404
    )

    reads = audit_of(container, "hotlist_entries")
    assert [(r.actor, r.action, r.resource_id, r.purpose) for r in reads] == [
        ("duty", "view", str(hotlist_id), PURPOSE["X-Purpose"])
    ] * 3
    assert reads[0].details["returned"] == [e["id"] for e in page.json()["entries"]]
    assert reads[1].details["plate"] == "ABC0"


def test_a_manager_adds_and_removes_one_plate_with_reasons_and_others_may_not(
    api: Any, container: Container
) -> None:
    officer = login_as(api, container, "officer", "traffic_officer")
    operator = login_as(api, container, "duty", "operator")
    hotlist_id = stolen_list(api, officer)
    url = f"/api/plates/hotlists/{hotlist_id}/entries"
    body = {"plate": "555 xyz 01", "reason": "stolen 2026-11-28", "reference": "KUI-12"}

    assert api.post(url, json=body, headers=operator).status_code == 403
    added = api.post(url, json=body, headers=officer)
    assert added.status_code == 201, added.text
    assert (added.json()["plate"], added.json()["added_by"]) == ("555XYZ01", "officer")
    again = api.post(url, json={**body, "plate": "555XYZ01"}, headers=officer)
    assert again.status_code == 409
    for bad in (
        {**body, "plate": "#!?"},  # not a plate
        {**body, "reason": "x"},  # no reason
        {**body, "expires_at": "2030-01-01T00:00"},  # no UTC offset
        {**body, "colour": "red"},  # not a field
    ):
        refused = api.post(url, json=bad, headers=officer)
        assert refused.status_code == 422, bad
        assert refused.json()["detail"]

    entry = f"{url}/{added.json()['id']}"
    assert api.delete(entry, params={"reason": "ok"}, headers=officer).status_code == 422
    reason = {"reason": "vehicle recovered 2026-11-30"}
    assert api.delete(entry, params=reason, headers=operator).status_code == 403
    assert api.delete(entry, params=reason, headers=officer).status_code == 204
    assert api.delete(entry, params=reason, headers=officer).status_code == 404
    left = api.get(url, headers={**officer, **PURPOSE}).json()
    assert [e["plate"] for e in left["entries"]] == ["123ABC02", "777KKK17"]

    changes = [(r.action, r.details) for r in audit_of(container, "hotlist_entry")]
    assert changes == [
        ("add", {"plate": "555XYZ01"}),
        (
            "remove",
            {"hotlist_id": hotlist_id, "plate": "555XYZ01", "why": reason["reason"]},
        ),
    ]


def test_a_list_switched_off_stops_hitting_and_fuzzy_is_set_per_list(
    api: Any, container: Container
) -> None:
    officer = login_as(api, container, "officer", "traffic_officer")
    operator = login_as(api, container, "duty", "operator")
    hotlist_id = stolen_list(api, officer)
    url = f"/api/plates/hotlists/{hotlist_id}"
    matcher = container.plate_store._hotlists
    assert [h.listed_plate for h in matcher.hits("123ABC02")] == ["123ABC02"]

    assert api.patch(url, json={"active": False}, headers=operator).status_code == 403
    assert api.patch(url, json={}, headers=officer).status_code == 422
    assert api.patch(url, json={"name": "x"}, headers=officer).status_code == 422
    fuzzy = api.patch(url, json={"fuzzy": True}, headers=officer)
    assert fuzzy.status_code == 200, fuzzy.text
    assert (fuzzy.json()["fuzzy"], fuzzy.json()["active"]) == (True, True)
    matcher._checked = 0.0  # skip the matcher's 2-second refresh wait
    assert [h.exact for h in matcher.hits("123ABC08")] == [False]

    off = api.patch(url, json={"active": False}, headers=officer)
    assert off.json()["active"] is False
    matcher._checked = 0.0
    assert matcher.hits("123ABC02") == []
    assert [(r.action, r.details) for r in audit_of(container, "hotlist")][-2:] == [
        ("update", {"fuzzy": True}),
        ("update", {"active": False}),
    ]
    assert (
        api.patch("/api/plates/hotlists/999", json={"active": True}, headers=officer).status_code
        == 404
    )


def test_an_entry_stops_hitting_when_it_expires_without_any_other_change(
    api: Any, container: Container
) -> None:
    """Expiry is judged at each sighting's time, not when the matcher last reloaded the lists
    (which it does only after a change): a lapsed warrant sends nobody after the car."""
    from datetime import timedelta

    from kupol.core.messages import utcnow

    officer = login_as(api, container, "officer", "traffic_officer")
    hotlist_id = stolen_list(api, officer)
    soon = utcnow() + timedelta(hours=1)
    added = api.post(
        f"/api/plates/hotlists/{hotlist_id}/entries",
        json={"plate": "555XYZ01", "reason": "warrant until noon", "expires_at": soon.isoformat()},
        headers=officer,
    )
    assert added.status_code == 201, added.text
    matcher = container.plate_store._hotlists
    matcher._checked = 0.0
    assert [h.reason for h in matcher.hits("555XYZ01")] == ["warrant until noon"]
    assert matcher.hits("555XYZ01", soon - timedelta(seconds=1)) != []
    assert matcher.hits("555XYZ01", soon) == []  # the same loaded lists, an hour later
    assert matcher.hits("555XYZ01", soon + timedelta(days=3)) == []
    assert [h.listed_plate for h in matcher.hits("123ABC02", soon)] == ["123ABC02"]
