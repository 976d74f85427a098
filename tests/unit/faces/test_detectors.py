"""Face detectors on real photos: one face where there is one, small faces in large frames."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import onnx
import pytest
from pydantic import TypeAdapter, ValidationError

from kupol.faces.blazeface import MODELS, MODELS_BY_NAME
from kupol.faces.detectors import (
    BlazeFaceConfig,
    BlazeFaceDetector,
    DlibHogConfig,
    FaceDetectorChoice,
    build_face_detector,
)
from kupol.faces.types import FaceDetector
from tests.unit.faces.photos import near, portrait, small_faces_frame

PORTRAIT_FACE = (397.0, 336.0, 1053.0, 991.0)  # dlib's HOG box on img1.jpg
CONFIGS = {
    "blazeface-short": BlazeFaceConfig(model="short"),
    "blazeface-full": BlazeFaceConfig(model="full"),
    "dlib-hog": DlibHogConfig(),
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def detector(request: pytest.FixtureRequest) -> FaceDetector:
    return build_face_detector(CONFIGS[request.param])


def test_a_blank_frame_has_no_faces(detector: FaceDetector) -> None:
    assert detector.detect(np.zeros((720, 1280, 3), np.uint8)) == []


def test_a_portrait_has_one_face_where_dlib_puts_it(detector: FaceDetector) -> None:
    faces = detector.detect(portrait())
    assert len(faces) == 1
    assert near(faces[0].box, PORTRAIT_FACE, tolerance=0.1)
    assert 0.8 <= faces[0].score <= 1


def test_blazeface_gives_six_keypoints_inside_the_face() -> None:
    (face,) = BlazeFaceDetector().detect(portrait())
    assert face.landmarks is not None and face.landmarks.shape == (6, 2)
    right_eye, left_eye, nose = face.landmarks[:3]
    x1, y1, x2, y2 = face.box
    assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in (right_eye, left_eye, nose))
    assert nose[1] > max(right_eye[1], left_eye[1])  # below the eyes


@pytest.mark.parametrize("width", [32, 40, 80])
def test_the_default_detector_finds_small_faces_in_a_large_frame(width: int) -> None:
    frame, truths = small_faces_frame(width)
    faces = sorted(BlazeFaceDetector().detect(frame), key=lambda face: face.box[0])
    assert len(faces) == len(truths)
    assert all(near(face.box, truth) for face, truth in zip(faces, truths, strict=True))


def test_dlib_hog_misses_faces_below_its_80_px_window_unless_upsampled() -> None:
    frame, truths = small_faces_frame(40)
    assert build_face_detector(DlibHogConfig()).detect(frame) == []
    assert len(build_face_detector(DlibHogConfig(upsample=1)).detect(frame)) == len(truths)


def test_the_pyramid_runs_only_the_scales_needed() -> None:
    def inputs(config: BlazeFaceConfig, width: int, height: int) -> list[tuple[int, int]]:
        levels = BlazeFaceDetector(config).levels(width, height)
        return [(box.input_width, box.input_height) for box in levels]

    # 1280 x 720, faces from 40 px: half scale (640 x 360 -> 640 x 384) and one between
    assert inputs(BlazeFaceConfig(), 1280, 720) == [(128, 128), (128, 128), (224, 128), (640, 384)]
    # a head cut from a person's box: the native square is already fine enough
    assert inputs(BlazeFaceConfig(), 90, 110) == [(128, 128), (128, 128)]
    assert inputs(BlazeFaceConfig(min_face_px=0), 1280, 720) == [(128, 128), (128, 128)]
    # huge photos: the largest scale is bounded
    assert max(inputs(BlazeFaceConfig(), 4000, 3000)[-1]) <= 1024


def test_detector_configs_are_chosen_by_type_and_refuse_unknown_fields() -> None:
    adapter: TypeAdapter[BlazeFaceConfig | DlibHogConfig] = TypeAdapter(FaceDetectorChoice)
    assert isinstance(adapter.validate_python({"type": "dlib-hog"}), DlibHogConfig)
    assert adapter.validate_python({"type": "blazeface"}) == BlazeFaceConfig(model="short")
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "blazeface", "upsample": 1})
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "mtcnn"})


@pytest.mark.parametrize("name", list(MODELS_BY_NAME))
def test_the_shipped_models_say_where_they_come_from_and_run_at_any_size(name: str) -> None:
    model = onnx.load(str(MODELS_BY_NAME[name].path))
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["license"] == "Apache-2.0"
    assert "mediapipe==0.10.21" in metadata["source"]
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "height", "width", 3]


def test_the_models_readme_states_the_shipped_files_sha256() -> None:
    readme = (MODELS / "README.md").read_text(encoding="utf-8")
    for model in MODELS_BY_NAME.values():
        digest = hashlib.sha256(model.path.read_bytes()).hexdigest()
        assert re.search(rf"{re.escape(model.file)}.*{digest}", readme), model.file
