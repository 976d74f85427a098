"""A reporter's reputation from the outcomes of their past reports, and the priority that
orders the officers' queue.

The reputation is a Beta posterior over the chance that the reporter's next report is
confirmed. Each decided report adds its decayed weight to one side:

    α = prior_confirmed + Σ_confirmed  w(age)
    β = prior_rejected  + Σ_rejected   w(age) + abuse_weight · Σ_abusive w_abuse(age)
    w(age) = 2 ** (-age / half_life),  w_abuse(age) = 2 ** (-age / abuse_half_life)
    reputation = α / (α + β)                           (the posterior mean)

A new reporter has only the prior (by default Beta(1, 2), mean 1/3), so their reports weigh
less than a proven reporter's (ten recent confirmations: 11/13 ≈ 0.85). An honest mistake
(rejected) costs one report; an abusive one (a re-used image, fabricated metadata, spam)
costs ``abuse_weight`` reports and is forgotten more slowly. Old outcomes fade: after one
half-life an outcome counts half, so a reformed reporter recovers and a dormant account's
record cannot be traded on for ever.

:func:`priority` scales the reputation by the findings against the report:

    priority = reputation × Π_findings (1 − penalty[severity])
    penalty: low 0.1, medium 0.3, high 0.6

A higher priority is reviewed first: likely-genuine reports reach the officers before the
fine's deadline, and suspicious ones sink to where a fraud review can take them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from kupol.citizens.consistency import Finding, Severity
from kupol.core.errors import InvalidInputError

PENALTIES: Mapping[Severity, float] = MappingProxyType(
    {Severity.LOW: 0.1, Severity.MEDIUM: 0.3, Severity.HIGH: 0.6}
)
"""The share of priority each finding of a severity takes away."""


class Verdict(StrEnum):
    """How an officer decided a report."""

    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    """Not a violation, or not provable: an honest mistake."""
    REUSED_IMAGE = "reused_image"
    """Abusive: the picture was sent before, or taken from elsewhere."""
    FABRICATED_METADATA = "fabricated_metadata"
    """Abusive: the time or place was falsified."""
    SPAM = "spam"
    """Abusive: junk sent in bulk."""

    @property
    def abusive(self) -> bool:
        """Whether the verdict found the report abusive, not merely wrong."""
        return self not in {Verdict.CONFIRMED, Verdict.REJECTED}


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """One decided report of the reporter."""

    decided_at: datetime
    verdict: Verdict


@dataclass(frozen=True, kw_only=True)
class ReputationPolicy:
    """The prior, the decay and the weight of abuse (see the module for the formula)."""

    prior_confirmed: float = 1.0
    prior_rejected: float = 2.0
    half_life_days: float = 180.0
    abuse_half_life_days: float = 365.0
    abuse_weight: float = 5.0
    """How many honest rejections one abusive report counts as."""

    def __post_init__(self) -> None:
        if min(self.prior_confirmed, self.prior_rejected) <= 0:
            raise InvalidInputError("the prior's counts must be positive")
        if min(self.half_life_days, self.abuse_half_life_days) <= 0 or self.abuse_weight < 0:
            raise InvalidInputError("half-lives must be positive and abuse_weight not negative")


@dataclass(frozen=True, kw_only=True)
class Reputation:
    """A reporter's Beta(α, β) posterior of having the next report confirmed."""

    alpha: float
    beta: float
    reports: int
    """Decided reports counted (before decay)."""
    abusive: int
    """Of them, found abusive."""

    @property
    def mean(self) -> float:
        """The posterior mean, α / (α + β): the reputation as one number in (0, 1)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        """The posterior's standard deviation: how unsure the reputation still is."""
        total = self.alpha + self.beta
        return math.sqrt(self.alpha * self.beta / (total * total * (total + 1)))


def reputation(
    outcomes: Iterable[Outcome], *, now: datetime, policy: ReputationPolicy | None = None
) -> Reputation:
    """The reporter's reputation at ``now`` from their decided reports.

    An outcome dated after ``now`` counts as fresh (age 0).

    Example:
        >>> from datetime import UTC, timedelta
        >>> now = datetime(2026, 3, 12, tzinfo=UTC)
        >>> round(reputation([], now=now).mean, 3)
        0.333
        >>> done = [Outcome(decided_at=now, verdict=Verdict.CONFIRMED)] * 10
        >>> round(reputation(done, now=now).mean, 3)
        0.846
        >>> old = [Outcome(decided_at=now - timedelta(days=180), verdict=Verdict.CONFIRMED)] * 10
        >>> round(reputation(old, now=now).mean, 3)
        0.75
    """
    policy = policy or ReputationPolicy()
    alpha, beta, reports, abusive = policy.prior_confirmed, policy.prior_rejected, 0, 0
    for outcome in outcomes:
        if (outcome.decided_at.tzinfo is None) != (now.tzinfo is None):
            raise InvalidInputError("outcome times and now must be both aware or both naive")
        age_days = max(0.0, (now - outcome.decided_at).total_seconds() / 86400)
        reports += 1
        if outcome.verdict is Verdict.CONFIRMED:
            alpha += 0.5 ** (age_days / policy.half_life_days)
        elif outcome.verdict is Verdict.REJECTED:
            beta += 0.5 ** (age_days / policy.half_life_days)
        else:
            abusive += 1
            beta += policy.abuse_weight * 0.5 ** (age_days / policy.abuse_half_life_days)
    return Reputation(alpha=alpha, beta=beta, reports=reports, abusive=abusive)


def priority(reputation: Reputation, findings: Iterable[Finding]) -> float:
    """The report's place in the officers' queue, in (0, 1): higher is reviewed first.

    Example:
        >>> from kupol.citizens.consistency import FindingCode
        >>> known = Reputation(alpha=11, beta=2, reports=10, abusive=0)
        >>> far = Finding(code=FindingCode.FAR_FROM_CLAIMED_PLACE, severity=Severity.HIGH,
        ...               reason="2.1 km from the claimed place")
        >>> round(priority(known, []), 3), round(priority(known, [far]), 3)
        (0.846, 0.338)
    """
    score = reputation.mean
    for finding in findings:
        score *= 1 - PENALTIES[finding.severity]
    return score
