"""Call detail records (CDR) in kupol's CSV exchange format, read row by row.

Columns: ``call_id,at,caller,called,international,network,roaming,imsi,imei,cell,answered,
duration_s`` and, in simulated or labelled files, ``truth``. ``at`` is ISO 8601 with its UTC
offset; the flags are 0/1; ``network``, ``imsi``, ``imei``, ``cell``, ``answered`` and
``duration_s`` may be empty. A bad row is refused with its line and reason; the others are
kept. Rows are screened in time order whatever the file's order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kupol.antifraud.csvfile import open_csv
from kupol.antifraud.numbers import Numbering
from kupol.antifraud.screening import CallAttempt
from kupol.core.errors import InvalidInputError

REQUIRED = ("call_id", "at", "caller", "called")
MAX_ROWS = 20_000_000


@dataclass(frozen=True, kw_only=True)
class CdrRow:
    """One record: the attempt and, where known, its outcome and truth."""

    line: int
    attempt: CallAttempt
    answered: bool | None
    duration_s: float | None
    truth: str | None
    source: str | None = None
    """Who made the call, where the file knows (a simulated party)."""


@dataclass
class CdrFile:
    rows: list[CdrRow] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)


def read_cdr(path: Path) -> CdrFile:
    """Read a CDR file.

    Raises:
        InvalidInputError: the file is missing, unreadable or lacks a required column.
    """
    reader = open_csv(path, REQUIRED)
    result = CdrFile()
    ids: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise InvalidInputError(f"{path}: more than {MAX_ROWS:,} rows; split the file")
        try:
            parsed = _row(row, line)
        except ValueError as exc:
            result.rejects.append((line, str(exc)))
            continue
        if parsed.attempt.call_id in ids:
            result.rejects.append((line, f"call_id {parsed.attempt.call_id!r} repeats"))
            continue
        ids.add(parsed.attempt.call_id)
        result.rows.append(parsed)
    result.rows.sort(key=lambda r: (r.attempt.at, r.line))
    return result


def _flag(row: dict[str, str], column: str) -> bool | None:
    text = (row.get(column) or "").strip().lower()
    if text == "":
        return None
    if text in {"1", "true", "yes"}:
        return True
    if text in {"0", "false", "no"}:
        return False
    raise ValueError(f"{column} {text!r} is not 0 or 1")


def _row(row: dict[str, str], line: int) -> CdrRow:
    call_id = (row.get("call_id") or "").strip()
    caller = (row.get("caller") or "").strip()
    called = (row.get("called") or "").strip()
    if not call_id or len(call_id) > 64:
        raise ValueError("call_id must be 1–64 characters")
    if not caller or not called or len(caller) > 32 or len(called) > 32:
        raise ValueError("caller and called must be given (at most 32 characters)")
    try:
        at = datetime.fromisoformat((row.get("at") or "").strip())
    except ValueError as exc:
        raise ValueError(f"at {row.get('at')!r} is not an ISO 8601 time") from exc
    if at.tzinfo is None:
        raise ValueError(f"at {row.get('at')!r} needs its UTC offset")
    duration_text = (row.get("duration_s") or "").strip()
    duration = None
    if duration_text:
        try:
            duration = float(duration_text)
        except ValueError as exc:
            raise ValueError(f"duration_s {duration_text!r} is not a number") from exc
        if not math.isfinite(duration) or duration < 0:
            raise ValueError(f"duration_s {duration_text!r} is not a duration")

    def text(column: str) -> str | None:
        value = (row.get(column) or "").strip()
        if len(value) > 64:
            raise ValueError(f"{column} is longer than 64 characters")
        return value or None

    return CdrRow(
        line=line,
        attempt=CallAttempt(
            call_id=call_id, at=at, caller=caller, called=called,
            international=bool(_flag(row, "international")), network=text("network"),
            roaming=bool(_flag(row, "roaming")), imsi=text("imsi"), imei=text("imei"),
            cell=text("cell"),
        ),
        answered=_flag(row, "answered"),
        duration_s=duration,
        truth=text("truth"),
        source=text("source"),
    )  # fmt: skip


def read_ported(path: Path, numbering: Numbering | None = None) -> dict[str, str]:
    """The number-portability register's export: ``number,operator`` (numbers normalised,
    by ``numbering`` or the shipped plan).

    Raises:
        InvalidInputError: the file is missing, lacks the columns, or a row is bad (its line).
    """
    from kupol.antifraud.numbers import NumberKind, load_numbering

    reader = open_csv(path, ("number", "operator"))
    numbering = numbering or load_numbering()
    ported: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        number = numbering.classify(row.get("number") or "")
        operator = (row.get("operator") or "").strip()
        if number.kind is not NumberKind.KZ_MOBILE or not operator:
            raise InvalidInputError(f"{path}:{line}: not a Kazakhstan mobile number and operator")
        ported[number.e164] = operator
    return ported
