"""Passwords are kept as argon2id hashes at the production cost, never in clear."""

from __future__ import annotations

from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.core.auth import User
from tests.conftest import add_user


def test_passwords_are_stored_as_argon2id_hashes_at_the_recommended_cost(
    container: Container,
) -> None:
    _, password = add_user(container, "ivanov", "operator")

    with container.db.reader() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "ivanov"))

    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert password not in stored
    assert container.auth.login(username="ivanov", password=password).principal.username == (
        "ivanov"
    )
