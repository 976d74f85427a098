"""``kupol eval plates``: the three label formats and the figures, with a reader stand-in."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kupol.core.errors import InvalidInputError
from kupol.plates.evaluate import evaluate_plates, load_groundtruth, similarity
from kupol.plates.readers import PlateRead


class Scripted:
    """Reads what the test scripted for each photo (by its first pixel's value)."""

    name = "scripted"

    def __init__(self, answers: dict[int, list[PlateRead]]) -> None:
        self.answers = answers

    def read_photo(self, image: np.ndarray) -> list[PlateRead]:
        return self.answers[int(image[0, 0, 0])]

    def read_crop(self, image: np.ndarray) -> PlateRead:
        reads = self.answers[int(image[0, 0, 0])]
        return reads[0] if reads else PlateRead(text="", confidence=0.0)


def folder_with(tmp_path: Path, header: str, rows: list[str]) -> Path:
    for number in range(len(rows)):
        image = np.zeros((60, 200, 3), np.uint8)
        image[0, 0] = number
        cv2.imwrite(str(tmp_path / f"{number}.png"), image)
    (tmp_path / "groundtruth.csv").write_text("\n".join([header, *rows]) + "\n")
    return tmp_path


def test_whole_photos_are_judged_by_the_read_inside_the_labelled_box(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        "file,x,y,w,h,plate",
        ["0.png,10,10,100,30,123ABC02", "1.png,10,10,100,30,777KKK17", "2.png,10,10,100,30,A1"],
    )
    reader = Scripted(
        {
            0: [  # a sign elsewhere, the city name on the plate, and the plate
                PlateRead(text="STOP", confidence=0.99, box=(150, 40, 190, 55)),
                PlateRead(text="ALMATY", confidence=0.99, box=(20, 10, 90, 18)),
                PlateRead(text="123ABC02", confidence=0.9, box=(15, 15, 105, 35)),
            ],
            1: [PlateRead(text="777KKK1", confidence=0.9, box=(15, 15, 105, 35))],
            2: [],
        }
    )
    figures = evaluate_plates(folder, reader)
    assert (figures["n"], figures["detected"], figures["exact_count"]) == (3, 2, 1)
    assert figures["char_accuracy"] == pytest.approx((1 + 7 / 8 + 0) / 3, abs=1e-4)


def test_crops_and_several_plates_per_photo(tmp_path: Path) -> None:
    crops = folder_with(tmp_path / "c" if (tmp_path / "c").mkdir() is None else tmp_path,
                        "file,plate", ["0.png,AB-123", "1.png,XY999"])  # fmt: skip
    reader = Scripted({0: [PlateRead(text="AB123", confidence=1)], 1: []})
    figures = evaluate_plates(crops, reader)
    assert (figures["kind"], figures["exact_count"], figures["detected"]) == ("crops", 1, 1)

    multi = tmp_path / "m"
    multi.mkdir()
    folder_with(multi, "file,plates", ["0.png,AT6883CM;BE7425CB"])
    reader = Scripted({0: [PlateRead(text="AT6883CM", confidence=1, box=(0, 0, 1, 1))]})
    figures = evaluate_plates(multi, reader)
    assert (figures["n"], figures["exact_count"]) == (2, 1)


def test_a_folder_without_known_labels_is_refused(tmp_path: Path) -> None:
    (tmp_path / "groundtruth.csv").write_text("name,text\nx.png,AB\n")
    with pytest.raises(InvalidInputError, match="expected columns"):
        load_groundtruth(tmp_path)
    with pytest.raises(InvalidInputError, match="not found"):
        load_groundtruth(tmp_path / "nowhere")


def test_character_accuracy_is_one_minus_the_edit_distance_share() -> None:
    assert similarity("123ABC02", "123ABC02") == 1.0
    assert similarity("", "123ABC02") == 0.0
    assert similarity("123ABC0Z", "123ABC02") == pytest.approx(7 / 8)
