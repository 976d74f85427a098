"""The screening model's trees run by onnxruntime give scikit-learn's probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from kupol.antifraud.cdr_sim import simulate_day
from kupol.antifraud.screen_model import load_screen_model
from kupol.antifraud.screening import CallScreen
from kupol.antifraud.trees import CompiledTrees


def test_the_shipped_model_scores_a_simulated_day_as_scikit_learn_does() -> None:
    model = load_screen_model()
    assert model.compiled is not None
    screen = CallScreen()
    signals = [r.signals for c in simulate_day(5, subscribers=2000).calls
               if (r := screen.screen(c.attempt)).signals]  # fmt: skip
    rows = np.asarray(signals, dtype=np.float64)
    assert len(rows) > 5000
    expected = model.estimator.predict_proba(rows)[:, 1]
    got = model.compiled.probability(rows)
    assert np.max(np.abs(got - expected)) < 1e-12
    assert ((got >= 0.5) == (expected >= 0.5)).all()
    for size in (1, 2, 17):  # the batch sizes a server sees
        assert np.allclose(model.compiled.probability(rows[:size]), expected[:size], atol=1e-12)


def test_missing_values_and_one_leaf_trees_follow_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 5))
    y = (x[:, 0] + np.where(np.isnan(x[:, 1]), 1.0, x[:, 1]) > 0.3).astype(int)
    x[rng.random(x.shape) < 0.1] = np.nan  # the trees learn where missing values go
    estimator = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(x, y)
    compiled = CompiledTrees.of(estimator)
    assert compiled is not None
    probe = rng.normal(size=(500, 5))
    probe[rng.random(probe.shape) < 0.2] = np.nan
    expected = estimator.predict_proba(probe)[:, 1]
    assert np.max(np.abs(compiled.probability(probe) - expected)) < 1e-12
    constant = HistGradientBoostingClassifier(max_iter=3).fit(np.zeros((50, 2)), [0, 1] * 25)
    assert (one_leaf := CompiledTrees.of(constant)) is not None
    assert np.allclose(one_leaf.probability(np.ones((3, 2))), constant.predict_proba(
        np.ones((3, 2)))[:, 1], atol=1e-12)  # fmt: skip


def test_models_it_does_not_cover_keep_scikit_learns_prediction() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 4, size=(400, 2)).astype(float)
    y = (x[:, 0] == 2).astype(int)
    categorical = HistGradientBoostingClassifier(
        max_iter=5, categorical_features=[0], random_state=0
    ).fit(x, y)
    assert CompiledTrees.of(categorical) is None
    three = HistGradientBoostingClassifier(max_iter=5).fit(x, rng.integers(0, 3, size=400))
    assert CompiledTrees.of(three) is None
    assert CompiledTrees.of(object()) is None


def test_rows_of_the_wrong_width_are_refused() -> None:
    compiled = load_screen_model().compiled
    assert compiled is not None
    with pytest.raises(ValueError, match="features"):
        compiled.probability(np.zeros((2, 3)))
