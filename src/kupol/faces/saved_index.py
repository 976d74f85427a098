"""A face index kept on disk between runs, trusted only as far as the database agrees.

Both the watchlist index and the sightings index are caches of the database: loading one
drops the templates the database no longer holds, and a file whose templates differ from the
database's (a restored or replaced database reuses row ids) is not used at all — the caller
rebuilds from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kupol.faces.files import template_of
from kupol.faces.index import FaceIndex
from kupol.faces.index_file import FaceIndexFileError

log = logging.getLogger(__name__)
SAMPLE = 64
CHUNK = 10_000

StoredTemplates = Callable[[Sequence[int]], dict[int, bytes]]
"""Given ids, the templates the database holds for those of them still valid."""


def save_index(index: FaceIndex, path: Path) -> None:
    """Write ``index`` to ``path`` (atomically, see :meth:`FaceIndex.save`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    index.save(path)


def load_checked(path: Path | None, dim: int, stored: StoredTemplates) -> FaceIndex | None:
    """The saved index without what the database dropped, or ``None`` to rebuild."""
    if path is None or not path.exists():
        return None
    try:
        loaded = FaceIndex.load(path, dim)
    except FaceIndexFileError as exc:
        log.warning("faces: %s; rebuilding from the database", exc)
        return None
    ids = loaded.ids()
    live: dict[int, bytes] = {}
    for start in range(0, len(ids), CHUNK):
        live.update(stored(ids[start : start + CHUNK]))
    kept = [key for key in ids if key in live]
    sample = kept[:: max(1, len(kept) // SAMPLE)][:SAMPLE]
    if sample and not np.allclose(
        loaded.vectors(sample), np.stack([template_of(live[k]) for k in sample]), atol=1e-5
    ):
        log.warning("faces: %s belongs to another database; rebuilding from it", path)
        return None
    gone = [key for key in ids if key not in live]
    if gone:
        loaded.remove(np.asarray(gone, np.int64))
    return loaded
