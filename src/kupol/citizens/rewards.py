"""Rewards to citizens for reports an officer confirmed: a share of the fine actually
collected, within a cap per reward and a cap per citizen per calendar month.

The share, caps, minimum payout and qualifying offences are dated data
(``reference/kz-citizen-rewards.toml``, or a deployment's own copy), never constants in code.
Money is whole tenge (``int``) throughout; a share is rounded down, never up.

Example:
    >>> from datetime import date
    >>> rules = load_reward_rules()
    >>> decision = rules.reward_for(
    ...     offence="red_light", collected_tenge=43_250, paid_on=date(2026, 4, 2),
    ...     already_this_month_tenge=0,
    ... )
    >>> decision.qualifies, decision.amount_tenge, decision.capped_by
    (True, 4325, None)
    >>> rules.reward_for(
    ...     offence="red_light", collected_tenge=43_250, paid_on=date(2026, 2, 27),
    ...     already_this_month_tenge=0,
    ... ).reason.value
    'no_rules_in_force'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kupol.core.errors import InvalidInputError
from kupol.core.reference import load_rules

DEFAULT_RULES = Path(__file__).with_name("reference") / "kz-citizen-rewards.toml"


class Cap(StrEnum):
    """A limit that lowered a reward."""

    PER_REWARD = "per_reward"
    MONTH = "month"


class NoReward(StrEnum):
    """Why a confirmed report earns nothing (a stable code clients may translate)."""

    NO_RULES_IN_FORCE = "no_rules_in_force"
    OFFENCE_NOT_QUALIFYING = "offence_not_qualifying"
    NOTHING_COLLECTED = "nothing_collected"
    MONTH_CAP_REACHED = "month_cap_reached"


@dataclass(frozen=True, kw_only=True)
class RewardDecision:
    """What one confirmed report earns, and why.

    ``amount_tenge`` is zero exactly when ``qualifies`` is false; then ``reason`` says why.
    ``capped_by`` names the limit that set the amount (the tighter one when both bind).
    """

    qualifies: bool
    amount_tenge: int
    uncapped_tenge: int
    capped_by: Cap | None
    reason: NoReward | None
    source: str | None
    period_from: date | None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RewardPeriod(_Frozen):
    """The reward rules in force from ``start`` until the next period starts."""

    start: date = Field(alias="from", description="First day (of the fine's payment) it applies.")
    source: str = Field(min_length=1, description="The law or rules that set it.")
    share_percent: Decimal = Field(gt=0, le=100, description="Percent of the fine collected.")
    per_reward_cap_tenge: int = Field(gt=0, description="Most one report may earn.")
    month_cap_tenge: int = Field(gt=0, description="Most one citizen may earn in a month.")
    minimum_payout_tenge: int = Field(gt=0, description="Smallest balance that is paid out.")
    offences: tuple[str, ...] = Field(description="Qualifying offences; `prefix_*` patterns.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.per_reward_cap_tenge > self.month_cap_tenge:
            raise ValueError("per_reward_cap_tenge cannot be above month_cap_tenge")
        for name in self.offences:
            if not name or "*" in name[:-1] or name == "*":
                raise ValueError(f"offence {name!r}: a name, or a prefix followed by one '*'")
        if len(set(self.offences)) != len(self.offences):
            raise ValueError("each offence may be listed once")
        return self

    def covers(self, offence: str) -> bool:
        """Whether ``offence`` qualifies in this period (exactly, or by a ``prefix_*`` pattern)."""
        return any(
            offence.startswith(name[:-1]) if name.endswith("*") else offence == name
            for name in self.offences
        )


class RewardRules(_Frozen):
    """Reward periods, oldest first."""

    period: tuple[RewardPeriod, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        starts = [p.start for p in self.period]
        if starts != sorted(set(starts)):
            raise ValueError("periods must be listed oldest first, one per start date")
        return self

    def period_on(self, day: date) -> RewardPeriod | None:
        """The period in force on ``day``, or ``None`` before the first one."""
        known = [p for p in self.period if p.start <= day]
        return known[-1] if known else None

    def reward_for(
        self,
        *,
        offence: str,
        collected_tenge: int,
        paid_on: date,
        already_this_month_tenge: int,
    ) -> RewardDecision:
        """The reward for a confirmed report whose fine was paid.

        Args:
            offence: kupol's offence name (``red_light``, ``scooter_speeding`` …).
            collected_tenge: What was actually collected (after any early-payment discount).
            paid_on: The day the fine was paid; it picks the period.
            already_this_month_tenge: What the citizen has already been awarded for the
                calendar month this reward falls in (net of reversals).

        Returns:
            The amount (rounded down to whole tenge) and the cap that lowered it, or a
            decision that does not qualify with its reason.

        Raises:
            InvalidInputError: An amount is negative.
        """
        if collected_tenge < 0 or already_this_month_tenge < 0:
            raise InvalidInputError("amounts cannot be negative")
        period = self.period_on(paid_on)
        if period is None:
            return _nothing(NoReward.NO_RULES_IN_FORCE, None)
        if not period.covers(offence):
            return _nothing(NoReward.OFFENCE_NOT_QUALIFYING, period)
        if collected_tenge == 0:
            return _nothing(NoReward.NOTHING_COLLECTED, period)
        uncapped = int(
            (collected_tenge * period.share_percent / 100).to_integral_value(ROUND_FLOOR)
        )
        if uncapped == 0:
            return _nothing(NoReward.NOTHING_COLLECTED, period)
        month_left = max(0, period.month_cap_tenge - already_this_month_tenge)
        amount, capped_by = uncapped, None
        if period.per_reward_cap_tenge < amount:
            amount, capped_by = period.per_reward_cap_tenge, Cap.PER_REWARD
        if month_left < amount:
            amount, capped_by = month_left, Cap.MONTH
        if amount == 0:
            return _nothing(NoReward.MONTH_CAP_REACHED, period, uncapped, Cap.MONTH)
        return RewardDecision(
            qualifies=True,
            amount_tenge=amount,
            uncapped_tenge=uncapped,
            capped_by=capped_by,
            reason=None,
            source=period.source,
            period_from=period.start,
        )

    def minimum_payout_on(self, day: date) -> int:
        """The smallest balance paid out on ``day``.

        Raises:
            InvalidInputError: No rules are in force on ``day``.
        """
        period = self.period_on(day)
        if period is None:
            raise InvalidInputError(f"no reward rules are in force on {day.isoformat()}")
        return period.minimum_payout_tenge


def _nothing(
    reason: NoReward, period: RewardPeriod | None, uncapped: int = 0, cap: Cap | None = None
) -> RewardDecision:
    return RewardDecision(
        qualifies=False,
        amount_tenge=0,
        uncapped_tenge=uncapped,
        capped_by=cap,
        reason=reason,
        source=period.source if period else None,
        period_from=period.start if period else None,
    )


def load_reward_rules(path: Path | None = None) -> RewardRules:
    """The reward rules from ``path`` (TOML), or the ones kupol ships.

    Raises:
        ConfigError: The file is missing, is not TOML, or does not describe valid rules; the
            message names the file and every problem.
    """
    return load_rules(path or DEFAULT_RULES, RewardRules, "reward rules")
