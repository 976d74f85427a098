"""Plate readers: what ``kupol eval plates`` and (later) the camera pipeline call.

A reader finds plate text in a whole photo (detect and read) or reads a crop that holds one
plate. ``kupol`` (:mod:`kupol.plates.crnn`, a CRNN trained here on rendered plates) is the
default; **RapidOCR** (PP-OCR models shipped in its package) is the baseline it is measured
against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from kupol.core.errors import ConfigError
from kupol.plates.formats import fit_to_countries, normalise

Image = NDArray[np.uint8]
Box = tuple[float, float, float, float]


@dataclass(frozen=True, kw_only=True)
class PlateRead:
    """Text read on a plate, where (in the photo), and how sure the reader is."""

    text: str
    confidence: float
    box: Box | None = None


class PlateReader(Protocol):
    """A plate reader plug-in."""

    name: str

    def read_photo(self, image: Image) -> list[PlateRead]:
        """Every plate-like text in a whole photo, with its box, the reader's best first."""
        ...

    def read_crop(self, image: Image) -> PlateRead:
        """The text of one plate that fills ``image``."""
        ...


class RapidOcrReader:
    """RapidOCR (PP-OCR v4 models shipped in ``rapidocr_onnxruntime``), as the baseline."""

    name = "rapidocr"

    def __init__(self, countries: tuple[str, ...] = ("kz",)) -> None:
        self.countries = countries
        try:
            from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]
        except ImportError as exc:  # a development extra, not a runtime dependency
            raise ConfigError(
                "the rapidocr baseline needs rapidocr_onnxruntime (pip install -e '.[dev]')"
            ) from exc
        self._engine: Any = RapidOCR()

    def read_photo(self, image: Image) -> list[PlateRead]:
        result, _ = self._engine(image)
        reads = []
        for points, text, score in result or []:
            plate = fit_to_countries(_plate_text(text), self.countries)
            if not plate:
                continue
            xs = [float(p[0]) for p in points]
            ys = [float(p[1]) for p in points]
            reads.append(
                PlateRead(
                    text=plate, confidence=float(score), box=(min(xs), min(ys), max(xs), max(ys))
                )
            )
        reads.sort(key=lambda r: -r.confidence)
        return reads

    def read_crop(self, image: Image) -> PlateRead:
        result, _ = self._engine(image, use_det=False, use_cls=False, use_rec=True)
        if not result:
            return PlateRead(text="", confidence=0.0)
        text, score = result[0][0], result[0][1]
        return PlateRead(
            text=fit_to_countries(_plate_text(text), self.countries), confidence=float(score)
        )


def _plate_text(text: str) -> str:
    """Letters and digits only, normalised (plates carry nothing else worth reading)."""
    return "".join(c for c in normalise(text) if c.isalnum() and c.isascii())


def _kupol_reader(countries: tuple[str, ...], vehicles: bool, detector: bool) -> PlateReader:
    from kupol.plates.crnn import CrnnPlateReader, CrnnSettings  # crnn imports this module

    return CrnnPlateReader(CrnnSettings(countries=countries, vehicles=vehicles, detector=detector))


def _rapidocr_reader(countries: tuple[str, ...], vehicles: bool, detector: bool) -> PlateReader:
    return RapidOcrReader(countries)  # its own text detector finds the plates


READERS: dict[str, Callable[[tuple[str, ...], bool, bool], PlateReader]] = {
    "kupol": _kupol_reader,
    "rapidocr": _rapidocr_reader,
}
"""Reader plug-ins by name: ``kupol`` (the default, trained here) and ``rapidocr`` (baseline);
each is made from the countries whose layouts it corrects to, whether it should look inside
the vehicles of a whole photo and whether it should use kupol's learned plate detector (where
it finds plates with kupol's own means; rapidocr has its own text detector)."""


def reader_for(
    name: str,
    *,
    countries: Sequence[str] = ("kz",),
    vehicles: bool = False,
    detector: bool = True,
) -> PlateReader:
    """The reader plug-in called ``name``, correcting look-alikes to ``countries``' layouts;
    with ``vehicles``, looking for plates inside a whole photo's vehicles too; with
    ``detector``, reading the places the learned plate detector finds too."""
    try:
        factory = READERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown plate reader {name!r}; known: {', '.join(sorted(READERS))}"
        ) from None
    return factory(tuple(countries), vehicles, detector)
