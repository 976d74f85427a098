"""Reference tables kept as TOML files (legal tables, reward rules, training hours…): read one
into its pydantic model, or fail with a message that names the file and every problem in it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kupol.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML file at ``path`` as a dict.

    Raises:
        ConfigError: ``"{what} {path}: …"`` when it cannot be read, ``"… is not valid TOML"``
            when it is not TOML (or not UTF-8).
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{what} {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from exc


def load_rules(path: Path, model: type[M], what: str, root: str = "rules") -> M:
    """The TOML file at ``path`` validated as ``model``.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or does not validate; a validation
            failure lists every problem as ``location: message`` (``root`` names the whole
            file where the problem has no location).
    """
    raw = read_toml(path, what)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or root}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{what} {path}: {problems}") from exc
