"""``kupol cameras``: list, add and import cameras from the command line.

An import file is TOML with one ``[[cameras]]`` table per camera, the same fields as the API::

    [[cameras]]
    id = "ast-kabanbay-01"
    name = "Астана, пр. Кабанбай батыра"
    kind = "fixed"
    latitude = 51.089
    longitude = 71.416
    stream_url = "rtsp://10.0.0.5/stream1"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from kupol.cameras.model import CameraKind
from kupol.cameras.schemas import CameraCreate
from kupol.clikit import container, err, handle_errors, out
from kupol.core.auth.service import SYSTEM
from kupol.core.errors import ConflictError, InvalidInputError, KupolError

app = typer.Typer(help="List, add and import cameras.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_cameras() -> None:
    """Print every camera: id, kind, position, name."""
    for camera in container().cameras.list():
        state = "" if camera.enabled else "  [disabled]"
        out.print(
            f"{camera.id:<24} {camera.kind:<8} {camera.latitude:9.5f} {camera.longitude:10.5f}  "
            f"{camera.name}{state}",
            markup=False,
            highlight=False,
        )


@app.command("add")
@handle_errors
def add_camera(
    camera_id: str = typer.Argument(..., help="Stable id: lower-case letters, digits, dashes."),
    name: str = typer.Option(..., help="Name operators see."),
    latitude: float = typer.Option(..., help="Degrees north."),
    longitude: float = typer.Option(..., help="Degrees east."),
    kind: CameraKind = typer.Option(CameraKind.FIXED, help="fixed, ptz, drone, robot, bodycam."),
    heading: float | None = typer.Option(None, help="Direction it faces, 0 = north."),
    stream_url: str | None = typer.Option(None, help="rtsp://, http(s)://, file:// or a path."),
    region: str | None = typer.Option(None, help="Kazakhstan region code 01-20."),
) -> None:
    """Register one camera."""
    camera = _validate(
        {
            "id": camera_id,
            "name": name,
            "latitude": latitude,
            "longitude": longitude,
            "kind": kind.value,
            "heading_deg": heading,
            "stream_url": stream_url,
            "region_code": region,
        },
        where="camera",
    )
    container().cameras.register(camera=camera, actor=SYSTEM)
    out.print(f"registered {camera.id}", highlight=False)


@app.command("import")
@handle_errors
def import_cameras(
    file: Path = typer.Argument(..., help="TOML file with [[cameras]] tables."),
) -> None:
    """Register the cameras in a file. Valid ones are registered even if others are not;
    each problem is reported by its entry number and field. Exit 2 if any was refused."""
    try:
        entries = tomllib.loads(file.read_text(encoding="utf-8")).get("cameras")
    except FileNotFoundError:
        raise InvalidInputError(f"file not found: {file}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{file} is not valid TOML: {exc}") from None
    if not isinstance(entries, list) or not entries:
        raise InvalidInputError(f"{file} has no [[cameras]] tables")
    services = container()
    added = refused = 0
    for number, entry in enumerate(entries, start=1):
        try:
            camera = _validate(entry, where=f"cameras #{number}")
            services.cameras.register(camera=camera, actor=SYSTEM)
            added += 1
        except ConflictError as exc:
            err.print(f"cameras #{number}: {exc.detail} (skipped)", markup=False)
            refused += 1
        except KupolError as exc:
            err.print(f"{exc.detail}", markup=False)
            for problem in exc.problems:
                err.print(f"  {problem.field}: {problem.message}", markup=False)
            refused += 1
    out.print(f"{added} camera(s) registered, {refused} refused", highlight=False)
    if refused:
        raise typer.Exit(2)


def _validate(data: Any, *, where: str) -> CameraCreate:
    from kupol.core.errors import FieldProblem

    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}: expected a table of fields")
    try:
        return CameraCreate.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        problems = [
            FieldProblem(field=".".join(str(p) for p in e["loc"]) or "camera", message=e["msg"])
            for e in exc.errors()
        ]
        raise InvalidInputError(f"{where}: invalid", problems=problems) from None
