"""The 1:N face template index: which enrolled templates are nearest to a probe.

An HNSW graph (hnswlib) over unit-length float32 templates, searched by inner product, which
for unit vectors is cosine similarity. Ids are the database row ids of the templates; adding an
id again replaces its template. While the index is small (``IndexParams.exact_up_to``) it also
keeps the templates as one matrix and searches that exactly, which is faster there; the graph is
kept up to date all along, so growing past the limit costs nothing. Measured figures and the
choice of library: ``docs/faces-index.md`` (``bench/face_index.py``).

Removal is real: the removed template can no longer be found, and its slot in the graph is
given to the next template added, which re-links the neighbourhood (so churn — watchlists
expiring, new enrolments — does not degrade the graph). Removals with no additions to take their
slots leave tombstones that searches still walk through; once they pass
``REBUILD_DELETED_FRACTION`` of the graph, :attr:`FaceIndex.needs_rebuild` turns true and the
caller builds a fresh index from the database (:meth:`FaceIndex.rebuild`) in the background and
swaps it in.

hnswlib's own slot reuse (``replace_deleted``) is not used: re-adding a label whose slot it has
not yet reused loses other labels (nmslib/hnswlib#541). Here labels are slots that this class
hands out itself, and a freed slot is reused by updating it in place.

Example:
    >>> import numpy as np
    >>> index = FaceIndex(dim=4)
    >>> index.add(np.array([7, 8]), np.array([[1, 0, 0, 0], [0, 1, 0, 0]], np.float32))
    >>> index.search(np.array([0.8, 0.6, 0, 0], np.float32), k=1)
    [[IndexHit(id=7, similarity=0.8...)]]
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import hnswlib  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kupol.core.errors import InvalidInputError
from kupol.faces.index_file import FaceIndexFileError, read_index_file, write_index_file

__all__ = ["FaceIndex", "FaceIndexFileError", "IndexHit", "IndexParams"]

REBUILD_DELETED_FRACTION = 0.2
"""Tombstones (removed templates whose slot no new template took) above this share of the
graph make searches walk dead nodes for nothing; rebuild from the database then."""

_UNIT_TOLERANCE = 1e-2
_BATCH_QUERY_THREADS = 32
"""Batches of at least this many probes are searched on all the index's threads."""


@dataclass(frozen=True, kw_only=True)
class IndexParams:
    """How the HNSW graph is built and searched (see ``docs/faces-index.md`` for the figures)."""

    connectivity: int = 32
    """Links per node (HNSW ``M``); the bottom layer has twice as many."""
    ef_construction: int = 200
    """Candidates considered when linking a new template: build time against graph quality."""
    ef_search: int = 512
    """Candidates considered per search (at least ``k``): latency against recall."""
    threads: int = 2
    """Threads used to add templates and to search large batches."""
    exact_up_to: int = 50_000
    """Up to this many slots, search the templates exhaustively: exact, and faster than the
    graph there (measured crossover: 50,000-100,000 on 2 cores); 0 always uses the graph."""


@dataclass(frozen=True, kw_only=True)
class IndexHit:
    """One enrolled template near the probe."""

    id: int
    """Database row id of the template."""
    similarity: float
    """Cosine similarity to the probe, −1 … 1."""


class _ReadWriteLock:
    """Many searches at once, or one change; a waiting change goes before new searches."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            while self._writing or self._writers_waiting:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._condition.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()


class FaceIndex:
    """Enrolled face templates, searchable by similarity; thread-safe.

    Searches run concurrently with each other (hnswlib releases the GIL); ``add``,
    ``remove`` and ``save``'s snapshot wait for them and exclude them.
    """

    def __init__(
        self, dim: int = 128, *, params: IndexParams | None = None, capacity: int = 1024
    ) -> None:
        if dim < 1:
            raise InvalidInputError(f"template dimension must be positive, not {dim}")
        self.dim = dim
        self.params = params or IndexParams()
        self._lock = _ReadWriteLock()
        self._graph = hnswlib.Index(space="ip", dim=dim)
        self._graph.init_index(
            max_elements=max(capacity, 16),
            M=self.params.connectivity,
            ef_construction=self.params.ef_construction,
        )
        self._graph.set_ef(self.params.ef_search)
        self._ids: NDArray[np.int64] = np.full(self._graph.max_elements, -1, np.int64)
        """Slot (hnswlib label) → template id; −1 where the slot is free."""
        self._slots: dict[int, int] = {}
        """Template id → slot."""
        self._free: list[int] = []
        """Slots of removed templates, each still in the graph as a tombstone until reused."""
        self._exact: NDArray[np.float32] | None = (
            np.zeros((self._graph.max_elements, dim), np.float32)
            if self.params.exact_up_to > 0
            else None
        )
        """Template of each slot while the index is small enough to search exhaustively."""

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, template_id: object) -> bool:
        return template_id in self._slots

    def ids(self) -> list[int]:
        """The template ids in the index."""
        with self._lock.reading():
            return list(self._slots)

    def vectors(self, ids: Sequence[int]) -> NDArray[np.float32]:
        """The stored templates of ``ids`` (all present), one row each."""
        with self._lock.reading():
            slots = [self._slots[int(i)] for i in ids]
            if not slots:
                return np.zeros((0, self.dim), np.float32)
            return np.asarray(self._graph.get_items(slots), np.float32)

    @property
    def deleted_fraction(self) -> float:
        """Share of the graph's nodes that are tombstones of removed templates."""
        slots = len(self._slots) + len(self._free)
        return len(self._free) / slots if slots else 0.0

    @property
    def needs_rebuild(self) -> bool:
        """Whether tombstones passed ``REBUILD_DELETED_FRACTION``: rebuild from the database."""
        return self.deleted_fraction > REBUILD_DELETED_FRACTION

    def tune(self, *, ef_search: int) -> None:
        """Change how many candidates a search considers: latency against recall."""
        if ef_search < 1:
            raise InvalidInputError(f"ef_search must be at least 1, not {ef_search}")
        with self._lock.writing():
            self.params = replace(self.params, ef_search=ef_search)
            self._graph.set_ef(ef_search)

    def add(self, ids: ArrayLike, vectors: ArrayLike) -> None:
        """Enrol templates under their database ids; an id already present is replaced.

        Within one call, the last row of a repeated id wins.
        """
        id_array, matrix = self._checked(ids, vectors)
        if not len(id_array):
            return
        # The last occurrence of each id wins, as if the rows were added one by one.
        _, last = np.unique(id_array[::-1], return_index=True)
        if len(last) < len(id_array):
            keep = np.sort(len(id_array) - 1 - last)
            id_array, matrix = id_array[keep], matrix[keep]
        with self._lock.writing():
            slots = np.empty(len(id_array), np.int64)
            fresh = self._graph.element_count
            for row, template_id in enumerate(id_array.tolist()):
                slot = self._slots.get(template_id)
                if slot is None:
                    if self._free:
                        slot = self._free.pop()
                    else:
                        slot, fresh = fresh, fresh + 1
                    self._slots[template_id] = slot
                slots[row] = slot
            if fresh > self._graph.max_elements:
                self._grow(fresh)
            self._ids[slots] = id_array
            if fresh > self.params.exact_up_to:
                self._exact = None
            elif self._exact is not None:
                self._exact[slots] = matrix
            # A slot that is a tombstone is un-deleted and re-linked in place by hnswlib.
            self._graph.add_items(matrix, slots, num_threads=self.params.threads)

    def remove(self, ids: ArrayLike) -> int:
        """Remove templates by id; ids not in the index are ignored. Returns how many went."""
        id_array = np.asarray(ids, dtype=np.int64).reshape(-1)
        removed = 0
        with self._lock.writing():
            for template_id in id_array.tolist():
                slot = self._slots.pop(template_id, None)
                if slot is None:
                    continue
                self._graph.mark_deleted(slot)
                self._ids[slot] = -1
                self._free.append(slot)
                removed += 1
        return removed

    def search(
        self, vectors: ArrayLike, k: int = 10, *, min_similarity: float | None = None
    ) -> list[list[IndexHit]]:
        """The ``k`` most similar enrolled templates to each probe, most similar first.

        ``vectors`` is one probe (``dim``) or a batch (``n × dim``); the answer has one list per
        probe, shorter than ``k`` where the index holds fewer templates or ``min_similarity``
        drops some.
        """
        probes = np.ascontiguousarray(vectors, dtype=np.float32)
        if probes.ndim == 1:
            probes = probes.reshape(1, -1)
        if probes.ndim != 2 or probes.shape[1] != self.dim:
            raise InvalidInputError(f"probes must be {self.dim}-D, not shape {probes.shape}")
        if k < 1:
            raise InvalidInputError(f"k must be at least 1, not {k}")
        with self._lock.reading():
            count = min(k, len(self._slots))
            if not count or not len(probes):
                return [[] for _ in range(len(probes))]
            if self._exact is not None:
                slots, similarities = self._exhaustive(probes, count, self._exact)
            else:
                threads = self.params.threads if len(probes) >= _BATCH_QUERY_THREADS else 1
                try:
                    slots, distances = self._graph.knn_query(probes, k=count, num_threads=threads)
                    similarities = 1.0 - distances
                except RuntimeError:
                    # hnswlib found fewer than k live templates: only if tombstones cut the graph.
                    slots, similarities = self._exhaustive(probes, count, None)
            ids = self._ids[slots.astype(np.int64)]
        floor = -np.inf if min_similarity is None else min_similarity
        return [
            [
                IndexHit(id=int(i), similarity=float(s))
                for i, s in zip(row_ids, row_similarities, strict=True)
                if s >= floor and i >= 0
            ]
            for row_ids, row_similarities in zip(ids, similarities, strict=True)
        ]

    def save(self, path: str | Path) -> None:
        """Write the index to ``path`` atomically (a temporary file, then a rename).

        Searches go on while it writes; changes wait only for the in-memory snapshot.
        """
        with self._lock.reading():
            state = dict(self._graph.__getstate__()[0])
            ids = self._ids[: self._graph.element_count].copy()
        write_index_file(Path(path), dim=self.dim, params=asdict(self.params), graph=state, ids=ids)

    @classmethod
    def load(cls, path: str | Path, dim: int, *, threads: int | None = None) -> FaceIndex:
        """Read an index that :meth:`save` wrote.

        Raises:
            FaceIndexFileError: the file is missing, corrupt, or of another dimension or
                format; rebuild from the database (:meth:`rebuild`) then.
        """
        saved = read_index_file(Path(path), dim=dim)
        try:
            params = IndexParams(**saved.params)
        except TypeError as exc:
            raise FaceIndexFileError(f"the face index {path} has unknown parameters") from exc
        if threads is not None:
            params = replace(params, threads=threads)
        index = cls(dim, params=params, capacity=16)
        graph = hnswlib.Index.__new__(hnswlib.Index)
        try:
            graph.__setstate__((saved.graph,))
        except (RuntimeError, ValueError, TypeError) as exc:
            raise FaceIndexFileError(f"hnswlib refused the face index {path}: {exc}") from exc
        graph.set_ef(params.ef_search)
        index._graph = graph
        index._ids = np.full(graph.max_elements, -1, np.int64)
        index._ids[: len(saved.ids)] = saved.ids
        live = np.flatnonzero(saved.ids >= 0)
        index._slots = dict(zip(saved.ids[live].tolist(), live.tolist(), strict=True))
        index._free = np.flatnonzero(saved.ids < 0).tolist()
        if len(saved.ids) <= params.exact_up_to:
            index._exact = np.zeros((graph.max_elements, dim), np.float32)
            if len(live):
                index._exact[live] = graph.get_items(live)
        else:
            index._exact = None
        return index

    @classmethod
    def rebuild(
        cls,
        rows: Iterable[tuple[int, NDArray[np.float32]]],
        *,
        dim: int = 128,
        params: IndexParams | None = None,
        chunk: int = 50_000,
    ) -> FaceIndex:
        """A fresh index of ``(template id, template)`` rows, as read from the database."""
        index = cls(dim, params=params)
        ids: list[int] = []
        vectors: list[NDArray[np.float32]] = []
        for template_id, vector in rows:
            ids.append(template_id)
            vectors.append(vector)
            if len(ids) >= chunk:
                index.add(np.asarray(ids, np.int64), np.stack(vectors))
                ids, vectors = [], []
        if ids:
            index.add(np.asarray(ids, np.int64), np.stack(vectors))
        return index

    def _checked(
        self, ids: ArrayLike, vectors: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        id_array = np.asarray(ids)
        if id_array.ndim != 1 or not np.issubdtype(id_array.dtype, np.integer):
            raise InvalidInputError("template ids must be a 1-D array of integers")
        id_array = id_array.astype(np.int64)
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape != (len(id_array), self.dim):
            raise InvalidInputError(
                f"templates must be {len(id_array)} × {self.dim}, not shape {matrix.shape}"
            )
        if len(id_array) and id_array.min() < 0:
            raise InvalidInputError("template ids must not be negative")
        squared_norms = np.einsum("ij,ij->i", matrix, matrix)  # no n × dim temporary
        if not np.all(np.abs(np.sqrt(squared_norms) - 1.0) <= _UNIT_TOLERANCE):
            raise InvalidInputError("templates must be finite and of unit length")
        return id_array, matrix

    def _grow(self, needed: int) -> None:
        capacity = max(needed, self._graph.max_elements * 2)
        self._graph.resize_index(capacity)
        ids = np.full(capacity, -1, np.int64)
        ids[: len(self._ids)] = self._ids
        self._ids = ids
        if self._exact is not None:
            self._exact = np.concatenate(
                [self._exact, np.zeros((capacity - len(self._exact), self.dim), np.float32)]
            )

    def _exhaustive(
        self, probes: NDArray[np.float32], k: int, templates: NDArray[np.float32] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Slots and similarities of the ``k`` best live templates by brute force.

        ``templates`` is the matrix of every slot (free ones are masked out); without it, the
        live templates are read back from the graph — the rare path where the graph fell short.
        """
        if templates is None:
            slots = np.fromiter(self._slots.values(), np.int64, len(self._slots))
            similarities = probes @ np.asarray(self._graph.get_items(slots), np.float32).T
        else:
            used = self._graph.element_count
            slots = np.arange(used)
            similarities = probes @ templates[:used].T
            similarities[:, self._ids[:used] < 0] = -np.inf
        top = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(similarities, top, axis=1), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        return slots[top], np.take_along_axis(similarities, top, axis=1)
