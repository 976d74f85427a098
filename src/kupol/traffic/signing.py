"""Keyed signatures of officers' decisions, until the document flow's digital signature
(issue 7) can sign them.

A decision is signed as a document: a canonical JSON (sorted keys, no spaces, UTF-8) of what
was decided — the violation, its qualification, the evidence's SHA-256 sums, the officer and
the moment — and an HMAC-SHA256 of it under a key derived from the deployment's secret. Any
change to the stored document, or to an evidence file afterwards, shows on verification.

Example:
    >>> signer = DecisionSigner(b"k" * 32)
    >>> signed = signer.sign({"violation": 1, "decision": "approved"})
    >>> signer.verify(signed)
    True
    >>> signer.verify({**signed, "document": {"violation": 2, "decision": "approved"}})
    False
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

ALGORITHM = "HMAC-SHA256"
_PURPOSE = b"kupol/traffic/decision-signature/v1"


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class DecisionSigner:
    """Signs and verifies decision documents with a key derived from ``secret``."""

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
