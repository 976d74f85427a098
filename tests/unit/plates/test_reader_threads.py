"""Cameras share one plate reader, each from its own thread: the reader's image views must come
out the same as when one thread makes them (a shared OpenCV CLAHE object once mixed up the
threads' images and crashed a camera)."""

from __future__ import annotations

import threading

import numpy as np

from kupol.plates.crnn import _views


def test_views_made_in_many_threads_at_once_are_each_threads_own() -> None:
    rng = np.random.default_rng(5)
    crops = [
        rng.integers(0, 256, (int(h), int(w), 3), dtype=np.uint8)
        for h, w in zip(rng.integers(20, 90, 24), rng.integers(60, 300, 24), strict=True)
    ]
    expected = [_views(c, 3)[2] for c in crops]
    wrong: list[int] = []
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_ in range(40):
                i = (offset + round_) % len(crops)
                if not np.array_equal(_views(crops[i], 3)[2], expected[i]):
                    wrong.append(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and not wrong
