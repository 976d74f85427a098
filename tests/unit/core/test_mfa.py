"""Two-factor sign-in in the auth service: the code step, recovery codes, enrolment where it is
required, switching off, and what is stored and audited (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.core.audit import AuditEntry
from kupol.core.auth import Principal, totp
from kupol.core.auth.mfa import MfaChallenge, SecretBox, WrongCodeError
from kupol.core.auth.model import RecoveryCode, User
from kupol.core.auth.ratelimit import FailureLimiter
from kupol.core.auth.service import SYSTEM, AuthService, LoginResult
from kupol.core.auth.sessions import SessionPolicy
from kupol.core.auth.tokens import TokenSigner
from kupol.core.errors import (
    AuthenticationError,
    ConflictError,
    RateLimitedError,
)
from tests.conftest import TEST_SECRET, add_user

pytestmark = pytest.mark.usefixtures("fast_passwords")
PASSWORD = "ivanov-password-123"
START = 1_800_000_000.0


class Clock:
    """The Unix time the service reads codes against, moved by the test."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock(container: Container) -> Clock:
    clock = Clock(START)
    container.auth.mfa.clock = clock
    return clock


def enrol(auth: AuthService, clock: Clock, principal: Principal) -> tuple[bytes, list[str]]:
    """Switch two-factor sign-in on for ``principal``; the clock moves to the next code."""
    setup = auth.mfa.setup(principal=principal)
    key = totp.decode_secret(setup.secret)
    codes = auth.mfa.confirm(principal=principal, code=totp.code_at(key, clock.at))
    clock.at += 30
    return key, codes


def challenge(auth: AuthService, username: str = "ivanov") -> MfaChallenge:
    result = auth.login(username=username, password=PASSWORD, client="10.0.0.5")
    assert isinstance(result, MfaChallenge)
    return result


def audit(container: Container) -> list[AuditEntry]:
    with container.db.reader() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_with_two_factor_on_the_password_alone_gives_no_session(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    enrol(container.auth, clock, principal)

    step = challenge(container.auth)

    assert step.step == "code"
    assert step.expires_in_s == 300
    with pytest.raises(AuthenticationError):
        container.auth.authenticate(step.mfa_token)  # not a session token
    assert [e.action for e in audit(container)][-1] == "login-password"


def test_the_right_code_completes_the_login_and_works_once(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    key, _ = enrol(container.auth, clock, principal)
    code = totp.code_at(key, clock.at)

    result = container.auth.finish_login(
        mfa_token=challenge(container.auth).mfa_token, code=code, client="10.0.0.5"
    )
    with pytest.raises(AuthenticationError, match="already used"):
        container.auth.finish_login(mfa_token=challenge(container.auth).mfa_token, code=code)

    assert container.auth.authenticate(result.token).username == "ivanov"
    login = [e for e in audit(container) if e.action == "login"]
    assert [e.details for e in login] == [{"by": "totp"}]


def test_the_code_of_an_earlier_step_is_refused_once_a_later_one_was_used(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    key, _ = enrol(container.auth, clock, principal)
    later = totp.code_at(key, clock.at + 30)  # a phone a little ahead: still in the window

    container.auth.finish_login(mfa_token=challenge(container.auth).mfa_token, code=later)

    with pytest.raises(AuthenticationError, match="already used"):
        container.auth.finish_login(
            mfa_token=challenge(container.auth).mfa_token, code=totp.code_at(key, clock.at)
        )


def test_two_logins_racing_with_one_code_let_only_one_in(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    key, _ = enrol(container.auth, clock, principal)
    code = totp.code_at(key, clock.at)
    tokens = [challenge(container.auth).mfa_token for _ in range(2)]

    def attempt(token: str) -> bool:
        try:
            container.auth.finish_login(mfa_token=token, code=code)
        except AuthenticationError:
            return False
        return True

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(attempt, tokens))

    assert sorted(outcomes) == [False, True]


def test_wrong_codes_are_refused_audited_and_limited_like_passwords(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    key, _ = enrol(container.auth, clock, principal)
    token = challenge(container.auth).mfa_token
    wrong = "000000" if totp.code_at(key, clock.at) != "000000" else "111111"

    for _ in range(container.settings.security.login_max_failures):
        with pytest.raises(AuthenticationError, match="wrong code"):
            container.auth.finish_login(mfa_token=token, code=wrong, client="10.0.0.5")
    with pytest.raises(RateLimitedError):
        container.auth.finish_login(
            mfa_token=token, code=totp.code_at(key, clock.at), client="10.0.0.5"
        )

    failed = [e for e in audit(container) if e.action == "mfa-failed"]
    assert len(failed) == container.settings.security.login_max_failures
    assert {e.details["reason"] for e in failed} == {"wrong"}


def test_a_recovery_code_signs_in_once(container: Container, clock: Clock) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    _, codes = enrol(container.auth, clock, principal)

    result = container.auth.finish_login(
        mfa_token=challenge(container.auth).mfa_token, code=codes[0].upper().replace("-", " ")
    )
    with pytest.raises(AuthenticationError, match="wrong code"):
        container.auth.finish_login(mfa_token=challenge(container.auth).mfa_token, code=codes[0])

    assert isinstance(result, LoginResult)
    assert len(codes) == len(set(codes)) == 8
    used = [e for e in audit(container) if e.action == "mfa-recovery-used"]
    assert [e.details for e in used] == [{"left": 7}]
    assert container.auth.mfa.recovery_left(principal) == 7


def test_the_secret_is_stored_encrypted_and_no_secret_or_code_is_audited(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    setup = container.auth.mfa.setup(principal=principal)
    key = totp.decode_secret(setup.secret)
    first = totp.code_at(key, clock.at)
    codes = container.auth.mfa.confirm(principal=principal, code=first)
    clock.at += 30
    container.auth.finish_login(mfa_token=challenge(container.auth).mfa_token, code=codes[1])

    with container.db.reader() as session:
        stored = session.scalar(select(User.mfa_secret).where(User.id == principal.user_id))
        hashes = list(session.scalars(select(RecoveryCode.code_hash)))
    everything = json.dumps([[e.action, e.details, e.resource_id] for e in audit(container)])

    assert stored is not None
    assert setup.secret not in stored
    assert SecretBox(b"x" * 32).seal(setup.secret, user_id=1) != stored
    assert not {c.replace("-", "") for c in codes} & set(hashes)
    for secret in [setup.secret, first, *codes, *(c.replace("-", "") for c in codes)]:
        assert secret not in everything
    assert {"mfa-setup", "mfa-enrol", "mfa-recovery-used"} <= {e.action for e in audit(container)}


def test_a_secret_sealed_for_one_user_or_key_does_not_open_for_another() -> None:
    box = SecretBox(b"k" * 32)
    sealed = box.seal("JBSWY3DPEHPK3PXP", user_id=1)

    with pytest.raises(ConflictError, match="cannot be read"):
        box.open(sealed, user_id=2)
    with pytest.raises(ConflictError, match="cannot be read"):
        SecretBox(b"j" * 32).open(sealed, user_id=1)


def test_enrolling_needs_setup_first_and_the_apps_code_and_cannot_replace_an_enrolment(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    with pytest.raises(ConflictError, match="setup"):
        container.auth.mfa.confirm(principal=principal, code="123456")
    setup = container.auth.mfa.setup(principal=principal)
    with pytest.raises(WrongCodeError):
        container.auth.mfa.confirm(principal=principal, code="abcde-fghjk")  # not the app's

    key = totp.decode_secret(setup.secret)
    container.auth.mfa.confirm(principal=principal, code=totp.code_at(key, clock.at))

    with pytest.raises(ConflictError, match="already on"):
        container.auth.mfa.setup(principal=principal)


def test_switching_off_needs_a_current_code_and_then_the_password_is_enough(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    key, _ = enrol(container.auth, clock, principal)

    with pytest.raises(WrongCodeError):
        container.auth.mfa.disable(principal=principal, code="000000")
    container.auth.mfa.disable(principal=principal, code=totp.code_at(key, clock.at))

    assert isinstance(container.auth.login(username="ivanov", password=PASSWORD), LoginResult)
    assert [e.details for e in audit(container) if e.action == "mfa-disable"] == [{"by": "totp"}]
    with container.db.reader() as session:
        assert session.scalar(select(RecoveryCode.id)) is None


def test_an_administrator_reset_switches_it_off_and_ends_the_users_sessions(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    key, _ = enrol(container.auth, clock, principal)
    session = container.auth.finish_login(
        mfa_token=challenge(container.auth).mfa_token, code=totp.code_at(key, clock.at)
    )

    container.auth.mfa.reset(username="ivanov", actor=SYSTEM)

    with pytest.raises(AuthenticationError):
        container.auth.authenticate(session.token)
    assert isinstance(container.auth.login(username="ivanov", password=PASSWORD), LoginResult)
    assert ("system", "mfa-reset") in [(e.actor, e.action) for e in audit(container)]


def test_a_pending_code_step_ends_with_a_logout_or_a_new_password(
    container: Container, clock: Clock
) -> None:
    principal, _ = add_user(container, "ivanov", "investigator")
    key, _ = enrol(container.auth, clock, principal)
    token = challenge(container.auth).mfa_token

    container.auth.set_password(username="ivanov", password="a-brand-new-password")

    with pytest.raises(AuthenticationError, match="log in again"):
        container.auth.finish_login(mfa_token=token, code=totp.code_at(key, clock.at))


def required(container: Container) -> AuthService:
    """An auth service on the container's database that requires two factors of analysts
    and investigators."""
    signer = TokenSigner(TEST_SECRET.encode(), ttl_s=3600)
    return AuthService(
        db=container.db,
        audit=container.audit,
        signer=signer,
        limiter=FailureLimiter(max_failures=5, window_s=300),
        policy=SessionPolicy(mfa_required=True, mfa_roles=frozenset({"analyst", "investigator"})),
    )


def test_where_required_a_user_of_those_roles_enrols_before_any_session(
    container: Container,
) -> None:
    auth = required(container)
    clock = Clock(START)
    auth.mfa.clock = clock
    add_user(container, "ivanov", "investigator")

    step = challenge(auth)
    with pytest.raises(AuthenticationError):
        auth.finish_login(mfa_token=step.mfa_token, code="123456")  # not a code-step token
    enrolling = auth.mfa_principal(step.mfa_token, step="enrol")
    setup = auth.mfa.setup(principal=enrolling)
    key = totp.decode_secret(setup.secret)
    codes = auth.mfa.confirm(principal=enrolling, code=totp.code_at(key, clock.at))

    assert step.step == "enrol"
    assert len(codes) == 8
    assert challenge(auth).step == "code"  # from now on, the code step


def test_where_required_other_roles_still_log_in_with_a_password(container: Container) -> None:
    auth = required(container)
    add_user(container, "ivanov", "admin", "device")

    assert isinstance(auth.login(username="ivanov", password=PASSWORD), LoginResult)


def test_policy_helpers_say_who_must_enrol() -> None:
    policy = SessionPolicy(mfa_required=True, mfa_roles=frozenset({"auditor"}))

    assert policy.must_enrol(["admin", "auditor"])
    assert not policy.must_enrol(["admin"])
    assert not SessionPolicy(mfa_roles=frozenset({"auditor"})).must_enrol(["auditor"])
