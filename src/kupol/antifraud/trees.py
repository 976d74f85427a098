"""A trained gradient-boosting classifier's trees, run by onnxruntime for a batch of rows.

scikit-learn's ``HistGradientBoostingClassifier.predict_proba`` walks its trees one after
another in Python, each in a parallel (OpenMP) loop over the rows: for the few calls a
screening server scores at a time that is 1.3–1.5 ms a batch on a quiet machine, and about
0.25 ms *per tree* (25 ms a batch) when another process holds the other core, the OpenMP
workers spinning while they wait. The same trees as one ONNX ``TreeEnsemble`` (ai.onnx.ml
opset 5: double-precision thresholds, leaf values and sums) run in onnxruntime on one thread
in 10 µs for one row and 32 µs for sixteen.

The graph is built from the fitted estimator when the model is loaded — nothing more is
shipped than the checked joblib file — and checked against ``predict_proba`` on rows at and
around every threshold (and missing values) before it is used; a model it does not cover
(another learner, several classes, categorical splits) or a mismatch leaves scikit-learn's
own prediction in place.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)
_TOLERANCE = 1e-9


class CompiledTrees:
    """The trees of a fitted binary ``HistGradientBoostingClassifier`` (see the module)."""

    def __init__(self, session: Any, *, n_features: int, baseline: float) -> None:
        self._session = session
        self.n_features = n_features
        self._baseline = baseline

    @classmethod
    def of(cls, estimator: Any) -> CompiledTrees | None:
        """The compiled trees, or ``None`` (scikit-learn keeps predicting; logged)."""
        try:
            graph = _graph(estimator)
        except _NotCoveredError as exc:
            log.info("model trees not compiled: %s", exc)
            return None
        try:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(
                graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # an onnxruntime without TreeEnsemble (ai.onnx.ml 5)
            log.warning("model trees not compiled, scikit-learn predicts: %s", exc)
            return None
        compiled = cls(
            session,
            n_features=int(estimator.n_features_in_),
            baseline=float(np.ravel(estimator._baseline_prediction)[0]),
        )
        probe = _probe(estimator)
        expected = estimator.predict_proba(probe)[:, 1]
        worst = float(np.max(np.abs(compiled.probability(probe) - expected)))
        if not worst <= _TOLERANCE:
            log.warning("model trees not compiled: they differ from scikit-learn by %g", worst)
            return None
        return compiled

    def probability(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """The positive class's probability per row, as ``predict_proba(rows)[:, 1]``."""
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got {rows.shape}")
        raw = self._session.run(None, {"X": np.ascontiguousarray(rows, dtype=np.float64)})[0]
        # scikit-learn's binary log loss: the sigmoid of the baseline plus the trees' sum.
        result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(raw[:, 0] + self._baseline)))
        return result


class _NotCoveredError(Exception):
    pass


def _graph(estimator: Any) -> Any:
    """The estimator's trees as an ONNX model: one ``TreeEnsemble`` summing leaf values."""
    predictors = getattr(estimator, "_predictors", None)
    baseline = getattr(estimator, "_baseline_prediction", None)
    if not predictors or baseline is None or np.size(baseline) != 1:
        raise _NotCoveredError("not a fitted binary HistGradientBoostingClassifier")
    if any(len(trees) != 1 for trees in predictors):
        raise _NotCoveredError("more than one tree per iteration")
    from onnx import TensorProto, helper, numpy_helper

    features: list[int] = []
    splits: list[float] = []
    missing_left: list[int] = []
    true_ids: list[int] = []
    true_leaf: list[int] = []
    false_ids: list[int] = []
    false_leaf: list[int] = []
    roots: list[int] = []
    leaf_values: list[float] = []
    for trees in predictors:
        nodes = trees[0].nodes
        if nodes["is_categorical"].any():
            raise _NotCoveredError("categorical splits")
        is_leaf = nodes["is_leaf"].astype(bool)
        leaves = {int(i): len(leaf_values) + k for k, i in enumerate(np.flatnonzero(is_leaf))}
        leaf_values.extend(float(nodes["value"][i]) for i in leaves)
        branches = {int(i): len(features) + k for k, i in enumerate(np.flatnonzero(~is_leaf))}
        if not branches:  # a tree of one leaf: a split that sends every row to it
            leaf = leaves[0]
            roots.append(len(features))
            features.append(0)
            splits.append(np.inf)
            missing_left.append(1)
            true_ids.append(leaf)
            true_leaf.append(1)
            false_ids.append(leaf)
            false_leaf.append(1)
            continue
        roots.append(branches[0])
        for i in branches:
            node = nodes[i]
            features.append(int(node["feature_idx"]))
            splits.append(float(node["num_threshold"]))
            missing_left.append(int(node["missing_go_to_left"]))
            for child, ids, flags in (
                (int(node["left"]), true_ids, true_leaf),
                (int(node["right"]), false_ids, false_leaf),
            ):
                if is_leaf[child]:
                    ids.append(leaves[child])
                    flags.append(1)
                else:
                    ids.append(branches[child])
                    flags.append(0)
    ensemble = helper.make_node(
        "TreeEnsemble",
        ["X"],
        ["Y"],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function=1,  # sum
        post_transform=0,  # none: the baseline and the sigmoid are added in numpy
        tree_roots=roots,
        nodes_featureids=features,
        nodes_splits=numpy_helper.from_array(np.array(splits, dtype=np.float64)),
        nodes_modes=numpy_helper.from_array(np.zeros(len(features), dtype=np.uint8)),  # x <= s
        nodes_truenodeids=true_ids,
        nodes_trueleafs=true_leaf,
        nodes_falsenodeids=false_ids,
        nodes_falseleafs=false_leaf,
        nodes_missing_value_tracks_true=missing_left,
        leaf_targetids=[0] * len(leaf_values),
        leaf_weights=numpy_helper.from_array(np.array(leaf_values, dtype=np.float64)),
    )
    n = int(estimator.n_features_in_)
    graph = helper.make_graph(
        [ensemble],
        "trees",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, n])],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [None, 1])],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", 5)]
    )


def _probe(estimator: Any) -> NDArray[np.float64]:
    """Rows that reach every side of every split: each feature set at, just below and just
    above each of its thresholds, and missing, the others varied."""
    n = int(estimator.n_features_in_)
    values: list[set[float]] = [set() for _ in range(n)]
    for trees in estimator._predictors:
        nodes = trees[0].nodes
        for node in nodes[~nodes["is_leaf"].astype(bool)]:
            t = float(node["num_threshold"])
            values[int(node["feature_idx"])].update({t, np.nextafter(t, -np.inf), t + 1.0})
    pools = [np.array(sorted(v) or [0.0]) for v in values]
    rng = np.random.default_rng(0)
    count = sum(len(pool) + 1 for pool in pools)
    rows = np.column_stack([pool[rng.integers(len(pool), size=count)] for pool in pools])
    start = 0
    for feature, pool in enumerate(pools):
        rows[start : start + len(pool), feature] = pool
        rows[start + len(pool), feature] = np.nan
        start += len(pool) + 1
    return rows.astype(np.float64)
