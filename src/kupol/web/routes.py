"""Console pages (placeholder until the console lands)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"


def mount_static(app: FastAPI) -> None:
    """Serve the console's static files under /static."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
