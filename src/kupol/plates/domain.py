"""The plates domain wired together (built once by :mod:`kupol.bootstrap`).

Plate readers load on first use, not at start-up: a kupol without plate cameras never pays
for them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kupol.core.audit import AuditLog
from kupol.core.db import Database
from kupol.core.outbox import OutboxRelay
from kupol.faces.files import FaceFiles
from kupol.plates.cloned import ClonePolicy
from kupol.plates.config import CameraPlatesConfig
from kupol.plates.hotlists import HotlistMatcher, HotlistService
from kupol.plates.live import PlateStage
from kupol.plates.queries import PlateQueries
from kupol.plates.readers import Image, PlateRead, PlateReader, reader_for
from kupol.plates.store import PlateStore
from kupol.settings import PlatesSettings


class SharedReader:
    """One reader plug-in shared by every camera, loaded on first use; calls are serialised
    (a reader's engine need not be thread-safe, and two cores gain nothing from two calls)."""

    def __init__(self, name: str, load: Callable[[str], PlateReader] = reader_for) -> None:
        self.name = name
        self._load = load
        self._reader: PlateReader | None = None
        self._warm = False
        self._lock = threading.Lock()

    def _loaded(self) -> PlateReader:
        if self._reader is None:
            self._reader = self._load(self.name)
        return self._reader

    def read_photo(self, image: Image) -> list[PlateRead]:
        """See :meth:`kupol.plates.readers.PlateReader.read_photo`."""
        with self._lock:
            return self._loaded().read_photo(image)

    def warm_up(self) -> None:
        """Load the reader and run it once on a blank image: a model's first call costs many
        times the next ones, and should not fall on the first vehicle's frame."""
        with self._lock:
            if self._warm:
                return
            self._loaded().read_photo(np.zeros((64, 64, 3), np.uint8))
            self._warm = True

    def read_crop(self, image: Image) -> PlateRead:
        """See :meth:`kupol.plates.readers.PlateReader.read_crop`."""
        with self._lock:
            return self._loaded().read_crop(image)


class Readers:
    """The shared readers, by name."""

    def __init__(self, default: str, load: Callable[[str], PlateReader] = reader_for) -> None:
        self.default = default
        self._load = load
        self._shared: dict[str, SharedReader] = {}
        self._lock = threading.Lock()

    def get(self, name: str | None = None) -> SharedReader:
        """The reader called ``name`` (the deployment's default for ``None``)."""
        with self._lock:
            key = name or self.default
            if key not in self._shared:
                self._shared[key] = SharedReader(key, self._load)
            return self._shared[key]

    def use(self, name: str, reader: PlateReader) -> None:
        """Use ``reader`` for ``name`` instead of loading the plug-in (tests, other plug-ins)."""
        with self._lock:
            self._shared[name] = SharedReader(name, lambda _: reader)


@dataclass(kw_only=True)
class Plates:
    """Everything the plates domain offers the API, the CLI and the camera pipelines."""

    settings: PlatesSettings
    store: PlateStore
    queries: PlateQueries
    hotlists: HotlistService
    readers: Readers
    files: FaceFiles

    def stage(self, camera_id: str, config: CameraPlatesConfig) -> PlateStage:
        """A camera's plate stage (the pipelines' factory; called in the camera's thread,
        which loads and warms the reader before the first frame)."""
        reader = self.readers.get(config.reader)
        reader.warm_up()
        return PlateStage(camera_id=camera_id, config=config, reader=reader, files=self.files)


def build_plates(
    *,
    settings: PlatesSettings,
    db: Database,
    audit: AuditLog,
    outbox: OutboxRelay,
    evidence_dir: Path,
    known_cameras: Callable[[], set[str]],
) -> Plates:
    """Wire the plates domain."""
    # Crops are files under the evidence folder, named and hashed as face crops are.
    files = FaceFiles(evidence_dir)
    clones = ClonePolicy(
        max_speed_kmh=settings.max_speed_kmh,
        min_distance_km=settings.clone_min_distance_km,
        clock_skew_s=settings.clone_clock_skew_s,
    )
    return Plates(
        settings=settings,
        store=PlateStore(
            db=db,
            known_cameras=known_cameras,
            outbox=outbox,
            hotlists=HotlistMatcher(db=db),
            clones=clones,
        ),
        queries=PlateQueries(db=db, audit=audit, clones=clones, files=files),
        hotlists=HotlistService(db=db, audit=audit),
        readers=Readers(
            settings.reader,
            lambda name: reader_for(name, detector=settings.detector),
        ),
        files=files,
    )
