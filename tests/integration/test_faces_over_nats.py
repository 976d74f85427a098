"""Faces on the scale-out path: a face seen by a camera travels over NATS JetStream to the
matcher, which raises a hit and a face_match alert (PostgreSQL and NATS, real servers)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from kupol.alerts.model import Alert
from kupol.bootstrap import Container
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import decode, envelope, utcnow
from kupol.faces.model import FaceHit
from kupol.faces.schemas import PersonCreate, WatchlistCreate
from tests.conftest import add_user, need_service
from tests.integration.test_bus_contract import nats_bus
from tests.unit.faces.fakes import FakeAnalyzer, photo
from tests.unit.faces.test_matching import seen


async def test_a_face_seen_travels_over_jetstream_to_a_hit_and_an_alert(
    container: Container,
) -> None:
    need_service("NATS", "127.0.0.1", 4222)
    from kupol.cameras.schemas import CameraCreate

    stream = f"KF{uuid.uuid4().hex[:10].upper()}"
    bus = nats_bus(stream)
    # The same services, wired onto JetStream instead of the in-process bus.
    from kupol.bootstrap import build_container

    c = build_container(container.settings, bus=bus)
    c.faces.analyzer.use(FakeAnalyzer())
    c.cameras.register(
        camera=CameraCreate(id="cam-a", name="A", latitude=51.1, longitude=71.4), actor=SYSTEM
    )
    investigator = add_user(c, "investigator", "investigator")[0]
    listing = c.faces.watchlists.create(
        watchlist=WatchlistCreate(name="Wanted", kind="wanted"), actor=investigator
    )
    person = c.faces.watchlists.add_person(
        watchlist_id=listing.id,
        person=PersonCreate(name="A Person", reason="wanted for robbery"),
        actor=investigator,
    )
    c.faces.watchlists.enrol(person_id=person.id, photo=photo(7), actor=investigator)
    # The standing rule (migration 0043) turns a face match into an alert: none is written.
    message = seen(c, 7, at=utcnow())
    assert decode(envelope(message)) == message
    await c.start(with_sources=False)
    try:
        await c.bus.publish(message, message)  # a duplicate publish is stored once

        def alerts() -> list[Alert]:
            with c.db.reader() as session:
                return list(session.scalars(select(Alert)))

        for _ in range(400):
            if alerts():
                break
            await asyncio.sleep(0.05)
    finally:
        await c.stop()
        cleaner = nats_bus(stream)
        await cleaner.start()
        await cleaner.purge()  # type: ignore[attr-defined]
        await cleaner.stop()
    with c.db.reader() as session:
        hits = list(session.scalars(select(FaceHit)))
    assert [(h.person_id, h.sightings) for h in hits] == [(person.id, 1)]
    assert [a.event_type for a in alerts()] == ["face_match"]
