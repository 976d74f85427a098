"""Accounts as kupol keeps them, so that one account written two ways is one account.

Banks write an IBAN in groups of four, in capitals or not (``kz86 125K ZT50 0410 0100``), and a
person-to-person transfer may name the payee by telephone (``8 701 123 45 67``). A transfer
to a listed mule must be held however the bank wrote it, and the money trail must join the
victims who paid it. Only what is surely one of those is rewritten: an IBAN whose check digits
hold (ISO 13616, mod 97), a Kazakhstan mobile number; any other account id is kept as written.
"""

from __future__ import annotations

import re

from kupol.antifraud.numbers import Numbering, NumberKind, load_numbering

_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_PHONE = re.compile(r"\+?[0-9 ()\-]{10,20}")


def iban_valid(text: str) -> bool:
    """Whether ``text`` (capitals, no spaces) is an IBAN whose check digits hold.

    Example:
        >>> iban_valid("KZ86125KZT5004100100"), iban_valid("KZ87125KZT5004100100")
        (True, False)
    """
    if not _IBAN.fullmatch(text):
        return False
    moved = text[4:] + text[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def normalise_account(text: str, numbering: Numbering | None = None) -> str:
    """An IBAN without its spaces, in capitals; a Kazakhstan mobile number (by ``numbering``,
    the deployment's plan, or the shipped one) in E.164; anything else as given.

    Example:
        >>> normalise_account("kz86 125K ZT50 0410 0100"), normalise_account("8 701 123 45 67")
        ('KZ86125KZT5004100100', '+77011234567')
        >>> normalise_account("C1231006815"), normalise_account("ab12cdefghijklmnop")
        ('C1231006815', 'ab12cdefghijklmnop')
    """
    compact = "".join(text.split()).upper()
    if iban_valid(compact):
        return compact
    if _PHONE.fullmatch(text):
        number = (numbering or load_numbering()).classify(text)
        if number.kind is NumberKind.KZ_MOBILE:
            return number.e164
    return text
