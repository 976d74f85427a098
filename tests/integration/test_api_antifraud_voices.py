"""Voice checks and fraud-group case files through the API, on SQLite and PostgreSQL: a fraud
call's recording and a victim's complaint linked by the voice, bad uploads refused with
nothing stored, every look audited; a group's case file put in the evidence vault."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.io import wavfile
from sqlalchemy import func, select

from kupol.antifraud.audio import read_audio
from kupol.antifraud.model import VoiceRecording
from kupol.bootstrap import Container
from kupol.core.audit.model import AuditEntry
from tests.conftest import need_data
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "complaint KUI-2026-0042"}


def _wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    wavfile.write(buffer, 16_000, (np.clip(samples, -1, 1) * 32767).astype(np.int16))
    return buffer.getvalue()


def _recordings(container: Container) -> int:
    with container.db.reader() as session:
        return session.scalar(select(func.count()).select_from(VoiceRecording)) or 0


@pytest.mark.data
def test_a_complaint_is_linked_to_the_fraud_call_by_the_voice(
    api: Any, container: Container
) -> None:
    folder: Path = need_data("voice", "fake-or-real", "validation", "real")
    one = read_audio(folder / "clip17036.wav")  # 10 s of one speaker
    other = read_audio(folder / "clip8.wav")  # another recording
    call, complaint = one[: one.size // 2], one[one.size // 2 :]
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    headers = {**analyst, **PURPOSE}

    def check(data: bytes, name: str, **form: str) -> Any:
        return api.post(
            "/api/antifraud/voices", files={"file": (name, data, "audio/wav")}, data=form,
            headers=headers,
        )  # fmt: skip

    first = check(
        _wav(call), "call.wav", source="call", reference="CALL-77", number="8 775 777 00 00"
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["recording"]["number"] == "+77757770000" and body["matches"] == []
    assert body["recording"]["seconds"] == pytest.approx(one.size / 2 / 16_000, abs=0.01)
    score = body["recording"]["synthetic"]  # the detector's probability, and its verdict
    assert 0 <= score <= 1 and body["synthetic"] is (score >= 0.5)
    r = check(_wav(other), "other.wav", source="call", reference="CALL-78")
    assert r.status_code == 201, r.text
    linked = check(_wav(complaint), "complaint.wav", source="complaint", reference="KUI-0042")
    assert linked.status_code == 201
    matches = linked.json()["matches"]
    assert matches[0]["recording"]["reference"] == "CALL-77", matches
    assert matches[0]["similarity"] >= linked.json()["threshold"]
    assert all(m["recording"]["reference"] != "CALL-78" for m in matches), matches

    # The same file again is not stored twice; the recording's page shows its matches now.
    again = check(_wav(call), "call-copy.wav", source="call", reference="CALL-77")
    assert again.json()["duplicate"] is True and _recordings(container) == 3
    shown = api.get(f"/api/antifraud/voices/{body['recording']['id']}", headers=headers).json()
    assert [m["recording"]["reference"] for m in shown["matches"]][:1] == ["KUI-0042"]
    listed = api.get("/api/antifraud/voices", params={"number": "+77757770000"}, headers=headers)
    assert [r["reference"] for r in listed.json()] == ["CALL-77"]

    with container.db.reader() as session:
        audited = [
            (e.action, e.actor, (e.details or {}).get("purpose"))
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.resource_type == "voice_recording")
                .order_by(AuditEntry.seq)
            )
        ]
    assert [a for a, _, _ in audited] == ["voice_check"] * 4 + ["view", "search"]
    assert {who for _, who, _ in audited} == {"cyber"}


def test_bad_recordings_are_refused_clearly_and_nothing_is_stored(
    api: Any, container: Container
) -> None:
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    headers = {**analyst, **PURPOSE}
    speechless = _wav(np.zeros(16_000 * 3, np.float32))
    cases = [
        ({"source": "call", "reference": "CALL-1"}, ("x.wav", b"not audio"), "cannot"),
        ({"source": "call", "reference": "CALL-1"}, ("x.wav", speechless), "at least 0.5 s"),
        ({"source": "gossip", "reference": "CALL-1"}, ("x.wav", speechless), "source"),
        ({"source": "call", "reference": "C"}, ("x.wav", speechless), "reference"),
        ({"source": "call", "reference": "CALL-1", "number": "abc"}, ("x.wav", speechless),
         "not a telephone number"),
    ]  # fmt: skip
    for form, upload, message in cases:
        response = api.post(
            "/api/antifraud/voices", files={"file": upload}, data=form, headers=headers
        )
        assert response.status_code == 422, (form, response.text)
        assert message in response.text, response.text
    assert _recordings(container) == 0
    no_purpose = api.post(
        "/api/antifraud/voices", files={"file": ("x.wav", speechless)},
        data={"source": "call", "reference": "CALL-1"}, headers=analyst,
    )  # fmt: skip
    assert no_purpose.status_code == 428
    switch = login_as(api, container, "kcell-switch", "telecom")
    refused = api.get("/api/antifraud/voices", headers={**switch, **PURPOSE})
    assert refused.status_code == 403


def test_a_fraud_group_s_case_file_goes_to_the_evidence_vault(
    api: Any, container: Container
) -> None:
    switch = login_as(api, container, "kcell-switch", "telecom")
    analyst = login_as(api, container, "cyber", "fraud_analyst")
    investigator = login_as(api, container, "inv", "investigator")
    # Two numbers ring strangers from one handset: a small phone bank.
    for n, (number, imsi) in enumerate([("+77757770001", "401011000000001"),
                                        ("+77757770002", "401011000000777")]):  # fmt: skip
        for i in range(30):
            api.post(
                "/api/antifraud/calls/screen",
                json={"call_id": f"G{n}-{i}", "caller": number, "called": f"+770190{n}{i:04d}",
                      "imsi": imsi, "imei": "356938035643809"},
                headers=switch,
            )  # fmt: skip
    api.post(
        "/api/antifraud/calls/screen",
        json={"call_id": "LONE", "caller": "+77012345678", "called": "+77012345679"},
        headers=switch,
    )
    body = {"number": "8 775 777 00 02", "case_number": "CYB-2026-118"}
    assert api.post("/api/antifraud/groups/export", json=body, headers=analyst).status_code == 428
    made = api.post("/api/antifraud/groups/export", json=body, headers={**analyst, **PURPOSE})
    assert made.status_code == 201, made.text
    exported = made.json()
    assert exported["numbers"] == 2 and exported["calls"] == 60
    assert exported["case_number"] == "CYB-2026-118" and not exported["calls_truncated"]

    # The investigator finds it in the vault under the case, with its custody.
    item = api.get(
        f"/api/evidence/{exported['evidence_item']}", headers={**investigator, **PURPOSE}
    ).json()
    assert item["category"] == "document" and item["media_type"] == "application/json"
    assert item["case_number"] == "CYB-2026-118" and item["ingested_by"] == "cyber"
    data = api.get(
        f"/api/evidence/{exported['evidence_item']}/file", headers={**investigator, **PURPOSE}
    )
    document = json.loads(data.content)
    assert document["format"] == "kupol-fraud-group/1"
    assert document["group"]["numbers"] == ["+77757770001", "+77757770002"]
    assert document["group"]["handsets"] == ["356938035643809"]
    assert len(document["calls"]) == 60 and document["purpose"] == PURPOSE["X-Purpose"]
    assert {c["caller"] for c in document["calls"]} == {"+77757770001", "+77757770002"}
    assert any(r["code"] == "fan_out_heavy" for c in document["calls"] for r in c["reasons"])

    lone = {"number": "+77012345678", "case_number": "CYB-2026-118"}
    missing = api.post("/api/antifraud/groups/export", json=lone, headers={**analyst, **PURPOSE})
    assert missing.status_code == 404
    with container.db.reader() as session:
        exports = list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.resource_type == "fraud_group", AuditEntry.action == "export"
                )
            )
        )
    assert [(e.actor, e.resource_id) for e in exports] == [("cyber", "+77757770002")]
