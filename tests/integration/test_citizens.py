"""The citizens' portal API, on SQLite and PostgreSQL: sign-up by phone with a texted code
(wrong codes counted, a used code refused, codes rate-limited per phone), reports with photos
kept in the evidence vault, the same photo sent again noted, bad input refused with the reason,
and each citizen seeing only their own reports."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from kupol.bootstrap import Container
from kupol.core.messages import utcnow
from kupol.evidence.model import EvidenceItem
from tests.integration.test_api_traffic_review import REGISTRY, signing_officer
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
DEVICE = "phone-ab12cd34"


def photo(seed: int) -> bytes:
    image = np.random.default_rng(seed).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return bytes(cv2.imencode(".jpg", image)[1])


def sign_in(api: TestClient, container: Container, phone: str) -> dict[str, str]:
    sent = api.post("/api/citizen/code", json={"phone": phone, "device_id": DEVICE})
    assert sent.status_code == 200, sent.text
    text = container.citizens.sms.last_to(sent.json()["phone"])
    code = re.search(r"\d{6}", text or "")
    assert code is not None
    got = api.post("/api/citizen/login", json={"phone": phone, "code": code.group(),
                                               "device_id": DEVICE})  # fmt: skip
    assert got.status_code == 200, got.text
    api.cookies.clear()
    return {"Authorization": "Bearer " + got.json()["access_token"]}


def report(api: TestClient, headers: dict[str, str], data: bytes, **fields: object) -> object:
    form = {"kind": "traffic_violation", "description": "Red light run at the crossing",
            "occurred_at": (utcnow() - timedelta(minutes=20)).isoformat(), "lat": "51.1283",
            "lon": "71.4305", "device_id": DEVICE, **fields}  # fmt: skip
    return api.post("/api/citizen/reports", headers=headers, data=form,
                    files=[("files", ("red.jpg", data, "image/jpeg"))])  # fmt: skip


def test_a_citizen_signs_up_by_phone_and_reports_with_a_photo(
    api: TestClient, container: Container
) -> None:
    # A wrong code is counted and refused; the right one signs up; it cannot be used twice.
    assert api.post("/api/citizen/code", json={"phone": "+1 202 555 0100",
                                               "device_id": DEVICE}).status_code == 422  # fmt: skip
    sent = api.post("/api/citizen/code", json={"phone": "8 701 123 45 67", "device_id": DEVICE})
    assert sent.json()["phone"] == "+77011234567"
    code = re.search(r"\d{6}", container.citizens.sms.last_to("+77011234567") or "")
    assert code is not None
    wrong = "000000" if code.group() != "000000" else "111111"
    body = {"phone": "+77011234567", "device_id": DEVICE}
    assert api.post("/api/citizen/login", json={**body, "code": wrong}).status_code == 401
    ok = api.post("/api/citizen/login", json={**body, "code": code.group()})
    assert ok.status_code == 200
    assert api.post("/api/citizen/login", json={**body, "code": code.group()}).status_code == 401
    citizen = {"Authorization": "Bearer " + ok.json()["access_token"]}
    api.cookies.clear()
    # The account's name carries no phone number (it shows in audit and custody logs).
    assert not any("7011234567" in user.username for user, _ in container.auth.list_users())

    made = report(api, citizen, photo(1))
    assert made.status_code == 201, made.text
    first = made.json()
    # A photo without metadata (as messengers send them): noted, not refused.
    assert first["status"] == "submitted"
    assert {f["kind"] for f in first["findings"]} == {
        "no_capture_time",
        "no_location",
        "no_plate_read",
    }  # random pixels
    with container.db.reader() as session:
        item = session.get(EvidenceItem, first["media"][0]["evidence_id"])
        assert item is not None and item.category == "citizen"
    again = report(api, citizen, photo(1)).json()  # the very same file again
    assert {"file_sent_before", "reused_image"} <= {f["kind"] for f in again["findings"]}
    mine = api.get("/api/citizen/reports", headers=citizen).json()
    assert [r["id"] for r in mine] == [again["id"], first["id"]]

    for fields, data, message in [
        ({"kind": "gossip"}, photo(2), "kind must be one of"),
        ({"lat": "95"}, photo(2), "place on the map"),
        ({"occurred_at": (utcnow() + timedelta(days=1)).isoformat()}, photo(2), "not ahead"),
        ({}, b"GIF89a not a jpeg", "is not the image/jpeg it says"),
    ]:
        refused = report(api, citizen, data, **fields)
        assert refused.status_code == 422 and message in refused.text, refused.text

    # Another citizen sees none of it; staff cannot use the portal, nor citizens the console.
    other = sign_in(api, container, "+77771234567")
    assert api.get("/api/citizen/reports", headers=other).json() == []
    assert api.get(f"/api/citizen/reports/{first['id']}", headers=other).status_code == 404
    officer = login_as(api, container, "olga", "traffic_officer")
    assert api.get("/api/citizen/reports", headers=officer).status_code == 403
    assert api.get("/api/traffic/violations", headers=citizen).status_code == 403


def test_codes_and_reports_are_rate_limited(api: TestClient, container: Container) -> None:
    limit = container.settings.citizens.codes_per_hour
    first = {"phone": "+77021112233", "device_id": "dev-limit-1"}
    for _ in range(limit):
        assert api.post("/api/citizen/code", json=first).status_code == 200
    refused = api.post("/api/citizen/code", json={"phone": "+77021112233",
                                                  "device_id": "dev-limit-2"})  # fmt: skip
    assert refused.status_code == 429
    # Another phone from the same device: the device's limit.
    refused = api.post("/api/citizen/code", json={"phone": "+77021112244",
                                                  "device_id": "dev-limit-1"})  # fmt: skip
    assert refused.status_code == 429


def test_officers_decide_reports_and_a_rejection_can_be_appealed_once(
    api: TestClient, container: Container
) -> None:
    citizen = sign_in(api, container, "+77011234567")
    first = report(api, citizen, photo(11)).json()
    second = report(api, citizen, photo(12)).json()
    officer = login_as(api, container, "olga", "traffic_officer")
    assert api.get("/api/citizens/review", headers=officer).status_code == 428  # no purpose
    why = {**officer, "X-Purpose": "citizen reports review"}
    queue = api.get("/api/citizens/review", headers=why).json()
    assert [q["report"]["id"] for q in queue] == [first["id"], second["id"]]  # oldest first
    assert queue[0]["citizen"] == "+7701***4567"  # the phone masked
    decide = f"/api/citizens/reports/{first['id']}/decision"
    refused = api.post(decide, headers=officer, json={"outcome": "rejected"})
    assert refused.status_code == 422 and "needs its reason" in refused.text
    done = api.post(decide, headers=officer, json={"outcome": "rejected", "reason": "not_visible",
                                                   "note": "the plate cannot be read"})  # fmt: skip
    assert done.status_code == 200 and done.json()["status"] == "rejected"
    ok_body = {"outcome": "confirmed", "offence": "red_light", "plate": "123ABC02"}
    assert api.post(decide, headers=officer, json=ok_body).status_code == 409
    ok = api.post(f"/api/citizens/reports/{second['id']}/decision", headers=officer,
                  json=ok_body)  # fmt: skip
    assert ok.json()["status"] == "confirmed"

    # The citizen sees the decision and appeals the rejection — once; it is back in the queue.
    mine = {r["id"]: r for r in api.get("/api/citizen/reports", headers=citizen).json()}
    assert mine[first["id"]]["decision_note"] == "not_visible: the plate cannot be read"
    appeal = f"/api/citizen/reports/{first['id']}/appeal"
    short = api.post(appeal, headers=citizen, json={"text": "wrong"})
    assert short.status_code == 422
    text = "The plate is readable in the second second of the video."
    assert api.post(appeal, headers=citizen, json={"text": text}).json()["status"] == "appealed"
    assert api.post(appeal, headers=citizen, json={"text": text}).status_code == 409
    cant = api.post(f"/api/citizen/reports/{second['id']}/appeal", headers=citizen,
                    json={"text": text})  # fmt: skip
    assert cant.status_code == 409  # confirmed: nothing to appeal
    queue = api.get("/api/citizens/review", headers=why).json()
    assert [(q["report"]["id"], q["appeal"]) for q in queue] == [(first["id"], text)]
    final = api.post(decide, headers=officer, json={**ok_body, "note": "on appeal"})
    assert final.json()["status"] == "confirmed"
    # Citizens cannot decide; other staff cannot review.
    assert api.post(decide, headers=citizen, json={"outcome": "confirmed"}).status_code == 403
    analyst = login_as(api, container, "ann", "analyst")
    assert api.get("/api/citizens/review", headers=analyst).status_code == 403


def test_two_people_reporting_one_red_light_run_make_one_case_the_first_valid_winning(
    api: TestClient, container: Container
) -> None:
    anna = sign_in(api, container, "+77011234567")
    boris = sign_in(api, container, "+77771234567")
    carl = sign_in(api, container, "+77051234567")
    at = utcnow() - timedelta(minutes=30)
    first = report(api, anna, photo(21), occurred_at=at.isoformat()).json()
    second = report(api, boris, photo(22), occurred_at=(at + timedelta(minutes=2)).isoformat(),
                    lat="51.1290").json()  # 80 m on  # fmt: skip
    third = report(api, carl, photo(23), occurred_at=(at + timedelta(minutes=1)).isoformat(),
                   lat="51.1285").json()  # fmt: skip
    officer = login_as(api, container, "olga", "traffic_officer")

    def decide(report_id: int, **body: object) -> dict[str, object]:
        got = api.post(f"/api/citizens/reports/{report_id}/decision", headers=officer,
                       json=body)  # fmt: skip
        assert got.status_code == 200, got.text
        return dict(got.json())

    # The later report confirmed first stays confirmed while the earlier one waits …
    red = {"outcome": "confirmed", "offence": "red_light"}
    assert decide(second["id"], **red, plate="123 ABC 02")["status"] == "confirmed"
    # … until the earlier one is confirmed too: it wins; the later is a duplicate.
    won = decide(first["id"], **red, plate="123ABC02")
    assert won["status"] == "confirmed" and won["case_key"] == str(first["id"])
    mine = {r["id"]: r for r in api.get("/api/citizen/reports", headers=boris).json()}
    assert mine[second["id"]]["status"] == "duplicate"
    assert f"the same event as report {first['id']}" in mine[second["id"]]["decision_note"]
    # Another car at the same moment is another offence.
    other = decide(third["id"], **red, plate="777 KZA 01")
    assert other["status"] == "confirmed" and other["case_key"] == str(third["id"])
    bad = api.post(f"/api/citizens/reports/{third['id']}/decision", headers=officer,
                   json={**red, "plate": "not a plate"})  # fmt: skip
    assert bad.status_code in (409, 422)


def test_a_confirmed_red_light_report_becomes_one_violation_signed_like_a_camera_s(
    api: TestClient, container: Container
) -> None:
    anna = sign_in(api, container, "+77011234567")
    boris = sign_in(api, container, "+77771234567")
    at = utcnow() - timedelta(minutes=30)
    image = photo(31)
    first = report(api, anna, image, occurred_at=at.isoformat()).json()
    second = report(api, boris, photo(32), occurred_at=(at + timedelta(minutes=1)).isoformat(),
                    lat="51.1290").json()  # fmt: skip
    officer = signing_officer(api, container)
    url = f"/api/citizens/reports/{first['id']}/decision"
    for body, message in [
        ({"outcome": "confirmed", "plate": "123ABC02"}, "needs its offence"),
        ({"outcome": "confirmed", "offence": "red_light"}, "needs the plate"),
        ({"outcome": "confirmed", "offence": "speeding", "plate": "123ABC02"}, "measured speed"),
        ({"outcome": "confirmed", "offence": "jaywalking", "plate": "123ABC02"}, "offence"),
    ]:
        refused = api.post(url, headers=officer, json=body)
        assert refused.status_code == 422 and message in refused.text, refused.text
    confirmed = api.post(url, headers=officer, json={"outcome": "confirmed", "plate": "123ABC02",
                                                     "offence": "red_light"}).json()  # fmt: skip
    also = api.post(f"/api/citizens/reports/{second['id']}/decision", headers=officer,
                    json={"outcome": "confirmed", "plate": "123 ABC 02",
                          "offence": "red_light"}).json()  # fmt: skip
    assert also["status"] == "duplicate"
    assert confirmed["violation_id"] is not None
    assert also["violation_id"] == confirmed["violation_id"]  # one event, one violation

    # In the traffic review like any camera's: the citizen's photo as its evidence, signed.
    why = {**officer, "X-Purpose": "citizen reports review"}
    [item] = api.get("/api/traffic/violations", headers=why).json()["items"]
    assert item["camera_id"] == "citizen-portal" and item["article"] == "599"
    assert item["measured"]["citizen_report"] == first["id"]
    shown = api.get(f"/api/traffic/violations/{item['id']}/evidence/0", headers=why)
    assert shown.content == image and shown.headers["X-Evidence-Intact"] == "true"
    approved = api.post(f"/api/traffic/violations/{item['id']}/approve", json={}, headers=officer)
    assert approved.status_code == 200, approved.text
    # The owner's notice, the fine paid: the first reporter's reward, once; the second none.
    gateway = login_as(api, container, "gateway", "device")
    api.post("/api/traffic/registry/import", headers=officer,
             files={"file": ("r.csv", REGISTRY.encode())})  # fmt: skip
    notices = api.get("/api/traffic/notices", headers=why).json()["items"]
    [notice] = [n for n in notices if n["violation_id"] == item["id"]]
    paid = {"status": "paid", "reference": "KASPI-7", "paid_on": notice["issued_on"],
            "amount_tenge": notice["discounted_tenge"]}  # fmt: skip
    assert api.put(f"/api/traffic/notices/{notice['id']}/payment", json=paid,
                   headers=gateway).status_code == 200  # fmt: skip
    rewarded = {r["id"]: r for r in api.get("/api/citizen/reports", headers=anna).json()}
    assert rewarded[first["id"]]["reward_tenge"] == notice["discounted_tenge"] // 10  # 10 %
    others = {r["id"]: r for r in api.get("/api/citizen/reports", headers=boris).json()}
    assert others[second["id"]]["reward_tenge"] is None
    # Paid out in a batch (a CSV for the provider), settled, and the ledger reconciles.
    admin = login_as(api, container, "boss", "admin")
    made = api.post("/api/citizens/payouts", headers=admin,
                    json={"on": notice["issued_on"]}).json()  # fmt: skip
    [line] = made["batch"]["lines"]
    assert line["amount_tenge"] == rewarded[first["id"]]["reward_tenge"]
    assert made["csv"].splitlines()[1].startswith(line["reference"] + ",")
    settled = api.post(f"/api/citizens/payouts/{made['batch']['reference']}/settlement",
                       headers=admin, json={"on": notice["issued_on"],
                                            "paid": [line["reference"]]})  # fmt: skip
    assert settled.status_code == 200 and settled.json()["outstanding"] == []
    check = api.get("/api/citizens/ledger/reconcile", headers=admin).json()
    assert check["ok"] and check["problems"] == [] and check["paid_tenge"] == line["amount_tenge"]
    assert api.get("/api/citizens/ledger/reconcile", headers=officer).status_code == 403


def phone_photo(when: datetime, where: tuple[float, float], seed: int = 41) -> bytes:
    """A photo as a phone takes it: capture time with its offset, GPS."""
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Apple", "iPhone 15"
    local = when.astimezone(timezone(timedelta(hours=5)))
    exif.get_ifd(ExifTags.IFD.Exif).update({
        ExifTags.Base.DateTimeOriginal: local.strftime("%Y:%m:%d %H:%M:%S"),
        ExifTags.Base.OffsetTimeOriginal: "+05:00"})  # fmt: skip

    def dms(value: float) -> tuple[float, float, float]:
        minutes = (value - int(value)) * 60
        return (float(int(value)), float(int(minutes)), round((minutes - int(minutes)) * 60, 2))

    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: dms(where[0]),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: dms(where[1])})  # fmt: skip
    pixels = np.random.default_rng(seed).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def test_intake_takes_time_and_place_from_the_photo_and_notes_what_contradicts_the_claim(
    api: TestClient, container: Container
) -> None:
    citizen = sign_in(api, container, "+77011234567")
    taken = utcnow() - timedelta(hours=1)
    baiterek = (51.1283, 71.4305)
    data = phone_photo(taken, baiterek)
    form = {"kind": "public_order", "description": "A fight at the entrance",
            "device_id": DEVICE}  # fmt: skip
    made = api.post("/api/citizen/reports", headers=citizen, data=form,
                    files=[("files", ("fight.jpg", data, "image/jpeg"))])  # fmt: skip
    assert made.status_code == 201, made.text
    got = made.json()
    assert got["location_source"] == "media" and got["findings"] == []
    assert (got["lat"], got["lon"]) == pytest.approx(baiterek, abs=1e-4)
    assert abs(datetime.fromisoformat(got["occurred_at"]) - taken) < timedelta(seconds=2)
    assert got["media"][0]["location"] == pytest.approx(list(baiterek), abs=1e-4)

    # The same scene claimed 3 km away and a day earlier: both noted for the officer.
    other = phone_photo(taken, baiterek, seed=42)
    claimed = {**form, "lat": "51.1550", "lon": "71.4305",
               "occurred_at": (taken - timedelta(days=1)).isoformat()}  # fmt: skip
    sent = api.post("/api/citizen/reports", headers=citizen, data=claimed,
                    files=[("files", ("fight.jpg", other, "image/jpeg"))])  # fmt: skip
    assert sent.status_code == 201, sent.text
    noted = sent.json()
    kinds = {f["kind"] for f in noted["findings"]}
    assert {"far_from_claimed_place", "time_differs_from_claim"} <= kinds, noted["findings"]

    # The first photo again, resized and re-encoded (its metadata lost, so the citizen states
    # time and place): a re-used picture, however it was saved.
    from PIL import Image

    smaller = io.BytesIO()
    Image.open(io.BytesIO(data)).resize((160, 120)).save(smaller, "JPEG", quality=60)
    resized = [("files", ("again.jpg", smaller.getvalue(), "image/jpeg"))]
    stated = {**form, "lat": "51.1283", "lon": "71.4305", "occurred_at": taken.isoformat()}
    sent = api.post("/api/citizen/reports", headers=citizen, data=stated, files=resized)
    assert sent.status_code == 201, sent.text
    again = sent.json()
    reused = [f for f in again["findings"] if f["kind"] == "reused_image"]
    assert reused and f"report {got['id']}" in reused[0]["reason"]
    # Neither a time nor a place anywhere: the citizen is asked for them.
    bare = api.post("/api/citizen/reports", headers=citizen, data=form,
                    files=[("files", ("x.jpg", photo(43), "image/jpeg"))])  # fmt: skip
    assert bare.status_code == 422 and "the media carry no time" in bare.text


def test_the_queue_puts_proven_reporters_first_and_findings_lower(
    api: TestClient, container: Container
) -> None:
    known = sign_in(api, container, "+77011234567")
    new = sign_in(api, container, "+77771234567")
    officer = login_as(api, container, "olga", "traffic_officer")
    why = {**officer, "X-Purpose": "citizen reports review"}
    for n in range(3):  # the known reporter's earlier reports, found valid
        done = report(api, known, photo(50 + n)).json()
        api.post(f"/api/citizens/reports/{done['id']}/decision", headers=officer,
                 json={"outcome": "confirmed", "offence": "red_light",
                       "plate": f"12{n}ABC02"})  # fmt: skip
    newcomer = report(api, new, photo(60)).json()  # sent first
    proven = report(api, known, photo(61)).json()
    copied = report(api, known, photo(61)).json()  # the same picture again: a finding
    queue = api.get("/api/citizens/review", headers=why).json()
    order = [q["report"]["id"] for q in queue]
    assert order == [proven["id"], newcomer["id"], copied["id"]]
    by_id = {q["report"]["id"]: q for q in queue}
    assert by_id[proven["id"]]["reputation"] > by_id[newcomer["id"]]["reputation"]
    assert by_id[proven["id"]]["reports_decided"] == 3
    assert by_id[copied["id"]]["priority"] < by_id[newcomer["id"]]["priority"]
