"""A Markdown reference of every setting, generated from the settings classes themselves."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kupol.settings import Settings

HEADER = """# Configuration reference

Generated from `src/kupol/settings.py` by `kupol config reference > docs/configuration.md`
(a test fails when this file is out of date).

Settings are read from `kupol.toml` in the working directory, or the file named by
`--config` or `KUPOL_CONFIG`, and from `KUPOL_*` environment variables, which win over the file.
Nested keys use a double underscore: `KUPOL_DATABASE__URL` sets `url` in `[database]`.
Unknown keys, in the file or the environment, are errors that name the key.
`kupol config check` validates a configuration and prints the effective values (secrets hidden).
"""


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value: Any = field.get_default(call_default_factory=True)
    if hasattr(value, "get_secret_value"):
        return "(development secret)"
    if isinstance(value, BaseModel):
        return "section"
    return f"`{value!r}`" if not isinstance(value, str) else f'`"{value}"`'


def _type_name(annotation: Any) -> str:
    from typing import Literal, get_args, get_origin

    if get_origin(annotation) is Literal:
        return " \\| ".join(repr(a) for a in get_args(annotation))
    name = getattr(annotation, "__name__", None)
    return str(name) if name else str(annotation).replace("typing.", "").replace("|", "\\|")


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            continue
        env = "KUPOL_" + (prefix.replace(".", "__").upper() + "__" if prefix else "") + name.upper()
        key = f"{prefix}.{name}" if prefix else name
        type_name = _type_name(annotation)
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{key}` | `{env}` | {type_name} | {_default(field)} | {description} |")
    return rows


def reference() -> str:
    """The whole reference as Markdown."""
    lines = [HEADER, "| key | environment | type | default | meaning |", "|---|---|---|---|---|"]
    lines += _rows(Settings, "")
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines += [
                f"\n## [{name}]\n",
                "| key | environment | type | default | meaning |",
                "|---|---|---|---|---|",
            ]
            lines += _rows(annotation, name)
    return "\n".join(lines) + "\n"
