"""The document flow on SQLite and PostgreSQL: a resolution drafted from an approved violation
and a protocol drafted by hand, rendered to PDF in Russian and Kazakh, signed with X.509
certificates (the officer's key on the server, or a signature made elsewhere), verified —
online, and offline from the PDF and its signature bundle — and moved through the workflow
with the steps each role may take. Tampering and forged certificates are caught."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pypdf import PdfReader
from sqlalchemy import select, update

from kupol.bootstrap import Container
from kupol.core.audit.model import AuditEntry
from kupol.documents.model import Document
from kupol.documents.render import render_pdf
from kupol.documents.service import verify_offline
from tests.integration.test_api_traffic_review import REGISTRY, camera, violation
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
WHY = {"X-Purpose": "administrative case 2612-0007"}
FIELDS = {
    "place": "Астана, проспект Тұран, 24",
    "occurred_at": "2026-12-03T09:12:00+05:00",
    "person": {"name": "Әлия Қасымова", "id": "900101400123", "address": "Астана"},
    "vehicle": {"plate": "123 ABC 01", "make": "Toyota"},
    "article": "610",
    "part": "1",
    "title": "Нарушение правил проезда пешеходных переходов",
    "fine_mrp": 5,
    "fine_tenge": 19660,
    "facts": "Не уступил дорогу пешеходу на регулируемом переходе.",
}


def text_of(pdf: bytes) -> str:
    return " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages)


def officers(api: Any, container: Container) -> tuple[dict[str, str], dict[str, str]]:
    officer = login_as(api, container, "officer", "traffic_officer")
    admin = login_as(api, container, "root", "admin")
    return officer, admin


def test_a_protocol_is_drafted_signed_verified_and_moved_through_its_workflow(
    api: Any, container: Container, tmp_path: Path
) -> None:
    officer, admin = officers(api, container)
    analyst = login_as(api, container, "analyst", "analyst")
    clip = api.post(
        "/api/evidence",
        files={"file": ("bodycam.mp4", b"\x00\x00\x00\x18ftypmp42" * 100, "video/mp4")},
        data={"category": "bodycam", "case_number": "2612-0007"},
        headers=officer,
    ).json()

    # Drafting: bad input refused, nothing made.
    bad = api.post("/api/documents", json={"language": "kk", "fields": {"colour": "red"}},
                   headers=officer)  # fmt: skip
    assert bad.status_code == 422 and "unknown fields colour" in bad.json()["detail"]
    no_article = {**FIELDS, "article": None}
    assert (
        api.post("/api/documents", json={"fields": no_article}, headers=officer).status_code == 422
    )
    assert api.post("/api/documents", json={"fields": FIELDS, "evidence_ids": [999]},
                    headers=officer).status_code == 422  # fmt: skip
    assert api.post("/api/documents", json={"fields": FIELDS}, headers=analyst).status_code == 403
    made = api.post(
        "/api/documents",
        json={"kind": "protocol", "language": "kk", "case_number": "2612-0007",
              "evidence_ids": [clip["id"]], "fields": FIELDS},
        headers=officer,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["status"] == "draft" and doc["number"].startswith("P-2026-")
    assert doc["actions"] == ["sign", "cancel"]
    url = f"/api/documents/{doc['id']}"

    # The draft's PDF, in Kazakh, names the article, the fine and the evidence's hash.
    assert api.get(f"{url}/pdf", headers=officer).status_code == 428
    preview = api.get(f"{url}/pdf", headers={**officer, **WHY})
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    words = " ".join(text_of(preview.content).split())
    assert "ХАТТАМА" in words and "610-бабы" in words and "5 АЕК" in words
    assert clip["sha256"][:40] in words.replace(" ", "")
    edited = api.patch(url, json={"fields": {"facts": "Жаяу жүргіншіге жол бермеді."}},
                       headers=officer)  # fmt: skip
    assert edited.status_code == 200 and edited.json()["history"][-1]["action"] == "edit"

    # Signing needs a certificate, which an administrator issues.
    unsigned = api.post(f"{url}/sign", json={}, headers=officer)
    assert unsigned.status_code == 404 and unsigned.json()["code"] == "no_certificate"
    assert api.post("/api/certificates/officer", json={}, headers=officer).status_code == 403
    issued = api.post("/api/certificates/officer", json={}, headers=admin)
    assert issued.status_code == 201, issued.text
    signed = api.post(f"{url}/sign", json={}, headers=officer)
    assert signed.status_code == 200, signed.text
    doc = signed.json()
    assert doc["status"] == "signed" and doc["signatures"][0]["signer"] == "officer"
    assert doc["signatures"][0]["certificate_sha256"] == issued.json()["sha256"]
    assert api.patch(url, json={"fields": {"facts": "x"}}, headers=officer).status_code == 409
    # The signed PDF is an evidence item of the case, with its own custody.
    pdf = api.get(f"{url}/pdf", headers={**officer, **WHY}).content
    item = api.get(f"/api/evidence/{doc['pdf_item_id']}", headers={**officer, **WHY}).json()
    assert (item["category"], item["case_number"]) == ("document", "2612-0007")
    assert item["sha256"] == doc["pdf_sha256"]

    verified = api.get(f"{url}/verify", headers=officer).json()
    assert verified["ok"], verified
    assert "kupol deployment signing CA" in verified["signatures"][0]["issuer"]

    # Offline: the PDF and its bundle, no server.
    bundle = api.get(f"{url}/signature", headers=officer).json()
    assert verify_offline(pdf, bundle) == []
    flipped = bytearray(pdf)
    flipped[len(pdf) // 2] ^= 1
    assert "SHA-256" in verify_offline(bytes(flipped), bundle)[0]
    (tmp_path / "p.pdf").write_bytes(pdf)
    (tmp_path / "p.json").write_text(json.dumps(bundle))
    from typer.testing import CliRunner

    from kupol import cli

    ok = CliRunner().invoke(cli.app, ["documents", "verify", str(tmp_path / "p.pdf"),
                                      str(tmp_path / "p.json")])  # fmt: skip
    assert ok.exit_code == 0 and "valid" in ok.output
    (tmp_path / "p.pdf").write_bytes(bytes(flipped))
    broken = CliRunner().invoke(cli.app, ["documents", "verify", str(tmp_path / "p.pdf"),
                                          str(tmp_path / "p.json")])  # fmt: skip
    assert broken.exit_code == 1

    # The workflow: steps need their role and, where it says so, a note.
    assert api.post(f"{url}/pay", json={}, headers=officer).status_code == 409  # not served
    assert api.post(f"{url}/serve", json={}, headers=officer).status_code == 422  # how?
    served = api.post(f"{url}/serve", json={"note": "handed over in person, signed receipt"},
                      headers=officer)  # fmt: skip
    assert served.status_code == 200 and served.json()["actions"] == ["appeal", "pay", "cancel"]
    appealed = api.post(f"{url}/appeal", json={"note": "appeal to the court filed 2026-12-05"},
                        headers=officer)  # fmt: skip
    assert appealed.json()["status"] == "appealed"
    gateway = login_as(api, container, "gateway", "device")
    assert api.post(f"{url}/cancel", json={"note": "x"}, headers=gateway).status_code == 403
    paid = api.post(f"{url}/pay", json={}, headers=gateway)
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert paid.json()["actions"] == []
    assert api.post(f"{url}/cancel", json={"note": "too late"}, headers=officer).status_code == 409
    full = api.get(url, headers={**officer, **WHY}).json()
    assert [h["action"] for h in full["history"]] == [
        "create", "edit", "sign", "serve", "appeal", "pay"]  # fmt: skip
    inbox = api.get("/api/documents", headers=officer).json()
    assert inbox["counts"] == {"paid": 1} and "person" not in inbox["documents"][0]
    with container.db.reader() as session:
        views = session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type == "document",
                                     AuditEntry.action == "view")
        ).all()  # fmt: skip
    assert views and all(v.purpose == WHY["X-Purpose"] for v in views)

    # Tampering after signing: the record edited, the vault's PDF changed.
    with container.db.engine.begin() as conn:
        content = dict(full["content"], fine_mrp=1)
        conn.execute(update(Document).where(Document.id == doc["id"]).values(content=content))
    changed = api.get(f"{url}/verify", headers=officer).json()
    assert not changed["ok"] and "record was changed after it was signed" in changed["problems"][0]


def test_a_resolution_from_a_violation_and_signatures_made_elsewhere(
    api: Any, container: Container
) -> None:
    camera(container)
    container.traffic.recorder.record([violation(container)])
    officer, admin = officers(api, container)
    other = login_as(api, container, "other", "traffic_officer")
    api.post("/api/traffic/registry/import", files={"file": ("r.csv", REGISTRY.encode())},
             headers=officer)  # fmt: skip
    queue = api.get("/api/traffic/violations", headers={**officer, **WHY}).json()["items"]
    vid = queue[0]["id"]
    early = api.post("/api/documents/from-violation", json={"violation_id": vid}, headers=officer)
    assert early.status_code == 409  # not approved yet
    container.documents.authority.issue("officer")  # approving signs with it too
    approved = api.post(f"/api/traffic/violations/{vid}/approve", json={}, headers=officer)
    assert approved.status_code == 200, approved.text
    made = api.post("/api/documents/from-violation", json={"violation_id": vid, "language": "ru"},
                    headers=officer)  # fmt: skip
    assert made.status_code == 201, made.text
    doc = made.json()
    assert (
        api.post(
            "/api/documents/from-violation", json={"violation_id": vid}, headers=officer
        ).status_code
        == 409
    )  # one live document per violation
    words = " ".join(text_of(render_pdf(doc["content"])).split())
    assert "ПОСТАНОВЛЕНИЕ" in words and "Иванов Иван" in words and "123ABC02" in words
    assert "статья 599" in words and "10 МРП" in words
    assert doc["content"]["evidence"][0]["sha256"] == queue[0]["evidence"][0]["sha256"]
    url = f"/api/documents/{doc['id']}"

    # Signed on the officer's own device with an Ed25519 certificate of the deployment's CA.
    issued = api.post("/api/certificates/officer", json={"algorithm": "ed25519"}, headers=admin)
    key = serialization.load_pem_private_key(
        (container.documents.authority.root / "users" / "officer.key").read_bytes(), None
    )
    pdf = api.get(f"{url}/pdf", headers={**officer, **WHY}).content
    good = base64.b64encode(key.sign(pdf)).decode()  # type: ignore[call-arg, union-attr]
    cert = issued.json()["certificate"]
    wrong_bytes = base64.b64encode(key.sign(pdf + b"x")).decode()  # type: ignore[call-arg, union-attr]
    refused = api.post(f"{url}/sign", json={"algorithm": "ed25519", "signature": wrong_bytes,
                                           "certificate": cert}, headers=officer)  # fmt: skip
    assert refused.status_code == 422 and "does not match" in refused.json()["detail"]
    api.post("/api/certificates/other", json={}, headers=admin)
    theirs = api.post(f"{url}/sign", json={"algorithm": "ed25519", "signature": good,
                                          "certificate": cert}, headers=other)  # fmt: skip
    assert theirs.status_code == 422 and "not yours" in theirs.json()["detail"]

    # A forged CA of the same name: refused.
    fake_key = ec.generate_private_key(ec.SECP256R1())
    anchor = container.documents.authority.anchors()[0]
    now = dt.datetime.now(dt.UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "officer")]))
        .issuer_name(anchor.subject)
        .public_key(fake_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(fake_key, hashes.SHA256())
    )
    forged_sig = base64.b64encode(fake_key.sign(pdf, ec.ECDSA(hashes.SHA256()))).decode()
    fake = api.post(
        f"{url}/sign",
        json={"algorithm": "ecdsa-p256-sha256", "signature": forged_sig,
              "certificate": forged.public_bytes(serialization.Encoding.PEM).decode()},
        headers=officer,
    )  # fmt: skip
    assert fake.status_code == 422 and "forged" in fake.json()["detail"]

    signed = api.post(f"{url}/sign", json={"algorithm": "ed25519", "signature": good,
                                          "certificate": cert}, headers=officer)  # fmt: skip
    assert signed.status_code == 200, signed.text
    assert signed.json()["signatures"][0]["algorithm"] == "ed25519"
    assert api.get(f"{url}/verify", headers=officer).json()["ok"]
    # The vault's copy altered behind the vault's back: found.
    path = container.evidence.store.path(signed.json()["pdf_sha256"])
    path.chmod(0o640)
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    bad = api.get(f"{url}/verify", headers=officer).json()
    assert not bad["ok"] and any("SHA-256" in p for p in bad["problems"])
    assert signed.json()["content"]["place"].startswith("Test crossing")
