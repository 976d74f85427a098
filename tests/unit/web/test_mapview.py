"""The server-drawn camera map: projection, regions from GeoJSON, markers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from kupol.cameras.schemas import CameraRead
from kupol.web.mapview import GEOJSON, KZ_BOUNDS, Projection, build_map, region_name

NOW = datetime(2026, 1, 15, tzinfo=UTC)


def camera(camera_id: str, latitude: float, longitude: float) -> CameraRead:
    return CameraRead(
        id=camera_id,
        name=camera_id,
        latitude=latitude,
        longitude=longitude,
        created_at=NOW,
        updated_at=NOW,
    )


def projection() -> Projection:
    return Projection(west=KZ_BOUNDS[0], south=KZ_BOUNDS[1], east=KZ_BOUNDS[2], north=KZ_BOUNDS[3])


def test_the_projection_puts_north_up_and_west_left() -> None:
    p = projection()
    astana, almaty, aktau = p.point(71.43, 51.13), p.point(76.95, 43.24), p.point(51.2, 43.65)
    assert almaty[1] > astana[1]  # Almaty is south of Astana: lower on the map
    assert aktau[0] < astana[0] < almaty[0]
    for x, y in (astana, almaty, aktau):
        assert 0 < x < p.width and 0 < y < p.height


def test_the_map_keeps_the_country_proportions() -> None:
    p = projection()
    assert 1.6 < p.width / p.height < 2.2  # Kazakhstan is about twice as wide as tall


def test_cameras_become_markers_without_a_basemap(tmp_path: Path) -> None:
    view = build_map(
        cameras=[camera("ast-1", 51.13, 71.43)], locale="ru", geojson=tmp_path / "absent.geojson"
    )
    assert not view.has_basemap and view.regions == ()
    assert [m.camera.id for m in view.markers] == ["ast-1"]


def test_regions_are_named_in_the_users_language_and_cities_drawn_last(tmp_path: Path) -> None:
    square = [[[70, 50], [72, 50], [72, 52], [70, 52], [70, 50]]]
    features = [
        {
            "type": "Feature",
            "properties": {
                "plate_code": "01",
                "name_ru": "Астана",
                "name_en": "Astana",
                "type": "city",
            },
            "geometry": {"type": "MultiPolygon", "coordinates": [square]},
        },
        {
            "type": "Feature",
            "properties": {
                "plate_code": "03",
                "name_kk": "Ақмола облысы",
                "name": "Akmola",
                "type": "region",
            },
            "geometry": {"type": "Polygon", "coordinates": square},
        },
    ]
    path = tmp_path / "regions.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    view = build_map(cameras=[], locale="kk", geojson=path)
    assert [(r.code, r.kind) for r in view.regions] == [("03", "region"), ("01", "city")]
    assert view.region_names() == {"03": "Ақмола облысы", "01": ""}
    assert all(r.path.startswith("M") and r.path.endswith("Z") for r in view.regions)


def test_a_broken_basemap_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text("{not json")
    assert build_map(cameras=[], locale="ru", geojson=path).has_basemap is False


def test_region_names_fall_back_to_any_name() -> None:
    assert region_name({"name": "Abai"}, "kk") == "Abai"
    assert region_name({}, "kk") == ""


def test_the_shipped_basemap_has_the_twenty_regions() -> None:
    if not GEOJSON.is_file():
        return  # drawn without a basemap; the other tests cover that
    view = build_map(cameras=[], locale="ru")
    assert len(view.regions) == 20
    assert {f"{n:02d}" for n in range(1, 21)} == set(view.region_names())
