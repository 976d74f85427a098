"""The statistics behind scores and flags, on numbers worked out by hand or by scipy."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import integrate, stats  # type: ignore[import-untyped]

from kupol.core.errors import InvalidInputError
from kupol.schools.outliers import excess_odds_p, log_odds_ratio, robust_centre, spread_binomial_p
from kupol.schools.stats import (
    bh_adjust,
    fit_beta_prior,
    fit_gamma_prior,
    poisson_rate_interval,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # 8/10: centre (0.8 + 1.96²/20) / (1 + 1.96²/10) = 0.7167, half-width 0.2266.
        (8, 10, 0.4902, 0.9433),
        # 0/10: 0 to z²/(n + z²) = 3.8415/13.8415.
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        # 45/50: p = 0.9; centre 0.8715, half-width 0.0851.
        (45, 50, 0.7864, 0.9565),
    ],
)
def test_wilson_intervals_match_the_hand_computed_values(
    successes: int, n: int, low: float, high: float
) -> None:
    interval = wilson_interval(successes, n)
    assert interval.low == pytest.approx(low, abs=1e-4)
    assert interval.high == pytest.approx(high, abs=1e-4)


def test_a_wilson_interval_at_99_percent_is_wider() -> None:
    assert wilson_interval(8, 10, 0.99).low < wilson_interval(8, 10).low


@pytest.mark.parametrize(
    ("events", "low", "high"),
    # Published exact 95 % limits of a Poisson count (Garwood 1936).
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (10, 4.795, 18.390)],
)
def test_rate_intervals_are_the_exact_poisson_limits_over_the_exposure(
    events: int, low: float, high: float
) -> None:
    interval = poisson_rate_interval(events, 4.0)
    assert interval.low == pytest.approx(low / 4.0, abs=1e-3)
    assert interval.high == pytest.approx(high / 4.0, abs=1e-3)


@pytest.mark.parametrize(
    ("call", "args"),
    [(wilson_interval, (11, 10)), (wilson_interval, (0, 0)), (poisson_rate_interval, (1, 0.0))],
)
def test_impossible_counts_are_refused(
    call: Callable[..., object], args: tuple[float, ...]
) -> None:
    with pytest.raises(InvalidInputError):
        call(*args)


def test_benjamini_hochberg_adjusts_by_rank_and_keeps_the_order() -> None:
    # Sorted: 0.01·4/1 = 0.04, 0.03·4/2 = 0.06, 0.04·4/3 = 0.0533, 0.5; then running minima
    # from the top: 0.04, 0.0533, 0.0533, 0.5.
    q = bh_adjust([0.01, 0.04, 0.03, 0.5])
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])


def test_a_beta_prior_takes_the_binomial_noise_out_of_the_spread() -> None:
    # Proportions 0.3, 0.5, 0.7 of 100: variance 0.04, binomial part 0.25/100 → 0.0375 between.
    prior = fit_beta_prior([30, 50, 70], [100, 100, 100])
    assert prior.mean == pytest.approx(0.5)
    assert prior.sd == pytest.approx(math.sqrt(0.0375))
    shrunk, _ = prior.posterior(8, 8)
    assert 0.5 < shrunk < 1.0


def test_a_beta_prior_of_identical_units_is_floored_not_zero() -> None:
    prior = fit_beta_prior([50, 50, 50], [100, 100, 100], min_sd=0.01)
    assert prior.sd == pytest.approx(0.01)


def test_a_gamma_prior_takes_the_poisson_noise_out_of_the_spread() -> None:
    # Rates 0.1, 0.2, 0.6 per year over 50 years each: variance 0.07, Poisson part 0.3/50.
    prior = fit_gamma_prior([5, 10, 30], [50.0, 50.0, 50.0])
    assert prior.mean == pytest.approx(0.3)
    assert prior.sd == pytest.approx(math.sqrt(0.07 - 0.006))


def test_the_log_odds_ratio_adds_a_half_to_each_cell() -> None:
    lor, se = log_odds_ratio(45, 50, 25, 50)
    assert lor == pytest.approx(math.log(45.5 / 5.5) - math.log(25.5 / 25.5))
    assert se == pytest.approx(math.sqrt(1 / 45.5 + 1 / 5.5 + 2 / 25.5))


def test_the_excess_odds_test_at_odds_ratio_one_is_fishers_exact_test() -> None:
    table = [[30, 10], [20, 20]]
    fisher = stats.fisher_exact(table, alternative="greater").pvalue
    assert excess_odds_p(30, 40, 20, 40, log_odds=0.0) == pytest.approx(fisher)


def test_the_excess_odds_test_against_a_usual_gap_is_weaker() -> None:
    plain = excess_odds_p(45, 45, 19, 45, log_odds=0.0)
    usual_gap = excess_odds_p(45, 45, 19, 45, log_odds=1.6)
    spread = excess_odds_p(45, 45, 19, 45, log_odds=1.6, tau=0.5)
    assert plain < usual_gap < spread < 0.01


def test_the_spread_binomial_test_without_spread_is_the_doubled_exact_tail() -> None:
    tail = 2 * stats.binom.sf(69, 100, 0.5)
    assert spread_binomial_p(70, 100, log_odds=0.0) == pytest.approx(tail)


def test_the_spread_binomial_test_integrates_over_the_spread() -> None:
    def integrand(x: float) -> float:
        p = 1 / (1 + math.exp(-(0.13 + 0.59 * x)))
        return float(stats.norm.pdf(x) * p**68)

    exact = 2 * integrate.quad(integrand, -12, 12, limit=200)[0]
    assert spread_binomial_p(68, 68, log_odds=0.13, tau=0.59) == pytest.approx(exact, rel=1e-3)


def test_the_robust_spread_ignores_one_wild_unit() -> None:
    # Five units 1..5 and one at 30: the 30 is trimmed; the rest vary by 11.25/4 less 0.1.
    centre, tau = robust_centre([1.0, 2.0, 3.0, 4.0, 5.0, 30.0], [0.1] * 6)
    assert centre == 3.5
    assert tau == pytest.approx(math.sqrt(11.25 / 4 - 0.1))


def test_the_robust_spread_recovers_a_known_spread_between_schools() -> None:
    rng = np.random.default_rng(7)
    estimates = []
    for _ in range(200):
        n = rng.integers(25, 120, size=80)
        k = rng.binomial(n, 1 / (1 + np.exp(-rng.normal(0.0, 0.4, size=80))))
        y = np.log((k + 0.5) / (n - k + 0.5))
        v = 1 / (k + 0.5) + 1 / (n - k + 0.5)
        estimates.append(robust_centre(list(y), list(v))[1])
    assert float(np.mean(estimates)) == pytest.approx(0.4, abs=0.02)
