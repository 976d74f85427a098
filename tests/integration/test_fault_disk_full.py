"""Fault: the evidence vault's disk fills up (a real 3 MB tmpfs under the vault). Uploads are
refused cleanly (507, nothing kept) once it is full; every file kept is whole (its SHA-256 is
its name); no temporary file is left; sent = stored + refused."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kupol.api import create_app
from kupol.bootstrap import build_container
from kupol.evidence.model import EvidenceItem
from tests.conftest import make_settings
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI and this machine run as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_vault_disk_refuses_uploads_cleanly_and_keeps_every_file_whole(
    small_disk: Path, tmp_path: Path
) -> None:
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'kupol.sqlite'}",
                             data_dir=small_disk)  # fmt: skip
    from kupol.core.db import upgrade

    upgrade(settings.database.url)
    container = build_container(settings)
    try:
        with TestClient(create_app(container)) as api:
            officer = login_as(api, container, "patrol", "operator")
            sent = stored = refused = 0
            for n in range(12):  # 12 × 400 KB into 3 MB
                data = os.urandom(400_000)
                got = api.post("/api/evidence", headers=officer, data={"category": "bodycam"},
                               files={"file": (f"clip-{n}.mp4", data, "video/mp4")})  # fmt: skip
                sent += 1
                if got.status_code == 201:
                    stored += 1
                else:
                    assert got.status_code == 507, got.text
                    assert got.json()["title"] == "Insufficient storage"
                    refused += 1
        assert refused > 0 and stored > 0
        with container.db.reader() as session:
            items = session.scalar(select(func.count()).select_from(EvidenceItem))
        assert sent == stored + refused and items == stored
        objects = [p for p in (small_disk / "vault" / "objects").rglob("*") if p.is_file()]
        assert len(objects) == stored
        for path in objects:  # whole: the content is what its name says
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
        assert not list((small_disk / "vault" / "incoming").glob("*.part"))
    finally:
        container.db.dispose()
