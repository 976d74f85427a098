"""A traffic light's phases over time, as its controller reports them.

A controller (over MQTT or HTTP) reports each change: the time and the new phase. The
timeline answers what the phase was at any moment and since when — what the red-light rule
needs to tell a vehicle that entered on amber from one that ran a red.

Example:
    >>> lights = SignalTimeline("j1-north")
    >>> lights.change(at=0.0, phase="green"); lights.change(at=30.0, phase="amber")
    >>> lights.change(at=33.0, phase="red")
    >>> lights.phase_at(34.5), lights.red_for(34.5)
    ('red', 1.5)
"""

from __future__ import annotations

import bisect
import math
import threading
from typing import Literal

from kupol.core.errors import InvalidInputError

Phase = Literal["green", "amber", "red", "red_amber", "off", "flashing_amber"]
PHASES: tuple[Phase, ...] = ("green", "amber", "red", "red_amber", "off", "flashing_amber")
PROHIBITING: frozenset[str] = frozenset({"red", "red_amber"})


class SignalTimeline:
    """The reported phase changes of one signal head, in time order."""

    def __init__(self, signal_id: str) -> None:
        self.signal_id = signal_id
        self._times: list[float] = []
        self._phases: list[Phase] = []
        self._lock = threading.Lock()
        """Cameras read while a controller's report is written (threads)."""

    def change(self, *, at: float, phase: str) -> None:
        """Record that the signal turned ``phase`` at ``at`` (seconds, the cameras' clock).

        Raises:
            InvalidInputError: An unknown phase, or a change older than the last one (a
                controller's report arriving out of order is refused, not reordered, so that
                a rule never judges against a timeline that changes under it).
        """
        if not math.isfinite(at):
            raise InvalidInputError(f"signal {self.signal_id}: a change needs a finite time")
        if phase not in PHASES:
            raise InvalidInputError(
                f"signal {self.signal_id}: unknown phase {phase!r} (known: {', '.join(PHASES)})"
            )
        with self._lock:
            if self._times and at < self._times[-1]:
                raise InvalidInputError(
                    f"signal {self.signal_id}: change at {at} is older than the last one "
                    f"({self._times[-1]})"
                )
            if self._phases and self._phases[-1] == phase:
                return  # a repeated report (a resend, a heartbeat) is no change
            self._times.append(at)
            self._phases.append(phase)

    def phase_at(self, t: float) -> Phase | None:
        """The phase at ``t``; ``None`` before the first reported change (unknown)."""
        with self._lock:
            i = bisect.bisect_right(self._times, t) - 1
            return self._phases[i] if i >= 0 else None

    def red_for(self, t: float) -> float | None:
        """How long the signal had been prohibiting at ``t`` — red, then red with amber, which
        prohibits too (ПДД РК) — or ``None`` when it was not."""
        with self._lock:
            i = bisect.bisect_right(self._times, t) - 1
            if i < 0 or self._phases[i] not in PROHIBITING:
                return None
            while i > 0 and self._phases[i - 1] in PROHIBITING:
                i -= 1
            return t - self._times[i]
