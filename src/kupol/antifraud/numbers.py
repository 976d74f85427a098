"""Telephone numbers as call screening sees them: normalised to E.164 and placed in
Kazakhstan's numbering (mobile operator, geographic region, unallocated), Russia's share of
+7, or another country.

The numbering is reference data (``reference/kz-numbering.toml``): the operators' mobile codes
and the regions' area codes. It is marked unverified — see the file — and a deployment may
name its own copy.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from kupol.core.errors import ConfigError

NUMBERING_PATH = Path(__file__).with_name("reference") / "kz-numbering.toml"


class NumberKind(StrEnum):
    """Where a number belongs."""

    KZ_MOBILE = "kz_mobile"
    KZ_GEOGRAPHIC = "kz_geographic"
    KZ_UNALLOCATED = "kz_unallocated"
    """In Kazakhstan's share of +7 but in no range the plan gives out."""
    RU = "ru"
    INTERNATIONAL = "international"
    INVALID = "invalid"
    """Not a telephone number at all: letters, too short or too long, empty."""


@dataclass(frozen=True, kw_only=True)
class Number:
    """A number, normalised, and what the numbering says of it."""

    e164: str
    """``+`` and digits; the input as given where it is no number."""
    kind: NumberKind
    operator: str | None = None
    region: str | None = None

    @property
    def domestic(self) -> bool:
        """A Kazakhstan number (allocated or not)."""
        return self.kind in {
            NumberKind.KZ_MOBILE,
            NumberKind.KZ_GEOGRAPHIC,
            NumberKind.KZ_UNALLOCATED,
        }


@dataclass(frozen=True)
class Numbering:
    """Kazakhstan's mobile codes and area codes."""

    mobile: dict[str, str]
    geographic: dict[str, str]
    verified: bool
    geographic_ranges: tuple[str, ...] = ()
    """Leading digits (after +7) of every area code: a number in them is a landline, of an
    unknown region where its area code is not in ``geographic``."""

    def classify(self, raw: str) -> Number:
        """Normalise ``raw`` (``+7 701 123 45 67``, ``87011234567``, ``007…``, ``8-727-…``)
        and place it.

        Example:
            >>> number = load_numbering().classify("8 (701) 123-45-67")
            >>> number.e164, number.kind.value, number.operator
            ('+77011234567', 'kz_mobile', 'Kcell')
        """
        text = raw.strip()
        digits = "".join(c for c in text if c.isdigit())
        # Letters make no number, nor do digits of other scripts (², ٣): they are not dialled.
        if not digits or not digits.isascii() or any(c.isalpha() for c in text) or len(digits) > 15:
            return Number(e164=text, kind=NumberKind.INVALID)
        if text.startswith("+"):
            national = digits
        elif digits.startswith("00"):
            national = digits[2:]
        elif digits.startswith("8") and len(digits) == 11:
            national = "7" + digits[1:]  # the domestic trunk prefix 8
        elif len(digits) == 10 and digits[0] in "67":
            national = "7" + digits
        else:
            national = digits
        e164 = "+" + national
        if not national.startswith("7"):
            if len(national) < 8:
                return Number(e164=e164, kind=NumberKind.INVALID)
            return Number(e164=e164, kind=NumberKind.INTERNATIONAL)
        nsn = national[1:]
        if len(nsn) != 10:
            return Number(e164=e164, kind=NumberKind.INVALID)
        if nsn[0] not in "67":
            return Number(e164=e164, kind=NumberKind.RU)
        operator = self.mobile.get(nsn[:3])
        if operator:
            return Number(e164=e164, kind=NumberKind.KZ_MOBILE, operator=operator)
        for length in (4, 3):
            region = self.geographic.get(nsn[:length])
            if region:
                return Number(e164=e164, kind=NumberKind.KZ_GEOGRAPHIC, region=region)
        if nsn.startswith(self.geographic_ranges):
            return Number(e164=e164, kind=NumberKind.KZ_GEOGRAPHIC)  # a district's town
        return Number(e164=e164, kind=NumberKind.KZ_UNALLOCATED)


@lru_cache(maxsize=4)
def load_numbering(path: Path = NUMBERING_PATH) -> Numbering:
    """Read the numbering reference.

    Raises:
        ConfigError: the file is missing or malformed.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"numbering reference {path}: {exc}") from exc
    mobile = {str(k): str(v) for k, v in data.get("mobile", {}).items()}
    geographic = {str(k): str(v) for k, v in data.get("geographic", {}).items()}
    ranges = data.get("geographic_ranges", [])
    if not isinstance(ranges, list):
        raise ConfigError(f"numbering reference {path}: geographic_ranges must be a list")
    ranges = [str(r) for r in ranges]
    bad = [k for k in [*mobile, *geographic] if not k.isdigit() or not 3 <= len(k) <= 4]
    bad += [r for r in ranges if not r.isdigit() or not 1 <= len(r) <= 4 or r[0] not in "67"]
    if not mobile or bad:
        raise ConfigError(f"numbering reference {path}: no mobile codes, or bad codes {bad}")
    return Numbering(
        mobile=mobile,
        geographic=geographic,
        verified=bool(data.get("verified")),
        geographic_ranges=tuple(ranges),
    )
