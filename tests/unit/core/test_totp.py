"""TOTP against the RFCs' own test vectors: RFC 6238 (SHA-1), RFC 4226, RFC 4648 base32."""

from __future__ import annotations

import doctest
from urllib.parse import parse_qs, urlsplit

import pytest

from kupol.core.auth import totp

RFC_KEY = b"12345678901234567890"  # RFC 6238 Appendix B's SHA-1 seed (ASCII)


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_codes_match_rfc_6238_appendix_b_sha1(at: int, code: str) -> None:
    assert totp.code_at(RFC_KEY, at, digits=8) == code
    assert totp.match(RFC_KEY, code, at=at, digits=8) == at // 30


def test_hotp_matches_rfc_4226_appendix_d() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]  # fmt: skip

    assert [totp.hotp(RFC_KEY, counter) for counter in range(10)] == expected


@pytest.mark.parametrize(
    ("encoded", "raw"),
    [
        ("MY======", b"f"),
        ("MZXQ====", b"fo"),
        ("MZXW6===", b"foo"),
        ("MZXW6YQ=", b"foob"),
        ("MZXW6YTB", b"fooba"),
        ("MZXW6YTBOI======", b"foobar"),
        ("mzxw6ytboi", b"foobar"),  # as people type it: lower case, no padding
        ("MZXW 6YTB OI", b"foobar"),  # as apps show it: in groups
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", RFC_KEY),
    ],
)
def test_secrets_decode_as_rfc_4648_base32(encoded: str, raw: bytes) -> None:
    assert totp.decode_secret(encoded) == raw


def test_a_secret_that_is_not_base32_is_refused() -> None:
    with pytest.raises(ValueError, match="base32"):
        totp.decode_secret("not base32 at all! 0189")


def test_new_secrets_are_160_random_bits_in_base32() -> None:
    first, second = totp.new_secret(), totp.new_secret()

    assert len(totp.decode_secret(first)) == 20
    assert first != second


def test_the_codes_of_one_step_either_side_are_accepted_and_no_further() -> None:
    at = 1_700_000_000.0
    now = totp.step_at(at)

    accepted = {d: totp.match(RFC_KEY, totp.hotp(RFC_KEY, now + d), at=at) for d in (-1, 0, 1)}
    refused = [totp.match(RFC_KEY, totp.hotp(RFC_KEY, now + d), at=at) for d in (-3, -2, 2, 3)]

    assert accepted == {-1: now - 1, 0: now, 1: now + 1}
    assert refused == [None] * 4


def test_a_wrong_code_is_refused_and_spaces_are_ignored() -> None:
    code = totp.code_at(RFC_KEY, 59)

    assert totp.match(RFC_KEY, f"{code[:3]} {code[3:]}", at=59) == 1
    assert totp.match(RFC_KEY, "000000" if code != "000000" else "111111", at=59) is None
    assert totp.match(RFC_KEY, "", at=59) is None


def test_the_link_for_authenticator_apps_names_the_issuer_user_and_secret() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", account="a.ivanov")

    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/kupol:a.ivanov")
    assert parse_qs(parts.query) == {"secret": ["JBSWY3DPEHPK3PXP"], "issuer": ["kupol"]}


def test_the_examples_in_the_docstrings_hold() -> None:
    assert doctest.testmod(totp).failed == 0
