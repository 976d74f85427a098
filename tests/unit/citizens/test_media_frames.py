"""A citizen's photo or video gives upright, bounded frames; the plates read on them are voted
across frames; the preview shown back has every face blurred and no metadata."""

from __future__ import annotations

import doctest
import io
from collections.abc import Mapping, Sequence

import av
import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image

from kupol.citizens import media_frames
from kupol.citizens.media_frames import Frame, frames_of, preview, read_plates
from kupol.citizens.media_meta import image_metadata
from kupol.core.errors import InvalidInputError
from kupol.plates.readers import Box, PlateRead, reader_for
from kupol.plates.render import PlateStyle, available_fonts, render_plate
from tests.conftest import need_data

RED = (0, 0, 255)  # BGR
GPS = ExifTags.GPS
ASTANA_GPS: dict[int, object] = {
    GPS.GPSLatitudeRef: "N",
    GPS.GPSLatitude: (51.0, 7.0, 41.88),
    GPS.GPSLongitudeRef: "E",
    GPS.GPSLongitude: (71.0, 25.0, 49.8),
}


def _marked(width: int, height: int) -> np.ndarray:
    """A grey BGR image with a red block in its top-left corner."""
    image = np.full((height, width, 3), 128, np.uint8)
    image[: height // 4, : width // 4] = RED
    return image


def _jpeg(image: np.ndarray, *, orientation: int | None = None, gps: bool = False) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(ASTANA_GPS)
    out = io.BytesIO()
    Image.fromarray(image[:, :, ::-1]).save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def _video(
    images: Sequence[np.ndarray],
    *,
    fps: int = 10,
    rotation: int | None = None,
    fmt: str = "mp4",
    key_every: int = 250,
) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format=fmt) as sink:
        stream = sink.add_stream("libx264", rate=fps)
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        stream.codec_context.gop_size = key_every
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                sink.mux(packet)
        for packet in stream.encode():
            sink.mux(packet)
    return out.getvalue()


def _decoded(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, np.uint8)


def _is_red(pixel: np.ndarray) -> bool:
    return bool(pixel[2] > 200 and pixel[0] < 60 and pixel[1] < 60)


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(media_frames).failed == 0


# frames_of


def test_a_phone_photo_turned_by_exif_comes_upright() -> None:
    # Orientation 6: the stored picture is shown turned 90° clockwise.
    (frame,) = frames_of(_jpeg(_marked(200, 100), orientation=6), "image/jpeg")
    assert frame.image.shape == (200, 100, 3)
    assert frame.image.dtype == np.uint8 and (frame.index, frame.at_s) == (0, 0.0)
    assert _is_red(frame.image[10, 90]) and not _is_red(frame.image[10, 10])


def test_a_png_is_one_bgr_frame_and_big_photos_are_shrunk() -> None:
    out = io.BytesIO()
    Image.fromarray(_marked(300, 120)[:, :, ::-1]).save(out, "PNG")
    (frame,) = frames_of(out.getvalue(), "image/png; charset=binary")
    assert frame.image.shape == (120, 300, 3) and _is_red(frame.image[5, 5])
    (small,) = frames_of(out.getvalue(), "image/png", max_side=100)
    assert small.image.shape == (40, 100, 3)
    (big,) = frames_of(_jpeg(_marked(3000, 2000)), "image/jpeg", max_side=1600)
    assert big.image.shape == (1067, 1600, 3)


def test_a_video_gives_at_most_max_frames_spread_over_it_in_order() -> None:
    images = [_marked(160, 120) for _ in range(30)]  # 3 s at 10 fps
    for index, image in enumerate(images):
        image[-10:, :, 1] = index * 8  # each frame differs
    data = _video(images)
    frames = frames_of(data, "video/mp4")
    assert 4 <= len(frames) <= 8
    times = [f.at_s for f in frames]
    assert times == sorted(set(times)) and 0 <= times[0] < 0.6 and 2.2 < times[-1] < 3.0
    assert [f.index for f in frames] == list(range(len(frames)))
    assert all(f.image.shape == (120, 160, 3) and _is_red(f.image[5, 5]) for f in frames)
    three = frames_of(data, "video/mp4", max_frames=3, max_side=80)
    assert len(three) == 3 and three[0].image.shape == (60, 80, 3)
    assert frames_of(_video(images, fmt="mov"), "video/quicktime", max_frames=2)


@pytest.mark.parametrize("key_every", [10, 1000])
def test_a_long_video_gives_one_frame_from_each_slice_of_it(key_every: int) -> None:
    # 24 s at 5 fps: with a key frame every 2 s the sampler seeks, with one key frame it
    # decodes forward; either way one frame from each eighth.
    images = [np.full((48, 64, 3), i * 2, np.uint8) for i in range(120)]
    data = _video(images, fps=5, key_every=key_every)
    frames = frames_of(data, "video/mp4")
    assert len(frames) == 8
    assert all(i * 3 <= f.at_s < (i + 1) * 3 for i, f in enumerate(frames)), frames
    # Each frame's picture is the one shown at its time (a seek landed where it says).
    with av.open(io.BytesIO(data), mode="r") as source:
        shown = {round(float(f.time), 3): float(f.to_ndarray(format="bgr24").mean())
                 for f in source.decode(video=0)}  # fmt: skip
    assert all(abs(float(f.image.mean()) - shown[round(f.at_s, 3)]) < 1 for f in frames)


def test_a_video_is_turned_as_its_display_matrix_says() -> None:
    # A phone held upright writes -90 (turn 90° clockwise to show it), as EXIF orientation 6.
    data = _video([_marked(200, 100)] * 10, rotation=-90)
    frames = frames_of(data, "video/mp4", max_frames=2)
    assert frames[0].image.shape == (200, 100, 3)
    assert _is_red(frames[0].image[10, 90]) and not _is_red(frames[0].image[10, 10])


@pytest.mark.parametrize(
    ("data", "media_type", "says"),
    [
        (b"\x00garbage" * 100, "image/jpeg", "not a readable image"),
        (b"\x00garbage" * 100, "video/mp4", "not readable"),
        (b"", "image/png", "empty"),
        (b"%PDF-1.7", "application/pdf", "not a photo or video"),
    ],
)
def test_what_cannot_be_read_is_refused_with_the_reason(
    data: bytes, media_type: str, says: str
) -> None:
    with pytest.raises(InvalidInputError, match=says):
        frames_of(data, media_type)


def test_a_cut_short_video_is_refused() -> None:
    data = _video([_marked(160, 120)] * 20)
    with pytest.raises(InvalidInputError):
        frames_of(data[: len(data) // 2], "video/mp4")


# read_plates


class ScriptedReader:
    """Reads what a script says each frame shows (the frame's index is its first pixel)."""

    name = "scripted"

    def __init__(self, script: Mapping[int, list[PlateRead]]) -> None:
        self.script = script

    def read_photo(self, image: np.ndarray) -> list[PlateRead]:
        return list(self.script.get(int(image[0, 0, 0]), []))

    def read_crop(self, image: np.ndarray) -> PlateRead:
        raise AssertionError("read_plates reads whole frames")


def _frames(count: int) -> list[Frame]:
    return [Frame(index=i, at_s=i / 2, image=np.full((8, 8, 3), i, np.uint8)) for i in range(count)]


def _read(text: str, confidence: float, box: Box | None = (100, 200, 220, 240)) -> PlateRead:
    return PlateRead(text=text, confidence=confidence, box=box)


def test_reads_across_frames_are_voted_into_one_plate() -> None:
    reader = ScriptedReader(
        {
            0: [_read("123ABC02", 0.8)],
            1: [_read("123ABD02", 0.9)],  # one character misread, same place
            2: [_read("123 abc 02", 0.7, (110, 205, 230, 245))],
            3: [_read("123ABC02", 0.6)],
        }
    )
    (guess,) = read_plates(_frames(4), reader)
    assert guess.text == "123ABC02" and guess.frames == 4
    assert guess.best_frame == 0 and guess.box == (100, 200, 220, 240)
    # 7 of 8 characters agreed by all, the sixth by 2.1 of 3.0; times the best agreeing read.
    assert guess.confidence == pytest.approx((7 + 2.1 / 3.0) / 8 * 0.8)


def test_near_identical_texts_far_apart_are_two_plates() -> None:
    reader = ScriptedReader(
        {0: [_read("123ABC02", 0.9), _read("123ABC03", 0.8, (900, 200, 1020, 240))]}
    )
    assert sorted(g.text for g in read_plates(_frames(1), reader)) == ["123ABC02", "123ABC03"]


def test_what_is_no_kazakh_plate_or_too_unsure_is_dropped() -> None:
    reader = ScriptedReader(
        {
            0: [_read("HELLO", 0.99), _read("123ABC99", 0.99), _read("AB1234CD", 0.99)],
            1: [_read("777KKK17", 0.3), _read("", 0.9)],
        }
    )
    assert read_plates(_frames(2), reader) == []
    assert [g.text for g in read_plates(_frames(2), reader, min_confidence=0.2)] == ["777KKK17"]


def test_plates_come_most_often_read_first_then_surest_and_at_most_three() -> None:
    far = {t: (i * 300.0, 0.0, i * 300.0 + 120, 40.0) for i, t in enumerate(
        ["111AAA01", "222BBB02", "333CCC03", "444DDD04"])}  # fmt: skip
    reader = ScriptedReader(
        {
            0: [_read(t, c, far[t]) for t, c in
                (("111AAA01", 0.6), ("222BBB02", 0.95), ("333CCC03", 0.7), ("444DDD04", 0.65))],
            1: [_read("111AAA01", 0.55, far["111AAA01"])],
        }
    )  # fmt: skip
    guesses = read_plates(_frames(2), reader)
    assert [g.text for g in guesses] == ["111AAA01", "222BBB02", "333CCC03"]
    assert [g.frames for g in guesses] == [2, 1, 1]


def _plate(text: str, height: int) -> np.ndarray:
    plate = render_plate(
        text, style=PlateStyle.KZ_INDIVIDUAL, rng=np.random.default_rng(0), font=available_fonts()
    )
    width = round(plate.image.shape[1] * height / plate.image.shape[0])
    return np.asarray(cv2.resize(plate.image, (width, height), interpolation=cv2.INTER_AREA))


def _street(
    plate: np.ndarray | None, *, x: int = 0, y: int = 0, size: tuple[int, int] = (1920, 1080)
) -> np.ndarray:
    """A grey picture with ``plate`` pasted at (x, y)."""
    scene = np.full((size[1], size[0], 3), 128, np.uint8)
    if plate is not None:
        scene[y : y + plate.shape[0], x : x + plate.shape[1]] = plate
    return scene


def test_the_projects_reader_finds_a_plate_in_a_photo_and_across_a_video() -> None:
    reader = reader_for("kupol")
    plate = _plate("505 QAZ 01", 60)  # about 280 px wide: a seventh of a 1920 px photo
    photo = frames_of(_jpeg(_street(plate, x=800, y=600)), "image/jpeg")
    guesses = read_plates(photo, reader)
    assert [g.text for g in guesses] == ["505QAZ01"] and guesses[0].confidence > 0.5
    centre = (800 + plate.shape[1] / 2) * 1600 / 1920  # frames are at most 1600 px wide
    assert guesses[0].box is not None and guesses[0].box[0] < centre < guesses[0].box[2]
    assert read_plates(frames_of(_jpeg(_street(None)), "image/jpeg"), reader) == []
    small = _plate("505 QAZ 01", 40)
    clip = [_street(small, x=300 + 10 * i, y=400, size=(1280, 720)) for i in range(20)]
    frames = frames_of(_video(clip), "video/mp4", max_frames=4)
    (moving,) = read_plates(frames, reader)
    assert moving.text == "505QAZ01" and moving.frames >= 3


# preview


def _textured(width: int, height: int) -> np.ndarray:
    """Random detail about 8 px across: a face's worth of texture that JPEG keeps."""
    rng = np.random.default_rng(7)
    coarse = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
    return np.asarray(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC))


def test_the_preview_blurs_each_face_box_and_leaves_the_rest() -> None:
    original = _textured(640, 480)
    box = (200.0, 150.0, 320.0, 300.0)
    shown = preview(_jpeg(original), "image/jpeg", lambda image: [box])
    assert (shown.width, shown.height, shown.faces_blurred) == (640, 480, 1)
    image = _decoded(shown.jpeg)
    inside, outside = (slice(170, 280), slice(220, 300)), (slice(0, 100), slice(450, 640))
    # Pixelated and blurred: most of the variance gone (a sharp copy would keep all of it).
    assert image[inside].astype(float).var() < 0.25 * original[inside].astype(float).var()
    # Away from the box only JPEG's loss (a blur there would differ by about 50 on average).
    assert np.abs(image[outside].astype(int) - original[outside].astype(int)).mean() < 8


def test_the_preview_carries_no_metadata_and_is_downscaled() -> None:
    data = _jpeg(_marked(2000, 1000), orientation=6, gps=True)
    assert image_metadata(data).location is not None
    shown = preview(data, "image/jpeg", lambda image: [])
    assert (shown.width, shown.height, shown.faces_blurred) == (640, 1280, 0)
    with Image.open(io.BytesIO(shown.jpeg)) as opened:
        assert opened.format == "JPEG" and opened.size == (640, 1280)
        assert not opened.getexif() and "exif" not in opened.info
    assert image_metadata(shown.jpeg).location is None


def test_a_face_finder_that_fails_gives_no_preview() -> None:
    def broken(image: np.ndarray) -> list[Box]:
        raise RuntimeError("face detector unavailable")

    with pytest.raises(RuntimeError, match="unavailable"):
        preview(_jpeg(_marked(64, 64)), "image/jpeg", broken)


def test_a_videos_preview_is_its_middle_or_chosen_sampled_frame() -> None:
    images = [np.full((120, 160, 3), 10 * i, np.uint8) for i in range(20)]
    data = _video(images)
    frames = frames_of(data, "video/mp4")
    seen: list[float] = []

    def finder(image: np.ndarray) -> list[Box]:
        seen.append(float(image.mean()))
        return []

    preview(data, "video/mp4", finder)
    preview(data, "video/mp4", finder, frame=1)
    middle, chosen = frames[len(frames) // 2], frames[1]
    assert seen == [pytest.approx(float(middle.image.mean())), pytest.approx(chosen.image.mean())]
    with pytest.raises(InvalidInputError, match="sampled frame"):
        preview(data, "video/mp4", finder, frame=len(frames))


@pytest.mark.data
def test_real_faces_in_a_photo_are_found_and_blurred() -> None:
    from kupol.faces.engine import FaceEngineConfig, shared_engine

    data = need_data("faces", "face_recognition", "test_images", "obama.jpg").read_bytes()
    engine = shared_engine(FaceEngineConfig())

    def find_faces(image: np.ndarray) -> list[Box]:
        return [face.box for face in engine.detect(image)]

    assert find_faces(frames_of(data, "image/jpeg", max_side=1280)[0].image)
    shown = preview(data, "image/jpeg", find_faces)
    assert shown.faces_blurred >= 1
    assert find_faces(_decoded(shown.jpeg)) == []
