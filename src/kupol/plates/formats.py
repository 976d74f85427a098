"""Kazakhstan's plate formats, region codes, and the text rules plate reading needs.

A plate is kept as its characters without spaces or dashes, upper case, in Latin letters:
Cyrillic look-alikes (А, В, Е, К, М, Н, О, Р, С, Т, У, Х, and Kazakh І) are written as the
Latin letters they look like, because a camera cannot tell them apart and a search must find
either.

Formats (the 2012 standard, letters I, J, Q and G allowed since 2018):

* individuals ``NNN LLL RR`` — ``123ABC02``;
* organisations ``NNN LL RR`` — ``123AB02``;
* foreign-owned vehicles (yellow plates): ``F`` (a foreign citizen's) or ``H`` (a foreign or
  joint company's), four digits and the region — ``F123402``;
* rental e-scooters (from July 2026): an operator letter and up to five digits — ``A12345``;
* two-line plates (motorcycles, trailers) carry the same characters in two rows: the layout
  is the renderer's and the reader's business, the text rules are the same;
* the 1993 format ``L NNN LLL`` (an area letter first), still seen on old vehicles; the letter
  names a 1993 oblast, which gives today's region where that oblast lies in one
  (:data:`AREAS_1993`).

``RR`` is the region code, 01–20 (:data:`REGIONS`).

Example:
    >>> reading = parse_plate("123 авс 02")
    >>> reading.text, reading.kind.value, reading.region.name_en
    ('123ABC02', 'kz_individual', 'Almaty (city)')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


@dataclass(frozen=True, kw_only=True)
class Region:
    """A region (oblast) or city of national significance and its plate code."""

    code: str
    name_ru: str
    name_kk: str
    name_en: str


REGIONS: dict[str, Region] = {
    r.code: r
    for r in (
        Region(code="01", name_ru="Астана", name_kk="Астана", name_en="Astana"),
        Region(code="02", name_ru="Алматы", name_kk="Алматы", name_en="Almaty (city)"),
        Region(code="03", name_ru="Акмолинская область", name_kk="Ақмола облысы", name_en="Akmola"),
        Region(code="04", name_ru="Актюбинская область", name_kk="Ақтөбе облысы", name_en="Aktobe"),
        Region(code="05", name_ru="Алматинская область", name_kk="Алматы облысы", name_en="Almaty"),
        Region(code="06", name_ru="Атырауская область", name_kk="Атырау облысы", name_en="Atyrau"),
        Region(
            code="07",
            name_ru="Западно-Казахстанская область",
            name_kk="Батыс Қазақстан облысы",
            name_en="West Kazakhstan",
        ),
        Region(code="08", name_ru="Жамбылская область", name_kk="Жамбыл облысы", name_en="Jambyl"),
        Region(
            code="09",
            name_ru="Карагандинская область",
            name_kk="Қарағанды облысы",
            name_en="Karaganda",
        ),
        Region(
            code="10", name_ru="Костанайская область", name_kk="Қостанай облысы", name_en="Kostanay"
        ),
        Region(
            code="11",
            name_ru="Кызылординская область",
            name_kk="Қызылорда облысы",
            name_en="Kyzylorda",
        ),
        Region(
            code="12",
            name_ru="Мангистауская область",
            name_kk="Маңғыстау облысы",
            name_en="Mangystau",
        ),
        Region(
            code="13",
            name_ru="Туркестанская область",
            name_kk="Түркістан облысы",
            name_en="Turkestan",
        ),
        Region(
            code="14", name_ru="Павлодарская область", name_kk="Павлодар облысы", name_en="Pavlodar"
        ),
        Region(
            code="15",
            name_ru="Северо-Казахстанская область",
            name_kk="Солтүстік Қазақстан облысы",
            name_en="North Kazakhstan",
        ),
        Region(
            code="16",
            name_ru="Восточно-Казахстанская область",
            name_kk="Шығыс Қазақстан облысы",
            name_en="East Kazakhstan",
        ),
        Region(code="17", name_ru="Шымкент", name_kk="Шымкент", name_en="Shymkent"),
        Region(code="18", name_ru="Абайская область", name_kk="Абай облысы", name_en="Abai"),
        Region(code="19", name_ru="Жетысуская область", name_kk="Жетісу облысы", name_en="Jetisu"),
        Region(code="20", name_ru="Улытауская область", name_kk="Ұлытау облысы", name_en="Ulytau"),
    )
}
"""Plate region codes (the 2012 standard; 13 was South Kazakhstan until its 2018 renaming;
17–20 were added with Shymkent in 2018 and the three regions of 2022)."""

AREAS_1993: dict[str, tuple[str, tuple[str, ...]]] = {
    "A": ("Almaty (city)", ("02",)),
    "B": ("Almaty oblast", ("05", "19")),
    "C": ("Akmola oblast", ("03", "01")),
    "D": ("Aktobe oblast", ("04",)),
    "E": ("Atyrau oblast", ("06",)),
    "F": ("East Kazakhstan oblast", ("16", "18")),
    "H": ("Jambyl oblast", ("08",)),
    "K": ("Karaganda oblast", ("09", "20")),
    "L": ("West Kazakhstan oblast", ("07",)),
    "M": ("Jezkazgan oblast", ("20",)),
    "N": ("Kyzylorda oblast", ("11",)),
    "O": ("Kokshetau oblast", ("03", "15")),
    "P": ("Kostanay oblast", ("10",)),
    "R": ("Mangystau oblast", ("12",)),
    "S": ("Pavlodar oblast", ("14",)),
    "T": ("North Kazakhstan oblast", ("15", "03")),
    "U": ("Semipalatinsk oblast", ("18",)),
    "V": ("Taldykorgan oblast", ("19",)),
    "W": ("Torgay oblast", ("03", "10")),
    "X": ("South Kazakhstan oblast", ("13", "17")),
    "Z": ("Astana (city)", ("01",)),
}
"""The 1993 plates' area letters: the oblast of 1993 (or city) each names, and the regions of
today its plates may come from. Jezkazgan (M), Semipalatinsk (U) and Taldykorgan (V) oblasts
were merged into Karaganda (K), East Kazakhstan (F) and Almaty (B) oblasts in 1997 and came
back, as Ulytau, Abai and Jetisu regions, in 2022 — and the 1993 format was issued until 2012,
so K, F and B plates may come from either; Kokshetau (O) went to North Kazakhstan (T) in 1997
and partly to Akmola in 1999, Torgay (W) was divided between Akmola and Kostanay, South
Kazakhstan (X) is now Turkestan region and Shymkent, and C covered the capital until Z came in
1998. A plate gets a region only where its letter gives one (A, D, E, H, L, M, N, P, R, S, U,
V, Z). Entered by hand from public references (no official table could be read from this
machine); a letter not listed (G, I, J, Q, Y) was never an area, and a text starting with one
is not a 1993 plate."""

LOOKALIKES = str.maketrans(
    {
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "У": "Y",
        "Х": "X",
        "І": "I",
        "Ү": "Y",
        "Қ": "K",
        "Ң": "H",
        "Ұ": "Y",
    }
)
"""Cyrillic letters (Kazakh's too) written as the Latin letters they look like on a plate."""

_SEPARATORS = re.compile(r"[\s\-_.·|]+")
_REGION = r"(?:0[1-9]|1\d|20)"


class PlateKind(StrEnum):
    KZ_INDIVIDUAL = "kz_individual"
    KZ_ORGANISATION = "kz_organisation"
    KZ_FOREIGN = "kz_foreign"
    KZ_SCOOTER = "kz_scooter"
    KZ_1993 = "kz_1993"
    OTHER = "other"
    INVALID = "invalid"


_FORMATS: tuple[tuple[PlateKind, re.Pattern[str]], ...] = (
    (PlateKind.KZ_INDIVIDUAL, re.compile(rf"^\d{{3}}[A-Z]{{3}}({_REGION})$", re.ASCII)),
    (PlateKind.KZ_ORGANISATION, re.compile(rf"^\d{{3}}[A-Z]{{2}}({_REGION})$", re.ASCII)),
    (PlateKind.KZ_FOREIGN, re.compile(rf"^[FH]\d{{4}}({_REGION})$", re.ASCII)),
    (PlateKind.KZ_SCOOTER, re.compile(r"^[A-Z]\d{1,5}$", re.ASCII)),
    (PlateKind.KZ_1993, re.compile(rf"^([{''.join(AREAS_1993)}])\d{{3}}[A-Z]{{2,3}}$", re.ASCII)),
)  # ASCII: \d is 0-9, not every script's digits (١٢٣ is no plate)
_OTHER = re.compile(r"^[A-Z0-9]{2,10}$")


@dataclass(frozen=True, kw_only=True)
class PlateReading:
    """A plate's text checked against the formats."""

    text: str
    kind: PlateKind
    region: Region | None = None

    @property
    def kazakh(self) -> bool:
        """Whether the text is one of Kazakhstan's formats."""
        return self.kind.value.startswith("kz_")


def normalise(text: str) -> str:
    """Compatibility forms folded (full-width ``１２３`` is ``123``), upper case, Latin
    look-alikes for Cyrillic letters, no spaces or dashes.

    Example:
        >>> normalise(" 777 ққк-17 "), normalise("１２３ＡＢＣ０２")
        ('777KKK17', '123ABC02')
    """
    folded = text if text.isascii() else unicodedata.normalize("NFKC", text)
    return _SEPARATORS.sub("", folded.upper().translate(LOOKALIKES))


@lru_cache(maxsize=4096)
def parse_plate(text: str) -> PlateReading:
    """The plate's normalised text, its format and (Kazakh formats) its region.

    Example:
        >>> parse_plate("123AB17").kind, parse_plate("AB1234CD").kind, parse_plate("#").kind
        (<PlateKind.KZ_ORGANISATION: 'kz_organisation'>, <PlateKind.OTHER: 'other'>, \
<PlateKind.INVALID: 'invalid'>)
    """
    plate = normalise(text)
    for kind, pattern in _FORMATS:
        match = pattern.match(plate)
        if match:
            return PlateReading(text=plate, kind=kind, region=_region(kind, match))
    kind = PlateKind.OTHER if _OTHER.match(plate) else PlateKind.INVALID
    return PlateReading(text=plate, kind=kind)


def _region(kind: PlateKind, match: re.Match[str]) -> Region | None:
    if kind == PlateKind.KZ_1993:
        _, regions = AREAS_1993[match.group(1)]
        return REGIONS[regions[0]] if len(regions) == 1 else None
    return REGIONS.get(match.group(1)) if match.groups() else None


def area_1993(text: str) -> str | None:
    """The 1993 oblast (or city) a 1993-format plate's first letter names.

    Example:
        >>> area_1993("X123ABC"), area_1993("123ABC02")
        ('South Kazakhstan oblast', None)
    """
    reading = parse_plate(text)
    return AREAS_1993[reading.text[0]][0] if reading.kind == PlateKind.KZ_1993 else None


# What an OCR confuses, by the kind of character the format expects at that place.
_AS_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2",
                           "B": "8", "S": "5", "G": "6", "T": "7"})  # fmt: skip
_AS_LETTER = str.maketrans({"0": "O", "1": "I", "2": "Z", "8": "B", "5": "S", "6": "G",
                            "7": "T", "4": "A"})  # fmt: skip
_KZ_SHAPES = ("DDDLLLDD", "DDDLLDD", "LDDDDDD")  # individuals, organisations, foreign-owned


def fit_to_kazakh_format(text: str) -> str:
    """A read whose length fits a Kazakh format, with digits and letters swapped back where
    the format says which it must be (``O``↔``0``, ``I``↔``1``, ``B``↔``8`` …); unchanged
    otherwise. Used when voting over a track's reads, never to invent characters.

    Example:
        >>> fit_to_kazakh_format("I23ABC0Z")
        '123ABC02'
    """
    plate = normalise(text)
    return fit_to_countries(plate, ("kz",), max_swaps=len(plate))


COUNTRY_LAYOUTS: dict[str, tuple[str, ...]] = {
    "kz": _KZ_SHAPES,
    "br": ("LLLDDDD", "LLLDLDD"),  # before Mercosur; Mercosur (2018)
    "ua": ("LLDDDDLL",),
    "ru": ("LDDDLLDD", "LDDDLLDDD"),
    "uz": ("DDLDDDLL", "DDDDDLLL"),  # private cars; companies
    "kg": ("DDDDDDLLL",),  # 2016 plates, the "KG" mark not read
    "sk": ("LLDDDLL",),  # Slovakia: district, three digits, two letters (coat of arms between)
    "cz": ("DLDDDDD", "DLLDDDD"),  # Czechia: region letter second, a digit or letter third
    "gb": ("LLDDLLL",),  # Great Britain since 2001: area, age identifier, random letters
}
"""Which positions hold digits (D) and letters (L) on the plates of a country, for the
look-alike correction of :func:`fit_to_countries`; a deployment names its countries."""


def of_kind(c: str, kind: str) -> bool:
    """Whether ``c`` is of a layout position's kind (``D``: a digit, ``L``: a letter)."""
    return c.isdigit() if kind == "D" else c.isalpha()


def fit_to_countries(text: str, countries: Sequence[str], *, max_swaps: int = 2) -> str:
    """``text`` fitted to the first layout of ``countries`` it matches with at most
    ``max_swaps`` look-alike swaps (``O``↔``0``, ``I``↔``1``, ``B``↔``8`` …); unchanged when
    none fits. Kazakh layouts must also have a real region code; a text that is already a
    Kazakh plate is left as it is when Kazakhstan is among ``countries`` (a 1993 plate
    ``H123BOS`` is not made a foreign-owned ``H123805`` by three swaps).

    Example:
        >>> fit_to_countries("AYO9O34", ["kz", "br"])
        'AYO9034'
        >>> fit_to_countries("RK906AJ", ["br"])  # a Slovak plate is left alone
        'RK906AJ'
    """
    plate = normalise(text)
    if "kz" in countries and parse_plate(plate).kazakh:
        return plate
    for country in countries:
        for shape in COUNTRY_LAYOUTS.get(country, ()):
            if len(plate) != len(shape):
                continue
            fixed = "".join(
                c.translate(_AS_DIGIT) if kind == "D" else c.translate(_AS_LETTER)
                for c, kind in zip(plate, shape, strict=True)
            )
            fits = all(of_kind(c, kind) for c, kind in zip(fixed, shape, strict=True))
            swaps = sum(a != b for a, b in zip(fixed, plate, strict=True))
            if not fits or swaps > max_swaps:
                continue
            if country == "kz" and not parse_plate(fixed).kazakh:
                continue
            return fixed
    return plate


def fits_countries(text: str, countries: Sequence[str]) -> bool:
    """Whether ``text`` is laid out as a plate of one of ``countries`` (no swaps).

    Example:
        >>> fits_countries("123ABC02", ["kz"]), fits_countries("AT6883CM", ["kz", "ua"])
        (True, True)
    """
    return fit_to_countries(text, countries, max_swaps=0) == text and any(
        len(shape) == len(text)
        and all(of_kind(c, k) for c, k in zip(text, shape, strict=True))
        and (country != "kz" or parse_plate(text).kazakh)
        for country in countries
        for shape in COUNTRY_LAYOUTS.get(country, ())
    )


def wildcard(pattern: str) -> re.Pattern[str]:
    """A search pattern: ``?`` one character, ``*`` any run; spaces and case ignored.

    Example:
        >>> bool(wildcard("12? AB? 02").match("123ABC02"))
        True
    """
    plate = normalise(pattern.replace("*", "\x00").replace("?", "\x01"))
    regex = "".join(".*" if c == "\x00" else "." if c == "\x01" else re.escape(c) for c in plate)
    return re.compile(f"^{regex}$")


def within_one(a: str, b: str) -> bool:
    """Whether two plates differ by at most one character (substituted, added or dropped).

    Example:
        >>> within_one("123ABC02", "123ABC08"), within_one("123ABC02", "23ABC02")
        (True, True)
    """
    a, b = normalise(a), normalise(b)
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
