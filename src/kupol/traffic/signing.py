"""Officers' decisions signed with their X.509 certificates — the document flow's digital
signature (:mod:`kupol.documents.pki`) — and the keyed signatures of decisions made before it.

A decision is signed as a document: a canonical JSON (sorted keys, no spaces, UTF-8) of what
was decided — the violation, its qualification, the evidence's SHA-256 sums, the officer and
the moment. Approving signs those bytes with the officer's key (ECDSA P-256 or Ed25519) and
stores the signature with the officer's certificate, so the decision can be checked by anyone
holding the deployment's CA certificate, here or offline. Any change to the stored document
shows on verification; the evidence files are compared with the signed sums separately.

Decisions approved before the document flow existed carry an HMAC-SHA256 under a key derived
from ``[traffic] signing_secret`` (:class:`DecisionSigner`); they still verify with that key.

Example:
    >>> signer = DecisionSigner(b"k" * 32)
    >>> signed = signer.sign({"violation": 1, "decision": "approved"})
    >>> signer.verify(signed)
    True
    >>> signer.verify({**signed, "document": {"violation": 2, "decision": "approved"}})
    False
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from kupol.documents import pki

ALGORITHM = "HMAC-SHA256"
"""The keyed signature of decisions made before X.509 signing (verified, no longer made)."""
_PURPOSE = b"kupol/traffic/decision-signature/v1"


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class DecisionSigner:
    """Signs and verifies decision documents with a key derived from ``secret`` (HMAC)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._key = hmac.new(secret, _PURPOSE, hashlib.sha256).digest()
        self.key_id = hashlib.sha256(self._key).hexdigest()[:16]
        """Names the key (not the key): says which key signed after a key change."""

    def sign(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """The document with its digest and signature, as stored and shown."""
        body = canonical(document)
        return {
            "document": dict(document),
            "sha256": hashlib.sha256(body).hexdigest(),
            "algorithm": ALGORITHM,
            "key_id": self.key_id,
            "signature": hmac.new(self._key, body, hashlib.sha256).hexdigest(),
        }

    def verify(self, signed: Mapping[str, Any]) -> bool:
        """Whether ``signed`` is a document this key signed, unchanged."""
        document = signed.get("document")
        signature = signed.get("signature")
        if not isinstance(document, Mapping) or not isinstance(signature, str):
            return False
        if signed.get("algorithm") != ALGORITHM or signed.get("key_id") != self.key_id:
            return False
        expected = hmac.new(self._key, canonical(document), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)


class DecisionSigning:
    """Signs decisions with the officer's certificate; verifies those and the keyed ones.

    Args:
        authority: the deployment's CA and the officers' keys (the document flow's).
        legacy: the keyed signer that verifies decisions signed before X.509 signing.
    """

    def __init__(self, authority: pki.Authority, legacy: DecisionSigner) -> None:
        self.authority = authority
        self._legacy = legacy

    def signer(self, username: str) -> pki.Signer:
        """The officer's signer.

        Raises:
            NotFoundError: the officer holds no signing certificate (code ``no_certificate``).
        """
        return self.authority.signer(username)

    @staticmethod
    def sign(document: Mapping[str, Any], signer: pki.Signer) -> dict[str, Any]:
        """The document with its digest, signature and the signer's certificate."""
        body = canonical(document)
        certificate = signer.certificate
        return {
            "document": dict(document),
            "sha256": hashlib.sha256(body).hexdigest(),
            "algorithm": signer.algorithm,
            "signature": pki.b64(signer.sign(body)),
            "certificate": certificate.public_bytes(Encoding.PEM).decode(),
            "certificate_sha256": pki.fingerprint(certificate),
            "signer": pki.common_name(certificate),
        }

    def verify(self, signed: Mapping[str, Any]) -> pki.Verdict:
        """Check a stored decision: its signature over the document as stored, the certificate
        against the trusted CAs at the decision's time, and that the certificate is the
        deciding officer's."""
        document = signed.get("document")
        if not isinstance(document, Mapping):
            return pki.Verdict(ok=False, reason="the decision holds no signed document")
        if signed.get("algorithm") == ALGORITHM:
            ok = self._legacy.verify(signed)
            return pki.Verdict(
                ok=ok,
                reason=(
                    "the keyed signature is valid"
                    if ok
                    else "the keyed signature does not match the document (changed, or "
                    "another signing_secret)"
                ),
                signer=str(document.get("officer", "")),
            )
        try:
            certificate = pki.load_certificate(str(signed.get("certificate", "")))
            signature = base64.b64decode(str(signed.get("signature", "")), validate=True)
            at = dt.datetime.fromisoformat(str(document.get("decided_at")))
        except (ValueError, binascii.Error) as exc:
            return pki.Verdict(ok=False, reason=f"the stored signature is malformed: {exc}")
        verdict = pki.verify(
            canonical(document),
            algorithm=str(signed.get("algorithm")),
            signature=signature,
            certificate=certificate,
            anchors=self.authority.anchors(),
            at=at if at.tzinfo else at.replace(tzinfo=dt.UTC),
        )
        if verdict.ok and verdict.signer != document.get("officer"):
            return pki.Verdict(
                ok=False,
                reason=f"the certificate is {verdict.signer}'s, not the deciding officer's",
                signer=verdict.signer,
                certificate_sha256=verdict.certificate_sha256,
            )
        return verdict
