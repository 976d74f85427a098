"""``kupol plates``: plate sightings search and a vehicle's route, in a named user's name
(``--as``: that user's roles apply and the audit log names them)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from kupol.clikit import container, err, handle_errors, out
from kupol.core.audit import Justification
from kupol.core.errors import InvalidInputError
from kupol.plates.queries import MAX_LIMIT, Match, PlateFilter

app = typer.Typer(help="Plate sightings and vehicle routes.", no_args_is_help=True)
AsUser = Annotated[str, typer.Option("--as", help="Act as this kupol user (their roles apply).")]
Purpose = Annotated[str, typer.Option("--purpose", help="Why you look (audited).")]


def _utc(value: datetime | None) -> datetime | None:
    """A time typed without an offset is taken as UTC (what kupol stores)."""
    return _aware(value) if value is not None else None


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@app.command("search")
@handle_errors
def search(
    plate: Annotated[str, typer.Argument(help="Plate, or a pattern with ? and *.")],
    user: AsUser,
    purpose: Purpose,
    match: Annotated[Match, typer.Option(help="exact, wildcard or fuzzy")] = Match.EXACT,
    camera: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 100,
) -> None:
    """Plate sightings, newest first (JSON)."""
    c = container()
    found = c.plates.search(
        filters=PlateFilter(
            plate=plate,
            match=match,
            camera_id=camera,
            since=_utc(since),
            until=_utc(until),
            limit=limit,
        ),
        actor=c.auth.principal_of(user),
        why=Justification(purpose=purpose),
    )
    out.print_json(json.dumps([asdict(s) for s in found], default=str, ensure_ascii=False))


@app.command("route")
@handle_errors
def route(
    plate: str,
    user: AsUser,
    purpose: Purpose,
    since: Annotated[datetime, typer.Option(help="From (UTC unless an offset is given).")],
    until: Annotated[datetime, typer.Option(help="To (UTC unless an offset is given).")],
) -> None:
    """Where one vehicle went: sightings in order, legs, possible cloned plates (JSON)."""
    c = container()
    result = c.plates.route(
        plate=plate,
        since=_aware(since),
        until=_aware(until),
        actor=c.auth.principal_of(user),
        why=Justification(purpose=purpose),
    )
    out.print_json(json.dumps(asdict(result), default=str, ensure_ascii=False))


@app.command("create-hotlist")
@handle_errors
def create_hotlist(
    name: str,
    user: AsUser,
    kind: Annotated[str, typer.Option(help="wanted, stolen, unpaid_fines or other")],
    fuzzy: Annotated[bool, typer.Option(help="Also hit reads one character off.")] = False,
) -> None:
    """Create a plate hotlist; prints its id."""
    c = container()
    hotlist_id = c.hotlists.create(
        name=name, kind=kind, fuzzy=fuzzy, actor=c.auth.principal_of(user)
    )
    out.print(f"hotlist {hotlist_id} created", highlight=False)


@app.command("import-hotlist")
@handle_errors
def import_hotlist(
    hotlist_id: int,
    file: Annotated[Path, typer.Argument(help="CSV: plate,reason[,reference][,expires_at]")],
    user: AsUser,
) -> None:
    """Add or update entries from CSV. Bad rows are reported with their line and reason and
    the good ones are kept; exit 2 if any row was refused."""
    c = container()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{file}: cannot read ({exc.strerror})") from None
    report = c.hotlists.import_csv(
        hotlist_id=hotlist_id, data=data, actor=c.auth.principal_of(user)
    )
    for line, reason in report.rejected:
        err.print(f"{file}:{line}: refused: {reason}", highlight=False)
    out.print(
        f"added {report.added}, updated {report.updated}, refused {len(report.rejected)}",
        highlight=False,
    )
    if report.rejected:
        raise typer.Exit(2)
