"""A road-safety report for a region, a city or the whole registry: the figures, charts
(matplotlib, drawn offline) and tables an analyst hands on, as HTML (charts embedded) and as
PDF (fpdf2, DejaVu fonts for Cyrillic).

Contents: what was counted and over which period; accidents, deaths and injuries; accidents by
month, weekday and hour; kinds by severity; the yearly trend with its verdict; the region
ranking (when the records carry Kazakhstan's region codes); the hot areas with a map of them;
the crime context (traffic offences and fraud per 100,000) when the official reports of the
period were imported. Every figure carries the statement of how it was made.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from kupol.core.auth import Principal
from kupol.core.errors import InvalidInputError
from kupol.documents.render import font_files
from kupol.roads.crime import FRAUD_ARTICLE, TRAFFIC_CHAPTER
from kupol.roads.domain import Roads
from kupol.roads.hotspots import HotspotResult, cell_boundary
from kupol.roads.stats import Breakdown, Filter, Interval


@dataclass(kw_only=True)
class Report:
    """What a report says, before it is laid out."""

    title: str
    made_at: datetime
    where: Filter
    summary: dict[str, float]
    period: str
    charts: dict[str, bytes] = field(default_factory=dict)
    """PNG images by caption."""
    tables: dict[str, tuple[list[str], list[list[str]]]] = field(default_factory=dict)
    """Header and rows by caption."""
    notes: list[str] = field(default_factory=list)


def build_report(
    roads: Roads, *, actor: Principal, where: Filter, title: str, crime_period: str | None = None
) -> Report:
    """Gather the report's figures (every read is the caller's, with their permission)."""
    stats = roads.statistics
    months = stats.breakdown(actor=actor, by="month", where=where)
    if not months.rows:
        raise InvalidInputError("no accidents match: nothing to report")
    weekdays = stats.breakdown(actor=actor, by="weekday", where=where)
    hours = stats.breakdown(actor=actor, by="hour", where=where)
    kinds = stats.breakdown(actor=actor, by="kind", where=where)
    severities = stats.breakdown(actor=actor, by="severity", where=where)
    trend = stats.trend(actor=actor, where=where)
    report = Report(
        title=title,
        made_at=datetime.now(UTC),
        where=where,
        period=months.statement.split(", ", 1)[1].split(";")[0] if months.period else "",
        summary={
            "accidents": sum(r.accidents for r in months.rows),
            "killed": sum(r.killed for r in months.rows),
            "injured": sum(r.injured for r in months.rows),
            "fatal accidents": sum(r.fatal_accidents for r in months.rows),
        },
    )
    report.charts["Accidents by month (95 % intervals)"] = _bars(months)
    report.charts["Accidents by weekday"] = _bars(weekdays)
    report.charts["Accidents by hour of day"] = _bars(hours)
    report.tables["Kinds of accident"] = (
        ["kind", "accidents", "killed", "injured", "share"],
        [
            [r.key, str(r.accidents), str(r.killed), str(r.injured), f"{r.share:.1%}"]
            for r in sorted(kinds.rows, key=lambda r: -r.accidents)
        ],
    )
    report.tables["Severity"] = (
        ["severity", "accidents", "95 % interval", "share"],
        [
            [
                r.key,
                str(r.accidents),
                f"{r.interval.low:.0f}–{r.interval.high:.0f}",
                f"{r.share:.1%}",
            ]
            for r in severities.rows
        ],
    )
    if trend.years:
        report.charts["Accidents by year (95 % intervals)"] = _trend(
            trend.years, trend.counts, trend.intervals
        )
    report.notes.append("Trend: " + trend.statement)
    if where.region_code is None:
        ranking = stats.ranking(actor=actor, measure="killed", where=where)
        if ranking.rows:
            report.tables["Regions by people killed per 100,000 a year"] = _ranking(ranking)
            report.notes.append(ranking.statement)
    try:
        spots = roads.analyses.hotspots(actor=actor, where=where, stability_runs=10)
    except InvalidInputError as exc:
        report.notes.append(f"Hotspots: not computed ({exc})")
    else:
        report.charts["Hot areas (Gi*, severity-weighted)"] = _hotspot_map(spots)
        report.tables["Hot areas"] = (
            ["rank", "centre", "cells", "accidents", "killed", "max z", "stability"],
            [
                [
                    str(s.rank),
                    f"{s.centre[0]:.5f}, {s.centre[1]:.5f}",
                    str(len(s.cells)),
                    str(s.accidents),
                    str(s.killed),
                    f"{s.max_z:.1f}",
                    "—" if s.stability is None else f"{s.stability:.0%}",
                ]
                for s in spots.hotspots[:15]
            ],
        )
        report.notes.append(spots.statement)
    if crime_period:
        rows = []
        for label, chapter, article in (
            ("transport offences (chapter 14)", TRAFFIC_CHAPTER, None),
            ("fraud (art. 190)", None, FRAUD_ARTICLE),
        ):
            figures = roads.crime.by_region(
                actor=actor, period=crime_period, chapter=chapter, article=article
            )
            for figure in figures:
                if where.region_code in (None, figure.region_code):
                    rows.append(
                        [
                            label,
                            figure.region,
                            str(figure.registered),
                            "—" if figure.per_100k is None else f"{figure.per_100k:.1f}",
                        ]
                    )
        if rows:
            report.tables[f"Crime context, {crime_period} (registered offences)"] = (
                ["offence", "region", "registered", "per 100,000"],
                rows,
            )
    return report


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _bars(table: Breakdown) -> bytes:
    figure, axes = plt.subplots(figsize=(7, 2.6))
    keys = [r.key for r in table.rows]
    values = [r.value for r in table.rows]
    errors = [
        [r.value - r.interval.low for r in table.rows],
        [r.interval.high - r.value for r in table.rows],
    ]
    axes.bar(keys, values, yerr=errors, color="#3b6ea5", capsize=2)
    axes.set_ylabel(table.measure)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def _trend(years: list[int], counts: list[float], intervals: list[Interval]) -> bytes:
    figure, axes = plt.subplots(figsize=(7, 2.6))
    axes.errorbar(
        years,
        counts,
        yerr=[
            [c - i.low for c, i in zip(counts, intervals, strict=True)],
            [i.high - c for c, i in zip(counts, intervals, strict=True)],
        ],
        fmt="o-",
        color="#a53b3b",
        capsize=3,
    )
    axes.set_xticks(years)
    axes.grid(alpha=0.3)
    return _png(figure)


def _ranking(ranking: Breakdown) -> tuple[list[str], list[list[str]]]:
    rows = []
    for r in ranking.rows:
        interval = r.per_100k_interval
        rows.append(
            [
                r.key,
                str(r.killed),
                f"{r.per_100k_year:.1f}",
                f"{interval.low:.1f}–{interval.high:.1f}" if interval else "—",
            ]
        )
    return ["region", "killed", "per 100,000 a year", "95 % interval"], rows


def _hotspot_map(spots: HotspotResult) -> bytes:
    figure, axes = plt.subplots(figsize=(7, 5))
    for spot in spots.hotspots:
        for cell in spot.cells:
            ring = cell_boundary(cell)
            axes.fill([p[1] for p in ring], [p[0] for p in ring], color="#d62728", alpha=0.55)
        axes.annotate(str(spot.rank), (spot.centre[1], spot.centre[0]), fontsize=8)
    axes.set_xlabel("longitude")
    axes.set_ylabel("latitude")
    axes.set_aspect("equal", adjustable="datalim")
    axes.grid(alpha=0.3)
    return _png(figure)


def to_html(report: Report) -> str:
    """The report as one HTML page (charts embedded)."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(report.title)}</title><style>body{{font:14px/1.45 sans-serif;max-width:"
        "900px;margin:24px auto;color:#111}table{border-collapse:collapse;margin:8px 0 18px}"
        "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}img{max-width:100%}"
        ".note{color:#444;font-size:12px}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
        f"<p>{e(report.period)}. Made {report.made_at:%Y-%m-%d %H:%M} UTC by kupol.</p>",
        "<p>" + " · ".join(f"<b>{v:,.0f}</b> {e(k)}" for k, v in report.summary.items()) + "</p>",
    ]
    for caption, png in report.charts.items():
        data = base64.b64encode(png).decode()
        parts.append(
            f"<h2>{e(caption)}</h2><img alt='{e(caption)}' src='data:image/png;base64,{data}'>"
        )
    for caption, (header, rows) in report.tables.items():
        parts.append(
            f"<h2>{e(caption)}</h2><table><tr>"
            + "".join(f"<th>{e(h)}</th>" for h in header)
            + "</tr>"
        )
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append("<h2>How these figures were made</h2>")
    parts += [f"<p class='note'>{e(n)}</p>" for n in report.notes]
    parts.append("</body></html>")
    return "\n".join(parts)


def to_pdf(report: Report) -> bytes:
    """The report as PDF (A4)."""
    from fpdf import FPDF

    regular, bold = font_files()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(
        0,
        6,
        f"{report.period}. Made {report.made_at:%Y-%m-%d %H:%M} UTC by kupol.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(
        0,
        6,
        " · ".join(f"{v:,.0f} {k}" for k, v in report.summary.items()),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for caption, png in report.charts.items():
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 7, caption, new_x="LMARGIN", new_y="NEXT")
        pdf.image(io.BytesIO(png), w=180)
    for caption, (header, rows) in report.tables.items():
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 7, caption, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(text_align="LEFT") as table:
            table.row(header)
            for row in rows:
                table.row(row)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 7, "How these figures were made", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for note in report.notes:
        pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())
