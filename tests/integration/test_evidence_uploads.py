"""Resumable uploads (tus 1.0.0): a file sent in pieces becomes one evidence item with its
hash checked; a dropped connection and a killed server each lose nothing that arrived, and
the client resumes from the offset the server reports; a corrupt file is refused with both
hashes; bad chunks and bad metadata are refused without harming what was accepted."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kupol.bootstrap import Container, build_container
from kupol.evidence.uploads import ResumableUploads
from tests.conftest import make_settings
from tests.integration.test_crash_recovery import free_port, start_server

DATA = bytes(range(256)) * 4096  # 1 MiB
SHA = hashlib.sha256(DATA).hexdigest()
TUS = {"Tus-Resumable": "1.0.0"}


def metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


META = metadata(
    filename="shift-0800.mp4",
    filetype="video/mp4",
    category="bodycam",
    device_id="badge-0042",
    started_at="2026-12-03T08:00:00+05:00",
    ended_at="2026-12-03T08:30:00+05:00",
    sha256=SHA,
)


def patch(offset: int, body: bytes, **headers: str) -> dict[str, Any]:
    return {
        "content": body,
        "headers": {
            **TUS,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
            **headers,
        },
    }


def test_uploads_resume_and_checks_refuse_bad_pieces(tmp_path: Path) -> None:
    uploads = ResumableUploads(tmp_path, max_size=1000)
    with pytest.raises(Exception, match="over this vault's maximum"):
        uploads.create(owner="a", length=1001, metadata={})
    up = uploads.create(owner="a", length=10, metadata={})
    assert uploads.append(up.id, owner="a", offset=0, chunks=[b"01234"]).offset == 5
    with pytest.raises(Exception, match="not the upload's offset 5"):
        uploads.append(up.id, owner="a", offset=0, chunks=[b"x"])
    with pytest.raises(Exception, match="no upload"):
        uploads.status(up.id, owner="someone else")
    bad = ("sha256", hashlib.sha256(b"56789-").digest())
    with pytest.raises(Exception, match="do not match"):
        uploads.append(up.id, owner="a", offset=5, chunks=[b"567", b"89"], checksum=bad)
    assert uploads.status(up.id, owner="a").offset == 5  # the bad chunk was dropped whole

    def dropped() -> Any:
        yield b"567"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        uploads.append(up.id, owner="a", offset=5, chunks=dropped())
    assert uploads.status(up.id, owner="a").offset == 8  # what arrived is kept
    with pytest.raises(Exception, match="more than the 2 bytes left"):
        uploads.append(up.id, owner="a", offset=8, chunks=[b"9ab"])
    good = ("sha256", hashlib.sha256(b"89").digest())
    done = uploads.append(up.id, owner="a", offset=8, chunks=[b"89"], checksum=good)
    assert done.complete and uploads.part(up.id).read_bytes() == b"0123456789"
    assert uploads.expire() == 0
    from datetime import timedelta

    from kupol.core.messages import utcnow

    assert uploads.expire(now=utcnow() + timedelta(days=2)) == 1
    assert not uploads.part(up.id).exists()


def test_a_tus_upload_becomes_an_item_with_its_hash_checked(api: Any, container: Container) -> None:
    from tests.unit.factories import login_as

    officer = login_as(api, container, "patrol", "operator")
    analyst = login_as(api, container, "analyst", "analyst")
    options = api.options("/api/evidence/uploads")
    assert options.status_code == 204
    assert "creation" in options.headers["Tus-Extension"]
    assert "sha256" in options.headers["Tus-Checksum-Algorithm"]
    base = {**officer, **TUS, "Upload-Length": str(len(DATA))}
    assert (
        api.post("/api/evidence/uploads", headers={**officer, "Upload-Length": "5"}).status_code
        == 412
    )
    assert (
        api.post(
            "/api/evidence/uploads", headers={**analyst, **TUS, "Upload-Length": "5"}
        ).status_code
        == 403
    )
    refused = api.post(
        "/api/evidence/uploads",
        headers={**base, "Upload-Metadata": metadata(category="weird", filename="x.mp4")},
    )
    assert refused.status_code == 422 and "category" in refused.json()["detail"]
    assert refused.headers["Tus-Resumable"] == "1.0.0"
    bad_meta = api.post(
        "/api/evidence/uploads", headers={**base, "Upload-Metadata": "filename %%%"}
    )
    assert bad_meta.status_code == 422

    made = api.post("/api/evidence/uploads", headers={**base, "Upload-Metadata": META})
    assert made.status_code == 201, made.text
    url = made.headers["Location"]
    assert api.head(url, headers={**analyst, **TUS}).status_code == 403
    first = api.patch(
        url,
        **patch(0, DATA[:300_000]),
    )
    assert first.status_code == 401  # no credentials
    first = api.patch(
        url, **{**patch(0, DATA[:300_000]), "headers": {**patch(0, b"")["headers"], **officer}}
    )
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "300000"
    stale = api.patch(
        url, **{**patch(0, DATA[:10]), "headers": {**patch(0, b"")["headers"], **officer}}
    )
    assert stale.status_code == 409
    head = api.head(url, headers={**officer, **TUS})
    assert head.headers["Upload-Offset"] == "300000" and head.headers["Cache-Control"] == "no-store"
    bad_sum = api.patch(
        url,
        content=DATA[300_000:400_000],
        headers={**officer, **patch(300_000, b"")["headers"],
                 "Upload-Checksum": "sha256 " + base64.b64encode(b"0" * 32).decode()},
    )  # fmt: skip
    assert bad_sum.status_code == 460
    rest = DATA[300_000:]
    good_sum = "sha256 " + base64.b64encode(hashlib.sha256(rest).digest()).decode()
    last = api.patch(
        url,
        content=rest,
        headers={**officer, **patch(300_000, b"")["headers"], "Upload-Checksum": good_sum},
    )
    assert last.status_code == 204, last.text
    item_id = int(last.headers["X-Evidence-Item"])
    assert last.headers["X-Evidence-Duplicate"] == "false"
    assert api.head(url, headers={**officer, **TUS}).headers["X-Evidence-Item"] == str(item_id)
    got = api.get(f"/api/evidence/{item_id}/file", headers={**officer, "X-Purpose": "check upload"})
    assert got.content == DATA
    item = api.get(f"/api/evidence/{item_id}", headers={**officer, "X-Purpose": "check"}).json()
    assert (item["filename"], item["category"], item["device_id"], item["media_type"]) == (
        "shift-0800.mp4", "bodycam", "badge-0042", "video/mp4")  # fmt: skip
    assert not list(container.evidence.uploads.root.glob("*.part"))

    # Corrupt on the way: the bytes all arrive but their hash is not the declared one.
    corrupt = api.post("/api/evidence/uploads", headers={**base, "Upload-Metadata": META})
    flipped = bytearray(DATA)
    flipped[1000] ^= 1
    refused = api.patch(
        corrupt.headers["Location"],
        content=bytes(flipped),
        headers={**officer, **patch(0, b"")["headers"]},
    )
    assert refused.status_code == 422
    assert (
        SHA in refused.json()["detail"]
        and hashlib.sha256(flipped).hexdigest() in refused.json()["detail"]
    )
    assert api.head(corrupt.headers["Location"], headers={**officer, **TUS}).status_code == 404
    assert container.evidence.verify().ok

    # Creation with upload, the same content again: deduplicated.
    again = api.post(
        "/api/evidence/uploads",
        content=DATA,
        headers={
            **base,
            "Upload-Metadata": META,
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert again.status_code == 201, again.text
    assert again.headers["X-Evidence-Item"] == str(item_id)
    assert again.headers["X-Evidence-Duplicate"] == "true"
    ended = api.post("/api/evidence/uploads", headers={**base, "Upload-Metadata": META})
    assert api.delete(ended.headers["Location"], headers={**officer, **TUS}).status_code == 204
    assert api.head(ended.headers["Location"], headers={**officer, **TUS}).status_code == 404


# --------------------------------------------------------------------- a real server


def _raw_patch(port: int, path: str, token: str, offset: int, body: bytes, declared: int) -> None:
    """Send a PATCH that claims ``declared`` bytes, send ``body`` and drop the connection."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        head = (
            f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Upload-Offset: {offset}\r\nContent-Length: {declared}\r\n\r\n"
        )
        conn.sendall(head.encode() + body)
        time.sleep(0.5)  # the server writes what it got
        conn.shutdown(socket.SHUT_RDWR)


def _offset(base: str, path: str, token: str, want_at_least: int) -> int:
    deadline = time.time() + 10
    while True:
        head = httpx.head(base + path, headers={**TUS, "Authorization": f"Bearer {token}"})
        assert head.status_code == 200, head.text
        offset = int(head.headers["Upload-Offset"])
        if offset >= want_at_least or time.time() > deadline:
            return offset
        time.sleep(0.2)


@pytest.mark.slow
def test_an_upload_survives_a_dropped_connection_and_a_killed_server(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(database_url=sqlite_url, data_dir=tmp_path / "data")
    setup = build_container(settings)
    setup.auth.create_user(username="badge", password="badge-password-1", roles=["device"])
    setup.db.dispose()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KUPOL_")},
        "KUPOL_MODE": "dev",
        "KUPOL_DATABASE__URL": sqlite_url,
        "KUPOL_BUS__TYPE": "memory",
        "KUPOL_DATA_DIR": str(tmp_path / "data"),
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(env, port, tmp_path)
    try:
        token = httpx.post(
            f"{base}/api/auth/login", json={"username": "badge", "password": "badge-password-1"}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        made = httpx.post(
            f"{base}/api/evidence/uploads",
            headers={**auth, **TUS, "Upload-Length": str(len(DATA)), "Upload-Metadata": META},
        )
        assert made.status_code == 201, made.text
        path = made.headers["Location"]

        # 1. The connection drops a third of the way through a request for the whole file.
        _raw_patch(port, path, token, 0, DATA[:350_000], declared=len(DATA))
        kept = _offset(base, path, token, 350_000)
        assert kept == 350_000  # every byte that arrived

        # 2. The server is killed (-9) in the middle of the next request.
        _raw_patch(port, path, token, kept, DATA[kept:700_000], declared=len(DATA) - kept)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        server = start_server(env, port, tmp_path)
        kept = _offset(base, path, token, 0)
        assert 350_000 < kept <= 700_000

        # 3. The client resumes from the offset the server gives; the item is whole.
        resume = patch(kept, DATA[kept:])
        resume["headers"].update(auth)
        last = httpx.patch(base + path, **resume)
        assert last.status_code == 204, last.text
        item_id = last.headers["X-Evidence-Item"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    check = build_container(settings)
    try:
        report = check.evidence.verify()
        assert report.ok and report.items == 1
        with check.db.reader() as session:
            from kupol.evidence.model import EvidenceItem

            item = session.get(EvidenceItem, int(item_id))
            assert item is not None and item.sha256 == SHA and item.size == len(DATA)
    finally:
        check.db.dispose()
