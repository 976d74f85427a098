"""Checks of exam results for pass rates that do not add up: a school's own exam passing far
more of its cadets than the state exam does, a school's state pass rate that stands out from
its region's, and a state examiner who passes (or fails) far more candidates than the rest.

Each check tests many schools or examiners at once, so a flag needs a Benjamini–Hochberg
adjusted p-value (``q``) at most ``fdr`` across all the check's tests AND a difference large
enough to matter. Units are compared with their region's median unit, by kind of exam
(theory or practice); schools on their cadets' first attempts. Schools genuinely differ, so
the tests allow for the real spread between units, estimated robustly from the residuals
about the regions' medians pooled over regions and kinds of exam (one region's twenty
schools are too few to tell a spread from noise), and they are exact, so that 0 % and 100 %
pass rates are judged right.

Default ``fdr``: 0.05 for inflated internal exams (a one-sided test capped by the 100 % an
internal exam cannot exceed, so it has little power to spare); 0.01 for state pass-rate and
examiner outliers, where 0.05 also flagged the natural tail of good and bad schools (measured
on ``generator`` regions; see tests/unit/schools/test_generator.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kupol.schools.model import ExamAttempt, ExamKind, ExamStage, Flag, Severity, Snapshot
from kupol.schools.outcomes import first_attempts
from kupol.schools.outliers import excess_odds_p, log_odds_ratio, robust_centre, spread_binomial_p
from kupol.schools.stats import bh_adjust

KINDS: tuple[ExamKind, ...] = ("theory", "practice")
Group = tuple[str, ExamKind]  # region, kind of exam
Counts = Mapping[str, tuple[int, int]]


@dataclass(frozen=True, kw_only=True)
class _Test:
    subject: str
    region: str
    kind: ExamKind
    p: float
    rate: float
    reference: float
    evidence: dict[str, str | int | float]


def internal_exam_inflated(
    *, data: Snapshot, fdr: float = 0.05, min_attempts: int = 20, min_excess: float = 0.15
) -> tuple[Flag, ...]:
    """Flag schools whose own exam passes far more cadets than the state exam does.

    Every school's own exam is somewhat easier than the state's; what is tested is whether a
    school's odds ratio of internal to state first-attempt passes exceeds the region's usual
    one (its median school's), one-sided and exact given the school's counts
    (``stats.excess_odds_p``), and by at least ``min_excess`` (the school's gap between the
    two pass rates less the rest of the region's pooled gap).
    """
    internal = {k: _first_counts(data.exams, stage="internal", kind=k) for k in KINDS}
    state = {k: _first_counts(data.exams, stage="state", kind=k) for k in KINDS}
    both = {
        (k, s.id): min(internal[k][s.id][1], state[k][s.id][1]) for k in KINDS for s in data.schools
    }
    groups = _groups(data, both, min_attempts)
    ratios = {}
    for (_, kind), schools in groups.items():
        for school in schools:
            lor, se = log_odds_ratio(*internal[kind][school], *state[kind][school])
            ratios[kind, school] = (lor, se * se)
    centres, tau = _spread(groups, ratios)
    tests: list[_Test] = []
    for (region, kind), schools in groups.items():
        for school in schools:
            (ik, i_n), (sk, sn) = internal[kind][school], state[kind][school]
            rest_i = _rest(internal[kind], schools, school)
            rest_s = _rest(state[kind], schools, school)
            p = excess_odds_p(ik, i_n, sk, sn, log_odds=centres[region, kind], tau=tau)
            evidence: dict[str, str | int | float] = {
                "internal_passed": ik,
                "internal_attempts": i_n,
                "state_passed": sk,
                "state_attempts": sn,
                "region_internal_rate": round(rest_i, 3),
                "region_state_rate": round(rest_s, 3),
                "region_log_odds_ratio": round(centres[region, kind], 3),
                "between_sd_log_odds": round(tau, 3),
                "p": p,
            }
            tests.append(
                _Test(
                    subject=school,
                    region=region,
                    kind=kind,
                    p=p,
                    rate=ik / i_n - sk / sn,
                    reference=rest_i - rest_s,
                    evidence=evidence,
                )
            )
    flags = []
    for test, q in zip(tests, bh_adjust([t.p for t in tests]), strict=True):
        excess = test.rate - test.reference
        if q > fdr or excess < min_excess:
            continue
        ev = test.evidence
        flags.append(
            Flag(
                kind="internal_exam_inflated",
                subject_kind="school",
                subject_id=test.subject,
                school_id=test.subject,
                severity=_by_q(q),
                reason=(
                    f"school {test.subject} passes {ev['internal_passed']} of "
                    f"{ev['internal_attempts']} cadets at its own {test.kind} exam but the "
                    f"state exam passes {ev['state_passed']} of {ev['state_attempts']} at the "
                    f"first attempt: a gap {excess:.0%} wider than the rest of "
                    f"{test.region}'s (q = {q:.2g})"
                ),
                evidence={**ev, "kind": test.kind, "excess": round(excess, 3), "q": q},
            )
        )
    return tuple(flags)


def state_pass_outliers(
    *, data: Snapshot, fdr: float = 0.01, min_attempts: int = 20, min_difference: float = 0.10
) -> tuple[Flag, ...]:
    """Flag schools whose cadets' state first-attempt pass rate stands out from the region's.

    Above the region may mean bought passes; below, training that does not teach. Two-sided
    and exact against the region's median school and the real spread between schools
    (``stats.spread_binomial_p``), and at least ``min_difference`` from the median school.
    """
    state = {k: _first_counts(data.exams, stage="state", kind=k) for k in KINDS}
    groups = _groups(
        data, {(k, s.id): state[k][s.id][1] for k in KINDS for s in data.schools}, min_attempts
    )
    flags = []
    tests = _proportion_tests(groups, state)
    for test, q in zip(tests, bh_adjust([t.p for t in tests]), strict=True):
        if q > fdr or abs(test.rate - test.reference) < min_difference:
            continue
        side = "above" if test.rate > test.reference else "below"
        flags.append(
            Flag(
                kind="state_pass_outlier",
                subject_kind="school",
                subject_id=test.subject,
                school_id=test.subject,
                severity=_by_q(q),
                reason=(
                    f"school {test.subject}'s cadets pass the state {test.kind} exam at the "
                    f"first attempt {test.rate:.0%} of the time ({test.evidence['passed']} of "
                    f"{test.evidence['attempts']}), far {side} {test.region}'s median school's "
                    f"{test.reference:.0%} (q = {q:.2g})"
                ),
                evidence={**test.evidence, "kind": test.kind, "direction": side, "q": q},
            )
        )
    return tuple(flags)


def examiner_outliers(
    *, data: Snapshot, fdr: float = 0.01, min_attempts: int = 30, min_difference: float = 0.15
) -> tuple[Flag, ...]:
    """Flag state examiners whose pass rate differs from their region's other examiners'.

    Every state attempt an examiner took (first or retake) counts. Candidates are assigned
    to examiners whatever their school, so examiners should barely differ: the test is an
    exact two-sided binomial test against the region's median examiner (widened by any real
    spread between examiners), and the difference must reach ``min_difference``. The median,
    not the pooled rest, so that one examiner who passes everyone does not make the honest
    ones look harsh.
    """
    region_of = {e.id: e.region for e in data.examiners}
    school_region = {s.id: s.region for s in data.schools}
    counts: dict[ExamKind, defaultdict[str, tuple[int, int]]] = {
        k: defaultdict(lambda: (0, 0)) for k in KINDS
    }
    members: dict[Group, set[str]] = defaultdict(set)
    for exam in data.exams:
        if exam.stage != "state" or exam.examiner_id is None:
            continue
        k, n = counts[exam.kind][exam.examiner_id]
        counts[exam.kind][exam.examiner_id] = (k + int(exam.passed), n + 1)
        region = region_of.get(exam.examiner_id) or school_region.get(exam.school_id, "")
        members[region, exam.kind].add(exam.examiner_id)
    groups: dict[Group, list[str]] = {}
    for (region, kind), examiners in sorted(members.items()):
        enough = sorted(x for x in examiners if counts[kind][x][1] >= min_attempts)
        if len(enough) >= 3:
            groups[region, kind] = enough
    flags = []
    tests = _proportion_tests(groups, counts)
    for test, q in zip(tests, bh_adjust([t.p for t in tests]), strict=True):
        difference = test.rate - test.reference
        if q > fdr or abs(difference) < min_difference:
            continue
        side = "passes" if difference > 0 else "fails"
        flags.append(
            Flag(
                kind="examiner_outlier",
                subject_kind="examiner",
                subject_id=test.subject,
                school_id=None,
                severity=_by_q(q),
                reason=(
                    f"examiner {test.subject} {side} far more candidates at the state "
                    f"{test.kind} exam than {test.region}'s other examiners: "
                    f"{test.evidence['passed']} of {test.evidence['attempts']} pass "
                    f"({test.rate:.0%}) against the median examiner's {test.reference:.0%} "
                    f"(q = {q:.2g})"
                ),
                evidence={**test.evidence, "kind": test.kind, "q": q},
            )
        )
    return tuple(flags)


def _proportion_tests(
    groups: Mapping[Group, Sequence[str]], counts: Mapping[ExamKind, Counts]
) -> list[_Test]:
    """Each unit's passes against its group's median unit and the spread between units
    (``stats.spread_binomial_p``)."""
    logits = {}
    for (_, kind), units in groups.items():
        for unit in units:
            k, n = counts[kind][unit]
            logits[kind, unit] = (
                math.log((k + 0.5) / (n - k + 0.5)),
                1 / (k + 0.5) + 1 / (n - k + 0.5),
            )
    centres, tau = _spread(groups, logits)
    tests: list[_Test] = []
    for (region, kind), units in groups.items():
        median = 1 / (1 + math.exp(-centres[region, kind]))
        for unit in units:
            k, n = counts[kind][unit]
            p = spread_binomial_p(k, n, log_odds=centres[region, kind], tau=tau)
            evidence: dict[str, str | int | float] = {
                "passed": k,
                "attempts": n,
                "rate": round(k / n, 3),
                "region_median_rate": round(median, 3),
                "region_rest_rate": round(_rest(counts[kind], units, unit), 3),
                "between_sd_log_odds": round(tau, 3),
                "p": p,
            }
            tests.append(
                _Test(
                    subject=unit,
                    region=region,
                    kind=kind,
                    p=p,
                    rate=k / n,
                    reference=median,
                    evidence=evidence,
                )
            )
    return tests


def _first_counts(
    exams: Iterable[ExamAttempt], *, stage: ExamStage, kind: ExamKind
) -> defaultdict[str, tuple[int, int]]:
    """Passes and attempts at first attempts, by school."""
    counts: defaultdict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for exam in first_attempts(exams, stage=stage, kind=kind).values():
        k, n = counts[exam.school_id]
        counts[exam.school_id] = (k + int(exam.passed), n + 1)
    return counts


def _groups(
    data: Snapshot, attempts: Mapping[tuple[ExamKind, str], int], minimum: int
) -> dict[Group, list[str]]:
    """The schools with ``minimum`` attempts, by region and kind of exam; groups of fewer
    than three schools are left out (a median of two is no reference)."""
    groups: dict[Group, list[str]] = defaultdict(list)
    for kind in KINDS:
        for school in sorted(data.schools, key=lambda s: s.id):
            if attempts[kind, school.id] >= minimum:
                groups[school.region, kind].append(school.id)
    return {group: schools for group, schools in sorted(groups.items()) if len(schools) >= 3}


def _spread(
    groups: Mapping[Group, Sequence[str]],
    values: Mapping[tuple[ExamKind, str], tuple[float, float]],
) -> tuple[dict[Group, float], float]:
    """Each group's median estimate, and the between-unit standard deviation of the
    estimates about their group's median, pooled over all the groups."""
    centres: dict[Group, float] = {}
    residuals: list[float] = []
    variances: list[float] = []
    for (region, kind), units in groups.items():
        estimates = [values[kind, u] for u in units]
        centre = robust_centre([e for e, _ in estimates], [v for _, v in estimates])[0]
        centres[region, kind] = centre
        residuals += [e - centre for e, _ in estimates]
        variances += [v for _, v in estimates]
    if len(residuals) < 3:
        return centres, 0.0
    return centres, robust_centre(residuals, variances)[1]


def _rest(counts: Counts, units: Sequence[str], unit: str) -> float:
    """The pooled rate of the other ``units``."""
    k = sum(counts[u][0] for u in units if u != unit)
    n = sum(counts[u][1] for u in units if u != unit)
    return k / n if n else 0.0


def _by_q(q: float) -> Severity:
    return "high" if q <= 0.001 else "medium" if q <= 0.01 else "low"
