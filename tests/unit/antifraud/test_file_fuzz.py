"""Hostile anti-fraud files (call detail records, the portability register, PaySim transfers)
and hostile numbers: read or refused with a domain error, never a raw exception; a bad row is
a reject with its line."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kupol.antifraud.cdr import read_cdr, read_ported
from kupol.antifraud.numbers import NumberKind, load_numbering
from kupol.antifraud.transfers import read_paysim
from tests.unit.antifraud.test_transfers import HEADER as PAYSIM_HEADER
from tests.unit.fuzzing import FUZZ, hostile, refused_or_read

CDR = (
    b"call_id,at,caller,called,international,network,roaming,imsi,imei,cell,answered,"
    b"duration_s,truth\n"
    b"c1,2026-03-02T09:00:00+05:00,+77011234567,+77021112233,0,kcell,0,401011234567890,"
    b"356938035643809,cell-1,1,42.5,legit\n"
    b"c2,2026-03-02T09:00:05+05:00,+442071234567,+77021112233,1,,0,,,,0,,fraud\n"
)
PORTED = b"number,operator\n+77011234567,Beeline\n87021112233,Kcell\n"
PAYSIM = (
    PAYSIM_HEADER + "1,TRANSFER,100,C1,100,0,C2,0,100,1\n" + "7,cash_in,10,C9,0,10,C3,50,40,0.0\n"
).encode()


@FUZZ
@given(data=hostile(CDR))
def test_a_hostile_call_detail_file_is_read_or_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "cdr.csv"
    path.write_bytes(data)
    read = refused_or_read(lambda: read_cdr(path))
    if read is not None:
        assert all(row.attempt.at.tzinfo is not None for row in read.rows)
        assert all(line >= 2 for line, _ in read.rejects)


@FUZZ
@given(data=hostile(PORTED))
def test_a_hostile_portability_register_is_read_or_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "ported.csv"
    path.write_bytes(data)
    refused_or_read(lambda: read_ported(path))


@FUZZ
@given(data=hostile(PAYSIM))
def test_a_hostile_paysim_file_is_read_or_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "paysim.csv"
    path.write_bytes(data)
    refused_or_read(lambda: read_paysim(path))


@FUZZ
@given(raw=st.one_of(st.text(max_size=40), st.text(alphabet="+0123456789 ()-٣²", max_size=20)))
def test_any_text_is_classified_as_a_number_and_a_valid_one_is_ascii_digits(raw: str) -> None:
    number = load_numbering().classify(raw)
    if number.kind is not NumberKind.INVALID:
        assert number.e164[0] == "+" and number.e164[1:].isascii() and number.e164[1:].isdigit()
