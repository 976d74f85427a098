"""A photo's EXIF and a video's container tags are read back as written; what is absent or a
placeholder is None."""

from __future__ import annotations

import doctest
import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import ExifTags, Image

from kupol.citizens import media_meta
from kupol.citizens.media_meta import (
    MediaKind,
    image_metadata,
    parse_iso6709,
    video_metadata,
)
from kupol.core.errors import InvalidInputError
from tests.conftest import need_data

TAG, GPS = ExifTags.Base, ExifTags.GPS
ASTANA = timezone(timedelta(hours=5))


def _photo(
    *,
    base: Mapping[Any, Any] | None = None,
    exif_ifd: Mapping[Any, Any] | None = None,
    gps: Mapping[Any, Any] | None = None,
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
) -> bytes:
    exif = Image.Exif()
    for tag, value in (base or {}).items():
        exif[tag] = value
    if exif_ifd:
        exif.get_ifd(ExifTags.IFD.Exif).update(exif_ifd)
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 30)).save(out, fmt, exif=exif)
    return out.getvalue()


IPHONE = {TAG.Make: "Apple", TAG.Model: "iPhone 15", TAG.Software: "17.4.1"}
TAKEN = {
    TAG.DateTimeOriginal: "2026:03:12 14:05:07",
    TAG.OffsetTimeOriginal: "+05:00",
    TAG.SubsecTimeOriginal: "25",
}
ASTANA_GPS = {  # 51°07'41.88" N, 71°25'49.80" E: Baiterek, Astana
    GPS.GPSLatitudeRef: "N",
    GPS.GPSLatitude: (51.0, 7.0, 41.88),
    GPS.GPSLongitudeRef: "E",
    GPS.GPSLongitude: (71.0, 25.0, 49.8),
    GPS.GPSDateStamp: "2026:03:12",
    GPS.GPSTimeStamp: (9.0, 5.0, 6.0),
}


def test_a_phones_photo_gives_its_time_place_and_camera() -> None:
    meta = image_metadata(_photo(base=IPHONE, exif_ifd=TAKEN, gps=ASTANA_GPS))
    assert meta.kind is MediaKind.IMAGE and meta.format == "JPEG"
    assert meta.captured_at == datetime(2026, 3, 12, 14, 5, 7, 250_000, tzinfo=ASTANA)
    assert meta.gps_at == datetime(2026, 3, 12, 9, 5, 6, tzinfo=UTC)
    assert meta.location == pytest.approx((51.1283, 71.4305), abs=1e-6)
    assert (meta.make, meta.model, meta.software) == ("Apple", "iPhone 15", "17.4.1")
    assert (meta.width, meta.height) == (64, 48)
    assert meta.problems == () and meta.duration_s is None


def test_southern_and_western_references_give_negative_degrees() -> None:
    gps = {GPS.GPSLatitudeRef: "S", GPS.GPSLatitude: (12.0, 56.0, 24.9)}
    gps |= {GPS.GPSLongitudeRef: "W", GPS.GPSLongitude: (38.0, 24.0, 53.47)}
    lat, lon = image_metadata(_photo(gps=gps)).location or (0, 0)
    assert lat == pytest.approx(-12.94025) and lon == pytest.approx(-38.414853, abs=1e-6)


def test_a_time_without_offset_stays_naive() -> None:
    meta = image_metadata(_photo(exif_ifd={TAG.DateTimeOriginal: "2026:03:12 14:05:07"}))
    assert meta.captured_at == datetime(2026, 3, 12, 14, 5, 7)
    assert meta.captured_at is not None and meta.captured_at.tzinfo is None


def test_the_digitized_time_stands_in_for_a_missing_original() -> None:
    meta = image_metadata(_photo(exif_ifd={TAG.DateTimeDigitized: "2026:03:12 14:05:07"}))
    assert meta.captured_at == datetime(2026, 3, 12, 14, 5, 7)


def test_an_edited_photo_shows_its_software_and_change_time() -> None:
    base = IPHONE | {TAG.Software: "Adobe Photoshop 25.0", TAG.DateTime: "2026:03:14 09:00:00"}
    meta = image_metadata(_photo(base=base, exif_ifd=TAKEN | {TAG.OffsetTime: "+05:00"}))
    assert meta.software == "Adobe Photoshop 25.0"
    assert meta.modified_at == datetime(2026, 3, 14, 9, 0, tzinfo=ASTANA)


def test_a_rotated_photo_gives_its_size_as_displayed() -> None:
    meta = image_metadata(_photo(base={TAG.Orientation: 6}, size=(64, 48)))
    assert (meta.width, meta.height) == (48, 64)


def test_a_photo_without_exif_has_no_metadata_but_its_size() -> None:
    out = io.BytesIO()
    Image.new("L", (30, 20)).save(out, "PNG")
    meta = image_metadata(out.getvalue())
    assert meta.format == "PNG" and (meta.width, meta.height) == (30, 20)
    assert (meta.captured_at, meta.location, meta.make, meta.software) == (None,) * 4


def test_exif_in_a_png_is_read_too() -> None:
    meta = image_metadata(_photo(fmt="PNG", base=IPHONE, exif_ifd=TAKEN))
    assert meta.format == "PNG" and meta.make == "Apple" and meta.captured_at is not None


@pytest.mark.parametrize("placeholder", ["0000:00:00 00:00:00", "    :  :     :  :  ", ""])
def test_a_placeholder_date_is_missing_not_a_date(placeholder: str) -> None:
    meta = image_metadata(_photo(exif_ifd={TAG.DateTimeOriginal: placeholder}))
    assert meta.captured_at is None and meta.problems == ()


def test_gps_at_zero_zero_is_no_fix() -> None:
    gps = {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: (0.0, 0.0, 0.0)}
    gps |= {GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: (0.0, 0.0, 0.0)}
    assert image_metadata(_photo(gps=gps)).location is None


def test_impossible_values_are_none_and_named_as_problems() -> None:
    gps = {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: (95.0, 0.0, 0.0)}
    gps |= {GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: (71.0, 0.0, 0.0)}
    meta = image_metadata(_photo(exif_ifd={TAG.DateTimeOriginal: "yesterday noon"}, gps=gps))
    assert meta.captured_at is None and meta.location is None
    assert sorted(meta.problems) == [
        "EXIF GPS position is unreadable or out of range",
        "EXIF date 'yesterday noon' is not a date",
    ]


@pytest.mark.parametrize("data", [b"", b"GIF89a broken", b"plain text, not a picture"])
def test_bytes_that_are_not_an_image_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        image_metadata(data)
    assert caught.value.code == "not_an_image"


@pytest.mark.data
def test_a_real_iphone_photo_gives_its_place_and_time() -> None:
    path = need_data("plates", "nomeroff-ua", "22.jpeg")
    meta = image_metadata(path.read_bytes())
    assert (meta.make, meta.model) == ("Apple", "iPhone XS Max")
    assert meta.captured_at == datetime(2019, 1, 6, 12, 43, 19, 859_000)  # no offset in file
    assert meta.gps_at == datetime(2019, 1, 6, 10, 43, 18, tzinfo=UTC)
    assert meta.location == pytest.approx((50.007939, 36.236472), abs=1e-6)  # Kharkiv
    assert (meta.width, meta.height) == (4032, 3024)


@pytest.mark.data
def test_a_real_photo_retouched_in_photoshop_says_so() -> None:
    meta = image_metadata(need_data("faces", "deepface", "img1.jpg").read_bytes())
    pacific = timezone(timedelta(hours=-7))
    assert meta.software == "Adobe Photoshop 7.0" and meta.model == "Canon EOS 5D Mark IV"
    assert meta.captured_at == datetime(2019, 7, 20, 17, 45, 22, 160_000, tzinfo=pacific)
    assert meta.modified_at == datetime(2019, 8, 5, 6, 10, 48, tzinfo=pacific)
    assert meta.location is None


def _video(tags: dict[str, str], *, fmt: str = "mp4", frames: int = 25, fps: int = 10) -> bytes:
    out = io.BytesIO()
    options = {"movflags": "use_metadata_tags"} if fmt == "mov" else {}
    with av.open(out, "w", format=fmt, options=options) as container:
        container.metadata.update(tags)
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, fps)
        for i in range(frames):
            picture = np.full((48, 64, 3), i * 9, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    return out.getvalue()


def test_a_videos_creation_time_place_and_duration_are_read() -> None:
    data = _video(
        {"creation_time": "2026-03-12T09:05:00.000000Z", "location": "+51.1283+071.4305/"}
    )
    meta = video_metadata(data)
    assert meta.kind is MediaKind.VIDEO
    assert meta.captured_at == datetime(2026, 3, 12, 9, 5, tzinfo=UTC)
    assert meta.location == (51.1283, 71.4305)
    assert meta.duration_s == pytest.approx(2.5, abs=0.11)
    assert (meta.width, meta.height) == (64, 48)


def test_an_iphone_videos_local_date_and_apple_tags_win(tmp_path: Path) -> None:
    tags = {
        "creation_time": "2026-03-12T09:05:00.000000Z",
        "com.apple.quicktime.creationdate": "2026-03-12T14:05:00+0500",
        "com.apple.quicktime.location.ISO6709": "+51.1283+071.4305+350.000/",
        "com.apple.quicktime.make": "Apple",
        "com.apple.quicktime.model": "iPhone 15",
        "com.apple.quicktime.software": "17.4.1",
    }
    path = tmp_path / "IMG_0001.MOV"
    path.write_bytes(_video(tags, fmt="mov"))
    meta = video_metadata(path)
    assert meta.captured_at == datetime(2026, 3, 12, 14, 5, tzinfo=ASTANA)
    assert meta.location == (51.1283, 71.4305)
    assert (meta.make, meta.model, meta.software) == ("Apple", "iPhone 15", "17.4.1")


def test_a_video_without_tags_has_no_time_or_place() -> None:
    meta = video_metadata(_video({}))
    assert meta.captured_at is None and meta.location is None and meta.make is None


def test_a_video_dated_at_the_epoch_has_no_time() -> None:
    assert video_metadata(_video({"creation_time": "1970-01-01T00:00:00Z"})).captured_at is None


def test_a_video_with_a_broken_location_names_the_problem() -> None:
    meta = video_metadata(_video({"location": "somewhere near Astana"}, fmt="mov"))
    assert meta.location is None
    assert meta.problems == ("container location 'somewhere near Astana' is not an ISO 6709 point",)


@pytest.mark.data
def test_a_real_video_gives_its_creation_time_and_duration() -> None:
    meta = video_metadata(need_data("video", "cars-intel.mp4"))
    assert meta.captured_at == datetime(2018, 4, 19, 22, 46, tzinfo=UTC)
    assert meta.duration_s == pytest.approx(30.16, abs=0.01)
    assert (meta.width, meta.height) == (768, 432)
    assert meta.software is None  # the stream's "encoder" names the codec, not software


@pytest.mark.parametrize("data", [b"", b"not a video at all", _photo()])
def test_bytes_that_are_not_a_video_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        video_metadata(data)
    assert caught.value.code == "not_a_video"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+51.1283+071.4305/", (51.1283, 71.4305)),
        ("+51.1283+071.4305+350.000/", (51.1283, 71.4305)),
        ("-12.9403-038.4149/", (-12.9403, -38.4149)),
        ("+5107.698+07125.830/", (51.1283, 71.430500)),
        ("+510741.88+0712549.80/", (51.1283, 71.4305)),
        ("+51+071/", (51.0, 71.0)),
        ("+95.0+071.0/", None),
        ("51.1283, 71.4305", None),
        ("", None),
    ],
)
def test_iso_6709_points_are_read_in_each_form(
    text: str, expected: tuple[float, float] | None
) -> None:
    found = parse_iso6709(text)
    if expected is None:
        assert found is None
    else:
        assert found == pytest.approx(expected, abs=1e-6)


def test_the_examples_run() -> None:
    result = doctest.testmod(media_meta)
    assert result.attempted > 0 and result.failed == 0
