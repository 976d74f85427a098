"""Call screening: for each call attempt, allow, warn the callee, or block — with reasons.

The screen keeps, per caller, per IMEI and per cell, what the last hours of traffic said
(sliding windows of timestamps, no call content), and judges each attempt on:

- **lists**: a number on the block list is blocked, one on the allow list (a bank's call
  centre, an emergency service) is allowed whatever its behaviour; entries carry their source
  and may expire;
- **the number itself**: not a number, or in Kazakhstan's share of +7 but in no range the
  numbering gives out;
- **spoofing**: a Kazakhstan number arriving on an international trunk (unless the operator
  says the subscriber is roaming), a mobile number presented by a network other than the one
  that issued it (a warning: numbers are ported), the callee's own number;
- **behaviour**: fan-out (many distinct callees in minutes), mostly unanswered or very short
  calls, Wangiri (international one-ring calls to many numbers), bursts at night;
- **SIM-boxes**: many SIMs (IMSIs) through one handset (IMEI) in a day, SIMs with consecutive
  IMSIs calling from one cell, SIMs that only ever call out.

Every verdict lists its reasons; the strongest decides (block over warn over allow).
Outcomes (answered, duration) are learned after the call with :meth:`CallScreen.outcome`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from kupol.antifraud.numbers import Number, Numbering, NumberKind, load_numbering


class Verdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"


SEVERITY = {Verdict.ALLOW: 0, Verdict.WARN: 1, Verdict.BLOCK: 2}

REASONS: dict[str, tuple[Verdict, str]] = {
    "block_list": (Verdict.BLOCK, "the number is on the block list"),
    "invalid_number": (Verdict.BLOCK, "the caller's number is not a valid telephone number"),
    "unallocated_number": (Verdict.BLOCK, "the number is in no range Kazakhstan gives out"),
    "domestic_on_international": (
        Verdict.BLOCK,
        "a Kazakhstan number arriving from abroad (caller ID spoofing)",
    ),
    "callee_own_number": (Verdict.BLOCK, "the call shows the callee's own number"),
    "network_mismatch": (
        Verdict.WARN,
        "the number is presented by a network other than the one that issued it",
    ),
    "fan_out": (Verdict.WARN, "the caller rang many different people within minutes"),
    "fan_out_heavy": (Verdict.BLOCK, "the caller rang very many different people within minutes"),
    "call_centre": (
        Verdict.BLOCK,
        "the caller rings stranger after stranger and is mostly hung up on (a call centre)",
    ),
    "short_calls": (
        Verdict.WARN,
        "most of the caller's recent calls were unanswered or seconds long",
    ),
    "wangiri": (Verdict.BLOCK, "one-ring calls from abroad to many numbers (Wangiri)"),
    "night_burst": (Verdict.WARN, "many calls from this number at night"),
    "simbox_imei": (Verdict.BLOCK, "many SIM cards through one handset (SIM-box)"),
    "sequential_imsi": (Verdict.BLOCK, "SIM cards with consecutive numbers calling from one cell"),
    "outgoing_only": (Verdict.WARN, "a SIM that only calls out, many times"),
    "model": (Verdict.WARN, "the call resembles fraud calls (the learned model)"),
}
"""Reason code → the verdict it asks for, and what it says."""


@dataclass(frozen=True, kw_only=True)
class ScreenSettings:
    """Thresholds (windows in seconds)."""

    fan_out_window: float = 600.0
    fan_out_warn: int = 10
    fan_out_block: int = 25
    short_window: float = 3600.0
    short_min_calls: int = 8
    short_call_s: float = 10.0
    short_share: float = 0.8
    wangiri_window: float = 3600.0
    wangiri_callees: int = 5
    wangiri_ring_s: float = 5.0
    night_hours: tuple[int, int] = (0, 6)
    night_window: float = 3600.0
    night_calls: int = 10
    imei_window: float = 86_400.0
    imei_imsis: int = 4
    sequence_window: float = 3600.0
    sequence_gap: int = 20
    sequence_count: int = 3
    outgoing_window: float = 86_400.0
    outgoing_calls: int = 30
    utc_offset_h: int = 5
    """Local time for the night rule (Kazakhstan: UTC+5 since 2024)."""
    auto_block_hours: float = 24.0
    """A caller blocked for its behaviour stays on the block list this long (0: never)."""


@dataclass(frozen=True, kw_only=True)
class CallAttempt:
    """One call attempt as the operator's switch sees it."""

    call_id: str
    at: datetime
    caller: str
    called: str
    international: bool = False
    """Arrived on an international trunk."""
    network: str | None = None
    """The originating network (operator name), where the switch knows it."""
    roaming: bool = False
    """The operator says the caller is its subscriber roaming abroad."""
    imsi: str | None = None
    imei: str | None = None
    cell: str | None = None


@dataclass(frozen=True, kw_only=True)
class Screened:
    """The verdict on one attempt."""

    call_id: str
    verdict: Verdict
    reasons: tuple[str, ...]
    caller: Number
    signals: tuple[float, ...] = ()
    """The window counts behind the rules (:data:`SIGNALS`), for the learned model."""


SIGNALS = (
    "international",
    "roaming",
    "caller_kind",
    "network_mismatch",
    "distinct_callees_10m",
    "finished_calls_1h",
    "short_share_1h",
    "night_calls_1h",
    "outgoing_24h",
    "called_back_24h",
    "imsis_on_handset_24h",
    "neighbour_imsis_in_cell_1h",
    "has_imsi",
    "hour",
)
"""What the learned model sees of a call: the same windows the rules count."""
_T = TypeVar("_T")
_KIND_CODES = {kind: float(i) for i, kind in enumerate(NumberKind)}


@dataclass(frozen=True, kw_only=True)
class ListEntry:
    """A block- or allow-list entry with its provenance."""

    number: str
    source: str
    expires_at: float | None = None


class _Window(Generic[_T]):
    """The distinct values seen in a sliding time window, each with the last time it was seen,
    oldest first — so that the number of distinct values is known at once (counting a set over
    the window on every call cost a third of a screening server's time once a busy cell had an
    hour of calls in it), and a value seen again and again takes one entry, not one a call (a
    handset's day of calls from its one SIM was a day of entries). An ordered dictionary: a
    plain one scans past the slots its front deletions leave (93 µs a call on a cell with 50
    calls a second)."""

    __slots__ = ("last_seen",)

    def __init__(self) -> None:
        self.last_seen: OrderedDict[_T, float] = OrderedDict()  # oldest first

    def expire(self, since: float) -> None:
        """Forget the values not seen since ``since``."""
        counts = self.last_seen
        while counts:
            if next(iter(counts.values())) >= since:
                return
            counts.popitem(last=False)

    def add(self, at: float, value: _T) -> None:
        counts = self.last_seen
        last = counts.get(value)
        if last is None:
            counts[value] = at
        elif at > last:  # (an earlier time than its last leaves it where it is)
            counts[value] = at
            counts.move_to_end(value)

    def distinct(self) -> int:
        return len(self.last_seen)


class _Outcomes:
    """(time, short-or-unanswered) of a caller's finished calls, with the short ones counted.
    A list read from ``head`` (compacted once mostly expired), not a deque: an empty deque
    takes 760 bytes."""

    __slots__ = ("entries", "head", "short")

    def __init__(self) -> None:
        self.entries: list[tuple[float, bool]] = []
        self.head = 0
        self.short = 0

    def expire(self, since: float) -> None:
        entries, head = self.entries, self.head
        while head < len(entries) and entries[head][0] < since:
            if entries[head][1]:
                self.short -= 1
            head += 1
        if head > 32 and 2 * head > len(entries):
            del entries[:head]
            head = 0
        self.head = head

    def add(self, at: float, short: bool) -> None:
        self.entries.append((at, short))
        self.short += short

    def __len__(self) -> int:
        return len(self.entries) - self.head


def _expire(times: list[float], since: float) -> None:
    """Drop the times before ``since`` from the front of ``times`` (kept in the order they
    came, at most :data:`KEPT` of them). Lists, not deques: an empty deque takes 760 bytes, and
    a screen held four for every number that called within a day."""
    gone = 0
    while gone < len(times) and times[gone] < since:
        gone += 1
    if gone:
        del times[:gone]


_S = TypeVar("_S")

KEPT = 1_000
"""The times a number's calls out (24 hours) and night calls (an hour) are kept for, at most:
the rules ask for ``outgoing_calls`` (30) and ``night_calls`` (10) — a larger setting raises
the cap to it — and the learned model's trees split those counts at no more than 12 and 0.5
(checked by a test), so a count capped here judges as the full one would."""


class _Recent(Generic[_S]):
    """Per-key state (a caller's, a handset's, a cell's), forgotten once its key has not come
    up for a whole ``horizon`` of call time — by then every entry of its windows has expired,
    so a fresh state judges the same. Without it the screen kept every number, handset and
    cell it had ever seen, however long ago, and its memory grew for as long as it ran.

    Two generations: the keys seen since the last turn (:attr:`current`, where the screen
    looks first, one dictionary look-up as before) and those seen in the turn before; every
    ``horizon`` the older ones still unseen are let go, a few with each call (freeing millions
    at once would stall the screen)."""

    __slots__ = ("_dying", "_factory", "_horizon", "_previous", "_turn_at", "current")

    def __init__(self, factory: Callable[[], _S], horizon: float) -> None:
        self._factory = factory
        self._horizon = horizon
        self.current: dict[str, _S] = {}
        self._previous: dict[str, _S] = {}
        self._dying: dict[str, _S] = {}
        self._turn_at: float | None = None

    def miss(self, key: str) -> _S:
        """``key``'s state when it is not in :attr:`current` (from the turn before, or new)."""
        state = self._previous.pop(key, None)
        if state is None:
            state = self._factory()
        self.current[key] = state
        return state

    def find(self, key: str) -> _S | None:
        """``key``'s state if it has one (none is made)."""
        state = self.current.get(key)
        return self._previous.get(key) if state is None else state

    def tick(self, now: float) -> None:
        """Once a call: turn the generations when a ``horizon`` has passed, and let a few of
        the forgotten states go."""
        if self._turn_at is None or now >= self._turn_at:
            if self._turn_at is not None:
                self._dying, self._previous, self.current = self._previous, self.current, {}
            self._turn_at = now + self._horizon
        dying = self._dying
        for _ in range(min(8, len(dying))):
            dying.popitem()

    def __len__(self) -> int:
        return len(self.current) + len(self._previous)


class _Heard:
    """When a number last received a call."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = float("-inf")


@dataclass(slots=True)
class _Caller:
    callees: _Window[str] = field(default_factory=_Window)
    outcomes: _Outcomes = field(default_factory=_Outcomes)
    night: list[float] = field(default_factory=list)
    # a day of calls out, an hour of night calls: the latest KEPT (or the rule's count)
    outgoing: list[float] = field(default_factory=list)


class CallScreen:
    """The screening state for one switch or one operator's traffic (not thread-safe: one
    screen per worker, fed in time order)."""

    def __init__(
        self, settings: ScreenSettings | None = None, numbering: Numbering | None = None
    ) -> None:
        self.settings = settings or ScreenSettings()
        self.numbering = numbering or load_numbering()
        self.block_list: dict[str, ListEntry] = {}
        self.allow_list: dict[str, ListEntry] = {}
        self.ported: dict[str, str] = {}
        """Ported numbers (E.164 → the operator serving them now), from the operators'
        number-portability register: a ported number's network is not a mismatch."""
        s = self.settings
        caller_horizon = max(s.fan_out_window, s.short_window, s.wangiri_window,
                             s.night_window, s.outgoing_window)  # fmt: skip
        self._callers: _Recent[_Caller] = _Recent(_Caller, caller_horizon)
        self._imei: _Recent[_Window[str]] = _Recent(_Window, s.imei_window)
        self._cell_imsis: _Recent[_Window[int]] = _Recent(_Window, s.sequence_window)
        self._kept_out = max(KEPT, s.outgoing_calls)
        self._kept_night = max(KEPT, s.night_calls)
        self.turn_clock: Callable[[], float] | None = None
        """What turns the generations of states forgotten (:class:`_Recent`): the calls' own
        times when ``None`` (a file of records, a simulated day); a live service sets the
        wall clock, so that a switch sending times ahead cannot make the screen forget the
        states of the calls just before."""
        # when each number last received a call (a number rung is not made a caller's state)
        self._incoming: _Recent[_Heard] = _Recent(_Heard, s.outgoing_window)
        self._numbers: dict[str, Number] = {}

    def number(self, raw: str) -> Number:
        """``raw`` placed in the numbering plan (remembered: a switch sends the same numbers
        again and again)."""
        known = self._numbers.get(raw)
        if known is None:
            known = self.numbering.classify(raw)
            if len(self._numbers) < 1_000_000:
                self._numbers[raw] = known
        return known

    def _listed(self, entries: dict[str, ListEntry], number: str, now: float) -> bool:
        entry = entries.get(number)
        return entry is not None and (entry.expires_at is None or entry.expires_at > now)

    def screen(self, call: CallAttempt) -> Screened:
        """Judge ``call`` on what came before it, then remember it."""
        s = self.settings
        now = call.at.timestamp()
        caller = self.number(call.caller)
        called = self.number(call.called)
        key = caller.e164
        reasons: list[str] = []
        if self._listed(self.block_list, key, now):
            reasons.append("block_list")
        allowed = self._listed(self.allow_list, key, now)
        if caller.kind is NumberKind.INVALID:
            reasons.append("invalid_number")
        elif caller.kind is NumberKind.KZ_UNALLOCATED:
            reasons.append("unallocated_number")
        spoofed = call.international and caller.domestic and not call.roaming
        if spoofed:
            reasons.append("domestic_on_international")
        if (
            key == called.e164
            and caller.kind is not NumberKind.INVALID
            and (call.international or not call.imsi)
        ):
            # From a subscriber's own SIM it is a voicemail check; from a gateway, spoofing.
            reasons.append("callee_own_number")
        mismatch = 0.0
        if not call.international and call.network and caller.operator:
            serving = self.ported.get(key, caller.operator)
            if call.network.casefold() != serving.casefold():  # "KCELL" is Kcell
                reasons.append("network_mismatch")
                mismatch = 1.0
        turn = now if self.turn_clock is None else self.turn_clock()
        callers = self._callers
        callers.tick(turn)
        # A Kazakhstan number shown on a call from abroad was not dialled by its owner: such
        # calls are counted apart, so that a campaign spoofing it does not make the owner's
        # own calls look like a call-centre's (nor list the owner, below).
        state_key = _SPOOFED + key if spoofed else key
        state = callers.current.get(state_key)
        if state is None:
            state = callers.miss(state_key)
        # Fan-out: distinct callees in the window, this one included.
        callees = state.callees
        callees.expire(now - s.fan_out_window)
        callees.add(now, called.e164)
        distinct = callees.distinct()
        if distinct >= s.fan_out_block:
            reasons.append("fan_out_heavy")
        elif distinct >= s.fan_out_warn:
            reasons.append("fan_out")
        outcomes = state.outcomes
        outcomes.expire(now - s.short_window)
        short = outcomes.short
        if len(outcomes) >= s.short_min_calls and short >= s.short_share * len(outcomes):
            reasons.append("short_calls")
            if distinct >= s.fan_out_warn:
                reasons.append("call_centre")
            if caller.kind is NumberKind.INTERNATIONAL and distinct >= s.wangiri_callees:
                reasons.append("wangiri")
        hour = (int(now // 3600) + s.utc_offset_h) % 24  # local hour
        night = state.night
        if s.night_hours[0] <= hour < s.night_hours[1]:
            _expire(night, now - s.night_window)
            night.append(now)
            if len(night) > self._kept_night:
                del night[0]
            if len(night) >= s.night_calls:
                reasons.append("night_burst")
        out = state.outgoing
        _expire(out, now - s.outgoing_window)
        out.append(now)
        if len(out) > self._kept_out:
            del out[0]
        incoming = self._incoming
        incoming.tick(turn)
        heard = incoming.find(key)
        called_back = heard is not None and heard.at >= now - s.outgoing_window
        if len(out) >= s.outgoing_calls and not called_back:
            reasons.append("outgoing_only")
        callee = incoming.current.get(called.e164)
        if callee is None:
            callee = incoming.miss(called.e164)
        callee.at = max(callee.at, now)
        imsis = 0
        if call.imei and call.imsi:
            handsets = self._imei
            handsets.tick(turn)
            seen = handsets.current.get(call.imei)
            if seen is None:
                seen = handsets.miss(call.imei)
            seen.expire(now - s.imei_window)
            seen.add(now, call.imsi)
            imsis = seen.distinct()
            if imsis >= s.imei_imsis:
                reasons.append("simbox_imei")
        neighbours: set[int] = set()
        if call.cell and call.imsi and call.imsi.isdigit():
            imsi = int(call.imsi)
            cells = self._cell_imsis
            cells.tick(turn)
            near = cells.current.get(call.cell)
            if near is None:
                near = cells.miss(call.cell)
            near.expire(now - s.sequence_window)
            # The IMSIs within the gap: looked up one by one where the gap is the smaller
            # (a busy cell's hour holds thousands), else read off the window.
            gap, seen_here = s.sequence_gap, near.last_seen
            if 2 * gap + 1 < len(seen_here):
                candidates: Iterable[int] = range(imsi - gap, imsi + gap + 1)
                neighbours = {i for i in candidates if i != imsi and i in seen_here}
            else:
                neighbours = {i for i in seen_here if i != imsi and abs(i - imsi) <= gap}
            near.add(now, imsi)
            if len(neighbours) + 1 >= s.sequence_count:
                reasons.append("sequential_imsi")
        signals = (
            float(call.international), float(call.roaming), _KIND_CODES[caller.kind], mismatch,
            float(distinct), float(len(outcomes)),
            short / len(outcomes) if outcomes else 0.0, float(len(night)), float(len(out)),
            float(called_back), float(imsis), float(len(neighbours)), float(bool(call.imsi)),
            float(hour),
        )  # fmt: skip
        if allowed:
            # The allow list vouches for behaviour, not for a forged or broken number.
            reasons = [r for r in reasons if r in _NUMBER_REASONS]
        behaviour = [r for r in reasons if r in _AUTO_BLOCK]
        if (
            behaviour
            and s.auto_block_hours > 0
            and "block_list" not in reasons
            and not _SPOOFING.intersection(reasons)
        ):
            # Once caught, a number stays blocked: its pattern need not build up again.
            self.block_list[key] = ListEntry(
                number=key,
                source=f"auto: {behaviour[0]} at {call.at.isoformat()}",
                expires_at=now + s.auto_block_hours * 3600,
            )
        verdict = Verdict.ALLOW
        for reason in reasons:
            asked = REASONS[reason][0]
            if SEVERITY[asked] > SEVERITY[verdict]:
                verdict = asked
        return Screened(
            call_id=call.call_id, verdict=verdict, reasons=tuple(reasons), caller=caller,
            signals=signals,
        )  # fmt: skip

    def outcome(self, call: CallAttempt, *, answered: bool, duration_s: float) -> None:
        """What became of a call that went through: feeds the short-calls and Wangiri rules."""
        caller = self.number(call.caller)
        key = caller.e164
        if call.international and caller.domestic and not call.roaming:
            key = _SPOOFED + key  # counted apart, as :meth:`screen` counted it
        state = self._callers.current.get(key)
        if state is None:
            state = self._callers.miss(key)
        short = (not answered) or duration_s < self.settings.short_call_s
        state.outcomes.add(call.at.timestamp(), short)


_NUMBER_REASONS = frozenset(
    {
        "block_list",
        "invalid_number",
        "unallocated_number",
        "domestic_on_international",
        "callee_own_number",
    }
)
"""Reasons about the number itself, which the allow list does not override."""
_SPOOFED = "spoofed:"  # the key of a number's state on calls that forge it
_SPOOFING = frozenset({"domestic_on_international", "callee_own_number"})
"""Reasons saying the number shown is not the caller's: a call with one never lists it."""
_AUTO_BLOCK = frozenset(
    {"fan_out_heavy", "call_centre", "wangiri", "simbox_imei", "sequential_imsi"}
)
"""Behaviour that puts the caller on the block list for ``auto_block_hours``."""
