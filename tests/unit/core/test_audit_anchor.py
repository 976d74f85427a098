"""An anchor kept outside the database catches entries cut off the end of the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kupol.bootstrap import Container
from kupol.core.audit import AuditRecord
from kupol.core.errors import InvalidInputError


def append(container: Container, n: int) -> None:
    for i in range(n):
        container.audit.append(
            AuditRecord(actor="ivanov", action="view", resource_type="camera", resource_id=str(i))
        )


def cut_tail(container: Container, from_seq: int) -> None:
    with container.db.engine.begin() as conn:
        if container.db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": from_seq})
        if container.db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def test_cutting_off_the_newest_entries_passes_the_chain_but_not_the_anchor(
    container: Container,
) -> None:
    append(container, 5)
    anchor = container.audit.verify().anchor
    assert anchor.startswith("5:")

    cut_tail(container, 4)

    assert container.audit.verify().ok  # the chain alone cannot see it
    report = container.audit.verify(anchor=anchor)
    assert not report.ok
    assert report.first_bad_seq == 5
    assert "removed from the end" in (report.reason or "")


def test_an_intact_log_passes_with_its_anchor(container: Container) -> None:
    append(container, 3)
    anchor = container.audit.verify().anchor
    append(container, 2)

    assert container.audit.verify(anchor=anchor).ok


def test_a_malformed_anchor_is_a_clear_error(container: Container) -> None:
    with pytest.raises(InvalidInputError, match="SEQ:HASH"):
        container.audit.verify(anchor="five:abc")


def test_the_anchor_of_an_empty_log_is_valid_later(container: Container) -> None:
    anchor = container.audit.verify().anchor
    append(container, 2)

    assert container.audit.verify(anchor=anchor).ok
