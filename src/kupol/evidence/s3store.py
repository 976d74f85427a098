"""Content-addressed storage on S3-compatible object storage (MinIO, Garage, Ceph, AWS S3):
the scale-out option of the vault, with the same operations as the local
:class:`~kupol.evidence.store.ContentStore`.

An object is ``<prefix>objects/ab/cd/abcd…`` in the bucket, carrying its SHA-256 as metadata
(``x-amz-meta-sha256``). A file is hashed on this machine before it is sent (the name is its
hash, so it must be known first): it is spooled to the local work folder while hashing, checked
against the hash the uploader declared, then uploaded (multipart above 64 MB) — never
overwritten when the same content is there already. Reads stream the object; decoders that
need a file get a temporary local copy. Make the bucket write-once in the storage itself
(object lock or a policy without ``DeleteObject`` for all but the purge's credentials): the
vault never rewrites content, and the chain of custody finds any object that changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from kupol.core.errors import ConfigError, InvalidInputError, NotFoundError
from kupol.evidence.store import CHUNK, SHA256, Stored

MULTIPART = 64 * 1024 * 1024


class S3Store:
    """Files by their SHA-256 in ``bucket``; ``root`` is this machine's work folder."""

    def __init__(self, root: Path, *, client: Any, bucket: str, prefix: str = "") -> None:
        self.root = root
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client = client

    @classmethod
    def connect(
        cls,
        root: Path,
        *,
        endpoint: str,
        bucket: str,
        prefix: str = "",
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> S3Store:
        """A store on the S3 service at ``endpoint`` (the bucket must exist)."""
        try:
            import boto3
            from botocore.config import Config
        except ImportError:  # pragma: no cover - boto3 is a dependency
            raise ConfigError("S3 storage needs boto3 (pip install boto3)") from None
        client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"}, s3={"addressing_style": "path"}
            ),
        )
        return cls(root, client=client, bucket=bucket, prefix=prefix)

    def key(self, sha256: str) -> str:
        """The object key of the content ``sha256``."""
        if not SHA256.match(sha256):
            raise InvalidInputError(f"{sha256!r} is not a SHA-256 in hex")
        return f"{self.prefix}objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _missing(self, exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def exists(self, sha256: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except Exception as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def put(self, stream: BinaryIO, *, expected_sha256: str | None = None) -> Stored:
        """Store ``stream``'s bytes (hashed while spooled locally, then uploaded)."""
        folder = self.root / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        spool = folder / f"{uuid.uuid4().hex}.part"
        with spool.open("wb") as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
        try:
            return self.adopt(spool, expected_sha256=expected_sha256)
        finally:
            spool.unlink(missing_ok=True)  # the caller's stream is the copy to retry from

    def adopt(self, source: Path, *, expected_sha256: str | None = None) -> Stored:
        """Upload the local file ``source`` (then remove it), hashing it first.

        Raises:
            InvalidInputError: its SHA-256 is not ``expected_sha256`` (nothing is uploaded).
        """
        from boto3.s3.transfer import TransferConfig

        settled = False  # moved, already there, or refused: the source is done with
        try:
            digest = hashlib.sha256()
            size = 0
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
            if self.exists(sha):
                settled = True
                return Stored(sha256=sha, size=size, created=False)
            self._client.upload_file(
                str(source),
                self.bucket,
                self.key(sha),
                ExtraArgs={"Metadata": {"sha256": sha}},
                Config=TransferConfig(multipart_threshold=MULTIPART, multipart_chunksize=MULTIPART),
            )
            settled = True
            return Stored(sha256=sha, size=size, created=True)
        finally:
            if settled:  # a failure on the way (disk, network) keeps the file to retry
                source.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        """The object, streamed (close it)."""
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except Exception as exc:
            if self._missing(exc):
                raise NotFoundError(f"content {sha256} is not in the vault") from None
            raise
        body: BinaryIO = response["Body"]
        return body

    def read(self, sha256: str) -> bytes:
        with contextlib.closing(self.open(sha256)) as body:
            return body.read()

    @contextlib.contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """A temporary local copy of the object (removed afterwards)."""
        folder = self.root / "cache"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{sha256}-{uuid.uuid4().hex[:8]}"
        try:
            with contextlib.closing(self.open(sha256)) as body, path.open("wb") as out:
                while chunk := body.read(CHUNK):
                    out.write(chunk)
            yield path
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def hash_of(self, sha256: str) -> str | None:
        """The SHA-256 of the object's bytes now (``None``: missing)."""
        try:
            body = self.open(sha256)
        except NotFoundError:
            return None
        digest = hashlib.sha256()
        with contextlib.closing(body):
            while chunk := body.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def delete(self, sha256: str) -> bool:
        """Remove the object (the vault's purge only); whether it was there."""
        if not self.exists(sha256):
            return False
        self._client.delete_object(Bucket=self.bucket, Key=self.key(sha256))
        return True
