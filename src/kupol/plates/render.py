"""Synthetic plate images for training a plate reader where no real plates can be had.

Kazakhstan's 2012 plates are drawn as the standard describes them: black characters on white,
a black border, the national flag over ``KZ`` at the left, ``NNN LLL`` (individuals) or
``NNN LL`` (organisations) in the middle, and the two-digit region code in a framed cell at the
right. Two-line plates (motorcycles, trailers) carry the same characters in two rows. EU-style
(blue band) and US-style plates are drawn too, so that a model learns characters rather than
one layout.

Everything random is drawn from the caller's ``numpy`` generator, so one seed gives one image,
byte for byte.

Example:
    >>> import numpy as np
    >>> fonts = available_fonts()
    >>> plate = render_plate("123 ABC 02", style=PlateStyle.KZ_INDIVIDUAL,
    ...                      rng=np.random.default_rng(0), font=fonts)
    >>> plate.text, plate.image.shape
    ('123ABC02', (112, 520, 3))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from kupol.plates.formats import REGIONS

FONT_DIR = Path(__file__).resolve().parents[3] / "var" / "plate-fonts"
"""Where ``scripts/fetch_plate_fonts.py`` puts the DIN-like fonts (git-ignored, in a checkout)."""

# DejaVu comes with every Debian Python image; Liberation only with some packages (a browser
# pulls it in), so it is left out: the training fonts must not depend on what else a machine
# happens to have installed, or `make plate-model` would not give the same model everywhere.
_SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
_FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")

# Letters on Kazakh plates: the Latin alphabet; I, J, Q and G have been issued since 2018.
KZ_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
KZ_REGION_CODES = tuple(sorted(REGIONS))
_EU_COUNTRIES = (
    "D", "F", "PL", "LT", "LV", "NL", "CZ", "SK", "EST", "FIN", "B", "I", "E", "UA", "RO", "H",
)  # fmt: skip
_US_STATES = ("TEXAS", "OHIO", "NEVADA", "FLORIDA", "OREGON", "ARIZONA", "NEW YORK", "IOWA")

_KZ_BLUE = (0, 175, 202)
_KZ_GOLD = (254, 197, 0)
_KZ_YELLOW = (255, 214, 40)  # RGB
_EU_BLUE = (0, 51, 153)
_EU_GOLD = (255, 204, 0)

BGRImage = npt.NDArray[np.uint8]


class PlateStyle(StrEnum):
    """The layouts :func:`render_plate` draws."""

    KZ_INDIVIDUAL = "kz_individual"
    KZ_ORGANISATION = "kz_organisation"
    KZ_TWO_LINE = "kz_two_line"
    KZ_FOREIGN = "kz_foreign"
    EU = "eu"
    US = "us"
    GENERIC = "generic"


# Plate sizes in pixels, 1 px per mm for the metric ones (520 x 112 is the KZ/EU long plate).
PLATE_SIZE: dict[PlateStyle, tuple[int, int]] = {
    PlateStyle.KZ_INDIVIDUAL: (520, 112),
    PlateStyle.KZ_ORGANISATION: (520, 112),
    PlateStyle.KZ_TWO_LINE: (290, 170),
    PlateStyle.KZ_FOREIGN: (520, 112),
    PlateStyle.EU: (520, 110),
    PlateStyle.US: (305, 152),
    PlateStyle.GENERIC: (440, 120),
}
"""(width, height) of each style's image."""

_PATTERNS: dict[PlateStyle, re.Pattern[str]] = {
    PlateStyle.KZ_INDIVIDUAL: re.compile(r"^(\d{3}) ?([A-Z]{3}) ?(\d{2})$"),
    PlateStyle.KZ_ORGANISATION: re.compile(r"^(\d{3}) ?([A-Z]{2}) ?(\d{2})$"),
    PlateStyle.KZ_TWO_LINE: re.compile(r"^(\d{3}) ?([A-Z]{2,3}) ?(\d{2})$"),
    PlateStyle.KZ_FOREIGN: re.compile(r"^([FH]) ?(\d{4}) ?(\d{2})$"),
    PlateStyle.EU: re.compile(r"^[A-Z0-9]{1,4}( [A-Z0-9]{1,4}){0,2}$"),
    PlateStyle.US: re.compile(r"^[A-Z0-9]{1,4}( ?[A-Z0-9]{1,4})?$"),
    PlateStyle.GENERIC: re.compile(r"^[A-Z0-9][A-Z0-9 .-]{1,12}[A-Z0-9]$"),
}


@dataclass(frozen=True)
class RenderedPlate:
    """A drawn plate and what a reader should read off it.

    Attributes:
        image: BGR ``uint8`` image of the whole plate, border included.
        text: The characters to read, upper case, no spaces (the ``KZ`` mark and the flag,
            the EU country code and the US state name are not part of it).
        style: The layout drawn.
        two_line: Whether the characters stand in two rows.
    """

    image: BGRImage
    text: str
    style: PlateStyle
    two_line: bool


def available_fonts(extra_dirs: Sequence[Path] = (FONT_DIR,)) -> list[Path]:
    """Fonts to draw plates with: the fetched fonts first, then two DejaVu bold faces.

    Example:
        >>> all(path.exists() for path in available_fonts())
        True
    """
    found: list[Path] = []
    for folder in extra_dirs:
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.suffix.lower() in _FONT_SUFFIXES)
    found += [path for path in _SYSTEM_FONTS if path.exists()]
    return found


def sample_text(style: PlateStyle, rng: np.random.Generator) -> str:
    """A random plate text for ``style``, spaced as the plate groups it.

    Example:
        >>> sample_text(PlateStyle.KZ_INDIVIDUAL, np.random.default_rng(1))[3]
        ' '
    """

    def digits(n: int) -> str:
        return "".join(str(d) for d in rng.integers(0, 10, n))

    def letters(n: int) -> str:
        return "".join(KZ_LETTERS[i] for i in rng.integers(0, len(KZ_LETTERS), n))

    region = KZ_REGION_CODES[int(rng.integers(len(KZ_REGION_CODES)))]
    if style is PlateStyle.KZ_INDIVIDUAL:
        return f"{digits(3)} {letters(3)} {region}"
    if style is PlateStyle.KZ_ORGANISATION:
        return f"{digits(3)} {letters(2)} {region}"
    if style is PlateStyle.KZ_TWO_LINE:
        return f"{digits(3)} {letters(int(rng.integers(2, 4)))} {region}"
    if style is PlateStyle.KZ_FOREIGN:
        return f"{'FH'[int(rng.integers(2))]} {digits(4)} {region}"
    if style is PlateStyle.EU:
        return f"{letters(int(rng.integers(1, 4)))} {digits(int(rng.integers(2, 5)))}"
    if style is PlateStyle.GENERIC:
        return _generic_text(rng)
    return f"{digits(1)}{letters(3)}{digits(3)}"


def render_plate(
    text: str,
    *,
    style: PlateStyle,
    rng: np.random.Generator,
    font: Path | Sequence[Path],
) -> RenderedPlate:
    """Draw ``text`` as a clean plate of ``style``; :mod:`kupol.plates.augment` degrades it.

    Args:
        text: The plate's characters, spaced as on the plate (``"123 ABC 02"``); Kazakh
            plates may be given without spaces.
        style: The layout.
        rng: Source of all variation (ink, paper tint, spacing, font choice).
        font: One font file, or several to choose from with ``rng``.

    Raises:
        ValueError: ``text`` does not fit ``style``.
    """
    text = text.strip().upper()
    match = _PATTERNS[style].match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a {style.value} plate")
    fonts = [font] if isinstance(font, Path) else list(font)
    if not fonts:
        raise ValueError("no font to draw with")
    font_path = fonts[int(rng.integers(len(fonts)))]
    width, height = PLATE_SIZE[style]
    paper = tuple(int(v) for v in 255 - rng.integers(0, 18, 3))
    if style is PlateStyle.KZ_FOREIGN:  # yellow: foreign citizens' and companies' vehicles
        paper = tuple(int(v) for v in np.array(_KZ_YELLOW) - rng.integers(0, 25, 3))
    ink = tuple(int(v) for v in rng.integers(0, 40, 3))
    canvas = Image.new("RGB", (width, height), _rgb(paper))
    draw = ImageDraw.Draw(canvas)
    pen = _Pen(canvas, Path(font_path), _rgb(ink), float(rng.uniform(0.02, 0.12)))
    if style in (PlateStyle.KZ_INDIVIDUAL, PlateStyle.KZ_ORGANISATION, PlateStyle.KZ_FOREIGN):
        _draw_kz_long(draw, pen, match.groups(), rng)
    elif style is PlateStyle.KZ_TWO_LINE:
        _draw_kz_two_line(draw, pen, match.groups(), rng)
    elif style is PlateStyle.EU:
        _draw_eu(draw, pen, text, rng)
    elif style is PlateStyle.US:
        _draw_us(draw, pen, text, rng)
    else:
        canvas = _draw_generic(pen, text, rng)
    image = np.ascontiguousarray(np.asarray(canvas)[:, :, ::-1])
    return RenderedPlate(
        image=image,
        text=re.sub(r"[ .-]", "", text),
        style=style,
        two_line=style is PlateStyle.KZ_TWO_LINE,
    )


def _rgb(values: tuple[int, ...]) -> tuple[int, int, int]:
    return (values[0], values[1], values[2])


@lru_cache(maxsize=64)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@dataclass(frozen=True)
class _Pen:
    canvas: Image.Image
    font: Path
    ink: tuple[int, int, int]
    tracking: float  # extra space between characters, as a fraction of the cap height

    def write(
        self,
        text: str,
        box: tuple[int, int, int, int],
        *,
        color: tuple[int, int, int] | None = None,
        font: Path | None = None,
    ) -> None:
        """Fill ``box`` (x0, y0, x1, y1) with ``text``, centred, squeezed if too wide."""
        mask = _text_mask(text, font or self.font, self.tracking)
        box_w, box_h = box[2] - box[0], box[3] - box[1]
        scale = box_h / mask.height
        new_w = min(box_w, max(1, round(mask.width * scale)))
        mask = mask.resize((new_w, box_h), Image.Resampling.LANCZOS)
        x = box[0] + (box_w - new_w) // 2
        self.canvas.paste(color or self.ink, (x, box[1], x + new_w, box[3]), mask)


@lru_cache(maxsize=4096)
def _text_mask(text: str, font_path: Path, tracking: float) -> Image.Image:
    """``text`` drawn large on a greyscale mask, cropped to the characters' ink."""
    size = 96
    font = _font(font_path, size)
    cap = font.getbbox("H", anchor="ls")
    gap = round(abs(cap[1]) * tracking)
    width = int(sum(font.getlength(c) for c in text) + gap * len(text) + size)
    mask = Image.new("L", (width, size * 2), 0)
    draw = ImageDraw.Draw(mask)
    x = size // 4
    for char in text:
        if char != " ":
            draw.text((x, size * 1.4), char, fill=255, font=font, anchor="ls")
        x += round(font.getlength(char)) + gap
    bbox = mask.getbbox()
    return mask.crop(bbox) if bbox else mask


def _border(
    draw: ImageDraw.ImageDraw,
    size: tuple[int, int],
    ink: tuple[int, int, int],
    width: int,
    radius: int,
) -> None:
    draw.rounded_rectangle(
        (1, 1, size[0] - 2, size[1] - 2), radius=radius, outline=ink, width=width
    )


def _draw_kz_flag(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    """The flag, simplified: sky blue, a golden sun with rays, an eagle's arc, the ornament."""
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=_KZ_BLUE)
    w, h = x1 - x0, y1 - y0
    orn = max(2, w // 9)
    for i in range(0, h, max(3, h // 6)):
        draw.rectangle((x0 + 1, y0 + i + 1, x0 + orn, y0 + i + max(2, h // 12)), fill=_KZ_GOLD)
    cx, cy, r = x0 + orn + (w - orn) // 2, y0 + h * 0.4, h * 0.2
    for k in range(16):
        a = np.pi * 2 * k / 16
        draw.line(
            (
                cx + np.cos(a) * r,
                cy + np.sin(a) * r,
                cx + np.cos(a) * r * 1.5,
                cy + np.sin(a) * r * 1.5,
            ),
            fill=_KZ_GOLD,
            width=1,
        )
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_KZ_GOLD)
    draw.arc(
        (cx - r * 2, cy + r * 0.6, cx + r * 2, cy + r * 2.6),
        200,
        340,
        fill=_KZ_GOLD,
        width=max(1, h // 14),
    )


def _draw_kz_long(
    draw: ImageDraw.ImageDraw, pen: _Pen, groups: Sequence[str | None], rng: np.random.Generator
) -> None:
    digits, letters, region = (g or "" for g in groups)
    width, height = pen.canvas.size
    line = int(rng.integers(3, 6))
    _border(draw, (width, height), pen.ink, line, int(rng.integers(4, 10)))
    m = line + 4
    # Left panel: the flag over "KZ".
    panel_w = 58
    _draw_kz_flag(draw, (m + 2, m + 2, m + panel_w - 4, m + 2 + int(height * 0.42)))
    pen.write("KZ", (m + 6, int(height * 0.6), m + panel_w - 8, height - m - 6))
    # Right cell: the region code, framed by a vertical rule.
    cell_w = 112
    rule_x = width - m - cell_w
    draw.rectangle((rule_x, m, rule_x + line - 1, height - m), fill=pen.ink)
    char_h = int(height * float(rng.uniform(0.6, 0.68)))
    top = (height - char_h) // 2
    pen.write(region, (rule_x + line + 12, top, width - m - 12, top + char_h))
    main = f"{digits} {letters}"
    pen.write(main, (m + panel_w + 10, top, rule_x - 14, top + char_h))


def _draw_kz_two_line(
    draw: ImageDraw.ImageDraw, pen: _Pen, groups: Sequence[str | None], rng: np.random.Generator
) -> None:
    digits, letters, region = (g or "" for g in groups)
    width, height = pen.canvas.size
    line = int(rng.integers(3, 5))
    _border(draw, (width, height), pen.ink, line, int(rng.integers(4, 10)))
    m = line + 4
    mid = height // 2
    # Top row: digits, then the region code in its cell; bottom row: flag/KZ, then letters.
    cell_w = 96
    rule_x = width - m - cell_w
    draw.rectangle((rule_x, m, rule_x + line - 1, mid - 2), fill=pen.ink)
    draw.rectangle((m, mid - 2, width - m, mid - 3 + line), fill=pen.ink)
    row_h = int((mid - m) * float(rng.uniform(0.72, 0.8)))
    top1 = m + (mid - m - row_h) // 2
    pen.write(digits, (m + 10, top1, rule_x - 10, top1 + row_h))
    pen.write(region, (rule_x + line + 8, top1, width - m - 8, top1 + row_h))
    panel_w = 52
    _draw_kz_flag(draw, (m + 4, mid + 6, m + panel_w - 4, mid + 6 + int((height - mid) * 0.45)))
    pen.write("KZ", (m + 8, mid + 6 + int((height - mid) * 0.52), m + panel_w - 8, height - m - 6))
    top2 = mid + line + (height - m - mid - line - row_h) // 2
    pen.write(letters, (m + panel_w + 10, top2, width - m - 10, top2 + row_h))


def _draw_eu(draw: ImageDraw.ImageDraw, pen: _Pen, text: str, rng: np.random.Generator) -> None:
    width, height = pen.canvas.size
    line = int(rng.integers(2, 4))
    band_w = 44
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=8, outline=pen.ink, width=line)
    draw.rectangle((line, line, band_w, height - line - 1), fill=_EU_BLUE)
    cx, cy, r = (line + band_w) / 2, height * 0.32, height * 0.17
    for k in range(12):
        a = np.pi * 2 * k / 12
        sx, sy = cx + np.cos(a) * r, cy + np.sin(a) * r
        draw.ellipse((sx - 2, sy - 2, sx + 2, sy + 2), fill=_EU_GOLD)
    country = _EU_COUNTRIES[int(rng.integers(len(_EU_COUNTRIES)))]
    pen.write(
        country,
        (line + 6, int(height * 0.62), band_w - 5, int(height * 0.88)),
        color=(255, 255, 255),
    )
    char_h = int(height * float(rng.uniform(0.66, 0.74)))
    top = (height - char_h) // 2
    box = (band_w + 14, top, width - 14, top + char_h)
    if rng.random() < 0.5 or not _write_around_mark(draw, pen, text, box, rng):
        pen.write(text, box)


def _draw_us(draw: ImageDraw.ImageDraw, pen: _Pen, text: str, rng: np.random.Generator) -> None:
    width, height = pen.canvas.size
    accent = tuple(int(v) for v in rng.integers(0, 160, 3))
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=12, outline=_rgb(accent), width=3)
    state = _US_STATES[int(rng.integers(len(_US_STATES)))]
    pen.write(state, (width // 4, 10, width * 3 // 4, 34), color=_rgb(accent))
    for hx in (width // 4 - 14, width * 3 // 4 + 10):
        draw.ellipse((hx, 14, hx + 6, 20), fill=(120, 120, 120))
    if rng.random() < 0.5:
        _scenery(draw, (width, height), rng)
    ink = _rgb(tuple(int(v) for v in rng.integers(0, 90, 3)))
    if rng.random() < 0.25:  # red, blue or green characters, as some states print them
        ink = _US_INKS[int(rng.integers(len(_US_INKS)))]
    left, right = 16, width - 16
    if rng.random() < 0.45:  # a picture beside the characters: a cactus, a logo, a badge
        side = int(width * rng.uniform(0.14, 0.28))
        if rng.random() < 0.6:
            _draw_picture(draw, pen, (8, 38, 8 + side, height - 22), rng)
            left = 8 + side + int(rng.integers(2, 10))
        else:
            _draw_picture(draw, pen, (width - 8 - side, 38, width - 8, height - 22), rng)
            right = width - 8 - side - int(rng.integers(2, 10))
    pen.write(text, (left, 44, right, height - 30), color=ink)
    draw.rectangle((width // 3, height - 22, width * 2 // 3, height - 14), fill=_rgb(accent))


_US_INKS = ((170, 20, 30), (20, 40, 140), (20, 90, 40))


def _scenery(draw: ImageDraw.ImageDraw, size: tuple[int, int], rng: np.random.Generator) -> None:
    """A scenic plate's background: a sky gradient and a hill or skyline along the bottom."""
    width, height = size
    top = rng.integers(150, 256, 3)
    bottom = rng.integers(150, 256, 3)
    for y in range(height):
        t = y / max(1, height - 1)
        draw.line(
            (0, y, width, y),
            fill=_rgb(tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))),
        )
    ground = _rgb(tuple(int(v) for v in rng.integers(60, 200, 3)))
    points = [(0, height)]
    for x in range(0, width + 20, 20):
        points.append((x, int(height * rng.uniform(0.7, 0.92))))
    points.append((width, height))
    draw.polygon(points, fill=ground)


def _draw_picture(
    draw: ImageDraw.ImageDraw, pen: _Pen, box: tuple[int, int, int, int], rng: np.random.Generator
) -> None:
    """A picture that is no character but may look like one: what a reader must read past."""
    x0, y0, x1, y1 = box
    colour = _rgb(tuple(int(v) for v in rng.integers(0, 200, 3)))
    kind = int(rng.integers(5))
    if kind == 0:  # a cactus or a tree: a trunk with arms
        cx = (x0 + x1) // 2
        stroke = max(3, (x1 - x0) // 6)
        draw.line((cx, y0 + 4, cx, y1), fill=colour, width=stroke)
        for _ in range(int(rng.integers(1, 4))):
            arm_y = int(rng.integers(y0 + 8, max(y0 + 9, y1 - 10)))
            end_x = int(rng.integers(x0, x1))
            draw.line((cx, arm_y, end_x, arm_y), fill=colour, width=stroke)
            draw.line(
                (end_x, arm_y, end_x, arm_y - int(rng.integers(5, 20))), fill=colour, width=stroke
            )
    elif kind == 1:  # a round logo with something inside
        r = min(x1 - x0, y1 - y0) // 2
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=(10, 10, 10), width=2)
        if r < 6:
            return
        inner = _rgb(tuple(int(v) for v in rng.integers(100, 256, 3)))
        pen.write(
            KZ_LETTERS[int(rng.integers(26))],
            (cx - r // 2, cy - r // 2, cx + r // 2, cy + r // 2),
            color=inner,
        )
    elif kind == 2:  # two small letters stacked, as a vanity or organisation mark
        letters = "".join(KZ_LETTERS[int(i)] for i in rng.integers(0, 26, 2))
        mid = (y0 + y1) // 2
        w = min(x1 - x0, (y1 - y0) // 3)
        pen.write(letters[0], (x0, y0, x0 + w, mid - 2), color=colour)
        pen.write(letters[1], (x0, mid + 2, x0 + w, y1), color=colour)
    elif kind == 3:  # a blob: an animal, a lighthouse, a map of the state
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 10))))
        radii = rng.uniform(0.3, 0.5, len(angles))
        draw.polygon(
            [
                (mx + (x1 - x0) * r * np.cos(a), my + (y1 - y0) * r * np.sin(a))
                for a, r in zip(angles, radii, strict=True)
            ],
            fill=colour,
        )
    else:  # figures: heads and bodies
        n = int(rng.integers(1, 3))
        w = (x1 - x0) // n
        for i in range(n):
            fx = x0 + i * w + w // 2
            r = max(2, min(w // 5, (y1 - y0) // 6))
            draw.ellipse((fx - r, y0 + 4, fx + r, y0 + 4 + 2 * r), fill=colour)
            body_top = y0 + 6 + 2 * r
            body_bottom = max(body_top, y1 - (y1 - y0) // 3)
            draw.rectangle((fx - r, body_top, fx + r, body_bottom), fill=colour)


# Layouts of other countries' plates (L a letter, N a digit), so the reader learns characters
# and separators rather than one country's grouping.
_GENERIC_LAYOUTS = (
    "LLL-NNNN",  # Brazil before Mercosur
    "LLLNLNN",  # Mercosur
    "LL NNNN LL",  # Ukraine
    "LL-NNN-LL",  # France
    "LL NN LLL",  # United Kingdom
    "L NNN LL",
    "NN-LL-NN",  # the Netherlands
    "LLL NNN",
    "NNN LLL",
    "LL NNNNN",
    "NLLLNNN",  # United States
    "LLNNNN",
)
_GENERIC_PAPERS = (
    ((250, 250, 248), (15, 15, 15)),  # white
    ((255, 208, 0), (15, 15, 15)),  # yellow (NL, UK rear, taxis)
    ((190, 190, 186), (20, 20, 20)),  # grey (old Brazilian)
    ((215, 230, 245), (20, 30, 90)),  # pale blue, dark blue ink
    ((25, 25, 25), (240, 240, 240)),  # black, white characters
    ((20, 70, 40), (235, 235, 235)),  # green, white characters
)

_PAPER_ODDS = (0.4, 0.15, 0.17, 0.13, 0.08, 0.07)
"""Most plates are light; dark ones are kept rare."""


def _generic_text(rng: np.random.Generator) -> str:
    if rng.random() < 0.7:
        layout = _GENERIC_LAYOUTS[int(rng.integers(len(_GENERIC_LAYOUTS)))]
    else:  # any 4-8 characters, with up to two separators
        n = int(rng.integers(4, 9))
        layout = "".join("L" if rng.random() < 0.5 else "N" for _ in range(n))
        for _ in range(int(rng.integers(0, 3))):
            cut = int(rng.integers(1, len(layout)))
            if layout[cut - 1] in "LN" and layout[cut] in "LN":
                layout = layout[:cut] + " -."[int(rng.integers(3))] + layout[cut:]
    return "".join(
        KZ_LETTERS[int(rng.integers(26))]
        if c == "L"
        else str(int(rng.integers(10)))
        if c == "N"
        else c
        for c in layout
    )


def _draw_generic(pen: _Pen, text: str, rng: np.random.Generator) -> Image.Image:
    """A plate of no one country: its size, colours, bands and small print drawn at random."""
    width = int(rng.choice([300, 360, 440, 520]))
    height = int(rng.choice([100, 110, 120, 150])) if width > 300 else 150
    paper, ink = _GENERIC_PAPERS[int(rng.choice(len(_GENERIC_PAPERS), p=_PAPER_ODDS))]
    tint = rng.integers(-12, 12, 3)
    paper_rgb = _rgb(tuple(int(np.clip(v + t, 0, 255)) for v, t in zip(paper, tint, strict=True)))
    canvas = Image.new("RGB", (width, height), paper_rgb)
    draw = ImageDraw.Draw(canvas)
    pen = _Pen(canvas, pen.font, ink, pen.tracking)
    line = int(rng.integers(0, 5))
    if line:
        draw.rounded_rectangle(
            (1, 1, width - 2, height - 2), radius=int(rng.integers(2, 14)), outline=ink, width=line
        )
    left, top, bottom = line + 6, line + 4, height - line - 4
    if rng.random() < 0.35:  # a blue national band with a country code
        band = int(width * 0.09)
        draw.rectangle((line, line, line + band, height - line - 1), fill=_EU_BLUE)
        code = _EU_COUNTRIES[int(rng.integers(len(_EU_COUNTRIES)))]
        pen.write(
            code,
            (line + 4, int(height * 0.6), line + band - 4, int(height * 0.85)),
            color=(255, 255, 255),
        )
        left = line + band + 8
    small_h = int(height * 0.2)
    if rng.random() < 0.4:  # small print above the characters: a state, a city, a country
        word = "".join(KZ_LETTERS[int(i)] for i in rng.integers(0, 26, int(rng.integers(3, 11))))
        pen.write(word, (left + 20, top + 2, width - line - 26, top + 2 + small_h))
        top += small_h + 6
    if rng.random() < 0.2:  # and below
        word = "".join(KZ_LETTERS[int(i)] for i in rng.integers(0, 26, int(rng.integers(3, 9))))
        pen.write(word, (left + 40, bottom - small_h + 4, width - line - 46, bottom - 2))
        bottom -= small_h
    pad = int((bottom - top) * float(rng.uniform(0.04, 0.14)))
    right = width - line - 10
    if rng.random() < 0.12:  # a picture or badge at one end
        side = int(width * rng.uniform(0.1, 0.2))
        if rng.random() < 0.5:
            _draw_picture(draw, pen, (left, top + pad, left + side, bottom - pad), rng)
            left += side + 4
        else:
            _draw_picture(draw, pen, (right - side, top + pad, right, bottom - pad), rng)
            right -= side + 4
    box = (left + 6, top + pad, right, bottom - pad)
    if rng.random() < 0.6 or not _write_around_mark(draw, pen, text, box, rng):
        pen.write(text, box)
    return canvas


def _write_around_mark(
    draw: ImageDraw.ImageDraw,
    pen: _Pen,
    text: str,
    box: tuple[int, int, int, int],
    rng: np.random.Generator,
) -> bool:
    """Write ``text`` in ``box`` with a coat of arms, inspection stickers or a badge in its
    first gap, as on Slovak, Czech or German plates: part of no plate's text, to be read past.
    False (and nothing drawn) when ``text`` has no gap."""
    gap = next((i for i, c in enumerate(text) if c in " -"), None)
    if gap is None:
        return False
    head, tail = text[:gap], text[gap + 1 :]
    char_h = box[3] - box[1]
    mark_w = int(char_h * rng.uniform(0.5, 0.9))
    free = box[2] - box[0] - mark_w - 8
    split = box[0] + int(free * len(head) / (len(head) + len(tail)))
    pen.write(head, (box[0], box[1], split, box[3]))
    pen.write(tail, (split + mark_w + 8, box[1], box[2], box[3]))
    _draw_mark(
        draw, (split + 4, box[1] + char_h // 8, split + 4 + mark_w, box[3] - char_h // 8), rng
    )
    return True


def _draw_mark(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], rng: np.random.Generator
) -> None:
    x0, y0, x1, y1 = box
    colours = [(200, 20, 30), (20, 60, 170), (240, 240, 240), (30, 130, 60), (250, 200, 0)]
    fill = colours[int(rng.integers(len(colours)))]
    other = colours[int(rng.integers(len(colours)))]
    kind = int(rng.integers(5))
    if kind == 3:  # two small stickers one above the other (Czech inspection and emissions)
        r = max(2, min((x1 - x0) // 2, (y1 - y0) // 4 - 1))
        cx, mid = (x0 + x1) // 2, (y0 + y1) // 2
        for cy, colour in ((mid - r - 1, fill), (mid + r + 1, other)):
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=(40, 40, 40))
        return
    if kind == 4:  # a small shield and a dash after it (Slovakia)
        mid = (y0 + y1) // 2
        sx1 = x0 + (x1 - x0) * 3 // 5
        draw.polygon(
            [(x0, y0), (sx1, y0), (sx1, mid), ((x0 + sx1) // 2, mid + (y1 - y0) // 4), (x0, mid)],
            fill=fill,
        )
        dash_h = max(2, (y1 - y0) // 8)
        draw.rectangle((sx1 + 2, mid - dash_h // 2, x1, mid + dash_h // 2), fill=(20, 20, 20))
        return
    if kind == 0:  # a shield
        mid = (y0 + y1) // 2
        draw.polygon([(x0, y0), (x1, y0), (x1, mid), ((x0 + x1) // 2, y1), (x0, mid)], fill=fill)
        draw.line(((x0 + x1) // 2, y0 + 2, (x0 + x1) // 2, y1 - 4), fill=other, width=2)
        draw.line((x0 + 2, (y0 + mid) // 2, x1 - 2, (y0 + mid) // 2), fill=other, width=2)
    elif kind == 1:  # a round sticker with a ring
        draw.ellipse(box, fill=fill, outline=(20, 20, 20), width=1)
        inset = max(2, (x1 - x0) // 4)
        draw.ellipse((x0 + inset, y0 + inset, x1 - inset, y1 - inset), outline=other, width=2)
    else:  # a two-colour badge
        draw.rectangle((x0, y0, x1, (y0 + y1) // 2), fill=fill)
        draw.rectangle((x0, (y0 + y1) // 2, x1, y1), fill=other)
