"""Quality scores: shrinkage, intervals, the minimum sample, and the ranking order."""

from __future__ import annotations

from datetime import date

import pytest

from kupol.core.errors import InvalidInputError
from kupol.schools.model import Complaint, GraduateRecord
from kupol.schools.outcomes import Tally, UnitOutcomes, school_outcomes
from kupol.schools.quality import score_schools, score_units
from kupol.schools.stats import poisson_rate_interval, wilson_interval
from tests.unit.schools.builders import attempts, cadet, school, snapshot

PASSES_ONLY = {"state_practice": 1.0}
MINIMUM_30 = {"state_practice": 30.0, "violations": 30.0}


def unit(subject: str, **tallies: tuple[int, float]) -> UnitOutcomes:
    return UnitOutcomes(
        subject_id=subject,
        school_id=subject,
        tallies={name: Tally(events=e, n=n) for name, (e, n) in tallies.items()},
    )


def test_units_rank_by_their_shrunk_pass_rate() -> None:
    units = [
        unit("B", state_practice=(60, 100)),
        unit("A", state_practice=(80, 100)),
        unit("C", state_practice=(40, 100)),
    ]
    scores = score_units(
        units=units, subject_kind="school", weights=PASSES_ONLY, minimums=MINIMUM_30
    )
    assert [(s.subject_id, s.rank) for s in scores] == [("A", 1), ("B", 2), ("C", 3)]
    # Beta prior by moments: mean 0.6; variance 0.04 less binomial 0.0024 = 0.0376 between,
    # so alpha + beta = 0.24 / 0.0376 - 1 = 5.383; A is (80 + 3.230) / (100 + 5.383).
    best = scores[0].components[0]
    assert best.shrunk == pytest.approx((80 + 0.6 * 5.3830) / 105.3830, abs=1e-4)
    assert best.region_mean == pytest.approx(0.6)
    assert best.z == pytest.approx((best.shrunk - 0.6) / 0.0376**0.5, abs=1e-3)
    assert best.interval == wilson_interval(80, 100)
    assert scores[0].score == pytest.approx(best.z)
    score, interval = scores[0].score, scores[0].interval
    assert score is not None and interval is not None
    assert interval.low < score < interval.high


def test_fewer_violations_per_graduate_year_rank_higher() -> None:
    units = [
        unit("careless", violations=(40, 50.0)),
        unit("careful", violations=(5, 50.0)),
        unit("middling", violations=(20, 50.0)),
    ]
    scores = score_units(
        units=units, subject_kind="school", weights={"violations": 1.0}, minimums=MINIMUM_30
    )
    assert [s.subject_id for s in scores] == ["careful", "middling", "careless"]
    assert scores[0].components[0].interval == poisson_rate_interval(5, 50.0)
    assert scores[0].components[0].z > 0 > scores[-1].components[0].z


def test_a_school_below_the_minimum_sample_gets_no_score_and_says_why() -> None:
    units = [
        unit("A", state_practice=(80, 100)),
        unit("B", state_practice=(60, 100)),
        unit("C", state_practice=(40, 100)),
        unit("lucky", state_practice=(8, 8)),
    ]
    scores = score_units(
        units=units, subject_kind="school", weights=PASSES_ONLY, minimums=MINIMUM_30
    )
    lucky = next(s for s in scores if s.subject_id == "lucky")
    assert (lucky.status, lucky.rank, lucky.score) == ("insufficient_data", None, None)
    assert lucky.reason == "insufficient data: state_practice 8 of 30 first attempts"
    assert lucky.components[0].estimate == 1.0  # the evidence is kept all the same
    assert lucky.components[0].shrunk < 1.0
    assert [s.rank for s in scores if s.status == "ranked"] == [1, 2, 3]


def test_one_short_component_is_enough_to_withhold_the_rank() -> None:
    units = [
        unit(s, state_practice=(50 + 10 * i, 100), violations=(10, 40.0 if s != "new" else 3.0))
        for i, s in enumerate(("old", "older", "new"))
    ]
    scores = score_units(
        units=units,
        subject_kind="school",
        weights={"state_practice": 0.6, "violations": 0.4},
        minimums=MINIMUM_30,
    )
    new = next(s for s in scores if s.subject_id == "new")
    assert new.status == "insufficient_data"
    assert "violations 3 of 30 graduate-years" in new.reason


def test_the_weights_combine_the_components() -> None:
    units = [
        unit("exams", state_practice=(80, 100), violations=(30, 50.0)),
        unit("roads", state_practice=(50, 100), violations=(5, 50.0)),
        unit("neither", state_practice=(50, 100), violations=(30, 50.0)),
    ]

    def order(weights: dict[str, float]) -> list[str]:
        scores = score_units(
            units=units, subject_kind="school", weights=weights, minimums=MINIMUM_30
        )
        return [s.subject_id for s in scores]

    assert order({"state_practice": 0.9, "violations": 0.1})[0] == "exams"
    assert order({"state_practice": 0.1, "violations": 0.9})[0] == "roads"
    assert order({"state_practice": 1, "violations": 1})[-1] == "neither"


@pytest.mark.parametrize(
    "weights",
    [{}, {"state_practice": 0.0}, {"state_theory": 1.0}, {"complaints": 1.0}],
)
def test_weights_that_cannot_be_scored_are_refused(weights: dict[str, float]) -> None:
    units = [unit("A", state_practice=(8, 10))]
    with pytest.raises(InvalidInputError):
        score_units(units=units, subject_kind="school", weights=weights, minimums=MINIMUM_30)


def test_only_first_state_attempts_upheld_complaints_and_driving_years_count() -> None:
    exams = [
        *attempts("S1", passed=10, of=10, stage="internal"),  # the school's own: ignored
        *attempts("S1", passed=3, of=4),
        *attempts("S1", passed=4, of=4, attempt=2),  # retakes: ignored
        *attempts("S1", passed=1, of=2, kind="theory"),
    ]
    graduate = GraduateRecord(
        cadet_id="S1--0",
        school_id="S1",
        licence_no="KZ1",
        licensed_on=date(2024, 1, 1),
        exposure_years=1.5,
        violations=2,
        accidents=1,
    )
    data = snapshot(
        schools=[school("S1")],
        cadets=[cadet(c) for c in sorted({e.cadet_id for e in exams})],
        exams=exams,
        graduates=[graduate],
        complaints=[
            Complaint(id="K1", school_id="S1", received_on=date(2025, 1, 1), upheld=True),
            Complaint(id="K2", school_id="S1", received_on=date(2025, 2, 1), upheld=False),
        ],
    )
    tallies = school_outcomes(data)[0].tallies
    assert tallies["state_practice"] == Tally(events=3, n=4)
    assert tallies["state_theory"] == Tally(events=1, n=2)
    assert tallies["violations"] == Tally(events=2, n=1.5)
    assert tallies["accidents"] == Tally(events=1, n=1.5)
    assert tallies["complaints"] == Tally(events=1, n=10)  # per cadet registered


def test_a_snapshot_of_small_schools_ranks_none_of_them() -> None:
    exams = [e for s in ("S1", "S2", "S3") for e in attempts(s, passed=5, of=10)]
    data = snapshot(
        schools=[school("S1"), school("S2"), school("S3")],
        cadets=[cadet(e.cadet_id, school_id=e.school_id) for e in exams],
        exams=exams,
    )
    scores = score_schools(data=data)
    assert {s.status for s in scores} == {"insufficient_data"}
