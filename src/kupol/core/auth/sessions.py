"""Who must sign in with two factors, and the idle timeout: a login token left unused for too
long stops working.

Tokens are signed, not stored, so their last use is kept beside them: in this process's
memory for every request (a dictionary look-up), and in ``session_activity`` at most once a
minute per token, so another API process (or this one after a restart) knows it too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from kupol.core.auth.model import SessionActivity
from kupol.core.auth.tokens import TokenClaims
from kupol.core.db import Database
from kupol.core.errors import AuthenticationError

if TYPE_CHECKING:
    from kupol.settings import SecuritySettings

TOUCH_EVERY_S = 60
"""How often a token's last use is written to the database. Another process therefore sees
a use up to this late, and may end a session up to a minute before its idle time is up."""
REMEMBERED = 10_000


@dataclass(frozen=True, kw_only=True)
class SessionPolicy:
    """Who must use two-factor sign-in and when an unused session ends."""

    mfa_required: bool = False
    mfa_roles: frozenset[str] = field(default_factory=frozenset)
    idle_timeout_s: int = 0

    @classmethod
    def of(cls, security: SecuritySettings) -> SessionPolicy:
        """The policy the ``security`` settings describe."""
        return cls(
            mfa_required=security.mfa_required,
            mfa_roles=frozenset(security.mfa_roles),
            idle_timeout_s=security.idle_timeout_minutes * 60,
        )

    def must_enrol(self, roles: Iterable[str]) -> bool:
        """Whether a user with ``roles`` may not log in without a second factor."""
        return self.mfa_required and not self.mfa_roles.isdisjoint(roles)


@dataclass(slots=True)
class _Seen:
    last: float
    written: float


class IdleSessions:
    """Ends sessions idle for longer than ``timeout_s`` (0: never)."""

    def __init__(
        self, *, db: Database, timeout_s: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self.timeout_s = timeout_s
        self.clock = clock
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def check(self, claims: TokenClaims) -> None:
        """Record a use of the token; :class:`AuthenticationError` if it was idle too long."""
        if self.timeout_s <= 0:
            return
        current = self.clock()
        with self._lock:
            seen = self._seen.get(claims.token_id)
        if seen is None or current - seen.last > self.timeout_s:
            # Not used here lately: another process may have seen it since (or, never used
            # anywhere, it has been idle since it was issued).
            stored = self._stored(claims.token_id)
            last = max(seen.last if seen else 0, stored or 0, claims.issued_at)
            seen = _Seen(last=last, written=stored or 0)
        if current - seen.last > self.timeout_s:
            with self._lock:
                self._seen.pop(claims.token_id, None)
            minutes = round(self.timeout_s / 60)
            raise AuthenticationError(f"session unused for more than {minutes} min; log in again")
        seen.last = current
        if current - seen.written >= TOUCH_EVERY_S:
            self._write(claims, current)
            seen.written = current
        with self._lock:
            if len(self._seen) >= REMEMBERED and claims.token_id not in self._seen:
                self._seen.clear()  # the database still knows; memory must not grow unbounded
            self._seen[claims.token_id] = seen

    def _stored(self, token_id: str) -> float | None:
        with self._db.reader() as session:
            row = session.get(SessionActivity, token_id)
            return row.last_seen_at.timestamp() if row is not None else None

    def _write(self, claims: TokenClaims, at: float) -> None:
        when = datetime.fromtimestamp(at, UTC)
        with self._db.unit_of_work() as session:
            changed = session.execute(
                update(SessionActivity)
                .where(SessionActivity.token_id == claims.token_id)
                .values(last_seen_at=when)
            ).rowcount  # type: ignore[attr-defined]
        if changed:
            return
        try:
            with self._db.unit_of_work() as session:
                # A new row per token: tidy away the rows of tokens that have expired by now
                # (a token lives at most a week; the settings allow no longer).
                session.execute(
                    delete(SessionActivity).where(
                        SessionActivity.last_seen_at < when - timedelta(days=8)
                    )
                )
                session.add(
                    SessionActivity(
                        token_id=claims.token_id, user_id=claims.user_id, last_seen_at=when
                    )
                )
        except IntegrityError:
            pass  # another process wrote it first: its time is as good as ours
