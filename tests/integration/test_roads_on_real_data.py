"""The road-safety registry on real records, on SQLite and PostgreSQL: the Edinburgh police
accident files imported through the API with every row accounted for, statistics and trends
on them, and the official Kazakhstan crime reports of all 20 regions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kupol.bootstrap import Container
from tests.conftest import need_data
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


def upload(api: Any, headers: dict[str, str], accident: Path) -> Any:
    casualty = accident.with_name(accident.name.replace("accident", "casualty"))
    return api.post(
        "/api/roads/imports",
        data={"mapping": "edinburgh"},
        files=[
            ("file", (accident.name, accident.read_bytes(), "text/csv")),
            ("related", (casualty.name, casualty.read_bytes(), "text/csv")),
        ],
        headers=headers,
    )


def test_the_edinburgh_records_are_imported_row_by_row_and_counted(
    api: Any, container: Container
) -> None:
    root = need_data("accidents", "edinburgh")
    analyst = login_as(api, container, "ana", "analyst")
    officer = login_as(api, container, "officer", "traffic_officer")
    files = sorted(root.glob("*/accident*.csv"))
    assert len(files) == 4
    assert upload(api, officer, files[0]).status_code == 403  # officers read, analysts import
    unknown = api.post("/api/roads/imports", data={"mapping": "nowhere"},
                       files={"file": ("a.csv", b"x\n1\n")}, headers=analyst)  # fmt: skip
    assert unknown.status_code == 422 and "no mapping nowhere" in unknown.json()["detail"]
    total = 0
    for file in files:
        done = upload(api, analyst, file)
        assert done.status_code == 201, done.text
        body = done.json()
        assert body["rows"] == body["imported"] + body["duplicates"] + body["rejected"]
        assert body["rejected"] == 0, body["rejects"][:3]
        total += body["imported"]
    assert total == 4074  # accident-2010-13.csv has the same 4,074 records
    again = upload(api, analyst, files[0]).json()
    assert (again["imported"], again["duplicates"]) == (0, 1176)

    severity = api.get("/api/roads/stats", params={"by": "severity"}, headers=officer).json()
    assert [(r["key"], r["accidents"]) for r in severity["rows"]] == [
        ("fatal", 31), ("serious", 523), ("slight", 3520),
    ]  # fmt: skip
    assert sum(r["killed"] for r in severity["rows"]) == 32
    fatal = severity["rows"][0]
    assert fatal["interval"]["low"] < 31 < fatal["interval"]["high"]
    hours = api.get("/api/roads/stats", params={"by": "hour"}, headers=officer).json()
    peak = max(hours["rows"], key=lambda r: r["accidents"])
    assert peak["key"] in {"16", "17"}  # the evening rush
    trend = api.get("/api/roads/trend", headers=analyst).json()
    assert trend["years"] == [2010, 2011, 2012]  # 2013 only to June: left out
    assert "no change" in trend["statement"] and "2013" in trend["statement"]
    bad = api.get("/api/roads/stats", params={"by": "colour"}, headers=analyst)
    assert bad.status_code == 422
    for params in ({"severity": "deadly"}, {"since": "2012-01-01", "until": "2011-01-01"}):
        refused = api.get("/api/roads/hotspots", params=params, headers=analyst)
        assert refused.status_code == 422, refused.text
    assert api.get("/api/roads/stats", params={"by": "hour"}).status_code == 401


def test_the_crime_reports_of_every_region_are_read(api: Any, container: Container) -> None:
    root = need_data("crime", "kz-qamqor")
    analyst = login_as(api, container, "ana", "analyst")
    files = sorted(root.glob("*.XLSX"))
    assert len(files) == 20
    regions = set()
    for file in files:
        done = api.post(
            "/api/roads/crime",
            data={"region": file.stem, "period": "2023"},
            files={"file": (file.name, file.read_bytes())},
            headers=analyst,
        )
        assert done.status_code == 201, done.text
        assert done.json()["lines"] > 300
        regions.add(done.json()["region"])
    assert len(regions) == 20
    fraud = api.get("/api/roads/crime", params={"period": "2023", "article": "190"},
                    headers=analyst).json()  # fmt: skip
    assert len(fraud) == 20 and all(f["per_100k"] is not None for f in fraud)
    astana = next(f for f in fraud if f["region_code"] == "01")
    assert astana["registered"] == 6616  # line 119 of Astana's report, column 2
    rates = [f["per_100k"] for f in fraud]
    assert rates == sorted(rates, reverse=True)
    transport = api.get("/api/roads/crime", params={"period": "2023", "chapter": 14},
                        headers=analyst).json()  # fmt: skip
    assert next(f for f in transport if f["region_code"] == "01")["registered"] == 181
    wrong = api.post(
        "/api/roads/crime",
        data={"region": "Atlantis", "period": "2023"},
        files={"file": ("x.xlsx", files[0].read_bytes())},
        headers=analyst,
    )
    assert wrong.status_code == 404


def test_hotspots_evaluation_advice_and_report_on_the_edinburgh_records(
    api: Any, container: Container
) -> None:
    root = need_data("accidents", "edinburgh")
    analyst = login_as(api, container, "ana", "analyst")
    for file in sorted(root.glob("*/accident*.csv")):
        assert upload(api, analyst, file).status_code == 201
    spots = api.get("/api/roads/hotspots", headers=analyst).json()
    assert spots["accidents"] == 4074 and spots["hotspots"]
    centre = spots["hotspots"][0]
    assert centre["rank"] == 1 and len(centre["outlines"]) == len(centre["cells"])
    # The Old Town / New Town core: the first hot area is around Princes Street.
    assert abs(centre["centre"][0] - 55.953) < 0.01 and abs(centre["centre"][1] + 3.19) < 0.01
    assert centre["accidents"] == len(centre["accident_ids"]) and centre["stability"] >= 0.9

    along = api.get("/api/roads/hotspots/roads", headers=analyst).json()
    assert along["roads_measured"] and along["stretches"]
    assert along["stretches"][0]["road"].startswith("national")  # an A road
    assert along["stretches"][0]["accidents"] == len(along["stretches"][0]["accident_ids"])

    advice = api.get("/api/roads/advice", params={"measure": "smart_crosswalk", "places": 5},
                     headers=analyst).json()  # fmt: skip
    assert [p["rank"] for p in advice["places"]] == [1, 2, 3, 4, 5]
    assert advice["measure"]["kinds"] == ["pedestrian_hit"]
    assert "planning assumption" in advice["statement"]
    # A placebo: the five worst pedestrian places "treated" mid-2011 with nothing at all.
    treated = [{"latitude": p["centre"][0], "longitude": p["centre"][1]} for p in advice["places"]]
    others = api.get("/api/roads/advice", params={"measure": "camera", "places": 200},
                     headers=analyst).json()["places"][100:160]  # fmt: skip
    comparison = [{"latitude": p["centre"][0], "longitude": p["centre"][1]} for p in others]
    body = {"treated": treated, "comparison": comparison, "installed_on": "2011-07-01",
            "years": 1, "radius_m": 150, "kinds": ["pedestrian_hit"]}  # fmt: skip
    evaluation = api.post("/api/roads/evaluations", json=body, headers=analyst)
    assert evaluation.status_code == 200, evaluation.text
    methods = {e["method"]: e for e in evaluation.json()["estimates"]}
    assert set(methods) == {"naive", "comparison group", "Empirical Bayes"}
    assert methods["Empirical Bayes"]["theta"] is not None
    bad = api.post("/api/roads/evaluations", json={**body, "radius_m": 5}, headers=analyst)
    assert bad.status_code == 422
    # Periods the records do not cover would count as periods without accidents: refused.
    late = api.post("/api/roads/evaluations", json={**body, "installed_on": "2013-01-01"},
                    headers=analyst)  # fmt: skip
    assert late.status_code == 422 and "records cover" in late.json()["detail"]
    infinite = {**body, "treated": [{**treated[0], "predicted_before": "inf"}]}
    assert api.post("/api/roads/evaluations", json=infinite, headers=analyst).status_code == 422
    assert api.get("/api/roads/crime", params={"period": "2023-13", "article": "190"},
                   headers=analyst).status_code == 422  # fmt: skip

    # The same measure kept, then evaluated again on the records as they are.
    kept = api.post("/api/roads/measures", json={
        "kind": "smart_crosswalk", "name": "Пять переходов (плацебо)",
        "installed_on": "2011-07-01", "sites": treated, "comparison": comparison,
        "radius_m": 150, "source": "edinburgh"}, headers=analyst)  # fmt: skip
    assert kept.status_code == 201, kept.text
    officer = login_as(api, container, "officer", "traffic_officer")
    listed = api.get("/api/roads/measures", headers=officer).json()
    assert [m["name"] for m in listed] == ["Пять переходов (плацебо)"]
    again = api.get(f"/api/roads/measures/{kept.json()['id']}/evaluation", params={"years": 1},
                    headers=officer)  # fmt: skip
    assert again.status_code == 200 and len(again.json()["estimates"]) == 3
    assert api.post("/api/roads/measures", json={"kind": "magic", "name": "x",
                    "installed_on": "2011-07-01", "sites": treated},
                    headers=analyst).status_code == 422  # fmt: skip
    assert api.get("/api/roads/measures/999/evaluation", headers=analyst).status_code == 404

    html = api.get("/api/roads/report.html", params={"source": "edinburgh"}, headers=analyst)
    assert html.status_code == 200 and "Hot areas" in html.text and "data:image/png" in html.text
    pdf = api.get("/api/roads/report.pdf", params={"source": "edinburgh"}, headers=analyst)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_hot_areas_accidents_are_listed_and_linked_to_an_incident(
    api: Any, container: Container
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from kupol.core.audit.model import AuditEntry
    from kupol.incidents.model import Incident

    root = need_data("accidents", "edinburgh", "2010")
    analyst = login_as(api, container, "ana", "analyst")
    officer = login_as(api, container, "officer", "traffic_officer")
    assert upload(api, analyst, root / "accident.csv").status_code == 201
    spots = api.get("/api/roads/hotspots", headers=analyst).json()["hotspots"]
    ids = spots[0]["accident_ids"][:50]
    listed = api.get("/api/roads/accidents", params={"ids": ",".join(map(str, ids))},
                     headers=officer).json()  # fmt: skip
    assert sorted(a["id"] for a in listed) == sorted(ids)
    assert all("owner" not in a and a["severity"] in {"fatal", "serious", "slight"} for a in listed)
    assert (
        api.get("/api/roads/accidents", params={"ids": "1,x"}, headers=analyst).status_code == 422
    )

    first = listed[0] if listed[0]["id"] == ids[0] else next(a for a in listed if a["id"] == ids[0])
    from kupol.roads.model import Accident

    with container.db.reader() as session:
        when = session.get(Accident, ids[0]).occurred_at  # type: ignore[union-attr]
    with container.db.unit_of_work() as session:
        incident = Incident(kind="accident", title="ДТП", occurred_from=when,
                            occurred_to=when + timedelta(minutes=20),
                            latitude=first["latitude"] + 0.0005, longitude=first["longitude"],
                            radius_m=50, created_by="officer")  # fmt: skip
        far = Incident(kind="theft", title="Кража", occurred_from=when, occurred_to=when,
                       latitude=first["latitude"] + 0.05, longitude=first["longitude"],
                       radius_m=50, created_by="officer")  # fmt: skip
        session.add_all([incident, far])
        session.flush()
        incident_id = incident.id
    base = f"/api/roads/accidents/{ids[0]}"
    suggested = api.get(f"{base}/candidates", headers=officer).json()
    assert [(c["kind"], c["id"]) for c in suggested] == [("incident", str(incident_id))]
    assert 50 < suggested[0]["distance_m"] < 60
    assert api.get(f"{base}/candidates", headers=analyst).json() == []  # may see none of them
    url = f"{base}/links"
    body = {"kind": "incident", "id": str(incident_id)}
    assert api.post(url, json=body, headers=analyst).status_code == 403  # may not see incidents
    done = api.post(url, json=body, headers=officer)
    assert done.status_code == 200, done.text
    assert done.json()["links"] == [{"kind": "incident", "id": str(incident_id)}]
    again = api.post(url, json=body, headers=officer)
    assert again.json()["links"] == done.json()["links"]  # linked once
    missing = api.post(url, json={"kind": "violation", "id": "999999"}, headers=officer)
    assert missing.status_code == 404
    letters = api.post(url, json={"kind": "violation", "id": "abc"}, headers=officer)
    assert letters.status_code == 422
    with container.db.reader() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.resource_type == "accident")
            .order_by(AuditEntry.seq)
        ).all()
    assert actions == ["link", "link"]
