"""The shipped transfer model loads only as its card describes it, and without it holds rest on
the reasons alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kupol.antifraud.modelfile import card_path
from kupol.antifraud.screening import CallScreen
from kupol.antifraud.transfer_model import MODEL_PATH, load_model, try_load_model
from kupol.antifraud.transfer_signals import FEATURES, TransferHistory
from kupol.core.errors import ConfigError
from tests.unit.antifraud.test_screening import call
from tests.unit.antifraud.test_transfers import transfer


def copy_model(tmp_path: Path) -> Path:
    target = tmp_path / MODEL_PATH.name
    shutil.copy(MODEL_PATH, target)
    shutil.copy(card_path(MODEL_PATH), card_path(target))
    return target


def test_the_shipped_model_scores_an_emptying_transfer_high_and_a_payment_low() -> None:
    model = load_model()
    history = TransferHistory()
    emptying = history.features(transfer(amount=250_000.0, balance=250_000.0))
    payment = history.features(
        transfer(payee="M1", amount=5_000.0, balance=300_000.0, kind=transfer().kind.PAYMENT)
    )
    high, low = model.scores([emptying, payment])
    assert high > 0.9 > 0.1 > low
    assert model.card["features"] == list(FEATURES)


def test_a_model_made_by_another_scikit_learn_or_changed_since_is_not_loaded(
    tmp_path: Path,
) -> None:
    path = copy_model(tmp_path)
    card = json.loads(card_path(path).read_text())
    card_path(path).write_text(json.dumps({**card, "sklearn": "0.24.2"}))
    with pytest.raises(ConfigError, match=r"scikit-learn 0\.24\.2"):
        load_model(path)
    card_path(path).write_text(json.dumps(card))
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ConfigError, match="SHA-256"):
        load_model(path)
    assert try_load_model(path) is None
    with pytest.raises(ConfigError, match="missing"):
        load_model(tmp_path / "absent.joblib")


def test_screening_s_model_warns_only_calls_like_those_it_learned_from() -> None:
    from kupol.antifraud.screen_model import load_screen_model
    from kupol.antifraud.screening import Verdict

    model = load_screen_model()
    screen = CallScreen()
    # A domestic call without an IMSI (a SIP trunk) is left to the rules.
    sip = screen.screen(call(1, caller="+77011234567", called="+77051112233"))
    assert model.apply([sip]) == [sip]
    burst = [
        screen.screen(
            call(100 + i, caller="+88299990000", called=f"+7701900{i:04d}", international=True)
        )
        for i in range(4)
    ]
    warned = model.apply(burst)
    assert all(v.verdict in (Verdict.ALLOW, Verdict.WARN) for v in warned)
    assert all(("model" in v.reasons) == (v.verdict is Verdict.WARN) for v in warned)


def test_a_model_the_settings_name_must_load_the_shipped_one_may_be_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kupol.antifraud.screen_model as screen_model
    import kupol.antifraud.transfer_model as transfer_model

    broken = copy_model(tmp_path)
    broken.write_bytes(broken.read_bytes() + b"\0")
    with pytest.raises(ConfigError, match="SHA-256"):
        transfer_model.configured_model(broken)
    with pytest.raises(ConfigError, match="missing"):
        screen_model.configured_screen_model(tmp_path / "absent.joblib")
    # Nothing named: the shipped models, and where one is missing the rules alone.
    shipped = transfer_model.configured_model(None)
    assert shipped is not None and shipped.card["features"] == list(FEATURES)
    assert screen_model.configured_screen_model(None) is not None
    monkeypatch.setattr(transfer_model, "MODEL_PATH", tmp_path / "gone.joblib")
    monkeypatch.setattr(screen_model, "MODEL_PATH", tmp_path / "gone.joblib")
    assert transfer_model.configured_model(None) is None
    assert screen_model.configured_screen_model(None) is None
