"""A reporter's reputation grows with confirmed reports, falls faster with abuse, fades with
time, and orders the officers' queue together with the findings against a report."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta

import pytest

from kupol.citizens import reputation as reputation_module
from kupol.citizens.consistency import Finding, FindingCode, Severity
from kupol.citizens.reputation import (
    Outcome,
    Reputation,
    ReputationPolicy,
    Verdict,
    priority,
    reputation,
)
from kupol.core.errors import InvalidInputError

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)


def _outcomes(verdict: Verdict, count: int, *, days_ago: float = 0) -> list[Outcome]:
    return [Outcome(decided_at=NOW - timedelta(days=days_ago), verdict=verdict)] * count


def _finding(severity: Severity) -> Finding:
    return Finding(code=FindingCode.NO_LOCATION, severity=severity, reason="test")


def test_a_new_reporter_starts_low_and_unsure() -> None:
    new = reputation([], now=NOW)
    assert (new.alpha, new.beta, new.reports) == (1.0, 2.0, 0)
    assert new.mean == pytest.approx(1 / 3)
    assert new.sd == pytest.approx(0.2357, abs=1e-4)


def test_confirmed_reports_raise_the_reputation_and_certainty() -> None:
    proven = reputation(_outcomes(Verdict.CONFIRMED, 10), now=NOW)
    assert proven.mean == pytest.approx(11 / 13)
    assert proven.sd < reputation([], now=NOW).sd / 2


def test_an_abusive_report_costs_as_much_as_five_honest_rejections() -> None:
    honest = reputation(_outcomes(Verdict.REJECTED, 5), now=NOW)
    for verdict in (Verdict.REUSED_IMAGE, Verdict.FABRICATED_METADATA, Verdict.SPAM):
        abusive = reputation(_outcomes(verdict, 1), now=NOW)
        assert abusive.beta == pytest.approx(honest.beta)
        assert (abusive.reports, abusive.abusive) == (1, 1)
    assert reputation(_outcomes(Verdict.REJECTED, 1), now=NOW).mean == pytest.approx(0.25)


def test_an_outcome_counts_half_after_one_half_life() -> None:
    old = reputation(_outcomes(Verdict.CONFIRMED, 1, days_ago=180), now=NOW)
    assert old.alpha == pytest.approx(1.5)
    rejected = reputation(_outcomes(Verdict.REJECTED, 1, days_ago=360), now=NOW)
    assert rejected.beta == pytest.approx(2.25)


def test_abuse_is_forgotten_more_slowly_than_an_honest_mistake() -> None:
    abuse = reputation(_outcomes(Verdict.REUSED_IMAGE, 1, days_ago=365), now=NOW)
    assert abuse.beta == pytest.approx(2 + 5 * 0.5)
    mistake = reputation(_outcomes(Verdict.REJECTED, 5, days_ago=365), now=NOW)
    assert mistake.beta == pytest.approx(2 + 5 * 0.5 ** (365 / 180))
    assert abuse.mean < mistake.mean


def test_a_reformed_reporter_recovers() -> None:
    history = _outcomes(Verdict.REUSED_IMAGE, 2, days_ago=3 * 365)
    history += _outcomes(Verdict.CONFIRMED, 12, days_ago=30)
    reformed = reputation(history, now=NOW)
    assert reformed.mean > 0.75
    caught_now = reputation(_outcomes(Verdict.REUSED_IMAGE, 2) + history[2:], now=NOW)
    assert caught_now.mean < 0.5


def test_the_policy_sets_prior_half_life_and_abuse_weight() -> None:
    policy = ReputationPolicy(
        prior_confirmed=1, prior_rejected=1, half_life_days=30, abuse_weight=10
    )
    assert reputation([], now=NOW, policy=policy).mean == pytest.approx(0.5)
    month_old = _outcomes(Verdict.CONFIRMED, 2, days_ago=30) + _outcomes(Verdict.SPAM, 1)
    rep = reputation(month_old, now=NOW, policy=policy)
    assert (rep.alpha, rep.beta) == pytest.approx((2.0, 11.0))


def test_an_outcome_dated_after_now_counts_as_fresh() -> None:
    ahead = reputation(_outcomes(Verdict.CONFIRMED, 1, days_ago=-3), now=NOW)
    assert ahead.alpha == pytest.approx(2.0)


@pytest.mark.parametrize(
    "fields",
    [{"prior_confirmed": 0}, {"prior_rejected": -1}, {"half_life_days": 0}, {"abuse_weight": -1}],
)
def test_an_impossible_policy_is_refused(fields: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError):
        ReputationPolicy(**fields)


def test_naive_and_aware_times_are_not_mixed() -> None:
    with pytest.raises(InvalidInputError):
        reputation(_outcomes(Verdict.CONFIRMED, 1), now=NOW.replace(tzinfo=None))


def test_only_abuse_verdicts_are_abusive() -> None:
    assert [v.value for v in Verdict if v.abusive] == [
        "reused_image",
        "fabricated_metadata",
        "spam",
    ]


def test_priority_is_the_reputation_less_a_share_for_each_finding() -> None:
    rep = Reputation(alpha=11, beta=2, reports=10, abusive=0)
    assert priority(rep, []) == pytest.approx(11 / 13)
    assert priority(rep, [_finding(Severity.LOW)]) == pytest.approx(11 / 13 * 0.9)
    assert priority(rep, [_finding(Severity.MEDIUM)]) == pytest.approx(11 / 13 * 0.7)
    both = [_finding(Severity.HIGH), _finding(Severity.LOW)]
    assert priority(rep, both) == pytest.approx(11 / 13 * 0.4 * 0.9)


def test_the_queue_puts_proven_clean_reports_first_and_abusers_last() -> None:
    proven = reputation(_outcomes(Verdict.CONFIRMED, 10, days_ago=20), now=NOW)
    new = reputation([], now=NOW)
    abuser = reputation(_outcomes(Verdict.REUSED_IMAGE, 2, days_ago=10), now=NOW)
    queue = {
        "proven, no location": priority(proven, [_finding(Severity.LOW)]),
        "new, clean": priority(new, []),
        "new, edited": priority(new, [_finding(Severity.MEDIUM)]),
        "abuser, clean": priority(abuser, []),
    }
    order = sorted(queue, key=queue.__getitem__, reverse=True)
    assert order == [
        "proven, no location",
        "new, clean",
        "new, edited",
        "abuser, clean",
    ]
    assert all(0 < p < 1 for p in queue.values())
    # A serious finding sinks even a proven reporter's report to about a newcomer's level.
    assert priority(proven, [_finding(Severity.HIGH)]) < queue["proven, no location"] / 2


def test_the_examples_run() -> None:
    result = doctest.testmod(reputation_module)
    assert result.attempted > 0 and result.failed == 0
