"""Time-based one-time passwords (RFC 6238 over RFC 4226): the codes authenticator apps show.

HMAC-SHA1, 6 digits, 30-second steps — what Google Authenticator, FreeOTP, Aegis and the like
use when a ``otpauth://`` link names nothing else. Secrets travel as RFC 4648 base32.

Example:
    >>> key = decode_secret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")  # b"12345678901234567890"
    >>> code_at(key, 59, digits=8)
    '94287082'
    >>> match(key, "287082", at=59)  # the 6-digit code of step 1
    1
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

STEP_S = 30
DIGITS = 6
WINDOW = 1
"""Steps either side of now that are accepted: a phone's clock a little off, a code typed
just as it changed."""
SECRET_BYTES = 20  # 160 bits, the length RFC 4226 recommends for HMAC-SHA1


def new_secret() -> str:
    """A fresh random secret in base32 without padding (32 characters)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 secret; spaces, lower case and missing padding are allowed.

    Raises:
        ValueError: not base32.

    Example:
        >>> decode_secret("mzxw 6ytb oi")
        b'foobar'
    """
    text = "".join(secret.split()).upper().rstrip("=")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error as exc:
        raise ValueError(f"not a base32 secret: {exc}") from None


def hotp(key: bytes, counter: int, *, digits: int = DIGITS) -> str:
    """The HOTP value of ``counter`` (RFC 4226 section 5.3: HMAC-SHA1, dynamic truncation).

    Example:
        >>> hotp(b"12345678901234567890", 0)
        '755224'
    """
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def step_at(at: float, *, step_s: int = STEP_S) -> int:
    """The time step (RFC 6238's T, with T0 = 0) that the Unix time ``at`` falls in."""
    return int(at // step_s)


def code_at(key: bytes, at: float, *, digits: int = DIGITS, step_s: int = STEP_S) -> str:
    """The code an authenticator app shows at Unix time ``at``."""
    return hotp(key, step_at(at, step_s=step_s), digits=digits)


def match(
    key: bytes,
    code: str,
    *,
    at: float,
    window: int = WINDOW,
    digits: int = DIGITS,
    step_s: int = STEP_S,
) -> int | None:
    """The step whose code ``code`` is, within ``window`` steps of ``at``; ``None`` otherwise.

    Every candidate is compared in constant time, and all of them always, so the time taken
    does not tell which part of a guess was right. Refusing a code used before is the
    caller's part: it keeps the last step it accepted and refuses this one unless later.
    """
    now = step_at(at, step_s=step_s)
    given = "".join(code.split()).encode()
    found: int | None = None
    for step in range(now - window, now + window + 1):
        if step >= 0 and hmac.compare_digest(hotp(key, step, digits=digits).encode(), given):
            found = step
    return found


def provisioning_uri(secret: str, *, account: str, issuer: str = "kupol") -> str:
    """The ``otpauth://`` link an authenticator app takes (typed in or opened on the phone).

    Example:
        >>> provisioning_uri("JBSWY3DPEHPK3PXP", account="ivanov")
        'otpauth://totp/kupol:ivanov?secret=JBSWY3DPEHPK3PXP&issuer=kupol'
    """
    label = quote(f"{issuer}:{account}", safe=":@")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": issuer})
