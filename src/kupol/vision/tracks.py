"""Track lifecycle events turned into bus messages for the one writer of the tracks table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kupol.vision.detections import COCO_CLASSES, class_name
from kupol.vision.events import normalised
from kupol.vision.messages import TrackObserved
from kupol.vision.pipeline import FrameResult
from kupol.vision.tracking import TrackEvent


@dataclass(kw_only=True)
class _Open:
    started_at: datetime
    first_pts_s: float
    object_class: str
    last: TrackObserved | None = None


@dataclass(kw_only=True)
class TrackPublisher:
    """Builds :class:`TrackObserved` messages for one run of one camera's pipeline."""

    camera_id: str
    run_id: str
    names: Sequence[str] = COCO_CLASSES
    started: int = 0
    _open: dict[int, _Open] = field(default_factory=dict)

    def messages(self, result: FrameResult, *, occurred: datetime) -> Iterator[TrackObserved]:
        """The messages for this frame's track events (``occurred``: the frame's wall time)."""
        width, height = result.frame.size
        for event in result.track_events:
            yield self._message(event, occurred=occurred, width=width, height=height)

    def _message(
        self, event: TrackEvent, *, occurred: datetime, width: int, height: int
    ) -> TrackObserved:
        known = self._open.get(event.track_id)
        if known is None:
            self.started += 1
            started_at = occurred - timedelta(seconds=max(0.0, event.pts_s - event.first_pts_s))
            known = _Open(
                started_at=started_at,
                first_pts_s=event.first_pts_s,
                object_class=class_name(event.class_id, self.names),
            )
            self._open[event.track_id] = known
        path = tuple(
            (
                round(p.pts_s - known.first_pts_s, 2),
                round(p.x / max(1, width), 4),
                round(p.y / max(1, height), 4),
            )
            for p in event.path
        )
        message = TrackObserved(
            camera_id=self.camera_id,
            run_id=self.run_id,
            track_id=event.track_id,
            stage=event.kind,
            object_class=known.object_class,
            started_at=known.started_at,
            seen_at=occurred,
            confidence=round(float(event.confidence), 3),
            box=normalised(event.box, width, height),
            path=path,
        )
        known.last = message
        if event.kind == "end":
            del self._open[event.track_id]
        return message

    def finish(self, *, occurred: datetime) -> list[TrackObserved]:
        """End messages for tracks still open when the camera stops."""
        ended = [
            TrackObserved(
                camera_id=self.camera_id,
                run_id=self.run_id,
                track_id=track_id,
                stage="end",
                object_class=known.object_class,
                started_at=known.started_at,
                seen_at=max(occurred, known.last.seen_at) if known.last else occurred,
                confidence=known.last.confidence if known.last else 0.0,
                box=known.last.box if known.last else (0.0, 0.0, 0.0, 0.0),
            )
            for track_id, known in self._open.items()
        ]
        self._open.clear()
        return ended
