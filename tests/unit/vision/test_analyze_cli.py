"""``kupol analyze``: JSON lines out, clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kupol.cli import app
from kupol.vision.scenario import write_video, zone_dwell

runner = CliRunner()


def test_events_come_out_as_json_lines_with_the_promised_fields(tmp_path: Path) -> None:
    video = write_video(zone_dwell(), tmp_path / "scene.mp4")
    config = tmp_path / "camera.toml"
    config.write_text(
        '[detector]\ntype = "motion"\n[abandoned]\nenabled = false\n'
        '[[zones]]\nname = "bench"\nkind = "restricted"\n'
        "polygon = [[0.4, 0.5], [0.6, 0.5], [0.6, 0.9], [0.4, 0.9]]\n"
        '[intrusion]\nclasses = ["motion"]\n'
    )

    result = runner.invoke(
        app, ["analyze", str(video), "--camera-config", str(config), "--json", "--tracks"]
    )

    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"track_start", "track_end", "zone_enter", "intrusion"} <= {e["type"] for e in events}
    for event in events:
        assert {"type", "time_s", "frame", "zone", "object_class", "track_id", "confidence"} <= set(
            event
        )
    times = [e["time_s"] for e in events]
    assert times == sorted(times)


def test_a_missing_video_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path / "none.mp4"), "--json"])

    assert result.exit_code == 9
    assert "video file not found" in result.output


def test_a_bad_camera_config_names_the_key(tmp_path: Path) -> None:
    video = write_video(zone_dwell(), tmp_path / "scene.mp4")
    config = tmp_path / "camera.toml"
    config.write_text("analysis_fps = 0\n[crowd]\nmin_count = 1\n")

    result = runner.invoke(app, ["analyze", str(video), "--camera-config", str(config)])

    assert result.exit_code == 3
    output = " ".join(result.output.split())
    assert "analysis_fps" in output and "crowd.min_count" in output


def test_a_camera_config_that_is_not_toml_is_a_clear_error(tmp_path: Path) -> None:
    video = write_video(zone_dwell(), tmp_path / "scene.mp4")
    config = tmp_path / "camera.toml"
    config.write_text("this is = = not toml")

    result = runner.invoke(app, ["analyze", str(video), "--camera-config", str(config)])

    assert result.exit_code == 3
    assert "Expected '=' after a key" in " ".join(result.output.split())
