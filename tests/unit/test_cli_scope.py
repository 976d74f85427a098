"""`kupol users add --region/--camera` and `kupol users scope`: the cameras and regions an
operator sees, set, shown, cleared and refused when malformed."""

from __future__ import annotations

import pytest

from tests.unit.test_cli import Kupol, kupol

pytestmark = pytest.mark.usefixtures("fast_passwords")
__all__ = ["kupol"]  # the fixture


def test_a_user_is_created_with_a_scope_and_listed_with_it(kupol: Kupol) -> None:
    added = kupol("users", "add", "duty", "-r", "operator", "--region", "02", "--camera", "cam-7")
    everywhere = kupol("users", "add", "chief", "-r", "operator")
    listed = kupol("users", "list")

    assert added.exit_code == 0, added.output
    assert "created duty (operator); scope: cameras cam-7; regions 02" in added.stdout
    assert "no camera cam-7 is registered (yet)" in added.stderr
    assert "scope" not in everywhere.stdout
    assert "[cameras cam-7; regions 02]" in listed.stdout
    [chief] = [line for line in listed.stdout.splitlines() if line.startswith("chief")]
    assert "[" not in chief


def test_users_scope_shows_replaces_and_clears_a_scope(kupol: Kupol) -> None:
    kupol("users", "add", "duty", "-r", "operator", "--region", "02")

    shown = kupol("users", "scope", "duty")
    replaced = kupol("users", "scope", "duty", "--region", "11", "--region", "02")
    again = kupol("users", "scope", "duty")
    cleared = kupol("users", "scope", "duty", "--clear")
    audit = kupol("audit", "verify")

    assert shown.stdout.strip() == "duty: regions 02"
    assert replaced.exit_code == 0, replaced.output
    assert replaced.stdout.strip() == "duty: regions 02, 11"
    assert again.stdout.strip() == "duty: regions 02, 11"
    assert cleared.stdout.strip() == "duty: every camera"
    assert "3 entries verified" in audit.stdout  # the user and two changes of scope


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nobody", "--region", "02"], 4, "no user 'nobody'"),
        (["duty", "--region", "21"], 2, "not a region code (01-20): '21'"),
        (["duty", "--camera", "Cam 7"], 2, "not a camera id: 'Cam 7'"),
        (["duty", "--clear", "--region", "02"], 2, "--clear takes no --camera or --region"),
    ],
)
def test_a_bad_scope_is_refused_with_the_reason(
    kupol: Kupol, args: list[str], code: int, message: str
) -> None:
    kupol("users", "add", "duty", "-r", "operator")

    result = kupol("users", "scope", *args)

    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
