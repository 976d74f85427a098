"""The evidence vault on SQLite and PostgreSQL: content-addressed and deduplicated files,
a truncated upload refused with both hashes, every action a custody entry and an audit
record, and the tamper tests — a flipped byte in a file, a deleted log row, reordered rows,
a cut-off tail — each found and named by ``verify`` and ``kupol evidence verify``."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from kupol.bootstrap import Container
from kupol.core.audit import Justification
from kupol.core.auth import Principal
from kupol.core.errors import InvalidInputError
from kupol.evidence.service import Metadata
from tests.conftest import add_user

CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
WHY = Justification(purpose="case 2611-0042 review")


@pytest.fixture
def officer(container: Container) -> Principal:
    return add_user(container, "patrol", "operator")[0]


def ingest(container: Container, officer: Principal, data: bytes = CLIP, **meta: Any) -> int:
    found = container.evidence.ingest(
        io.BytesIO(data),
        Metadata(
            filename=meta.pop("filename", "shift-0800.mp4"),
            media_type="video/mp4",
            category="bodycam",
            device_id="badge-0042",
            officer="patrol",
            started_at=datetime(2026, 12, 3, 8, tzinfo=UTC),
            ended_at=datetime(2026, 12, 3, 8, 30, tzinfo=UTC),
            **meta,
        ),
        actor=officer,
    )
    return found.item.id


def raw(container: Container, *statements: str) -> None:
    """Run SQL past the append-only triggers, as someone with the database's keys could."""
    with container.db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("ALTER TABLE evidence_custody DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS evidence_custody_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS evidence_custody_no_delete"))
        for statement in statements:
            conn.execute(text(statement))
        if postgres:
            conn.execute(text("ALTER TABLE evidence_custody ENABLE TRIGGER USER"))


def test_files_are_stored_once_and_every_action_is_in_custody(
    container: Container, officer: Principal
) -> None:
    first = ingest(container, officer)
    again = container.evidence.ingest(
        io.BytesIO(CLIP), Metadata(filename="copy.mp4", category="bodycam"), actor=officer
    )
    assert again.duplicate and again.item.id == first
    assert len(list((container.evidence.store.root / "objects").rglob("*"))) == 3  # 2 dirs + 1
    with pytest.raises(InvalidInputError, match="not the expected"):
        container.evidence.ingest(
            io.BytesIO(CLIP[:-10]),
            Metadata(filename="cut.mp4"),
            actor=officer,
            expected_sha256=again.item.sha256,
        )
    view, chunks = container.evidence.content(item_id=first, actor=officer, why=WHY)
    assert b"".join(chunks) == CLIP and view.size == len(CLIP)
    log = container.evidence.custody_log(item_id=first, actor=officer)
    assert [e["action"] for e in log] == ["ingest", "duplicate", "view"]
    assert log[2]["details"] == {"what": "file", "purpose": WHY.purpose}
    assert container.evidence.verify().ok


def test_the_custody_log_refuses_updates_and_deletes(
    container: Container, officer: Principal
) -> None:
    ingest(container, officer)
    for statement in ("UPDATE evidence_custody SET actor = 'x'", "DELETE FROM evidence_custody"):
        with pytest.raises(Exception, match="append-only"), container.db.engine.begin() as conn:
            conn.execute(text(statement))


def test_a_flipped_byte_in_a_file_is_found(container: Container, officer: Principal) -> None:
    item = ingest(container, officer)
    path = container.evidence.store.path(
        container.evidence.get(item_id=item, actor=officer, why=WHY).sha256
    )
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.chmod(0o640)
    path.write_bytes(bytes(data))
    [problem] = container.evidence.verify().problems
    assert (problem.item_id, problem.seq) == (item, None)
    assert "SHA-256 is" in problem.reason


def test_a_deleted_row_reordered_rows_and_a_cut_tail_are_found(
    container: Container, officer: Principal
) -> None:
    deleted = ingest(container, officer, filename="a.mp4")
    reordered = ingest(container, officer, data=CLIP + b"2", filename="b.mp4")
    cut = ingest(container, officer, data=CLIP + b"3", filename="c.mp4")
    for item in (deleted, reordered, cut):
        for _ in range(2):
            container.evidence.get(item_id=item, actor=officer, why=WHY)
    assert container.evidence.verify().ok
    raw(
        container,
        f"DELETE FROM evidence_custody WHERE item_id = {deleted} AND seq = 2",
        # Swap entries 2 and 3 of the second item (through a free number).
        f"UPDATE evidence_custody SET seq = 99 WHERE item_id = {reordered} AND seq = 2",
        f"UPDATE evidence_custody SET seq = 2 WHERE item_id = {reordered} AND seq = 3",
        f"UPDATE evidence_custody SET seq = 3 WHERE item_id = {reordered} AND seq = 99",
        f"DELETE FROM evidence_custody WHERE item_id = {cut} AND seq = 3",
    )
    problems = {p.item_id: p for p in container.evidence.verify().problems}
    assert set(problems) == {deleted, reordered, cut}
    assert (problems[deleted].seq, "missing" in problems[deleted].reason) == (2, True)
    assert problems[reordered].seq == 2
    assert "cut off the end" in problems[cut].reason


def test_chains_checked_by_several_processes_find_the_same_breaks(
    container: Container, officer: Principal
) -> None:
    items = [
        ingest(container, officer, data=CLIP + bytes([i]), filename=f"{i}.mp4") for i in range(8)
    ]
    for item in items:
        container.evidence.get(item_id=item, actor=officer, why=WHY)
    alone, together = container.evidence.verify(), container.evidence.verify(workers=2)
    assert alone.ok and together.ok and (together.items, together.entries) == (8, 16)
    raw(
        container,
        f"UPDATE evidence_custody SET actor = 'someone' WHERE item_id = {items[1]} AND seq = 2",
        f"DELETE FROM evidence_custody WHERE item_id = {items[6]} AND seq = 2",
    )
    found = [(p.item_id, p.seq, p.reason) for p in container.evidence.verify(workers=2).problems]
    assert found == [(p.item_id, p.seq, p.reason) for p in container.evidence.verify().problems]
    assert [(i, q) for i, q, _ in found] == [(items[1], 2), (items[6], 2)]
    assert "content was changed" in found[0][2] and "cut off the end" in found[1][2]


def test_the_command_names_the_first_broken_link(
    container: Container, officer: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from kupol import cli

    item = ingest(container, officer)
    monkeypatch.setattr(cli, "container", lambda: container)
    runner = CliRunner()
    ok = runner.invoke(cli.app, ["evidence", "verify"])
    assert ok.exit_code == 0 and "intact: 1 items" in ok.output
    raw(container, f"UPDATE evidence_custody SET actor = 'someone' WHERE item_id = {item}")
    broken = runner.invoke(cli.app, ["evidence", "verify"])
    assert broken.exit_code == 1
    assert f"item {item}, entry 1: its content was changed" in broken.output


def test_the_api_uploads_checks_the_hash_and_records_each_read(
    api: Any, container: Container
) -> None:
    import hashlib

    from tests.unit.factories import login_as

    officer = login_as(api, container, "patrol", "operator")
    analyst = login_as(api, container, "analyst", "analyst")
    form = {
        "category": "bodycam",
        "device_id": "badge-0042",
        "started_at": "2026-12-03T08:00+05:00",
    }
    digest = hashlib.sha256(CLIP).hexdigest()
    bad = api.post(
        "/api/evidence",
        files={"file": ("shift.mp4", CLIP[:-1], "video/mp4")},
        data=form,
        headers={**officer, "X-Content-SHA256": digest},
    )
    assert bad.status_code == 422 and digest in bad.text
    made = api.post(
        "/api/evidence",
        files={"file": ("shift.mp4", CLIP, "video/mp4")},
        data=form,
        headers={**officer, "X-Content-SHA256": digest},
    )
    assert made.status_code == 201, made.text
    item = made.json()
    assert (item["sha256"], item["duplicate"], item["device_id"]) == (digest, False, "badge-0042")
    assert (
        api.post(
            "/api/evidence",
            files={"file": ("x.mp4", CLIP)},
            data={"category": "weird"},
            headers=officer,
        ).status_code
        == 422
    )
    url = f"/api/evidence/{item['id']}/file"
    assert api.get(url, headers=officer).status_code == 428  # a purpose first
    assert api.get(url, headers={**analyst, "X-Purpose": "curious look"}).status_code == 403
    got = api.get(url, headers={**officer, "X-Purpose": "case 2611-0042"})
    assert got.content == CLIP and got.headers["X-Content-SHA256"] == digest
    custody = api.get(f"/api/evidence/{item['id']}/custody", headers=officer).json()
    assert [e["action"] for e in custody] == ["ingest", "view"]


def test_an_export_package_verifies_offline_and_tampering_shows(
    container: Container, officer: Principal, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    from typer.testing import CliRunner

    from kupol import cli
    from kupol.evidence.package import verify_package

    investigator = add_user(container, "inv", "investigator")[0]
    first = ingest(container, officer, filename="a.mp4")
    second = ingest(container, officer, data=CLIP + b"2", filename="b.mp4")
    with pytest.raises(Exception, match=r"evidence\.export"):
        container.evidence.export(item_ids=[first], actor=officer, why=WHY)
    package_id, data = container.evidence.export(
        item_ids=[first, second], actor=investigator, why=WHY
    )
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    report = verify_package(path)
    assert report.ok and report.items == 2
    assert report.fingerprint == container.evidence.signer.fingerprint
    assert [e["action"] for e in container.evidence.custody_log(item_id=first, actor=officer)][
        -1
    ] == "export"
    assert container.evidence.verify().ok  # the export entries chain on

    runner = CliRunner()
    ok = runner.invoke(cli.app, ["evidence", "verify-package", str(path)])
    assert ok.exit_code == 0 and "2 items" in ok.output
    wrong = runner.invoke(
        cli.app, ["evidence", "verify-package", str(path), "--fingerprint", "0" * 64]
    )
    assert wrong.exit_code == 1 and "not the expected" in " ".join(wrong.output.split())

    def rewrite(change: str) -> Any:
        """A copy of the package with one member changed."""
        target = tmp_path / f"{change}.zip"
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
            for name in source.namelist():
                body = source.read(name)
                if change == "file" and name.startswith("files/") and name.endswith("a.mp4"):
                    body = body[:-1] + bytes([body[-1] ^ 1])
                if change == "manifest" and name == "manifest.json":
                    body = body.replace(b"bodycam", b"document")
                out.writestr(name, body)
        return target

    flipped = verify_package(rewrite("file"))
    assert not flipped.ok and "SHA-256 is" in flipped.problems[0]
    edited = verify_package(rewrite("manifest"))
    assert not edited.ok and "signature does not verify" in edited.problems[0]
    with zipfile.ZipFile(path) as archive:
        assert package_id.encode() in archive.read("manifest.json")


def test_retention_and_legal_hold_are_enforced_and_purges_leave_their_record(
    container: Container, officer: Principal
) -> None:
    from datetime import timedelta

    from kupol.core.auth.service import SYSTEM
    from kupol.core.errors import ConflictError
    from kupol.evidence.model import EvidenceItem

    investigator = add_user(container, "inv", "investigator")[0]
    admin = add_user(container, "root", "admin")[0]
    routine = ingest(container, officer, filename="routine.mp4")
    held = ingest(container, officer, data=CLIP + b"h", filename="held.mp4")
    case = ingest(
        container, officer, data=CLIP + b"c", filename="case.mp4", case_number="2611-0042"
    )
    view = container.evidence.get(item_id=routine, actor=officer, why=WHY)
    assert view.retain_until is not None  # bodycam without a case: 30 days
    assert 29 <= (view.retain_until - view.ingested_at).days <= 30
    with pytest.raises(ConflictError, match="retained until"):
        container.evidence.delete(item_id=routine, reason="tidy up", actor=investigator)
    with pytest.raises(Exception, match="evidence"):
        container.evidence.delete(item_id=routine, reason="tidy up", actor=admin)
    container.evidence.hold(item_id=held, reason="complaint 2026-118", actor=investigator)
    # Time passes: every retention ends (as if 40 days later).
    with container.db.unit_of_work() as session:
        for row in session.query(EvidenceItem).filter(EvidenceItem.case_number.is_(None)):
            row.retain_until = row.ingested_at - timedelta(days=1)
    with pytest.raises(ConflictError, match="legal hold"):
        container.evidence.delete(item_id=held, reason="tidy up", actor=investigator)
    with pytest.raises(ConflictError, match="not closed"):
        container.evidence.delete(item_id=case, reason="tidy up", actor=investigator)
    assert container.evidence.purge_due(actor=SYSTEM) == [routine]
    assert not container.evidence.store.path(view.sha256).exists()
    log = container.evidence.custody_log(item_id=routine, actor=officer)
    assert log[-1]["action"] == "purge" and log[-1]["actor"] == "system"
    assert container.evidence.verify().ok  # a purged file is gone on purpose
    with pytest.raises(InvalidInputError, match="within the last 31 days"):
        container.evidence.close_case(  # long ago: it would purge the case's evidence at once
            case_number="2611-0042", closed_at=datetime(1990, 1, 1, tzinfo=UTC), actor=investigator
        )
    closed = datetime.now(UTC) - timedelta(days=2)
    assert (
        container.evidence.close_case(case_number="2611-0042", closed_at=closed, actor=investigator)
        == 1
    )
    kept = container.evidence.get(item_id=case, actor=officer, why=WHY)
    assert kept.retain_until is not None  # five years on: 5 × 365 days and a leap day or two
    late = kept.retain_until - (closed + timedelta(days=5 * 365))
    assert timedelta(0) <= late <= timedelta(days=2), kept.retain_until
    container.evidence.hold(item_id=held, reason="complaint closed", actor=investigator, on=False)
    assert container.evidence.purge_due(actor=SYSTEM) == [held]


def test_a_docked_folder_is_imported_clip_by_clip(
    container: Container, officer: Principal, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import json

    from typer.testing import CliRunner

    from kupol import cli
    from kupol.evidence.docking import import_folder

    dock = tmp_path / "badge-0042"
    dock.mkdir()
    side = {
        "device_id": "badge-0042",
        "officer": "patrol",
        "started_at": "2026-12-03T08:00:00+05:00",
        "ended_at": "2026-12-03T08:30:00+05:00",
        "gps": [[51.128, 71.43, "2026-12-03T08:00:05+05:00"]],
    }
    clips = {
        "0800.mp4": (CLIP + b"1", side),
        "0830.mp4": (CLIP + b"2", {**side, "sha256": hashlib.sha256(CLIP + b"2").hexdigest()}),
        "0900.mp4": (CLIP + b"3", {**side, "sha256": "0" * 64}),  # corrupted on the way
        "0930.mp4": (CLIP + b"4", None),  # no sidecar
        "1000.mp4": (CLIP + b"5", {**side, "started_at": "yesterday"}),
    }
    for name, (data, meta) in clips.items():
        (dock / name).write_bytes(data)
        if meta is not None:
            (dock / name).with_suffix(".json").write_text(json.dumps(meta))
    report = import_folder(container.evidence, dock, actor=officer)
    assert len(report.imported) == 2 and report.duplicates == []
    refused = dict(report.refused)
    assert set(refused) == {"0900.mp4", "0930.mp4", "1000.mp4"}
    assert "not the expected" in refused["0900.mp4"] and "sidecar" in refused["0930.mp4"]
    again = import_folder(container.evidence, dock, actor=officer)
    assert again.imported == [] and sorted(again.duplicates) == sorted(report.imported)
    item = container.evidence.get(item_id=report.imported[0], actor=officer, why=WHY)
    assert (item.device_id, item.officer, item.category) == ("badge-0042", "patrol", "bodycam")
    assert item.gps == [[51.128, 71.43, "2026-12-03T08:00:05+05:00"]]

    monkeypatch.setattr(cli, "container", lambda: container)
    result = CliRunner().invoke(
        cli.app, ["evidence", "import-folder", str(dock), "--user", "patrol"]
    )
    assert result.exit_code == 1 and "already in the vault 2, refused 3" in result.output


def test_a_clip_is_linked_to_the_alerts_raised_near_its_device_while_it_recorded(
    container: Container, officer: Principal
) -> None:
    import uuid
    from datetime import timedelta

    from kupol.alerts.model import Alert, AlertRule
    from kupol.cameras.schemas import CameraCreate
    from kupol.core.auth.service import SYSTEM

    start = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 08:00 in Astana
    for camera_id, lat, lon in (("near", 51.1283, 71.4305), ("far", 51.1600, 71.4700)):
        container.cameras.register(
            camera=CameraCreate(
                id=camera_id, name=camera_id, kind="fixed", latitude=lat, longitude=lon
            ),
            actor=SYSTEM,
        )
    track = tuple(
        (51.1283 + 0.0001 * i, 71.4300, (start + timedelta(minutes=i)).isoformat())
        for i in range(31)
    )
    with container.db.unit_of_work() as session:
        rule = AlertRule(name="any", severity="high", event_types=[], created_by="t")
        session.add(rule)
        session.flush()
        for camera_id, minutes in (("near", 10), ("far", 12), ("near", 90)):
            at = start + timedelta(minutes=minutes)
            session.add(
                Alert(
                    rule_id=rule.id,
                    camera_id=camera_id,
                    first_event_id=uuid.uuid4(),
                    event_type="intrusion",
                    severity="high",
                    raised_at=at,
                    last_event_at=at,
                )
            )
    found = container.evidence.ingest(
        io.BytesIO(CLIP),
        Metadata(
            filename="shift.mp4",
            category="bodycam",
            started_at=start,
            ended_at=start + timedelta(minutes=30),
            gps=track,
        ),
        actor=officer,
    )
    [linked] = container.evidence.related_alerts(item_id=found.item.id, actor=officer)
    # Near at minute 10 (about 150 m away); not the far camera (4 km), not the one an hour on.
    assert linked.camera_id == "near" and linked.distance_m < 300
    assert linked.raised_at == start + timedelta(minutes=10)
