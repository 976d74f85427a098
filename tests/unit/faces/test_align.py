"""Alignment: dlib's five landmarks and exactly the chip dlib's ResNet expects."""

from __future__ import annotations

import cv2
import dlib  # type: ignore[import-untyped, unused-ignore]
import face_recognition_models as models  # type: ignore[import-untyped, unused-ignore]
import numpy as np

from kupol.faces import align
from tests.unit.faces.photos import portrait

BOX = (397.0, 336.0, 1053.0, 991.0)  # the portrait's face as dlib's HOG detector draws it


def test_the_landmarks_are_two_eyes_above_the_nose_inside_the_face() -> None:
    points = align.landmarks(portrait(), BOX)
    assert points.shape == (5, 2) and points.dtype == np.float32
    x1, y1, x2, y2 = BOX
    assert ((points >= [x1, y1]) & (points <= [x2, y2])).all()
    right_eye, left_eye, nose = points[0:2].mean(0), points[2:4].mean(0), points[4]
    assert right_eye[0] > nose[0] > left_eye[0]  # eye 0-1 on the picture's right
    assert nose[1] > max(right_eye[1], left_eye[1]) + 100


def test_the_chip_is_the_one_dlib_makes_for_its_resnet() -> None:
    image = portrait()
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    chip = align.chip(image, align.landmarks(image, BOX))
    assert chip.shape == (150, 150, 3) and chip.dtype == np.uint8

    predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    network = dlib.face_recognition_model_v1(models.face_recognition_model_location())
    shape = predictor(rgb, dlib.rectangle(397, 336, 1052, 990))
    # dlib's own path: detect landmarks, cut the chip internally, describe it
    reference = np.array(network.compute_face_descriptor(rgb, shape))
    ours = np.array(network.compute_face_descriptor(cv2.cvtColor(chip, cv2.COLOR_BGR2RGB)))
    assert np.array_equal(ours, reference)
    assert np.array_equal(chip[:, :, ::-1], dlib.get_face_chip(rgb, shape, size=150, padding=0.25))


def test_grey_pictures_are_aligned_too() -> None:
    grey = cv2.cvtColor(portrait(), cv2.COLOR_BGR2GRAY)
    points = align.landmarks(grey, BOX)
    assert align.chip(grey, points).shape == (150, 150, 3)
    assert np.abs(points - align.landmarks(portrait(), BOX)).max() <= 3
