"""The face engine on real photos: regions, quality gating, templates, sharing."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pydantic import ValidationError

from kupol.core.errors import ConfigError
from kupol.faces.embedders import EMBEDDERS, embedder_for
from kupol.faces.engine import (
    FaceEngine,
    FaceEngineConfig,
    cosine,
    engine_config,
    shared_engine,
)
from tests.unit.faces.photos import near, photo, portrait, small_faces_frame

KNN = ("face_recognition", "knn_examples", "train")


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return shared_engine(FaceEngineConfig())


def test_a_portrait_gives_one_usable_face_with_a_unit_template(engine: FaceEngine) -> None:
    (face,) = engine.analyze(portrait())
    assert face.quality.usable, face.quality
    assert face.embedding.shape == (128,) and face.embedding.dtype == np.float32
    assert abs(float(np.linalg.norm(face.embedding)) - 1) < 1e-5
    assert face.chip.shape == (150, 150, 3)
    assert face.landmarks.shape == (5, 2)


def test_the_same_person_scores_higher_than_another(engine: FaceEngine) -> None:
    def template(*relative: str) -> np.ndarray:
        (face,) = engine.analyze(photo(*KNN, *relative))
        return face.embedding

    obama, obama2, biden = (
        template("obama", "obama.jpg"),
        template("obama", "obama2.jpg"),
        (template("biden", "biden.jpg")),
    )
    assert cosine(obama, obama2) >= 0.94 > cosine(obama, biden)


def test_regions_are_searched_alone_and_faces_come_back_in_image_pixels(
    engine: FaceEngine,
) -> None:
    frame, truths = small_faces_frame(100)
    everywhere = engine.analyze(frame)
    assert len(everywhere) == 3
    first = truths[0]
    around_first = (first[0] - 80, first[1] - 80, first[2] + 80, first[3] + 80)
    (face,) = engine.analyze(frame, regions=[around_first])
    assert near(face.box, first, tolerance=0.15)
    nowhere = (0.0, 0.0, 60.0, 60.0)
    assert engine.analyze(frame, regions=[nowhere]) == []


def test_a_face_in_two_overlapping_regions_is_reported_once(engine: FaceEngine) -> None:
    frame, truths = small_faces_frame(100, faces=1)
    x1, y1, x2, y2 = truths[0]
    left = (x1 - 120, y1 - 60, x2 + 40, y2 + 60)
    right = (x1 - 40, y1 - 60, x2 + 120, y2 + 60)
    (face,) = engine.analyze(frame, regions=[left, right])
    assert near(face.box, truths[0], tolerance=0.15)


def test_unusable_faces_are_embedded_only_when_asked() -> None:
    strict = FaceEngine(engine_config({"quality": {"min_face_px": 4000}}))
    (face,) = strict.analyze(portrait())
    assert not face.quality.usable and face.quality.reasons == ("too_small",)
    assert face.embedding.size == 0
    (embedded,) = strict.analyze(portrait(), embed_unusable=True)
    assert embedded.embedding.shape == (128,)


def test_max_faces_keeps_the_best_scored(engine: FaceEngine) -> None:
    group = photo(*KNN[:2], "test", "obama_and_biden.jpg")
    faces = engine.analyze(group)
    assert len(faces) >= 2
    (best,) = FaceEngine(
        FaceEngineConfig(max_faces=1), detector=engine.detector, embedder=engine.embedder
    ).analyze(group)
    assert best.box == faces[0].box


def test_analyze_leaves_out_only_the_boxes_detect_scores_below_min_score(
    engine: FaceEngine,
) -> None:
    frame, truths = small_faces_frame(32)
    boxes = engine.detect(frame)
    assert len(boxes) == len(truths)
    assert [f.box for f in engine.analyze(frame)] == [
        f.box for f in boxes if f.score >= engine.config.min_score
    ]


def test_one_engine_is_shared_per_configuration_across_threads() -> None:
    engines: list[FaceEngine] = []

    def take() -> None:
        engines.append(shared_engine(FaceEngineConfig()))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(e is engines[0] for e in engines)
    assert shared_engine(engine_config({"max_faces": 3})) is not engines[0]


def test_configuration_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"detector"):
        engine_config({"detector": {"type": "mtcnn"}})
    with pytest.raises(ConfigError, match=r"embedder"):
        engine_config({"embedder": "arcface"})
    with pytest.raises(ValidationError):
        FaceEngineConfig.model_validate({"threshold": 0.9})
    with pytest.raises(ConfigError, match="unknown face embedder"):
        embedder_for("arcface")
    assert "dlib" in EMBEDDERS


def test_cosine_of_templates() -> None:
    a = np.array([1.0, 0.0], np.float32)
    assert cosine(a, a) == pytest.approx(1.0)
    assert cosine(a, np.array([0.0, 2.0])) == pytest.approx(0.0)
    assert cosine(a, np.zeros(2)) == 0.0
