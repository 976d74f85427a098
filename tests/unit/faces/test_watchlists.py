"""Watchlists: only investigators change them, every change is audited, and a photo is
enrolled only with exactly one usable face (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.core.audit import Justification
from kupol.core.audit.model import AuditEntry
from kupol.core.auth import Principal
from kupol.core.errors import InvalidInputError, PermissionDeniedError
from kupol.core.messages import utcnow
from kupol.faces.model import WatchlistKind
from kupol.faces.schemas import PersonCreate, PersonUpdate, WatchlistCreate, WatchlistUpdate
from tests.conftest import add_user
from tests.unit.faces.fakes import FakeAnalyzer, photo

WHY = Justification(purpose="watchlist review for case 12")


@pytest.fixture
def investigator(container: Container) -> Principal:
    container.faces.analyzer.use(FakeAnalyzer())
    return add_user(container, "investigator", "investigator")[0]


def new_list(container: Container, actor: Principal, name: str = "Wanted") -> int:
    return container.faces.watchlists.create(
        watchlist=WatchlistCreate(name=name, kind=WatchlistKind.WANTED), actor=actor
    ).id


def test_an_investigator_creates_a_list_and_the_change_is_audited(
    container: Container, investigator: Principal
) -> None:
    created = container.faces.watchlists.create(
        watchlist=WatchlistCreate(name="Wanted", kind=WatchlistKind.WANTED, threshold=0.8),
        actor=investigator,
    )
    assert created.owner == "investigator"
    assert created.threshold == 0.8
    with container.db.reader() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type == "watchlist")
        ).one()
    assert (entry.actor, entry.action, entry.resource_id) == (
        "investigator",
        "create",
        str(created.id),
    )


def test_a_list_starts_with_the_configured_threshold(
    container: Container, investigator: Principal
) -> None:
    watchlist_id = new_list(container, investigator)
    listing = container.faces.watchlists.get(watchlist_id=watchlist_id, actor=investigator)
    assert listing.threshold == container.settings.faces.default_threshold


@pytest.mark.parametrize("roles", [("operator",), ("admin",), ("analyst",)])
def test_other_roles_cannot_change_watchlists(
    container: Container, investigator: Principal, roles: tuple[str, ...]
) -> None:
    watchlist_id = new_list(container, investigator)
    other = add_user(container, "someone", *roles)[0]
    with pytest.raises(PermissionDeniedError):
        container.faces.watchlists.create(
            watchlist=WatchlistCreate(name="Mine", kind=WatchlistKind.OTHER), actor=other
        )
    with pytest.raises(PermissionDeniedError):
        container.faces.watchlists.update(
            watchlist_id=watchlist_id, change=WatchlistUpdate(threshold=0.5), actor=other
        )
    with pytest.raises(PermissionDeniedError):
        container.faces.watchlists.add_person(
            watchlist_id=watchlist_id,
            person=PersonCreate(name="A Person", reason="wanted for theft"),
            actor=other,
        )


def test_a_photo_with_one_usable_face_is_enrolled(
    container: Container, investigator: Principal
) -> None:
    watchlist_id = new_list(container, investigator)
    person = container.faces.watchlists.add_person(
        watchlist_id=watchlist_id,
        person=PersonCreate(name="Aidos Test", reason="wanted for fraud", reference="KUI-1"),
        actor=investigator,
    )
    enrolled = container.faces.watchlists.enrol(
        person_id=person.id, photo=photo(7), actor=investigator
    )
    persons = container.faces.watchlists.persons(
        watchlist_id=watchlist_id, actor=investigator, why=WHY
    )
    assert [p.photos[0].id for p in persons] == [enrolled.id]
    image = container.faces.watchlists.photo(
        photo_id=enrolled.id, crop=False, actor=investigator, why=WHY
    )
    assert image == photo(7)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (photo(7, faces=0), "no face found"),
        (photo(7, faces=2), "holds 2 faces"),
        (photo(7, poor=True), "not usable for matching: too_small"),
        (b"GIF89a not really", "not an image"),
        (b"", "empty"),
    ],
)
def test_a_photo_without_exactly_one_usable_face_is_refused_with_the_reason(
    container: Container, investigator: Principal, data: bytes, message: str
) -> None:
    watchlist_id = new_list(container, investigator)
    person = container.faces.watchlists.add_person(
        watchlist_id=watchlist_id,
        person=PersonCreate(name="Aidos Test", reason="wanted for fraud"),
        actor=investigator,
    )
    container.faces.watchlists.enrol(person_id=person.id, photo=photo(7), actor=investigator)
    with pytest.raises(InvalidInputError, match=message):
        container.faces.watchlists.enrol(person_id=person.id, photo=data, actor=investigator)
    # The photo accepted before is still there.
    persons = container.faces.watchlists.persons(
        watchlist_id=watchlist_id, actor=investigator, why=WHY
    )
    assert len(persons[0].photos) == 1


def test_a_venue_ban_needs_an_expiry_date_in_the_future(
    container: Container, investigator: Principal
) -> None:
    banned = container.faces.watchlists.create(
        watchlist=WatchlistCreate(name="Stadium bans", kind=WatchlistKind.BANNED),
        actor=investigator,
    ).id
    with pytest.raises(InvalidInputError, match="expiry"):
        container.faces.watchlists.add_person(
            watchlist_id=banned,
            person=PersonCreate(name="A Fan", reason="court ban order 5/2026"),
            actor=investigator,
        )
    with pytest.raises(InvalidInputError, match="past"):
        container.faces.watchlists.add_person(
            watchlist_id=banned,
            person=PersonCreate(
                name="A Fan",
                reason="court ban order 5/2026",
                expires_at=utcnow() - timedelta(days=1),
            ),
            actor=investigator,
        )


def test_reading_a_lists_persons_is_audited_with_its_purpose(
    container: Container, investigator: Principal
) -> None:
    watchlist_id = new_list(container, investigator)
    container.faces.watchlists.persons(watchlist_id=watchlist_id, actor=investigator, why=WHY)
    with container.db.reader() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type == "watchlist_persons")
        ).one()
    assert entry.purpose == WHY.purpose


def test_updating_a_person_records_before_and_after(
    container: Container, investigator: Principal
) -> None:
    watchlist_id = new_list(container, investigator)
    person = container.faces.watchlists.add_person(
        watchlist_id=watchlist_id,
        person=PersonCreate(name="Aidos Test", reason="wanted for fraud"),
        actor=investigator,
    )
    container.faces.watchlists.update_person(
        person_id=person.id, change=PersonUpdate(reference="KUI-77"), actor=investigator
    )
    with container.db.reader() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.resource_type == "watchlist_person", AuditEntry.action == "update"
            )
        ).one()
    assert entry.details["before"] == {"reference": None}
    assert entry.details["after"] == {"reference": "KUI-77"}
