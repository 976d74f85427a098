"""A deployment trains call screening's learned model on its own labelled CDRs, checks it on
the calls held out, and screens with it: by the CLI, the settings and the service."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kupol import cli
from kupol.antifraud.cdr import read_cdr
from kupol.antifraud.cdr_sim import simulate_day, write_cdr, write_ported
from kupol.antifraud.screen_model import load_screen_model
from kupol.antifraud.screen_training import screen_labelled, train_screen_model
from kupol.bootstrap import build_container
from kupol.core.errors import InvalidInputError
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two labelled days of a small network (other seeds than the shipped model's)."""
    folder = tmp_path_factory.mktemp("cdr")
    for seed in (11, 12):
        day = simulate_day(seed, subscribers=2_000)
        later = timedelta(days=seed - 11)  # the second day follows the first
        calls = [replace(c, attempt=replace(c.attempt, at=c.attempt.at + later)) for c in day.calls]
        write_cdr(calls, folder / f"day{seed}.csv")
        write_ported(day.ported, folder / f"ported{seed}.csv")
    return folder


def test_a_deployment_trains_its_own_model_and_screens_with_it(
    labelled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    model_file = tmp_path / "ours.joblib"
    files = [str(labelled / "day11.csv"), str(labelled / "day12.csv")]
    command = ["antifraud", "train-screen-model", *files, "--holdout", "0.5"]
    trained = CliRunner().invoke(cli.app, [*command, "--ported", str(labelled / "ported11.csv"),
                                           "--out", str(model_file)])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    card = json.loads(trained.output)
    assert [d["file"] for d in card["data"]] == ["day11.csv", "day12.csv"]
    assert all(len(d["sha256"]) == 64 and d["rejected"] == 0 for d in card["data"])
    assert card["calls"] == sum(d["rows"] for d in card["data"])
    assert set(card["labels"]) == {"legit", "call_centre", "simbox", "spoofed", "wangiri"}
    assert card["fraud_calls"] == card["calls"] - card["labels"]["legit"]
    # The two days are one stream: the second day is (about) the half held out, judged by a
    # model that learned from the first.
    held = card["held_out"]
    assert held["share"] == 0.5 and abs(held["calls"] - card["data"][1]["rows"]) < 50
    assert 0 < held["scored_calls"] < held["calls"]
    assert held["roc_auc_scored"] > 0.95 and held["fraud_caught"] > 0.99
    assert held["fraud_caught_by_model_alone"] > 0
    assert held["legit_blocked"] == 0 and held["legit_warned_by_model"] < 0.01

    ours = load_screen_model(model_file)
    assert ours.card["sha256"] == card["sha256"]
    # `[antifraud] screen_model` points the batch screening and the service at it.
    monkeypatch.setenv("KUPOL_ANTIFRAUD__SCREEN_MODEL", str(model_file))
    screened = CliRunner().invoke(cli.app, ["antifraud", "screen-cdr", files[1]])
    assert screened.exit_code == 0, screened.output
    assert json.loads(screened.output)["model"] == card["sha256"][:12]
    settings = make_settings(
        database_url=sqlite_url, data_dir=tmp_path / "data",
        antifraud={"screen_model": str(model_file)},
    )  # fmt: skip
    container = build_container(settings)
    try:
        served = container.antifraud.calls.model
        assert served is not None and served.card["sha256"] == card["sha256"]
    finally:
        container.db.dispose()


def test_records_without_truth_or_with_too_little_fraud_are_refused(
    labelled: Path, tmp_path: Path
) -> None:
    rows = read_cdr(labelled / "day11.csv").rows
    with (labelled / "day11.csv").open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    table[7]["truth"] = ""
    unlabelled = tmp_path / "unlabelled.csv"
    with unlabelled.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    refused = CliRunner().invoke(cli.app, ["antifraud", "train-screen-model", str(unlabelled),
                                           "--out", str(tmp_path / "m.joblib")])  # fmt: skip
    assert refused.exit_code != 0 and "have no truth" in refused.output
    assert not (tmp_path / "m.joblib").exists()
    wrong_name = CliRunner().invoke(cli.app, ["antifraud", "train-screen-model",
                                              str(labelled / "day11.csv"), "--out",
                                              str(tmp_path / "m.pkl")])  # fmt: skip
    assert wrong_name.exit_code != 0 and ".joblib" in wrong_name.output

    legit_only = [r for r in rows if r.truth == "legit"]
    with pytest.raises(InvalidInputError, match="at least 50 of each"):
        train_screen_model([screen_labelled(legit_only, name="legit only")])
    # Fraud only in the first hours of the day: nothing to judge the model on afterwards.
    cut = rows[len(rows) // 2].attempt.at
    early_fraud = [r for r in rows if r.truth == "legit" or r.attempt.at < cut]
    with pytest.raises(InvalidInputError, match="held out"):
        train_screen_model([screen_labelled(early_fraud, name="early")])
    # A label that means "not fraud" in other words would be learned as fraud: refused.
    normal = [replace(r, truth="normal" if r.truth == "legit" else r.truth) for r in rows]
    with pytest.raises(InvalidInputError, match="'normal' reads as 'not fraud'"):
        screen_labelled(normal, name="normal")
    model, card = train_screen_model([screen_labelled(early_fraud, name="early")], holdout=0)
    assert "held_out" not in card and card["data"] == ["early"]
    assert model.predict_proba([[0.0] * len(card["features"])]).shape == (1, 2)


def test_a_model_the_settings_name_must_load(tmp_path: Path, sqlite_url: str) -> None:
    """A deployment that names its own model is told at start when it cannot be used, rather
    than screened by the rules alone without knowing."""
    from kupol.core.errors import ConfigError

    for setting in ("screen_model", "model"):
        settings = make_settings(
            database_url=sqlite_url, data_dir=tmp_path / "data",
            antifraud={setting: str(tmp_path / "missing.joblib")},
        )  # fmt: skip
        with pytest.raises(ConfigError, match=r"missing\.joblib"):
            build_container(settings)
