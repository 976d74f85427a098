"""The shipped ONNX face embedder is dlib's ResNet: dlib's descriptors on real faces, rebuilt
byte for byte from dlib's weights by scripts/build_face_embedder.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import cv2
import dlib  # type: ignore[import-untyped, unused-ignore]
import face_recognition_models as models  # type: ignore[import-untyped, unused-ignore]
import numpy as np
import pytest

from kupol.faces.dlib_onnx import MODEL_PATH, OnnxDlibEmbedder
from tests.conftest import ROOT, need_data

TOLERANCE = 1e-3
PHOTOS = 16  # the first deepface photos by name: 17 faces, a few seconds of dlib
WEIGHTS = Path(models.face_recognition_model_location())


def build_script() -> ModuleType:
    path = ROOT / "scripts" / "build_face_embedder.py"
    spec = importlib.util.spec_from_file_location("build_face_embedder", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rgb_chips() -> list[np.ndarray]:
    """Faces of real photos as dlib aligns them for its ResNet: 150 x 150 RGB."""
    folder = need_data("faces", "deepface")
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    chips = []
    for path in sorted(folder.glob("*.jpg"))[:PHOTOS]:
        bgr = cv2.imread(str(path))
        assert bgr is not None, path
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        for box in detector(rgb, 0):
            chip = dlib.get_face_chip(rgb, predictor(rgb, box), size=150, padding=0.25)
            chips.append(np.asarray(chip))
    assert len(chips) >= 10
    return chips


@pytest.fixture(scope="module")
def embedder() -> OnnxDlibEmbedder:
    return OnnxDlibEmbedder(batch_size=8)


@pytest.mark.data
def test_onnx_descriptors_equal_dlibs_within_1e3(
    rgb_chips: list[np.ndarray], embedder: OnnxDlibEmbedder
) -> None:
    net = dlib.face_recognition_model_v1(str(WEIGHTS))
    expected = np.array([net.compute_face_descriptor(chip) for chip in rgb_chips])
    bgr_chips = [np.ascontiguousarray(chip[:, :, ::-1]) for chip in rgb_chips]

    found = embedder.descriptors(bgr_chips)

    assert found.shape == (len(rgb_chips), 128)
    assert np.abs(found - expected).max() <= TOLERANCE


@pytest.mark.data
def test_templates_are_unit_length_and_point_like_dlibs_descriptors(
    rgb_chips: list[np.ndarray], embedder: OnnxDlibEmbedder
) -> None:
    bgr_chips = [np.ascontiguousarray(chip[:, :, ::-1]) for chip in rgb_chips]

    templates = embedder.embed(bgr_chips)
    raw = embedder.descriptors(bgr_chips)

    assert templates.dtype == np.float32
    assert np.allclose(np.linalg.norm(templates, axis=1), 1.0, atol=1e-5)
    assert np.allclose(templates * np.linalg.norm(raw, axis=1, keepdims=True), raw, atol=1e-5)


def test_a_batch_gives_the_same_templates_as_one_chip_at_a_time(
    embedder: OnnxDlibEmbedder,
) -> None:
    rng = np.random.default_rng(7)
    chips = [rng.integers(0, 256, (150, 150, 3), dtype=np.uint8) for _ in range(11)]

    together = embedder.embed(chips)
    alone = np.concatenate([embedder.embed([chip]) for chip in chips])

    assert np.abs(together - alone).max() < 1e-5


def test_no_chips_give_an_empty_matrix_and_a_wrong_size_is_refused(
    embedder: OnnxDlibEmbedder,
) -> None:
    assert embedder.embed([]).shape == (0, 128)
    with pytest.raises(ValueError, match="150x150x3"):
        embedder.embed([np.zeros((112, 112, 3), np.uint8)])


def test_the_shipped_model_is_what_the_build_script_makes_from_dlibs_weights() -> None:
    script = build_script()

    built = script.build_model(script.read_dlib_net(WEIGHTS), half=True)

    assert built.SerializeToString(deterministic=True) == MODEL_PATH.read_bytes(), (
        "src/kupol/faces/models/dlib-resnet-v1.onnx is stale: run `make face-embedder`"
    )


def test_a_file_that_is_not_anet_type_is_refused(tmp_path: Path) -> None:
    script = build_script()
    data = bytearray(WEIGHTS.read_bytes())
    data[data.index(b"avg_pool_2") + 10 : data.index(b"avg_pool_2") + 12] = b"\x01\x03"  # 3x2
    broken = tmp_path / "broken.dat"
    broken.write_bytes(bytes(data))

    with pytest.raises(ValueError, match="pool settings"):
        script.build_model(script.read_dlib_net(broken), half=True)
