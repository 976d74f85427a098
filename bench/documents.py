"""Documents: PDFs rendered and signed per second (one core), for a Russian resolution of a
camera violation, with ECDSA P-256 and Ed25519 certificates of the deployment's CA.

    .venv/bin/python bench/documents.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from kupol.documents.pki import Authority
from kupol.documents.render import render_pdf


def content(n: int) -> dict[str, Any]:
    return {
        "kind": "resolution",
        "language": "ru" if n % 2 else "kk",
        "number": f"R-2026-{n:06d}",
        "date": "2026-12-03T10:00:00+05:00",
        "occurred_at": "2026-12-03T09:12:00+05:00",
        "place": "Астана, проспект Тұран, 24 (51.12800, 71.43000)",
        "officer": "officer",
        "person": {"name": "Иванов Иван", "id": "900101300123", "address": "Алматы, ул. Абая, 1"},
        "vehicle": {"plate": "123ABC02", "make": "Toyota Camry"},
        "article": "592",
        "part": "2",
        "title": "Превышение установленной скорости движения",
        "fine_mrp": 10,
        "fine_tenge": 39320,
        "facts": "Скорость 92 км/ч при разрешённой 60 км/ч.",
        "evidence": [{"label": f"frame {i}", "sha256": f"{i:064x}"} for i in range(4)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    authority = Authority(Path(tempfile.mkdtemp()) / "pki")
    for algorithm in ("ecdsa-p256-sha256", "ed25519"):
        authority.issue("officer", algorithm=algorithm)
        signer = authority.signer("officer")
        render_pdf(content(0))  # fonts loaded once
        done, size, start = 0, 0, time.perf_counter()
        render_s = 0.0
        while time.perf_counter() - start < args.seconds:
            t = time.perf_counter()
            pdf = render_pdf(content(done + 1))
            render_s += time.perf_counter() - t
            signer.sign(pdf)
            done += 1
            size += len(pdf)
        elapsed = time.perf_counter() - start
        print(
            f"documents ({algorithm}): {done / elapsed:.1f} PDFs rendered and signed per second "
            f"(rendering {render_s / done * 1000:.1f} ms, signing "
            f"{(elapsed - render_s) / done * 1000:.2f} ms each; {size / done / 1024:.0f} KiB a PDF)"
        )


if __name__ == "__main__":
    main()
