"""The vault's edges found in review: a file claiming to be HTML is never run in the browser;
a failed move keeps an upload's bytes; a purge leaves content another live item holds; content
uploaded again after its item was purged is a new item; an item deleted behind the vault's
back is found; an upload being written is not expired; a stopped server's redactions are
marked failed; a docked folder's odd names and sidecars are refused one by one."""

from __future__ import annotations

import fcntl
import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kupol.bootstrap import Container
from kupol.core.auth.service import SYSTEM
from kupol.core.errors import StorageFullError
from kupol.core.messages import utcnow
from kupol.evidence.model import EvidenceItem, Redaction
from kupol.evidence.service import Metadata
from kupol.evidence.store import ContentStore
from kupol.evidence.uploads import ResumableUploads
from tests.conftest import add_user
from tests.integration.test_evidence_vault import CLIP, WHY, ingest, raw
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


def test_an_html_file_is_downloaded_never_shown(api: Any, container: Container) -> None:
    officer = login_as(api, container, "patrol", "operator")
    made = api.post(
        "/api/evidence",
        files={"file": ("note.html", b"<script>alert(1)</script>", "text/html")},
        data={"category": "other"},
        headers=officer,
    ).json()
    got = api.get(f"/api/evidence/{made['id']}/file", headers={**officer, **{"X-Purpose": "x" * 6}})
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in got.headers["content-security-policy"]
    bad = api.post(
        "/api/evidence",
        files={"file": ("x.bin", b"x", "not a type")},
        data={"category": "other"},
        headers=officer,
    )
    assert bad.status_code == 422


def test_a_failed_move_keeps_the_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ContentStore(tmp_path / "vault")
    source = tmp_path / "upload.part"
    source.write_bytes(CLIP)

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(StorageFullError):  # a clean refusal (507), not an internal error
        store.adopt(source)
    assert source.read_bytes() == CLIP  # kept, to try again
    monkeypatch.undo()
    assert store.adopt(source).created and not source.exists()


def test_purges_and_duplicates_respect_other_items(container: Container) -> None:
    officer = add_user(container, "patrol", "operator")[0]
    first = ingest(container, officer)
    with container.db.unit_of_work() as session:
        item = session.get(EvidenceItem, first)
        assert item is not None
        twin = EvidenceItem(  # as two uploads racing each other could leave
            sha256=item.sha256,
            size=item.size,
            media_type=item.media_type,
            filename="twin.mp4",
            category="bodycam",
            ingested_by="patrol",
            on_hold=False,
            gps=[],
            retain_until=utcnow() + timedelta(days=30),
        )
        session.add(twin)
        item.retain_until = utcnow() - timedelta(days=1)
    assert container.evidence.purge_due(actor=SYSTEM) == [first]
    assert container.evidence.store.exists(item.sha256)  # the twin still holds it
    # Uploaded again after its item was purged: a new item, not a duplicate of the purged one.
    with container.db.unit_of_work() as session:
        session.query(EvidenceItem).filter(EvidenceItem.id != first).update({"purged_at": utcnow()})
    again = container.evidence.ingest(
        io.BytesIO(CLIP), Metadata(filename="again.mp4", category="bodycam"), actor=officer
    )
    assert not again.duplicate and again.item.id not in (first,)


def test_an_item_deleted_behind_the_vaults_back_is_found(container: Container) -> None:
    officer = add_user(container, "patrol", "operator")[0]
    kept = ingest(container, officer)
    gone = ingest(container, officer, data=CLIP + b"2", filename="b.mp4")
    container.evidence.get(item_id=gone, actor=officer, why=WHY)
    raw(
        container,
        f"DELETE FROM evidence_custody WHERE item_id = {gone}",
        f"DELETE FROM evidence_items WHERE id = {gone}",
    )
    [problem] = container.evidence.verify().problems
    assert (problem.item_id, problem.reason) == (
        gone,
        "the item is gone (the audit log recorded its custody)",
    )
    assert kept


def test_an_upload_being_written_is_not_expired(tmp_path: Path) -> None:
    uploads = ResumableUploads(tmp_path, max_size=100)
    busy = uploads.create(owner="a", length=10, metadata={})
    idle = uploads.create(owner="a", length=10, metadata={})
    later = utcnow() + timedelta(days=2)
    with uploads.part(busy.id).open("ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert uploads.expire(now=later) == 1
    assert uploads.status(busy.id, owner="a").offset == 0
    with pytest.raises(Exception, match="no upload"):
        uploads.status(idle.id, owner="a")
    # Each request pushes the expiry back.
    before = uploads.status(busy.id, owner="a").expires_at
    uploads.append(busy.id, owner="a", offset=0, chunks=[b"abc"])
    assert uploads.status(busy.id, owner="a").expires_at >= before


def test_redactions_a_stopped_server_left_are_marked_failed(container: Container) -> None:
    officer = add_user(container, "patrol", "operator")[0]
    item = ingest(container, officer)
    with container.db.unit_of_work() as session:
        for status in ("detecting", "rendering", "planned"):
            session.add(Redaction(item_id=item, status=status, created_by="patrol"))
    assert container.redactions.recover() == 2
    with container.db.reader() as session:
        statuses = sorted(j.status for j in session.query(Redaction))
    assert statuses == ["failed", "failed", "planned"]


def test_a_docked_folder_refuses_odd_files_one_by_one(api: Any, container: Container) -> None:
    import json

    officer = login_as(api, container, "patrol", "operator")
    analyst = login_as(api, container, "analyst", "analyst")
    side = {"device_id": "badge-1", "started_at": "2026-12-03T08:00:00+05:00"}
    files = [
        ("files", ("a.mp4", CLIP, "video/mp4")),
        ("files", ("a.json", json.dumps(side).encode(), "application/json")),
        ("files", ("a.mp4", CLIP + b"x", "video/mp4")),  # the same name again
        ("files", ("b.mp4", CLIP + b"b", "video/mp4")),
        ("files", ("b.json", json.dumps({**side, "sha256": 12}).encode(), "application/json")),
        ("files", ("c.mp4", CLIP + b"c", "video/mp4")),
        (
            "files",
            ("c.json", json.dumps({**side, "gps": [[1e400, 1, "x"]]}).encode(), "application/json"),
        ),
    ]
    assert api.post("/api/evidence/dock", files=files, headers=analyst).status_code == 403
    report = api.post("/api/evidence/dock", files=files, headers=officer).json()
    assert len(report["imported"]) == 1
    reasons = {r["file"]: r["reason"] for r in report["refused"]}
    assert set(reasons) == {"a.mp4", "b.mp4", "c.mp4"}
    assert "two files" in reasons["a.mp4"] and "sha256" in reasons["b.mp4"]
