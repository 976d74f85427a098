"""The built-in NanoDet-g detector: its model, preprocessing, head decoding and config."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from kupol.core.errors import ConfigError
from kupol.vision.detections import CAR, COCO_CLASSES, PERSON, Detections
from kupol.vision.detectors import DetectorConfig, build_detector, nanodet
from kupol.vision.detectors.base import Letterbox, NanoDetConfig, suppress
from kupol.vision.detectors.nanodet import (
    INT8_MODEL_PATH,
    MEAN,
    MODEL_PATH,
    STD,
    NanoDetDetector,
    decode,
    distances,
    grid_centers,
    input_size,
    preprocess,
)


@pytest.fixture(scope="module")
def detector() -> NanoDetDetector:
    return NanoDetDetector(NanoDetConfig())


def sharp_logits(cells: int, cell: int, sides: tuple[int, int, int, int]) -> np.ndarray:
    """Distribution logits that put all weight on ``sides`` (in strides) for one cell."""
    logits = np.full((cells, 44), -60.0, np.float32)
    for side, bins in enumerate(sides):
        logits[cell, side * 11 + bins] = 60.0
    return logits


@pytest.fixture(scope="module")
def int8_detector() -> NanoDetDetector:
    return NanoDetDetector(NanoDetConfig(precision="int8"))


@pytest.mark.parametrize("path", [MODEL_PATH, INT8_MODEL_PATH], ids=["float", "int8"])
def test_the_shipped_model_is_the_one_its_provenance_records(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest in path.with_name("PROVENANCE.md").read_text()


def test_the_int8_model_loads_and_is_quantised(int8_detector: NanoDetDetector) -> None:
    import onnx

    model = onnx.load(str(INT8_MODEL_PATH))
    assert {"QuantizeLinear", "DequantizeLinear"} <= {n.op_type for n in model.graph.node}
    image = np.random.default_rng(1).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    assert isinstance(int8_detector.detect(image), Detections)


@pytest.mark.parametrize("shape", [(360, 640, 3), (416, 416, 3)])
@pytest.mark.parametrize("grey", [0, 128, 255])
def test_the_int8_model_finds_nothing_on_a_blank_image(
    int8_detector: NanoDetDetector, shape: tuple, grey: int
) -> None:
    assert len(int8_detector.detect(np.full(shape, grey, np.uint8))) == 0


@pytest.mark.parametrize(
    ("precision", "expected"), [("float", MODEL_PATH), ("int8", INT8_MODEL_PATH)]
)
def test_the_precision_picks_the_model_file(
    monkeypatch: pytest.MonkeyPatch, precision: str, expected: Path
) -> None:
    opened: list[Path] = []
    real_open = nanodet.open_session

    def spy(path: Path, *, threads: int) -> object:
        opened.append(path)
        return real_open(path, threads=threads)

    monkeypatch.setattr(nanodet, "open_session", spy)
    NanoDetDetector(NanoDetConfig.model_validate({"precision": precision}))
    assert opened == [expected]


def test_precision_defaults_to_float_and_refuses_other_values() -> None:
    assert NanoDetConfig().precision == "float"
    with pytest.raises(ValidationError):
        NanoDetConfig.model_validate({"precision": "int4"})


def test_a_missing_int8_model_file_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(nanodet, "INT8_MODEL_PATH", tmp_path / "nanodet-g-416-int8.onnx")
    with pytest.raises(ConfigError, match=r"int8\.onnx does not exist"):
        NanoDetDetector(NanoDetConfig(precision="int8"))


def test_detect_returns_detections_in_the_shared_types(detector: NanoDetDetector) -> None:
    image = np.random.default_rng(1).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    found = detector.detect(image)
    assert isinstance(found, Detections)
    assert found.xyxy.dtype == np.float32 and found.xyxy.shape == (len(found), 4)
    assert found.confidence.dtype == np.float32
    assert found.class_id.dtype == np.int32
    assert detector.names == COCO_CLASSES


@pytest.mark.parametrize("shape", [(360, 640, 3), (480, 270, 3), (416, 416, 3)])
@pytest.mark.parametrize("grey", [0, 128, 255])
def test_a_blank_image_has_no_objects(detector: NanoDetDetector, shape: tuple, grey: int) -> None:
    assert len(detector.detect(np.full(shape, grey, np.uint8))) == 0


@pytest.mark.parametrize(
    ("width", "height", "scale", "pad_x", "pad_y"),
    [(640, 360, 0.65, 0.0, 91.0), (270, 480, 0.8666667, 91.0, 0.0), (208, 208, 2.0, 0.0, 0.0)],
)
def test_letterbox_fits_the_image_and_maps_boxes_back(
    width: int, height: int, scale: float, pad_x: float, pad_y: float
) -> None:
    box = Letterbox.fit(width=width, height=height, size=416)
    assert (box.scale, box.pad_x, box.pad_y) == pytest.approx((scale, pad_x, pad_y))
    original = np.array([[10, 20, 110, 170], [0, 0, width, height]], np.float32)
    in_model = original * box.scale + np.array([pad_x, pad_y, pad_x, pad_y], np.float32)
    assert box.to_original(in_model) == pytest.approx(original, abs=1e-3)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (640, 360, (416, 256)),
        (360, 640, (256, 416)),
        (768, 432, (416, 256)),
        (720, 480, (416, 288)),
        (320, 240, (416, 320)),
        (416, 416, (416, 416)),
        (1000, 10, (416, 32)),
    ],
)
def test_the_input_is_416_on_the_longer_side_and_a_multiple_of_32_on_the_other(
    width: int, height: int, expected: tuple[int, int]
) -> None:
    assert input_size(width, height) == expected
    tensor, box = preprocess(np.zeros((height, width, 3), np.uint8))
    assert tensor.shape == (1, 3, expected[1], expected[0])
    assert (box.input_width, box.input_height) == expected
    assert round(width * box.scale) <= expected[0] and round(height * box.scale) <= expected[1]


def test_a_rectangular_letterbox_pads_the_remainder_and_maps_boxes_back() -> None:
    box = Letterbox.fit(width=640, height=360, input_width=416, input_height=256)
    assert (box.scale, box.pad_x, box.pad_y) == pytest.approx((0.65, 0.0, 11.0))
    padded = box.apply(np.full((360, 640, 3), 200, np.uint8), fill=0)
    assert padded.shape == (256, 416, 3)
    assert padded[:11].max() == 0 and padded[11 + 234 :].max() == 0
    assert padded[11 : 11 + 234].min() == 200
    assert box.to_original(np.array([[0, 11, 416, 245]], np.float32)).tolist() == [
        [0.0, 0.0, 640.0, 360.0]
    ]


def test_letterbox_clips_boxes_that_reach_into_the_padding() -> None:
    box = Letterbox.fit(width=640, height=360, size=416)
    mapped = box.to_original(np.array([[-5, 0, 500, 416]], np.float32))
    assert mapped.tolist() == [[0.0, 0.0, 640.0, 360.0]]


def test_preprocess_normalises_bgr_as_nanodet_was_trained_and_pads_black() -> None:
    image = np.zeros((360, 640, 3), np.uint8)
    image[:] = np.round(MEAN).astype(np.uint8)
    tensor, box = preprocess(image, shape=(416, 416))
    assert tensor.shape == (1, 3, 416, 416) and tensor.dtype == np.float32
    assert np.abs(tensor[0, :, 200, 200]).max() < 0.01
    assert tensor[0, :, 0, 0] == pytest.approx(-MEAN / STD)
    assert tensor[0, :, int(box.pad_y), 0] == pytest.approx([0, 0, 0], abs=0.01)


def test_grid_centres_are_cell_centres_row_by_row() -> None:
    centres = grid_centers(8)
    assert centres.shape == (52 * 52, 2)
    assert centres[0].tolist() == [4.0, 4.0]
    assert centres[1].tolist() == [12.0, 4.0]
    assert centres[52].tolist() == [4.0, 12.0]
    wide = grid_centers(8, 416, 256)
    assert wide.shape == (32 * 52, 2)
    assert wide[52].tolist() == [4.0, 12.0]
    assert wide[-1].tolist() == [412.0, 252.0]


def test_decode_clips_boxes_to_a_rectangular_input() -> None:
    scores = np.zeros((8 * 13, 80), np.float32)
    cell = 7 * 13 + 12  # the last row and column: centre (400, 240) at stride 32
    scores[cell, PERSON] = 0.9
    head = {32: (scores, sharp_logits(8 * 13, cell, (1, 1, 2, 2)))}
    xyxy, _, _ = decode(head, min_confidence=0.35, width=416, height=256)
    assert xyxy.tolist() == [[400 - 32, 240 - 32, 416, 256]]


def test_the_shipped_model_takes_any_size_that_is_a_multiple_of_32() -> None:
    import onnx

    model = onnx.load(str(MODEL_PATH), load_external_data=False)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value or d.dim_param for d in dims] == [1, 3, "height", "width"]
    for output in model.graph.output:
        dims = output.type.tensor_type.shape.dim
        assert dims[1].dim_param.startswith("cells_")


def test_the_detector_feeds_a_16_by_9_frame_as_416_by_256(detector: NanoDetDetector) -> None:
    seen = []
    run = detector._session.run

    def spy(names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        seen.append(next(iter(feeds.values())).shape)
        return run(names, feeds)

    detector._session.run = spy  # type: ignore[method-assign]
    try:
        detector.detect(np.zeros((360, 640, 3), np.uint8))
        detector.detect(np.zeros((300, 300, 3), np.uint8))
    finally:
        del detector._session.run
    assert seen == [(1, 3, 256, 416), (1, 3, 416, 416)]


def test_distances_are_the_expectation_of_the_softmax_times_the_stride() -> None:
    even = np.zeros((1, 44), np.float32)
    assert distances(even, 16).tolist() == [[80.0, 80.0, 80.0, 80.0]]
    assert distances(sharp_logits(1, 0, (1, 2, 3, 10)), 16).tolist() == [[16, 32, 48, 160]]


def test_decode_places_a_box_around_its_cell_centre() -> None:
    scores = np.zeros((26 * 26, 80), np.float32)
    cell = 5 * 26 + 10  # row 5, column 10: centre (168, 88) at stride 16
    scores[cell, CAR] = 0.9
    head = {16: (scores, sharp_logits(26 * 26, cell, (2, 1, 3, 4)))}
    xyxy, score, class_id = decode(head, min_confidence=0.35)
    assert xyxy.tolist() == [[168 - 32, 88 - 16, 168 + 48, 88 + 64]]
    assert score.tolist() == pytest.approx([0.9])
    assert class_id.tolist() == [CAR]


def test_decode_keeps_every_class_above_the_confidence_and_only_wanted_ones() -> None:
    scores = np.zeros((13 * 13, 80), np.float32)
    scores[7, PERSON] = 0.6
    scores[7, CAR] = 0.5
    scores[8, CAR] = 0.2
    head = {32: (scores, sharp_logits(13 * 13, 7, (1, 1, 1, 1)))}
    _, _, class_id = decode(head, min_confidence=0.35)
    assert sorted(class_id.tolist()) == [PERSON, CAR]
    wanted = np.isin(np.arange(80), [CAR])
    _, _, class_id = decode(head, min_confidence=0.0, wanted=wanted)
    assert set(class_id.tolist()) == {CAR}


def test_overlapping_boxes_of_one_class_are_suppressed_but_not_of_two() -> None:
    xyxy = np.array([[10, 10, 60, 110], [12, 12, 62, 112], [11, 11, 61, 111]], np.float32)
    scores = np.array([0.7, 0.9, 0.8], np.float32)
    box = Letterbox.fit(width=416, height=416, size=416)
    same = suppress(xyxy, scores, np.array([0, 0, 0], np.int32), letterbox=box, iou_threshold=0.5)
    assert same.confidence.tolist() == pytest.approx([0.9])
    mixed = suppress(xyxy, scores, np.array([0, 0, 2], np.int32), letterbox=box, iou_threshold=0.5)
    assert mixed.class_id.tolist() == [0, 2]


def test_configured_classes_filter_what_is_reported() -> None:
    detector = NanoDetDetector(NanoDetConfig(classes=["car"], min_confidence=0.01))
    image = np.random.default_rng(2).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    assert set(detector.detect(image).class_id.tolist()) <= {CAR}


def test_unknown_class_names_are_refused_in_the_config() -> None:
    with pytest.raises(ValidationError, match="not COCO class names: dragon"):
        NanoDetConfig(classes=["person", "dragon"])


def test_the_config_picks_the_plugin_by_type_and_refuses_unknown_keys() -> None:
    adapter: TypeAdapter[NanoDetConfig] = TypeAdapter(DetectorConfig)
    config = adapter.validate_python({"type": "nanodet", "threads": 2})
    assert isinstance(config, NanoDetConfig) and config.threads == 2
    assert isinstance(build_detector(config), NanoDetDetector)
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "nanodet", "treshold": 0.5})
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "tensorrt"})


def test_a_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        NanoDetDetector(path=tmp_path / "nanodet.onnx")


def test_a_corrupt_model_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nanodet.onnx"
    path.write_bytes(MODEL_PATH.read_bytes()[:1000])
    with pytest.raises(ConfigError, match="not a loadable ONNX model"):
        NanoDetDetector(path=path)
