"""Reading accident CSVs through a mapping: every row imported or rejected with its reason,
places converted from national grids, casualties counted from a related file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kupol.core.errors import ConfigError, InvalidInputError
from kupol.roads.importer import parse
from kupol.roads.mapping import Mapping, load_mapping

HEADER = "ref,when,lat,lon,sev,type,region,killed,injured,limit\n"


def kz(**changes: object) -> Mapping:
    raw: dict[str, object] = {
        "name": "kz-test",
        "source": "kz-test",
        "reference": "ref",
        "time": {"datetime": "when", "format": "%d.%m.%Y %H:%M"},
        "place": {"latitude": "lat", "longitude": "lon", "bbox": [40.0, 46.0, 56.0, 88.0]},
        "region": "region",
        "columns": {"severity": "sev", "kind": "type", "killed": "killed", "injured": "injured",
                    "speed_limit": "limit"},
        "values": {
            "severity": {"погиб": "fatal", "ранен": "serious", "легко": "slight"},
            "kind": {"столкновение": "collision", "наезд на пешехода": "pedestrian_hit"},
        },
        "defaults": {"kind": "other"},
    }  # fmt: skip
    raw.update(changes)
    return Mapping.model_validate(raw)


def test_good_rows_are_kept_and_each_bad_row_is_rejected_with_its_reason() -> None:
    data = (
        HEADER
        + "A1,01.03.2025 08:15,51.128,71.430,ранен,столкновение,01,0,2,60\n"
        + "A2,01.03.2025 09:00,43.238,76.945,погиб,наезд на пешехода,02,1,0,\n"
        + "A3,31.02.2025 10:00,51.1,71.4,ранен,столкновение,01,0,1,60\n"  # no such day
        + "A4,01.03.2025 10:00,48.8,2.35,ранен,столкновение,01,0,1,60\n"  # Paris
        + "A5,01.03.2025 10:00,51.1,71.4,перевернулся,столкновение,01,0,1,60\n"
        + "A6,01.03.2025 10:00,51.1,71.4,погиб,столкновение,01,0,1,60\n"  # fatal, no one killed
        + "A7,01.03.2025 10:00,51.1,71.4,ранен,столкновение,01,2,1,60\n"  # killed, not fatal
        + "A1,01.03.2025 10:00,51.1,71.4,ранен,столкновение,01,0,1,60\n"  # repeated reference
        + "A9,01.03.2025 10:00,51.1,71.4,ранен,столкновение,99,0,1,60\n"  # no region 99
        + "A10,01.03.2025 10:00,51.1,71.4,ранен,столкновение,01,x,1,60\n"
        + "A11,01.03.2099 10:00,51.1,71.4,ранен,столкновение,01,0,1,60\n"
        + ",01.03.2025 10:00,51.1,71.4,ранен,столкновение,01,0,1,60\n"
        + "A13,01.03.2025 10:00,51.1,71.4,ранен,опрокидывание,01,0,1,500\n"
        + "A14,01.03.2025 10:00,,,легко,столкновение,01,0,1,\n"  # no place: allowed here
    ).encode()
    parsed = parse(data, kz())
    assert [r.source_ref for r in parsed.rows] == ["A1", "A2", "A14"]
    reasons = {r.line: r.reason for r in parsed.rejects}
    assert parsed.total == 14 and len(reasons) == 11
    assert "cannot be read" in reasons[4]
    assert "outside the source's area" in reasons[5]
    assert "sev 'перевернулся' has no severity" in reasons[6]
    assert "fatal but no one was killed" in reasons[7]
    assert "2 killed but the severity is serious" in reasons[8]
    assert "repeats line 2" in reasons[9]
    assert "unknown region code '99'" in reasons[10]
    assert "'x' is not a whole number" in reasons[11]
    assert "in the future" in reasons[12]
    assert "reference" in reasons[13]
    assert "speed limit 500 is out of range" in reasons[14]
    first, second, third = parsed.rows
    # Local time in Asia/Almaty (UTC+5) is kept beside UTC.
    assert first.local_time == "2025-03-01T08:15:00" and first.occurred_at.hour == 3
    assert (second.kind, second.killed, second.region_code) == ("pedestrian_hit", 1, "02")
    assert third.latitude is None and third.h3_cell is None
    assert first.h3_cell is not None and len(first.h3_cell) == 15


def test_a_file_that_cannot_be_read_as_a_whole_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="no column sev"):
        parse(b"ref,when,lat,lon,type,region,killed,injured,limit\n", kz())
    with pytest.raises(InvalidInputError, match="not utf-8-sig text"):
        parse(b"\xff\xfe\x00bad", kz())


def test_projected_places_are_converted_and_casualties_counted_from_a_related_file() -> None:
    mapping = load_mapping("edinburgh")
    accidents = (
        b"acc_ref,severity,no_vehicle,a_date,a_time_hr,a_time_min,loc_auth,road1_class,road1_no,"
        b"road_type,speed_limi,junc_det,junc_ctrl,light_cond,weather,road_surf,easting,northing,"
        b"acc_type,ped_xing_p,Postcode\n"
        b"1,Fatal,1,02/01/2010,14,4,230,A,8,x,30,x,x,Daylight: street lights present,Other,Dry,"
        b"326450,676770,Pedestrian,x,EH66NF\n"
        b"2,Slight,2,02/01/2010,25,0,230,A,8,x,30,x,x,Daylight: street lights present,Other,Dry,"
        b"326450,676770,Pedestrian,x,EH66NF\n"
    )
    casualties = b"acc_ref,cas_severe\n1,Fatal\n1,Serious\n1,Slight\n2,Slight\n"
    parsed = parse(accidents, mapping, related={"casualty": casualties})
    [row] = parsed.rows
    assert (row.killed, row.injured, row.kind, row.road_class) == (
        1,
        2,
        "pedestrian_hit",
        "national",
    )
    # The geocoded copy of the same record says 55.978257, -3.180207.
    assert row.latitude == pytest.approx(55.978257, abs=2e-6)
    assert row.longitude == pytest.approx(-3.180207, abs=2e-6)
    assert row.speed_limit_kmh == pytest.approx(48.3)  # 30 mph
    assert "25:00 is no time of day" in parsed.rejects[0].reason
    with pytest.raises(InvalidInputError, match="casualty file"):
        parse(accidents, mapping)


def test_a_mapping_with_words_outside_the_vocabulary_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\nsource = "bad"\nreference = "r"\n[time]\ndatetime = "t"\n'
        '[place]\nlatitude = "a"\nlongitude = "b"\n[columns]\nseverity = "s"\n'
        '[values.severity]\nx = "deadly"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="deadly not among fatal"):
        load_mapping(bad)
    with pytest.raises(ConfigError, match=r"no mapping nowhere \(shipped: edinburgh"):
        load_mapping("nowhere")


def test_broken_csv_and_mismatched_related_files_are_refused_whole() -> None:
    mapping = kz()
    first = 'A1,"01.03.2025 08:15,51.1,71.4,ранен,столкновение,01,0,2,60\n'
    second = "A2,01.03.2025 09:00,51.1,71.4,ранен,столкновение,01,0,1,60\n"
    unclosed = (HEADER + first + second).encode()
    with pytest.raises(InvalidInputError, match="cannot be read at line"):
        parse(unclosed, mapping)
    edinburgh = load_mapping("edinburgh")
    accidents = (
        b"acc_ref,severity,no_vehicle,a_date,a_time_hr,a_time_min,loc_auth,road1_class,road1_no,"
        b"road_type,speed_limi,junc_det,junc_ctrl,light_cond,weather,road_surf,easting,northing,"
        b"acc_type,ped_xing_p,Postcode\n"
        b"1,Slight,1,02/01/2010,,4,230,A,8,x,30,x,x,Daylight: street lights present,Other,Dry,"
        b"326450,676770,Pedestrian,x,EH66NF\n"
    )
    other_year = b"acc_ref,cas_severe\n9001,Slight\n9002,Fatal\n"
    with pytest.raises(InvalidInputError, match="matches none of these accidents"):
        parse(accidents, edinburgh, related={"casualty": other_year})
    parsed = parse(accidents, edinburgh, related={"casualty": b"acc_ref,cas_severe\n1,Slight\n"})
    assert "the hour (a_time_hr) is empty" in parsed.rejects[0].reason
