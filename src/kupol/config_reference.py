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


ANALYTICS_HEADER = """# Camera analytics reference

Generated from `src/kupol/vision/config.py` by
`kupol config analytics-reference > docs/camera-analytics.md` (a test fails when this file is
out of date).

Each camera's `analytics` (API: `PATCH /api/cameras/{id}`; `kupol analyze --camera-config`
takes the same keys as TOML or JSON, plus `zones`) says what the vision pipeline does with its
frames. Everything has a default: a camera with a stream and `analytics = {}` runs the NanoDet
detector at 5 analysed frames a second, tracks objects, and looks for abandoned objects and
intrusions into its restricted zones. Unknown keys are refused, naming the key.
"""


def _analytics_rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}.{name}" if prefix else name
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += _analytics_rows(annotation, key)
            continue
        description = (field.description or "").replace("|", "\\|")
        type_name = _type_name(annotation)
        if "kupol." in type_name:
            type_name = "plug-in (see below)"
        rows.append(f"| `{key}` | {type_name} | {_default(field)} | {description} |")
    return rows


def analytics_reference() -> str:
    """The camera analytics reference as Markdown (detectors listed per plug-in type)."""
    from kupol.vision.config import CameraAnalytics, MotionOnlyConfig
    from kupol.vision.detectors.base import NanoDetConfig, OnnxYoloConfig

    table = ["| key | type | default | meaning |", "|---|---|---|---|"]
    lines = [ANALYTICS_HEADER, *table, *_analytics_rows(CameraAnalytics, "")]
    for title, plugin in (
        ("nanodet", NanoDetConfig),
        ("onnx-yolo", OnnxYoloConfig),
        ("motion", MotionOnlyConfig),
    ):
        lines += [f'\n## detector type = "{title}"\n', *table]
        lines += _analytics_rows(plugin, "detector")
    return "\n".join(lines) + "\n"
