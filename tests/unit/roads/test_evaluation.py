"""Before/after evaluation: regression to the mean fools the naive estimate and not Empirical
Bayes; a real effect is found; the verdicts say when the data cannot tell."""

from __future__ import annotations

import numpy as np
import pytest

from kupol.core.errors import InvalidInputError
from kupol.roads.evaluation import (
    SiteCounts,
    empirical_bayes,
    evaluate,
    expected_accidents,
    naive,
    reference_from,
)


def study(
    rng: np.random.Generator, effect: float, years: int = 1
) -> tuple[list[SiteCounts], list[SiteCounts]]:
    """300 similar candidate sites (true means from a gamma: over-dispersed, as real sites
    are); the 20 with the most accidents in the before period are treated — as cities choose
    — and the measure multiplies their true mean by ``effect``. 200 other sites of the same
    kind, not chosen by their counts, are the comparison group."""
    means = rng.gamma(shape=2.0, scale=1.5, size=300) * years  # 3 a year on average
    before = rng.poisson(means)
    chosen = np.argsort(-before, kind="stable")[:20]
    after = rng.poisson(means[chosen] * effect)
    treated = [
        SiteCounts(before=float(before[i]), after=float(a), years_before=years, years_after=years)
        for i, a in zip(chosen, after, strict=True)
    ]
    others = rng.gamma(shape=2.0, scale=1.5, size=200) * years
    comparison = [
        SiteCounts(before=float(b), after=float(a), years_before=years, years_after=years)
        for b, a in zip(rng.poisson(others), rng.poisson(others), strict=True)
    ]
    return treated, comparison


@pytest.mark.parametrize("years", [1, 3])
def test_sites_chosen_for_many_accidents_show_no_false_effect_under_empirical_bayes(
    years: int,
) -> None:
    rng = np.random.default_rng(11)
    runs, naive_hits, eb_hits = 400, 0, 0
    for _ in range(runs):
        treated, comparison = study(rng, effect=1.0, years=years)  # the measure does nothing
        plain = naive(treated)
        eb = empirical_bayes(treated, reference=reference_from(comparison))
        assert plain.high is not None and eb.high is not None and eb.low is not None
        naive_hits += plain.high < 1  # a "significant reduction"
        eb_hits += eb.high < 1 or eb.low > 1  # any "significant effect"
    # Regression to the mean: the naive estimate finds a reduction most of the time (less
    # with longer periods, whose counts vary less)…
    assert naive_hits / runs > 0.45
    # …Empirical Bayes an effect about as often as its 95 % intervals allow: within the
    # sampling error of 400 runs (99 % bound) of the nominal 5 %. (Measured over 1,000 runs:
    # 6.1 % with one-year periods, 5.7 % with three; the prior's over-dispersion is an
    # estimate whose error the interval leaves out.)
    assert eb_hits / runs <= 0.05 + 2.58 * (0.05 * 0.95 / runs) ** 0.5


def test_a_real_reduction_is_found_and_estimated() -> None:
    rng = np.random.default_rng(5)
    thetas, found = [], 0
    for _ in range(200):
        treated, comparison = study(rng, effect=0.6)  # 40 % fewer
        eb = empirical_bayes(treated, reference=reference_from(comparison))
        assert eb.theta is not None and eb.high is not None
        thetas.append(eb.theta)
        found += eb.high < 1
    assert np.mean(thetas) == pytest.approx(0.6, abs=0.06)
    assert found / 200 > 0.8


def test_the_verdicts_say_what_the_data_can_and_cannot_tell() -> None:
    treated = [SiteCounts(before=6, after=5), SiteCounts(before=4, after=4)]
    comparison = [
        SiteCounts(before=b, after=a) for b, a in [(3, 3), (1, 2), (2, 2), (4, 3), (0, 1), (2, 2)]
    ]
    estimates = evaluate(treated, comparison, what="injury accidents")
    assert [e.method for e in estimates] == ["naive", "comparison group", "Empirical Bayes"]
    assert all("cannot tell" in e.verdict for e in estimates)
    assert "regression to the mean" in estimates[0].verdict
    alone = evaluate(treated, [])
    assert "needs 5 or more comparison sites" in alone[2].verdict and alone[2].theta is None
    with pytest.raises(InvalidInputError):
        evaluate([], comparison)
    with pytest.raises(InvalidInputError):
        reference_from(comparison[:3])


@pytest.mark.parametrize(
    ("years", "observed", "per_year", "sd_per_year", "per_km_year"),
    [
        # Example 1: one year, 12 accidents → 4.71 ± 1.19 accidents per km-year.
        (1, 12, 8.48, 2.14, 4.71),
        # Example 2: three years, 12 + 7 + 8 → 7.97 ± 1.44 accidents a year on the segment.
        (3, 27, 7.97, 1.44, 4.43),
    ],
)
def test_the_empirical_bayes_tutorial_examples_are_reproduced(
    years: int, observed: int, per_year: float, sd_per_year: float, per_km_year: float
) -> None:
    """Hauer, Harwood, Council & Griffith (2002), "The Empirical Bayes method for estimating
    safety: a tutorial" (TRR 1784), examples 1 and 2: a 1.8 km rural two-lane segment with
    ADT 4,000, the SPF μ = 0.0224·ADT^0.564 accidents per km-year and φ = 2.05 per km. The
    published figures are those above."""
    length = 1.8
    mu = 0.0224 * 4000**0.564
    estimate, sd = expected_accidents(observed, mu * length * years, 1 / (2.05 * length))
    assert estimate / years == pytest.approx(per_year, abs=0.01)
    assert sd / years == pytest.approx(sd_per_year, abs=0.01)
    assert estimate / years / length == pytest.approx(per_km_year, abs=0.01)


def test_a_safety_performance_function_can_be_the_prior() -> None:
    # Two sites whose SPF (with their traffic) predicts 4 and 6 accidents in each period:
    # 12 and 15 seen before (high, as sites chosen for treatment are), 5 and 6 after.
    treated = [
        SiteCounts(before=12, after=5, predicted_before=4, predicted_after=4),
        SiteCounts(before=15, after=6, predicted_before=6, predicted_after=6),
    ]
    [plain, group, eb] = evaluate(treated, [], overdispersion=0.2)
    assert group.theta is None and "comparison sites" in group.verdict
    assert eb.theta is not None and plain.theta is not None
    # The prior pulls the expected-without down from 27 seen: EB claims less than naive.
    assert eb.details["expected_without"] < 27 and eb.theta > plain.theta
    mixed = [*treated[:1], SiteCounts(before=3, after=2)]
    [_, _, none] = evaluate(mixed, [], overdispersion=0.2)
    assert none.theta is None and "safety performance function" in none.verdict
