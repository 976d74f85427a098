"""Citizens sign up and log in with their phone: a six-digit code sent by text, valid for
``code_ttl_s``, a few attempts, a few codes an hour per phone and per device. The first
verified code makes the citizen's account (role ``citizen``); each one logs them in.

Codes are kept only as keyed hashes. Every code sent, every wrong code and every login is
audited (with the phone masked: +7701***4567).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from kupol.antifraud.numbers import NumberKind, load_numbering
from kupol.citizens.sms import SmsGateway
from kupol.citizens.store import CitizenRow, CodeRow
from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import AuthService
from kupol.core.auth.model import User
from kupol.core.auth.service import LoginResult
from kupol.core.db import Database
from kupol.core.errors import AuthenticationError, InvalidInputError, RateLimitedError
from kupol.core.messages import utcnow
from kupol.settings import CitizensSettings

DEVICE = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_."


@dataclass(frozen=True, kw_only=True)
class CodeSent:
    phone: str
    expires_in_s: int


def mask(phone: str) -> str:
    """A phone as the audit log and the officers see it.

    Example:
        >>> mask("+77011234567")
        '+7701***4567'
    """
    return phone[:5] + "***" + phone[-4:] if len(phone) > 9 else "***"


def kz_mobile(raw: str) -> str:
    """A Kazakhstan mobile number in E.164.

    Raises:
        InvalidInputError: not a Kazakhstan mobile number.
    """
    number = load_numbering().classify(raw)
    if number.kind is not NumberKind.KZ_MOBILE:
        raise InvalidInputError("phone must be a Kazakhstan mobile number (+7 7xx xxx xx xx)")
    return number.e164


def device_id(raw: str) -> str:
    """The app's or browser's device id, checked (8–64 letters, digits, ``-_.``)."""
    text = raw.strip()
    if not 8 <= len(text) <= 64 or any(c not in DEVICE for c in text):
        raise InvalidInputError("device_id must be 8–64 letters, digits, - _ or .")
    return text


class CitizenAccounts:
    """Sign-up and login by phone (see the module)."""

    def __init__(
        self, *, db: Database, audit: AuditLog, auth: AuthService, sms: SmsGateway,
        settings: CitizensSettings, secret: str,
    ) -> None:  # fmt: skip
        self._db = db
        self._audit = audit
        self._auth = auth
        self.sms = sms
        self.settings = settings
        self._key = hashlib.sha256(("citizen-codes:" + secret).encode()).digest()

    def _hash(self, phone: str, code: str) -> str:
        return hmac.new(self._key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    def send_code(self, *, phone: str, device: str, client: str | None = None) -> CodeSent:
        """Text a new code to ``phone``.

        Raises:
            InvalidInputError: not a Kazakhstan mobile number, a malformed device id.
            RateLimitedError: too many codes for this phone or device in the last hour.
        """
        number, device = kz_mobile(phone), device_id(device)
        now = utcnow()
        hour = now - timedelta(hours=1)
        limit = self.settings.codes_per_hour
        with self._db.unit_of_work() as session:
            for column, value in ((CodeRow.phone, number), (CodeRow.device_id, device)):
                sent = session.scalar(
                    select(func.count(CodeRow.id)).where(column == value, CodeRow.sent_at >= hour)
                )
                if (sent or 0) >= limit:
                    raise RateLimitedError(
                        f"{limit} codes an hour to one phone or device: try again later",
                        retry_after_s=3600,
                    )
            code = f"{secrets.randbelow(1_000_000):06d}"
            expires = now + timedelta(seconds=self.settings.code_ttl_s)
            hashed = self._hash(number, code)
            session.add(CodeRow(phone=number, device_id=device, code_hash=hashed, sent_at=now,
                                expires_at=expires))  # fmt: skip
            self._audit.append(
                AuditRecord(actor=mask(number), action="send_code", resource_type="citizen",
                            resource_id=mask(number), client=client,
                            details={"device": device}),
                session=session,
            )  # fmt: skip
        self.sms.send(phone=number, text=f"kupol: {code} — код входа / кіру коды / login code")
        return CodeSent(phone=number, expires_in_s=self.settings.code_ttl_s)

    def verify(
        self, *, phone: str, code: str, device: str, client: str | None = None
    ) -> LoginResult:
        """Check the last code sent to ``phone``; the citizen's account is made at the first
        success. Returns the login (its token).

        Raises:
            AuthenticationError: no live code, a wrong one (the attempts are counted), a used or
                expired one, a blocked citizen.
        """
        number, device = kz_mobile(phone), device_id(device)
        now = utcnow()
        with self._db.unit_of_work() as session:
            row = session.scalar(
                select(CodeRow).where(CodeRow.phone == number)
                .order_by(CodeRow.sent_at.desc(), CodeRow.id.desc()).limit(1)
            )  # fmt: skip
            if row is None or row.used_at is not None or row.expires_at <= now:
                raise AuthenticationError("no live code for this phone: ask for a new one")
            if row.attempts >= self.settings.code_attempts:
                raise AuthenticationError("too many wrong codes: ask for a new one")
            wrong = not hmac.compare_digest(row.code_hash, self._hash(number, code.strip()))
            if wrong:  # counted (committed) before the refusal
                row.attempts += 1
                self._audit.append(
                    AuditRecord(actor=mask(number), action="code-failed", resource_type="citizen",
                                resource_id=mask(number), client=client),
                    session=session,
                )  # fmt: skip
        if wrong:
            raise AuthenticationError("wrong code")
        code_id = row.id
        with self._db.unit_of_work() as session:
            # Used once, even by two requests at the same moment.
            used = session.execute(
                update(CodeRow).where(CodeRow.id == code_id, CodeRow.used_at.is_(None))
                .values(used_at=now)
            )  # fmt: skip
            if used.rowcount != 1:  # type: ignore[attr-defined]
                raise AuthenticationError("this code was used already: ask for a new one")
            citizen = session.scalar(select(CitizenRow).where(CitizenRow.phone == number))
            if citizen is not None and citizen.blocked_at is not None:
                raise AuthenticationError("this phone is blocked from reporting")
            known = citizen is not None
            # The account's name carries no phone number: it shows in audit and custody logs.
            username = (
                session.scalar(select(User.username).where(User.id == citizen.user_id))
                if citizen is not None
                else None
            ) or f"citizen-{secrets.token_hex(5)}"
        if not known:
            principal, _ = self._auth.create_user(username=username, password=None,
                                                  roles=["citizen"], full_name="")  # fmt: skip
            with self._db.unit_of_work() as session:
                session.add(CitizenRow(phone=number, user_id=principal.user_id))
        return self._auth.login_verified(username=username, how="sms", client=client)

    def known(self, phone: str) -> bool:
        """Whether ``phone`` has signed up."""
        number = kz_mobile(phone)
        with self._db.reader() as session:
            return (
                session.scalar(select(CitizenRow.id).where(CitizenRow.phone == number)) is not None
            )

    def citizen_id(self, user_id: int) -> int:
        """The citizen whose account ``user_id`` is.

        Raises:
            AuthenticationError: the account is no citizen's.
        """
        with self._db.reader() as session:
            found = session.scalar(select(CitizenRow.id).where(CitizenRow.user_id == user_id))
        if found is None:
            raise AuthenticationError("not a citizen's account")
        return found
