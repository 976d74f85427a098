"""Live matching, the hit review queue, retrospective search and the retention purge, through
the real services and database (SQLite and PostgreSQL); only the face models are faked."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import Justification
from kupol.core.audit.model import AuditEntry
from kupol.core.auth import Principal
from kupol.core.auth.service import SYSTEM
from kupol.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PurposeRequiredError,
)
from kupol.core.messages import decode, utcnow
from kupol.core.outbox import OutboxMessage
from kupol.events.messages import CameraEventObserved
from kupol.faces.messages import FaceObserved
from kupol.faces.model import FaceHit, FaceSighting, HitStatus, WatchlistKind
from kupol.faces.schemas import HitDecision, PersonCreate, PersonUpdate, WatchlistCreate
from kupol.faces.search import SearchQuery
from tests.conftest import add_user
from tests.unit.faces.fakes import FakeAnalyzer, photo, template

CASE = Justification(purpose="robbery investigation", case_number="2026-0417")
REVIEW = Justification(purpose="live hit review")
WANTED = 7


@pytest.fixture
def investigator(container: Container) -> Principal:
    container.faces.analyzer.use(FakeAnalyzer())
    for camera_id, lat in (("cam-a", 51.10), ("cam-b", 51.20)):
        container.cameras.register(
            camera=CameraCreate(
                id=camera_id, name=f"Camera {camera_id}", kind="fixed", latitude=lat, longitude=71.4
            ),
            actor=SYSTEM,
        )
    return add_user(container, "investigator", "investigator")[0]


@pytest.fixture
def person_id(container: Container, investigator: Principal) -> int:
    listing = container.faces.watchlists.create(
        watchlist=WatchlistCreate(name="Wanted", kind=WatchlistKind.WANTED, threshold=0.9),
        actor=investigator,
    )
    person = container.faces.watchlists.add_person(
        watchlist_id=listing.id,
        person=PersonCreate(name="Aidos Test", reason="wanted for robbery"),
        actor=investigator,
    )
    container.faces.watchlists.enrol(person_id=person.id, photo=photo(WANTED), actor=investigator)
    return person.id


def seen(
    container: Container,
    identity: int,
    *,
    camera: str = "cam-a",
    at: datetime | None = None,
    noise: float = 0.05,
    seed: int = 0,
) -> FaceObserved:
    at = at or utcnow()
    crop = container.faces.files.save_crop(
        np.full((60, 50, 3), identity, np.uint8), camera_id=camera, at=at
    )
    return FaceObserved(
        camera_id=camera,
        seen_at=at,
        track=f"{camera}/run/{seed}",
        box=(10.0, 10.0, 60.0, 70.0),
        quality=0.9,
        template=tuple(float(v) for v in template(identity, noise, seed)),
        model="dlib-resnet-v1",
        crop_uri=crop.uri,
        crop_sha256=crop.sha256,
    )


def face_events(container: Container) -> list[CameraEventObserved]:
    with container.db.reader() as session:
        bodies = session.scalars(select(OutboxMessage.body)).all()
    events = [decode(body.encode()) for body in bodies]
    return [e for e in events if isinstance(e, CameraEventObserved) and e.type == "face_match"]


def test_a_listed_person_seen_by_a_camera_raises_one_hit_with_evidence(
    container: Container, person_id: int
) -> None:
    stats = container.faces.matcher.record([seen(container, WANTED)])
    assert (stats.stored, stats.hits_raised) == (1, 1)
    with container.db.reader() as session:
        hit = session.scalars(select(FaceHit)).one()
    assert hit.person_id == person_id
    assert hit.status == HitStatus.PENDING.value
    assert hit.similarity >= 0.9
    [event] = face_events(container)
    assert event.payload["hit_id"] == hit.id
    # Who is listed and both faces stay behind the faces permissions: the event stream and
    # its evidence are read by more roles.
    assert event.evidence == ()
    assert not {"person_id", "watchlist", "watchlist_kind"} & set(event.payload)
    # The probe crop is the hit's own copy: it outlives the sighting's retention.
    assert container.faces.files.read(hit.probe_uri)


def test_repeated_sightings_on_one_camera_join_one_hit(
    container: Container, person_id: int
) -> None:
    start = utcnow()
    batch = [seen(container, WANTED, at=start + timedelta(seconds=i), seed=i) for i in range(50)]
    stats = container.faces.matcher.record(batch)
    assert (stats.hits_raised, stats.hits_joined) == (1, 49)
    # Another camera is another hit; the same camera after the group window is another too.
    container.faces.matcher.record([seen(container, WANTED, camera="cam-b", at=start)])
    later = start + timedelta(seconds=container.settings.faces.group_window_s + 60)
    container.faces.matcher.record([seen(container, WANTED, at=later)])
    with container.db.reader() as session:
        hits = session.scalars(select(FaceHit).order_by(FaceHit.id)).all()
    assert [(h.camera_id, h.sightings) for h in hits] == [("cam-a", 50), ("cam-b", 1), ("cam-a", 1)]
    assert len(face_events(container)) == 3


def test_strangers_are_stored_for_search_but_raise_nothing(
    container: Container, person_id: int
) -> None:
    stats = container.faces.matcher.record([seen(container, 99), seen(container, 100)])
    assert (stats.stored, stats.hits_raised) == (2, 0)
    assert face_events(container) == []


def test_a_redelivered_message_is_stored_once(container: Container, person_id: int) -> None:
    message = seen(container, WANTED)
    container.faces.matcher.record([message])
    stats = container.faces.matcher.record([message])
    assert (stats.stored, stats.duplicates) == (0, 1)
    with container.db.reader() as session:
        assert len(session.scalars(select(FaceSighting)).all()) == 1


def test_an_expired_or_removed_person_is_no_longer_matched(
    container: Container, investigator: Principal, person_id: int
) -> None:
    container.faces.watchlists.update_person(
        person_id=person_id,
        change=PersonUpdate(active=False),
        actor=investigator,
    )
    container.faces.gallery.refresh(force=True)
    assert container.faces.matcher.record([seen(container, WANTED)]).hits_raised == 0


def test_an_operator_confirms_or_rejects_a_hit_once(container: Container, person_id: int) -> None:
    container.faces.matcher.record([seen(container, WANTED)])
    operator = add_user(container, "operator", "operator")[0]
    [pending] = container.faces.hits.list(actor=operator, why=REVIEW, status="pending")
    decided = container.faces.hits.decide(
        hit_id=pending.id,
        decision=HitDecision(status=HitStatus.CONFIRMED, note="same scar, same jacket"),
        actor=operator,
    )
    assert (decided.status, decided.decided_by) == ("confirmed", "operator")
    with pytest.raises(ConflictError):
        container.faces.hits.decide(
            hit_id=pending.id,
            decision=HitDecision(status=HitStatus.REJECTED, note="changed my mind"),
            actor=operator,
        )
    assert container.faces.hits.list(actor=operator, why=REVIEW, status="pending") == []
    report = container.faces.hits.threshold_report(
        watchlist_id=pending.watchlist_id, actor=operator
    )
    assert (report.decided, report.confirmed) == (1, 1)


def test_search_finds_where_a_face_was_seen_oldest_first(
    container: Container, investigator: Principal
) -> None:
    now = utcnow()
    container.faces.matcher.record(
        [
            seen(container, 42, camera="cam-b", at=now - timedelta(hours=1), seed=1),
            seen(container, 42, camera="cam-a", at=now - timedelta(hours=5), seed=2),
            seen(container, 43, camera="cam-a", at=now - timedelta(hours=2)),
        ]
    )
    result = container.faces.search.search(
        photo=photo(42), query=SearchQuery(), actor=investigator, why=CASE
    )
    assert [(s.camera_id, s.latitude) for s in result.sightings] == [
        ("cam-a", 51.10),
        ("cam-b", 51.20),
    ]
    assert all(s.similarity >= result.min_similarity for s in result.sightings)
    crop = container.faces.search.crop(
        sighting_id=result.sightings[0].id, actor=investigator, why=CASE
    )
    assert crop
    with container.db.reader() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.resource_type == "face_sighting", AuditEntry.action == "search"
            )
        ).one()
    assert entry.case_number == "2026-0417"
    assert entry.details["returned"] == [s.id for s in result.sightings]


def test_search_needs_the_role_and_a_case_number(
    container: Container, investigator: Principal
) -> None:
    operator = add_user(container, "operator", "operator")[0]
    with pytest.raises(PermissionDeniedError):
        container.faces.search.search(
            photo=photo(42), query=SearchQuery(), actor=operator, why=CASE
        )
    with pytest.raises(PurposeRequiredError, match="case number"):
        container.faces.search.search(
            photo=photo(42),
            query=SearchQuery(),
            actor=investigator,
            why=Justification(purpose="curiosity about a neighbour"),
        )


def test_the_purge_deletes_expired_templates_and_crops_and_search_no_longer_sees_them(
    container: Container, investigator: Principal
) -> None:
    retention = timedelta(days=container.settings.faces.retention_days)
    old = seen(container, 42, at=utcnow() - retention - timedelta(hours=1), seed=1)
    fresh = seen(container, 42, at=utcnow() - timedelta(days=1), seed=2)
    container.faces.matcher.record([old, fresh])
    container.faces.sightings.sync()
    report = container.faces.purge.purge()
    assert (report.sightings, report.files) == (1, 1)
    with container.db.reader() as session:
        left = session.scalars(select(FaceSighting.crop_uri)).all()
        purge_entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).one()
    assert left == [fresh.crop_uri]
    assert purge_entry.details["deleted"] == 1
    assert not container.faces.files.path(old.crop_uri).exists()
    result = container.faces.search.search(
        photo=photo(42), query=SearchQuery(), actor=investigator, why=CASE
    )
    assert len(result.sightings) == 1
    assert container.faces.purge.purge().sightings == 0


def test_a_malformed_face_message_is_refused_and_the_rest_of_the_batch_is_kept(
    container: Container, person_id: int
) -> None:
    good = seen(container, WANTED)
    short = FaceObserved(**{**vars(seen(container, WANTED, seed=3)), "template": (0.5, 0.5)})
    other_model = FaceObserved(**{**vars(seen(container, 5, seed=4)), "model": "arcface"})
    stats = container.faces.matcher.record([short, good, other_model])
    assert (stats.stored, stats.refused, stats.hits_raised) == (1, 2, 1)


def test_the_watchlist_index_is_kept_on_disk_and_rebuilt_from_the_database_when_unusable(
    container: Container, investigator: Principal, person_id: int, tmp_path: Path
) -> None:
    from kupol.faces.gallery import Gallery

    path = tmp_path / "gallery.hnsw"
    first = Gallery(db=container.db, model_name="dlib-resnet-v1", dim=128, path=path)
    first.refresh(force=True)
    assert first.save() and path.exists()
    assert not first.save(), "nothing changed: nothing to write"

    again = Gallery(db=container.db, model_name="dlib-resnet-v1", dim=128, path=path)
    match = again.match(template(WANTED, 0.05))
    assert match is not None and match.enrolled.person_id == person_id

    path.write_bytes(b"not an index")
    broken = Gallery(db=container.db, model_name="dlib-resnet-v1", dim=128, path=path)
    assert broken.match(template(WANTED, 0.05)) is not None
    container.faces.watchlists.remove_person(
        person_id=person_id, reason="arrested on 2026-11-20", actor=investigator
    )
    broken.refresh(force=True)
    assert broken.match(template(WANTED, 0.05)) is None


def test_a_face_message_crosses_the_wire_unchanged(container: Container, person_id: int) -> None:
    from kupol.core.messages import envelope

    message = seen(container, WANTED)
    assert decode(envelope(message)) == message


def test_a_rejected_hits_face_is_deleted_after_the_retention_window_but_the_decision_stays(
    container: Container, person_id: int
) -> None:
    container.faces.matcher.record([seen(container, WANTED)])
    operator = add_user(container, "operator", "operator")[0]
    [hit] = container.faces.hits.list(actor=operator, why=REVIEW)
    container.faces.hits.decide(
        hit_id=hit.id,
        decision=HitDecision(status=HitStatus.REJECTED, note="a different man"),
        actor=operator,
    )
    assert container.faces.purge.purge().rejected_probes == 0, "still inside the window"
    later = utcnow() + timedelta(days=container.settings.faces.retention_days, hours=1)
    report = container.faces.purge.purge(now=later)
    assert report.rejected_probes == 1
    with pytest.raises(NotFoundError, match="not kept"):
        container.faces.hits.image(hit_id=hit.id, which="probe", actor=operator, why=REVIEW)
    kept = container.faces.hits.get(hit_id=hit.id, actor=operator, why=REVIEW)
    assert (kept.status, kept.similarity) == ("rejected", hit.similarity)


def test_a_decided_hit_is_not_changed_by_later_sightings_and_a_better_one_updates_a_pending_hit(
    container: Container, person_id: int
) -> None:
    start = utcnow()
    container.faces.matcher.record([seen(container, WANTED, at=start, noise=0.2, seed=1)])
    with container.db.reader() as session:
        first = session.scalars(select(FaceHit)).one()
    container.faces.matcher.record(
        [seen(container, WANTED, at=start + timedelta(seconds=1), noise=0.01, seed=2)]
    )
    with container.db.reader() as session:
        better = session.scalars(select(FaceHit)).one()
    assert better.similarity > first.similarity
    assert better.probe_uri != first.probe_uri, "the probe shown is the best sighting's face"
    operator = add_user(container, "operator", "operator")[0]
    container.faces.hits.decide(
        hit_id=better.id,
        decision=HitDecision(status=HitStatus.CONFIRMED, note="same person"),
        actor=operator,
    )
    container.faces.matcher.record(
        [seen(container, WANTED, at=start + timedelta(seconds=2), noise=0.0, seed=3)]
    )
    with container.db.reader() as session:
        decided = session.scalars(select(FaceHit)).one()
    assert (decided.similarity, decided.probe_uri) == (better.similarity, better.probe_uri)
    assert decided.sightings == 3


def test_a_face_whose_crop_is_gone_still_raises_its_hit_and_the_batch_is_kept(
    container: Container, person_id: int
) -> None:
    lost = seen(container, WANTED)
    container.faces.files.delete(lost.crop_uri)
    stats = container.faces.matcher.record([lost, seen(container, 99, seed=5)])
    assert (stats.stored, stats.hits_raised) == (2, 1)
    with container.db.reader() as session:
        hit = session.scalars(select(FaceHit)).one()
    assert hit.probe_uri == ""


def test_a_crop_opens_only_as_a_result_of_ones_own_search_for_that_case(
    container: Container, investigator: Principal
) -> None:
    container.faces.matcher.record(
        [seen(container, 42, seed=1), seen(container, 43, at=utcnow(), seed=2)]
    )
    result = container.faces.search.search(
        photo=photo(42), query=SearchQuery(), actor=investigator, why=CASE
    )
    [found] = result.sightings
    assert container.faces.search.crop(sighting_id=found.id, actor=investigator, why=CASE)
    with container.db.reader() as session:
        other_face = session.scalars(
            select(FaceSighting.id).where(FaceSighting.id != found.id)
        ).one()
    colleague = add_user(container, "colleague", "investigator")[0]
    other_case = Justification(purpose="another case entirely", case_number="2026-9999")
    for actor, why, sighting_id in (
        (investigator, CASE, other_face),  # not a result: no browsing by number
        (investigator, other_case, found.id),  # a result, but of another case
        (colleague, CASE, found.id),  # the colleague did not search
    ):
        with pytest.raises(PermissionDeniedError):
            container.faces.search.crop(sighting_id=sighting_id, actor=actor, why=why)


def test_a_shortened_retention_window_applies_to_faces_already_stored(
    container: Container, investigator: Principal
) -> None:
    from kupol.faces.retention import FacePurge

    container.faces.matcher.record(
        [
            seen(container, 42, at=utcnow() - timedelta(days=20), seed=1),
            seen(container, 42, at=utcnow() - timedelta(days=2), seed=2),
        ]
    )
    week = FacePurge(
        db=container.db,
        audit=container.audit,
        files=container.faces.files,
        retention=timedelta(days=7),
    )
    assert week.purge().sightings == 1


def test_a_saved_index_from_another_database_is_not_trusted(
    container: Container, investigator: Principal, person_id: int, tmp_path: Path
) -> None:
    from kupol.faces.files import template_bytes
    from kupol.faces.gallery import Gallery
    from kupol.faces.model import EnrolledPhoto

    path = tmp_path / "gallery.hnsw"
    saved = Gallery(db=container.db, model_name="dlib-resnet-v1", dim=128, path=path)
    saved.refresh(force=True)
    assert saved.save()
    # As after a restore: the same photo id now holds someone else's template.
    with container.db.unit_of_work() as session:
        for row in session.scalars(select(EnrolledPhoto)):
            row.template = template_bytes(template(99))
    reopened = Gallery(db=container.db, model_name="dlib-resnet-v1", dim=128, path=path)
    assert reopened.match(template(WANTED, 0.05)) is None
    assert reopened.match(template(99, 0.05)) is not None


def test_faces_on_tracked_people_need_a_detector_that_finds_people() -> None:
    from kupol.core.errors import InvalidInputError as Invalid
    from kupol.vision.config import camera_analytics

    with pytest.raises(Invalid, match="whole_frame"):
        camera_analytics(
            zones=[], analytics={"detector": {"type": "motion"}, "faces": {"enabled": True}}
        )
    camera_analytics(
        zones=[],
        analytics={"detector": {"type": "motion"}, "faces": {"enabled": True, "whole_frame": True}},
    )


def test_the_sightings_index_is_saved_and_loaded_without_what_was_purged_meanwhile(
    container: Container, investigator: Principal, tmp_path: Path
) -> None:
    from kupol.faces.search import SightingIndex

    path = tmp_path / "sightings.hnsw"
    container.faces.matcher.record(
        [seen(container, 42, seed=1), seen(container, 43, seed=2), seen(container, 44, seed=3)]
    )
    first = SightingIndex(db=container.db, model_name="dlib-resnet-v1", dim=128, path=path)
    assert first.sync() == 3
    assert first.save() and path.exists()
    with container.db.unit_of_work() as session:
        gone = session.scalars(select(FaceSighting).order_by(FaceSighting.id)).first()
        assert gone is not None
        session.delete(gone)
    container.faces.matcher.record([seen(container, 45, seed=4)])
    again = SightingIndex(db=container.db, model_name="dlib-resnet-v1", dim=128, path=path)
    assert again.sync() == 1  # only the new one is read; the saved three are loaded
    assert len(again) == 3  # the one purged meanwhile is not
    assert again.search(template(42, 0.05), 5, 0.9) == {}
    assert list(again.search(template(43, 0.05), 5, 0.9))


def test_a_face_the_database_refuses_is_skipped_and_the_rest_of_the_batch_is_kept(
    container: Container,
    person_id: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A camera removed after the matcher's list of cameras was read: its face passes the
    # matcher's checks, and the database refuses the row (no such camera).
    matcher = container.faces.matcher
    monkeypatch.setattr(matcher, "_known_cameras", lambda: {"cam-a", "cam-b", "cam-gone"})
    strangers = [seen(container, 90 + i, seed=i) for i in range(3)]
    gone = FaceObserved(**{**vars(seen(container, 95, seed=9)), "camera_id": "cam-gone"})
    wanted = seen(container, WANTED, seed=5)
    stats = matcher.record([*strangers, gone, wanted])
    assert (stats.stored, stats.refused, stats.hits_raised) == (4, 1, 1)
    assert "4 faces not stored together" in caplog.text  # then one by one
    with container.db.reader() as session:
        stored = set(session.scalars(select(FaceSighting.message_id)))
    assert stored == {str(m.id) for m in [*strangers, wanted]}
    # Stored together, they are found by message id: a redelivery is a duplicate.
    again = matcher.record(strangers)
    assert (again.stored, again.duplicates) == (0, 3)


def test_the_matcher_reads_the_camera_list_again_only_for_a_camera_it_has_not_met(
    container: Container, investigator: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It was read for every batch: a database round trip per batch on the hot path.
    matcher = container.faces.matcher
    asked: list[int] = []
    known = container.cameras.known_ids

    def counting() -> set[str]:
        asked.append(1)
        return known()

    monkeypatch.setattr(matcher, "_known_cameras", counting)
    for seed in range(3):
        assert matcher.record([seen(container, 90 + seed, seed=seed)]).stored == 1
    assert len(asked) == 1
    container.cameras.register(
        camera=CameraCreate(id="cam-new", name="new", latitude=51.3, longitude=71.4),
        actor=SYSTEM,
    )
    assert matcher.record([seen(container, 99, camera="cam-new", seed=9)]).stored == 1
    assert len(asked) == 2  # a camera registered since is found


def test_a_face_another_consumer_stored_meanwhile_is_a_duplicate_not_refused(
    container: Container, person_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Two consumer tasks given the same redelivered message: both find it not yet stored, one
    # stores it first. The other's shared INSERT skips it (and keeps the rest of its batch).
    if container.db.dialect != "postgresql":
        pytest.skip("SQLite's write transactions take the lock as they begin: no one else stores")
    matcher = container.faces.matcher
    strangers = [seen(container, 90 + i, seed=i) for i in range(3)]
    gallery = matcher._gallery
    raced: list[FaceObserved] = []

    class Racing:
        """The gallery, but the first match lets another consumer store ``strangers[1]``."""

        def __getattr__(self, name: str) -> object:
            return getattr(gallery, name)

        def match(self, template: np.ndarray) -> object:
            if not raced:
                raced.append(strangers[1])
                assert matcher.record(raced).stored == 1
            return gallery.match(template)

    matcher._gallery = Racing()  # type: ignore[assignment]
    stats = matcher.record(strangers)
    assert (stats.stored, stats.duplicates, stats.refused) == (2, 1, 0)
    assert "not stored together" not in caplog.text
    with container.db.reader() as session:
        stored = session.scalars(select(FaceSighting.message_id)).all()
    assert sorted(stored) == sorted(str(m.id) for m in strangers)
