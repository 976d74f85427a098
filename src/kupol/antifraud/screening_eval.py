"""Batch screening of a CDR file, and its figures where the file says the truth: per kind of
fraud, the share of calls blocked and of callers caught; for legitimate calls, the false-block
and false-warning rates."""

from __future__ import annotations

import csv
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from kupol.antifraud.cdr import CdrRow, read_cdr
from kupol.antifraud.numbers import Numbering
from kupol.antifraud.screen_model import ScreenModel
from kupol.antifraud.screening import CallScreen, Screened, Verdict


def screen_rows(
    rows: list[CdrRow], screen: CallScreen | None = None, model: ScreenModel | None = None
) -> list[Screened]:
    """Screen rows in time order; each call's outcome is learned after its verdict (a
    blocked call has none). With ``model``, allowed calls it finds fraud-like are warned —
    scored in one batch at the end, which gives what scoring each call would: a warning
    changes nothing the windows keep."""
    screen = screen or CallScreen()
    verdicts = []
    for row in rows:
        verdict = screen.screen(row.attempt)
        verdicts.append(verdict)
        if verdict.verdict is not Verdict.BLOCK and row.answered is not None:
            screen.outcome(row.attempt, answered=row.answered, duration_s=row.duration_s or 0.0)
    return model.apply(verdicts) if model is not None else verdicts


def screen_file(
    path: Path,
    out: Path | None = None,
    *,
    ported: dict[str, str] | None = None,
    model: ScreenModel | None = None,
    numbering: Numbering | None = None,
) -> dict[str, Any]:
    """Screen a CDR file (numbers placed by ``numbering``, else the shipped plan); write the
    verdicts to ``out`` (CSV) and return the figures.

    Raises:
        InvalidInputError: the file is no CDR file.
    """
    cdr = read_cdr(path)
    screen = CallScreen(numbering=numbering)
    screen.ported = dict(ported or {})
    started = time.perf_counter()
    verdicts = screen_rows(cdr.rows, screen, model)
    seconds = time.perf_counter() - started
    if out is not None:
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["call_id", "verdict", "reasons", "caller"])
            for v in verdicts:
                writer.writerow([v.call_id, v.verdict.value, " ".join(v.reasons), v.caller.e164])
    figures: dict[str, Any] = {
        "file": path.name,
        "calls": len(cdr.rows),
        "rejected_rows": len(cdr.rejects),
        "rejects": [{"line": line, "reason": reason} for line, reason in cdr.rejects[:20]],
        "verdicts": dict(Counter(v.verdict.value for v in verdicts)),
        "reasons": dict(Counter(r for v in verdicts for r in v.reasons).most_common()),
        "decisions_per_s": round(len(verdicts) / seconds) if seconds else None,
        "model": model.card["sha256"][:12] if model is not None else None,
    }
    if cdr.rows and all(r.truth for r in cdr.rows):
        figures["by_truth"] = truth_figures(cdr.rows, verdicts)
    return figures


def truth_figures(rows: list[CdrRow], verdicts: list[Screened]) -> dict[str, Any]:
    """Per truth label: calls, blocked and warned shares, callers caught (blocked at least
    once); reasons that blocked legitimate calls."""
    calls: Counter[str] = Counter()
    blocked: Counter[str] = Counter()
    warned: Counter[str] = Counter()
    callers: dict[str, set[str]] = defaultdict(set)
    caught: dict[str, set[str]] = defaultdict(set)
    false_reasons: Counter[str] = Counter()
    warn_reasons: Counter[str] = Counter()
    for row, verdict in zip(rows, verdicts, strict=True):
        truth = row.truth or "unknown"
        calls[truth] += 1
        callers[truth].add(verdict.caller.e164)
        if verdict.verdict is Verdict.BLOCK:
            blocked[truth] += 1
            caught[truth].add(verdict.caller.e164)
            if truth == "legit":
                false_reasons.update(verdict.reasons)
        elif verdict.verdict is Verdict.WARN:
            warned[truth] += 1
            if truth == "legit":
                warn_reasons.update(verdict.reasons)
    result: dict[str, Any] = {}
    for truth in sorted(calls):
        n = calls[truth]
        result[truth] = {
            "calls": n,
            "blocked": round(blocked[truth] / n, 6),
            "warned": round(warned[truth] / n, 6),
            "callers": len(callers[truth]),
            "callers_caught": len(caught[truth]),
        }
    if "legit" in result:
        result["legit"]["false_block_reasons"] = dict(false_reasons)
        result["legit"]["warn_reasons"] = dict(warn_reasons.most_common())
    return result
