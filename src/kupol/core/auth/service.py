"""Creating users, logging in, and turning a token back into the acting :class:`Principal`."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth.mfa import MFA_STEP_S, MfaChallenge, MfaStep, TwoFactor, WrongCodeError
from kupol.core.auth.model import Role, User
from kupol.core.auth.permissions import Permission, has_permission
from kupol.core.auth.ratelimit import FailureLimiter
from kupol.core.auth.scope import UserScopes, checked_scope
from kupol.core.auth.sessions import IdleSessions, SessionPolicy
from kupol.core.auth.tokens import TokenClaims, TokenSigner
from kupol.core.db import Database
from kupol.core.errors import (
    AuthenticationError,
    ConflictError,
    FieldProblem,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from kupol.core.messages import utcnow

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
LOCALES = ("ru", "kk", "en")
RECHECK_S = 2.0
"""How long a checked token is trusted before its user is read again (see authenticate)."""
RECENT_TOKENS = 10_000
# Verifying against a dummy hash for unknown users keeps login time the same either way.
_DUMMY_HASH = PasswordHasher().hash("kupol-dummy-password")


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The authenticated user acting in a request or a CLI command."""

    user_id: int
    username: str
    full_name: str
    roles: tuple[str, ...]
    locale: str
    camera_ids: tuple[str, ...] = ()
    region_codes: tuple[str, ...] = ()
    """With ``camera_ids``, the part of the camera network the user sees (see scope.py)."""

    def can(self, permission: Permission) -> bool:
        """Whether this user holds ``permission``."""
        return has_permission(self.roles, permission)

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDeniedError` unless this user holds ``permission``."""
        if not self.can(permission):
            raise PermissionDeniedError(
                f"{self.username} lacks {permission.value} (roles: {', '.join(self.roles)})"
            )


SYSTEM = Principal(user_id=0, username="system", full_name="kupol", roles=("admin",), locale="en")


@dataclass(frozen=True, kw_only=True)
class LoginResult:
    principal: Principal
    token: str


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        roles=tuple(user.roles),
        locale=user.locale,
        camera_ids=tuple(user.camera_ids or ()),
        region_codes=tuple(user.region_codes or ()),
    )


def validate_roles(roles: Iterable[str]) -> list[str]:
    """The roles as a sorted list, refusing unknown names with the list of valid ones."""
    names = sorted(set(roles))
    valid = {r.value for r in Role}
    bad = [r for r in names if r not in valid]
    if bad or not names:
        raise InvalidInputError(
            f"unknown role(s) {', '.join(bad)}; valid: {', '.join(sorted(valid))}"
            if bad
            else "a user needs at least one role",
            problems=[FieldProblem(field="roles", message="unknown or missing role")],
        )
    return names


class AuthService:
    """Users and logins. Every login, success or failure, is audited."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        signer: TokenSigner,
        limiter: FailureLimiter,
        policy: SessionPolicy | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._signer = signer
        self._limiter = limiter
        self._hasher = PasswordHasher()
        self.policy = policy or SessionPolicy()
        self.mfa = TwoFactor(
            db=db, audit=audit, signer=signer, limiter=limiter, forget=self._forget_recent
        )
        self._steps: dict[MfaStep, TokenSigner] = {
            step: signer.for_purpose(f"mfa-{step}", ttl_s=MFA_STEP_S) for step in ("code", "enrol")
        }
        self.idle = IdleSessions(db=db, timeout_s=self.policy.idle_timeout_s)
        self.scopes = UserScopes(db=db, audit=audit, forget=self._forget_recent)
        # Tokens verified lately: their user, until when that reading holds, their claims.
        self._recent: dict[str, tuple[Principal, float, TokenClaims]] = {}
        """Tokens checked in the last ``RECHECK_S`` seconds: a switch screening hundreds of
        calls a second is not looked up in the database for each. Emptied by every change
        this process makes to a user; another process's change (the CLI, a second worker)
        takes effect within ``RECHECK_S``."""

    def create_user(
        self,
        *,
        username: str,
        password: str | None,
        roles: Iterable[str],
        full_name: str = "",
        locale: str = "ru",
        camera_ids: Iterable[str] = (),
        region_codes: Iterable[str] = (),
        actor: Principal = SYSTEM,
    ) -> tuple[Principal, str]:
        """Create a user; returns the user and the password (generated when ``None``).

        ``camera_ids`` and ``region_codes`` are the user's scope (scope.py): empty, every
        camera."""
        if not USERNAME.match(username):
            raise InvalidInputError(
                "username must be 2-64 characters: lower-case letters, digits, . _ -, "
                "starting with a letter",
                problems=[FieldProblem(field="username", message="invalid format")],
            )
        role_list = validate_roles(roles)
        cameras, regions = checked_scope(camera_ids=camera_ids, region_codes=region_codes)
        if locale not in LOCALES:
            raise InvalidInputError(f"locale must be one of {', '.join(LOCALES)}")
        password = password if password is not None else secrets.token_urlsafe(12)
        self._check_password(password)
        with self._db.unit_of_work() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise ConflictError(f"user {username!r} already exists")
            user = User(
                username=username,
                full_name=full_name,
                roles=role_list,
                locale=locale,
                camera_ids=cameras,
                region_codes=regions,
                password_hash=self._hasher.hash(password),
                active=True,
                token_version=0,
            )
            session.add(user)
            session.flush()
            created = _principal(user)
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="create",
                    resource_type="user",
                    resource_id=username,
                    details={"roles": role_list, "camera_ids": cameras, "region_codes": regions},
                ),
                session=session,
            )
        return created, password

    def login(
        self, *, username: str, password: str, client: str | None = None
    ) -> LoginResult | MfaChallenge:
        """Check a password and issue a token; rate-limited per user name and client.

        A user with two-factor sign-in on (or who must enrol, see :class:`SessionPolicy`)
        gets an :class:`MfaChallenge` instead: :meth:`finish_login` with a code, or enrolling
        through :attr:`mfa` with the token, completes the login.
        """
        keys = [f"user:{username.lower()}"] + ([f"client:{client}"] if client else [])
        self._limiter.check(*keys, reserve=True)  # counted as a failure until it succeeds
        try:
            result = self._login(username=username, password=password, client=client)
        except AuthenticationError:
            raise
        except Exception:
            # Not a wrong password (the database is down...): it must not lock the user out.
            self._limiter.release(*keys)
            raise
        self._limiter.reset(*keys)
        return result

    def _login(
        self, *, username: str, password: str, client: str | None
    ) -> LoginResult | MfaChallenge:
        # The slow password check runs outside any write transaction.
        with self._db.reader() as session:
            user = session.scalar(select(User).where(User.username == username))
        ok: bool
        try:
            ok = self._hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None or not user.active:
            self._audit.append(
                AuditRecord(
                    actor=username[:64],
                    action="login-failed",
                    resource_type="session",
                    client=client,
                )
            )
            raise AuthenticationError("wrong user name or password")
        with self._db.unit_of_work() as session:
            row = session.get(User, user.id)
            assert row is not None
            if self._hasher.check_needs_rehash(row.password_hash):
                row.password_hash = self._hasher.hash(password)
            step = self._second_step(row)
            if step is not None:
                self._audit.append(
                    AuditRecord(actor=row.username, roles=tuple(row.roles),
                                action="login-password", resource_type="session",
                                client=client, details={"then": step}),
                    session=session,
                )  # fmt: skip
                return MfaChallenge(
                    step=step,
                    mfa_token=self._steps[step].issue(user_id=row.id, version=row.token_version),
                )
            row.last_login_at = utcnow()
            principal = _principal(row)
            token = self._signer.issue(user_id=row.id, version=row.token_version)
            self._audit.append(
                AuditRecord(
                    actor=principal.username,
                    roles=principal.roles,
                    action="login",
                    resource_type="session",
                    client=client,
                ),
                session=session,
            )
        return LoginResult(principal=principal, token=token)

    def _second_step(self, user: User) -> MfaStep | None:
        """What stands between a right password and a session for ``user``, if anything."""
        if user.mfa_enabled_at is not None:
            return "code"
        return "enrol" if self.policy.must_enrol(user.roles) else None

    def login_verified(self, *, username: str, how: str, client: str | None = None) -> LoginResult:
        """Issue a token to an active user whose identity another check proved (``how``: a
        citizen's SMS code, a second factor), audited as a login.

        Raises:
            AuthenticationError: no such active user.
        """
        with self._db.unit_of_work() as session:
            row = session.scalar(select(User).where(User.username == username))
            if row is None or not row.active:
                raise AuthenticationError("no such active user")
            row.last_login_at = utcnow()
            principal = _principal(row)
            token = self._signer.issue(user_id=row.id, version=row.token_version)
            self._audit.append(
                AuditRecord(actor=principal.username, roles=principal.roles, action="login",
                            resource_type="session", client=client, details={"by": how}),
                session=session,
            )  # fmt: skip
        return LoginResult(principal=principal, token=token)

    def mfa_principal(self, mfa_token: str, *, step: MfaStep) -> Principal:
        """The user an :class:`MfaChallenge` token of ``step`` was issued to, while it is valid
        and the user is unchanged (no logout, new password or deactivation since)."""
        claims = self._steps[step].verify(mfa_token)
        with self._db.reader() as session:
            user = session.get(User, claims.user_id)
            if user is None or not user.active or user.token_version != claims.version:
                raise AuthenticationError("sign-in step expired; log in again")
            return _principal(user)

    def finish_login(self, *, mfa_token: str, code: str, client: str | None = None) -> LoginResult:
        """Complete a login that answered ``code``: a TOTP code or an unused recovery code.

        Raises:
            AuthenticationError: the token or the code is wrong, expired or used.
            RateLimitedError: too many wrong codes.
        """
        principal = self.mfa_principal(mfa_token, step="code")
        try:
            method = self.mfa.check(principal=principal, code=code, client=client)
        except WrongCodeError as wrong:
            # At login a wrong code is a failed login, like a wrong password.
            raise AuthenticationError(wrong.detail, code=wrong.code) from None
        return self.login_verified(username=principal.username, how=method, client=client)

    def authenticate(self, token: str) -> Principal:
        """The user a token belongs to, if the token and the user are still valid (the user
        is read again at most ``RECHECK_S`` seconds after the last time) and the session has
        not been idle too long (:class:`SessionPolicy`)."""
        now = time.monotonic()
        recent = self._recent.get(token)
        if recent is not None and recent[1] > now:
            # The very string verified moments ago: its signature holds; its expiry may not.
            principal, _, claims = recent
            if claims.expires_at < time.time():
                raise AuthenticationError("token expired; log in again")
        else:
            claims = self._signer.verify(token)
            with self._db.reader() as session:
                user = session.get(User, claims.user_id)
                if user is None or not user.active or user.token_version != claims.version:
                    raise AuthenticationError("session ended; log in again")
                principal = _principal(user)
            if len(self._recent) >= RECENT_TOKENS:
                self._recent.clear()
            self._recent[token] = (principal, now + RECHECK_S, claims)
        self.idle.check(claims)
        return principal

    def _forget_recent(self) -> None:
        self._recent.clear()

    def set_password(self, *, username: str, password: str, actor: Principal = SYSTEM) -> None:
        """Change a password and revoke the user's tokens."""
        self._check_password(password)
        with self._db.unit_of_work() as session:
            user = self._get(session, username)
            user.password_hash = self._hasher.hash(password)
            user.token_version += 1
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="set-password",
                    resource_type="user",
                    resource_id=username,
                ),
                session=session,
            )
        self._forget_recent()

    def set_locale(self, *, principal: Principal, locale: str) -> None:
        """Change the console language of the acting user (audited like any user change)."""
        if locale not in LOCALES:
            raise InvalidInputError(f"locale must be one of {', '.join(LOCALES)}")
        with self._db.unit_of_work() as session:
            self._get(session, principal.username).locale = locale
            self._audit.append(
                AuditRecord(
                    actor=principal.username,
                    roles=principal.roles,
                    action="update",
                    resource_type="user",
                    resource_id=principal.username,
                    details={"locale": locale},
                ),
                session=session,
            )
        self._forget_recent()

    def logout(self, *, principal: Principal, client: str | None = None) -> None:
        """End the user's sessions: every token issued to them stops working."""
        with self._db.unit_of_work() as session:
            self._get(session, principal.username).token_version += 1
            self._audit.append(
                AuditRecord(
                    actor=principal.username,
                    roles=principal.roles,
                    action="logout",
                    resource_type="session",
                    client=client,
                ),
                session=session,
            )
        self._forget_recent()

    def deactivate(self, *, username: str, actor: Principal = SYSTEM) -> None:
        """Disable a user and revoke their tokens (never deleted: the audit log names them)."""
        with self._db.unit_of_work() as session:
            user = self._get(session, username)
            user.active = False
            user.token_version += 1
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="deactivate",
                    resource_type="user",
                    resource_id=username,
                ),
                session=session,
            )
        self._forget_recent()

    def list_users(self) -> list[tuple[Principal, bool]]:
        """Every user with their active flag."""
        with self._db.reader() as session:
            return [
                (_principal(u), u.active)
                for u in session.scalars(select(User).order_by(User.username))
            ]

    def principal_of(self, username: str) -> Principal:
        """An active user, for commands run on the server in that user's name (the CLI)."""
        with self._db.reader() as session:
            user = self._get(session, username)
            if not user.active:
                raise AuthenticationError(f"user {username!r} is deactivated")
            return _principal(user)

    def exists(self) -> bool:
        """Whether any user exists yet."""
        with self._db.reader() as session:
            return session.scalar(select(User.id).limit(1)) is not None

    @staticmethod
    def _get(session: object, username: str) -> User:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFoundError(f"no user {username!r}")
        return user

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError(
                f"password must have at least {MIN_PASSWORD} characters",
                problems=[FieldProblem(field="password", message="too short")],
            )
