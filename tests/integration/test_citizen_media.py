"""What intake reads in citizens' media and what is shown back, on SQLite and PostgreSQL: the
plate in a traffic report's photo read by the project's plate reader (and a report with no
readable plate noted); the citizen's own photos shown back with every face blurred and no
metadata, recorded in the file's custody; another citizen's not at all."""

from __future__ import annotations

import io
from datetime import timedelta

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.core.messages import utcnow
from kupol.evidence.model import CustodyEntry
from tests.conftest import need_data
from tests.integration.test_citizens import photo, report, sign_in
from tests.unit.citizens.test_media_frames import _jpeg, _plate, _street
from tests.unit.factories import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


def test_the_plate_in_a_traffic_report_s_photo_is_read_at_intake(
    api: TestClient, container: Container
) -> None:
    anna = sign_in(api, container, "+77011234567")
    at = (utcnow() - timedelta(minutes=10)).isoformat()
    car = _jpeg(_street(_plate("505 QAZ 01", 60), x=800, y=600))
    got = report(api, anna, car, occurred_at=at)
    assert got.status_code == 201, got.text
    [best] = got.json()["plates_read"]
    assert best["text"] == "505QAZ01" and best["confidence"] > 0.5 and best["file"] == 0
    assert "no_plate_read" not in {f["kind"] for f in got.json()["findings"]}
    blank = report(api, anna, photo(5), occurred_at=at).json()
    assert blank["plates_read"] == []
    assert "no_plate_read" in {f["kind"] for f in blank["findings"]}
    # A public-order report's media is not read for plates.
    other = report(api, anna, car, occurred_at=at, kind="public_order").json()
    assert other["plates_read"] == []


def test_a_citizen_sees_their_photo_back_with_faces_blurred_and_no_one_else_does(
    api: TestClient, container: Container
) -> None:
    face = need_data("faces", "face_recognition", "test_images", "obama.jpg").read_bytes()
    anna = sign_in(api, container, "+77011234567")
    boris = sign_in(api, container, "+77771234567")
    at = (utcnow() - timedelta(minutes=10)).isoformat()
    made = report(api, anna, face, occurred_at=at, kind="public_order").json()
    url = f"/api/citizen/reports/{made['id']}/media/0/preview"
    shown = api.get(url, headers=anna)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert int(shown.headers["X-Faces-Blurred"]) >= 1
    picture = Image.open(io.BytesIO(shown.content))
    assert not picture.getexif()
    engine = container.faces.analyzer.engine()
    decoded = cv2.imdecode(np.frombuffer(shown.content, np.uint8), cv2.IMREAD_COLOR)
    assert engine.detect(decoded) == []  # no face left to find
    assert api.get(url, headers=boris).status_code == 404
    assert api.get(url.replace("/0/", "/3/"), headers=anna).status_code == 404
    item = made["media"][0]["evidence_id"]
    with container.db.reader() as session:
        custody = session.scalars(select(CustodyEntry).where(CustodyEntry.item_id == item))
        actions = [(e.action, e.details.get("what"), e.actor) for e in custody]
    assert ("view", "preview to the citizen") in [a[:2] for a in actions]
