"""The documentation that is generated from code is current."""

from __future__ import annotations

from kupol.config_reference import analytics_reference, reference
from tests.conftest import ROOT


def test_the_configuration_reference_in_docs_matches_the_settings_classes() -> None:
    current = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert current == reference(), (
        "docs/configuration.md is stale: run `kupol config reference > docs/configuration.md`"
    )


def test_the_readme_quick_start_is_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert quick_start.split("\n")[1:-1] == ["make demo", "make test"]


def test_the_camera_analytics_reference_in_docs_matches_the_config_classes() -> None:
    current = (ROOT / "docs" / "camera-analytics.md").read_text(encoding="utf-8")
    assert current == analytics_reference(), (
        "docs/camera-analytics.md is stale: "
        "run `kupol config analytics-reference > docs/camera-analytics.md`"
    )
