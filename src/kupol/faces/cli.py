"""``kupol faces``: watchlists, enrolment, hits, retrospective search and the retention purge.

Commands that touch personal data run in a named user's name (``--as``): that user's roles
decide, and the audit log names them, exactly as in the console.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from kupol.clikit import container, err, handle_errors, out
from kupol.core.audit import Justification
from kupol.core.auth import Principal
from kupol.core.errors import InvalidInputError
from kupol.faces.model import HitStatus, WatchlistKind
from kupol.faces.schemas import HitDecision, PersonCreate, WatchlistCreate, WatchlistUpdate
from kupol.faces.search import SearchQuery

app = typer.Typer(
    help="Face watchlists, hit review, retrospective search, retention.", no_args_is_help=True
)
AsUser = Annotated[str, typer.Option("--as", help="Act as this kupol user (their roles apply).")]
Purpose = Annotated[str, typer.Option("--purpose", help="Why you look (audited).")]


def _aware(value: datetime | None) -> datetime | None:
    """A time typed without an offset is taken as UTC (what kupol stores)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _print(value: object) -> None:
    out.print_json(json.dumps(value, default=str, ensure_ascii=False))


@app.command("watchlists")
@handle_errors
def list_watchlists(user: AsUser) -> None:
    """Print the watchlists."""
    c = container()
    lists = c.faces.watchlists.lists(actor=c.auth.principal_of(user))
    _print([w.model_dump(mode="json") for w in lists])


@app.command("create-list")
@handle_errors
def create_list(
    name: str,
    user: AsUser,
    kind: Annotated[WatchlistKind, typer.Option(help="wanted, missing, banned or other")],
    description: str = "",
    threshold: Annotated[float | None, typer.Option(help="Cosine similarity of a hit.")] = None,
) -> None:
    """Create a watchlist."""
    c = container()
    created = c.faces.watchlists.create(
        watchlist=WatchlistCreate(
            name=name, kind=kind, description=description, threshold=threshold
        ),
        actor=c.auth.principal_of(user),
    )
    _print(created.model_dump(mode="json"))


@app.command("add-person")
@handle_errors
def add_person(
    watchlist_id: int,
    name: str,
    user: AsUser,
    reason: Annotated[str, typer.Option(help="Why this person is listed.")],
    reference: Annotated[str | None, typer.Option(help="Case or report number.")] = None,
    expires: Annotated[datetime | None, typer.Option(help="No longer matched after.")] = None,
    photo: Annotated[list[Path] | None, typer.Option(help="Photos to enrol (repeat).")] = None,
) -> None:
    """List a person and enrol their photos. Photos that are refused are reported with the
    reason; the person and the accepted photos are kept. Exit 2 if any photo was refused."""
    c = container()
    actor = c.auth.principal_of(user)
    person = c.faces.watchlists.add_person(
        watchlist_id=watchlist_id,
        person=PersonCreate(
            name=name, reason=reason, reference=reference, expires_at=_aware(expires)
        ),
        actor=actor,
    )
    out.print(f"person {person.id} listed", highlight=False)
    refused = _enrol(c, person.id, photo or [], actor)
    if refused:
        raise typer.Exit(2)


@app.command("enrol")
@handle_errors
def enrol(
    person_id: int,
    photos: Annotated[list[Path], typer.Argument(help="Photos, one face each.")],
    user: AsUser,
) -> None:
    """Enrol photos of a listed person; exit 2 if any was refused (the others are kept)."""
    c = container()
    if _enrol(c, person_id, photos, c.auth.principal_of(user)):
        raise typer.Exit(2)


def _enrol(c: Any, person_id: int, photos: list[Path], actor: Principal) -> int:
    refused = 0
    for path in photos:
        try:
            data = path.read_bytes()
        except OSError as exc:
            err.print(f"{path}: cannot read ({exc.strerror})", highlight=False)
            refused += 1
            continue
        try:
            photo = c.faces.watchlists.enrol(person_id=person_id, photo=data, actor=actor)
        except InvalidInputError as exc:
            err.print(f"{path}: refused: {exc.detail}", highlight=False)
            refused += 1
            continue
        out.print(f"{path}: enrolled as photo {photo.id} (quality {photo.quality:.2f})")
    return refused


@app.command("hits")
@handle_errors
def list_hits(
    user: AsUser,
    purpose: Purpose,
    status: Annotated[HitStatus | None, typer.Option(help="pending, confirmed, rejected")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Print watchlist hits, newest first."""
    c = container()
    hits = c.faces.hits.list(
        actor=c.auth.principal_of(user),
        why=Justification(purpose=purpose),
        status=status.value if status else None,
        limit=limit,
    )
    _print([h.model_dump(mode="json") for h in hits])


@app.command("decide")
@handle_errors
def decide(
    hit_id: int,
    status: Annotated[HitStatus, typer.Argument(help="confirmed or rejected")],
    user: AsUser,
    note: Annotated[str, typer.Option(help="What you saw.")],
) -> None:
    """Confirm or reject a hit."""
    c = container()
    hit = c.faces.hits.decide(
        hit_id=hit_id,
        decision=HitDecision(status=status, note=note),
        actor=c.auth.principal_of(user),
    )
    _print(hit.model_dump(mode="json"))


@app.command("search")
@handle_errors
def search(
    photo: Path,
    user: AsUser,
    case: Annotated[str, typer.Option("--case", help="Case number (required).")],
    purpose: Purpose,
    since: datetime | None = None,
    until: datetime | None = None,
    camera: Annotated[list[str] | None, typer.Option(help="Only these cameras.")] = None,
    min_similarity: Annotated[float | None, typer.Option(min=0.01, max=0.99)] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 200,
) -> None:
    """Where the face in PHOTO was seen, oldest first (audited, needs a case number)."""
    c = container()
    try:
        data = photo.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{photo}: cannot read ({exc.strerror})") from None
    result = c.faces.search.search(
        photo=data,
        query=SearchQuery(
            since=_aware(since),
            until=_aware(until),
            camera_ids=tuple(camera or ()),
            min_similarity=min_similarity,
            limit=limit,
        ),
        actor=c.auth.principal_of(user),
        why=Justification(purpose=purpose, case_number=case),
    )
    _print(result.model_dump(mode="json"))


@app.command("purge")
@handle_errors
def purge() -> None:
    """Delete face templates and crops past the retention window now (also scheduled)."""
    report = container().faces.purge.purge()
    out.print(
        f"purged {report.sightings} expired sightings ({report.files} files)", highlight=False
    )


@app.command("export")
@handle_errors
def export(
    event_id: UUID,
    output: Annotated[Path, typer.Option("--out", help="Where to write the ZIP.")],
    user: AsUser,
    case: Annotated[str, typer.Option("--case", help="Case number (required).")],
    purpose: Purpose,
    subject: Annotated[
        Path | None, typer.Option(help="Photo of the subject; every other face is blurred.")
    ] = None,
) -> None:
    """Export an event's snapshots and clips with every face but the subject's blurred."""
    c = container()
    try:
        subject_photo = subject.read_bytes() if subject is not None else None
    except OSError as exc:
        raise InvalidInputError(f"{subject}: cannot read ({exc.strerror})") from None
    archive = c.faces.export.export_event(
        event_id=event_id,
        subject_photo=subject_photo,
        actor=c.auth.principal_of(user),
        why=Justification(purpose=purpose, case_number=case),
    )
    output.write_bytes(archive)
    out.print(f"wrote {output} ({len(archive)} bytes)", highlight=False)


@app.command("update-list")
@handle_errors
def update_list(
    watchlist_id: int,
    user: AsUser,
    threshold: Annotated[float | None, typer.Option(min=0.01, max=0.99)] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
    description: str | None = None,
) -> None:
    """Change a list's threshold, description or whether it is matched."""
    c = container()
    updated = c.faces.watchlists.update(
        watchlist_id=watchlist_id,
        change=WatchlistUpdate(threshold=threshold, active=active, description=description),
        actor=c.auth.principal_of(user),
    )
    _print(updated.model_dump(mode="json"))


@app.command("thresholds")
@handle_errors
def thresholds(watchlist_id: int, user: AsUser) -> None:
    """Operators' decisions on a list's hits by similarity, and a suggested threshold."""
    c = container()
    report = c.faces.hits.threshold_report(
        watchlist_id=watchlist_id, actor=c.auth.principal_of(user)
    )
    _print(report.model_dump(mode="json"))


@app.command("remove-person")
@handle_errors
def remove_person(
    person_id: int,
    user: AsUser,
    reason: Annotated[str, typer.Option(help="Why the person is taken off the list.")],
) -> None:
    """Take a person off their list (kept for the audit trail, no longer matched)."""
    c = container()
    c.faces.watchlists.remove_person(
        person_id=person_id, reason=reason, actor=c.auth.principal_of(user)
    )
    out.print(f"person {person_id} is no longer matched", highlight=False)
