"""The evidence vault on S3-compatible object storage, against a real S3 server process
(moto's server mode: no MinIO or Garage binary installs from the registries this machine
reaches): files stored once under their hash with it as metadata, a corrupt upload refused
with both hashes, streamed reads, resumable uploads and export packages through the API, an
object changed or deleted behind the vault's back found by ``verify``, and the purge."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kupol.bootstrap import Container, build_container
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import utcnow
from kupol.evidence.model import EvidenceItem
from kupol.evidence.s3store import S3Store
from kupol.evidence.service import Metadata
from tests.conftest import add_user, make_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CLIP = b"\x00\x00\x00\x18ftypmp42" + os.urandom(3 * 1024 * 1024)


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 server (moto's server mode) in its own process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("s3") / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                raise AssertionError(
                    "the S3 server did not start: " + log.read_text()[-2000:]
                ) from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def s3(s3_endpoint: str, database_url: str, tmp_path: Path) -> Iterator[tuple[Container, Any]]:
    import boto3

    bucket = f"vault-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=bucket)
    settings = make_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        evidence={
            "storage": "s3",
            "s3_endpoint": s3_endpoint,
            "s3_bucket": bucket,
            "s3_access_key": "test",
            "s3_secret_key": "test",
        },
    )
    container = build_container(settings)
    assert isinstance(container.evidence.store, S3Store)
    yield container, client
    container.db.dispose()


def meta(**fields: Any) -> Metadata:
    return Metadata(
        filename=fields.pop("filename", "shift.mp4"),
        media_type="video/mp4",
        category="bodycam",
        device_id="badge-0042",
        **fields,
    )


def test_files_live_in_the_bucket_once_and_tampering_there_is_found(
    s3: tuple[Container, Any],
) -> None:
    container, client = s3
    store = container.evidence.store
    assert isinstance(store, S3Store)
    officer = add_user(container, "patrol", "operator")[0]
    digest = hashlib.sha256(CLIP).hexdigest()
    with pytest.raises(Exception, match="not the expected") as refused:
        container.evidence.ingest(
            io.BytesIO(CLIP[:-5]), meta(), actor=officer, expected_sha256=digest
        )
    assert hashlib.sha256(CLIP[:-5]).hexdigest() in str(refused.value)
    first = container.evidence.ingest(
        io.BytesIO(CLIP), meta(), actor=officer, expected_sha256=digest
    )
    again = container.evidence.ingest(io.BytesIO(CLIP), meta(filename="copy.mp4"), actor=officer)
    assert again.duplicate and again.item.id == first.item.id
    listed = client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [store.key(digest)]
    head = client.head_object(Bucket=store.bucket, Key=store.key(digest))
    assert head["Metadata"]["sha256"] == digest and head["ContentLength"] == len(CLIP)
    assert not list((store.root / "incoming").iterdir())  # nothing left spooled

    from kupol.core.audit import Justification

    _, chunks = container.evidence.content(
        item_id=first.item.id, actor=officer, why=Justification(purpose="check the upload")
    )
    assert b"".join(chunks) == CLIP
    with store.local_copy(digest) as path:
        assert path.read_bytes() == CLIP
    assert not path.exists()
    assert container.evidence.verify().ok

    flipped = bytearray(CLIP)
    flipped[1000] ^= 1
    client.put_object(Bucket=store.bucket, Key=store.key(digest), Body=bytes(flipped))
    report = container.evidence.verify()
    assert (
        not report.ok
        and f"SHA-256 is {hashlib.sha256(flipped).hexdigest()}" in report.problems[0].reason
    )
    client.delete_object(Bucket=store.bucket, Key=store.key(digest))
    assert "missing" in container.evidence.verify().problems[0].reason


def test_uploads_exports_and_the_purge_work_on_the_bucket(
    s3: tuple[Container, Any], tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from kupol.api import create_app
    from kupol.evidence.package import verify_package
    from tests.integration.test_evidence_uploads import DATA as TUS_DATA
    from tests.integration.test_evidence_uploads import META, SHA, TUS, patch
    from tests.unit.factories import login_as

    container, client = s3
    store = container.evidence.store
    assert isinstance(store, S3Store)
    with TestClient(create_app(container)) as api:
        officer = login_as(api, container, "inv", "investigator")
        made = api.post(
            "/api/evidence/uploads",
            headers={
                **officer,
                **TUS,
                "Upload-Length": str(len(TUS_DATA)),
                "Upload-Metadata": META,
            },
        )
        url = made.headers["Location"]
        half = len(TUS_DATA) // 2
        first = patch(0, TUS_DATA[:half])
        first["headers"].update(officer)
        assert api.patch(url, **first).status_code == 204
        rest = patch(half, TUS_DATA[half:])
        rest["headers"].update(officer)
        done = api.patch(url, **rest)
        assert done.status_code == 204, done.text
        item_id = int(done.headers["X-Evidence-Item"])
        assert client.head_object(Bucket=store.bucket, Key=store.key(SHA))["ContentLength"] == len(
            TUS_DATA
        )
        exported = api.post(
            "/api/evidence/export",
            json={"item_ids": [item_id]},
            headers={**officer, "X-Purpose": "court, case 2612-0042"},
        )
        assert exported.status_code == 200
        package = tmp_path / "p.zip"
        package.write_bytes(exported.content)
        assert verify_package(package).ok

    # The purge takes an item past its retention off the bucket; its record and custody stay.
    with container.db.unit_of_work() as session:
        item = session.get(EvidenceItem, item_id)
        assert item is not None
        item.retain_until = utcnow() - timedelta(days=1)
    assert container.evidence.purge_due(actor=SYSTEM) == [item_id]
    assert not store.exists(SHA)
    assert container.evidence.verify().ok
