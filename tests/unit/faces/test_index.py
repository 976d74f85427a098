"""The 1:N face index finds the nearest enrolled templates, forgets removed ones for good,
survives a save and load, refuses a damaged file, and stays right under concurrent use."""

from __future__ import annotations

import doctest
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

import kupol.faces.index
from kupol.core.errors import InvalidInputError
from kupol.faces.index import FaceIndex, FaceIndexFileError, IndexHit, IndexParams

DIM = 128
GRAPH_ONLY = IndexParams(exact_up_to=0)


def unit(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    normalised: NDArray[np.float32] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return normalised.astype(np.float32)


def clustered(count: int, *, seed: int = 0, per_identity: int = 5) -> NDArray[np.float32]:
    """Templates as face models give them: a few noisy samples around each identity."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((count // per_identity + 1, DIM), dtype=np.float32))
    rows = np.repeat(centres, per_identity, axis=0)[:count]
    return unit(rows + rng.standard_normal(rows.shape, dtype=np.float32) * (0.65 / DIM**0.5))


def exact_top(
    probes: NDArray[np.float32], ids: NDArray[np.int64], templates: NDArray[np.float32], k: int
) -> list[set[int]]:
    similarities = probes @ templates.T
    return [set(ids[np.argsort(-row)[:k]].tolist()) for row in similarities]


def ids_of(hits: list[IndexHit]) -> list[int]:
    return [hit.id for hit in hits]


@pytest.fixture
def templates() -> NDArray[np.float32]:
    return clustered(500)


@pytest.fixture(params=["exact", "graph"])
def params(request: pytest.FixtureRequest) -> IndexParams:
    """Small indexes are searched exhaustively, large ones through the graph: test both."""
    return IndexParams() if request.param == "exact" else GRAPH_ONLY


@pytest.fixture
def index(templates: NDArray[np.float32], params: IndexParams) -> FaceIndex:
    index = FaceIndex(DIM, params=params)
    index.add(np.arange(1000, 1500), templates)
    return index


def test_a_probe_finds_its_own_template_first_with_its_similarity(
    index: FaceIndex, templates: NDArray[np.float32]
) -> None:
    [hits] = index.search(templates[42], k=5)
    assert hits[0].id == 1042
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    other = hits[1].id - 1000
    assert hits[1].similarity == pytest.approx(float(templates[42] @ templates[other]), abs=1e-5)
    assert len(index) == 500


def test_a_batch_of_probes_gets_one_answer_each(
    index: FaceIndex, templates: NDArray[np.float32]
) -> None:
    answers = index.search(templates[:40], k=3)
    assert [hits[0].id for hits in answers] == list(range(1000, 1040))
    assert all(len(hits) == 3 for hits in answers)


def test_adding_an_id_again_replaces_its_template(
    index: FaceIndex, templates: NDArray[np.float32]
) -> None:
    index.add(np.array([1042]), templates[7:8])
    assert len(index) == 500
    [old] = index.search(templates[42], k=3)
    assert 1042 not in ids_of(old) or old[0].id != 1042
    [new] = index.search(templates[7], k=2)
    assert set(ids_of(new)) == {1007, 1042}


def test_within_one_call_the_last_row_of_a_repeated_id_wins(params: IndexParams) -> None:
    index = FaceIndex(DIM, params=params)
    rows = clustered(3)
    index.add(np.array([5, 6, 5]), rows)
    assert len(index) == 2
    [hits] = index.search(rows[2], k=1)
    assert hits[0].id == 5
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)


def test_a_removed_template_is_never_found_and_its_slot_is_reused(
    index: FaceIndex, templates: NDArray[np.float32]
) -> None:
    assert index.remove(np.array([1042, 1043, 99])) == 2
    assert len(index) == 498
    assert 1042 not in index
    assert sorted(index.ids()) == [i for i in range(1000, 1500) if i not in (1042, 1043)]
    answers = index.search(templates[40:45], k=20)
    assert all({1042, 1043}.isdisjoint(ids_of(hits)) for hits in answers)
    assert index.deleted_fraction == pytest.approx(2 / 500)

    index.add(np.array([7000, 1042]), templates[[42, 43]])
    assert index.deleted_fraction == 0.0
    assert index.search(templates[42], k=2)[0][0].id in {1042, 7000}


def test_removing_most_templates_asks_for_a_rebuild_and_still_answers_exactly() -> None:
    rows = clustered(300)
    index = FaceIndex(
        DIM, params=replace(GRAPH_ONLY, connectivity=8, ef_construction=40, ef_search=10)
    )
    index.add(np.arange(300), rows)
    assert not index.needs_rebuild
    index.remove(np.arange(295))
    assert index.needs_rebuild
    [hits] = index.search(rows[0], k=10)
    assert sorted(ids_of(hits)) == [295, 296, 297, 298, 299]


class ShortGraph:
    """hnswlib's graph when tombstones have cut it: it cannot find k live templates."""

    def __init__(self, graph: object) -> None:
        self.graph = graph

    def knn_query(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("Cannot return the results in a contiguous 2D array")

    def __getattr__(self, name: str) -> object:
        return getattr(self.graph, name)


def test_when_the_graph_falls_short_the_live_templates_are_searched_exactly(
    templates: NDArray[np.float32],
) -> None:
    index = FaceIndex(DIM, params=GRAPH_ONLY)
    index.add(np.arange(500), templates)
    index.remove(np.arange(0, 500, 2))
    index._graph = ShortGraph(index._graph)
    live = np.arange(1, 500, 2)
    truth = exact_top(templates[:10], live, templates[live], 5)
    assert [set(ids_of(hits)) for hits in index.search(templates[:10], k=5)] == truth


def test_min_similarity_drops_weak_hits_and_k_is_capped_by_the_size(
    index: FaceIndex, templates: NDArray[np.float32]
) -> None:
    [hits] = index.search(templates[10], k=50, min_similarity=0.5)
    assert hits and all(h.similarity >= 0.5 for h in hits)
    assert len(hits) < 50
    small = FaceIndex(DIM, params=index.params)
    small.add(np.array([1, 2]), templates[:2])
    assert len(small.search(templates[0], k=10)[0]) == 2
    assert FaceIndex(DIM, params=index.params).search(templates[:3], k=5) == [[], [], []]


@pytest.mark.parametrize(
    ("ids", "vectors", "why"),
    [
        (np.array([1]), np.ones((1, DIM), np.float32), "unit length"),
        (np.array([1]), np.full((1, DIM), np.nan, np.float32), "unit length"),
        (np.array([1]), clustered(1)[:, :64], "1 × 128"),
        (np.array([-1]), clustered(1), "negative"),
        (np.array([1.5]), clustered(1), "integers"),
    ],
)
def test_bad_templates_are_refused(
    ids: NDArray[np.generic], vectors: NDArray[np.float32], why: str
) -> None:
    with pytest.raises(InvalidInputError, match=why):
        FaceIndex(DIM).add(ids, vectors)


def test_the_index_comes_back_from_disk_as_it_was(
    index: FaceIndex, templates: NDArray[np.float32], tmp_path: Path
) -> None:
    index.remove(np.array([1001, 1002]))
    path = tmp_path / "faces.idx"
    index.save(path)
    loaded = FaceIndex.load(path, DIM)

    assert len(loaded) == len(index) == 498
    assert loaded.params == index.params
    assert loaded.search(templates[:50], k=10) == index.search(templates[:50], k=10)
    assert 1001 not in ids_of(loaded.search(templates[1], k=20)[0])
    loaded.add(np.array([9001, 9002, 9003]), templates[[1, 2, 3]])
    assert loaded.deleted_fraction == 0.0
    assert len(loaded) == 501
    assert [p.name for p in tmp_path.iterdir()] == ["faces.idx"]


def test_saving_again_replaces_the_file_atomically(index: FaceIndex, tmp_path: Path) -> None:
    path = tmp_path / "faces.idx"
    index.save(path)
    index.remove(np.arange(1000, 1100))
    index.save(path)
    assert len(FaceIndex.load(path, DIM)) == 400
    assert [p.name for p in tmp_path.iterdir()] == ["faces.idx"]


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "empty", "other file"])
def test_a_damaged_file_is_refused_with_a_clear_error(
    index: FaceIndex, tmp_path: Path, damage: str
) -> None:
    path = tmp_path / "faces.idx"
    index.save(path)
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncated":
        data = data[: len(data) - 100]
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(b"SQLite format 3\x00" + bytes(200))
    path.write_bytes(bytes(data))
    with pytest.raises(FaceIndexFileError, match=r"corrupt|not a kupol face index"):
        FaceIndex.load(path, DIM)


def test_a_missing_file_or_another_dimension_is_refused(index: FaceIndex, tmp_path: Path) -> None:
    with pytest.raises(FaceIndexFileError, match="cannot read"):
        FaceIndex.load(tmp_path / "absent.idx", DIM)
    path = tmp_path / "faces.idx"
    index.save(path)
    with pytest.raises(FaceIndexFileError, match="128-D templates, not 512-D"):
        FaceIndex.load(path, 512)


def test_rebuild_from_database_rows_gives_the_same_answers(
    index: FaceIndex, templates: NDArray[np.float32]
) -> None:
    rows = ((1000 + i, templates[i]) for i in range(len(templates)))
    rebuilt = FaceIndex.rebuild(rows, dim=DIM, params=index.params, chunk=128)
    assert len(rebuilt) == 500
    expected = [ids_of(hits)[:3] for hits in index.search(templates[:30], k=3)]
    assert [ids_of(hits)[:3] for hits in rebuilt.search(templates[:30], k=3)] == expected
    assert len(FaceIndex.rebuild([], dim=DIM)) == 0


def test_recall_at_10_against_exact_search_is_at_least_099_also_after_churn() -> None:
    rng = np.random.default_rng(3)
    templates = clustered(6000, seed=1)
    ids = np.arange(6000, dtype=np.int64)
    index = FaceIndex(DIM, params=GRAPH_ONLY)
    index.add(ids[:5000], templates[:5000])
    probes = np.concatenate([unit(templates[rng.choice(5000, 150)] + 0.02), clustered(150, seed=2)])

    def recall(live: NDArray[np.int64]) -> float:
        truth = exact_top(probes, live, templates[live], 10)
        found = index.search(probes, k=10)
        return float(
            np.mean([len(t & set(ids_of(f))) / 10 for t, f in zip(truth, found, strict=True)])
        )

    assert recall(ids[:5000]) >= 0.99
    removed = rng.choice(5000, 1000, replace=False)
    index.remove(removed)
    index.add(ids[5000:], templates[5000:])
    assert recall(np.setdiff1d(ids, removed)) >= 0.99


def test_searches_run_safely_while_templates_are_added_and_removed(params: IndexParams) -> None:
    templates = clustered(3000, seed=4)
    index = FaceIndex(DIM, params=replace(params, ef_construction=64, ef_search=32))
    index.add(np.arange(1000), templates[:1000])
    errors: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        try:
            while not stop.is_set():
                for hits in index.search(templates[:20], k=5):
                    assert len(hits) == 5
                    assert all(hit.id < 3000 for hit in hits)
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=search) for _ in range(3)]
    for reader in readers:
        reader.start()
    for start in range(1000, 3000, 200):
        index.add(np.arange(start, start + 200), templates[start : start + 200])
        index.remove(np.arange(start - 1000, start - 900))
    stop.set()
    for reader in readers:
        reader.join()
    assert not errors
    assert len(index) == 3000 - 1000
    assert index.search(templates[2999], k=1)[0][0].id == 2999


def test_an_index_growing_past_the_exact_limit_moves_to_the_graph_without_a_pause(
    tmp_path: Path,
) -> None:
    templates = clustered(400, seed=5)
    index = FaceIndex(DIM, params=IndexParams(exact_up_to=250))
    index.add(np.arange(200), templates[:200])
    exact = index.search(templates[:20], k=10)
    path = tmp_path / "small.idx"
    index.save(path)
    assert FaceIndex.load(path, DIM).search(templates[:20], k=10) == exact

    index.add(np.arange(200, 400), templates[200:])
    assert len(index) == 400
    truth = exact_top(templates[:20], np.arange(400), templates, 10)
    found = [set(ids_of(hits)) for hits in index.search(templates[:20], k=10)]
    assert np.mean([len(t & f) / 10 for t, f in zip(truth, found, strict=True)]) >= 0.99


def test_the_docstring_example_holds() -> None:
    result = doctest.testmod(kupol.faces.index, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
