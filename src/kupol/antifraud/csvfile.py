"""Opening the CSV files the anti-fraud domain reads (PaySim transfers, CDRs, the portability
register): UTF-8 with or without a byte-order mark, the needed columns checked up front, one
clear error for a file that cannot be used at all."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from kupol.core.errors import InvalidInputError


def open_csv(path: Path, required: Sequence[str], *, kind: str = "") -> csv.DictReader[str]:
    """A reader over ``path`` whose header holds every ``required`` column.

    Raises:
        InvalidInputError: the file is missing or unreadable, or lacks a column (``kind``,
            when given, names what the file should be: "not a PaySim file").
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InvalidInputError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read as UTF-8 text ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        what = f"not a {kind} file: " if kind else ""
        raise InvalidInputError(
            f"{path}: {what}missing column(s) {', '.join(missing)} (expected {','.join(required)})"
        )
    return reader
