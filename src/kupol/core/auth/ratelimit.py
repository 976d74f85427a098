"""Login rate limiting: a sliding window of failures per user name and per client address."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from kupol.core.errors import RateLimitedError


class FailureLimiter:
    """Refuses attempts for a key after ``max_failures`` failures within ``window_s``.

    Kept in memory: each API process limits on its own (documented in docs/security.md).

    Example:
        >>> limiter = FailureLimiter(max_failures=1, window_s=60)
        >>> limiter.record_failure("ivanov", now=0)
        >>> limiter.check("ivanov", now=1)
        Traceback (most recent call last):
        ...
        kupol.core.errors.RateLimitedError: too many failed logins; try again in 59 s
    """

    def __init__(self, *, max_failures: int, window_s: int) -> None:
        self._max = max_failures
        self._window = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, *keys: str, now: float | None = None, reserve: bool = False) -> None:
        """Raise :class:`RateLimitedError` if any key is over its limit.

        With ``reserve`` the attempt counts as a failure at once (a success then calls
        :meth:`reset`), so many attempts in parallel cannot all slip under the limit while
        their slow password checks run.
        """
        current = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                failures = self._prune(key, current)
                if len(failures) >= self._max:
                    retry = max(1, int(failures[0] + self._window - current))
                    raise RateLimitedError(
                        f"too many failed logins; try again in {retry} s", retry_after_s=retry
                    )
            if reserve:
                for key in keys:
                    self._failures[key].append(current)

    def record_failure(self, *keys: str, now: float | None = None) -> None:
        """Count one failure against every key."""
        current = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                self._prune(key, current).append(current)

    def release(self, *keys: str) -> None:
        """Take back one reserved attempt of each key (it ended in neither success nor failure)."""
        with self._lock:
            for key in keys:
                failures = self._failures.get(key)
                if failures:
                    failures.pop()

    def reset(self, *keys: str) -> None:
        """Forget the failures of ``keys`` (after a successful login)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        if len(self._failures) > 10_000:
            # Forget keys whose failures have all aged out, so random names cannot grow memory.
            for stale in [k for k, v in self._failures.items() if not v and k != key]:
                del self._failures[stale]
        return failures
