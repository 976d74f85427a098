"""Citizens' rewards: a share of the fine collected, the per-reward and monthly caps, offences
that do not qualify, rules by the date the fine was paid, and rule files that are refused."""

from __future__ import annotations

import doctest
from datetime import date
from pathlib import Path

import pytest

from kupol.citizens import rewards
from kupol.citizens.ledger import Ledger
from kupol.citizens.rewards import DEFAULT_RULES, Cap, NoReward, load_reward_rules
from kupol.core.errors import ConfigError, InvalidInputError

RULES = load_reward_rules()
APRIL = date(2026, 4, 2)

PERIOD = """
[[period]]
from = {start}
source = "test rules"
share_percent = {share}
per_reward_cap_tenge = 20_000
month_cap_tenge = 100_000
minimum_payout_tenge = 1_000
offences = ["red_light", "scooter_*"]
"""


def reward(
    offence: str = "red_light", collected: int = 43_250, paid_on: date = APRIL, already: int = 0
) -> rewards.RewardDecision:
    return RULES.reward_for(
        offence=offence,
        collected_tenge=collected,
        paid_on=paid_on,
        already_this_month_tenge=already,
    )


def test_the_examples_in_the_docstring_run() -> None:
    result = doctest.testmod(rewards, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_a_reward_is_ten_percent_of_the_fine_collected_with_the_rules_source() -> None:
    decision = reward(collected=43_250)
    assert (decision.qualifies, decision.amount_tenge, decision.uncapped_tenge) == (
        True,
        4_325,
        4_325,
    )
    assert decision.capped_by is None and decision.reason is None
    assert decision.period_from == date(2026, 3, 1)
    assert decision.source is not None and "профилактике правонарушений" in decision.source


def test_the_share_is_of_what_was_collected_and_is_rounded_down() -> None:
    # A 43,250 ₸ fine paid within the early-payment discount: 21,625 ₸ collected.
    assert reward(collected=21_625).amount_tenge == 2_162
    assert reward(collected=19).amount_tenge == 1
    assert isinstance(reward(collected=21_625).amount_tenge, int)


def test_one_reward_is_capped_per_report() -> None:
    decision = reward(offence="speeding", collected=250_000)
    assert (decision.amount_tenge, decision.uncapped_tenge) == (20_000, 25_000)
    assert decision.capped_by is Cap.PER_REWARD


def test_the_monthly_cap_spans_several_rewards_of_one_citizen() -> None:
    ledger = Ledger()
    amounts = []
    for n in range(8):
        already = ledger.accrued_in_month(citizen="c1", month=APRIL)
        decision = reward(offence="speeding", collected=173_000, already=already)
        amounts.append((decision.amount_tenge, decision.capped_by, decision.reason))
        if decision.qualifies:
            ledger.accrue(
                report_id=f"r{n}", citizen="c1", amount_tenge=decision.amount_tenge, on=APRIL
            )
    assert amounts[:5] == [(17_300, None, None)] * 5
    assert amounts[5] == (13_500, Cap.MONTH, None)  # 100,000 − 5 × 17,300
    assert amounts[6:] == [(0, Cap.MONTH, NoReward.MONTH_CAP_REACHED)] * 2
    assert ledger.accrued_in_month(citizen="c1", month=APRIL) == 100_000
    # Another citizen, and the next month, start from nothing.
    assert ledger.accrued_in_month(citizen="c2", month=APRIL) == 0
    assert ledger.accrued_in_month(citizen="c1", month=date(2026, 5, 1)) == 0


def test_a_reversed_reward_no_longer_counts_towards_the_month() -> None:
    ledger = Ledger()
    ledger.accrue(report_id="r1", citizen="c1", amount_tenge=17_300, on=APRIL)
    ledger.accrue(report_id="r2", citizen="c1", amount_tenge=4_325, on=APRIL)
    ledger.reverse(report_id="r1", reason="appeal upheld", on=APRIL)
    assert ledger.accrued_in_month(citizen="c1", month=date(2026, 4, 30)) == 4_325


def test_the_tighter_cap_is_named_when_both_bind() -> None:
    assert reward(collected=500_000, already=95_000).capped_by is Cap.MONTH
    assert reward(collected=500_000, already=80_000).capped_by is Cap.PER_REWARD


@pytest.mark.parametrize(
    ("offence", "qualifies"),
    [
        ("red_light", True),
        ("speeding", True),
        ("failing_to_yield_to_pedestrian", True),
        ("scooter_speeding", True),
        ("scooter_passenger", True),
        ("scooter", False),  # the pattern is "scooter_*"
        ("parking", False),
        ("", False),
    ],
)
def test_only_the_listed_offences_qualify(offence: str, qualifies: bool) -> None:
    decision = reward(offence=offence)
    assert decision.qualifies is qualifies
    if not qualifies:
        assert (decision.amount_tenge, decision.reason) == (0, NoReward.OFFENCE_NOT_QUALIFYING)
        assert decision.source is not None


def test_a_fine_paid_before_the_rules_started_earns_nothing() -> None:
    before = reward(paid_on=date(2026, 2, 28))
    assert (before.qualifies, before.amount_tenge, before.reason) == (
        False,
        0,
        NoReward.NO_RULES_IN_FORCE,
    )
    assert before.source is None
    assert reward(paid_on=date(2026, 3, 1)).amount_tenge == 4_325


def test_the_period_is_chosen_by_the_day_the_fine_was_paid(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        PERIOD.format(start="2026-03-01", share=10) + PERIOD.format(start="2027-01-01", share=5),
        encoding="utf-8",
    )
    rules = load_reward_rules(path)

    def on(day: date) -> int:
        return rules.reward_for(
            offence="red_light", collected_tenge=43_250, paid_on=day, already_this_month_tenge=0
        ).amount_tenge

    assert [on(date(2026, 12, 31)), on(date(2027, 1, 1)), on(date(2030, 1, 1))] == [
        4_325,
        2_162,
        2_162,
    ]
    assert rules.minimum_payout_on(date(2027, 6, 1)) == 1_000
    with pytest.raises(InvalidInputError):
        rules.minimum_payout_on(date(2026, 1, 1))


def test_a_fractional_share_is_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(PERIOD.format(start="2026-03-01", share=7.5), encoding="utf-8")
    decision = load_reward_rules(path).reward_for(
        offence="red_light", collected_tenge=43_250, paid_on=APRIL, already_this_month_tenge=0
    )
    assert decision.amount_tenge == 3_243  # 3,243.75 rounded down


def test_nothing_collected_earns_nothing_and_negative_amounts_are_refused() -> None:
    assert reward(collected=0).reason is NoReward.NOTHING_COLLECTED
    assert reward(collected=9).reason is NoReward.NOTHING_COLLECTED  # 0.9 ₸ rounds to 0
    with pytest.raises(InvalidInputError):
        reward(collected=-1)
    with pytest.raises(InvalidInputError):
        reward(already=-1)


def test_the_shipped_rules_warn_that_they_must_be_checked() -> None:
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    assert "MUST BE CHECKED" in text
    assert RULES.period_on(APRIL) is not None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("period = [", "not valid TOML"),
        ("", "period"),
        (PERIOD.format(start="2026-03-01", share=0), "share_percent"),
        (PERIOD.format(start="2026-03-01", share=101), "share_percent"),
        (
            PERIOD.format(start="2027-01-01", share=10)
            + PERIOD.format(start="2026-01-01", share=5),
            "oldest first",
        ),
        (PERIOD.format(start="2026-03-01", share=10).replace("20_000", "200_000"), "per_reward"),
        (PERIOD.format(start="2026-03-01", share=10).replace("scooter_*", "sc*oter"), "sc*oter"),
        (PERIOD.format(start="2026-03-01", share=10).replace('"red_light"', '"*"'), "'*'"),
        (PERIOD.format(start="2026-03-01", share=10) + "bonus = 1\n", "bonus"),
        (PERIOD.format(start="2026-03-01", share=10).replace("1_000", "0"), "minimum_payout"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_file_and_the_problem(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_reward_rules(path)
    assert str(path) in str(error.value)
    assert problem in str(error.value)


def test_a_missing_rules_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="reward rules"):
        load_reward_rules(tmp_path / "absent.toml")
