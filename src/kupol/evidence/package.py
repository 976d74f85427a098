"""Export packages: a ZIP a court or a prosecutor can check without kupol's servers.

``package.zip``:

- ``files/<sha256>-<name>`` — each item's file;
- ``manifest.json`` — the package (id, time, who, purpose), each item's metadata, SHA-256 and
  size, and its whole chain of custody up to and including this export;
- ``manifest.sig`` — an Ed25519 signature of ``manifest.json``'s exact bytes;
- ``signing-key.pem`` — the public key, whose fingerprint (SHA-256 of its raw bytes) the
  deployment publishes; :func:`verify_package` prints it to compare.

:func:`verify_package` (``kupol evidence verify-package FILE``) checks the signature, every
file's SHA-256 and size against the manifest, and every chain of custody in it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from kupol.core.errors import InvalidInputError
from kupol.evidence.custody import GENESIS, entry_hash

MANIFEST, SIGNATURE, KEY = "manifest.json", "manifest.sig", "signing-key.pem"
MALFORMED = (AttributeError, KeyError, IndexError, TypeError, ValueError, OverflowError)
"""What reading a manifest's item of the wrong shape raises (a field missing, of the wrong
type, a time that is no time)."""
UNREADABLE = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError)
"""What reading a damaged member of a ZIP raises (a bad CRC, a broken stream, a bad offset)."""
FORMAT = "kupol-evidence-package/1"


class PackageSigner:
    """The deployment's Ed25519 key for packages, made once and kept beside the data
    (``<data_dir>/evidence-signing.key``, readable by its owner only)."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise InvalidInputError(f"{path} is not an Ed25519 private key")
        self._key = loaded

    @property
    def public_pem(self) -> bytes:
        """The public key (PEM)."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key: what the deployment publishes."""
        return fingerprint(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        """The signature of ``data``."""
        return self._key.sign(data)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of a public key's raw 32 bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, kw_only=True)
class PackedItem:
    """An item to pack: its metadata, file and chain of custody."""

    metadata: dict[str, Any]
    sha256: str
    filename: str
    data: bytes
    custody: list[dict[str, Any]]


def build_package(
    *,
    package_id: str,
    created_at: datetime,
    created_by: str,
    purpose: str,
    items: list[PackedItem],
    signer: PackageSigner,
) -> bytes:
    """The ZIP (bytes) of ``items``, its manifest signed."""
    entries: list[dict[str, Any]] = [
        {
            **item.metadata,
            "sha256": item.sha256,
            "size": len(item.data),
            "path": f"files/{item.sha256}-{_safe(item.filename)}",
            "custody": item.custody,
        }
        for item in items
    ]
    manifest = {
        "format": FORMAT,
        "package": package_id,
        "created_at": created_at.isoformat(),
        "created_by": created_by,
        "purpose": purpose,
        "key_fingerprint": signer.fingerprint,
        "items": entries,
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item, entry in zip(items, entries, strict=True):
            archive.writestr(entry["path"], item.data)
        archive.writestr(MANIFEST, body)
        archive.writestr(SIGNATURE, base64.b64encode(signer.sign(body)))
        archive.writestr(KEY, signer.public_pem)
    return out.getvalue()


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned[:120] or "file"


@dataclass(kw_only=True)
class PackageReport:
    """What :func:`verify_package` found."""

    fingerprint: str | None = None
    items: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the package is intact."""
        return not self.problems


def verify_package(path: Path) -> PackageReport:
    """Check a package offline: its signature, files and chains of custody."""
    report = PackageReport()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"not a readable ZIP: {exc}")
        return report
    with archive:
        names = set(archive.namelist())
        missing = [n for n in (MANIFEST, SIGNATURE, KEY) if n not in names]
        if missing:
            report.problems.append(f"missing {', '.join(missing)}")
            return report
        try:
            body, pem, signature = (archive.read(n) for n in (MANIFEST, KEY, SIGNATURE))
        except UNREADABLE as exc:
            report.problems.append(f"the manifest, key or signature cannot be read: {exc}")
            return report
        try:
            key = serialization.load_pem_public_key(pem)
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 key")
            report.fingerprint = fingerprint(key)
            key.verify(base64.b64decode(signature), body)
        except (ValueError, InvalidSignature) as exc:
            report.problems.append(f"the manifest's signature does not verify ({exc or 'invalid'})")
            return report
        try:
            manifest = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            report.problems.append(f"the manifest is not JSON: {exc}")
            return report
        # The signature proves only that the enclosed key signed it: anyone can sign garbage.
        items = manifest.get("items", []) if isinstance(manifest, dict) else None
        if not isinstance(items, list):
            report.problems.append("the manifest is not an object with a list of items")
            return report
        if manifest.get("key_fingerprint") != report.fingerprint:
            report.problems.append("the manifest names another signing key than the one enclosed")
        for item in items:
            report.items += 1
            try:
                _check_item(archive, names, item, report)
            except (*MALFORMED, *UNREADABLE) as exc:
                report.problems.append(
                    f"item {report.items} of the manifest is malformed: {type(exc).__name__}: {exc}"
                )
    return report


def _check_item(
    archive: zipfile.ZipFile, names: set[str], item: dict[str, Any], report: PackageReport
) -> None:
    label = f"item {item.get('id')} ({item.get('path')})"
    if item.get("path") not in names:
        report.problems.append(f"{label}: its file is missing from the package")
    else:
        data = archive.read(item["path"])
        actual = hashlib.sha256(data).hexdigest()
        if actual != item.get("sha256"):
            report.problems.append(f"{label}: SHA-256 is {actual}, not {item.get('sha256')}")
        elif len(data) != item.get("size"):
            report.problems.append(f"{label}: {len(data)} bytes, not {item.get('size')}")
    prev = GENESIS
    for expected, entry in enumerate(item.get("custody", []), start=1):
        recomputed = entry_hash(
            item_id=int(item["id"]),
            seq=int(entry["seq"]),
            at=datetime.fromisoformat(entry["at"]),
            actor=entry["actor"],
            action=entry["action"],
            details=entry["details"],
            prev_hash=entry["prev_hash"],
        )
        if entry["seq"] != expected or entry["prev_hash"] != prev or recomputed != entry["hash"]:
            report.problems.append(f"{label}: custody entry {expected} is broken")
            return
        prev = entry["hash"]
