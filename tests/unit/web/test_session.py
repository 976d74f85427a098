"""Which pages a user may open, where they land, and where a login may send them."""

from __future__ import annotations

import pytest

from kupol.core.auth import Principal
from kupol.web.session import landing_page, pages_for, safe_next

PLATES = ["plate_search", "plate_route", "hotlists"]
EVIDENCE = ["evidence_items", "incidents", "devices", "redaction", "documents"]


def user(*roles: str) -> Principal:
    return Principal(user_id=1, username="u", full_name="", roles=roles, locale="ru")


@pytest.mark.parametrize(
    ("roles", "pages", "landing"),
    [
        (
            ("operator",),
            [
                "dashboard",
                "map",
                "cameras",
                "search",
                "face_hits",
                "watchlists",
                *PLATES,
                "crossings",
                "road_safety",
                "evidence_items",
                "incidents",
                "devices",
                "fleet",
                "citizen_review",
                "helpers",
            ],
            "dashboard",
        ),
        (
            ("investigator",),
            [
                "dashboard",
                "map",
                "cameras",
                "search",
                "face_hits",
                "watchlists",
                "face_search",
                *PLATES,
                *EVIDENCE,
                "fleet",
            ],
            "dashboard",
        ),
        (
            ("traffic_officer",),
            [
                "dashboard",
                "map",
                "cameras",
                "search",
                *PLATES,
                "traffic_review",
                "crossings",
                "road_safety",
                *EVIDENCE,
                "fleet",
                "citizen_review",
                "schools",
                "scooters",
            ],
            "dashboard",
        ),
        (
            ("analyst",),
            [
                "dashboard",
                "map",
                "cameras",
                "search",
                "crossings",
                "road_safety",
                "fleet",
                "schools",
                "scooters",
            ],
            "dashboard",
        ),
        (
            ("admin",),
            ["dashboard", "map", "cameras", "calibration", "road_safety", "fleet", "health"],
            "dashboard",
        ),
        (("auditor",), ["map", "cameras", "audit"], "audit"),
        (("fraud_analyst",), ["map", "cameras", "antifraud"], "antifraud"),
        (("device",), [], None),
        (("bank",), [], None),
        (("telecom",), [], None),
        (("mobility",), [], None),
        (("citizen",), [], None),
        (("monitor",), ["health"], None),
    ],
)
def test_the_navigation_shows_only_pages_the_roles_allow(
    roles: tuple[str, ...], pages: list[str], landing: str | None
) -> None:
    principal = user(*roles)
    assert [p.name for p in pages_for(principal)] == pages
    home = landing_page(principal)
    assert (home.name if home else None) == landing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/audit?actor=x", "/audit?actor=x"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("audit", "/"),
    ],
)
def test_a_login_only_returns_to_local_pages(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected
