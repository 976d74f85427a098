"""The console's catalogues agree with each other and cover every text the console uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kupol.web import i18n
from kupol.web.i18n import LOCALES, catalogue, negotiate, placeholders, translate
from kupol.web.routes import dynamic_keys

WEB = Path(i18n.__file__).parent
SOURCES = sorted([*WEB.glob("templates/*.html"), *WEB.glob("static/*.js"), *WEB.glob("*.py")])
# t('key' ...) in templates and scripts, translate(locale, "key" ...) in Python.
LITERAL_CALL = re.compile(
    r"""\b(?:t|translate)\(\s*(?:(?:\w+|(['"])\w+\1),\s*)?(['"])([a-z][a-z0-9_.]*)\2\s*[,)]"""
)
QUOTED = re.compile(r"""(['"])([a-z][a-z0-9_]*\.[a-z0-9_.]*[a-z0-9_])\1""")


def used_keys() -> dict[str, set[str]]:
    """Every catalogue key the console's files name literally, by file."""
    namespaces = {key.split(".")[0] for key in catalogue("en")}
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        keys = {m.group(3) for m in LITERAL_CALL.finditer(text)}
        if path.suffix == ".js":  # keys chosen in code, then passed to t(): "live.on"
            keys |= {
                m.group(2) for m in QUOTED.finditer(text) if m.group(2).split(".")[0] in namespaces
            }
        found[path.name] = keys
    return found


def test_every_language_has_exactly_the_same_keys() -> None:
    russian = set(catalogue("ru"))
    for locale in LOCALES:
        assert set(catalogue(locale)) == russian, locale


def test_every_message_has_the_same_placeholders_in_every_language() -> None:
    for key, text in catalogue("ru").items():
        expected = placeholders(text)
        for locale in LOCALES:
            assert placeholders(catalogue(locale)[key]) == expected, (locale, key)


def test_no_message_is_empty() -> None:
    for locale in LOCALES:
        assert all(text.strip() for text in catalogue(locale).values()), locale


def test_the_catalogue_files_are_plain_flat_json() -> None:
    for locale in LOCALES:
        data = json.loads((WEB / "locales" / f"{locale}.json").read_text(encoding="utf-8"))
        assert all(isinstance(v, str) for v in data.values()), locale


def test_every_key_used_in_templates_and_scripts_exists() -> None:
    known = set(catalogue("ru"))
    used = used_keys()
    assert sum(map(len, used.values())) > 100  # the scan really finds the keys
    missing = {name: sorted(keys - known) for name, keys in used.items() if keys - known}
    assert not missing


def test_keys_built_from_values_exist() -> None:
    assert set(dynamic_keys()) <= set(catalogue("ru"))


def test_every_message_is_used_somewhere() -> None:
    used = set().union(*used_keys().values(), dynamic_keys())
    assert set(catalogue("ru")) - used == set()


def test_russian_and_kazakh_texts_are_translated() -> None:
    english = catalogue("en")
    for locale in ("ru", "kk"):  # language names stay in their own language everywhere
        same = [
            k
            for k, v in catalogue(locale).items()
            if v == english[k] and re.search("[A-Za-z]{4,}", v) and not k.startswith("lang.")
        ]
        assert same == [], locale


def test_kazakh_uses_its_own_letters() -> None:
    assert re.search("[әғқңөұүһі]", " ".join(catalogue("kk").values()))


def test_translate_fills_placeholders_and_shows_unknown_keys() -> None:
    assert translate("en", "search.results", count=3) == "Found: 3"
    assert translate("ru", "search.results", count=3) == "Найдено: 3"
    assert translate("en", "search.results") == "Found: {count}"
    assert translate("en", "no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    ("value", "expected"), [("kk", "kk"), ("en", "en"), ("de", "ru"), (None, "ru"), ("", "ru")]
)
def test_unknown_languages_fall_back_to_russian(value: str | None, expected: str) -> None:
    assert negotiate(value) == expected
