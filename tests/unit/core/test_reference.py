"""Reference TOML files: read into their model, or refused with every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from kupol.core.errors import ConfigError
from kupol.core.reference import load_rules


class Table(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    rate: float = Field(gt=0)


def test_a_valid_file_is_its_model(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('name = "fines"\nrate = 2.5\n', encoding="utf-8")
    assert load_rules(path, Table, "fine table") == Table(name="fines", rate=2.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = ", "fine table .* is not valid TOML"),
        (b"\xff\xfe", "is not valid TOML"),
        ('name = "x"\nrate = -1\nextra = 1\n', "rate: Input should be greater than 0; extra: "),
        ("[]", "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_every_problem(
    tmp_path: Path, text: str | bytes, expected: str
) -> None:
    path = tmp_path / "t.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_rules(path, Table, "fine table")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"fine table .*nope\.toml: No such file"):
        load_rules(tmp_path / "nope.toml", Table, "fine table")
