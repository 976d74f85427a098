"""The built-in NanoDet-g detector on real video, on frames checked by eye.

people-intel.mp4 (768 x 432, 10 fps): an office wall with a round high table in the middle;
people walk in one at a time and stand at the table, seen from behind. Checked by eye:

* frame 116: a woman in a long grey cardigan stands at the table, whole body;
* frame 348: a man in black, whole body, at the table;
* frame 580: a long-haired woman in black, whole body, at the table;
* frame 812: a man in a black T-shirt, whole body, at the table;
* frame 1044: a dark-haired woman in a grey jumper, whole body, at the table;
* frame 1276: a man in a grey shirt and jeans, whole body, right of the table;
* frames 0 and 464: nobody (the empty room, table and window only).

cars-intel.mp4 (768 x 432, 12.5 fps): a wet car park seen from straight above; cars cross it
now and then. Checked by eye:

* frame 66: a white estate car, bottom centre;
* frame 96: a white car, its rear at the top edge, upper middle;
* frame 222: a silver car entering at the bottom left (a red car in the middle too);
* frame 342: a white SUV, bottom left;
* frames 0, 150 and 300: empty tarmac.

Cars seen from above are far from COCO's pictures: NanoDet-g calls them cars at only 0.44-0.47
here (and misses the red car of frame 222, which it takes for a cell phone), so these frames
are the ones it gets; people standing are found at 0.69-0.91.
"""

from __future__ import annotations

from collections.abc import Iterable

import av
import numpy as np
import pytest

from kupol.vision.detections import CAR, PERSON, VEHICLES, Detections
from kupol.vision.detectors.base import NanoDetConfig
from kupol.vision.detectors.nanodet import NanoDetDetector
from tests.conftest import need_data

PEOPLE_AT = {116: 450, 348: 460, 580: 475, 812: 430, 1044: 455, 1276: 440}
"""Frame -> x of the person's middle in pixels, read off the frames."""
NOBODY_AT = (0, 464)
CARS_AT = {66: (380, 340), 96: (340, 60), 222: (150, 370), 342: (205, 350)}
"""Frame -> (x, y) of a point inside the car that must be found, read off the frames."""
NO_CARS_AT = (0, 150, 300)


def frames(name: str, indices: Iterable[int]) -> dict[int, np.ndarray]:
    """The BGR frames of a shared video at these indices."""
    wanted = set(indices)
    found = {}
    with av.open(str(need_data("video", name))) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted:
                found[index] = frame.to_ndarray(format="bgr24")
            if index >= max(wanted):
                break
    return found


@pytest.fixture(scope="module")
def detector() -> NanoDetDetector:
    return NanoDetDetector(NanoDetConfig(threads=2))


def contains(found: Detections, x: float, y: float | None = None) -> bool:
    x1, y1, x2, y2 = found.xyxy.T
    inside = (x1 <= x) & (x <= x2)
    if y is not None:
        inside &= (y1 <= y) & (y <= y2)
    return bool(inside.any())


def test_people_standing_in_view_are_found_and_an_empty_room_has_none(
    detector: NanoDetDetector,
) -> None:
    video = frames("people-intel.mp4", [*PEOPLE_AT, *NOBODY_AT])
    for index, x in PEOPLE_AT.items():
        people = detector.detect(video[index]).of_classes({PERSON})
        assert len(people) == 1, (index, people.xyxy)
        assert contains(people, x), (index, people.xyxy)
        height = float(people.xyxy[0, 3] - people.xyxy[0, 1])
        assert height > 300, (index, people.xyxy)  # whole body, in a 432-pixel frame
    for index in NOBODY_AT:
        assert len(detector.detect(video[index]).of_classes({PERSON})) == 0, index


def test_cars_crossing_the_car_park_are_found_and_empty_tarmac_has_none(
    detector: NanoDetDetector,
) -> None:
    video = frames("cars-intel.mp4", [*CARS_AT, *NO_CARS_AT])
    for index, (x, y) in CARS_AT.items():
        cars = detector.detect(video[index]).of_classes({CAR})
        assert contains(cars, x, y), (index, cars.xyxy)
    for index in NO_CARS_AT:
        assert len(detector.detect(video[index]).of_classes(set(VEHICLES))) == 0, index
