"""Reading PaySim files row by row, and what a payer's and payee's history says about a transfer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kupol.antifraud.transfer_eval import evaluate_transfers
from kupol.antifraud.transfer_signals import FEATURES, SignalSettings, TransferHistory
from kupol.antifraud.transfers import PAYSIM_EPOCH, Transfer, TransferKind, read_paysim
from kupol.core.errors import InvalidInputError

HEADER = (
    "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,"
    "nameDest,oldbalanceDest,newbalanceDest,isFraud\n"
)


def transfer(
    payer: str = "C1",
    payee: str = "C2",
    amount: float = 100.0,
    balance: float = 1000.0,
    kind: TransferKind = TransferKind.TRANSFER,
    hour: int = 1,
) -> Transfer:
    return Transfer(
        ref=f"{payer}-{payee}-{hour}",
        at=PAYSIM_EPOCH + timedelta(hours=hour),
        kind=kind,
        amount=amount,
        payer=payer,
        payer_balance=balance,
        payee=payee,
        payee_balance=0.0,
    )


def test_a_bad_row_is_refused_with_its_line_and_reason_and_the_good_ones_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        HEADER
        + "1,TRANSFER,100,C1,100,0,C2,0,100,1\n"
        + "2,WIRE,5,C1,5,0,C2,0,5,0\n"
        + "3,PAYMENT,abc,C1,5,0,M2,0,0,0\n"
        + "4,PAYMENT,-1,C1,5,0,M2,0,0,0\n"
        + "5,PAYMENT,1,C1,5,4,M2,0,0,maybe\n"
        + "6,CASH_OUT,inf,C1,5,0,C3,0,0,0\n"
        + "7,cash_in,10,C9,0,10,C3,50,40,0.0\n",
        encoding="utf-8",
    )
    read = read_paysim(path)
    assert [t.ref for t in read.transfers] == ["line-2", "line-8"]
    assert read.transfers[0].label is True and read.transfers[1].label is False
    assert read.transfers[1].kind is TransferKind.CASH_IN
    lines = [line for line, _ in read.rejects]
    assert lines == [3, 4, 5, 6, 7]
    reasons = dict(read.rejects)
    assert "WIRE" in reasons[3] and "amount 'abc' is not a number" in reasons[4]
    assert "negative" in reasons[5] and "isFraud" in reasons[6] and "finite" in reasons[7]


def test_a_file_that_is_no_paysim_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="missing column"):
        read_paysim(path)
    with pytest.raises(InvalidInputError, match="no such file"):
        read_paysim(tmp_path / "absent.csv")


def test_emptying_the_balance_is_a_reason_and_taking_more_than_it_is_not() -> None:
    history = TransferHistory()
    assert "empties_balance" in history.reasons(transfer(amount=995.0, balance=1000.0))
    assert history.reasons(transfer(amount=980.0, balance=1000.0)) == []
    assert history.reasons(transfer(amount=5000.0, balance=1000.0)) == []
    # A payment to a merchant that empties the account takes the money nowhere suspicious.
    assert history.reasons(transfer(amount=1000.0, kind=TransferKind.PAYMENT, payee="M1")) == []


def test_a_payee_paid_by_many_people_within_a_day_is_a_reason() -> None:
    history = TransferHistory(SignalSettings(fan_in_payers=3))
    for i, hour in enumerate((1, 2)):
        history.record(transfer(payer=f"C{i + 10}", payee="C99", hour=hour))
    assert "fan_in_payee" in history.reasons(transfer(payer="C20", payee="C99", hour=3))
    # The same payer again is not a new one, and payers older than the window are forgotten.
    assert "fan_in_payee" not in history.reasons(transfer(payer="C10", payee="C99", hour=3))
    assert "fan_in_payee" not in history.reasons(transfer(payer="C20", payee="C99", hour=30))


def test_an_amount_many_times_the_payers_usual_and_a_large_first_payment_are_reasons() -> None:
    history = TransferHistory(SignalSettings(new_payee_amount=5000.0))
    for hour in (1, 2, 3):
        history.record(transfer(payee="C2", amount=100.0, balance=1e6, hour=hour))
    assert history.reasons(transfer(payee="C2", amount=900.0, balance=1e6)) == []
    assert history.reasons(transfer(payee="C2", amount=1000.0, balance=1e6)) == ["unusual_amount"]
    assert history.reasons(transfer(payee="C3", amount=6000.0, balance=1e6)) == [
        "unusual_amount",
        "new_payee_large",
    ]


def test_a_payee_on_the_mule_list_is_a_reason() -> None:
    history = TransferHistory(mules=frozenset({"C666"}))
    assert history.reasons(transfer(payee="C666")) == ["known_mule"]


def test_features_say_what_came_before_and_nothing_of_the_outcome() -> None:
    history = TransferHistory()
    first = dict(zip(FEATURES, history.features(transfer(amount=500.0)), strict=True))
    assert first["new_payee"] == 1.0 and first["payer_outgoing_before"] == 0.0
    assert first["share_of_balance"] == 0.5 and first["empties_balance"] == 0.0
    history.record(transfer(amount=500.0))
    again = dict(zip(FEATURES, history.features(transfer(amount=1000.0)), strict=True))
    assert again["new_payee"] == 0.0 and again["payee_incoming_before"] == 1.0
    assert again["amount_vs_payer_mean"] == 2.0 and again["empties_balance"] == 1.0
    labelled = Transfer(**{**transfer().__dict__, "label": True})
    assert history.features(labelled) == history.features(transfer())


def test_an_evaluation_needs_fraud_on_both_sides_of_the_split(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        HEADER
        + "1,TRANSFER,100,C1,100,0,C2,0,100,1\n"
        + "2,PAYMENT,5,C4,50,45,M2,0,0,0\n"
        + "90,TRANSFER,5,C3,50,45,C2,0,5,0\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError, match="test side"):
        evaluate_transfers(path)
    unlabelled = tmp_path / "u.csv"
    unlabelled.write_text(HEADER.replace(",isFraud", "") + "1,TRANSFER,1,C1,1,0,C2,0,1\n")
    with pytest.raises(InvalidInputError, match="no labelled"):
        evaluate_transfers(unlabelled)
