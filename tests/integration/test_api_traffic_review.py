"""The enforcement chain through the API, on SQLite and PostgreSQL: violations recorded from
the bus and qualified by the legal table, the officers' queue and evidence (audited, with a
purpose), approval signed with the officer's X.509 certificate that catches tampering,
rejection reasons counted per rule and camera, notices to the registered owner, payments."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.documents.pki import fingerprint
from kupol.events.messages import EvidenceRef
from kupol.traffic.messages import CrossingActivity, ViolationObserved
from tests.unit.factories import audit_of, fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "review of camera violations"}
CAMERA = "ast-test-01"
REGISTRY = (
    "plate,owner_name,owner_id,address,make,colour\n"
    '123ABC02,Иванов Иван,900101300123,"Алматы, ул. Абая, 1",Toyota Camry,white\n'
)


def camera(container: Container) -> None:
    container.cameras.register(
        camera=CameraCreate(
            id=CAMERA, name="Test crossing", kind="fixed", latitude=51.1, longitude=71.4
        ),
        actor=SYSTEM,
    )


def evidence(container: Container, data: bytes = b"\xff\xd8frame\xff\xd9") -> EvidenceRef:
    stored = container.traffic.files.save(data, folder=f"{CAMERA}/traffic")
    return EvidenceRef(
        kind="frame_at", uri=stored.uri, sha256=stored.sha256, media_type="image/jpeg"
    )


_minutes = itertools.count(5, 2)


def violation(container: Container, **fields: Any) -> ViolationObserved:
    """A violation; each one two minutes before the last, so none repeats another."""
    base: dict[str, Any] = {
        "camera_id": CAMERA,
        "offence": "red_light",
        "occurred_at": datetime.now(UTC) - timedelta(minutes=next(_minutes)),
        "plate": "123ABC02",
        "plate_confidence": 0.97,
        "measured": {"red_for_s": 2.4},
        "evidence": (evidence(container),),
    }
    return ViolationObserved(**{**base, **fields})


def signing_officer(api: Any, container: Container) -> dict[str, str]:
    """A traffic officer who holds a signing certificate (as an administrator issues it)."""
    headers = login_as(api, container, "officer", "traffic_officer")
    container.documents.authority.issue("officer")
    return headers


def test_violations_are_qualified_on_their_local_day_and_bad_ones_refused(
    container: Container,
) -> None:
    camera(container)
    # 23:30 on 31 December 2025 in UTC is 04:30 on 1 January 2026 in Almaty: 2026's MRP.
    new_year = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    fast = violation(
        container,
        offence="speeding",
        occurred_at=new_year,
        measured={"speed_kmh": 87.0, "limit_kmh": 60.0},
    )
    repeated = violation(container)
    stats = container.traffic.recorder.record(
        [
            fast,
            repeated,
            repeated,
            violation(container, offence="jaywalking"),
            violation(container, offence="speeding", measured={"speed_kmh": 70, "limit_kmh": 60}),
            violation(container, offence="speeding", measured={"speed_kmh": "fast"}),
            violation(container, camera_id="nowhere"),
            violation(container, plate="###", plate_confidence=0.4),
        ]
    )
    assert (stats.stored, stats.duplicates, stats.refused) == (3, 1, 4)
    officer = container.auth.create_user(
        username="officer", password="officer-password-1", roles=["traffic_officer"]
    )[0]
    from kupol.core.audit import Justification

    total, found = container.traffic.review.queue(
        actor=officer, why=Justification(purpose="review of camera violations")
    )
    assert total == 3
    speeding = next(v for v in found if v.offence == "speeding")
    assert (speeding.article, speeding.part, speeding.fine_mrp) == ("592", "2", 10.0)
    assert (speeding.mrp_tenge, speeding.fine_tenge) == (4325, 43250)
    no_plate = [v for v in found if v.plate is None]
    assert len(no_plate) == 1 and no_plate[0].plate_source is None


def test_one_offence_seen_twice_is_reviewed_once(api: Any, container: Container) -> None:
    """The tracker lost the car and found it again: the rule fired twice for one red light."""
    camera(container)
    at = datetime.now(UTC) - timedelta(minutes=3)
    first = violation(container, occurred_at=at)
    again = violation(container, occurred_at=at + timedelta(seconds=4))
    other_car = violation(container, occurred_at=at + timedelta(seconds=5), plate="777GG17")
    no_plate = violation(container, occurred_at=at + timedelta(seconds=6), plate=None)
    next_cycle = violation(container, occurred_at=at + timedelta(seconds=90))
    stats = container.traffic.recorder.record([first, again, other_car, no_plate])
    later = container.traffic.recorder.record([next_cycle, violation(container, occurred_at=at)])
    assert (stats.stored, stats.repeats, later.stored, later.repeats) == (4, 1, 2, 1)
    officer = signing_officer(api, container)
    pending = api.get("/api/traffic/violations", headers={**officer, **PURPOSE}).json()
    assert sorted(str(i["plate"]) for i in pending["items"]) == [
        "123ABC02",
        "123ABC02",
        "777GG17",
        "None",
    ]
    merged = api.get(
        "/api/traffic/violations",
        params={"status": "rejected"},
        headers={**officer, **PURPOSE},
    ).json()["items"]
    assert [(m["reject_reason"], m["decided_by"]) for m in merged] == [("duplicate", "system")] * 2
    assert all(m["evidence"] for m in merged)  # the second sighting's evidence is kept
    kept = min(
        (i for i in pending["items"] if i["plate"] == "123ABC02"),
        key=lambda i: datetime.fromisoformat(i["occurred_at"]),
    )
    assert all(f"violation {kept['id']} " in m["decision_note"] for m in merged)
    counted = api.get("/api/traffic/stats", headers=officer).json()
    assert [r["reasons"] for r in counted if r["rejected"]] == [{"duplicate": 2}]


def test_officer_reviews_signs_and_the_owner_gets_a_notice(api: Any, container: Container) -> None:
    camera(container)
    container.traffic.recorder.record([violation(container)])
    officer = signing_officer(api, container)
    operator = login_as(api, container, "duty", "operator")

    assert api.get("/api/traffic/violations", headers=officer).status_code == 428
    assert api.get("/api/traffic/violations", headers={**operator, **PURPOSE}).status_code == 403
    queue = api.get("/api/traffic/violations", headers={**officer, **PURPOSE})
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["items"]
    assert (item["article"], item["fine_mrp"], item["status"]) == ("599", 10.0, "pending")
    assert item["plate"] == "123ABC02" and item["plate_source"] == "camera"
    frame = api.get(
        f"/api/traffic/violations/{item['id']}/evidence/0", headers={**officer, **PURPOSE}
    )
    assert frame.status_code == 200 and frame.headers["X-Evidence-Intact"] == "true"
    assert [e.action for e in audit_of(container, "traffic_evidence")] == ["view"]
    assert audit_of(container, "traffic_violation")[0].purpose == PURPOSE["X-Purpose"]

    # The registry is imported before the approval: the notice goes to the owner.
    imported = api.post(
        "/api/traffic/registry/import",
        files={"file": ("r.csv", (REGISTRY + "BAD,x,1,y\n").encode())},
        headers=officer,
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["added"] == 1 and imported.json()["rejected"][0]["line"] == 3

    approved = api.post(f"/api/traffic/violations/{item['id']}/approve", json={}, headers=officer)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved" and body["decided_by"] == "officer"
    assert body["signature"] and body["notice_number"].startswith("KUP-")
    again = api.post(
        f"/api/traffic/violations/{item['id']}/reject",
        json={"reason": "duplicate"},
        headers=officer,
    )
    assert again.status_code == 409
    verified = api.get(f"/api/traffic/violations/{item['id']}/verify", headers=officer).json()
    assert verified["signature_valid"] and verified["evidence_files_intact"] == [True]
    assert (verified["algorithm"], verified["signed_by"]) == ("ecdsa-p256-sha256", "officer")
    assert verified["certificate_sha256"] == fingerprint(
        container.documents.authority.certificate("officer")
    )

    notices = api.get("/api/traffic/notices", headers={**officer, **PURPOSE}).json()
    [notice] = notices["items"]
    assert (notice["status"], notice["owner_name"], notice["owner_id"]) == (
        "issued",
        "Иванов Иван",
        "900101300123",
    )
    assert notice["amount_tenge"] == body["fine_tenge"]
    letter = api.get(
        f"/api/traffic/notices/{notice['id']}/letter.html", headers={**officer, **PURPOSE}
    )
    assert letter.status_code == 200 and letter.headers["content-type"].startswith("text/html")
    for text in (notice["number"], "Иванов Иван", "123ABC02", "ст. 599", body["signature"]):
        assert text in letter.text
    assert [e.action for e in audit_of(container, "traffic_notice")][-1] == "print"
    assert notice["discounted_tenge"] == round(body["fine_tenge"] / 2)
    issued = datetime.fromisoformat(notice["issued_on"]).date()
    assert notice["discount_until"] == (issued + timedelta(days=7)).isoformat()


def test_tampered_evidence_and_decisions_show(api: Any, container: Container) -> None:
    camera(container)
    container.traffic.recorder.record([violation(container)])
    officer = signing_officer(api, container)
    [item] = api.get("/api/traffic/violations", headers={**officer, **PURPOSE}).json()["items"]
    api.post(f"/api/traffic/violations/{item['id']}/approve", json={}, headers=officer)
    evidence_dir: Path = container.traffic.files.root
    [frame] = list(evidence_dir.rglob("*.jpg"))
    frame.write_bytes(b"\xff\xd8edited\xff\xd9")
    assert (
        api.get(
            f"/api/traffic/violations/{item['id']}/evidence/0", headers={**officer, **PURPOSE}
        ).headers["X-Evidence-Intact"]
        == "false"
    )
    checked = api.get(f"/api/traffic/violations/{item['id']}/verify", headers=officer).json()
    assert checked["signature_valid"] and checked["evidence_files_intact"] == [False]

    from kupol.traffic.model import Violation

    with container.db.unit_of_work() as session:
        row = session.get(Violation, item["id"])
        assert row is not None and row.signed is not None
        row.signed = {**row.signed, "document": {**row.signed["document"], "fine_tenge": 1}}
    checked = api.get(f"/api/traffic/violations/{item['id']}/verify", headers=officer).json()
    assert not checked["signature_valid"]


def test_approval_is_signed_with_the_officers_own_certificate(
    api: Any, container: Container
) -> None:
    from kupol.traffic.model import Violation
    from kupol.traffic.signing import DecisionSigner

    camera(container)
    container.traffic.recorder.record([violation(container), violation(container)])
    officer = login_as(api, container, "officer", "traffic_officer")
    first, second = api.get("/api/traffic/violations", headers={**officer, **PURPOSE}).json()[
        "items"
    ]
    url = f"/api/traffic/violations/{first['id']}"
    # No certificate yet: refused, and the violation still waits for a decision.
    refused = api.post(f"{url}/approve", json={}, headers=officer)
    assert refused.status_code == 404 and refused.json()["code"] == "no_certificate"
    assert "issue-certificate officer" in refused.json()["detail"]
    assert api.get(url, headers={**officer, **PURPOSE}).json()["status"] == "pending"

    container.documents.authority.issue("officer", algorithm="ed25519")
    assert api.post(f"{url}/approve", json={}, headers=officer).status_code == 200
    checked = api.get(f"{url}/verify", headers=officer).json()
    assert checked["signature_valid"] and checked["algorithm"] == "ed25519"

    # Someone else's certificate put in place of the officer's is caught.
    container.documents.authority.issue("other")
    theirs = container.documents.authority.signer("other")
    with container.db.unit_of_work() as session:
        row = session.get(Violation, first["id"])
        assert row is not None and row.signed is not None
        row.signed = container.traffic.review._signing.sign(row.signed["document"], theirs)
    checked = api.get(f"{url}/verify", headers=officer).json()
    assert (
        not checked["signature_valid"]
        and "not the deciding officer" in (checked["signature_reason"])
    )

    # A decision signed with the keyed signature before X.509 signing still verifies.
    legacy = DecisionSigner(container.settings.security.secret_key.get_secret_value().encode())
    with container.db.unit_of_work() as session:
        row = session.get(Violation, second["id"])
        assert row is not None
        row.status, row.decided_by, row.plate = "approved", "officer", "123ABC02"
        row.signed = legacy.sign(
            {
                "decision": "approved",
                "camera_id": row.camera_id,
                "offence": row.offence,
                "occurred_at": row.occurred_at.isoformat(),
                "plate": row.plate,
                "article": row.article,
                "part": row.part,
                "fine_mrp": row.fine_mrp,
                "fine_tenge": row.fine_tenge,
                "officer": "officer",
                "evidence_sha256": [e.get("sha256") for e in row.evidence],
            }
        )
    checked = api.get(f"/api/traffic/violations/{second['id']}/verify", headers=officer).json()
    assert checked["signature_valid"] and checked["algorithm"] == "HMAC-SHA256"
    assert checked["record_matches_signature"], checked


def test_rejections_are_counted_per_rule_and_camera(api: Any, container: Container) -> None:
    camera(container)
    container.traffic.recorder.record(
        [violation(container) for _ in range(3)]
        + [violation(container, offence="failing_to_yield_to_pedestrian")]
    )
    officer = signing_officer(api, container)
    analyst = login_as(api, container, "analyst", "analyst")
    items = api.get("/api/traffic/violations", headers={**officer, **PURPOSE}).json()["items"]
    red = [i for i in items if i["offence"] == "red_light"]
    assert (
        api.post(
            f"/api/traffic/violations/{red[0]['id']}/reject",
            json={"reason": "other"},
            headers=officer,
        ).status_code
        == 422
    )  # "other" needs a note
    assert (
        api.post(
            f"/api/traffic/violations/{red[0]['id']}/reject",
            json={"reason": "because"},
            headers=officer,
        ).status_code
        == 422
    )
    for item, reason in zip(red[:2], ["camera_fault", "camera_fault"], strict=True):
        done = api.post(
            f"/api/traffic/violations/{item['id']}/reject", json={"reason": reason}, headers=officer
        )
        assert done.status_code == 200, done.text
    assert api.get("/api/traffic/stats", headers=officer).status_code == 200
    stats = api.get("/api/traffic/stats", headers=analyst).json()
    by_rule = {s["offence"]: s for s in stats}
    assert by_rule["red_light"]["rejected"] == 2 and by_rule["red_light"]["pending"] == 1
    assert by_rule["red_light"]["reasons"] == {"camera_fault": 2}
    assert by_rule["red_light"]["rejected_share"] == 1.0
    assert by_rule["failing_to_yield_to_pedestrian"]["pending"] == 1
    assert api.get("/api/traffic/violations", headers={**analyst, **PURPOSE}).status_code == 403


def test_a_violation_without_a_plate_needs_the_officers_reading(
    api: Any, container: Container
) -> None:
    camera(container)
    container.traffic.recorder.record([violation(container, plate=None, plate_confidence=None)])
    officer = signing_officer(api, container)
    [item] = api.get("/api/traffic/violations", headers={**officer, **PURPOSE}).json()["items"]
    url = f"/api/traffic/violations/{item['id']}/approve"
    assert api.post(url, json={}, headers=officer).status_code == 422
    assert api.post(url, json={"plate": "!!"}, headers=officer).status_code == 422
    done = api.post(url, json={"plate": "777 gg 17"}, headers=officer)
    assert done.status_code == 200, done.text
    assert (done.json()["plate"], done.json()["plate_source"]) == ("777GG17", "officer")
    # No owner known yet: the notice waits, and the registry import issues it.
    notices = api.get("/api/traffic/notices", headers={**officer, **PURPOSE}).json()["items"]
    assert notices[0]["status"] == "owner_unknown" and notices[0]["owner_name"] is None
    csv = (
        "plate,owner_name,owner_id,address\n"
        '777GG17,ТОО Ромашка,123456789012,"Шымкент, пр. Тауке хана 5"\n'
    )
    imported = api.post(
        "/api/traffic/registry/import", files={"file": ("r.csv", csv.encode())}, headers=officer
    ).json()
    assert imported["rejected"] == [] and imported["notices_issued"] == 1
    notice = api.get("/api/traffic/notices", headers={**officer, **PURPOSE}).json()["items"][0]
    assert notice["status"] == "issued" and notice["owner_name"] == "ТОО Ромашка"


def test_payments_at_the_discount_within_its_days_and_never_less(
    api: Any, container: Container
) -> None:
    camera(container)
    container.traffic.recorder.record([violation(container)])
    officer = signing_officer(api, container)
    gateway = login_as(api, container, "gateway", "device")
    api.post(
        "/api/traffic/registry/import",
        files={"file": ("r.csv", REGISTRY.encode())},
        headers=officer,
    )
    [item] = api.get("/api/traffic/violations", headers={**officer, **PURPOSE}).json()["items"]
    api.post(f"/api/traffic/violations/{item['id']}/approve", json={}, headers=officer)
    notice = api.get("/api/traffic/notices", headers={**officer, **PURPOSE}).json()["items"][0]
    url = f"/api/traffic/notices/{notice['id']}/payment"
    today = notice["issued_on"]
    short = {
        "status": "paid",
        "reference": "KASPI-1",
        "amount_tenge": notice["discounted_tenge"] - 1,
        "paid_on": today,
    }
    assert api.put(url, json=short, headers=gateway).status_code == 422
    future = {**short, "amount_tenge": notice["amount_tenge"], "paid_on": "2099-01-01"}
    assert api.put(url, json=future, headers=gateway).status_code == 422
    paid = api.put(url, json={**short, "amount_tenge": notice["discounted_tenge"]}, headers=gateway)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["payment"], paid.json()["paid_tenge"]) == (
        "paid",
        notice["discounted_tenge"],
    )
    assert api.put(url, json={**short, "amount_tenge": 99999}, headers=gateway).status_code == 409
    operator = login_as(api, container, "duty", "operator")
    assert api.put(url, json=short, headers=operator).status_code == 403
    [entry] = [e for e in audit_of(container, "traffic_notice") if e.action == "payment_paid"]
    assert entry.actor == "gateway"


def test_controllers_report_phases_and_crossings_count_per_local_hour(
    api: Any, container: Container
) -> None:
    camera(container)
    device = login_as(api, container, "controller", "device")
    analyst = login_as(api, container, "analyst", "analyst")
    now = datetime.now(UTC)
    ok = api.post(
        "/api/traffic/signals/j1-north",
        json={"phase": "red", "at": now.isoformat()},
        headers=device,
    )
    assert ok.status_code == 204, ok.text
    older = (now - timedelta(seconds=5)).isoformat()
    refused = api.post(
        "/api/traffic/signals/j1-north", json={"phase": "green", "at": older}, headers=device
    )
    assert refused.status_code == 422 and "older" in refused.text
    bad = api.post(
        "/api/traffic/signals/j1-north",
        json={"phase": "blue", "at": now.isoformat()},
        headers=device,
    )
    assert bad.status_code == 422
    assert api.get("/api/traffic/signals", headers=analyst).json() == {"j1-north": "red"}

    # 18:10 and 18:40 UTC are 23:10 and 23:40 in Almaty; 19:05 UTC is 00:05 the next day.
    day = datetime(2026, 5, 4, tzinfo=UTC)
    events = [
        ("pedestrian", day.replace(hour=18, minute=10), None),
        ("pedestrian", day.replace(hour=18, minute=40), None),
        ("vehicle", day.replace(hour=18, minute=41), None),
        ("near_miss", day.replace(hour=18, minute=41), 0.8),
        ("warning_on", day.replace(hour=18, minute=10), 40.0),
        ("warning_on", day.replace(hour=19, minute=5), 60.0),
        ("teleport", day.replace(hour=19, minute=5), None),
    ]
    stats = container.traffic.crossings.record(
        [
            CrossingActivity(camera_id=CAMERA, crossing_id="x1", activity=k, at=at, value=v)
            for k, at, v in events
        ]
    )
    assert (stats.stored, stats.refused) == (6, 1)
    report = api.get(
        "/api/traffic/crossings/x1/dashboard?first=2026-05-04&last=2026-05-05", headers=analyst
    ).json()
    assert [d["day"] for d in report["days"]] == ["2026-05-04", "2026-05-05"]
    first = report["days"][0]
    assert (first["pedestrians"], first["vehicles"], first["near_misses"]) == (2, 1, 1)
    assert (first["activations"], first["latency_p95_ms"]) == (1, 40.0)
    assert report["hours"][0]["hour"].startswith("2026-05-04T23:00:00+05:00")
    assert report["total"]["activations"] == 2
    assert api.get("/api/traffic/crossings", headers=analyst).json()[0]["crossing_id"] == "x1"


def test_approval_refuses_missing_or_changed_evidence_and_verify_sees_edits(
    api: Any, container: Container
) -> None:
    camera(container)
    container.traffic.recorder.record(
        [violation(container), violation(container), violation(container, evidence=())]
    )
    officer = signing_officer(api, container)
    items = api.get("/api/traffic/violations", headers={**officer, **PURPOSE}).json()["items"]
    changed, good, bare = sorted(items, key=lambda i: i["id"])
    from kupol.traffic.model import Violation

    with container.db.reader() as session:
        row = session.get(Violation, changed["id"])
        assert row is not None
        uri = row.evidence[0]["uri"]
    container.traffic.files.path(uri).write_bytes(b"\xff\xd8edited\xff\xd9")
    refused = api.post(f"/api/traffic/violations/{changed['id']}/approve", json={}, headers=officer)
    assert refused.status_code == 409 and "SHA-256" in refused.text
    assert (
        api.post(f"/api/traffic/violations/{bare['id']}/approve", json={}, headers=officer)
    ).status_code == 409
    assert (
        api.post(
            f"/api/traffic/violations/{good['id']}/approve", json={}, headers=officer
        ).status_code
        == 200
    )
    checked = api.get(f"/api/traffic/violations/{good['id']}/verify", headers=officer).json()
    assert checked["record_matches_signature"] and checked["changed_since_signing"] == []
    with container.db.unit_of_work() as session:
        row = session.get(Violation, good["id"])
        assert row is not None
        row.plate, row.fine_tenge = "777GG17", 1
    checked = api.get(f"/api/traffic/violations/{good['id']}/verify", headers=officer).json()
    assert checked["signature_valid"]  # the document itself is untouched…
    assert not checked["record_matches_signature"]  # …but the record is not what was signed
    assert checked["changed_since_signing"] == ["fine_tenge", "plate"]


def test_only_officers_cancel_and_the_gateway_gets_no_owner_data(
    api: Any, container: Container
) -> None:
    camera(container)
    container.traffic.recorder.record([violation(container)])
    officer = signing_officer(api, container)
    gateway = login_as(api, container, "gateway", "device")
    api.post(
        "/api/traffic/registry/import",
        files={"file": ("r.csv", REGISTRY.encode())},
        headers=officer,
    )
    [item] = api.get("/api/traffic/violations", headers={**officer, **PURPOSE}).json()["items"]
    api.post(f"/api/traffic/violations/{item['id']}/approve", json={}, headers=officer)
    notice = api.get("/api/traffic/notices", headers={**officer, **PURPOSE}).json()["items"][0]
    url = f"/api/traffic/notices/{notice['id']}/payment"
    cancel = {"status": "cancelled", "reference": "ошибочно выставлено"}
    assert api.put(url, json=cancel, headers=gateway).status_code == 403
    paid = api.put(
        url,
        json={
            "status": "paid",
            "reference": "KASPI-2",
            "amount_tenge": notice["amount_tenge"],
            "paid_on": notice["issued_on"],
        },
        headers=gateway,
    )
    assert paid.status_code == 200
    assert set(paid.json()) == {
        "id", "number", "payment", "paid_tenge", "paid_on", "payment_reference"
    }  # fmt: skip
    for bad in ("%40%40", "A" * 50):  # no plate; far too long
        assert (
            api.get(f"/api/traffic/registry/{bad}", headers={**officer, **PURPOSE}).status_code
            == 422
        )
