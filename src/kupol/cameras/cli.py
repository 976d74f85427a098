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

from pathlib import Path

import typer

from kupol.cameras.model import CameraKind
from kupol.cameras.schemas import CameraCreate
from kupol.clikit import container, handle_errors, import_tables, out, validated
from kupol.core.auth.service import SYSTEM

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
    camera = validated(
        CameraCreate,
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
    cameras = container().cameras
    import_tables(
        file,
        table="cameras",
        model=CameraCreate,
        noun="camera",
        verb="registered",
        add=lambda camera: cameras.register(camera=camera, actor=SYSTEM),
    )
