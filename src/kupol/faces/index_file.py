"""The face index's file: one self-checking file, written atomically, read back only if whole.

Layout: ``MAGIC`` · header length (4 bytes, little-endian) · header (JSON: format, dimension,
parameters, the hnswlib graph's scalar fields, and the name, dtype and shape of each array) ·
the arrays' bytes in header order · SHA-256 of everything before it (32 bytes).

The graph is hnswlib's own pickle state (``Index.__getstate__``) with its arrays stored raw, so
loading runs no pickle. hnswlib trusts that state blindly, so before handing it over the
reader checks the digest, then that every array has the size the scalar fields imply.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kupol.core.errors import KupolError

MAGIC = b"KUPOLFX\x00"
FORMAT = 1
_HNSW_STATE_VERSION = 1
_DIGEST = 32
_ARRAYS = (
    "label_lookup_external",
    "label_lookup_internal",
    "element_levels",
    "data_level0",
    "link_lists",
)


class FaceIndexFileError(KupolError):
    """A saved face index cannot be used: missing, corrupt, or of another shape or format.

    The database is the source of truth: rebuild the index from it.
    """

    status = 500
    title = "Face index file unusable"


@dataclass(frozen=True, kw_only=True)
class SavedIndex:
    """What a face index file holds."""

    params: dict[str, int]
    graph: dict[str, Any]
    """hnswlib's pickle state."""
    ids: NDArray[np.int64]
    """Slot → template id, −1 for a free slot."""


def write_index_file(
    path: Path, *, dim: int, params: dict[str, int], graph: dict[str, Any], ids: NDArray[np.int64]
) -> None:
    """Write the file next to ``path`` under a temporary name, then rename it over ``path``."""
    arrays = {name: np.ascontiguousarray(graph[name]) for name in _ARRAYS}
    arrays["ids"] = np.ascontiguousarray(ids, dtype="<i8")
    header = {
        "format": FORMAT,
        "library": "hnswlib",
        "dim": dim,
        "params": params,
        "graph": {k: v for k, v in graph.items() if k not in _ARRAYS},
        "arrays": [[name, a.dtype.str, list(a.shape)] for name, a in arrays.items()],
    }
    encoded = json.dumps(header).encode()
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    digest = hashlib.sha256()
    try:
        with temporary.open("wb") as file:
            for chunk in (MAGIC, struct.pack("<I", len(encoded)), encoded):
                digest.update(chunk)
                file.write(chunk)
            for array in arrays.values():
                view = array.data.cast("B")
                digest.update(view)
                file.write(view)
            file.write(digest.digest())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # the rename is durable once the folder is synced
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def read_index_file(path: Path, *, dim: int) -> SavedIndex:
    """Read and check a file :func:`write_index_file` wrote, for templates of ``dim``.

    Raises:
        FaceIndexFileError: missing, truncated, corrupt, another format, or another dimension.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FaceIndexFileError(f"cannot read the face index {path}: {exc}") from exc
    if len(data) < len(MAGIC) + 4 + _DIGEST or not data.startswith(MAGIC):
        raise FaceIndexFileError(f"{path} is not a kupol face index file")
    body = memoryview(data)[:-_DIGEST]
    if hashlib.sha256(body).digest() != data[-_DIGEST:]:
        raise FaceIndexFileError(f"the face index {path} is corrupt (checksum mismatch)")
    (length,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    try:
        header = json.loads(data[start : start + length])
        if header["format"] != FORMAT or header["library"] != "hnswlib":
            raise FaceIndexFileError(
                f"the face index {path} is format {header['format']} ({header['library']}),"
                f" this kupol reads format {FORMAT} (hnswlib)"
            )
        if header["dim"] != dim:
            raise FaceIndexFileError(
                f"the face index {path} holds {header['dim']}-D templates, not {dim}-D"
            )
        offset = start + length
        arrays: dict[str, NDArray[Any]] = {}
        for name, dtype, shape in header["arrays"]:
            count = int(np.prod(shape))
            arrays[name] = np.frombuffer(data, np.dtype(dtype), count, offset).reshape(shape)
            offset += arrays[name].nbytes
        if offset != len(body):
            raise ValueError("the arrays do not fill the file")
        graph = {**header["graph"], **{name: arrays[name] for name in _ARRAYS}}
        _check_graph(graph, dim=dim, ids=arrays["ids"])
        params = {str(k): int(v) for k, v in header["params"].items()}
    except FaceIndexFileError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise FaceIndexFileError(f"the face index {path} is inconsistent: {exc}") from exc
    return SavedIndex(params=params, graph=graph, ids=arrays["ids"].astype(np.int64))


def _check_graph(graph: dict[str, Any], *, dim: int, ids: NDArray[Any]) -> None:
    """Sizes hnswlib will index by without checking; a mismatch would read out of bounds."""
    if graph["ser_version"] != _HNSW_STATE_VERSION or graph["space"] != "ip":
        raise ValueError(f"hnswlib state {graph['ser_version']} in {graph['space']!r} space")
    if graph["dim"] != dim:
        raise ValueError(f"graph of {graph['dim']}-D templates")
    capacity, count = int(graph["max_elements"]), int(graph["cur_element_count"])
    links0 = int(graph["max_M0"]) * 4 + 4
    per_element = int(graph["size_data_per_element"])
    if (
        not 0 <= count <= capacity
        or int(graph["offset_data"]) != links0
        or int(graph["label_offset"]) != links0 + 4 * dim
        or per_element != links0 + 4 * dim + 8
        or int(graph["size_links_per_element"]) != int(graph["max_M"]) * 4 + 4
    ):
        raise ValueError("graph layout fields disagree")
    levels = graph["element_levels"]
    upper = int(np.maximum(levels[:count], 0).sum()) * int(graph["size_links_per_element"])
    internal = graph["label_lookup_internal"]
    if (
        graph["data_level0"].size != count * per_element
        or levels.shape != (capacity,)
        or graph["link_lists"].size != upper
        or graph["label_lookup_external"].shape != (count,)
        or internal.shape != (count,)
        or (count and int(internal.max()) >= count)
        or ids.shape != (count,)
    ):
        raise ValueError("array sizes disagree with the graph")
