"""Every kind of source a camera can have: files, image folders and MJPEG over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from kupol.core.errors import SourceError
from kupol.vision.sources import check_source, read_frames


def picture(index: int) -> np.ndarray:
    image = np.full((240, 320, 3), 90, np.uint8)
    cv2.putText(image, str(index), (40, 160), cv2.FONT_HERSHEY_SIMPLEX, 4, (255, 255, 255), 6)
    return image


def test_an_image_folder_plays_in_name_order_at_the_folder_rate(tmp_path: Path) -> None:
    for i in range(10):
        cv2.imwrite(str(tmp_path / f"frame-{i:03d}.jpg"), picture(i))
    (tmp_path / "notes.txt").write_text("not an image")

    frames = list(read_frames(str(tmp_path), analysis_fps=2.5, folder_fps=5.0, width=160))

    assert [f.source_index for f in frames] == [0, 2, 4, 6, 8]
    assert [f.pts_s for f in frames] == [0.0, 0.4, 0.8, 1.2, 1.6]
    assert frames[0].image.shape == (120, 160, 3)
    assert frames[0].full_image().size == (320, 240)


def test_an_unreadable_image_in_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.jpg"), picture(0))
    (tmp_path / "b.jpg").write_bytes(b"broken")

    with pytest.raises(SourceError, match="cannot read image"):
        list(read_frames(str(tmp_path), analysis_fps=5, folder_fps=5))


class MjpegCamera(BaseHTTPRequestHandler):
    """A camera that serves ``multipart/x-mixed-replace`` JPEGs, like cheap IP cameras do."""

    frames = 40

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        for i in range(self.frames):
            ok, jpeg = cv2.imencode(".jpg", picture(i))
            assert ok
            self.wfile.write(
                b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                + str(len(jpeg)).encode()
                + b"\r\n\r\n"
                + jpeg.tobytes()
                + b"\r\n"
            )
            time.sleep(0.02)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def mjpeg_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), MjpegCamera)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
    finally:
        server.shutdown()


def test_an_mjpeg_http_camera_is_read_with_the_mpjpeg_format(mjpeg_url: str) -> None:
    check_source(mjpeg_url)

    frames = []
    # The camera hangs up after 40 pictures: a dropped stream is an error (the camera's
    # worker reconnects), but what came before it was delivered.
    with pytest.raises(SourceError, match="error while decoding"):
        for frame in read_frames(mjpeg_url, analysis_fps=50, input_format="mpjpeg", width=320):
            frames.append(frame)

    assert len(frames) >= 30
    assert frames[0].image.shape == (240, 320, 3)
    # The pictures differ (a number is drawn on each): frames were really decoded.
    assert not np.array_equal(frames[0].image, frames[-1].image)


def test_a_stream_that_refuses_the_connection_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="cannot open video"):
        next(read_frames("http://127.0.0.1:9/none.mjpg", analysis_fps=5, input_format="mpjpeg"))
