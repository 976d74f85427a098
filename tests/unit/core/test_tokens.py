"""Signed login tokens: claims survive the round trip; expiry and tampering are refused."""

from __future__ import annotations

import base64
import json

import pytest

from kupol.core.auth.tokens import TokenSigner
from kupol.core.errors import AuthenticationError

SECRET = b"k" * 32
TTL_S = 600


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(SECRET, ttl_s=TTL_S)


def refused(signer: TokenSigner, token: str, now: float | None = None) -> str:
    with pytest.raises(AuthenticationError) as caught:
        signer.verify(token, now=now)
    return caught.value.detail


def test_a_token_carries_the_user_and_token_version(signer: TokenSigner) -> None:
    claims = signer.verify(signer.issue(user_id=7, version=3, now=1000), now=1001)

    assert claims.user_id == 7
    assert claims.version == 3
    assert claims.expires_at == 1000 + TTL_S


def test_each_token_has_its_own_id(signer: TokenSigner) -> None:
    first = signer.verify(signer.issue(user_id=1, version=0, now=0), now=0)
    second = signer.verify(signer.issue(user_id=1, version=0, now=0), now=0)

    assert first.token_id != second.token_id


def test_a_token_is_valid_until_it_expires_and_refused_after(signer: TokenSigner) -> None:
    token = signer.issue(user_id=1, version=0, now=1000)

    assert signer.verify(token, now=1000 + TTL_S).user_id == 1
    assert "expired" in refused(signer, token, now=1000 + TTL_S + 1)


def test_a_token_with_a_changed_payload_is_refused(signer: TokenSigner) -> None:
    body, signature = signer.issue(user_id=7, version=0).split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["sub"] = 1  # try to become user 1
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()

    assert refused(signer, f"{forged}.{signature}") == "invalid token"


def test_a_token_with_a_changed_signature_is_refused(signer: TokenSigner) -> None:
    body, signature = signer.issue(user_id=7, version=0).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    assert refused(signer, f"{body}.{flipped}") == "invalid token"


def test_a_token_signed_with_another_secret_is_refused(signer: TokenSigner) -> None:
    token = TokenSigner(b"x" * 32, ttl_s=TTL_S).issue(user_id=7, version=0)

    assert refused(signer, token) == "invalid token"


@pytest.mark.parametrize(
    "garbage", ["", ".", "abc", "abc.", ".abc", "a.b.c", "абв.где", "eyJzdWIiOjF9.é"]
)
def test_malformed_tokens_are_refused_not_crashed_on(signer: TokenSigner, garbage: str) -> None:
    assert refused(signer, garbage) == "invalid token"
