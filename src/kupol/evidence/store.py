"""Content-addressed storage on local disk: a file is kept once, under its SHA-256.

``objects/ab/cd/abcd…`` — written whole under a temporary name and renamed into place, so a
reader never sees half a file and two writers of the same content end with one copy.

Example:
    >>> import tempfile, io
    >>> store = ContentStore(Path(tempfile.mkdtemp()))
    >>> stored = store.put(io.BytesIO(b"frame"))
    >>> stored.sha256[:12], stored.size, stored.created
    ('9dff50df08c6', 5, True)
    >>> store.put(io.BytesIO(b"frame")).created
    False
    >>> store.read(stored.sha256)
    b'frame'
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import queue
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from kupol.core.errors import InvalidInputError, NotFoundError, StorageFullError

CHUNK = 4 * 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, kw_only=True)
class Stored:
    """A file in the store."""

    sha256: str
    size: int
    created: bool
    """False when the same content was there already (deduplicated)."""


class Store(Protocol):
    """What the vault needs of a content store: :class:`ContentStore` (local disk) or
    :class:`kupol.evidence.s3store.S3Store` (S3-compatible object storage)."""

    root: Path
    """This machine's work folder: uploads in progress, files being written."""

    def put(self, stream: BinaryIO, *, expected_sha256: str | None = None) -> Stored: ...
    def adopt(self, source: Path, *, expected_sha256: str | None = None) -> Stored: ...
    def exists(self, sha256: str) -> bool: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def read(self, sha256: str) -> bytes: ...
    def local_copy(self, sha256: str) -> contextlib.AbstractContextManager[Path]: ...
    def hash_of(self, sha256: str) -> str | None: ...
    def delete(self, sha256: str) -> bool: ...


class ContentStore:
    """Files by their SHA-256 under ``root`` (see :class:`kupol.evidence.s3store.S3Store` for
    the same on S3-compatible object storage). ``root`` also holds the work in progress on
    this machine: uploads being received and files being written."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the content ``sha256`` lives (whether or not it does)."""
        if not SHA256.match(sha256):
            raise InvalidInputError(f"{sha256!r} is not a SHA-256 in hex")
        return self.root / "objects" / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO, *, expected_sha256: str | None = None) -> Stored:
        """Store ``stream``'s bytes, hashing as they are written.

        Raises:
            InvalidInputError: the content's SHA-256 is not ``expected_sha256`` (nothing is
                kept; the message gives both).
        """
        folder = self.root / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{uuid.uuid4().hex}.part"
        try:
            with _refused_when_full(), temporary.open("wb") as out:
                sha, size = _hash_and_write(stream, out)
                out.flush()
                os.fsync(out.fileno())
            if expected_sha256 is not None and expected_sha256.lower() != sha:
                raise InvalidInputError(
                    f"the file's SHA-256 is {sha}, not the expected {expected_sha256.lower()}: "
                    "it was truncated or corrupted on the way; nothing was kept"
                )
            target = self.path(sha)
            if target.exists():
                return Stored(sha256=sha, size=size, created=False)
            with _refused_when_full():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temporary, target)
            target.chmod(0o440)  # read-only: the vault never rewrites content
            return Stored(sha256=sha, size=size, created=True)
        finally:
            temporary.unlink(missing_ok=True)

    def adopt(self, source: Path, *, expected_sha256: str | None = None) -> Stored:
        """Move the file ``source`` (on the vault's disk) into the store, hashing it first.
        A failure on the way (a full disk) leaves ``source`` in place to try again.

        Raises:
            InvalidInputError: its SHA-256 is not ``expected_sha256`` (the file is removed; the
                message gives both).
        """
        digest = hashlib.sha256()
        size = 0
        settled = False  # moved, already there, or refused: the source is done with
        try:
            with source.open("rb") as file:
                while chunk := file.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            sha = digest.hexdigest()
            if expected_sha256 is not None and expected_sha256.lower() != sha:
                settled = True
                raise InvalidInputError(
                    f"the file's SHA-256 is {sha}, not the expected {expected_sha256.lower()}: "
                    "it was truncated or corrupted on the way; nothing was kept"
                )
            target = self.path(sha)
            if target.exists():
                settled = True
                return Stored(sha256=sha, size=size, created=False)
            with _refused_when_full():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
            target.chmod(0o440)
            settled = True
            return Stored(sha256=sha, size=size, created=True)
        finally:
            if settled:
                source.unlink(missing_ok=True)

    def delete(self, sha256: str) -> bool:
        """Remove the content ``sha256`` (the vault's purge only); whether it was there."""
        path = self.path(sha256)
        if not path.exists():
            return False
        path.chmod(0o640)
        path.unlink()
        return True

    def read(self, sha256: str) -> bytes:
        """The content ``sha256``."""
        path = self.path(sha256)
        if not path.is_file():
            raise NotFoundError(f"content {sha256} is not in the vault")
        return path.read_bytes()

    def exists(self, sha256: str) -> bool:
        """Whether the content ``sha256`` is stored."""
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """The content ``sha256``, to read in chunks (close it)."""
        path = self.path(sha256)
        if not path.is_file():
            raise NotFoundError(f"content {sha256} is not in the vault")
        return path.open("rb")

    @contextlib.contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """A path on this machine holding the content (for decoders that need a file)."""
        path = self.path(sha256)
        if not path.is_file():
            raise NotFoundError(f"content {sha256} is not in the vault")
        yield path

    def hash_of(self, sha256: str) -> str | None:
        """The SHA-256 of what is stored under ``sha256`` now (``None``: missing)."""
        path = self.path(sha256)
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with path.open("rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


def _hash_and_write(stream: BinaryIO, out: BinaryIO) -> tuple[str, int]:
    """Copy ``stream`` to ``out`` while hashing it: the writes run in a second thread, so the
    hashing (which releases the GIL) and the disk work overlap; returns (SHA-256, size)."""
    digest = hashlib.sha256()
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def write() -> None:
        try:
            while (chunk := pending.get()) is not None:
                out.write(chunk)
        except BaseException as exc:  # reported to the caller below
            failed.append(exc)
            while pending.get() is not None:  # let the reader finish
                pass

    writer = threading.Thread(target=write, name="vault-writer", daemon=True)
    writer.start()
    size = 0
    try:
        while chunk := stream.read(CHUNK):
            pending.put(chunk)
            digest.update(chunk)
            size += len(chunk)
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]
    return digest.hexdigest(), size


@contextlib.contextmanager
def _refused_when_full() -> Iterator[None]:
    """A full disk or quota as the clean refusal it is (507), not an internal error."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFullError(
                "the evidence vault's disk is full: nothing was kept; free space and send again"
            ) from exc
        raise
