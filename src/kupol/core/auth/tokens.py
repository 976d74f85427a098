"""Signed login tokens: ``base64url(json).base64url(hmac-sha256)``, with expiry.

A token names the user and their ``token_version``; changing a password or disabling the
user bumps the version, which revokes every token issued before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from kupol.core.errors import AuthenticationError


@dataclass(frozen=True, kw_only=True)
class TokenClaims:
    user_id: int
    version: int
    expires_at: int
    token_id: str
    issued_at: int = 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Issues and checks tokens with one secret key.

    Example:
        >>> signer = TokenSigner(b"k" * 32, ttl_s=60)
        >>> signer.verify(signer.issue(user_id=7, version=0)).user_id
        7
    """

    def __init__(self, secret: bytes, *, ttl_s: int) -> None:
        self._secret = secret
        self._ttl_s = ttl_s

    @property
    def ttl_s(self) -> int:
        """How long a token lives, in seconds."""
        return self._ttl_s

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose``, derived from this signer's secret (HMAC-SHA256), so
        one configured secret serves every use without one use's key revealing another's.

        Example:
            >>> signer = TokenSigner(b"k" * 32, ttl_s=60)
            >>> signer.derive_key("a") != signer.derive_key("b"), len(signer.derive_key("a"))
            (True, 32)
        """
        return hmac.new(self._secret, f"kupol-key:{purpose}".encode(), hashlib.sha256).digest()

    def for_purpose(self, purpose: str, *, ttl_s: int) -> TokenSigner:
        """A signer of tokens good for ``purpose`` only: signed with a derived key, they are
        never accepted as this signer's tokens, nor these as theirs.

        Example:
            >>> signer = TokenSigner(b"k" * 32, ttl_s=60)
            >>> step = signer.for_purpose("mfa-code", ttl_s=300)
            >>> signer.verify(step.issue(user_id=7, version=0))
            Traceback (most recent call last):
            ...
            kupol.core.errors.AuthenticationError: invalid token
        """
        return TokenSigner(self.derive_key(f"token:{purpose}"), ttl_s=ttl_s)

    def issue(self, *, user_id: int, version: int, now: float | None = None) -> str:
        """A new token for ``user_id`` valid for the configured time."""
        issued = int(now if now is not None else time.time())
        payload = {
            "sub": user_id,
            "ver": version,
            "iat": issued,
            "exp": issued + self._ttl_s,
            "jti": secrets.token_hex(8),
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, *, now: float | None = None) -> TokenClaims:
        """The claims of a valid token; :class:`AuthenticationError` otherwise."""
        body, _, signature = token.partition(".")
        # Bytes, not str: compare_digest raises TypeError on non-ASCII text (a forged header).
        if (
            not body
            or not signature
            or not hmac.compare_digest(signature.encode(), self._sign(body).encode())
        ):
            raise AuthenticationError("invalid token")
        try:
            payload = json.loads(_unb64(body))
            claims = TokenClaims(
                user_id=int(payload["sub"]),
                version=int(payload["ver"]),
                expires_at=int(payload["exp"]),
                token_id=str(payload["jti"]),
                issued_at=int(payload.get("iat", 0)),
            )
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError("invalid token") from None
        if claims.expires_at < (now if now is not None else time.time()):
            raise AuthenticationError("token expired; log in again")
        return claims

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())
