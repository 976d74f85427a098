"""The operator's YOLO ONNX plug-in, on tiny models that output fixed tensors in each layout.

Every model takes a 64 x 64 input; the test image is 128 x 64, so it is halved and padded by 16
pixels above and below: a box (24, 28, 40, 36) in the model's input is (48, 24, 80, 40) in the
image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from kupol.core.errors import ConfigError
from kupol.vision.detections import CAR, COCO_CLASSES, PERSON, TRUCK
from kupol.vision.detectors import build_detector
from kupol.vision.detectors.base import OnnxYoloConfig
from kupol.vision.detectors.yolo import OnnxYoloDetector, metadata_names_from, output_layout

IMAGE = np.full((64, 128, 3), 90, np.uint8)
IN_MODEL = [24.0, 28.0, 40.0, 36.0]
IN_IMAGE = [48.0, 24.0, 80.0, 40.0]


def write_model(
    path: Path,
    output: np.ndarray,
    *,
    input_dims: Sequence[int | str] = (1, 3, 64, 64),
    output_dims: Sequence[int | str] | None = None,
    names: str | None = None,
) -> Path:
    """An ONNX model whose output is ``output`` whatever the image (which it does read)."""
    nodes = [
        helper.make_node("Constant", [], ["table"], value=numpy_helper.from_array(output)),
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["table", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, list(input_dims))],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, output_dims or output.shape)],
        initializer=[numpy_helper.from_array(np.zeros((), np.float32), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if names is not None:
        model.metadata_props.add(key="names", value=names)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def yolov8_output(num_classes: int, rows: list[tuple[list[float], int, float]]) -> np.ndarray:
    """(1, 4+C, 100): columns of cx, cy, w, h, class scores."""
    output = np.zeros((1, 4 + num_classes, 100), np.float32)
    for column, (xyxy, class_id, score) in enumerate(rows):
        output[0, :4, column] = xyxy_to_cxcywh(xyxy)
        output[0, 4 + class_id, column] = score
    return output


def xyxy_to_cxcywh(xyxy: list[float]) -> list[float]:
    x1, y1, x2, y2 = xyxy
    return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]


def detector(path: Path, **config: object) -> OnnxYoloDetector:
    return OnnxYoloDetector(OnnxYoloConfig.model_validate({"path": path, **config}))


def test_yolov8_output_is_decoded_with_names_from_the_metadata(tmp_path: Path) -> None:
    output = yolov8_output(
        3,
        [
            (IN_MODEL, 2, 0.9),
            ([25, 28, 41, 36], 2, 0.6),  # the same object, less sure: suppressed
            ([0, 16, 10, 26], 0, 0.2),  # below the confidence
        ],
    )
    names = "{0: 'helmet', 1: 'vest', 2: 'worker'}"
    found = detector(write_model(tmp_path / "v8.onnx", output, names=names)).detect(IMAGE)
    assert found.xyxy.tolist() == [IN_IMAGE]
    assert found.class_id.tolist() == [2]
    assert found.confidence.tolist() == pytest.approx([0.9])


def test_yolov5_output_scores_are_objectness_times_class(tmp_path: Path) -> None:
    output = np.zeros((1, 100, 85), np.float32)
    output[0, 0, :5] = [*xyxy_to_cxcywh(IN_MODEL), 0.8]
    output[0, 0, 5 + TRUCK] = 0.9
    output[0, 1, :5] = [10, 30, 8, 8, 0.3]  # 0.3 x 0.9 is below the confidence
    output[0, 1, 5 + PERSON] = 0.9
    found = detector(write_model(tmp_path / "v5.onnx", output)).detect(IMAGE)
    assert found.xyxy.tolist() == [IN_IMAGE]
    assert found.class_id.tolist() == [TRUCK]
    assert found.confidence.tolist() == pytest.approx([0.72])


def test_output_exported_with_nms_is_read_as_boxes_scores_and_classes(tmp_path: Path) -> None:
    output = np.zeros((1, 300, 6), np.float32)
    output[0, 0] = [*IN_MODEL, 0.9, CAR]
    output[0, 1] = [0, 16, 10, 26, 0.5, PERSON]
    path = write_model(tmp_path / "nms.onnx", output)
    found = detector(path).detect(IMAGE)
    assert found.xyxy.tolist() == [IN_IMAGE, [0.0, 0.0, 20.0, 20.0]]
    assert found.class_id.tolist() == [CAR, PERSON]
    assert detector(path, classes=["person"]).detect(IMAGE).class_id.tolist() == [PERSON]


def test_yolov8_output_with_boxes_first_is_recognised_by_the_class_count(tmp_path: Path) -> None:
    output = yolov8_output(80, [(IN_MODEL, CAR, 0.7)]).transpose(0, 2, 1).copy()
    found = detector(write_model(tmp_path / "v8t.onnx", output)).detect(IMAGE)
    assert found.xyxy.tolist() == [IN_IMAGE]
    assert found.class_id.tolist() == [CAR]


def test_a_layout_known_only_when_run_is_recognised_then(tmp_path: Path) -> None:
    output = yolov8_output(80, [(IN_MODEL, PERSON, 0.8)])
    path = write_model(
        tmp_path / "dynamic.onnx",
        output,
        input_dims=("batch", 3, "height", "width"),
        output_dims=("batch", "values", "anchors"),
    )
    found = detector(path, input_size=64).detect(IMAGE)
    assert found.xyxy.tolist() == [IN_IMAGE]


def test_the_input_is_letterboxed_rgb_in_0_to_1_padded_grey(tmp_path: Path) -> None:
    plugin = detector(write_model(tmp_path / "v8.onnx", yolov8_output(80, [])))
    red = np.zeros((64, 128, 3), np.uint8)
    red[:, :, 2] = 255
    tensor, letterbox = plugin.preprocess(red)
    assert tensor.shape == (1, 3, 64, 64) and tensor.dtype == np.float32
    assert tensor[0, :, 32, 32].tolist() == [1.0, 0.0, 0.0]
    assert tensor[0, :, 0, 32] == pytest.approx([114 / 255] * 3)
    assert (letterbox.scale, letterbox.pad_y) == (0.5, 16.0)


def test_a_fixed_model_input_size_wins_over_the_configured_one(tmp_path: Path) -> None:
    output = yolov8_output(80, [(IN_MODEL, PERSON, 0.8)])
    found = detector(write_model(tmp_path / "v8.onnx", output), input_size=640).detect(IMAGE)
    assert found.xyxy.tolist() == [IN_IMAGE]


def test_configured_names_and_classes_are_used(tmp_path: Path) -> None:
    output = yolov8_output(2, [(IN_MODEL, 1, 0.9), ([0, 16, 10, 26], 0, 0.9)])
    path = write_model(tmp_path / "v8.onnx", output, names="{0: 'a', 1: 'b'}")
    plugin = detector(path, names=["plate", "face"], classes=["face"])
    assert plugin.names == ("plate", "face")
    assert plugin.detect(IMAGE).class_id.tolist() == [1]


def test_without_names_a_model_of_80_classes_speaks_coco(tmp_path: Path) -> None:
    output = yolov8_output(80, [(IN_MODEL, PERSON, 0.8)])
    plugin = build_detector(OnnxYoloConfig(path=write_model(tmp_path / "m.onnx", output)))
    assert plugin.names == COCO_CLASSES


def test_a_class_count_unlike_the_names_is_a_config_error(tmp_path: Path) -> None:
    path = write_model(tmp_path / "v8.onnx", yolov8_output(3, []))
    with pytest.raises(ConfigError, match="scores 3 classes but 80 names"):
        detector(path)
    with pytest.raises(ConfigError, match="has no classes named dragon"):
        detector(path, names=["a", "b", "c"], classes=["dragon"])


@pytest.mark.parametrize("shape", [(1, 100, 7), (1, 100), (1, 100, 4), (2, 84, 100)])
def test_an_unrecognised_output_layout_is_a_config_error(tmp_path: Path, shape: tuple) -> None:
    path = write_model(tmp_path / "odd.onnx", np.zeros(shape, np.float32))
    with pytest.raises(ConfigError, match="not a YOLO layout kupol knows"):
        detector(path)


@pytest.mark.parametrize(
    ("shape", "num_names", "hint", "kind", "num_classes"),
    [
        ((1, 84, 8400), 80, "auto", "yolov8", 80),
        ((1, 25200, 85), 80, "auto", "yolov5", 80),
        ((1, 300, 6), 80, "auto", "nms", None),
        ((1, 25200, 6), 1, "auto", "yolov5", 1),
        ((1, 25200, 6), 1, "nms", "nms", None),
        ((1, 8400, 6), 2, "auto", "yolov8", 2),
        ((1, 6, 8400), 2, "auto", "yolov8", 2),
    ],
)
def test_the_output_layout_follows_the_shape_and_the_names(
    shape: tuple[int, int, int], num_names: int, hint: str, kind: str, num_classes: int | None
) -> None:
    layout = output_layout(shape, num_names=num_names, hint=hint)
    assert layout is not None
    assert (layout.kind, layout.num_classes) == (kind, num_classes)


def test_a_layout_with_a_named_batch_axis_is_checked_when_loading(tmp_path: Path) -> None:
    output = np.zeros((1, 100, 7), np.float32)
    path = write_model(tmp_path / "odd.onnx", output, output_dims=("batch", 100, 7))
    with pytest.raises(ConfigError, match=r"output shape \(1, 100, 7\)"):
        detector(path)


def test_ultralytics_and_list_metadata_names_are_read() -> None:
    assert metadata_names_from("{0: 'person', 1: 'car'}") == ["person", "car"]
    assert metadata_names_from('["person", "car"]') == ["person", "car"]
    with pytest.raises(ConfigError, match="unreadable"):
        metadata_names_from("person car")


def test_a_missing_or_corrupt_model_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        detector(tmp_path / "absent.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not a loadable ONNX model"):
        detector(tmp_path / "junk.onnx")
