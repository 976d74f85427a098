"""Pass rates that do not add up: inflated internal exams, state pass-rate outliers among
schools, and state examiners who pass (or fail) far more candidates than the rest."""

from __future__ import annotations

from kupol.schools.exam_checks import (
    examiner_outliers,
    internal_exam_inflated,
    state_pass_outliers,
)
from kupol.schools.model import ExamAttempt, Examiner, Snapshot
from tests.unit.schools.builders import attempts, school, snapshot

# (internal passes, state first-attempt passes) of 100 cadets each: the school's own exam
# passes about 85 %, the state's about 55 %.
ORDINARY = [(85, 55), (83, 53), (87, 57), (84, 56), (86, 54)]


def region(internal_and_state: list[tuple[int, int]]) -> Snapshot:
    exams: list[ExamAttempt] = []
    for i, (internal, state) in enumerate(internal_and_state):
        exams += attempts(f"S{i}", passed=internal, of=100, stage="internal")
        exams += attempts(f"S{i}", passed=state, of=100)
    return snapshot(schools=[school(f"S{i}") for i in range(len(internal_and_state))], exams=exams)


def test_a_school_whose_own_exam_passes_everyone_its_cadets_then_fail_is_flagged() -> None:
    flags = internal_exam_inflated(data=region([*ORDINARY, (100, 30)]))
    assert [(f.kind, f.subject_kind, f.subject_id) for f in flags] == [
        ("internal_exam_inflated", "school", "S5")
    ]
    evidence = flags[0].evidence
    assert (evidence["internal_passed"], evidence["state_passed"]) == (100, 30)
    # Its gap is 70 points; the rest's is 85.0 % - 55.0 % = 30 points.
    assert evidence["excess"] == 0.4
    assert evidence["kind"] == "practice"
    assert flags[0].severity == "high"
    assert "100 of 100" in flags[0].reason


def test_ordinary_gaps_between_internal_and_state_exams_are_not_flagged() -> None:
    assert internal_exam_inflated(data=region([*ORDINARY, (85, 55)])) == ()
    # A weak school whose own exam is as weak as its cadets: no inflation either.
    assert internal_exam_inflated(data=region([*ORDINARY, (60, 25)])) == ()


def test_too_few_attempts_are_not_judged() -> None:
    small = region(ORDINARY)
    exams = [*small.exams, *attempts("tiny", passed=10, of=10, stage="internal")]
    exams += attempts("tiny", passed=1, of=10)
    data = snapshot(schools=[*small.schools, school("tiny")], exams=exams)
    assert internal_exam_inflated(data=data) == ()


STATE_RATES = [50, 55, 52, 58, 48, 53, 56]


def state_region(rates: list[int]) -> Snapshot:
    exams = [e for i, rate in enumerate(rates) for e in attempts(f"S{i}", passed=rate, of=100)]
    return snapshot(schools=[school(f"S{i}") for i in range(len(rates))], exams=exams)


def test_state_pass_rates_far_from_the_regions_are_flagged_both_ways() -> None:
    flags = state_pass_outliers(data=state_region([*STATE_RATES, 92, 20]))
    found = {(f.subject_id, f.evidence["direction"]) for f in flags}
    assert found == {("S7", "above"), ("S8", "below")}
    above = next(f for f in flags if f.subject_id == "S7")
    assert above.evidence["region_median_rate"] == 0.53
    assert "92%" in above.reason


def test_ordinary_differences_between_schools_are_not_flagged() -> None:
    assert state_pass_outliers(data=state_region(STATE_RATES)) == ()


def test_schools_are_compared_within_their_region() -> None:
    # Astana's schools pass 80 %: a school at 80 % there is ordinary, not an outlier.
    exams = [e for i, r in enumerate(STATE_RATES) for e in attempts(f"A{i}", passed=r, of=100)]
    exams += [e for i in range(4) for e in attempts(f"B{i}", passed=78 + i, of=100)]
    schools = [school(f"A{i}") for i in range(7)]
    schools += [school(f"B{i}", region="Astana") for i in range(4)]
    assert state_pass_outliers(data=snapshot(schools=schools, exams=exams)) == ()


def examining(rates: list[int]) -> Snapshot:
    examiners = [Examiner(id=f"X{i}", region="Almaty", name=f"X{i}") for i in range(len(rates))]
    exams = [
        e
        for i, rate in enumerate(rates)
        for e in attempts(f"S{i % 3}", passed=rate, of=100, examiner=f"X{i}")
    ]
    return snapshot(schools=[school(f"S{i}") for i in range(3)], exams=exams, examiners=examiners)


def test_an_examiner_who_passes_almost_everyone_is_flagged_alone() -> None:
    flags = examiner_outliers(data=examining([48, 52, 50, 55, 97]))
    assert [(f.kind, f.subject_kind, f.subject_id) for f in flags] == [
        ("examiner_outlier", "examiner", "X4")
    ]
    assert flags[0].school_id is None
    assert flags[0].evidence["passed"] == 97
    # Against the pooled rest (63.5 %) the honest X0 at 48 % would look harsh; against the
    # median examiner (52 %) it does not.
    assert flags[0].evidence["region_median_rate"] == 0.52


def test_examiners_who_pass_alike_are_not_flagged() -> None:
    assert examiner_outliers(data=examining([48, 52, 50, 55, 47])) == ()
