"""What every operator feed shares: reading a JSON document, reading a record's fields while
noting each problem with its path, and the result of a feed's validation.

A feed is validated record by record: a bad trip or vehicle is reported as a :class:`FeedError`
naming the record and the field (``trips[3].start_time: missing``) and the other records are
kept. Only a document that is not the right shape at all (not JSON, not an object, no version,
no list of records) is refused whole, with :class:`~kupol.core.errors.InvalidInputError`.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Generic, TypeVar

from kupol.core.errors import FieldProblem, InvalidInputError

T = TypeVar("T")

EARLIEST_MS = 1_262_304_000_000
"""2010-01-01 UTC: no rental scooter reported before; a smaller time is a unit mistake."""
LATEST_MS = 4_102_444_800_000
"""2100-01-01 UTC."""


@dataclass(frozen=True, kw_only=True)
class FeedError:
    """One problem in one record of a feed: where it is and what is wrong.

    Example:
        >>> str(FeedError(path="trips[3].start_time", message="missing"))
        'trips[3].start_time: missing'
    """

    path: str
    message: str
    record: int | None = None
    """The record's index in the feed's list, when the problem is in a record."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class FeedResult(Generic[T]):
    """A validated feed: the records kept and the problems of those refused."""

    accepted: tuple[T, ...]
    rejected: tuple[FeedError, ...]
    """Every problem found; a refused record may have several."""

    @property
    def rejected_records(self) -> tuple[int, ...]:
        """Indexes of the refused records, in feed order."""
        return tuple(sorted({e.record for e in self.rejected if e.record is not None}))


def shown(value: object) -> str:
    """A JSON value as a message quotes it, cut to 40 characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def load_document(document: object, *, what: str) -> Mapping[str, object]:
    """A feed document as a JSON object: ``document`` decoded already, or bytes or text.

    Raises:
        InvalidInputError: Not JSON, or not a JSON object.
    """
    if isinstance(document, bytes | bytearray | str):
        try:
            document = json.loads(document)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise InvalidInputError(f"{what} is not JSON (or nested too deeply): {exc}") from None
    if not isinstance(document, Mapping):
        raise InvalidInputError(f"{what} must be a JSON object, not {_kind(document)}")
    return document


def refuse(what: str, field: str, message: str) -> InvalidInputError:
    """The error for a document that is not the right shape (``field``: what is wrong)."""
    return InvalidInputError(
        f"{what}: {field}: {message}", problems=[FieldProblem(field=field, message=message)]
    )


def record_list(document: Mapping[str, object], key: str, *, what: str) -> list[object]:
    """The list of records under ``key``, or under ``data.key``.

    Raises:
        InvalidInputError: Neither is a list.
    """
    data = document.get("data")
    value = document.get(key, data.get(key) if isinstance(data, Mapping) else None)
    if not isinstance(value, list):
        raise refuse(what, key, "missing" if value is None else f"{_kind(value)}, not an array")
    return value


class Fields:
    """Reads one record's fields, noting each problem as a :class:`FeedError` with its path.

    Every reader returns ``None`` for a missing optional field and for a bad value (noted).
    """

    def __init__(
        self, raw: Mapping[str, object], path: str, errors: list[FeedError], record: int | None
    ) -> None:
        self.raw, self.path, self.errors, self.record = raw, path, errors, record

    @classmethod
    def of(
        cls, raw: object, path: str, errors: list[FeedError], record: int | None = None
    ) -> Fields | None:
        """The reader of ``raw``, or ``None`` (noted) when it is not an object."""
        if isinstance(raw, Mapping):
            return cls(raw, path, errors, record)
        errors.append(FeedError(path=path, message=f"{_kind(raw)}, not an object", record=record))
        return None

    def at(self, key: str) -> str:
        """The path of field ``key`` (``[1]``: an element; ``""``: the record itself)."""
        if not key or key.startswith("[") or not self.path:
            return self.path + key
        return f"{self.path}.{key}"

    def fail(self, key: str, message: str) -> None:
        """Notes a problem with field ``key`` (``""``: the record itself)."""
        self.errors.append(FeedError(path=self.at(key), message=message, record=self.record))

    def value(self, key: str, *, required: bool) -> object:
        """The raw value of ``key``; a missing required field is noted."""
        value = self.raw.get(key)
        if value is None and required:
            self.fail(key, "missing")
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        """A non-empty string, stripped."""
        value = self.value(key, required=required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"{shown(value)} is not a non-empty string")
            return None
        return value.strip()

    def uuid(self, key: str, *, required: bool = True) -> str | None:
        """A UUID, in its canonical lower-case form."""
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            self.fail(key, f"{shown(value)} is not a UUID")
            return None

    def number(
        self,
        key: str,
        *,
        required: bool = True,
        low: float | None = None,
        high: float | None = None,
        what: str = "a number",
    ) -> float | None:
        """A finite number (not a boolean) from ``low`` to ``high``; ``what`` names it."""
        value = self.value(key, required=required)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            number = float(value)
            if (low is None or number >= low) and (high is None or number <= high):
                return number
        self.fail(key, f"{shown(value)} is not {what}")
        return None

    def integer(self, key: str, *, required: bool = True, low: int | None = None) -> int | None:
        """A whole number (``3.0`` too, not a boolean), at least ``low``."""
        value = self.value(key, required=required)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and (low is None or value >= low):
            return value
        bound = "" if low is None else f" >= {low}"
        self.fail(key, f"{shown(value)} is not an integer{bound}")
        return None

    def boolean(self, key: str, *, required: bool = True) -> bool | None:
        """``true`` or ``false``."""
        value = self.value(key, required=required)
        if value is None or isinstance(value, bool):
            return value
        self.fail(key, f"{shown(value)} is not true or false")
        return None

    def epoch_ms(self, key: str, *, required: bool = True) -> int | None:
        """An MDS time: whole milliseconds since the epoch (UTC)."""
        value = self.integer(key, required=required)
        if value is None:
            return None
        if EARLIEST_MS / 1000 <= value <= LATEST_MS / 1000:
            self.fail(key, f"{value} looks like seconds: MDS times are milliseconds since 1970")
            return None
        if not EARLIEST_MS <= value <= LATEST_MS:
            self.fail(key, f"{value} is not a time in milliseconds since 1970 (2010-2100)")
            return None
        return value

    def timestamp(self, key: str, *, required: bool = True, rfc3339: bool) -> datetime | None:
        """A GBFS time: POSIX seconds (2.x) or an RFC 3339 date-time with an offset (3.0)."""
        if not rfc3339:
            seconds = self.integer(key, required=required, low=0)
            if seconds is None:
                return None
            if not EARLIEST_MS / 1000 <= seconds <= LATEST_MS / 1000:
                self.fail(key, f"{seconds} is not a time in seconds since 1970 (2010-2100)")
                return None
            return datetime.fromtimestamp(seconds, UTC)
        text = self.text(key, required=required)
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.fail(key, f"{shown(text)} is not an RFC 3339 date-time with an offset")
            return None
        if not EARLIEST_MS / 1000 <= moment.timestamp() <= LATEST_MS / 1000:
            self.fail(key, f"{shown(text)} is not a time between 2010 and 2100")
            return None
        return moment.astimezone(UTC)

    def day(self, key: str, *, required: bool = True) -> date | None:
        """A date written ``YYYY-MM-DD``."""
        text = self.text(key, required=required)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(key, f"{shown(text)} is not a date (YYYY-MM-DD)")
            return None

    def child(self, key: str, *, required: bool = True) -> Fields | None:
        """The reader of the object under ``key``."""
        value = self.value(key, required=required)
        if value is None:
            return None
        return Fields.of(value, self.at(key), self.errors, self.record)

    def array(self, key: str, *, required: bool = True) -> Sequence[object] | None:
        """A JSON array, unchecked inside."""
        value = self.value(key, required=required)
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(key, f"{_kind(value)}, not an array")
            return None
        return value

    def strings(self, key: str, *, required: bool = True) -> tuple[str, ...] | None:
        """An array of non-empty strings."""
        values = self.array(key, required=required)
        if values is None:
            return None
        if all(isinstance(v, str) and v for v in values):
            return tuple(str(v) for v in values)
        self.fail(key, f"{shown(values)} is not an array of strings")
        return None
