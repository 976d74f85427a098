"""What every ``kupol`` command shares: consoles, error handling, settings, the container."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from kupol.core.errors import (
    ConflictError,
    FieldProblem,
    InvalidInputError,
    KupolError,
    ServiceUnavailableError,
)
from kupol.settings import Settings, load_settings

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
STATE: dict[str, Path | None] = {"config": None}


def handle_errors(func: F) -> F:
    """Turn kupol errors into one clear line on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KupolError as exc:
            err.print("[bold red]error:[/] ", end="")
            err.print(exc.detail, markup=False, highlight=False)
            for problem in exc.problems:
                err.print(f"  {problem.field}: {problem.message}", markup=False, highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def settings(**overrides: Any) -> Settings:
    """The settings for this invocation (``--config`` file, environment, overrides)."""
    return load_settings(toml_file=STATE["config"] or "kupol.toml", **overrides)


def require_schema(s: Settings) -> None:
    """Refuse to go on unless the database is reachable and at this kupol's schema."""
    from sqlalchemy.exc import OperationalError

    from kupol.core.db import current_revision, make_engine

    try:
        revision = current_revision(make_engine(s.database.url))
    except OperationalError as exc:
        raise ServiceUnavailableError(f"cannot reach the database: {exc.orig}") from None
    if revision is None:
        raise ServiceUnavailableError("the database has no schema yet: run `kupol db upgrade`")
    from alembic.script import ScriptDirectory

    from kupol.core.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(s.database.url)).get_current_head()
    if revision != head:
        raise ServiceUnavailableError(
            f"the database schema is at {revision}, this kupol needs {head}: run `kupol db upgrade`"
        )


def container() -> Any:
    """The application's container for a command that works on the configured database."""
    from kupol.bootstrap import build_container

    s = settings()
    require_schema(s)
    return build_container(s)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: object, *, where: str) -> M:
    """``data`` as ``model``, or an :class:`InvalidInputError` naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}: expected a table of fields")
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        problems = [
            FieldProblem(field=".".join(str(p) for p in e["loc"]) or where, message=e["msg"])
            for e in exc.errors()
        ]
        raise InvalidInputError(f"{where}: invalid", problems=problems) from None


def import_tables(
    file: Path,
    *,
    table: str,
    model: type[M],
    add: Callable[[M], object],
    noun: str,
    verb: str = "added",
) -> None:
    """Add each ``[[table]]`` of a TOML file through ``add``.

    Valid entries are kept even when others are refused; each refusal is printed with its
    entry number and fields, and the command then exits 2 (bad input loses nothing).
    """
    try:
        entries = tomllib.loads(file.read_text(encoding="utf-8")).get(table)
    except FileNotFoundError:
        raise InvalidInputError(f"file not found: {file}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{file} is not valid TOML: {exc}") from None
    if not isinstance(entries, list) or not entries:
        raise InvalidInputError(f"{file} has no [[{table}]] tables")
    added = refused = 0
    for number, entry in enumerate(entries, start=1):
        where = f"{table} #{number}"
        try:
            add(validated(model, entry, where=where))
            added += 1
        except ConflictError as exc:
            err.print(f"{where}: {exc.detail} (skipped)", markup=False)
            refused += 1
        except KupolError as exc:
            err.print(exc.detail, markup=False)
            for problem in exc.problems:
                err.print(f"  {problem.field}: {problem.message}", markup=False)
            refused += 1
    out.print(f"{added} {noun}(s) {verb}, {refused} refused", highlight=False)
    if refused:
        raise typer.Exit(2)
