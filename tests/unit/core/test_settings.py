"""Settings: defaults, TOML and KUPOL_* sources, their precedence, and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kupol.core.errors import ConfigError
from kupol.settings import DEFAULT_SECRET, load_settings

LONG_SECRET = "a-production-secret-of-at-least-32-chars"


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kupol.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(**kwargs: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**kwargs)
    return caught.value.detail


def test_defaults_are_sqlite_and_the_in_process_bus() -> None:
    settings = load_settings(toml_file=None, environ={})

    assert settings.database.url.startswith("sqlite:///")
    assert settings.bus.type == "memory"
    assert settings.mode == "dev"
    assert settings.sqlite_path == Path("var/kupol.sqlite")


def test_a_toml_file_sets_nested_values(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        '[database]\nurl = "sqlite:///from-toml.db"\npool_size = 7\n[bus]\ntype = "nats"\n',
    )

    settings = load_settings(toml_file=path, environ={})

    assert settings.database.url == "sqlite:///from-toml.db"
    assert settings.database.pool_size == 7
    assert settings.bus.type == "nats"


def test_environment_variables_set_nested_values_with_double_underscores() -> None:
    settings = load_settings(
        toml_file=None,
        environ={
            "KUPOL_DATABASE__URL": "postgresql+psycopg://db/kupol",
            "KUPOL_SERVER__PORT": "9000",
            "KUPOL_DEFAULT_LOCALE": "kk",
        },
    )

    assert settings.database.url == "postgresql+psycopg://db/kupol"
    assert settings.server.port == 9000
    assert settings.default_locale == "kk"


def test_the_environment_beats_the_toml_file_key_by_key(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[database]\nurl = "sqlite:///from-toml.db"\npool_size = 7\n')

    settings = load_settings(toml_file=path, environ={"KUPOL_DATABASE__URL": "sqlite:///env.db"})

    assert settings.database.url == "sqlite:///env.db"
    assert settings.database.pool_size == 7  # the rest of the section still comes from TOML


def test_arguments_in_code_beat_the_environment() -> None:
    settings = load_settings(
        toml_file=None,
        environ={"KUPOL_DATABASE__URL": "sqlite:///env.db"},
        database={"url": "sqlite:///code.db"},
    )

    assert settings.database.url == "sqlite:///code.db"


def test_the_config_file_named_by_KUPOL_CONFIG_is_read(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[server]\nport = 8123\n")

    settings = load_settings(toml_file=None, environ={"KUPOL_CONFIG": str(path)})

    assert settings.server.port == 8123


def test_unknown_toml_key_is_an_error_naming_the_key(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[database]\nurl = "sqlite:///x.db"\nurll = "typo"\n')

    detail = config_error(toml_file=path, environ={})

    assert "database.urll: unknown key" in detail
    assert str(path) in detail


def test_unknown_toml_section_is_an_error_naming_it(tmp_path: Path) -> None:
    detail = config_error(toml_file=write_toml(tmp_path, "[databse]\nurl = 'x'\n"), environ={})

    assert "databse" in detail


@pytest.mark.parametrize(
    "variable",
    ["KUPOL_DATABSE__URL", "KUPOL_DATABASE__URLL", "KUPOL_DATABASE__URL__EXTRA", "KUPOL_FOO"],
)
def test_unknown_KUPOL_environment_variable_is_an_error_naming_it(variable: str) -> None:
    detail = config_error(toml_file=None, environ={variable: "x"})

    assert variable in detail


def test_reserved_KUPOL_variables_that_steer_tests_are_not_settings_errors() -> None:
    settings = load_settings(
        toml_file=None, environ={"KUPOL_REQUIRE_SERVICES": "1", "KUPOL_TEST_POSTGRES_URL": "x"}
    )

    assert settings.mode == "dev"


def test_an_invalid_environment_value_names_the_key() -> None:
    detail = config_error(toml_file=None, environ={"KUPOL_DATABASE__POOL_SIZE": "many"})

    assert "database.pool_size" in detail


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[server]\nport = 70000\n", "server.port"),
        ('[bus]\ntype = "kafka"\n', "bus.type"),
        ('mode = "staging"\n', "mode"),
        ("[vision]\npoll_s = 0\n", "vision.poll_s"),
    ],
)
def test_an_invalid_toml_value_names_the_key(tmp_path: Path, toml: str, key: str) -> None:
    detail = config_error(toml_file=write_toml(tmp_path, toml), environ={})

    assert f"{key}:" in detail


def test_a_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[database\nurl = ")

    detail = config_error(toml_file=path, environ={})

    assert str(path) in detail


@pytest.mark.parametrize("mode", ["prod", "test"])
def test_the_default_secret_is_refused_outside_dev_mode(mode: str) -> None:
    detail = config_error(toml_file=None, environ={"KUPOL_MODE": mode})

    assert "security.secret_key" in detail
    assert "KUPOL_SECURITY__SECRET_KEY" in detail


def test_a_short_secret_is_refused_in_prod_mode() -> None:
    detail = config_error(
        toml_file=None, environ={"KUPOL_MODE": "prod", "KUPOL_SECURITY__SECRET_KEY": "short"}
    )

    assert "at least 32 characters" in detail


def test_the_default_secret_is_accepted_in_dev_mode() -> None:
    settings = load_settings(toml_file=None, environ={"KUPOL_MODE": "dev"})

    assert settings.security.secret_key.get_secret_value() == DEFAULT_SECRET


def test_prod_mode_accepts_a_real_secret_and_never_shows_it() -> None:
    settings = load_settings(
        toml_file=None, environ={"KUPOL_MODE": "prod", "KUPOL_SECURITY__SECRET_KEY": LONG_SECRET}
    )

    assert settings.security.secret_key.get_secret_value() == LONG_SECRET
    assert LONG_SECRET not in repr(settings)


def test_a_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"

    assert str(missing) in config_error(toml_file=missing, environ={})
    assert str(missing) in config_error(toml_file=None, environ={"KUPOL_CONFIG": str(missing)})


def test_a_missing_default_kupol_toml_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    assert load_settings(environ={}).bus.type == "memory"


def test_the_default_kupol_toml_is_read_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_toml(tmp_path, "[server]\nport = 8765\n")

    assert load_settings(environ={}).server.port == 8765


def test_loading_with_an_explicit_environment_leaves_the_process_environment_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUPOL_SERVER__PORT", "8111")

    settings = load_settings(toml_file=None, environ={"KUPOL_SERVER__PORT": "8222"})

    assert settings.server.port == 8222
    assert load_settings(toml_file=None).server.port == 8111


def test_settings_are_frozen() -> None:
    settings = load_settings(toml_file=None, environ={})

    with pytest.raises(ValueError, match="frozen"):
        settings.database.url = "sqlite:///other.db"  # type: ignore[misc]


def test_a_lower_case_typo_in_the_environment_is_an_error_too() -> None:
    from kupol.core.errors import ConfigError
    from kupol.settings import load_settings

    with pytest.raises(ConfigError, match="kupol_databse__url"):
        load_settings(toml_file=None, environ={"kupol_databse__url": "sqlite://"})


def test_loading_settings_leaves_the_process_environment_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from kupol.settings import load_settings

    monkeypatch.setenv("UNRELATED_VARIABLE", "stays")
    before = dict(os.environ)

    settings = load_settings(toml_file=None, environ={"KUPOL_MODE": "dev"})

    assert settings.mode == "dev"
    assert dict(os.environ) == before
