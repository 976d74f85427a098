"""Hostile evidence packages for ``kupol evidence verify-package``: a ZIP mutated at random, and
packages whose manifest, signed by the key they enclose (anyone can sign garbage), is of any
shape. Each gets a report with its problems — never a raw exception."""

from __future__ import annotations

import base64
import io
import json
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given

from kupol.evidence.custody import GENESIS, entry_hash
from kupol.evidence.package import PackageSigner, PackedItem, build_package, verify_package
from tests.unit.fuzzing import FUZZ, hostile, json_mutated

AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def entry(seq: int, prev: str) -> dict[str, Any]:
    fields = {"seq": seq, "at": AT.isoformat(), "actor": "patrol", "action": "ingest",
              "details": {}, "prev_hash": prev}  # fmt: skip
    at = datetime.fromisoformat(fields["at"])
    return {**fields, "hash": entry_hash(item_id=1, **{**fields, "at": at})}


def a_package(tmp_path: Path) -> tuple[PackageSigner, bytes]:
    signer = PackageSigner(tmp_path / "signing.key")
    first = entry(1, GENESIS)
    custody = [first, entry(2, first["hash"])]
    item = PackedItem(metadata={"id": 1, "filename": "a.mp4"}, sha256="0" * 64,
                      filename="a.mp4", data=b"clip", custody=custody)  # fmt: skip
    data = build_package(package_id="p-1", created_at=AT, created_by="patrol", purpose="court",
                         items=[item], signer=signer)  # fmt: skip
    return signer, data


def resigned(data: bytes, manifest: object, signer: PackageSigner) -> bytes:
    """The package with ``manifest`` in place of its own, signed again by its key."""
    body = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name == "manifest.json":
                target.writestr(name, body)
            elif name == "manifest.sig":
                target.writestr(name, base64.b64encode(signer.sign(body)))
            else:
                target.writestr(name, source.read(name))
    return out.getvalue()


def verified(tmp_path: Path, data: bytes) -> list[str]:
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    return verify_package(path).problems


def test_a_package_as_built_verifies_with_only_its_file_s_hash_wrong(tmp_path: Path) -> None:
    _, data = a_package(tmp_path)
    problems = verified(tmp_path, data)
    assert len(problems) == 1 and "SHA-256" in problems[0]  # the test's hash is made up


SIGNER, PACKAGE = a_package(Path(tempfile.mkdtemp()))
with zipfile.ZipFile(io.BytesIO(PACKAGE)) as _zip:
    MANIFEST = json.loads(_zip.read("manifest.json"))


@FUZZ
@given(data=hostile(PACKAGE, noise='PK\x03\x04{}[]":'))
def test_a_mutated_package_gets_a_report(tmp_path: Path, data: bytes) -> None:
    verified(tmp_path, data)


@FUZZ
@given(manifest=json_mutated(MANIFEST))
def test_a_signed_manifest_of_any_shape_gets_a_report(tmp_path: Path, manifest: object) -> None:
    verified(tmp_path, resigned(PACKAGE, manifest, SIGNER))


def test_a_signed_manifest_that_is_no_object_gets_a_report(tmp_path: Path) -> None:
    for manifest in ([1, 2], {"items": 5}, {"items": [1, "x", None]}, "text"):
        assert verified(tmp_path, resigned(PACKAGE, manifest, SIGNER))
