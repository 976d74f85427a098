"""Two-factor sign-in: a code from an authenticator app (TOTP) after the password, or one of
eight one-time recovery codes when the phone is lost.

The TOTP secret is stored encrypted (AES-GCM, a key derived from ``security.secret_key``, bound
to the user's id); recovery codes are stored as keyed hashes. Wrong codes count against the
same limiter as wrong passwords. Every enrolment, failure, recovery code used, switch-off and
reset is audited — never the secret or a code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import totp
from kupol.core.auth.model import RecoveryCode, User
from kupol.core.auth.ratelimit import FailureLimiter
from kupol.core.auth.tokens import TokenSigner
from kupol.core.db import Database, fetch
from kupol.core.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow

if TYPE_CHECKING:
    from kupol.core.auth.service import Principal

RECOVERY_CODES = 8
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/i/l to misread
RECOVERY_LENGTH = 10  # about 50 bits each
Method = Literal["totp", "recovery"]
MFA_STEP_S = 300
"""How long the token between the password and the code (or the enrolment) is good for."""
MfaStep = Literal["code", "enrol"]
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class TotpSetup:
    """What the user types (or opens) in their authenticator app to start enrolling."""

    secret: str
    uri: str


@dataclass(frozen=True, kw_only=True)
class MfaChallenge:
    """The password was right but there is a second step before a session: a code from the
    user's authenticator app (``code``), or enrolling one first (``enrol``). ``mfa_token``
    is good for that step only, for ``expires_in_s``."""

    step: MfaStep
    mfa_token: str
    expires_in_s: int = MFA_STEP_S


class SecretBox:
    """Encrypts TOTP secrets at rest with AES-GCM; a sealed secret opens for its user only.

    Example:
        >>> box = SecretBox(b"k" * 32)
        >>> box.open(box.seal("JBSWY3DPEHPK3PXP", user_id=7), user_id=7)
        'JBSWY3DPEHPK3PXP'
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, secret: str, *, user_id: int) -> str:
        """``secret`` encrypted, as URL-safe base64 of nonce and ciphertext."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), f"user:{user_id}".encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, *, user_id: int) -> str:
        """The secret; :class:`ConflictError` when it cannot be read (another key)."""
        try:
            raw = base64.urlsafe_b64decode(sealed)
            return self._aead.decrypt(raw[:12], raw[12:], f"user:{user_id}".encode()).decode()
        except (InvalidTag, ValueError):
            # security.secret_key changed since enrolment: only a reset helps.
            raise ConflictError(
                "the two-factor secret cannot be read (security.secret_key changed?); "
                "ask an administrator to reset it"
            ) from None


class WrongCodeError(InvalidInputError):
    """A wrong or already used code (counted like a wrong password). Not a 401: the user of a
    session who mistypes a code while turning two-factor sign-in off is still signed in."""

    def __init__(self, reason: Literal["wrong", "reused"]) -> None:
        super().__init__(
            "code already used; wait for the next one" if reason == "reused" else "wrong code",
            problems=[FieldProblem(field="code", message=reason)],
            code=f"{reason}_code",
        )
        self.reason = reason


def _normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def new_recovery_code() -> str:
    """A random recovery code, shown as two groups of five (``abcde-fghjk``)."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


class TwoFactor:
    """Enrolling, checking and switching off a user's second factor."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        signer: TokenSigner,
        limiter: FailureLimiter,
        forget: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self.clock = clock  # Unix time, for the codes
        self._audit = audit
        self._limiter = limiter
        self._box = SecretBox(signer.derive_key("totp-secrets"))
        self._recovery_key = signer.derive_key("recovery-codes")
        self._forget = forget  # the auth service's cache of checked tokens

    def setup(self, *, principal: Principal, client: str | None = None) -> TotpSetup:
        """A new secret waiting for :meth:`confirm` (replacing one that was waiting).

        Raises:
            ConflictError: two-factor sign-in is already on (turn it off first).
        """
        secret = totp.new_secret()
        with self._db.unit_of_work() as session:
            user = fetch(session, User, principal.user_id, what="user")
            if user.mfa_enabled_at is not None:
                raise ConflictError(
                    "two-factor sign-in is already on; turn it off first (with a current code)"
                )
            user.mfa_secret = self._box.seal(secret, user_id=user.id)
            user.mfa_last_step = 0
            self._record(session, principal, "mfa-setup", client=client)
        return TotpSetup(secret=secret, uri=totp.provisioning_uri(secret, account=user.username))

    def pending(self, *, principal: Principal) -> TotpSetup | None:
        """The secret waiting for :meth:`confirm`, to show again after a mistyped code."""
        with self._db.reader() as session:
            user = fetch(session, User, principal.user_id, what="user")
            if user.mfa_enabled_at is not None or user.mfa_secret is None:
                return None
            secret = self._box.open(user.mfa_secret, user_id=user.id)
        return TotpSetup(secret=secret, uri=totp.provisioning_uri(secret, account=user.username))

    def confirm(self, *, principal: Principal, code: str, client: str | None = None) -> list[str]:
        """Switch two-factor sign-in on with a first code from the app; returns the recovery
        codes, the only time they are shown.

        Raises:
            ConflictError: already on, or no secret waiting (call :meth:`setup` first).
            WrongCodeError: wrong code (counted like a wrong password).
        """

        def enable(session: Session, user: User, _: Method) -> list[str]:
            user.mfa_enabled_at = utcnow()
            codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
            session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
            session.add_all(
                RecoveryCode(user_id=user.id, code_hash=self._hash(code)) for code in codes
            )
            self._record(session, principal, "mfa-enrol", client=client)
            return codes

        return self._with_code(principal, code, client=client, enrolling=True, then=enable)

    def check(self, *, principal: Principal, code: str, client: str | None = None) -> Method:
        """Accept a current TOTP code or an unused recovery code; which one it was.

        Raises:
            WrongCodeError: wrong or already used code (counted like a wrong password).
        """

        def note(session: Session, user: User, method: Method) -> Method:
            if method == "recovery":
                left = self._recovery_left(session, user.id)
                self._record(
                    session, principal, "mfa-recovery-used", client=client, details={"left": left}
                )
            return method

        return self._with_code(principal, code, client=client, enrolling=False, then=note)

    def disable(self, *, principal: Principal, code: str, client: str | None = None) -> None:
        """Switch two-factor sign-in off; needs a current code (or a recovery code)."""

        def switch_off(session: Session, user: User, method: Method) -> None:
            self._clear(session, user)
            self._record(session, principal, "mfa-disable", client=client, details={"by": method})

        self._with_code(principal, code, client=client, enrolling=False, then=switch_off)

    def reset(self, *, username: str, actor: Principal) -> None:
        """Switch a user's two-factor sign-in off for them (a lost phone and lost recovery
        codes) and end their sessions; they enrol again at their next login where required."""
        with self._db.unit_of_work() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFoundError(f"no user {username!r}")
            self._clear(session, user)
            user.token_version += 1
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="mfa-reset",
                            resource_type="user", resource_id=username),
                session=session,
            )  # fmt: skip
        self._forget()

    def recovery_left(self, principal: Principal) -> int:
        """How many unused recovery codes the user has."""
        with self._db.reader() as session:
            return self._recovery_left(session, principal.user_id)

    def _with_code(
        self,
        principal: Principal,
        code: str,
        *,
        client: str | None,
        enrolling: bool,
        then: Callable[[Session, User, Method], T],
    ) -> T:
        keys = [f"mfa:{principal.username}"] + ([f"client:{client}"] if client else [])
        self._limiter.check(*keys, reserve=True)  # counted as a failure until it succeeds
        try:
            with self._db.unit_of_work() as session:
                user = fetch(session, User, principal.user_id, what="user")
                self._expect(user, enrolling=enrolling)
                result = then(session, user, self._accept(session, user, code, enrolling))
        except WrongCodeError as wrong:
            with self._db.unit_of_work() as session:
                self._record(
                    session,
                    principal,
                    "mfa-failed",
                    client=client,
                    details={"reason": wrong.reason},
                )
            raise
        except Exception:
            self._limiter.release(*keys)  # not a wrong code: it must not lock the user out
            raise
        self._limiter.reset(*keys)
        return result

    def _accept(self, session: Session, user: User, code: str, enrolling: bool) -> Method:
        given = _normal(code)
        if given.isdigit() and len(given) == totp.DIGITS:
            assert user.mfa_secret is not None
            key = totp.decode_secret(self._box.open(user.mfa_secret, user_id=user.id))
            step = totp.match(key, given, at=self.clock())
            if step is None:
                raise WrongCodeError("wrong")
            # One statement, so two requests racing with the same code cannot both pass.
            accepted = session.execute(
                update(User)
                .where(User.id == user.id, User.mfa_last_step < step)
                .values(mfa_last_step=step)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if not accepted:
                raise WrongCodeError("reused")
            session.refresh(user)
            return "totp"
        if enrolling:
            raise WrongCodeError("wrong")  # enrolment proves the app works: its code, nothing else
        used = session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == self._hash(given),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not used:
            raise WrongCodeError("wrong")
        return "recovery"

    @staticmethod
    def _expect(user: User, *, enrolling: bool) -> None:
        if enrolling and user.mfa_enabled_at is not None:
            raise ConflictError("two-factor sign-in is already on")
        if enrolling and user.mfa_secret is None:
            raise ConflictError("start with setup: no secret is waiting to be confirmed")
        if not enrolling and (user.mfa_enabled_at is None or user.mfa_secret is None):
            raise ConflictError("two-factor sign-in is not on for this user")

    def _hash(self, code: str) -> str:
        return hmac.new(self._recovery_key, _normal(code).encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _recovery_left(session: Session, user_id: int) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
            )
            or 0
        )

    @staticmethod
    def _clear(session: Session, user: User) -> None:
        user.mfa_secret = None
        user.mfa_enabled_at = None
        user.mfa_last_step = 0
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))

    def _record(
        self,
        session: Session,
        principal: Principal,
        action: str,
        *,
        client: str | None,
        details: dict[str, object] | None = None,
    ) -> None:
        self._audit.append(
            AuditRecord(
                actor=principal.username,
                roles=principal.roles,
                action=action,
                resource_type="user",
                resource_id=principal.username,
                client=client,
                details=dict(details or {}),
            ),
            session=session,
        )
