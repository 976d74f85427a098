"""The official crime statistics (qamqor.gov.kz, report form 1-M «О зарегистрированных
уголовных правонарушениях»), one XLSX workbook per region, as the regional context of the
road-safety analyses.

Read from section 1 (sheet ``R1``): each line's code (шифр строки), its title, the Criminal
Code article it counts (``(ст.190)`` → ``190``, ``(ст.345-1)`` → ``345-1``) or the chapter
(``Глава 14. Транспортные уголовные правонарушения`` → 14), offences in proceedings in the
period (column 1) and offences registered in the period (column 2, the ЕРДР register). The
workbook does not say which period it covers: the importer is told.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

from openpyxl import load_workbook

from kupol.core.errors import InvalidInputError

SHEET = "R1"
ARTICLE = re.compile(r"\(ст\.\s*(\d{1,3}(?:-\d{1,2})?)\)")
CHAPTER = re.compile(r"^Глава\s+(\d{1,2})\.")
TRAFFIC_CHAPTER = 14
"""Транспортные уголовные правонарушения (arts. 344–356), among them art. 345, road-traffic
offences causing harm, and art. 347, leaving the scene of an accident."""
FRAUD_ARTICLE = "190"
MAX_LINE = 100_000
MAX_COUNT = 10**9
"""More offences than a country has people is no count (and would not fit the column)."""


@dataclass(frozen=True, kw_only=True)
class CrimeLine:
    """One line of the report."""

    line: int
    title: str
    article: str | None
    chapter: int | None
    in_proceedings: int
    registered: int


def parse_report(data: bytes) -> list[CrimeLine]:
    """The lines of section 1 of a form 1-M workbook.

    Raises:
        InvalidInputError: not an XLSX workbook, no sheet R1, or no header row with the
            column numbers (А, Б, 1, 2…).
    """
    # openpyxl reads the file lazily and fails on a malformed one with whatever its ZIP, XML
    # and number readers raise (zlib.error, ParseError, ValueError, KeyError, …): every
    # failure while it reads is the file's.
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInputError(f"not an XLSX workbook: {_reason(exc)}") from None
    try:
        if SHEET not in book.sheetnames:
            raise InvalidInputError(f"no sheet {SHEET} (section 1 of form 1-M) in the workbook")
        rows = list(book[SHEET].iter_rows(values_only=True))
    except InvalidInputError:
        raise
    except Exception as exc:
        raise InvalidInputError(f"sheet {SHEET} cannot be read: {_reason(exc)}") from None
    finally:
        book.close()
    header = next((i for i, row in enumerate(rows) if _is_header(row)), None)
    if header is None:
        raise InvalidInputError("no header row with the column numbers (А, Б, 1, 2, …)")
    numbers = rows[header]
    code_at = next(i for i, c in enumerate(numbers) if _text(c) == "Б")
    first = next((i for i, c in enumerate(numbers) if c == 1), None)
    second = next((i for i, c in enumerate(numbers) if c == 2), None)
    if first is None or second is None:
        raise InvalidInputError("the header row has no columns 1 and 2")
    lines: list[CrimeLine] = []
    seen: set[int] = set()
    for row in rows[header + 1 :]:
        if len(row) <= max(code_at, second):
            continue
        code = row[code_at]
        if not isinstance(code, int | float) or isinstance(code, bool):
            continue
        if not (math.isfinite(code) and code == int(code) and 0 < code <= MAX_LINE):
            raise InvalidInputError(f"line code {code!r} is not a line number")
        names = [_text(c) for c in row[:code_at] if _text(c) and _text(c) != "из них"]
        if not names:
            continue
        if int(code) in seen:
            raise InvalidInputError(f"line code {int(code)} repeats in section 1")
        seen.add(int(code))
        title = names[-1]
        article = ARTICLE.search(title)
        chapter = CHAPTER.match(title)
        lines.append(
            CrimeLine(
                line=int(code),
                title=title,
                article=article.group(1) if article else None,
                chapter=int(chapter.group(1)) if chapter else None,
                in_proceedings=_count(row[first]),
                registered=_count(row[second]),
            )
        )
    if not lines:
        raise InvalidInputError("section 1 has no lines")
    return lines


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _is_header(row: tuple[object, ...]) -> bool:
    cells = [c for c in row if c is not None]
    return len(cells) >= 4 and _text(cells[0]) == "А" and _text(cells[1]) == "Б" and cells[2] == 1


def _text(cell: object) -> str:
    return " ".join(str(cell).split()) if cell is not None else ""


def _count(cell: object) -> int:
    if cell is None or cell == "":
        return 0
    if (
        isinstance(cell, int | float)
        and not isinstance(cell, bool)
        and 0 <= cell <= MAX_COUNT  # NaN and infinities fail here
        and cell == int(cell)
    ):
        return int(cell)
    raise InvalidInputError(f"{cell!r} is not a count")
