"""Did a measure work? Before/after evaluation of treated sites (smart crosswalks, cameras,
speed bumps…) three ways, from the crudest to the one that corrects for regression to the mean:

- **naive**: accidents after / before at the treated sites (per year). Sites are usually
  treated *because* they had many accidents; next period those sites would have had fewer
  anyway — regression to the mean — so the naive estimate flatters the measure.
- **comparison group**: the treated sites' after/before ratio divided by that of untreated
  comparison sites, which removes the general trend (traffic, reporting, weather) but not
  regression to the mean.
- **Empirical Bayes** (Hauer 1997; Highway Safety Manual 2010, part B, chapter 9): each
  treated site's expected accidents before are a weighted mean of its own count and what
  sites like it have (the reference sites' mean, or a safety performance function),
  ``w = 1 / (1 + k·P)`` with ``k`` the counts' over-dispersion; those expectations, carried
  to the after period by the comparison sites' trend, are what would have happened without
  the measure (π). The index of effectiveness is ``θ = (λ/π) / (1 + Var(π)/π²)`` with
  ``λ`` the accidents after, its variance
  ``θ² (1/λ + Var(π)/π²) / (1 + Var(π)/π²)²``, and ``Var(π) = Σ r² E_b (1 − w)`` — plus,
  when the prior comes from comparison sites rather than a safety performance function, the
  error of their mean and of their trend, which are estimates too.

Each estimate comes with a 95 % interval, and a verdict in plain words that says when the data
cannot tell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kupol.core.errors import InvalidInputError

Z95 = 1.959964


@dataclass(frozen=True, kw_only=True)
class SiteCounts:
    """Accidents at one site before and after (equal-length periods unless years differ)."""

    before: float
    after: float
    years_before: float = 1.0
    years_after: float = 1.0
    predicted_before: float | None = None
    """A safety performance function's prediction for the before period, if there is one;
    else the reference sites' mean is used."""
    predicted_after: float | None = None


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One method's estimate: θ (after / what would have been without the measure)."""

    method: str
    theta: float | None
    low: float | None
    high: float | None
    change: float | None
    """θ − 1: −0.3 is 30 % fewer accidents."""
    verdict: str
    details: dict[str, float]


def _verdict(method: str, theta: float, low: float, high: float, what: str) -> str:
    if high < 1:
        return (
            f"{method}: {1 - theta:.0%} fewer {what} (95 % interval {1 - high:.0%} to "
            f"{1 - low:.0%} fewer)"
        )
    if low > 1:
        return (
            f"{method}: {theta - 1:.0%} more {what} (95 % interval {low - 1:.0%} to "
            f"{high - 1:.0%} more)"
        )
    return (
        f"{method}: the data cannot tell whether the measure changed {what} (estimate "
        f"{theta - 1:+.0%}, 95 % interval {low - 1:+.0%} to {high - 1:+.0%})"
    )


def naive(treated: Sequence[SiteCounts], what: str = "accidents") -> Estimate:
    """After per year / before per year at the treated sites, with a log-normal interval."""
    before = sum(s.before for s in treated)
    after = sum(s.after for s in treated)
    tb = sum(s.years_before for s in treated) / max(len(treated), 1)
    ta = sum(s.years_after for s in treated) / max(len(treated), 1)
    details = {"before": before, "after": after}
    if before <= 0 or after <= 0:
        return _none("naive", "no accidents before or after", details)
    theta = (after / ta) / (before / tb)
    return _ratio(
        "naive", theta, math.sqrt(1 / after + 1 / before), what,
        "not corrected for regression to the mean", details,
    )  # fmt: skip


def comparison_group(
    treated: Sequence[SiteCounts], comparison: Sequence[SiteCounts], what: str = "accidents"
) -> Estimate:
    """The treated sites' after/before ratio over the comparison sites' (ratio of ratios)."""
    kb = sum(s.before for s in treated)
    ka = sum(s.after for s in treated)
    cb = sum(s.before for s in comparison)
    ca = sum(s.after for s in comparison)
    details = {"before": kb, "after": ka, "comparison_before": cb, "comparison_after": ca}
    if min(kb, ka, cb, ca) <= 0:
        return _none("comparison group", "a period with no accidents", details)
    return _ratio(
        "comparison group", (ka / kb) / (ca / cb), math.sqrt(1 / ka + 1 / kb + 1 / ca + 1 / cb),
        what, "general trend removed, regression to the mean not", details,
    )  # fmt: skip


def _ratio(
    method: str, theta: float, se_log: float, what: str, caveat: str, details: dict[str, float]
) -> Estimate:
    """A ratio estimate with its 95 % interval on the log scale, and its verdict."""
    low, high = theta * math.exp(-Z95 * se_log), theta * math.exp(Z95 * se_log)
    return Estimate(
        method=method,
        theta=theta,
        low=low,
        high=high,
        change=theta - 1,
        verdict=_verdict(method, theta, low, high, what) + " — " + caveat,
        details=details,
    )


@dataclass(frozen=True, kw_only=True)
class Reference:
    """What sites like the treated ones have: the mean (per year) and over-dispersion of their
    before counts, and the general trend (after / before, per year) of the comparison sites."""

    mean: float
    overdispersion: float
    trend: float
    mean_variance: float = 0.0
    """The variance of ``mean`` as an estimate (variance of the counts / sites)."""
    trend_variance: float = 0.0
    """The relative variance of ``trend`` (1/after + 1/before of the comparison totals)."""


def reference_from(comparison: Sequence[SiteCounts]) -> Reference:
    """Method-of-moments estimates from the comparison sites: the mean and variance of their
    before counts per year give the prior and its over-dispersion ``k = (variance − mean ·
    mean(1/T)) / mean²`` (T a site's years; 0 when they vary no more than Poisson); their
    after / before is the trend.

    The comparison sites must be like the treated ones (same kind of place, road, traffic)
    and chosen *without* looking at their accident counts — e.g. the other crossings of the
    same type — never "the rest" of a ranking the treated sites topped: those were picked for
    few accidents and regress upwards, which would fake a trend and a benefit.

    Raises:
        InvalidInputError: fewer than 5 comparison sites, or none had an accident before.
    """
    if len(comparison) < 5:
        raise InvalidInputError("Empirical Bayes needs 5 or more comparison sites")
    counts = [s.before / s.years_before for s in comparison]
    mean = sum(counts) / len(counts)
    if mean <= 0:
        raise InvalidInputError("the comparison sites had no accidents before")
    variance = sum((c - mean) ** 2 for c in counts) / (len(counts) - 1)
    # The rates' variance is the sites' true spread plus Poisson noise, mean/T for a site
    # counted over T years: only the spread is the prior's.
    noise = mean * sum(1 / s.years_before for s in comparison) / len(comparison)
    before = sum(s.before for s in comparison)
    after = sum(s.after for s in comparison)
    years_before = sum(s.years_before for s in comparison)
    years_after = sum(s.years_after for s in comparison)
    trend = (after / years_after) / (before / years_before) if before > 0 and after > 0 else 1.0
    return Reference(
        mean=mean,
        overdispersion=max((variance - noise) / mean**2, 0.0),
        trend=trend,
        mean_variance=variance / len(counts),
        trend_variance=(1 / after + 1 / before) if before > 0 and after > 0 else 0.0,
    )


def expected_accidents(observed: float, predicted: float, k: float) -> tuple[float, float]:
    """The Empirical Bayes estimate of a site's expected accidents, and its standard
    deviation: ``w·P + (1 − w)·x`` with ``w = 1 / (1 + k·P)``, ``σ = √((1 − w)·estimate)``
    (Hauer, Harwood, Council & Griffith 2002, "The Empirical Bayes method for estimating
    safety: a tutorial", TRR 1784). ``P`` is what sites like it have over the same time (a
    safety performance function's prediction), ``x`` what it had, ``k`` the negative
    binomial over-dispersion of ``P`` (the tutorial's 1/(φL) for a segment of length L).

    Example (the tutorial's example 2: 12, 7 and 8 accidents in three years on 1.8 km of
    rural road with 4,000 vehicles a day; μ = 0.0224·ADT^0.564 per km-year, φ = 2.05/km):
        >>> mu = 0.0224 * 4000**0.564
        >>> estimate, sd = expected_accidents(27, mu * 1.8 * 3, 1 / (2.05 * 1.8))
        >>> round(estimate / 3, 2), round(sd / 3, 2)
        (7.97, 1.44)
    """
    if predicted <= 0 or k < 0 or observed < 0:
        raise InvalidInputError("predicted must be above 0, observed and k not below 0")
    w = 1 / (1 + k * predicted)
    estimate = w * predicted + (1 - w) * observed
    return estimate, math.sqrt((1 - w) * estimate)


def empirical_bayes(
    treated: Sequence[SiteCounts],
    *,
    reference: Reference | None = None,
    overdispersion: float | None = None,
    what: str = "accidents",
) -> Estimate:
    """The Empirical Bayes before/after estimate (see the module's doc).

    Each site's prediction is its own ``predicted_before``/``predicted_after`` (from a safety
    performance function, with ``overdispersion`` its k) or else the reference sites' mean
    carried to the after period by their trend.

    Raises:
        InvalidInputError: no prediction for a site and no reference, or no over-dispersion.
    """
    k = (
        overdispersion
        if overdispersion is not None
        else (reference.overdispersion if reference else None)
    )
    if k is None or k < 0:
        raise InvalidInputError("Empirical Bayes needs the over-dispersion k (or a reference)")
    pi = var_pi = 0.0
    lam = 0.0
    shared_mean = 0.0
    """Σ r·w·T over the sites whose prior is the reference mean: that mean's error is one
    error, common to them all."""
    pi_reference = 0.0
    """The part of π carried to the after period by the reference's trend."""
    for site in treated:
        if site.predicted_before is not None:
            pb = site.predicted_before
            pa = site.predicted_after if site.predicted_after is not None else pb
        elif reference is not None:
            pb = reference.mean * site.years_before
            pa = reference.mean * reference.trend * site.years_after
        else:
            raise InvalidInputError("a site has no prediction and there is no reference")
        if pb <= 0:
            raise InvalidInputError("a site's predicted accidents before must be above 0")
        w = 1 / (1 + k * pb)
        expected_before, _ = expected_accidents(site.before, pb, k)
        r = pa / pb
        pi += r * expected_before
        var_pi += r * r * expected_before * (1 - w)
        if site.predicted_before is None and reference is not None:
            shared_mean += r * w * site.years_before
            pi_reference += r * expected_before
        lam += site.after
    if reference is not None:
        # The reference mean and its trend are estimates, each shared by the sites that use
        # them: their errors add once for all those sites, not once per site.
        var_pi += shared_mean**2 * reference.mean_variance
        var_pi += pi_reference**2 * reference.trend_variance
    if pi <= 0 or lam <= 0:
        return _none(
            "Empirical Bayes", "no accidents after, or none expected",
            {"expected_without": pi, "after": lam},
        )  # fmt: skip
    ratio = var_pi / pi**2
    theta = (lam / pi) / (1 + ratio)
    variance = theta**2 * (1 / lam + ratio) / (1 + ratio) ** 2
    se = math.sqrt(variance)
    # On the log scale (the delta method: SE(log θ) = SE(θ)/θ): a ratio's sampling
    # distribution is skewed, and a symmetric interval around θ finds false reductions
    # more often than its level says.
    spread = math.exp(Z95 * se / theta)
    low, high = theta / spread, theta * spread
    return Estimate(
        method="Empirical Bayes",
        theta=theta,
        low=low,
        high=high,
        change=theta - 1,
        verdict=_verdict("Empirical Bayes", theta, low, high, what),
        details={
            "expected_without": pi,
            "variance_expected": var_pi,
            "after": lam,
            "overdispersion": k,
            "standard_error": se,
        },
    )


def evaluate(
    treated: Sequence[SiteCounts],
    comparison: Sequence[SiteCounts],
    *,
    what: str = "accidents",
    overdispersion: float | None = None,
) -> list[Estimate]:
    """Naive, comparison-group and Empirical Bayes estimates. The comparison group needs 5 or
    more comparison sites; Empirical Bayes needs them too, unless every treated site carries a
    safety performance function's predictions and ``overdispersion`` (its k) is given — then
    the SPF is the prior and its after/before the trend. Without what a method needs, the
    answer says so."""
    if not treated:
        raise InvalidInputError("no treated sites")
    found = [naive(treated, what)]
    reason = "needs 5 or more comparison sites like the treated ones"
    enough = len(comparison) >= 5
    found.append(
        comparison_group(treated, comparison, what) if enough else _none("comparison group", reason)
    )
    predicted = all(s.predicted_before is not None for s in treated)
    try:
        if predicted and overdispersion is not None:
            found.append(empirical_bayes(treated, overdispersion=overdispersion, what=what))
        elif enough:
            found.append(empirical_bayes(treated, reference=reference_from(comparison), what=what))
        else:
            found.append(_none("Empirical Bayes", reason + ", or a safety performance function"))
    except InvalidInputError as exc:
        found.append(_none("Empirical Bayes", str(exc)))
    return found


def _none(method: str, why: str, details: dict[str, float] | None = None) -> Estimate:
    return Estimate(
        method=method, theta=None, low=None, high=None, change=None,
        verdict=f"{method}: no estimate — {why}", details=details or {},
    )  # fmt: skip
