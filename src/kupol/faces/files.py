"""Photos and face crops on disk, under the evidence folder, named by what they hold."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.faces.types import Image

MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000


def decode_image(data: bytes, *, what: str = "photo") -> Image:
    """A BGR image from uploaded bytes (JPEG, PNG, BMP, WebP, PGM…), or a clear refusal.

    Example:
        >>> try:
        ...     decode_image(b"not an image")
        ... except InvalidInputError as exc:
        ...     print(exc.detail[:30])
        the photo is not an image kupol
    """
    if not data:
        raise InvalidInputError(f"the {what} is empty", code="not_image")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInputError(f"the {what} is larger than {MAX_PHOTO_BYTES // 2**20} MB")
    claimed = claimed_pixels(data)
    if claimed is not None and claimed > MAX_PIXELS:  # refused before a byte is decoded
        raise InvalidInputError(f"the {what} has more than {MAX_PIXELS // 10**6} megapixels")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise InvalidInputError(
            f"the {what} is not an image kupol can read (JPEG, PNG, BMP, WebP, TIFF, PGM)",
            code="not_image",
        )
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise InvalidInputError(f"the {what} has more than {MAX_PIXELS // 10**6} megapixels")
    return np.ascontiguousarray(image, dtype=np.uint8)


def claimed_pixels(data: bytes) -> int | None:
    """How many pixels an encoded image's header says it has, read without decoding it; None
    when Pillow does not know the format. A PNG of 200 kB may claim 64 megapixels (190 MB
    decoded): this is how such a file is refused before it is decoded.

    Example:
        >>> import io
        >>> out = io.BytesIO()
        >>> PILImage.new("RGB", (640, 480)).save(out, "PNG")
        >>> claimed_pixels(out.getvalue())
        307200
    """
    try:
        with PILImage.open(io.BytesIO(data)) as header:
            width, height = header.size
    except PILImage.DecompressionBombError:  # over twice Pillow's own limit
        return MAX_PIXELS + 1
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return int(width) * int(height)


def encode_jpeg(image: Image, quality: int = 90) -> bytes:
    """JPEG bytes of a BGR image."""
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise InvalidInputError("image could not be encoded as JPEG")
    return bytes(buffer.tobytes())


@dataclass(frozen=True, kw_only=True)
class StoredFile:
    """A file written under the evidence folder."""

    uri: str
    """Path relative to the evidence folder."""
    sha256: str


class FaceFiles:
    """Reads and writes face photos and crops under ``root`` (the evidence folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, *, folder: str, suffix: str = ".jpg") -> StoredFile:
        """Write ``data`` under ``folder`` with a fresh name; returns its uri and SHA-256."""
        target = self.root / folder
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(data)
        return StoredFile(
            uri=str(path.relative_to(self.root)), sha256=hashlib.sha256(data).hexdigest()
        )

    def save_crop(self, image: Image, *, camera_id: str, at: datetime) -> StoredFile:
        """A face crop a camera saw, filed by camera and day."""
        return self.save(encode_jpeg(image), folder=f"{camera_id}/faces/{at:%Y/%m/%d}")

    def path(self, uri: str) -> Path:
        """The file behind ``uri``; refuses paths outside the evidence folder."""
        root = self.root.resolve()
        path = (root / uri).resolve()
        if not path.is_relative_to(root):
            raise NotFoundError(f"no file {uri!r}")
        return path

    def read(self, uri: str) -> bytes:
        """The bytes of a stored file."""
        path = self.path(uri)
        if not path.is_file():
            raise NotFoundError(f"file {uri!r} is gone (purged or moved)")
        return path.read_bytes()

    def delete(self, uri: str) -> bool:
        """Remove a stored file; whether it existed."""
        path = self.path(uri)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def template_bytes(vector: np.ndarray) -> bytes:
    """A template as stored: little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def template_of(data: bytes) -> np.ndarray:
    """A stored template back as a float32 vector."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
