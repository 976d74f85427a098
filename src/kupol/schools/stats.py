"""The statistics behind scores and flags: intervals for proportions and rates, empirical-Bayes
priors fitted across schools, and the false-discovery-rate adjustment for testing many schools
or examiners at once (the tests themselves are in ``outliers``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps  # type: ignore[import-untyped]

from kupol.core.errors import InvalidInputError
from kupol.schools.model import Interval


def normal_quantile(level: float) -> float:
    """The two-sided normal quantile of a confidence ``level`` (1.96 for 0.95).

    Example:
        >>> round(normal_quantile(0.95), 2)
        1.96
    """
    if not 0 < level < 1:
        raise InvalidInputError(f"confidence level must be between 0 and 1, not {level}")
    return float(sps.norm.ppf(1 - (1 - level) / 2))


def wilson_interval(successes: int, n: int, level: float = 0.95) -> Interval:
    """The Wilson score interval of a proportion ``successes / n``.

    Example:
        >>> i = wilson_interval(8, 10)
        >>> round(i.low, 4), round(i.high, 4)
        (0.4902, 0.9433)
    """
    if n <= 0 or not 0 <= successes <= n:
        raise InvalidInputError(f"need 0 <= successes <= n and n > 0, not {successes} of {n}")
    z = normal_quantile(level)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(low=max(0.0, centre - half), high=min(1.0, centre + half))


def poisson_rate_interval(events: int, exposure: float, level: float = 0.95) -> Interval:
    """The exact (Garwood) interval of a rate: ``events`` over ``exposure`` (e.g. person-years).

    Example:
        >>> i = poisson_rate_interval(10, 5.0)
        >>> round(i.low, 3), round(i.high, 3)
        (0.959, 3.678)
    """
    if exposure <= 0 or events < 0:
        raise InvalidInputError(f"need events >= 0 and exposure > 0, not {events} / {exposure}")
    alpha = 1 - level
    normal_quantile(level)
    low = 0.0 if events == 0 else float(sps.chi2.ppf(alpha / 2, 2 * events)) / 2
    high = float(sps.chi2.ppf(1 - alpha / 2, 2 * events + 2)) / 2
    return Interval(low=low / exposure, high=high / exposure)


def bh_adjust(p_values: Sequence[float]) -> tuple[float, ...]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input's order: a test is a
    discovery at false-discovery rate ``q`` when its adjusted value is at most ``q``.

    Example:
        >>> [round(q, 3) for q in bh_adjust([0.01, 0.04, 0.03, 0.5])]
        [0.04, 0.053, 0.053, 0.5]
    """
    m = len(p_values)
    if m == 0:
        return ()
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return tuple(float(v) for v in out)


@dataclass(frozen=True, kw_only=True)
class BetaPrior:
    """The spread of a proportion across units (schools): Beta(``alpha``, ``beta``)."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        """The region's mean proportion."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        """The between-unit standard deviation of the true proportion."""
        s = self.alpha + self.beta
        return math.sqrt(self.mean * (1 - self.mean) / (s + 1))

    def posterior(self, successes: int, n: int) -> tuple[float, float]:
        """A unit's shrunk proportion and its posterior standard deviation."""
        a, b = self.alpha + successes, self.beta + n - successes
        mean = a / (a + b)
        return mean, math.sqrt(mean * (1 - mean) / (a + b + 1))


def fit_beta_prior(
    successes: Sequence[int], trials: Sequence[int], *, min_sd: float = 0.01
) -> BetaPrior:
    """The Beta prior of a proportion across units, by the method of moments: the observed
    variance of the units' proportions less their expected binomial variance is the true
    between-unit variance (at least ``min_sd`` squared, so no unit's z-score divides by 0).

    Example:
        >>> prior = fit_beta_prior([30, 50, 70], [100, 100, 100])
        >>> round(prior.mean, 2), round(prior.sd, 3)
        (0.5, 0.194)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    if len(n) == 0 or k.sum() <= 0 or k.sum() >= n.sum():
        raise InvalidInputError("a prior needs units with both passes and failures")
    mean = float(k.sum() / n.sum())
    spread = mean * (1 - mean)
    observed = float(np.var(k / n, ddof=1)) if len(n) > 1 else 0.0
    between = observed - float(np.mean(spread / n))
    between = min(max(between, min_sd * min_sd), spread / 2)
    strength = spread / between - 1
    return BetaPrior(alpha=mean * strength, beta=(1 - mean) * strength)


@dataclass(frozen=True, kw_only=True)
class GammaPrior:
    """The spread of a rate across units: Gamma(``shape``, ``rate``)."""

    shape: float
    rate: float

    @property
    def mean(self) -> float:
        """The region's mean rate."""
        return self.shape / self.rate

    @property
    def sd(self) -> float:
        """The between-unit standard deviation of the true rate."""
        return math.sqrt(self.shape) / self.rate

    def posterior(self, events: int, exposure: float) -> tuple[float, float]:
        """A unit's shrunk rate and its posterior standard deviation."""
        shape, rate = self.shape + events, self.rate + exposure
        return shape / rate, math.sqrt(shape) / rate


def fit_gamma_prior(
    events: Sequence[int], exposures: Sequence[float], *, min_cv: float = 0.05
) -> GammaPrior:
    """The Gamma prior of a rate across units, by the method of moments (Poisson variance
    taken out; the between-unit coefficient of variation is at least ``min_cv``).

    Example:
        >>> prior = fit_gamma_prior([5, 10, 30], [50.0, 50.0, 50.0])
        >>> round(prior.mean, 3), round(prior.sd, 3)
        (0.3, 0.253)
    """
    y = np.asarray(events, dtype=float)
    e = np.asarray(exposures, dtype=float)
    keep = e > 0
    y, e = y[keep], e[keep]
    if len(e) == 0:
        raise InvalidInputError("a prior needs at least one unit with exposure")
    mean = max(float(y.sum() / e.sum()), 1e-9)
    observed = float(np.var(y / e, ddof=1)) if len(e) > 1 else 0.0
    between = max(observed - float(np.mean(mean / e)), (min_cv * mean) ** 2)
    return GammaPrior(shape=mean * mean / between, rate=mean / between)
