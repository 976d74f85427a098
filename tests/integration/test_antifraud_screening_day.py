"""A simulated day of a mobile network (the default: 20,000 subscribers, about 87,000 calls)
screened in batch, with the figures docs/antifraud.md reports as measured."""

from __future__ import annotations

from pathlib import Path

from kupol.antifraud.cdr import read_ported
from kupol.antifraud.cdr_sim import simulate_day, write_cdr, write_ported
from kupol.antifraud.screening_eval import screen_file


def test_a_simulated_day_blocks_fraud_and_no_legitimate_caller(tmp_path: Path) -> None:
    day = simulate_day()
    write_cdr(day.calls, tmp_path / "day.csv")
    write_ported(day.ported, tmp_path / "ported.csv")
    figures = screen_file(tmp_path / "day.csv", ported=read_ported(tmp_path / "ported.csv"))
    truth = figures["by_truth"]
    legit = truth["legit"]
    # Measured 2026-12-04: no legitimate call of 81,172 blocked (the issue: below 0.01 %),
    # 0.88 % warned (businesses that only call out); every fraud caller caught.
    assert legit["calls"] > 80_000
    assert legit["blocked"] < 0.0001, legit
    assert legit["warned"] < 0.01, legit
    expected = {"call_centre": 0.949, "simbox": 0.997, "wangiri": 0.973, "spoofed": 1.0}
    for kind, share in expected.items():
        assert truth[kind]["callers_caught"] == truth[kind]["callers"], (kind, truth[kind])
        assert truth[kind]["blocked"] >= share - 0.02, (kind, truth[kind])


def test_the_learned_model_warns_of_fraud_calls_the_rules_let_through(tmp_path: Path) -> None:
    from kupol.antifraud.screen_model import load_screen_model

    day = simulate_day()
    write_cdr(day.calls, tmp_path / "day.csv")
    rules = screen_file(tmp_path / "day.csv", ported=day.ported)["by_truth"]
    both = screen_file(tmp_path / "day.csv", ported=day.ported, model=load_screen_model())
    truth = both["by_truth"]

    def caught(figures: dict[str, dict[str, float]], kind: str) -> int:
        f = figures[kind]
        return round((f["blocked"] + f["warned"]) * f["calls"])

    # Measured 2026-12-04 (trained on the simulated days of seeds 1 and 2): fraud calls blocked
    # or warned went 1,706 → 1,756 (call centres), 2,692 → 2,696 (SIM-boxes), 876 → 900
    # (Wangiri); one more legitimate call warned (718 of 81,172); blocks unchanged.
    assert caught(truth, "call_centre") - caught(rules, "call_centre") >= 40
    assert caught(truth, "wangiri") == truth["wangiri"]["calls"]
    assert truth["legit"]["blocked"] == rules["legit"]["blocked"] == 0.0
    assert truth["legit"]["warn_reasons"].get("model", 0) <= 5
    for kind in ("call_centre", "simbox", "wangiri", "spoofed"):
        assert truth[kind]["blocked"] == rules[kind]["blocked"]  # the model never blocks
