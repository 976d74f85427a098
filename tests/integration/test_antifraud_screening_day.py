"""A simulated day of a mobile network (the default: 20,000 subscribers, about 87,000 calls)
screened in batch, with the figures docs/antifraud.md reports as measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kupol.antifraud.cdr import read_ported
from kupol.antifraud.cdr_sim import simulate_day, write_cdr, write_ported
from kupol.antifraud.screening_eval import screen_file


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The day's CDR file, and its calls screened by the rules (the ported numbers read back
    from their own file)."""
    folder = tmp_path_factory.mktemp("day")
    simulated = simulate_day()
    write_cdr(simulated.calls, folder / "day.csv")
    write_ported(simulated.ported, folder / "ported.csv")
    return folder, screen_file(folder / "day.csv", ported=read_ported(folder / "ported.csv"))


def test_a_simulated_day_blocks_fraud_and_no_legitimate_caller(
    day: tuple[Path, dict[str, Any]],
) -> None:
    truth = day[1]["by_truth"]
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


def test_the_learned_model_warns_of_fraud_calls_the_rules_let_through(
    day: tuple[Path, dict[str, Any]],
) -> None:
    from kupol.antifraud.screen_model import load_screen_model

    folder, figures = day
    rules = figures["by_truth"]
    ported = read_ported(folder / "ported.csv")
    both = screen_file(folder / "day.csv", ported=ported, model=load_screen_model())
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
