"""The faces domain wired together (built once by :mod:`kupol.bootstrap`).

The face models load on first use, not at start-up: a kupol without face cameras, watchlist
enrolments or searches never pays for them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from kupol.core.audit import AuditLog
from kupol.core.db import Database
from kupol.core.outbox import OutboxRelay
from kupol.faces.config import CameraFacesConfig
from kupol.faces.files import FaceFiles
from kupol.faces.gallery import Gallery
from kupol.faces.hits import HitService
from kupol.faces.live import FaceStage
from kupol.faces.matcher import FaceMatcher
from kupol.faces.privacy import FaceExport
from kupol.faces.retention import FacePurge
from kupol.faces.search import FaceSearch, SightingIndex
from kupol.faces.types import Face, FaceAnalyzer, FaceBox, Image
from kupol.faces.watchlists import WatchlistService
from kupol.settings import FacesSettings

log = logging.getLogger(__name__)
TEMPLATE_MODEL = "dlib-resnet-v1"
"""The network templates come from: dlib's ResNet, run by dlib or as ONNX (same vectors)."""
TEMPLATE_DIM = 128


class LazyAnalyzer:
    """The shared face engine, loaded on first use (thread-safe)."""

    def __init__(self, settings: FacesSettings) -> None:
        self._settings = settings
        self._engine: FaceAnalyzer | None = None
        self._lock = threading.Lock()

    def use(self, engine: FaceAnalyzer) -> None:
        """Use this engine instead of loading the configured one (tests, other plug-ins)."""
        with self._lock:
            self._engine = engine

    def engine(self) -> FaceAnalyzer:
        """The loaded engine."""
        with self._lock:
            if self._engine is None:
                from kupol.faces.engine import FaceEngineConfig, shared_engine

                config = FaceEngineConfig.model_validate(self._settings.engine)
                self._engine = shared_engine(config)
            return self._engine

    def analyze(
        self,
        image: Image,
        *,
        regions: Sequence[tuple[float, float, float, float]] | None = None,
        embed_unusable: bool = False,
    ) -> list[Face]:
        """See :meth:`kupol.faces.engine.FaceEngine.analyze`."""
        return self.engine().analyze(image, regions=regions, embed_unusable=embed_unusable)

    def detect(self, image: Image) -> list[FaceBox]:
        """See :meth:`kupol.faces.engine.FaceEngine.detect`."""
        return self.engine().detect(image)


@dataclass(kw_only=True)
class Faces:
    """Everything the faces domain offers the API, the CLI and the camera pipelines."""

    settings: FacesSettings
    analyzer: LazyAnalyzer
    files: FaceFiles
    watchlists: WatchlistService
    hits: HitService
    search: FaceSearch
    sightings: SightingIndex
    gallery: Gallery
    matcher: FaceMatcher
    purge: FacePurge
    export: FaceExport
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _warm: asyncio.Task[None] | None = None

    def stage(self, camera_id: str, config: CameraFacesConfig) -> FaceStage:
        """A camera's face stage (the pipelines' factory)."""
        return FaceStage(
            camera_id=camera_id,
            config=config,
            analyzer=self.analyzer,
            files=self.files,
            model_name=TEMPLATE_MODEL,
        )

    def start(self) -> None:
        """Start the scheduled purge of expired templates, and load the indexes in the
        background (so the first hit or search does not wait for them)."""
        if self._task is None:
            self._stop = asyncio.Event()
            self._task = asyncio.create_task(
                self.purge.run_every(self.settings.purge_interval_s, self._stop),
                name="faces-purge",
            )
            self._warm = asyncio.create_task(self._warm_up(), name="faces-warm-up")

    async def _warm_up(self) -> None:
        try:
            await asyncio.to_thread(self.gallery.refresh, force=True)
            await asyncio.to_thread(self.sightings.sync)
        except Exception:
            log.exception("faces: indexes not loaded ahead; they load at first use")

    async def stop(self) -> None:
        """Stop the scheduled purge; keep the watchlist index for a quick next start."""
        if self._task is not None:
            self._stop.set()
            await self._task
            self._task = None
        if self._warm is not None:
            await self._warm
            self._warm = None
        await asyncio.to_thread(self.gallery.save)
        await asyncio.to_thread(self.sightings.save)


def build_faces(
    *,
    settings: FacesSettings,
    db: Database,
    audit: AuditLog,
    outbox: OutboxRelay,
    evidence_dir: Path,
    known_cameras: Callable[[], set[str]],
) -> Faces:
    """Wire the faces domain."""
    analyzer = LazyAnalyzer(settings)
    files = FaceFiles(evidence_dir)
    retention = timedelta(days=settings.retention_days)
    sightings = SightingIndex(
        db=db,
        model_name=TEMPLATE_MODEL,
        dim=TEMPLATE_DIM,
        path=evidence_dir.parent / "faces" / f"sightings-{TEMPLATE_MODEL}.hnsw",
    )
    gallery = Gallery(
        db=db,
        model_name=TEMPLATE_MODEL,
        dim=TEMPLATE_DIM,
        path=evidence_dir.parent / "faces" / f"watchlists-{TEMPLATE_MODEL}.hnsw",
    )
    return Faces(
        settings=settings,
        analyzer=analyzer,
        files=files,
        watchlists=WatchlistService(
            db=db,
            audit=audit,
            files=files,
            analyzer=analyzer,
            model_name=TEMPLATE_MODEL,
            default_threshold=settings.default_threshold,
            on_change=gallery.invalidate,
        ),
        hits=HitService(db=db, audit=audit, files=files),
        search=FaceSearch(
            db=db,
            audit=audit,
            files=files,
            analyzer=analyzer,
            index=sightings,
            retention=retention,
            default_min_similarity=settings.search_min_similarity,
        ),
        sightings=sightings,
        gallery=gallery,
        matcher=FaceMatcher(
            db=db,
            gallery=gallery,
            outbox=outbox,
            files=files,
            known_cameras=known_cameras,
            retention=retention,
            group_window=timedelta(seconds=settings.group_window_s),
            matching=settings.matching,
            on_stored=sightings.add,
        ),
        purge=FacePurge(
            db=db, audit=audit, files=files, retention=retention, forget=sightings.remove
        ),
        export=FaceExport(
            db=db,
            audit=audit,
            files=files,
            analyzer=analyzer,
            subject_threshold=settings.default_threshold,
        ),
    )
