"""``kupol faces`` on real photos: lists, enrolment with refusals, search by case, purge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import need_data
from tests.unit.factories import fast_passwords
from tests.unit.test_cli import Kupol, kupol

pytestmark = [pytest.mark.usefixtures(fast_passwords.__name__), pytest.mark.slow]
__all__ = ["kupol"]


def test_an_investigator_lists_a_person_from_the_command_line(kupol: Kupol) -> None:
    faces = need_data("faces", "face_recognition", "knn_examples")
    group = need_data("faces", "deepface") / "couple.jpg"
    assert kupol("users", "add", "inv", "--role", "investigator").exit_code == 0
    assert kupol("users", "add", "op", "--role", "operator").exit_code == 0

    refused = kupol("faces", "create-list", "Розыск", "--kind", "wanted", "--as", "op")
    assert refused.exit_code == 6, refused.output
    created = kupol("faces", "create-list", "Розыск", "--kind", "wanted", "--as", "inv")
    assert created.exit_code == 0, created.output
    watchlist_id = json.loads(created.stdout)["id"]

    listed = kupol(
        "faces", "add-person", str(watchlist_id), "Listed Person", "--as", "inv",
        "--reason", "wanted for robbery",
        "--photo", str(faces / "train" / "obama" / "obama.jpg"),
        "--photo", str(group),
    )  # fmt: skip
    # The good photo is kept, the group photo is refused with its reason: exit 2.
    assert listed.exit_code == 2, listed.output
    assert "enrolled as photo 1" in listed.stdout
    assert "holds 2 faces" in listed.output

    banned = kupol("faces", "create-list", "Stadium", "--kind", "banned", "--as", "inv")
    ban_id = str(json.loads(banned.stdout)["id"])
    until = kupol(
        "faces", "add-person", ban_id, "A Fan", "--as", "inv",
        "--reason", "court ban order 5/2026", "--expires", "2030-01-01T00:00:00",
    )  # fmt: skip
    assert until.exit_code == 0, until.output  # a time without an offset is taken as UTC

    photo = str(faces / "test" / "obama1.jpg")
    no_case = kupol("faces", "search", photo, "--as", "inv", "--purpose", "where was he")
    assert no_case.exit_code == 2
    found = kupol(
        "faces", "search", photo, "--as", "inv", "--case", "2026-1", "--purpose", "where was he"
    )
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["sightings"] == []
    not_allowed = kupol(
        "faces", "search", photo, "--as", "op", "--case", "2026-1", "--purpose", "where was he"
    )
    assert not_allowed.exit_code == 6

    tuned = kupol("faces", "update-list", str(watchlist_id), "--threshold", "0.95", "--as", "inv")
    assert tuned.exit_code == 0 and json.loads(tuned.stdout)["threshold"] == 0.95
    report = kupol("faces", "thresholds", str(watchlist_id), "--as", "op")
    assert report.exit_code == 0 and json.loads(report.stdout)["decided"] == 0
    assert kupol("faces", "remove-person", "1", "--reason", "x", "--as", "inv").exit_code == 2
    removed = kupol("faces", "remove-person", "1", "--reason", "arrested 2026-11-20", "--as", "inv")
    assert removed.exit_code == 0, removed.output
    hits = kupol("faces", "hits", "--as", "op", "--purpose", "shift review")
    assert hits.exit_code == 0 and json.loads(hits.stdout) == []
    assert "purged 0" in kupol("faces", "purge").stdout


def test_plates_are_searched_and_routed_from_the_command_line(kupol: Kupol) -> None:
    assert kupol("users", "add", "officer", "--role", "traffic_officer").exit_code == 0
    args = ("--as", "officer", "--purpose", "stolen car report")
    found = kupol("plates", "search", "12?ABC02", "--match", "wildcard", *args)
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout) == []
    route = kupol(
        "plates", "route", "123ABC02", "--since", "2026-11-25T00:00", "--until",
        "2026-11-26T00:00", *args,
    )  # fmt: skip
    assert route.exit_code == 0, route.output
    assert json.loads(route.stdout)["sightings"] == []
    assert kupol("plates", "search", "123ABC02", "--as", "officer", "--purpose", "x").exit_code == 2


def test_a_hotlist_is_imported_from_the_command_line_keeping_the_good_rows(
    kupol: Kupol, tmp_path: Path
) -> None:
    assert kupol("users", "add", "officer", "--role", "traffic_officer").exit_code == 0
    created = kupol(
        "plates", "create-hotlist", "Stolen", "--kind", "stolen", "--fuzzy", "--as", "officer"
    )
    assert created.exit_code == 0, created.output
    csv_file = tmp_path / "stolen.csv"
    csv_file.write_text("plate,reason\n123ABC02,stolen 2026-11-20\n#!,bad\n")
    imported = kupol("plates", "import-hotlist", "1", str(csv_file), "--as", "officer")
    assert imported.exit_code == 2
    assert "added 1, updated 0, refused 1" in imported.stdout
    assert "stolen.csv:3: refused" in imported.output


def test_a_hotlist_is_kept_from_the_command_line(kupol: Kupol) -> None:
    assert kupol("users", "add", "officer", "--role", "traffic_officer").exit_code == 0
    assert kupol("users", "add", "duty", "--role", "operator").exit_code == 0
    kupol("plates", "create-hotlist", "Wanted", "--kind", "wanted", "--as", "officer")
    added = kupol(
        "plates", "add-plate", "1", "555 xyz 01", "--reason", "robbery suspect's car",
        "--reference", "KUI-31", "--expires", "2030-01-01T00:00", "--as", "officer",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    entry = json.loads(added.stdout)
    assert (entry["plate"], entry["reference"]) == ("555XYZ01", "KUI-31")
    assert entry["expires_at"].startswith("2030-01-01 00:00:00+00:00")
    lists = json.loads(kupol("plates", "hotlists", "--as", "duty").stdout)
    assert [(h["name"], h["entries"], h["fuzzy"]) for h in lists] == [("Wanted", 1, False)]
    page = kupol("plates", "hotlist-entries", "1", "--as", "duty", "--purpose", "shift briefing")
    assert page.exit_code == 0 and json.loads(page.stdout)["total"] == 1
    # Operators read the lists; they do not change them (exit 6: not allowed).
    assert kupol("plates", "update-hotlist", "1", "--fuzzy", "--as", "duty").exit_code == 6
    fuzzy = kupol("plates", "update-hotlist", "1", "--fuzzy", "--as", "officer")
    assert fuzzy.exit_code == 0 and json.loads(fuzzy.stdout)["fuzzy"] is True
    assert kupol("plates", "update-hotlist", "1", "--as", "officer").exit_code == 2  # nothing
    removed = kupol(
        "plates", "remove-plate", "1", str(entry["id"]), "--reason", "car recovered",
        "--as", "officer",
    )  # fmt: skip
    assert removed.exit_code == 0, removed.output
    lists = json.loads(kupol("plates", "hotlists", "--as", "duty").stdout)
    assert lists[0]["entries"] == 0
