"""Hostile photos and videos as citizens might send them: random bytes, mutated JPEGs, PNGs and
MP4s, a JPEG whose EXIF block is corrupt or holds impossible values, a cut-short MP4, and a PNG
whose header claims 64 megapixels. Reading their metadata, hashes and frames gives a result or
a domain error — never a raw exception — and the PNG is refused before it is decoded."""

from __future__ import annotations

import functools
import struct
import time
import zlib

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from PIL import ExifTags

from kupol.citizens.media_frames import frames_of
from kupol.citizens.media_meta import image_metadata, video_metadata
from kupol.citizens.phash import image_hash, video_hashes
from kupol.core.errors import InvalidInputError
from kupol.faces.files import decode_image
from tests.unit.citizens.test_media_meta import ASTANA_GPS, IPHONE, TAKEN, _photo, _video
from tests.unit.fuzzing import FUZZ, hostile, refused_or_read

TAG, GPS = ExifTags.Base, ExifTags.GPS
JPEG = _photo(base=IPHONE, exif_ifd=TAKEN, gps=ASTANA_GPS)
PNG = _photo(fmt="PNG", size=(40, 30))
MP4 = _video({"creation_time": "2026-03-12T09:05:00.000000Z", "location": "+51.1283+071.4305/"},
             frames=12)  # fmt: skip
MEDIA = settings(FUZZ, max_examples=50)


def read_photo(data: bytes) -> None:
    """Everything intake and the plate reader do with a photo's bytes."""
    refused_or_read(lambda: image_metadata(data))
    refused_or_read(lambda: image_hash(data))
    refused_or_read(lambda: frames_of(data, "image/jpeg"))
    refused_or_read(lambda: decode_image(data))


def read_video(data: bytes) -> None:
    """Everything intake and the plate reader do with a video's bytes."""
    refused_or_read(lambda: video_metadata(data))
    refused_or_read(lambda: video_hashes(data, max_frames=1))
    refused_or_read(lambda: frames_of(data, "video/mp4", max_frames=3))


@MEDIA
@given(data=hostile(JPEG, noise="\xff\xd8\xd9\xe1Exif\x00"))
def test_a_hostile_jpeg_is_read_or_refused(data: bytes) -> None:
    read_photo(data)


@MEDIA
@given(data=hostile(PNG, noise="\x89PNG\r\n\x1a\nIHDRIDAT\x00\xff"))
def test_a_hostile_png_is_read_or_refused(data: bytes) -> None:
    read_photo(data)


@MEDIA
@given(data=hostile(MP4, noise="\x00\x00\x00\x08ftypmoovmdatmvhdtrak\xff"))
def test_a_hostile_mp4_is_read_or_refused(data: bytes) -> None:
    read_video(data)


@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.3, 0.5, 0.8, 0.99])
def test_a_cut_short_mp4_is_read_or_refused(fraction: float) -> None:
    read_video(MP4[: int(len(MP4) * fraction)])


@st.composite
def exif_flipped(draw: st.DrawFn) -> bytes:
    """The JPEG with one to eight bytes of its EXIF block (APP1) changed in place."""
    start = JPEG.index(b"Exif\x00\x00")
    length = struct.unpack(">H", JPEG[start - 2 : start])[0]
    data = bytearray(JPEG)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(start + 6, start + length - 3))
        data[at] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, data[at] ^ 0x10]))
    return bytes(data)


@MEDIA
@given(data=exif_flipped())
def test_a_jpeg_with_a_corrupt_exif_block_is_read_or_refused(data: bytes) -> None:
    read_photo(data)


def exif_overwritten(data: bytes = JPEG) -> bytes:
    """The JPEG with its EXIF directory (after the TIFF header) overwritten with 0xFF."""
    at = data.index(b"Exif\x00\x00") + 6 + 8  # the first IFD's entry count and entries
    return data[:at] + b"\xff" * 40 + data[at + 40 :]


def test_a_jpeg_whose_exif_directory_is_garbage_is_read_with_a_problem() -> None:
    meta = image_metadata(exif_overwritten())
    assert (meta.width, meta.height) == (64, 48) and meta.captured_at is None
    read_photo(exif_overwritten())


RATIONALS = st.tuples(*[st.floats(0, 1e15) | st.integers(0, 2**31)] * 3)
CLOCKS = RATIONALS | st.sampled_from([(9, 5, 6), (24, 0, 0), (10**9, 0, 0), (0, 0, 10**12)])
EXIF_TEXT = st.text(st.characters(codec="ascii"), max_size=24) | st.sampled_from(
    ["9999:12:31 23:59:59", "0000:00:00 00:00:00", "2026:02:30 25:61:61", "0001:01:01 00:00:00"]
)
DAYS = EXIF_TEXT | st.sampled_from(["2026:03:12", "9999:12:31", "0001:01:01", "2026:02:30"])
OFFSETS = st.sampled_from(["+99:00", "-23:59", "+24:00", "+05:00", "-99:99", "+0530", ""])


@MEDIA
@given(
    taken=EXIF_TEXT, offset=OFFSETS, subsec=EXIF_TEXT, day=DAYS, clock=CLOCKS,
    latitude=RATIONALS, orientation=st.integers(0, 2**16 - 1),
)  # fmt: skip
def test_impossible_exif_values_are_problems_not_crashes(
    taken: str, offset: str, subsec: str, day: str, clock: tuple[float, ...],
    latitude: tuple[float, ...], orientation: int,
) -> None:  # fmt: skip
    try:
        data = _photo(
            base={TAG.Orientation: orientation, TAG.DateTime: taken},
            exif_ifd={TAG.DateTimeOriginal: taken, TAG.OffsetTimeOriginal: offset,
                      TAG.SubsecTimeOriginal: subsec, TAG.OffsetTime: offset},
            gps={**ASTANA_GPS, GPS.GPSDateStamp: day, GPS.GPSTimeStamp: clock,
                 GPS.GPSLatitude: latitude},
        )  # fmt: skip
    except (ValueError, TypeError, struct.error):
        reject()  # Pillow cannot write this value: not a file anyone can send
    meta = image_metadata(data)
    assert meta.captured_at is None or meta.captured_at.year >= 1
    read_photo(data)


@functools.cache
def png_bomb(width: int = 8000, height: int = 8000) -> bytes:
    """A valid PNG of ``width`` × ``height`` black pixels (64 megapixels, 190 MB decoded)
    compressed to about 190 kB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    packer = zlib.compressobj(9)
    row = bytes(width * 3 + 1)  # filter byte 0, then black RGB
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))  # fmt: skip


def test_a_png_that_claims_64_megapixels_is_refused_before_it_is_decoded() -> None:
    bomb = png_bomb()
    assert len(bomb) < 300_000
    meta = image_metadata(bomb)  # the header alone: what the file claims is allowed
    assert (meta.width, meta.height) == (8000, 8000)
    for read in (image_hash, lambda b: frames_of(b, "image/png"), decode_image):
        started = time.monotonic()
        with pytest.raises(InvalidInputError, match="megapixels"):
            read(bomb)
        assert time.monotonic() - started < 0.5  # refused by its header, not decoded


def test_a_png_header_with_an_impossible_size_is_refused() -> None:
    bomb = png_bomb(1, 1).replace(
        struct.pack(">II", 1, 1), struct.pack(">II", 2**31 - 1, 2**31 - 1)
    )
    read_photo(bomb)
    for read in (image_hash, lambda b: frames_of(b, "image/png"), decode_image):
        with pytest.raises(InvalidInputError):
            read(bomb)
