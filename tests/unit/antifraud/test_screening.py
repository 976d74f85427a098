"""Call screening: numbers placed in Kazakhstan's numbering, each rule on calls built for it,
CDR files read row by row, and a simulated day screened with its truth."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kupol.antifraud.cdr import read_cdr, read_ported
from kupol.antifraud.cdr_sim import simulate_day, write_cdr, write_ported
from kupol.antifraud.numbers import NumberKind, load_numbering
from kupol.antifraud.screening import (
    KEPT,
    SIGNALS,
    CallAttempt,
    CallScreen,
    ListEntry,
    ScreenSettings,
    Verdict,
    _Recent,
)
from kupol.antifraud.screening_eval import screen_file
from kupol.core.errors import InvalidInputError

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 11:00 in Kazakhstan
ALICE = "+77011234567"


def call(
    n: int = 0, caller: str = ALICE, called: str = "+77051112233", **fields: object
) -> CallAttempt:
    at = fields.pop("at", T0 + timedelta(seconds=n))
    return CallAttempt(call_id=f"c{n}", at=at, caller=caller, called=called, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "kind", "e164", "operator"),
    [
        ("8 (701) 123-45-67", NumberKind.KZ_MOBILE, "+77011234567", "Kcell"),
        ("+7 777 000 11 22", NumberKind.KZ_MOBILE, "+77770001122", "Beeline"),
        ("7172 55 66 77", NumberKind.KZ_GEOGRAPHIC, "+77172556677", None),
        ("8 7213 44 55 66", NumberKind.KZ_GEOGRAPHIC, "+77213445566", None),  # Temirtau
        ("+7 71431 5 12 34", NumberKind.KZ_GEOGRAPHIC, "+77143151234", None),  # Rudny
        ("+7 72934 3 12 34", NumberKind.KZ_GEOGRAPHIC, "+77293431234", None),  # Zhanaozen
        ("+7 799 123 45 67", NumberKind.KZ_UNALLOCATED, "+77991234567", None),
        ("+7 495 123 45 67", NumberKind.RU, "+74951234567", None),
        ("00 44 20 7946 0958", NumberKind.INTERNATIONAL, "+442079460958", None),
        ("+7 701 123", NumberKind.INVALID, "+7701123", None),
        ("call me", NumberKind.INVALID, "call me", None),
    ],
)
def test_numbers_are_normalised_and_placed(
    raw: str, kind: NumberKind, e164: str, operator: str | None
) -> None:
    number = load_numbering().classify(raw)
    assert (number.kind, number.e164, number.operator) == (kind, e164, operator)


def test_broken_forged_and_listed_numbers_are_blocked_at_once() -> None:
    screen = CallScreen()
    assert screen.screen(call(1, caller="+7 799 000 00 00")).reasons == ("unallocated_number",)
    assert screen.screen(call(2, caller="12")).verdict is Verdict.BLOCK
    spoofed = screen.screen(call(3, caller="+77011112233", international=True))
    assert (spoofed.verdict, spoofed.reasons) == (Verdict.BLOCK, ("domestic_on_international",))
    # The operator's own subscriber roaming abroad is no spoof.
    roaming = screen.screen(call(4, caller="+77011112233", international=True, roaming=True))
    assert roaming.verdict is Verdict.ALLOW
    # The callee's own number from a gateway (no SIM behind it) is a spoof.
    own = screen.screen(call(5, caller="+77051112233", called="+77051112233"))
    assert (own.verdict, own.reasons) == (Verdict.BLOCK, ("callee_own_number",))
    # A subscriber calling their own number from their SIM checks their voicemail.
    voicemail = call(6, caller="+77051112233", called="+77051112233", imsi="401010000000001")
    assert screen.screen(voicemail).verdict is Verdict.ALLOW
    screen.block_list["+77021234567"] = ListEntry(number="+77021234567", source="case 118")
    assert screen.screen(call(7, caller="8 702 123 45 67")).reasons == ("block_list",)
    expired = ListEntry(number=ALICE, source="old", expires_at=T0.timestamp() - 1)
    screen.block_list[ALICE] = expired
    assert screen.screen(call(8)).verdict is Verdict.ALLOW


def test_a_number_presented_by_another_network_warns_unless_it_was_ported() -> None:
    screen = CallScreen()
    assert screen.screen(call(1, network="Beeline")).reasons == ("network_mismatch",)
    assert screen.screen(call(2, network="Kcell")).verdict is Verdict.ALLOW
    assert screen.screen(call(4, network="KCELL")).verdict is Verdict.ALLOW  # as switches write
    screen.ported[ALICE] = "Beeline"
    assert screen.screen(call(3, network="Beeline")).verdict is Verdict.ALLOW


def test_fan_out_warns_and_then_blocks_and_the_allow_list_vouches_for_behaviour() -> None:
    screen = CallScreen()
    verdicts = [screen.screen(call(i * 10, called=f"+7705000{i:04d}")) for i in range(30)]
    assert [v.verdict for v in verdicts[:9]] == [Verdict.ALLOW] * 9
    assert verdicts[9].reasons == ("fan_out",) and verdicts[9].verdict is Verdict.WARN
    assert "fan_out_heavy" in verdicts[24].reasons and verdicts[24].verdict is Verdict.BLOCK
    # Caught, the caller stays on the block list for a day, though its fan-out is over.
    later = screen.screen(call(2000, called="+77050009999"))
    assert later.reasons == ("block_list", "outgoing_only")
    assert screen.block_list[ALICE].source.startswith("auto: fan_out_heavy")
    next_day = screen.screen(call(2000 + 86_400, called="+77050009999"))
    assert "block_list" not in next_day.reasons
    listed = CallScreen()
    listed.allow_list[ALICE] = ListEntry(number=ALICE, source="Halyk call centre, contract 7")
    assert all(
        listed.screen(call(i, called=f"+7705000{i:04d}")).verdict is Verdict.ALLOW
        for i in range(30)
    )
    # …but not for a forged number.
    assert listed.screen(call(40, international=True)).verdict is Verdict.BLOCK


def test_a_campaign_spoofing_a_subscriber_from_abroad_does_not_block_the_subscriber() -> None:
    screen = CallScreen()
    forged = [
        screen.screen(call(i, called=f"+7705000{i:04d}", international=True)) for i in range(30)
    ]
    assert all(v.verdict is Verdict.BLOCK for v in forged)
    assert "domestic_on_international" in forged[-1].reasons
    assert "fan_out_heavy" in forged[-1].reasons  # the campaign's own fan-out is still seen
    assert ALICE not in screen.block_list  # the owner did not make those calls
    own = screen.screen(call(40, called="+77050009999"))
    assert own.verdict is Verdict.ALLOW and own.reasons == ()
    # Outcomes of the forged calls are counted with them, not with the owner's calls.
    for i in range(30):
        screen.outcome(call(i, international=True), answered=False, duration_s=0.0)
    assert screen.screen(call(41, called="+77050009998")).reasons == ()


def test_a_caller_ringing_strangers_who_hang_up_is_a_call_centre() -> None:
    screen = CallScreen()
    verdicts = []
    for i in range(20):
        attempt = call(i * 30, called=f"+7705100{i:04d}")
        verdicts.append(screen.screen(attempt))
        screen.outcome(attempt, answered=i % 5 == 0, duration_s=3.0)
    assert verdicts[7].verdict is Verdict.ALLOW
    first = next(i for i, v in enumerate(verdicts) if v.verdict is Verdict.BLOCK)
    assert "call_centre" in verdicts[first].reasons
    assert all(v.verdict is Verdict.BLOCK for v in verdicts[first:])


def test_one_ring_calls_from_abroad_to_many_numbers_are_wangiri() -> None:
    screen = CallScreen()
    verdicts = []
    for i in range(12):
        attempt = call(i * 60, caller="+88212345678", called=f"+7701200{i:04d}", international=True)
        verdicts.append(screen.screen(attempt))
        screen.outcome(attempt, answered=False, duration_s=2.0)
    assert verdicts[8].reasons == ("short_calls", "wangiri")
    assert verdicts[8].verdict is Verdict.BLOCK


def test_many_sims_through_one_handset_and_consecutive_imsis_in_a_cell_are_a_sim_box() -> None:
    screen = CallScreen()
    verdicts = [
        screen.screen(
            call(i, caller=f"+7701300{i:04d}", imsi=f"40102000000{100 + i}", imei="35000000000001")
        )
        for i in range(4)
    ]
    assert [v.verdict for v in verdicts] == [Verdict.ALLOW] * 3 + [Verdict.BLOCK]
    assert verdicts[3].reasons == ("simbox_imei",)
    cell = CallScreen()
    rows = [
        cell.screen(call(i, caller=f"+7701400{i:04d}", imsi=f"4010200000{5000 + 3 * i}", cell="C7"))
        for i in range(3)
    ]
    assert rows[2].reasons == ("sequential_imsi",)


def test_a_busy_cells_hour_is_counted_as_a_scan_of_it_would_count_it() -> None:
    """Neighbouring IMSIs, callees and a handset's SIMs are counted from running tallies (a
    busy cell holds an hour of calls): the signals equal a plain count over the window, with
    the gap looked up one IMSI at a time or read off the window, and as calls leave it."""
    import random

    from kupol.antifraud.screening import ScreenSettings

    rng = random.Random(5)
    calls = [
        call(i, caller=f"+7701{rng.randrange(300):07d}", called=f"+7705{rng.randrange(50):07d}",
             imsi=str(401020000000000 + rng.randrange(2000)), cell=f"C{rng.randrange(3)}",
             imei=f"3500000000{rng.randrange(40):04d}", at=T0 + timedelta(seconds=2 * i))
        for i in range(4000)
    ]  # fmt: skip
    settings = {"sequence_window": 900.0, "fan_out_window": 300.0, "imei_window": 1200.0}
    narrow = CallScreen(ScreenSettings(sequence_gap=20, auto_block_hours=0, **settings))
    wide = CallScreen(ScreenSettings(sequence_gap=5000, auto_block_hours=0, **settings))
    history: list[CallAttempt] = []
    for attempt in calls:
        now = attempt.at.timestamp()
        window = [c for c in history if c.at.timestamp() >= now - 900 and c.cell == attempt.cell]
        imsi = int(attempt.imsi or 0)
        others = {int(c.imsi or 0) for c in window} - {imsi}
        expected = len({i for i in others if abs(i - imsi) <= 20})
        callees = {c.called for c in history
                   if c.caller == attempt.caller and c.at.timestamp() >= now - 300}  # fmt: skip
        sims = {
            c.imsi for c in history if c.imei == attempt.imei and c.at.timestamp() >= now - 1200
        }
        first, second = narrow.screen(attempt), wide.screen(attempt)
        assert first.signals[11] == float(expected)
        assert second.signals[11] == float(len({i for i in others if abs(i - imsi) <= 5000}))
        assert first.signals[4] == second.signals[4] == float(len(callees | {attempt.called}))
        assert first.signals[10] == second.signals[10] == float(len(sims | {attempt.imsi}))
        history.append(attempt)


def test_night_bursts_and_outgoing_only_sims_warn() -> None:
    screen = CallScreen()
    night = T0.replace(hour=20)  # 01:00 in Kazakhstan
    verdicts = [
        screen.screen(call(i, at=night + timedelta(minutes=i), called=f"+77776{i:06d}"))
        for i in range(10)
    ]
    assert "night_burst" in verdicts[-1].reasons
    quiet = CallScreen()
    calls = [
        quiet.screen(call(i, caller="+77075550000", at=T0 + timedelta(minutes=20 * i)))
        for i in range(30)
    ]
    assert calls[-1].reasons == ("outgoing_only",) and calls[-1].verdict is Verdict.WARN
    answered = CallScreen()
    answered.screen(call(0, caller="+77051112233", called="+77075550000"))  # a call in
    calls = [
        answered.screen(call(i, caller="+77075550000", at=T0 + timedelta(minutes=20 * i)))
        for i in range(1, 31)
    ]
    assert "outgoing_only" not in calls[-1].reasons


HEADER = (
    "call_id,at,caller,called,international,network,roaming,imsi,imei,cell,answered,duration_s\n"
)


def test_a_bad_cdr_row_is_refused_with_its_line_and_the_rest_screened(tmp_path: Path) -> None:
    path = tmp_path / "cdr.csv"
    path.write_text(
        HEADER
        + "a,2026-12-01T10:00:00+05:00,+77011234567,+77051112233,0,Kcell,0,,,,1,30\n"
        + "b,yesterday,+77011234567,+77051112233,0,,0,,,,1,30\n"
        + "c,2026-12-01T10:00:00,+77011234567,+77051112233,0,,0,,,,1,30\n"
        + "d,2026-12-01T10:01:00+05:00,+77011234567,+77051112233,2,,0,,,,1,30\n"
        + "e,2026-12-01T10:01:00+05:00,+77011234567,,0,,0,,,,1,30\n"
        + "f,2026-12-01T10:01:00+05:00,+77011234567,+77051112233,0,,0,,,,1,-4\n"
        + "a,2026-12-01T10:02:00+05:00,+77011234567,+77051112233,0,,0,,,,1,30\n"
        + "g,2026-12-01T09:59:00+05:00,+77011234567,+77051112233,0,,0,,,,,\n",
        encoding="utf-8",
    )
    cdr = read_cdr(path)
    assert [r.attempt.call_id for r in cdr.rows] == ["g", "a"]  # time order
    assert [line for line, _ in cdr.rejects] == [3, 4, 5, 6, 7, 8]
    reasons = dict(cdr.rejects)
    assert "ISO 8601" in reasons[3] and "UTC offset" in reasons[4] and "0 or 1" in reasons[5]
    assert (
        "caller and called" in reasons[6] and "duration" in reasons[7] and "repeats" in reasons[8]
    )
    figures = screen_file(path)
    assert figures["calls"] == 2 and figures["rejected_rows"] == 6
    with pytest.raises(InvalidInputError, match="missing column"):
        (tmp_path / "x.csv").write_text("a,b\n1,2\n")
        read_cdr(tmp_path / "x.csv")


def test_a_small_simulated_day_is_screened_with_its_truth(tmp_path: Path) -> None:
    day = simulate_day(7, subscribers=3000)
    assert {c.truth for c in day.calls} == {"legit", "call_centre", "simbox", "wangiri", "spoofed"}
    write_cdr(day.calls, tmp_path / "day.csv")
    write_ported(day.ported, tmp_path / "ported.csv")
    figures = screen_file(tmp_path / "day.csv", ported=read_ported(tmp_path / "ported.csv"))
    truth = figures["by_truth"]
    assert truth["legit"]["blocked"] == 0.0
    for kind in ("call_centre", "simbox", "wangiri", "spoofed"):
        assert truth[kind]["callers_caught"] == truth[kind]["callers"], (kind, truth[kind])
        assert truth[kind]["blocked"] >= 0.8, (kind, truth[kind])
    # The same seed gives the same day.
    again = simulate_day(7, subscribers=3000)
    assert [c.attempt for c in again.calls[:50]] == [c.attempt for c in day.calls[:50]]


def test_numbers_handsets_and_cells_long_quiet_are_forgotten_and_judged_the_same() -> None:
    """The screen forgets a number, a handset or a cell once its windows have emptied (its
    memory no longer grows for as long as it runs): over two simulated days with the windows
    cut to minutes it keeps a fraction of what it saw, and every verdict, reason and signal is
    the one a screen that forgets nothing gives (but the night count, which the old night
    list kept from an earlier night until the next night call)."""
    short = ScreenSettings(
        fan_out_window=120, short_window=300, wangiri_window=300, night_window=300,
        imei_window=600, sequence_window=300, outgoing_window=600,
    )  # fmt: skip
    forgetting, keeping = CallScreen(short), CallScreen(short)
    for kept in (keeping._callers, keeping._imei, keeping._cell_imsis, keeping._incoming):
        kept._horizon = float("inf")
    night = SIGNALS.index("night_calls_1h")
    first, second = simulate_day(7, subscribers=3000), simulate_day(8, subscribers=3000)
    later = timedelta(days=1) + (first.calls[0].attempt.at - second.calls[0].attempt.at)
    days = [c for c in first.calls] + [
        dataclasses.replace(c, attempt=dataclasses.replace(c.attempt, at=c.attempt.at + later))
        for c in second.calls
    ]
    for c in days:
        forgot, kept = forgetting.screen(c.attempt), keeping.screen(c.attempt)
        assert (forgot.verdict, forgot.reasons) == (kept.verdict, kept.reasons), c.attempt
        assert [v for i, v in enumerate(forgot.signals) if i != night] == [
            v for i, v in enumerate(kept.signals) if i != night
        ], c.attempt
        if kept.verdict is not Verdict.BLOCK:
            for screen in (forgetting, keeping):
                screen.outcome(c.attempt, answered=c.answered, duration_s=c.duration_s)
    assert len(forgetting._callers) < len(keeping._callers) / 4
    assert len(forgetting._imei) < len(keeping._imei) / 4
    assert len(forgetting._incoming) < len(keeping._incoming) / 4


def test_a_state_is_kept_for_a_whole_window_and_a_clock_ahead_does_not_turn_it() -> None:
    """A key unseen for less than a window keeps its state. On a live screen (the wall clock
    turns the generations) one call dated hours ahead forgets nothing: a SIM-box's cell is
    still counted; turned by the calls' own times, that call would have dropped it."""
    recent: _Recent[list[int]] = _Recent(list, 600)
    recent.tick(0)
    first = recent.miss("a")
    for t in range(1, 1300, 10):  # others come and go; "a" is not looked up again
        recent.tick(t)
        if recent.current.get(f"k{t}") is None:
            recent.miss(f"k{t}")
        if t < 600:
            assert recent.find("a") is first, t
    assert recent.find("a") is None  # gone once unseen for two turns

    start = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

    def day(screen: CallScreen) -> tuple[str, ...]:
        def attempt(n: int, seconds: float, cell: str) -> CallAttempt:
            return CallAttempt(
                call_id=str(n), at=start + timedelta(seconds=seconds),
                caller=f"+7701{5550000 + n:07d}", called="+77021234567",
                imsi=f"40101{2000000000 + n}", imei=f"35693803564{n:04d}", cell=cell,
            )  # fmt: skip

        screen.screen(attempt(100, 0, "CY"))
        for n, t in enumerate((3300, 3400)):  # a SIM-box's SIMs, one after the other
            screen.screen(attempt(n, t, "CX"))
        screen.screen(attempt(101, 3600, "CY"))
        screen.screen(attempt(102, 3620 + 5 * 3600, "CY"))  # a switch's clock 5 hours ahead
        return screen.screen(attempt(2, 3640, "CX")).reasons

    live = CallScreen()
    live.turn_clock = lambda: 1_000_000.0  # the wall clock, standing still meanwhile
    assert "sequential_imsi" in day(live)
    assert "sequential_imsi" not in day(CallScreen())  # what the calls' times alone would do


def test_a_day_of_calls_out_is_kept_only_as_far_as_the_rule_and_the_model_look() -> None:
    """A number's calls out are kept for 24 hours up to KEPT: enough for the
    calls-out-only rule's count and for every split the learned model makes on it, so a capped
    count judges as the full one would; a number calling all day keeps no more than that."""
    from kupol.antifraud.screen_model import load_screen_model

    assert ScreenSettings().outgoing_calls <= KEPT
    model = load_screen_model()
    feature = SIGNALS.index("outgoing_24h")
    splits = [
        float(node["num_threshold"])
        for trees in model.estimator._predictors
        for node in trees[0].nodes
        if not node["is_leaf"] and node["feature_idx"] == feature
    ]
    assert splits and max(splits) < KEPT
    screen = CallScreen()
    start = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 08:00 local: no night rule
    for i in range(KEPT + 200):
        at = start + timedelta(seconds=30 * i)
        result = screen.screen(
            CallAttempt(call_id=str(i), at=at, caller="+77011234567", called=f"+7702{i:07d}")
        )
    assert result.signals[feature] == KEPT
    assert "outgoing_only" in result.reasons
