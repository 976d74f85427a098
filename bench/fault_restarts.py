"""Faults: NATS and PostgreSQL restarted under load — is any acknowledged event lost, how long
until the clients are back?

A producer publishes camera events through JetStream at ``--rate`` a second (two publish
loops, as an API node's requests; a publish reported unconfirmed is sent again with the same
ids, one refused is reported to its caller); a consumer node records them into PostgreSQL and
answers the API. Mid-stream the server is stopped — NATS by SIGTERM and by SIGKILL (started
again on the same store), PostgreSQL by ``pg_ctl stop -m fast`` and ``-m immediate`` (a
crash) — and started again ``--down`` seconds later. Each run prints sent, acknowledged,
stored, refused, sent again, duplicates and redeliveries, and the time until the producer,
the recorder and the API were back. The target: sent = stored + refused, nothing
acknowledged lost, nothing stored twice. Throw-away servers on their own ports (tests/servers.py).

    .venv/bin/python bench/fault_restarts.py [--down 5] [--rate 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.faults import Figures, nats_restart, postgres_restart
from tests.servers import PostgresServer, missing

from kupol.core.db import upgrade


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def report(f: Figures) -> None:
    balanced = f.sent == f.stored + f.rejected
    ok = balanced and f.lost == 0 and f.duplicates == 0 and f.rejected_but_stored == 0
    back = f"producer {seconds(f.producer_back_s)}, recorder {seconds(f.consumer_back_s)}"
    if f.api:
        back += f", API {seconds(f.api_back_s)}"
    print(f"{f.fault} (measured outage {f.down_s:.1f} s): {'OK' if ok else 'FAILED'}")
    print(
        f"  sent {f.sent:,}  acknowledged {f.acked:,}  stored {f.stored:,}  refused "
        f"{f.rejected:,}  sent again {f.resent:,}  →  sent = stored + refused: {balanced}"
    )
    print(
        f"  acknowledged but lost {f.lost}  refused but stored {f.rejected_but_stored}  "
        f"stored twice {f.duplicates}  redelivered (skipped by id) {f.redelivered:,}"
    )
    print(
        f"  back after the server: {back}; every acknowledged event stored "
        f"{f.drained_s:.1f} s after the producer stopped"
    )
    if f.api:
        answers: dict[int, int] = {}
        for _, status in f.api:
            answers[status] = answers.get(status, 0) + 1
        refusal = ""
        if f.api_problem:
            refusal = f"; the refusal: {f.api_problem.get('status')} {f.api_problem.get('title')!r}"
        print(f"  API answers meanwhile: {dict(sorted(answers.items()))}{refusal}")


async def run(args: argparse.Namespace) -> None:
    common = {
        "down_s": args.down,
        "rate": args.rate,
        "before_s": args.seconds,
        "after_s": args.seconds,
    }
    with PostgresServer.started() as pg:
        for how in (signal.SIGTERM, signal.SIGKILL):
            url = pg.create_database(f"kupol_nats_{how.name.lower()}")
            await asyncio.to_thread(upgrade, url)
            report(await nats_restart(database_url=url, how=how, **common))
    for mode in ("fast", "immediate"):
        report(await postgres_restart(mode=mode, **common))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", type=float, default=5.0, help="seconds the server stays down")
    parser.add_argument("--rate", type=int, default=1000, help="events a second")
    parser.add_argument("--seconds", type=float, default=5.0, help="load before and after")
    args = parser.parse_args()
    reason = missing()
    if reason is not None:
        sys.exit(f"cannot run throw-away servers here: {reason}")
    logging.basicConfig(level=logging.CRITICAL)  # the outages log plenty; the figures say it
    print(
        f"faults under load: {args.rate:,} events/s, server down {args.down:g} s, "
        f"{args.seconds:g} s of load before and after; publish time-out 2 s"
    )
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
