"""The console's message catalogues: Russian, Kazakh (Cyrillic) and English.

Each catalogue is a flat JSON object of keys (``"nav.map"``) to text, with ``{name}``
placeholders filled in by :func:`translate`. Templates get ``t`` bound to the user's
language; the browser gets the same catalogue embedded in the page for ``Kupol.t``.

Example:
    >>> translate("en", "search.results", count=3)
    'Found: 3'
    >>> negotiate("de")
    'ru'
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

LOCALES: tuple[str, ...] = ("ru", "kk", "en")
DEFAULT_LOCALE = "ru"
LOCALE_DIR = Path(__file__).parent / "locales"
PLACEHOLDER = re.compile(r"\{(\w+)\}")

Translator = Callable[..., str]


def negotiate(value: str | None, *, default: str = DEFAULT_LOCALE) -> str:
    """``value`` if it names a supported language, else ``default``."""
    return value if value in LOCALES else default


@cache
def catalogue(locale: str) -> Mapping[str, str]:
    """The messages of ``locale`` (read once per process)."""
    path = LOCALE_DIR / f"{negotiate(locale)}.json"
    messages: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return messages


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` placeholders in a message.

    Example:
        >>> sorted(placeholders("Found {count} in {camera}"))
        ['camera', 'count']
    """
    return frozenset(PLACEHOLDER.findall(text))


def translate(locale: str, key: str, /, **params: object) -> str:
    """The text of ``key`` in ``locale`` with ``params`` filled in.

    A missing key renders as the key itself (visible, never a crash) and is logged.
    Unknown placeholders stay as they are.
    """
    text = catalogue(locale).get(key)
    if text is None:
        log.warning("no %s text for console key %r", locale, key)
        return key
    if not params:
        return text
    return PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), text)


def translator(locale: str) -> Translator:
    """``t(key, **params)`` bound to ``locale``, as templates use it."""
    language = negotiate(locale)

    def t(key: str, /, **params: object) -> str:
        return translate(language, key, **params)

    return t
