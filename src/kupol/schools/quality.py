"""Quality scores of schools and instructors, ranked only where the data can bear a rank.

Method, per component (see ``outcomes`` for what is counted):

1. The raw estimate with a 95 % interval: Wilson for a proportion (state first-attempt pass
   rates), exact Poisson (Garwood) for a rate per graduate-year or per cadet.
2. An empirical-Bayes estimate: a Beta (proportions) or Gamma (rates) prior is fitted across
   the units that meet the component's minimum sample, by the method of moments, and each
   unit's estimate is its posterior mean. A unit with little data is pulled towards the
   region's mean, so a lucky streak on a handful of cadets cannot top the table.
3. ``z``: the shrunk estimate's distance from the region's mean in between-unit standard
   deviations, signed so that higher is better (fewer violations is better).

The score is the weighted sum of the components' ``z`` (weights sum to 1; 0 is the region's
average); its 95 % interval is ``score ± 1.96 · sqrt(Σ (w · posterior sd / between-unit
sd)²)``, taking components as independent. Only units where EVERY component reaches its
minimum sample get a score and a rank; the others get ``insufficient_data`` and the reason,
with every component's evidence kept either way.

Weights for schools: state practice 0.30, state theory 0.15, accidents 0.25, violations 0.20,
upheld complaints 0.10 — the state exam and the road record weigh the same (0.45 each); the
practice exam, which the instructor trains for, weighs more than the theory test; an accident
weighs more than a violation but is rarer, hence noisier. Instructors: state practice 0.40,
accidents 0.30, violations 0.20, complaints 0.10 (theory is taught by others).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

from kupol.core.errors import InvalidInputError
from kupol.schools.model import Component, Interval, QualityScore, Snapshot
from kupol.schools.outcomes import (
    PROPORTIONS,
    UNITS,
    UnitOutcomes,
    instructor_outcomes,
    school_outcomes,
)
from kupol.schools.stats import (
    BetaPrior,
    GammaPrior,
    fit_beta_prior,
    fit_gamma_prior,
    normal_quantile,
    poisson_rate_interval,
    wilson_interval,
)

SCHOOL_WEIGHTS: Mapping[str, float] = {
    "state_practice": 0.30,
    "state_theory": 0.15,
    "accidents": 0.25,
    "violations": 0.20,
    "complaints": 0.10,
}
SCHOOL_MINIMUMS: Mapping[str, float] = {
    "state_practice": 30,
    "state_theory": 30,
    "accidents": 30.0,
    "violations": 30.0,
    "complaints": 30,
}
INSTRUCTOR_WEIGHTS: Mapping[str, float] = {
    "state_practice": 0.40,
    "accidents": 0.30,
    "violations": 0.20,
    "complaints": 0.10,
}
INSTRUCTOR_MINIMUMS: Mapping[str, float] = {
    "state_practice": 20,
    "accidents": 20.0,
    "violations": 20.0,
    "complaints": 20,
}
Prior = BetaPrior | GammaPrior


def score_schools(
    *,
    data: Snapshot,
    weights: Mapping[str, float] = SCHOOL_WEIGHTS,
    minimums: Mapping[str, float] = SCHOOL_MINIMUMS,
    level: float = 0.95,
) -> tuple[QualityScore, ...]:
    """Every school's quality score: ranked ones first by rank, then the rest by id."""
    return score_units(
        units=school_outcomes(data),
        subject_kind="school",
        weights=weights,
        minimums=minimums,
        level=level,
    )


def score_instructors(
    *,
    data: Snapshot,
    weights: Mapping[str, float] = INSTRUCTOR_WEIGHTS,
    minimums: Mapping[str, float] = INSTRUCTOR_MINIMUMS,
    level: float = 0.95,
) -> tuple[QualityScore, ...]:
    """Every driving instructor's quality score, ranked across the whole snapshot."""
    return score_units(
        units=instructor_outcomes(data),
        subject_kind="instructor",
        weights=weights,
        minimums=minimums,
        level=level,
    )


def score_units(
    *,
    units: Sequence[UnitOutcomes],
    subject_kind: Literal["school", "instructor"],
    weights: Mapping[str, float],
    minimums: Mapping[str, float],
    level: float = 0.95,
) -> tuple[QualityScore, ...]:
    """Score, rank and explain ``units`` (the engine behind ``score_schools``).

    Raises:
        InvalidInputError: A weight is not positive, or names a component the units lack,
            or a component has no minimum.
    """
    _check(units, weights, minimums)
    total = sum(weights.values())
    priors = {name: _prior(name, units, minimums[name]) for name in weights}
    z_level = normal_quantile(level)
    scored: list[tuple[UnitOutcomes, tuple[Component, ...], float | None, Interval | None]] = []
    for unit in units:
        components: list[Component] = []
        score = var = 0.0
        for name, weight in weights.items():
            component, ratio = _component(
                unit, name, weight / total, priors[name], minimums[name], level
            )
            components.append(component)
            score += component.weight * component.z
            var += (component.weight * ratio) ** 2
        if all(c.sufficient for c in components):
            half = z_level * math.sqrt(var)
            interval = Interval(low=score - half, high=score + half)
            scored.append((unit, tuple(components), score, interval))
        else:
            scored.append((unit, tuple(components), None, None))
    ranked = sorted(
        (s for s in scored if s[2] is not None), key=lambda s: (-(s[2] or 0.0), s[0].subject_id)
    )
    rest = sorted((s for s in scored if s[2] is None), key=lambda s: s[0].subject_id)
    results = [
        _result(subject_kind, unit, comps, score, interval, rank, len(ranked))
        for rank, (unit, comps, score, interval) in enumerate(ranked, start=1)
    ]
    results += [_result(subject_kind, u, c, None, None, None, len(ranked)) for u, c, _, _ in rest]
    return tuple(results)


def _check(
    units: Sequence[UnitOutcomes], weights: Mapping[str, float], minimums: Mapping[str, float]
) -> None:
    if not weights:
        raise InvalidInputError("a score needs at least one weighted component")
    for name, weight in weights.items():
        if not weight > 0:
            raise InvalidInputError(f"weight of {name!r} must be positive, not {weight}")
        if name not in minimums:
            raise InvalidInputError(f"component {name!r} has no minimum sample")
        if any(name not in u.tallies for u in units):
            raise InvalidInputError(f"component {name!r} is not counted for these units")


def _prior(name: str, units: Sequence[UnitOutcomes], minimum: float) -> Prior:
    tallies = [u.tallies[name] for u in units if u.tallies[name].n > 0]
    enough = [t for t in tallies if t.n >= minimum]
    basis = enough if len(enough) >= 3 else tallies
    if name in PROPORTIONS:
        k, n = sum(t.events for t in basis), sum(t.n for t in basis)
        try:
            return fit_beta_prior([t.events for t in basis], [int(t.n) for t in basis])
        except InvalidInputError:
            # Everyone passed (or no one did, or there is no data): a weak prior at the
            # continuity-corrected pooled rate.
            mean = (k + 0.5) / (n + 1)
            return BetaPrior(alpha=2 * mean, beta=2 * (1 - mean))
    if not basis:
        return GammaPrior(shape=1.0, rate=1.0)
    return fit_gamma_prior([t.events for t in basis], [t.n for t in basis])


def _component(
    unit: UnitOutcomes,
    name: str,
    weight: float,
    prior: Prior,
    minimum: float,
    level: float,
) -> tuple[Component, float]:
    tally = unit.tallies[name]
    estimate: float | None = None
    interval: Interval | None = None
    if isinstance(prior, BetaPrior):
        trials = int(tally.n)
        shrunk, post_sd = prior.posterior(tally.events, trials)
        sign = 1.0
        if trials > 0:
            estimate = tally.events / trials
            interval = wilson_interval(tally.events, trials, level)
    else:
        shrunk, post_sd = prior.posterior(tally.events, tally.n)
        sign = -1.0
        if tally.n > 0:
            estimate = tally.events / tally.n
            interval = poisson_rate_interval(tally.events, tally.n, level)
    component = Component(
        name=name,
        unit=UNITS.get(name, "units"),
        events=tally.events,
        n=tally.n,
        estimate=estimate,
        interval=interval,
        shrunk=shrunk,
        region_mean=prior.mean,
        z=sign * (shrunk - prior.mean) / prior.sd,
        weight=weight,
        minimum=minimum,
        sufficient=tally.n >= minimum,
    )
    return component, post_sd / prior.sd


def _result(
    subject_kind: Literal["school", "instructor"],
    unit: UnitOutcomes,
    components: tuple[Component, ...],
    score: float | None,
    interval: Interval | None,
    rank: int | None,
    ranked: int,
) -> QualityScore:
    if score is None or interval is None or rank is None:
        short = [
            f"{c.name} {c.n:g} of {c.minimum:g} {c.unit}" for c in components if not c.sufficient
        ]
        reason = "insufficient data: " + "; ".join(short)
    else:
        by_effect = sorted(components, key=lambda c: c.weight * c.z)
        reason = (
            f"rank {rank} of {ranked}: score {score:+.2f} "
            f"(95 % {interval.low:+.2f} to {interval.high:+.2f}); "
            f"strongest {by_effect[-1].name} (z {by_effect[-1].z:+.2f}), "
            f"weakest {by_effect[0].name} (z {by_effect[0].z:+.2f})"
        )
    return QualityScore(
        subject_kind=subject_kind,
        subject_id=unit.subject_id,
        school_id=unit.school_id,
        status="ranked" if rank is not None else "insufficient_data",
        score=score,
        interval=interval,
        rank=rank,
        components=components,
        reason=reason,
    )
