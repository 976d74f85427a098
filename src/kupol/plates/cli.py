"""``kupol plates``: plate sightings search, a vehicle's route (and its export to the evidence
vault) and the hotlists (create, import, list, add or remove a plate, switch on or off), in a
named user's name (``--as``: that user's roles apply and the audit log names them)."""

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

app = typer.Typer(help="Plate sightings, vehicle routes and hotlists.", no_args_is_help=True)
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


@app.command("export-route")
@handle_errors
def export_route(
    plate: str,
    user: AsUser,
    purpose: Purpose,
    since: Annotated[datetime, typer.Option(help="From (UTC unless an offset is given).")],
    until: Annotated[datetime, typer.Option(help="To (UTC unless an offset is given).")],
    case: Annotated[str, typer.Option("--case", help="The case the route is evidence for.")],
) -> None:
    """Put one vehicle's route and its sightings' crops in the evidence vault under a case
    (audited); prints where they went (JSON)."""
    c = container()
    result = c.plate_case_files.export(
        actor=c.auth.principal_of(user), why=Justification(purpose=purpose), plate=plate,
        since=_aware(since), until=_aware(until), case_number=case,
    )  # fmt: skip
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
    replace: Annotated[
        bool, typer.Option(help="The file is the whole list: take off the plates it lacks.")
    ] = False,
) -> None:
    """Add or update entries from CSV. Bad rows are reported with their line and reason and
    the good ones are kept; exit 2 if any row was refused (then, with --replace, nothing is
    taken off)."""
    c = container()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{file}: cannot read ({exc.strerror})") from None
    report = c.hotlists.import_csv(
        hotlist_id=hotlist_id, data=data, actor=c.auth.principal_of(user), replace=replace
    )
    for line, reason in report.rejected:
        err.print(f"{file}:{line}: refused: {reason}", highlight=False)
    out.print(
        f"added {report.added}, updated {report.updated}, refused {len(report.rejected)}"
        + (f", removed {report.removed}" if replace else ""),
        highlight=False,
    )
    if report.rejected:
        raise typer.Exit(2)


@app.command("hotlists")
@handle_errors
def hotlists(user: AsUser) -> None:
    """The hotlists with their settings and how many plates each holds (no plate; JSON)."""
    c = container()
    found = c.hotlists.lists(actor=c.auth.principal_of(user))
    out.print_json(json.dumps([asdict(h) for h in found], default=str, ensure_ascii=False))


@app.command("hotlist-entries")
@handle_errors
def hotlist_entries(
    hotlist_id: int,
    user: AsUser,
    purpose: Purpose,
    plate: Annotated[str | None, typer.Option(help="Only plates containing this.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 200,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """A page of a list's plates with why, under what reference, until when and by whom
    (audited with the purpose; JSON)."""
    c = container()
    page = c.hotlists.entries(
        hotlist_id=hotlist_id, actor=c.auth.principal_of(user),
        why=Justification(purpose=purpose), plate=plate, limit=limit, offset=offset,
    )  # fmt: skip
    out.print_json(json.dumps(asdict(page), default=str, ensure_ascii=False))


@app.command("add-plate")
@handle_errors
def add_plate(
    hotlist_id: int,
    plate: str,
    user: AsUser,
    reason: Annotated[str, typer.Option(help="Why the vehicle is wanted (a sentence).")],
    reference: Annotated[str | None, typer.Option(help="A case or warrant number.")] = None,
    expires: Annotated[
        datetime | None, typer.Option(help="Until when it holds (UTC unless an offset is given).")
    ] = None,
) -> None:
    """Put one plate on a list (audited); prints its entry."""
    c = container()
    entry = c.hotlists.add_entry(
        hotlist_id=hotlist_id, plate=plate, reason=reason, reference=reference,
        expires_at=_utc(expires), actor=c.auth.principal_of(user),
    )  # fmt: skip
    out.print_json(json.dumps(asdict(entry), default=str, ensure_ascii=False))


@app.command("remove-plate")
@handle_errors
def remove_plate(
    hotlist_id: int,
    entry_id: int,
    user: AsUser,
    reason: Annotated[str, typer.Option(help="Why it comes off (kept in the audit log).")],
) -> None:
    """Take one entry off a list, saying why (audited)."""
    c = container()
    c.hotlists.remove_entry(
        hotlist_id=hotlist_id, entry_id=entry_id, reason=reason, actor=c.auth.principal_of(user)
    )
    out.print(f"entry {entry_id} removed from hotlist {hotlist_id}", highlight=False)


@app.command("update-hotlist")
@handle_errors
def update_hotlist(
    hotlist_id: int,
    user: AsUser,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Switch its matching on or off.")
    ] = None,
    fuzzy: Annotated[
        bool | None, typer.Option("--fuzzy/--exact", help="Also hit reads one character off.")
    ] = None,
) -> None:
    """Switch a list on or off, or its one-character-off matching (audited; JSON)."""
    c = container()
    view = c.hotlists.update(
        hotlist_id=hotlist_id, actor=c.auth.principal_of(user), active=active, fuzzy=fuzzy
    )
    out.print_json(json.dumps(asdict(view), default=str, ensure_ascii=False))
