"""What the load bench counts in the database at the end, and how it prints a run's figures."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from kupol.alerts.messages import AlertChanged
from kupol.core.db import Database
from kupol.faces.matcher import FACE_MATCH
from load_mix import FACE_RULE, INTRUSION_RULE, percentile


@dataclass(kw_only=True)
class Stored:
    """Rows in the database: what was stored, and duplicates (rows with an id seen twice)."""

    events: dict[str, int] = field(default_factory=dict)
    """camera_events per type."""
    plates: int = 0
    plate_duplicates: int = 0
    faces: int = 0
    face_duplicates: int = 0
    hits: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    """Alerts per rule."""
    alert_duplicates: int = 0
    """Alerts raised twice for one event."""
    outbox: int = 0

    def loss(self, sent: Mapping[str, int]) -> dict[str, int]:
        """Sent minus stored, per kind (negative: more stored than sent)."""
        return {
            "motion": sent.get("motion", 0) - self.events.get("motion", 0),
            "intrusion": sent.get("intrusion", 0) - self.events.get("intrusion", 0),
            "plate": sent.get("plate", 0) - self.plates,
            "face": sent.get("face", 0) - self.faces,
            "intrusion alert": sent.get("intrusion", 0) - self.alerts.get(INTRUSION_RULE, 0),
            "face-hit event": self.hits - self.events.get(FACE_MATCH, 0),
            "face-hit alert": self.events.get(FACE_MATCH, 0) - self.alerts.get(FACE_RULE, 0),
        }

    def complete(self, sent: Mapping[str, int]) -> bool:
        """Everything sent is stored and every follow-up published."""
        return self.outbox == 0 and all(v <= 0 for v in self.loss(sent).values())


def count_stored(db: Database) -> Stored:
    """Count what the run left in the database (a few seconds on tens of millions of rows)."""
    with db.reader() as session:

        def rows(sql: str) -> Sequence[Any]:
            return session.execute(text(sql)).all()

        events = {
            t: int(n) for t, n in rows("SELECT type, count(*) FROM camera_events GROUP BY type")
        }
        plates, plates_distinct = rows(
            "SELECT count(*), count(DISTINCT message_id) FROM plate_sightings"
        )[0]
        faces, faces_distinct = rows(
            "SELECT count(*), count(DISTINCT message_id) FROM face_sightings"
        )[0]
        alerts = rows(
            "SELECT r.name, count(*), count(DISTINCT a.first_event_id) FROM alerts a "
            "JOIN alert_rules r ON r.id = a.rule_id GROUP BY r.name"
        )
        return Stored(
            events=events,
            plates=int(plates),
            plate_duplicates=int(plates - plates_distinct),
            faces=int(faces),
            face_duplicates=int(faces - faces_distinct),
            hits=int(rows("SELECT count(*) FROM face_hits")[0][0]),
            alerts={name: int(n) for name, n, _ in alerts},
            alert_duplicates=sum(int(n - d) for _, n, d in alerts),
            outbox=int(rows("SELECT count(*) FROM outbox")[0][0]),
        )


class AlertClock:
    """Listens to ``AlertChanged`` on the bus: latency from the event's creation to the alert's
    ``raised`` change reaching the listener, per rule, and raised changes seen twice."""

    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = {}
        self.at: dict[str, list[float]] = {}
        """When (time.time()) each latency was seen, for the timeline."""
        self.seen: set[int] = set()
        self.duplicates = 0

    def observe(self, events: Sequence[Any], now_s: float) -> None:
        from datetime import UTC, datetime

        now = datetime.fromtimestamp(now_s, UTC)
        for e in events:
            if not isinstance(e, AlertChanged) or e.change != "raised":
                continue
            if e.alert_id in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(e.alert_id)
            self.latency.setdefault(e.rule_name, []).append((now - e.raised_at).total_seconds())
            self.at.setdefault(e.rule_name, []).append(now_s)


def lag_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float:
    """The upper bound of the histogram bucket holding the ``q`` quantile (cumulative counts)."""
    total = buckets[-1][1] if buckets else 0
    if not total:
        return math.nan
    for bound, count in buckets:
        if count >= q * total:
            return bound
    return math.inf


def merge_buckets(many: Sequence[Sequence[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Cumulative histograms of several processes added up (same bounds)."""
    merged: dict[float, float] = {}
    for buckets in many:
        for bound, count in buckets:
            merged[bound] = merged.get(bound, 0) + count
    return sorted(merged.items())


def ms(value: float) -> str:
    return (
        "n/a"
        if math.isnan(value)
        else ("> 300 s" if math.isinf(value) else f"{value * 1000:,.0f} ms")
    )


def print_report(r: dict[str, Any], clock: AlertClock, stored: Stored) -> None:
    """Print a run's figures."""
    sent: dict[str, int] = r["sent"]
    total = sum(v for k, v in sent.items() if k != "face_wanted")
    print(
        f"load: {r['title']}, {r['cameras']} cameras, target {r['rate']:,}/s for "
        f"{r['seconds']:g} s; load average before {r['loadavg_before']}, "
        f"after {r['loadavg_after']}"
    )
    print(
        f"  published {total:,} in {r['published_s']:.1f} s = {total / r['published_s']:,.0f}/s "
        f"(publishers at most {r['behind_s']:.2f} s behind schedule); mix {dict(sent)}"
    )
    state = "all stored" if r["drained"] else f"NOT all stored within {r['drain_limit_s']:g} s"
    print(f"  {state} by {r['drained_s']:.1f} s = {total / r['drained_s']:,.0f}/s end to end")
    print(
        f"  stored: events {stored.events}, plate sightings {stored.plates:,}, face sightings "
        f"{stored.faces:,}, face hits {stored.hits:,} ({sent.get('face_wanted', 0):,} listed "
        f"faces sent), alerts {stored.alerts}, outbox left {stored.outbox}"
    )
    loss = {k: v for k, v in stored.loss(sent).items() if v}
    missing = "loss" if r["drained"] else "not stored yet (backlog left in JetStream, not lost)"
    print(
        f"  {missing}: {loss or 0}; duplicates: plate sightings {stored.plate_duplicates}, face "
        f"sightings {stored.face_duplicates}, alerts {stored.alert_duplicates}, raised "
        f"notices seen twice {clock.duplicates}"
    )
    for rule, label in ((INTRUSION_RULE, "event → alert"), (FACE_RULE, "face → hit → alert")):
        values = clock.latency.get(rule, [])
        print(
            f"  alert latency ({label}), {len(values):,} alerts: p50 "
            f"{ms(percentile(values, 0.5))}, p95 {ms(percentile(values, 0.95))}, p99 "
            f"{ms(percentile(values, 0.99))}, max {ms(max(values, default=math.nan))}"
            + (" (target p99 ≤ 1,000 ms)" if rule == INTRUSION_RULE else "")
        )
    for name, c in sorted(r["consumers"].items()):
        if not c.get("handled"):
            continue
        buckets = r["lag"].get(name, [])
        expected = r["expected_handled"].get(name)
        again = f"{c['handled'] - expected:,.0f}" if expected is not None and r["drained"] else "?"
        print(
            f"  consumer {name}: handled {c['handled']:,.0f} (handled twice {again}), failed "
            f"batches {c['failed']:.0f}, {c['mean_ms']:.1f} ms a batch; lag (creation → handled) "
            f"p50 ≤ {ms(lag_quantile(buckets, 0.5))}, p99 ≤ {ms(lag_quantile(buckets, 0.99))}"
        )
    if r.get("db_connections_opened"):
        print(
            "  database connections each node opened (its pool's size, or more where its pool "
            f"was too small): {', '.join(f'{n:.0f}' for n in r['db_connections_opened'])}"
        )
    for line in r.get("timeline", []):
        print(line)
