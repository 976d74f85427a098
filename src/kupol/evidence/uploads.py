"""Resumable uploads (the tus 1.0.0 protocol's core, with its creation, termination, checksum
and expiration extensions), so a body camera's two-gigabyte shift survives a dropped
connection or a restarted server.

Each upload is two files under ``<vault>/uploads/``: ``<id>.json`` (who, how long, the
metadata, when it expires) and ``<id>.part`` (the bytes received so far, appended as they
arrive and fsynced at the end of every request, or when the client goes away). The offset a
client resumes from is the ``.part`` file's size, so it is right after a killed connection
and after a killed server alike. When the last byte arrives the vault adopts the file: its
SHA-256 is computed and checked against the one the client declared, and the file is moved
(not copied) into the content store.

The state lives beside the bytes it describes, on the vault's disk: a deployment that runs
several API servers gives them one shared vault folder.

Example:
    >>> import tempfile
    >>> uploads = ResumableUploads(Path(tempfile.mkdtemp()), max_size=1 << 20)
    >>> up = uploads.create(owner="patrol", length=5, metadata={"filename": "a.mp4"})
    >>> uploads.append(up.id, owner="patrol", offset=0, chunks=[b"fra"]).offset
    3
    >>> uploads.append(up.id, owner="patrol", offset=3, chunks=[b"me"]).complete
    True
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from kupol.core.errors import ConflictError, InvalidInputError, KupolError, NotFoundError
from kupol.core.messages import utcnow

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
CHECKSUMS = ("sha256", "sha1", "md5")
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
METADATA_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ChecksumMismatchError(KupolError):
    """A chunk's bytes do not match its ``Upload-Checksum`` (tus: 460); the chunk is dropped."""

    status = 460
    title = "Checksum mismatch"
    exit_code = 2


class UploadLockedError(KupolError):
    """Another request is writing the same upload now."""

    status = 423
    title = "Locked"
    exit_code = 5


@dataclass(frozen=True, kw_only=True)
class Upload:
    """An upload's state."""

    id: str
    owner: str
    length: int
    metadata: dict[str, str]
    created_at: str
    expires_at: str
    offset: int = 0
    item_id: int | None = None
    """The evidence item the completed upload became."""
    duplicate: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every byte has arrived."""
        return self.offset >= self.length


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (a value may be empty).

    >>> parse_metadata("filename c2hpZnQubXA0,is_confidential")
    {'filename': 'shift.mp4', 'is_confidential': ''}
    """
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        if not METADATA_KEY.match(key):
            raise InvalidInputError(f"Upload-Metadata: {key[:40]!r} is not a valid key")
        if key in found:
            raise InvalidInputError(f"Upload-Metadata: {key!r} is given twice")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except ValueError:  # not base64 (binascii.Error, or not even ASCII) or not UTF-8
            raise InvalidInputError(
                f"Upload-Metadata: the value of {key!r} is not base64 of UTF-8 text"
            ) from None
    return found


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``."""
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise InvalidInputError(
            f"Upload-Checksum: algorithm {algorithm[:20]!r} is not one of {', '.join(CHECKSUMS)}"
        )
    try:
        return algorithm, base64.b64decode(value.strip(), validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        raise InvalidInputError("Upload-Checksum: the digest is not base64") from None


class ResumableUploads:
    """Uploads in progress under ``root``."""

    def __init__(self, root: Path, *, max_size: int, expire_after: timedelta | None = None) -> None:
        self.root = root
        self.max_size = max_size
        self.expire_after = expire_after or timedelta(hours=24)

    # ------------------------------------------------------------------ files
    def _state(self, upload_id: str) -> Path:
        if not UPLOAD_ID.match(upload_id):
            raise NotFoundError(f"no upload {upload_id[:40]!r}")
        return self.root / f"{upload_id}.json"

    def part(self, upload_id: str) -> Path:
        """Where an upload's bytes are gathered."""
        return self._state(upload_id).with_suffix(".part")

    def _save(self, upload: Upload) -> None:
        state = self._state(upload.id)
        temporary = state.with_suffix(".json.tmp")
        data = {k: v for k, v in asdict(upload).items() if k != "offset"}
        temporary.write_text(json.dumps(data, ensure_ascii=False))
        os.replace(temporary, state)

    def _load(self, upload_id: str) -> Upload:
        state = self._state(upload_id)
        try:
            data = json.loads(state.read_text())
        except FileNotFoundError:
            raise NotFoundError(
                f"no upload {upload_id} (finished long ago, ended or never made)"
            ) from None
        upload = Upload(**data)
        part = self.part(upload_id)
        offset = (
            upload.length
            if upload.item_id is not None
            else (part.stat().st_size if part.exists() else 0)
        )
        return replace(upload, offset=offset)

    # ------------------------------------------------------------------ protocol
    def create(self, *, owner: str, length: int, metadata: dict[str, str]) -> Upload:
        """A new, empty upload of ``length`` bytes."""
        if length < 0:
            raise InvalidInputError("Upload-Length must be 0 or more")
        if length > self.max_size:
            raise InvalidInputError(
                f"Upload-Length {length} is over this vault's maximum of {self.max_size} bytes"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        now = utcnow()
        upload = Upload(
            id=uuid.uuid4().hex,
            owner=owner,
            length=length,
            metadata=metadata,
            created_at=now.isoformat(),
            expires_at=(now + self.expire_after).isoformat(),
        )
        self.part(upload.id).touch()
        self._save(upload)
        return upload

    def status(self, upload_id: str, *, owner: str) -> Upload:
        """An upload's state, for its owner only."""
        upload = self._load(upload_id)
        if upload.owner != owner:
            raise NotFoundError(f"no upload {upload_id} of yours")
        return upload

    def append(
        self,
        upload_id: str,
        *,
        owner: str,
        offset: int,
        chunks: Iterable[bytes],
        checksum: tuple[str, bytes] | None = None,
    ) -> Upload:
        """Append a request's bytes at ``offset`` (see :meth:`append_async`)."""
        with self._writer(upload_id, owner=owner, offset=offset) as (upload, out):
            written = _Writer(out, upload, checksum)
            try:
                for chunk in chunks:
                    written.add(chunk)
            finally:
                written.close()
            written.check()
            return replace(upload, offset=upload.offset + written.size)

    async def append_async(
        self,
        upload_id: str,
        *,
        owner: str,
        offset: int,
        chunks: AsyncIterator[bytes],
        checksum: tuple[str, bytes] | None = None,
        complete: Callable[[Upload], Awaitable[Upload]] | None = None,
    ) -> Upload:
        """Append a request's bytes at ``offset``, which must be the upload's current offset;
        when the last byte is in, ``complete`` turns the upload into an item (under the lock).

        Every byte that arrives is kept, even when the client goes away mid-request (the
        iterator raises): the client asks the offset (HEAD) and sends the rest. With a
        checksum the request's bytes are kept only if they match it.
        """
        with self._writer(upload_id, owner=owner, offset=offset) as (upload, out):
            written = _Writer(out, upload, checksum)
            try:
                async for chunk in chunks:
                    written.add(chunk)
            finally:
                written.close()
            written.check()
            upload = replace(upload, offset=upload.offset + written.size)
            if upload.complete and complete is not None:
                # Still holding the upload's lock: a retry, a DELETE or the expiry cannot
                # touch the file while it becomes an item.
                upload = await complete(upload)
            return upload

    @contextlib.contextmanager
    def _writer(
        self, upload_id: str, *, owner: str, offset: int
    ) -> Iterator[tuple[Upload, io.BufferedWriter]]:
        upload = self.status(upload_id, owner=owner)
        if upload.item_id is not None:
            raise ConflictError(f"upload {upload_id} is complete (evidence item {upload.item_id})")
        with self.part(upload_id).open("ab") as out:
            try:
                fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadLockedError(
                    f"another request is writing upload {upload_id}; ask its offset (HEAD) and "
                    "retry when it ends"
                ) from None
            current = os.fstat(out.fileno()).st_size
            if upload.item_id is None:  # still in progress: it expires a day after this request
                upload = replace(upload, expires_at=(utcnow() + self.expire_after).isoformat())
                self._save(upload)
            if offset != current:
                raise ConflictError(
                    f"Upload-Offset {offset} is not the upload's offset {current}: ask it (HEAD) "
                    "and send from there"
                )
            yield replace(upload, offset=current), out

    def finish(self, upload: Upload, *, item_id: int, duplicate: bool) -> Upload:
        """Record the evidence item a complete upload became (its bytes are gone by then)."""
        done = replace(upload, item_id=item_id, duplicate=duplicate, offset=upload.length)
        self._save(done)
        self.part(upload.id).unlink(missing_ok=True)
        return done

    def forget(self, upload_id: str) -> None:
        """Remove an upload's state and bytes (its owner's lock is held by the caller)."""
        self.part(upload_id).unlink(missing_ok=True)
        self._state(upload_id).unlink(missing_ok=True)

    def terminate(self, upload_id: str, *, owner: str) -> None:
        """Abandon an upload: its bytes and state go."""
        upload = self.status(upload_id, owner=owner)
        self.part(upload.id).unlink(missing_ok=True)
        self._state(upload.id).unlink(missing_ok=True)

    def expire(self, *, now: datetime | None = None) -> int:
        """Remove uploads past their expiry (unfinished: bytes and state; finished: the
        record of which item they became); how many."""
        now = now or utcnow()
        removed = 0
        if not self.root.is_dir():
            return 0
        for state in self.root.glob("*.json"):
            try:
                expires = datetime.fromisoformat(json.loads(state.read_text())["expires_at"])
            except (OSError, ValueError, KeyError):
                continue
            if expires > now:
                continue
            part = state.with_suffix(".part")
            try:
                with part.open("ab") as held:
                    fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    part.unlink(missing_ok=True)
                    state.unlink(missing_ok=True)
            except BlockingIOError:
                continue  # being written right now: not abandoned
            removed += 1
        return removed


class _Writer:
    """Appends a request's chunks, within the upload's length, hashing them for a checksum."""

    def __init__(
        self, out: io.BufferedWriter, upload: Upload, checksum: tuple[str, bytes] | None
    ) -> None:
        self.out = out
        self.start = upload.offset
        self.room = upload.length - upload.offset
        self.checksum = checksum
        self.digest = hashlib.new(checksum[0]) if checksum else None
        self.size = 0

    def add(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self.room:
            raise InvalidInputError(
                f"the request carries more than the {self.room} bytes left of the upload"
            )
        self.out.write(chunk)
        self.size += len(chunk)
        if self.digest is not None:
            self.digest.update(chunk)

    def close(self) -> None:
        """Make what arrived durable — or, with a checksum, drop all of it unless it matches."""
        self.out.flush()
        if self.checksum is not None and (
            self.digest is None or self.digest.digest() != self.checksum[1]
        ):
            self.out.truncate(self.start)
            self.size, self.digest = 0, None
        os.fsync(self.out.fileno())

    def check(self) -> None:
        if self.checksum is not None and self.digest is None:
            raise ChecksumMismatchError(
                f"the request's bytes do not match its {self.checksum[0]} Upload-Checksum: "
                "none of them were kept"
            )
