"""The login rate limit: a sliding window of failures per key."""

from __future__ import annotations

import pytest

from kupol.core.auth.ratelimit import FailureLimiter
from kupol.core.errors import RateLimitedError


@pytest.fixture
def limiter() -> FailureLimiter:
    return FailureLimiter(max_failures=3, window_s=60)


def test_attempts_below_the_limit_pass(limiter: FailureLimiter) -> None:
    limiter.record_failure("user:ivanov", now=0)
    limiter.record_failure("user:ivanov", now=1)

    limiter.check("user:ivanov", now=2)


def test_the_limit_refuses_with_the_seconds_until_the_oldest_failure_expires(
    limiter: FailureLimiter,
) -> None:
    for t in (0, 10, 20):
        limiter.record_failure("user:ivanov", now=t)

    with pytest.raises(RateLimitedError) as caught:
        limiter.check("user:ivanov", now=25)

    assert caught.value.retry_after_s == 35
    assert caught.value.status == 429


def test_failures_leave_the_window_and_attempts_pass_again(limiter: FailureLimiter) -> None:
    for t in (0, 10, 20):
        limiter.record_failure("user:ivanov", now=t)

    limiter.check("user:ivanov", now=60.5)


def test_keys_are_limited_separately(limiter: FailureLimiter) -> None:
    for t in (0, 1, 2):
        limiter.record_failure("user:ivanov", now=t)

    limiter.check("user:petrov", now=3)


def test_any_key_over_its_limit_refuses_the_attempt(limiter: FailureLimiter) -> None:
    for t in (0, 1, 2):
        limiter.record_failure("client:10.0.0.1", now=t)

    with pytest.raises(RateLimitedError):
        limiter.check("user:petrov", "client:10.0.0.1", now=3)


def test_reset_forgets_the_failures(limiter: FailureLimiter) -> None:
    for t in (0, 1, 2):
        limiter.record_failure("user:ivanov", now=t)

    limiter.reset("user:ivanov")

    limiter.check("user:ivanov", now=3)


def test_retry_after_is_at_least_one_second() -> None:
    limiter = FailureLimiter(max_failures=1, window_s=10)
    limiter.record_failure("k", now=0)

    with pytest.raises(RateLimitedError) as caught:
        limiter.check("k", now=9.9)

    assert caught.value.retry_after_s == 1


def test_attempts_in_flight_count_so_parallel_guesses_cannot_slip_through() -> None:
    from kupol.core.auth.ratelimit import FailureLimiter
    from kupol.core.errors import RateLimitedError

    limiter = FailureLimiter(max_failures=3, window_s=60)
    for _ in range(3):  # three password checks running at once, none finished
        limiter.check("user:ivanov", now=0, reserve=True)

    with pytest.raises(RateLimitedError):
        limiter.check("user:ivanov", now=1, reserve=True)


def test_an_attempt_that_ended_in_an_outage_is_taken_back() -> None:
    from kupol.core.auth.ratelimit import FailureLimiter

    limiter = FailureLimiter(max_failures=1, window_s=60)
    limiter.check("user:ivanov", now=0, reserve=True)
    limiter.release("user:ivanov")

    limiter.check("user:ivanov", now=1)  # not locked out by the database being down
