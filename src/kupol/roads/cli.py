"""``kupol roads``: import accident records and the official crime reports, and print the
statistics (JSON), in a named user's name (``--as``: their roles apply, the audit log names
them)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from kupol.clikit import container, err, handle_errors, out
from kupol.core.errors import InvalidInputError
from kupol.roads.importer import related_names
from kupol.roads.mapping import load_mapping
from kupol.roads.stats import Filter

app = typer.Typer(help="Road safety: accidents, statistics, crime figures.", no_args_is_help=True)
AsUser = Annotated[str, typer.Option("--as", help="Act as this kupol user (their roles apply).")]


def _json(value: object) -> None:
    out.print_json(json.dumps(value, default=str, ensure_ascii=False))


@app.command("import")
@handle_errors
def import_accidents(
    files: Annotated[list[Path], typer.Argument(help="Accident CSV files.", exists=True)],
    user: AsUser,
    mapping: Annotated[str, typer.Option(help="A shipped mapping's name or a mapping file.")],
) -> None:
    """Import accident files; related files the mapping counts from are found beside each
    (e.g. casualty.csv beside accident.csv). Prints each import's summary (JSON)."""
    c = container()
    chosen = load_mapping(mapping)
    actor = c.auth.principal_of(user)
    summaries = []
    for file in files:
        related = {}
        for role, path in related_names(file, chosen).items():
            if path.resolve() == file.resolve():
                raise InvalidInputError(
                    f"{file}: its name does not say which {role} file goes with it"
                )
            if not path.is_file():
                raise InvalidInputError(f"{file}: the mapping needs {path.name} beside it")
            related[role] = path.read_bytes()
        summary = c.roads.registry.import_file(
            data=file.read_bytes(), file_name=str(file), mapping=chosen, actor=actor,
            related=related,
        )  # fmt: skip
        err.print(
            f"{file}: {summary.rows} rows, {summary.imported} imported, "
            f"{summary.duplicates} already known, {summary.rejected} rejected"
        )
        summaries.append({**asdict(summary), "rejects": summary.rejects[:50]})
    _json(summaries)


@app.command("import-crime")
@handle_errors
def import_crime(
    files: Annotated[list[Path], typer.Argument(help="Form 1-M workbooks (XLSX).", exists=True)],
    user: AsUser,
    period: Annotated[str, typer.Option(help="The period they cover: 2023, 2023-06, 2023-H1…")],
    region: Annotated[
        str | None, typer.Option(help="The region (one file); default: from each file's name.")
    ] = None,
) -> None:
    """Import the official crime reports, one workbook per region."""
    c = container()
    actor = c.auth.principal_of(user)
    done = []
    for file in files:
        name = region or file.stem
        lines = c.roads.crime.import_report(
            data=file.read_bytes(), file_name=file.name, region=name, period=period, actor=actor
        )
        done.append({"file": file.name, "region": c.roads.regions.code_for(name), "lines": lines})
    _json(done)


def _where(
    source: str | None, region: str | None, since: datetime | None, until: datetime | None
) -> Filter:
    return Filter(
        source=source,
        region_code=region,
        since=since.date() if since else None,
        until=until.date() if until else None,
    )


@app.command("stats")
@handle_errors
def stats(
    user: AsUser,
    by: Annotated[str, typer.Option(help="region, year, month, weekday, hour, road_class…")],
    measure: str = "accidents",
    source: str | None = None,
    region: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> None:
    """Counts with 95 % intervals by one dimension (JSON)."""
    c = container()
    result = c.roads.statistics.breakdown(
        actor=c.auth.principal_of(user), by=by, measure=measure,
        where=_where(source, region, since, until),
    )  # fmt: skip
    _json(asdict(result))


@app.command("trend")
@handle_errors
def trend(
    user: AsUser,
    measure: str = "accidents",
    source: str | None = None,
    region: str | None = None,
) -> None:
    """Counts by whole year and the change per year (JSON)."""
    c = container()
    result = c.roads.statistics.trend(
        actor=c.auth.principal_of(user), measure=measure, where=_where(source, region, None, None)
    )
    _json(asdict(result))


@app.command("ranking")
@handle_errors
def ranking(
    user: AsUser,
    measure: str = "killed",
    since: datetime | None = None,
    until: datetime | None = None,
) -> None:
    """Regions by a measure per 100,000 people per year (JSON)."""
    c = container()
    result = c.roads.statistics.ranking(
        actor=c.auth.principal_of(user), measure=measure,
        where=_where(None, None, since, until),
    )  # fmt: skip
    _json(asdict(result))


@app.command("crime")
@handle_errors
def crime(
    user: AsUser,
    period: Annotated[str, typer.Option(help="The period imported: 2023, 2023-06…")],
    article: str | None = None,
    chapter: int | None = None,
) -> None:
    """An article's or chapter's registered offences by region, per 100,000 (JSON)."""
    c = container()
    figures = c.roads.crime.by_region(
        actor=c.auth.principal_of(user), period=period, article=article, chapter=chapter
    )
    _json([asdict(f) for f in figures])


@app.command("synthetic")
@handle_errors
def synthetic(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the CSV.")],
    year: int = 2025,
    accidents: Annotated[int, typer.Option(min=1, max=5_000_000)] = 30_000,
    seed: int = 2025,
) -> None:
    """Write a synthetic Kazakhstan year of accidents (NOT real data), to import with
    ``--mapping kz-synthetic``."""
    from kupol.roads.regions import load_regions
    from kupol.roads.synthetic import synthetic_year

    out_file.write_bytes(synthetic_year(load_regions(), year=year, accidents=accidents, seed=seed))
    err.print(f"{accidents} synthetic accidents written to {out_file}")


@app.command("hotspots")
@handle_errors
def hotspots(
    user: AsUser,
    resolution: int = 9,
    source: str | None = None,
    region: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> None:
    """Hot areas (Getis-Ord Gi*, severity-weighted; JSON)."""
    c = container()
    result = c.roads.analyses.hotspots(
        actor=c.auth.principal_of(user), where=_where(source, region, since, until),
        resolution=resolution,
    )  # fmt: skip
    _json(asdict(result))


@app.command("advice")
@handle_errors
def advice(
    user: AsUser,
    measure: Annotated[
        str, typer.Option(help="camera, smart_crosswalk, speed_bump, patrol, drone")
    ],
    places: int = 20,
    source: str | None = None,
    region: str | None = None,
) -> None:
    """Where the measure would avert the most severity-weighted accidents a year (JSON)."""
    c = container()
    result = c.roads.analyses.advice(
        actor=c.auth.principal_of(user), measure=measure,
        where=_where(source, region, None, None), places=places,
    )  # fmt: skip
    _json(asdict(result))


@app.command("report")
@handle_errors
def report(
    user: AsUser,
    out_file: Annotated[Path, typer.Option("--out", help="report.pdf or report.html")],
    title: str = "Road safety report",
    source: str | None = None,
    region: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    crime_period: str | None = None,
) -> None:
    """Write a road-safety report (PDF or HTML, by the file's extension)."""
    from kupol.roads.report import build_report, to_html, to_pdf

    if out_file.suffix not in (".pdf", ".html"):
        raise InvalidInputError("--out must end in .pdf or .html")
    c = container()
    built = build_report(
        c.roads, actor=c.auth.principal_of(user), where=_where(source, region, since, until),
        title=title, crime_period=crime_period,
    )  # fmt: skip
    if out_file.suffix == ".pdf":
        out_file.write_bytes(to_pdf(built))
    else:
        out_file.write_text(to_html(built), encoding="utf-8")
    err.print(f"report written to {out_file}")
