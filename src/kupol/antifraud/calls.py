"""Call screening as a service: operators' switches ask per call attempt over the API and get
the verdict with its reasons; fraud analysts keep the block and allow lists (with source and
expiry) and look a number up with its history. Numbers the screen catches by their behaviour
are put on the block list for a day, written down with the rule that caught them.

One :class:`CallScreening` per API process holds the screen's windows in memory (the lists
are read from the database when it starts and kept in step with every change made through
it); every decision is stored, so a number's history and the transfer holds' "called shortly
before from a suspicious number" read the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, or_, select

from kupol.antifraud.cdr import CdrRow
from kupol.antifraud.decision_store import LISTED, store_decisions, store_entry
from kupol.antifraud.groupcommit import GroupWriter
from kupol.antifraud.groups import FraudGroup, Payment, find_groups
from kupol.antifraud.model import CallDecision, NumberListEntry, TransferCheck
from kupol.antifraud.numbers import Numbering, NumberKind
from kupol.antifraud.screen_model import ScreenModel
from kupol.antifraud.screening import (
    REASONS,
    CallAttempt,
    CallScreen,
    ListEntry,
    Screened,
    Verdict,
)
from kupol.antifraud.writerproc import ProcessWriter
from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.core.messages import utcnow

log = logging.getLogger(__name__)

LISTS = ("block", "allow")
WARM_BUDGET_S = 120.0
"""How long a start may spend replaying stored decisions into the windows (:meth:`CallScreening
.warm`) before it serves with what it has replayed: switches get no answer meanwhile."""
_OUTCOMES_KEPT = 200_000


@dataclass(frozen=True, kw_only=True)
class ListView:
    number: str
    list: str
    source: str
    note: str | None
    active: bool
    """Not taken off the list (it may have expired since: ``in_force``)."""
    expires_at: datetime | None
    added_by: str
    added_at: datetime
    in_force: bool
    """Active and not expired: screening acts on it now."""


def in_force(row: NumberListEntry, now: datetime) -> bool:
    """Whether the list entry ``row`` is acted on at ``now`` (active, and not expired)."""
    return row.active and (row.expires_at is None or row.expires_at > now)


def _list_view(row: NumberListEntry) -> ListView:
    return ListView(
        number=row.number, list=row.list, source=row.source, note=row.note, active=row.active,
        expires_at=row.expires_at, added_by=row.added_by, added_at=row.added_at,
        in_force=in_force(row, utcnow()),
    )  # fmt: skip


def reason_texts(codes: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    """Reason codes with what they say."""
    return [{"code": c, "text": REASONS[c][1] if c in REASONS else c} for c in codes]


class CallScreening:
    """The screening service (see the module)."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        screen: CallScreen | None = None,
        model: ScreenModel | None = None,
    ):
        self._model = model
        self._writer = GroupWriter(db, CallDecision)
        self._process_writer: ProcessWriter | None = None
        self._db = db
        self._audit = audit
        self._screen = screen or CallScreen()
        self._screen.turn_clock = time.time  # live: a switch's clock cannot make it forget
        self._batched = _BatchedModel(model) if model is not None else None
        self._lock = threading.Lock()
        self._loaded = False
        self._judged = False  # a call was screened: the windows are no longer a replay's
        # recent calls by (switch, call id): their outcomes, and retries answered as before
        self._attempts: OrderedDict[tuple[str, str], _Asked] = OrderedDict()

    @property
    def model(self) -> ScreenModel | None:
        """The learned model that may warn (``None``: the rules decide alone)."""
        return self._model

    @property
    def numbering(self) -> Numbering:
        """The numbering plan the screen places numbers by."""
        return self._screen.numbering

    def _load(self) -> None:
        if self._loaded:
            return
        with self._db.reader() as session:
            for row in session.scalars(
                select(NumberListEntry).where(NumberListEntry.active.is_(True))
            ):
                self._remember(row)
        self._loaded = True

    def warm(self, minutes: float, *, budget_s: float = WARM_BUDGET_S) -> int:
        """Rebuild the screen's windows from the decisions stored in the last ``minutes``, so
        that a restart does not forget a call-centre's last calls (their fan-out), a handset's
        SIMs or a cell's IMSIs; the number of calls replayed. The calls are replayed through
        the screen in the order they were made, its verdicts thrown away, and the block list
        left as the database has it (a number listed again in the replay is not listed: the
        list was written when it happened, and a removal since stands). Whether a call from
        abroad showing a Kazakhstan number came from a roaming subscriber is read off its
        stored reasons (``domestic_on_international`` was given exactly when it did not).
        The last calls are remembered as awaiting their outcome, as they were (a retry is
        answered as before, an outcome reported after the restart is learned). Not rebuilt:
        the outcomes reported before it, which decisions do not store (the short-calls and
        Wangiri windows fill again as outcomes come). A screen warms
        once, and never after it has judged a call (its windows would count those twice).
        The replay stops after ``budget_s`` seconds, the windows holding the calls up to
        there (logged)."""
        if minutes <= 0:
            return 0
        since = utcnow() - timedelta(minutes=minutes)
        deadline = time.monotonic() + budget_s
        replayed = 0
        with self._lock:
            if self._judged:
                log.info("call screening: not warmed, it has judged calls already")
                return 0
            self._judged = True
            self._load()
            screen = self._screen
            asked = self._attempts
            listed = dict(screen.block_list)
            columns = (CallDecision.call_id, CallDecision.at, CallDecision.caller,
                       CallDecision.called, CallDecision.international, CallDecision.imsi,
                       CallDecision.imei, CallDecision.cell, CallDecision.reasons,
                       CallDecision.switch, CallDecision.verdict)  # fmt: skip
            query = (
                select(*columns)
                .where(CallDecision.at >= since)
                .order_by(CallDecision.at, CallDecision.id)
                .execution_options(yield_per=10_000)
            )
            try:
                with self._db.reader() as session:
                    for row in session.execute(query):
                        call_id, at, caller, called, international, imsi, imei, cell = row[:8]
                        reasons, switch, verdict = tuple(row[8] or ()), row[9], row[10]
                        attempt = CallAttempt(
                            call_id=call_id, at=at, caller=caller, called=called,
                            international=international, imsi=imsi, imei=imei, cell=cell,
                            roaming=international and "domestic_on_international" not in reasons,
                        )  # fmt: skip
                        screen.screen(attempt)
                        # The calls awaiting their outcome, as before the restart: a switch's
                        # retry is answered as then, and an outcome still teaches the windows.
                        asked[(switch, call_id)] = (attempt, Verdict(verdict), reasons)
                        if len(asked) > _OUTCOMES_KEPT:
                            asked.popitem(last=False)
                        replayed += 1
                        if replayed % 10_000 == 0 and time.monotonic() > deadline:
                            log.warning(
                                "call screening: replay stopped after %.0f s at the calls of "
                                "%s (%d replayed); later ones are not in its windows",
                                budget_s, at.isoformat(), replayed,
                            )  # fmt: skip
                            break
            finally:
                screen.block_list.clear()
                screen.block_list.update(listed)
        return replayed

    def _remember(self, row: NumberListEntry) -> None:
        entries = self._screen.block_list if row.list == "block" else self._screen.allow_list
        expires = row.expires_at.timestamp() if row.expires_at else None
        entries[row.number] = ListEntry(number=row.number, source=row.source, expires_at=expires)

    def _e164(self, raw: str) -> str:
        """A number as stored: E.164 where it is one (a callee written ``8 701 …`` is found by
        look-ups and transfer holds as ``+7701…``), else as sent."""
        number = self._screen.number(raw)
        return (number.e164 if number.kind is not NumberKind.INVALID else raw)[:32]

    def _normalise(self, raw: str, what: str) -> str:
        number = self._screen.numbering.classify(raw)
        if number.kind is NumberKind.INVALID:
            raise InvalidInputError(f"{what} {raw!r} is not a telephone number")
        return number.e164

    def screen(self, *, actor: Principal, attempt: CallAttempt) -> Screened:
        """The verdict on one call attempt, stored.

        Raises:
            InvalidInputError: an attempt no switch could send (no time zone, a time more than
                a day ahead, overlong fields).
        """
        result, listing, repeated = self._judge(actor, attempt)
        if repeated:
            return result  # as answered, and stored, when it was first asked
        if self._model is not None:
            result = self._settled(actor, attempt, result, self._model.apply([result])[0])
        decision = self._row(actor, attempt, result)
        try:
            if listing is None:
                self._writer.write([decision])  # one commit for all the requests waiting
            else:
                store_decisions(self._db, [_listing(decision, listing)])
        except BaseException:
            self._forget(actor, [attempt])  # not stored: a retry is judged and stored anew
            raise
        return result

    def store_in_process(self, url: str) -> bool:
        """Let a process of its own store the decisions screened in the running event loop
        (:mod:`~kupol.antifraud.writerproc`); ``False`` where the database at ``url`` cannot
        be opened by another process (an in-memory SQLite): the group commit's thread goes
        on storing them."""
        if not ProcessWriter.supports(url):
            return False
        self._process_writer = ProcessWriter(url, "kupol.antifraud.decision_store:store_decisions")
        return True

    async def stop_storing_in_process(self) -> None:
        """Let the decisions' process store what it has and stop; the thread takes over."""
        writer, self._process_writer = self._process_writer, None
        if writer is not None:
            await writer.close()

    async def _store_async(self, rows: list[dict[str, Any]]) -> None:
        """Store ``rows`` in one transaction: by the decisions' process where it serves this
        event loop, else plain rows by the group commit's thread, and rows that list their
        caller (:data:`LISTED`) — with the entries and their audit records — by a thread of
        their own."""
        import anyio.to_thread

        writer = self._process_writer
        if writer is not None and writer.usable():
            await writer.write_async(rows)
        elif any(LISTED in row for row in rows):
            await anyio.to_thread.run_sync(store_decisions, self._db, rows)
        else:
            await self._writer.write_async(rows)

    async def screen_async(self, *, actor: Principal, attempt: CallAttempt) -> Screened:
        """Like :meth:`screen` for the event loop: the rules' verdict is reached at once
        (memory only); the learned model scores the calls that arrive together in one batch
        (one row at a time it costs 0.24 ms, in a batch 2 µs a call); the request waits for
        its decision's group commit without holding a thread."""
        result, listing, repeated = self._judge(actor, attempt)
        if repeated:
            return result  # as answered, and stored, when it was first asked
        if self._batched is not None:
            result = self._settled(actor, attempt, result, await self._batched.apply(result))
        decision = self._row(actor, attempt, result)
        try:
            await self._store_async([decision if listing is None else _listing(decision, listing)])
        except BaseException:
            self._forget(actor, [attempt])  # not stored: a retry is judged and stored anew
            raise
        return result

    async def screen_batch_async(
        self, *, actor: Principal, attempts: list[CallAttempt]
    ) -> list[Screened]:
        """Several attempts a switch sends in one request, judged in order as if one by one;
        the model scores them together and their decisions share one commit.

        Raises:
            InvalidInputError: an attempt no switch could send (the message says which, by
                its position); none of the batch is judged then.
        """
        for i, attempt in enumerate(attempts):
            if attempt.at.tzinfo is None or attempt.at > utcnow() + timedelta(days=1):
                raise InvalidInputError(
                    f"calls[{i}]: the call's time needs its UTC offset and may be at most a "
                    "day ahead"
                )
        judged = [self._judge(actor, a) for a in attempts]
        results = [r for r, _, _ in judged]
        if self._model is not None:
            fresh = [i for i, (_, _, repeated) in enumerate(judged) if not repeated]
            scored = self._model.apply([results[i] for i in fresh])
            for i, result in zip(fresh, scored, strict=True):
                results[i] = self._settled(actor, attempts[i], results[i], result)
        rows = [
            self._row(actor, a, r) if caught is None else _listing(self._row(actor, a, r), caught)
            for a, r, (_, caught, repeated) in zip(attempts, results, judged, strict=True)
            if not repeated
        ]
        try:
            await self._store_async(rows)  # with the entries and their audit records
        except BaseException:
            self._forget(actor, [a for a, (_, _, repeated) in zip(attempts, judged, strict=True)
                                 if not repeated])  # fmt: skip
            raise
        return results

    def _forget(self, actor: Principal, attempts: list[CallAttempt]) -> None:
        """Let go of calls whose decisions could not be stored: the switch's retry is judged
        and stored anew instead of answered from memory."""
        with self._lock:
            for attempt in attempts:
                key = (actor.username, attempt.call_id)
                asked = self._attempts.get(key)
                if asked is not None and asked[0] is attempt:
                    del self._attempts[key]

    def _judge(
        self, actor: Principal, attempt: CallAttempt
    ) -> tuple[Screened, ListEntry | None, bool]:
        """The rules' verdict, the block-list entry the call just earned (the learned model
        only ever warns: it changes neither), and whether the switch asked about this call
        before — a retry, or a SIP retransmission: the verdict it got then, and the call
        counts once in the windows and is stored once."""
        actor.require(Permission.CALLS_SCREEN)
        now = utcnow()
        if attempt.at.tzinfo is None:
            raise InvalidInputError("the call's time needs its UTC offset")
        if attempt.at > now + timedelta(days=1):
            raise InvalidInputError("the call's time is more than a day ahead")
        key = (actor.username, attempt.call_id)
        with self._lock:
            self._load()
            earlier = self._attempts.get(key)
            if earlier is not None:
                if _same_call(earlier[0], attempt):
                    first = earlier[0]
                    answer = Screened(
                        call_id=first.call_id, verdict=earlier[1], reasons=earlier[2],
                        caller=self._screen.number(first.caller),
                    )  # fmt: skip
                    return answer, None, True
                self._attempts.move_to_end(key)  # an id the switch used again for another call
            before = self._screen.block_list.get(self._screen.number(attempt.caller).e164)
            self._judged = True
            result = self._screen.screen(attempt)
            caught = self._screen.block_list.get(result.caller.e164)
            self._attempts[key] = (attempt, result.verdict, result.reasons)
            while len(self._attempts) > _OUTCOMES_KEPT:
                self._attempts.popitem(last=False)
        newly_caught = (
            caught is not None and caught is not before and caught.source.startswith("auto:")
        )
        return result, caught if newly_caught else None, False

    def _settled(
        self, actor: Principal, attempt: CallAttempt, judged: Screened, result: Screened
    ) -> Screened:
        """``result``, the learned model's word on the rules' ``judged``, remembered as the
        answer a retry of the call gets (only where the model warned: nothing else changed)."""
        if result is not judged:
            key = (actor.username, attempt.call_id)
            with self._lock:
                asked = self._attempts.get(key)
                if asked is not None and asked[0] is attempt:
                    self._attempts[key] = (attempt, result.verdict, result.reasons)
        return result

    def _row(self, actor: Principal, attempt: CallAttempt, result: Screened) -> dict[str, Any]:
        """The decision's row (``call_decisions``' columns)."""
        return {
            "call_id": attempt.call_id, "switch": actor.username, "at": attempt.at,
            "caller": result.caller.e164[:32], "called": self._e164(attempt.called),
            "international": attempt.international, "verdict": result.verdict.value,
            "reasons": list(result.reasons), "imsi": attempt.imsi, "imei": attempt.imei,
            "cell": attempt.cell,
        }  # fmt: skip

    def screen_many(
        self, *, actor: Principal, calls: list[tuple[CallAttempt, bool | None, float | None]]
    ) -> list[Screened]:
        """Screen attempts in time order and store the decisions in one transaction; each
        call's outcome (answered, seconds), where given, is learned after its verdict (a file
        of records, the demo's day)."""
        actor.require(Permission.CALLS_SCREEN)
        results: list[Screened] = []
        caught: dict[str, ListEntry] = {}
        with self._lock:
            self._load()
            self._judged = True
            for attempt, answered, duration in calls:
                before = self._screen.block_list.get(
                    self._screen.numbering.classify(attempt.caller).e164
                )
                result = self._screen.screen(attempt)
                entry = self._screen.block_list.get(result.caller.e164)
                if entry is not None and entry is not before and entry.source.startswith("auto:"):
                    caught[result.caller.e164] = entry
                if answered is not None and result.verdict.value != "block":
                    self._screen.outcome(attempt, answered=answered, duration_s=duration or 0.0)
                results.append(result)
        if self._model is not None:
            results = self._model.apply(results)
        with self._db.unit_of_work() as session:
            session.add_all(
                CallDecision(
                    call_id=a.call_id, switch=actor.username, at=a.at,
                    caller=r.caller.e164[:32], called=self._e164(a.called),
                    international=a.international, verdict=r.verdict.value,
                    reasons=list(r.reasons), imsi=a.imsi, imei=a.imei, cell=a.cell,
                )
                for (a, _, _), r in zip(calls, results, strict=True)
            )  # fmt: skip
            for number, entry in caught.items():
                until = (
                    datetime.fromtimestamp(entry.expires_at, tz=utcnow().tzinfo)
                    if entry.expires_at
                    else None
                )
                store_entry(
                    session, self._audit, number=number, list_name="block",
                    source=entry.source, note=None, expires_at=until, added_by="screening",
                )  # fmt: skip
        return results

    def summary(self, *, actor: Principal, minutes: int = 60) -> dict[str, Any]:
        """The screening dashboard's figures over the last ``minutes`` (no numbers in it):
        calls, by verdict, calls a second over the last minute, the top reasons."""
        actor.require(Permission.NUMBERS_READ)
        if not 1 <= minutes <= 7 * 24 * 60:
            raise InvalidInputError("minutes must be between 1 and 10,080")
        now = utcnow()
        since = now - timedelta(minutes=minutes)
        # Counted by the database (the console asks every few seconds, and a day of a
        # network's calls is millions of rows): verdicts, the last minute, and the reasons by
        # their few distinct lists, each list's codes counted here.
        recent = CallDecision.at >= since
        listed = cast(CallDecision.reasons, Text)
        with self._db.reader() as session:
            by_verdict = session.execute(
                select(CallDecision.verdict, func.count())
                .where(recent)
                .group_by(CallDecision.verdict)
            ).all()
            last_minute = session.scalar(
                select(func.count()).where(CallDecision.at >= now - timedelta(minutes=1))
            )
            by_reasons = session.execute(
                select(listed, func.count())
                .where(recent, CallDecision.verdict != "allow")
                .group_by(listed)
            ).all()
        verdicts: dict[str, int] = {"allow": 0, "warn": 0, "block": 0}
        for verdict, count in by_verdict:
            verdicts[verdict] = count
        reasons: dict[str, int] = {}
        for codes, count in by_reasons:
            for code in json.loads(codes) if codes else []:
                reasons[code] = reasons.get(code, 0) + count
        top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        return {
            "minutes": minutes,
            "calls": sum(verdicts.values()),
            "verdicts": verdicts,
            "calls_per_s_last_minute": round((last_minute or 0) / 60, 2),
            "top_reasons": [
                {"code": c, "text": REASONS[c][1] if c in REASONS else c, "calls": n}
                for c, n in top
            ],
        }

    def groups(
        self, *, actor: Principal, why: Justification, hours: int = 24, limit: int = 500_000
    ) -> list[FraudGroup]:
        """Organised groups among the numbers screened in the last ``hours``, with the accounts
        their victims were asked to pay in that time for an actor who may see transfers
        (audited with the accounts shown: the groups list numbers, SIMs, handsets and
        accounts)."""
        actor.require(Permission.NUMBERS_READ)
        if not 1 <= hours <= 24 * 31:
            raise InvalidInputError("hours must be between 1 and 744")
        since = utcnow() - timedelta(hours=hours)
        with self._db.reader() as session:
            # The latest ``limit`` of the window (a busy day holds more): today's gangs first.
            decisions = list(
                session.scalars(
                    select(CallDecision)
                    .where(CallDecision.at >= since)
                    .order_by(CallDecision.at.desc(), CallDecision.id.desc())
                    .limit(limit)
                )
            )[::-1]
            if len(decisions) == limit:
                log.warning(
                    "fraud groups: the last %d calls only, from %s (the window holds more)",
                    limit, decisions[0].at.isoformat(),
                )  # fmt: skip
            # The money trail shows accounts and transfers: for those who may see transfers.
            checks = (
                list(
                    session.scalars(
                        select(TransferCheck)
                        .where(TransferCheck.asked_at >= since, TransferCheck.callers.is_not(None))
                        .order_by(TransferCheck.asked_at, TransferCheck.id)
                        .limit(limit)
                    )
                )
                if actor.can(Permission.TRANSFERS_READ)
                else []
            )
        now = utcnow()
        payments = [
            Payment(callers=tuple(c.callers or ()), account=c.payee, amount=c.amount,
                    currency=c.currency, at=c.transfer_at, status=_status_now(c, now),
                    check_id=c.id)
            for c in checks
            if c.callers
        ]  # fmt: skip
        rows, verdicts = [], []
        numbering = self._screen.numbering
        for d in decisions:
            attempt = CallAttempt(
                call_id=d.call_id, at=d.at, caller=d.caller, called=d.called,
                international=d.international, imsi=d.imsi, imei=d.imei, cell=d.cell,
            )  # fmt: skip
            rows.append(
                CdrRow(line=d.id, attempt=attempt, answered=None, duration_s=None, truth=None)
            )
            verdicts.append(
                Screened(
                    call_id=d.call_id,
                    verdict=Verdict(d.verdict),
                    reasons=tuple(d.reasons or ()),
                    caller=numbering.classify(d.caller),
                )
            )
        found = find_groups(rows, verdicts, payments=payments)
        self._audit.access(
            actor=actor, why=why, action="search", resource_type="fraud_group",
            details={"hours": hours, "groups": len(found), "calls": len(decisions),
                     "numbers": sum(len(g.numbers) for g in found),
                     "accounts": sorted({a for g in found for a in g.accounts})},
        )  # fmt: skip
        return found

    def outcome(self, *, actor: Principal, call_id: str, answered: bool, duration_s: float) -> None:
        """What became of a screened call (answered, seconds): the behaviour rules learn it.

        Raises:
            NotFoundError: no recent call with that id.
            InvalidInputError: a negative or absurd duration.
        """
        actor.require(Permission.CALLS_SCREEN)
        if not 0 <= duration_s <= 86_400:
            raise InvalidInputError("duration_s must be between 0 and 86,400")
        key = (actor.username, call_id)
        with self._lock:
            # The call is over: a retry of it is not expected now, and its place is freed
            # for the calls still under way (their outcomes are to come).
            asked = self._attempts.pop(key, None)
            if asked is None:
                raise NotFoundError(f"no recent screened call {call_id!r} without its outcome")
            self._screen.outcome(asked[0], answered=answered, duration_s=duration_s)

    def add_to_list(
        self,
        *,
        actor: Principal,
        number: str,
        list_name: str,
        source: str,
        note: str | None = None,
        expires_at: datetime | None = None,
    ) -> ListView:
        """Put a number on the block or allow list (or renew its entry); audited.

        Raises:
            InvalidInputError: no telephone number, an unknown list, no source, an expiry in
                the past or without its UTC offset.
        """
        actor.require(Permission.NUMBERS_MANAGE)
        if list_name not in LISTS:
            raise InvalidInputError("list must be 'block' or 'allow'")
        if len(source.strip()) < 3:
            raise InvalidInputError("say where the listing comes from (source)")
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
            raise InvalidInputError("expires_at must be a future time with its UTC offset")
        e164 = self._normalise(number, "number")
        with self._db.unit_of_work() as session:
            row = store_entry(
                session, self._audit, number=e164, list_name=list_name, source=source.strip(),
                note=note.strip()[:1000] if note and note.strip() else None,
                expires_at=expires_at, added_by=actor.username,
            )  # fmt: skip
            view = _list_view(row)
        with self._lock:
            self._load()
            self._remember(row)
        return view

    def remove_from_list(
        self, *, actor: Principal, number: str, list_name: str, reason: str
    ) -> ListView:
        """Take a number off a list (kept inactive for the record); audited.

        Raises:
            NotFoundError: the number is not on that list.
            InvalidInputError: no reason.
        """
        actor.require(Permission.NUMBERS_MANAGE)
        if len(reason.strip()) < 3:
            raise InvalidInputError("say why the number comes off the list")
        e164 = self._normalise(number, "number")
        with self._db.unit_of_work() as session:
            row = session.scalar(
                select(NumberListEntry).where(
                    NumberListEntry.number == e164, NumberListEntry.list == list_name
                )
            )
            if row is None or not row.active:
                raise NotFoundError(f"{e164} is not on the {list_name} list")
            row.active = False
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action=f"un{list_name}_list",
                    resource_type="phone_number", resource_id=e164,
                    details={"reason": reason.strip()[:500]},
                ),
                session=session,
            )  # fmt: skip
            view = _list_view(row)
        with self._lock:
            entries = self._screen.block_list if list_name == "block" else self._screen.allow_list
            entries.pop(e164, None)
        return view

    def lookup(
        self, *, actor: Principal, why: Justification, number: str, limit: int = 100
    ) -> dict[str, Any]:
        """A number: where it belongs, its list entries, its recent calls and their verdicts
        (audited: calls are personal data)."""
        actor.require(Permission.NUMBERS_READ)
        placed = self._screen.numbering.classify(number)
        if placed.kind is NumberKind.INVALID:
            raise InvalidInputError(f"number {number!r} is not a telephone number")
        e164 = placed.e164
        with self._db.reader() as session:
            entries = [
                _list_view(r)
                for r in session.scalars(
                    select(NumberListEntry)
                    .where(NumberListEntry.number == e164)
                    .order_by(NumberListEntry.added_at.desc())
                )
            ]
            calls = list(
                session.scalars(
                    select(CallDecision)
                    .where(or_(CallDecision.caller == e164, CallDecision.called == e164))
                    .order_by(CallDecision.at.desc(), CallDecision.id.desc())
                    .limit(limit)
                )
            )
        verdicts: dict[str, int] = {}
        for c in calls:
            if c.caller == e164:
                verdicts[c.verdict] = verdicts.get(c.verdict, 0) + 1
        self._audit.access(
            actor=actor, why=why, action="view", resource_type="phone_number", resource_id=e164,
            details={"calls_returned": len(calls)},
        )  # fmt: skip
        return {
            "number": e164,
            "kind": placed.kind.value,
            "operator": placed.operator,
            "region": placed.region,
            "lists": [e.__dict__ for e in entries],
            "as_caller": verdicts,
            "calls": [
                {"call_id": c.call_id, "at": c.at, "caller": c.caller, "called": c.called,
                 "verdict": c.verdict, "reasons": c.reasons, "international": c.international}
                for c in calls
            ],
        }  # fmt: skip

    def suspicious_calls_to(
        self, number: str, *, since: datetime, until: datetime | None = None
    ) -> list[str]:
        """Callers who rang ``number`` between ``since`` and ``until`` (a minute's grace for
        the clocks) and were warned about, blocked, or are on the block list now (for
        transfer holds): each once, ordered by its last call to the number, the latest last —
        those none of whose calls got through (every one blocked: they never reached the
        payer) before the others. A warning only for what innocent numbers often show
        (:data:`WEAK_WARNINGS`: a ported number without the register, a business that only
        calls out) does not make a caller suspicious."""
        placed = self._screen.numbering.classify(number)
        if placed.kind is NumberKind.INVALID:
            return []
        query = select(CallDecision.caller, CallDecision.verdict, CallDecision.reasons).where(
            CallDecision.called.in_([placed.e164, number]), CallDecision.at >= since
        )
        if until is not None:
            query = query.where(CallDecision.at <= until + timedelta(minutes=1))
        with self._db.reader() as session:
            rows = session.execute(query.order_by(CallDecision.at, CallDecision.id)).all()
        now = utcnow().timestamp()
        suspicious: set[str] = set()
        reached: set[str] = set()  # a call of theirs got through (allowed or warned)
        last: dict[str, int] = {}
        for order, (caller, verdict, reasons) in enumerate(rows):
            last[caller] = order
            if verdict != "block":
                reached.add(caller)
            listed = self._screen.block_list.get(caller)
            blocked_now = listed is not None and (
                listed.expires_at is None or listed.expires_at > now
            )
            warned = verdict == "warn" and not WEAK_WARNINGS.issuperset(reasons or ())
            if verdict == "block" or warned or blocked_now:
                suspicious.add(caller)
        return sorted(suspicious, key=lambda caller: (caller in reached, last[caller]))


_Asked = tuple[CallAttempt, Verdict, tuple[str, ...]]
"""A call a switch asked about recently and whose outcome has not come: the attempt, the
answer's verdict and reasons (a tuple: 200,000 of them are kept)."""


def _same_call(first: CallAttempt, attempt: CallAttempt) -> bool:
    """Whether ``attempt`` asks about the call ``first`` again: the same caller and callee at
    most :data:`RETRY_S` apart (a SIP front dates a retransmitted INVITE when it arrives); a
    switch reusing an id for another call is answered afresh."""
    return (first.caller, first.called) == (attempt.caller, attempt.called) and (
        abs((attempt.at - first.at).total_seconds()) <= RETRY_S
    )


RETRY_S = 64.0
"""How far apart a switch's two questions about one call may be (SIP's transaction timeout,
64 × T1)."""


WEAK_WARNINGS = frozenset({"network_mismatch", "outgoing_only"})
"""Warnings that alone do not make a caller suspicious to transfer holds: a ported number
whose register the screen lacks, a dispatcher's or clinic's number that only calls out."""


def _status_now(check: TransferCheck, now: datetime) -> str:
    """A check's status, a hold past its period read as released (as the holds service
    releases it when it next looks)."""
    if check.status == "held" and check.hold_until is not None and check.hold_until <= now:
        return "released"
    return check.status


class _BatchedModel:
    """Scores, in one call of the model, the verdicts that coroutines hand in during one turn
    of the event loop (the first schedules the scoring; the others join it)."""

    def __init__(self, model: ScreenModel) -> None:
        self._model = model
        self._pending: list[tuple[Screened, asyncio.Future[Screened]]] = []
        self.batches = 0
        self.scored = 0

    async def apply(self, result: Screened) -> Screened:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Screened] = loop.create_future()
        self._pending.append((result, future))
        if len(self._pending) == 1:
            loop.call_soon(self._run)
        return await future

    def _run(self) -> None:
        batch, self._pending = self._pending, []
        try:
            scored = self._model.apply([r for r, _ in batch])
        except Exception as exc:  # every waiter hears why
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        self.scored += len(batch)
        for (_, future), result in zip(batch, scored, strict=True):
            if not future.done():
                future.set_result(result)


def _listing(decision: dict[str, Any], caught: ListEntry) -> dict[str, Any]:
    """``decision``'s row with the block-list entry its call just earned (:data:`LISTED`)."""
    until = datetime.fromtimestamp(caught.expires_at, tz=UTC) if caught.expires_at else None
    return {**decision, LISTED: {"source": caught.source, "expires_at": until}}
