"""Watchlist hits from a real video, end to end: a walk-by clip composed from real face photos
plays as a camera; the real face models find, embed and match the faces; hits wait for an
operator, raise alerts, and retrospective search finds where a face was seen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from kupol.alerts.model import Alert
from kupol.bootstrap import build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import Justification
from kupol.core.auth.service import SYSTEM
from kupol.faces.democlip import write_walkby_clip
from kupol.faces.model import FaceHit, FaceSighting, WatchlistKind
from kupol.faces.schemas import PersonCreate, WatchlistCreate
from kupol.faces.search import SearchQuery
from tests.conftest import add_user, make_settings, need_data
from tests.integration.test_camera_pipelines import wait_for

pytestmark = pytest.mark.slow

WALKERS = ("alex_lacamoire1.jpg", "obama1.jpg", "johnsnow_test1.jpg")


async def test_a_listed_person_walking_past_a_camera_becomes_one_hit_for_review(
    sqlite_url: str, tmp_path: Path
) -> None:
    faces = need_data("faces", "face_recognition", "knn_examples")
    clip = write_walkby_clip(
        [faces / "test" / name for name in WALKERS], tmp_path / "walkby.mp4", seconds_each=2.5
    )
    container = build_container(
        make_settings(
            database_url=sqlite_url,
            data_dir=tmp_path / "data",
            vision={"poll_s": 0.2, "loop_files": False, "realtime_files": False},
        )
    )
    investigator = add_user(container, "investigator", "investigator")[0]
    operator = add_user(container, "operator", "operator")[0]
    listing = container.faces.watchlists.create(
        watchlist=WatchlistCreate(name="Wanted", kind=WatchlistKind.WANTED), actor=investigator
    )
    person = container.faces.watchlists.add_person(
        watchlist_id=listing.id,
        person=PersonCreate(name="Listed person", reason="test of live matching"),
        actor=investigator,
    )
    # Enrolled from other photos than the one that walks past.
    for photo in ("obama.jpg", "obama2.jpg"):
        container.faces.watchlists.enrol(
            person_id=person.id,
            photo=(faces / "train" / "obama" / photo).read_bytes(),
            actor=investigator,
        )
    # The standing rule (migration 0043) turns a face match into an alert: none is written.
    container.cameras.register(
        camera=CameraCreate(
            id="cam-door",
            name="Door",
            latitude=51.1,
            longitude=71.4,
            stream_url=str(clip),
            analytics={
                "detector": {"type": "motion"},
                "abandoned": {"enabled": False},
                "faces": {"enabled": True, "whole_frame": True, "interval_s": 0.3},
            },
        ),
        actor=SYSTEM,
    )
    await container.start()
    try:
        worker = container.vision.worker("cam-door") if container.vision else None
        assert worker is not None
        await wait_for(lambda: worker.health.state == "finished", seconds=240)
        assert worker.health.faces >= 3
        await container.outbox.flush()

        def alerts() -> list[Alert]:
            with container.db.reader() as session:
                return list(session.scalars(select(Alert)))

        await wait_for(lambda: len(alerts()) >= 1, seconds=30)
    finally:
        await container.stop()

    with container.db.reader() as session:
        hits = list(session.scalars(select(FaceHit)))
        sightings = list(session.scalars(select(FaceSighting)))
    # Every walker's face was seen; only the listed one is a hit, once, with many sightings.
    assert len({s.track for s in sightings}) >= 1
    assert len(sightings) >= 3
    assert [(h.person_id, h.status) for h in hits] == [(person.id, "pending")]
    assert hits[0].sightings >= 2
    assert hits[0].similarity >= listing.threshold
    [alert] = alerts()
    assert alert.event_type == "face_match"
    queue = container.faces.hits.list(
        actor=operator, why=Justification(purpose="live review"), status="pending"
    )
    assert [h.person for h in queue] == ["Listed person"]

    # Retrospective search: the walker seen first (Alex) is found from another photo of him.
    result = container.faces.search.search(
        photo=(faces / "train" / "alex_lacamoire" / "img1.jpg").read_bytes(),
        query=SearchQuery(),
        actor=investigator,
        why=Justification(purpose="where was he seen", case_number="2026-1"),
    )
    assert result.sightings, "the walker was not found by retrospective search"
    first_obama = min(s.seen_at for s in sightings if hits and s.id == hits[0].sighting_id)
    assert all(s.seen_at < first_obama for s in result.sightings)
    await asyncio.sleep(0)
