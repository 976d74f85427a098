"""Does a photo's or video's own metadata agree with what the citizen claims?

:func:`check_claim` compares :class:`~kupol.citizens.media_meta.MediaMetadata` with the
claimed time and place of the violation and the time the report arrived, and returns a
:class:`Finding` per disagreement, each with a severity and a reason that quotes the numbers.
No finding is proof: messengers strip metadata, phones' clocks drift, GPS wanders in city
canyons. Findings order the officers' queue (:func:`kupol.citizens.reputation.priority`) and
tell the officer what to look at.

Times: the claim and the receipt must be aware datetimes. A capture time the file gives
without an offset is read in the zone its GPS time implies (:func:`gps_offset`), else in
``assumed_utc_offset`` (Kazakhstan's single zone, UTC+05:00 since 1 March 2024); the reason
says which. A video's tolerance grows by its duration, since
phones stamp either the start or the end of the recording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from kupol.citizens.media_meta import MediaMetadata
from kupol.core.errors import InvalidInputError
from kupol.core.geo import haversine_m

KAZAKHSTAN_UTC_OFFSET = timedelta(hours=5)

EDITORS = re.compile(
    r"photoshop|lightroom|gimp|snapseed|picsart|pixelmator|affinity|canva|faceapp|facetune"
    r"|meitu|photopea|paint\.net|airbrush|polarr|fotor|luminar|darktable|rawtherapee"
    r"|capture one|photo ?editor|photodirector|capcut|inshot|kinemaster|imovie|premiere"
    r"|final cut|davinci|vn video",
    re.IGNORECASE,
)
"""Software that edits pictures or videos, as it names itself in the ``Software`` tag."""


class Severity(StrEnum):
    LOW = "low"
    """Common in honest reports (metadata stripped by a messenger)."""
    MEDIUM = "medium"
    """Worth a look before the report is accepted."""
    HIGH = "high"
    """Contradicts the claim; the report should not be accepted on this evidence alone."""


class FindingCode(StrEnum):
    NO_CAPTURE_TIME = "no_capture_time"
    TAKEN_LONG_BEFORE = "taken_long_before"
    TAKEN_AFTER_RECEIVED = "taken_after_received"
    TIME_DIFFERS_FROM_CLAIM = "time_differs_from_claim"
    CLAIMED_AFTER_RECEIVED = "claimed_after_received"
    NO_LOCATION = "no_location"
    FAR_FROM_CLAIMED_PLACE = "far_from_claimed_place"
    EDITED_BY_SOFTWARE = "edited_by_software"
    MODIFIED_AFTER_CAPTURE = "modified_after_capture"
    UNREADABLE_METADATA = "unreadable_metadata"


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One way the media's metadata disagrees with the claim, or fails to support it."""

    code: FindingCode
    severity: Severity
    reason: str
    """A sentence for the officer, with the numbers."""


def _span(seconds: float) -> str:
    """A duration as people say it.

    Example:
        >>> _span(3 * 86400 + 4 * 3600 + 60), _span(47 * 60), _span(59)
        ('3 d 4 h', '47 min', '59 s')
    """
    seconds = abs(seconds)
    if seconds >= 86400:
        return f"{int(seconds // 86400)} d {int(seconds % 86400 // 3600)} h"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    return f"{int(seconds // 60)} min" if seconds >= 60 else f"{int(seconds)} s"


def _metres(metres: float) -> str:
    return f"{metres / 1000:,.1f} km" if metres >= 10_000 else f"{metres:,.0f} m"


def gps_offset(meta: MediaMetadata) -> timedelta | None:
    """The camera clock's offset from UTC, read from a naive capture time and the GPS fix's
    UTC time when they differ by a whole zone (a multiple of 15 min, within 2 min).

    Example:
        >>> from kupol.citizens.media_meta import MediaKind
        >>> meta = MediaMetadata(kind=MediaKind.IMAGE, captured_at=datetime(2019, 1, 6, 12, 43, 19),
        ...                      gps_at=datetime(2019, 1, 6, 10, 43, 18, tzinfo=UTC))
        >>> gps_offset(meta)
        datetime.timedelta(seconds=7200)
    """
    if meta.captured_at is None or meta.gps_at is None or meta.captured_at.tzinfo is not None:
        return None
    gap = (meta.captured_at - meta.gps_at.astimezone(UTC).replace(tzinfo=None)).total_seconds()
    quarters = round(gap / 900)
    if abs(gap - quarters * 900) > 120 or abs(quarters) > 14 * 4:
        return None
    return timedelta(minutes=15 * quarters)


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{name} must carry a time zone, not be naive: {value}")


def _time_findings(
    meta: MediaMetadata,
    claimed_at: datetime,
    received_at: datetime,
    max_age_h: float,
    skew: timedelta,
    offset: timedelta,
) -> list[Finding]:
    if meta.captured_at is None:
        reason = "the file holds no capture time (messengers and downloads strip it)"
        return [Finding(code=FindingCode.NO_CAPTURE_TIME, severity=Severity.LOW, reason=reason)]
    captured, note = meta.captured_at, ""
    if captured.tzinfo is None:
        found_offset = gps_offset(meta)
        captured = captured.replace(
            tzinfo=timezone(offset if found_offset is None else found_offset)
        )
        source = "from its GPS time" if found_offset is not None else "assumed"
        note = f" (the file gives no time zone; {captured.tzname()} {source})"
    stamp = captured.isoformat(timespec="seconds")
    if meta.duration_s:
        skew += timedelta(seconds=meta.duration_s)
    found: list[Finding] = []
    before = (claimed_at - captured).total_seconds()
    if captured > received_at + skew:
        late = _span((captured - received_at).total_seconds())
        reason = f"taken at {stamp}{note}, {late} after the report was received"
        found.append(
            Finding(code=FindingCode.TAKEN_AFTER_RECEIVED, severity=Severity.HIGH, reason=reason)
        )
    elif before > max_age_h * 3600:
        reason = (
            f"taken at {stamp}{note}, {_span(before)} before the claimed time "
            f"(more than {max_age_h:g} h)"
        )
        found.append(
            Finding(code=FindingCode.TAKEN_LONG_BEFORE, severity=Severity.HIGH, reason=reason)
        )
    elif abs(before) > skew.total_seconds():
        side = "before" if before > 0 else "after"
        reason = (
            f"taken at {stamp}{note}, {_span(before)} {side} the claimed time "
            f"(tolerance {_span(skew.total_seconds())})"
        )
        found.append(
            Finding(code=FindingCode.TIME_DIFFERS_FROM_CLAIM, severity=Severity.LOW, reason=reason)
        )
    if meta.modified_at is not None:
        # Both stamps come from the same device's clock: compare them as wall-clock times.
        wall = meta.modified_at.replace(tzinfo=None) - meta.captured_at.replace(tzinfo=None)
        changed = wall.total_seconds()
        if changed > skew.total_seconds():
            reason = f"the file was changed {_span(changed)} after it was taken"
            found.append(
                Finding(
                    code=FindingCode.MODIFIED_AFTER_CAPTURE, severity=Severity.LOW, reason=reason
                )
            )
    return found


def _place_findings(
    meta: MediaMetadata, claimed_place: tuple[float, float], max_distance_m: float
) -> list[Finding]:
    if meta.location is None:
        reason = "the file holds no GPS position (often switched off or stripped)"
        return [Finding(code=FindingCode.NO_LOCATION, severity=Severity.LOW, reason=reason)]
    distance = haversine_m(meta.location, claimed_place)
    if distance <= max_distance_m:
        return []
    lat, lon = meta.location
    reason = (
        f"taken at {lat:.5f}, {lon:.5f}, {_metres(distance)} from the claimed place "
        f"(limit {_metres(max_distance_m)})"
    )
    severity = Severity.HIGH if distance > 3 * max_distance_m else Severity.MEDIUM
    return [Finding(code=FindingCode.FAR_FROM_CLAIMED_PLACE, severity=severity, reason=reason)]


def check_claim(
    meta: MediaMetadata,
    claimed_at: datetime,
    claimed_place: tuple[float, float],
    received_at: datetime,
    *,
    max_age_h: float = 72,
    max_distance_m: float = 300,
    clock_skew_s: float = 600,
    assumed_utc_offset: timedelta = KAZAKHSTAN_UTC_OFFSET,
) -> list[Finding]:
    """The findings where ``meta`` contradicts, or fails to support, the claim.

    Args:
        meta: the photo's or video's metadata.
        claimed_at: when the citizen says the violation happened (aware).
        claimed_place: where, as (latitude, longitude) in degrees.
        received_at: when the report reached the police (aware).
        max_age_h: how long before the claimed time the picture may have been taken.
        max_distance_m: how far from the claimed place its GPS position may lie.
        clock_skew_s: the tolerance between clocks (the camera's, the citizen's, ours).
        assumed_utc_offset: the zone of a capture time given without one.

    Returns:
        Findings in a fixed order: time, place, software, metadata problems; empty when the
        metadata supports the claim.

    Raises:
        InvalidInputError: A naive time, or a place off the globe.

    Example:
        >>> from datetime import UTC
        >>> at = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
        >>> from kupol.citizens.media_meta import MediaKind
        >>> meta = MediaMetadata(kind=MediaKind.IMAGE, captured_at=at - timedelta(days=5),
        ...                      latitude=51.1283, longitude=71.4305, software="GIMP 2.10")
        >>> [f.code.value for f in check_claim(meta, at, (51.1283, 71.4305), at)]
        ['taken_long_before', 'edited_by_software']
    """
    _aware("claimed_at", claimed_at)
    _aware("received_at", received_at)
    lat, lon = claimed_place
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInputError(f"claimed place {lat}, {lon} is not a latitude and longitude")
    skew = timedelta(seconds=clock_skew_s)
    found = _time_findings(meta, claimed_at, received_at, max_age_h, skew, assumed_utc_offset)
    if claimed_at > received_at + skew:
        ahead = _span((claimed_at - received_at).total_seconds())
        reason = f"the claimed time is {ahead} after the report was received"
        found.append(
            Finding(
                code=FindingCode.CLAIMED_AFTER_RECEIVED, severity=Severity.MEDIUM, reason=reason
            )
        )
    found += _place_findings(meta, claimed_place, max_distance_m)
    if meta.software is not None and EDITORS.search(meta.software):
        reason = f"the file was written by editing software: {meta.software!r}"
        found.append(
            Finding(code=FindingCode.EDITED_BY_SOFTWARE, severity=Severity.MEDIUM, reason=reason)
        )
    if meta.problems:
        reason = "metadata present but unreadable: " + "; ".join(meta.problems)
        found.append(
            Finding(code=FindingCode.UNREADABLE_METADATA, severity=Severity.LOW, reason=reason)
        )
    return found
