"""What a citizen's photo or video says about itself: when and where it was taken, by what
camera, through what software.

Photos: EXIF ``DateTimeOriginal`` (else ``DateTimeDigitized``) with ``OffsetTimeOriginal`` and
``SubsecTimeOriginal``, ``DateTime`` (last change) with ``OffsetTime``, the GPS IFD (position
and its UTC time stamp), ``Make``, ``Model``, ``Software``, and the size as displayed (EXIF
orientation applied). Videos: the container's tags through PyAV: Apple's
``com.apple.quicktime.creationdate`` (local time with offset), else ``creation_time`` (UTC);
the ISO 6709 position in ``com.apple.quicktime.location.ISO6709`` or ``location``; make,
model and software tags; duration and frame size.

A value the file does not hold is ``None``, never guessed. A time without an offset stays
naive (the camera's clock, zone unknown). Placeholders are read as missing: an all-zero EXIF
date, a container date at the MP4 or Unix epoch, GPS at exactly 0° 0°. A value present but
unreadable is ``None`` too, and named in :attr:`MediaMetadata.problems`.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import SupportsFloat, cast

import av
from PIL import ExifTags, Image, UnidentifiedImageError

from kupol.core.errors import InvalidInputError

_TAG = ExifTags.Base
_GPS = ExifTags.GPS
_PLACEHOLDER_DATES = {datetime(1904, 1, 1), datetime(1970, 1, 1)}
_ISO6709 = re.compile(r"^([+-]\d{2,6}(?:\.\d+)?)([+-]\d{3,7}(?:\.\d+)?)")


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True, kw_only=True)
class MediaMetadata:
    """The metadata of one photo or video; ``None`` where the file says nothing."""

    kind: MediaKind
    format: str | None = None
    """The file format as decoded (``JPEG``, ``PNG``, ``mov,mp4,m4a,3gp,3g2,mj2``, …)."""
    width: int | None = None
    height: int | None = None
    captured_at: datetime | None = None
    """When the picture was taken; naive when the file gives no offset."""
    modified_at: datetime | None = None
    """When the file was last changed (EXIF ``DateTime``), which editors rewrite."""
    gps_at: datetime | None = None
    """The GPS fix's time, always UTC."""
    latitude: float | None = None
    longitude: float | None = None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    duration_s: float | None = None
    problems: tuple[str, ...] = ()
    """Metadata present but unreadable or impossible, each as a sentence."""

    @property
    def location(self) -> tuple[float, float] | None:
        """(latitude, longitude) in degrees, or ``None``."""
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _offset(value: object) -> timezone | None:
    text = _text(value)
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", text or "")
    if match is None:
        return None
    sign = -1 if match[1] == "-" else 1
    hours, minutes = int(match[2]), int(match[3])
    if hours > 23 or minutes > 59:  # "+99:00": no zone's offset
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _exif_time(
    value: object, offset: object, subsec: object, problems: list[str]
) -> datetime | None:
    text = _text(value)
    if text is None or text.strip(" :0") == "":
        return None
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        problems.append(f"EXIF date {text!r} is not a date")
        return None
    digits = re.sub(r"\D", "", _text(subsec) or "")
    if digits:
        moment = moment.replace(microsecond=int(digits[:6].ljust(6, "0")))
    zone = _offset(offset)
    if zone is None and _text(offset) is not None:
        problems.append(f"EXIF offset {_text(offset)!r} is not a UTC offset")
    return moment.replace(tzinfo=zone) if zone else moment


def _degrees(value: object, ref: object, limit: float) -> float | None:
    raw: list[object] = list(value) if isinstance(value, tuple | list) else [value]
    try:
        parts = [float(cast(SupportsFloat, p)) for p in raw[:3]]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = sum(p / 60.0**i for i, p in enumerate(parts))
    if not math.isfinite(degrees) or not 0 <= degrees <= limit:
        return None
    return -degrees if _text(ref) in {"S", "W"} else degrees


def _gps(gps: Mapping[int, object], problems: list[str]) -> tuple[float | None, float | None]:
    if _GPS.GPSLatitude not in gps or _GPS.GPSLongitude not in gps:
        return None, None
    lat = _degrees(gps[_GPS.GPSLatitude], gps.get(_GPS.GPSLatitudeRef), 90)
    lon = _degrees(gps[_GPS.GPSLongitude], gps.get(_GPS.GPSLongitudeRef), 180)
    if lat is None or lon is None:
        problems.append("EXIF GPS position is unreadable or out of range")
        return None, None
    return (None, None) if lat == lon == 0 else (lat, lon)


def _gps_time(gps: Mapping[int, object]) -> datetime | None:
    day, clock = _text(gps.get(_GPS.GPSDateStamp)), gps.get(_GPS.GPSTimeStamp)
    if day is None or not isinstance(clock, tuple) or len(clock) != 3:
        return None
    try:
        start = datetime.strptime(day, "%Y:%m:%d").replace(tzinfo=UTC)
        seconds = float(clock[0]) * 3600 + float(clock[1]) * 60 + float(clock[2])
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (math.isfinite(seconds) and 0 <= seconds < 86_401):
        return None  # a time of day, a leap second at most over
    try:
        return start + timedelta(seconds=seconds)
    except OverflowError:  # past 9999-12-31
        return None


def image_metadata(data: bytes) -> MediaMetadata:
    """The metadata of an encoded photo (JPEG, PNG, WebP, TIFF, … with EXIF where present).

    Raises:
        InvalidInputError: The bytes are not an image.
    """
    problems: list[str] = []
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
            try:
                exif = image.getexif()
                ifd = dict(exif.get_ifd(ExifTags.IFD.Exif))
                gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
            except Exception as exc:  # Pillow's EXIF parser raises many kinds
                problems.append(f"EXIF is unreadable: {exc}")
                exif, ifd, gps = Image.Exif(), {}, {}
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise InvalidInputError(f"not a readable image: {exc}", code="not_an_image") from exc
    if exif.get(_TAG.Orientation) in {5, 6, 7, 8}:
        width, height = height, width
    captured = ifd.get(_TAG.DateTimeOriginal) or ifd.get(_TAG.DateTimeDigitized)
    offset = ifd.get(_TAG.OffsetTimeOriginal) or ifd.get(_TAG.OffsetTimeDigitized)
    subsec = ifd.get(_TAG.SubsecTimeOriginal) or ifd.get(_TAG.SubsecTimeDigitized)
    latitude, longitude = _gps(gps, problems)
    return MediaMetadata(
        kind=MediaKind.IMAGE,
        format=fmt,
        width=width,
        height=height,
        captured_at=_exif_time(captured, offset, subsec, problems),
        modified_at=_exif_time(exif.get(_TAG.DateTime), ifd.get(_TAG.OffsetTime), None, problems),
        gps_at=_gps_time(gps),
        latitude=latitude,
        longitude=longitude,
        make=_text(exif.get(_TAG.Make)),
        model=_text(exif.get(_TAG.Model)),
        software=_text(exif.get(_TAG.Software)),
        problems=tuple(problems),
    )


def parse_iso6709(text: str) -> tuple[float, float] | None:
    """(latitude, longitude) from an ISO 6709 point as phones write it (``+51.1283+071.4305/``,
    also degrees-minutes ``+5107.698+07125.830`` and degrees-minutes-seconds forms).

    Example:
        >>> parse_iso6709("+51.1283+071.4305+350.000/")
        (51.1283, 71.4305)
        >>> parse_iso6709("-3330+15100/")
        (-33.5, 151.0)
    """
    match = _ISO6709.match(text.strip())
    if match is None:
        return None
    values = []
    for part, degree_digits in ((match[1], 2), (match[2], 3)):
        sign, body = (-1 if part[0] == "-" else 1), part[1:]
        whole = body.split(".")[0]
        d, rest = float(whole[:degree_digits]), body[degree_digits:]
        extra = len(whole) - degree_digits
        if extra == 0:
            value = float(body)
        elif extra == 2:
            value = d + float(rest) / 60
        elif extra == 4:
            value = d + float(rest[:2]) / 60 + float(rest[2:]) / 3600
        else:
            return None
        values.append(sign * value)
    lat, lon = values
    return (lat, lon) if abs(lat) <= 90 and abs(lon) <= 180 else None


def _container_time(text: str | None, problems: list[str]) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        problems.append(f"container date {text!r} is not a date")
        return None
    return None if moment.replace(tzinfo=None) in _PLACEHOLDER_DATES else moment


def _first(tags: Mapping[str, str], *names: str) -> str | None:
    """The first of the tags ``names`` that holds text."""
    return next((t for n in names if (t := _text(tags.get(n))) is not None), None)


def video_metadata(source: str | Path | bytes) -> MediaMetadata:
    """The metadata of a video file (MP4, MOV, 3GP, MKV, AVI, …) from its container's tags.

    Raises:
        InvalidInputError: Not a video.
    """
    problems: list[str] = []
    try:
        opened = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        with av.open(opened, mode="r") as container:
            if not container.streams.video:
                raise InvalidInputError("the file has no video stream", code="not_a_video")
            if container.format.name == "image2" or container.format.name.endswith("_pipe"):
                raise InvalidInputError("the file is a still image", code="not_a_video")
            stream = container.streams.video[0]
            # The stream's tags only fill gaps: its ``encoder`` names the codec, not software.
            tags = {**stream.metadata, **container.metadata}
            software_tags = dict(container.metadata)
            fmt, width, height = container.format.name, stream.width, stream.height
            if container.duration is not None:
                duration: float | None = container.duration / av.time_base
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = None
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"not a readable video: {exc}", code="not_a_video") from exc

    position = _first(tags, "com.apple.quicktime.location.ISO6709", "location", "location-eng")
    location = parse_iso6709(position) if position else None
    if position and location is None:
        problems.append(f"container location {position!r} is not an ISO 6709 point")
    if location == (0.0, 0.0):
        location = None
    return MediaMetadata(
        kind=MediaKind.VIDEO,
        format=fmt,
        width=width or None,
        height=height or None,
        captured_at=_container_time(
            _first(tags, "com.apple.quicktime.creationdate", "creation_time", "date"), problems
        ),
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        make=_first(tags, "com.apple.quicktime.make", "make", "com.android.manufacturer"),
        model=_first(tags, "com.apple.quicktime.model", "model", "com.android.model"),
        software=_first(software_tags, "com.apple.quicktime.software", "software", "encoder"),
        duration_s=duration,
        problems=tuple(problems),
    )
