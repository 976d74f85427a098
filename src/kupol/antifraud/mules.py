"""The mule list: accounts known or suspected to pass on stolen money, each with where that
came from and until when; a transfer to a listed account is held. Every change and every look
at the list is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kupol.antifraud.accounts import normalise_account
from kupol.antifraud.model import MuleAccount
from kupol.antifraud.numbers import Numbering
from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.core.messages import utcnow

KINDS = ("known", "suspected")


@dataclass(frozen=True, kw_only=True)
class MuleView:
    """A listed account."""

    account: str
    kind: str
    source: str
    note: str | None
    active: bool
    expires_at: datetime | None
    added_by: str
    added_at: datetime


def _view(row: MuleAccount) -> MuleView:
    return MuleView(
        account=row.account, kind=row.kind, source=row.source, note=row.note, active=row.active,
        expires_at=row.expires_at, added_by=row.added_by, added_at=row.added_at,
    )  # fmt: skip


class MuleList:
    """Adds, removes and lists mule accounts."""

    def __init__(
        self, *, db: Database, audit: AuditLog, numbering: Numbering | None = None
    ) -> None:
        self._db = db
        self._audit = audit
        self._numbering = numbering  # places a payee's telephone number (the deployment's plan)

    def add(
        self,
        *,
        actor: Principal,
        account: str,
        kind: str,
        source: str,
        note: str | None = None,
        expires_at: datetime | None = None,
    ) -> MuleView:
        """List an account (or update its listing); audited.

        Raises:
            InvalidInputError: an empty or overlong account, an unknown kind, no source, an
                expiry in the past or without its UTC offset.
        """
        actor.require(Permission.MULES_MANAGE)
        account = account.strip()
        if not account or len(account) > 64 or not account.isprintable():
            raise InvalidInputError("account must be 1–64 printable characters")
        account = normalise_account(account, self._numbering)
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        if len(source.strip()) < 3:
            raise InvalidInputError("say where the listing comes from (source: a case, a report)")
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
            raise InvalidInputError("expires_at must be a future time with its UTC offset")
        with self._db.unit_of_work() as session:
            row = session.scalar(select(MuleAccount).where(MuleAccount.account == account))
            if row is None:
                row = MuleAccount(account=account, added_by=actor.username)
                session.add(row)
            row.kind, row.source, row.active = kind, source.strip()[:120], True
            row.note = note.strip()[:1000] if note and note.strip() else None
            row.expires_at = expires_at
            row.added_by, row.added_at = actor.username, utcnow()
            session.flush()
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action="list",
                    resource_type="mule_account", resource_id=account,
                    details={"kind": kind, "source": row.source,
                             "expires_at": expires_at.isoformat() if expires_at else None},
                ),
                session=session,
            )  # fmt: skip
            return _view(row)

    def remove(self, *, actor: Principal, account: str, reason: str) -> MuleView:
        """Take an account off the list (kept, inactive, for the record); audited.

        Raises:
            NotFoundError: the account is not listed.
            InvalidInputError: no reason given.
        """
        actor.require(Permission.MULES_MANAGE)
        if len(reason.strip()) < 3:
            raise InvalidInputError("say why the account comes off the list")
        with self._db.unit_of_work() as session:
            listed = normalise_account(account.strip(), self._numbering)
            row = session.scalar(select(MuleAccount).where(MuleAccount.account == listed))
            if row is None or not row.active:
                raise NotFoundError(f"account {account!r} is not on the mule list")
            row.active = False
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action="unlist",
                    resource_type="mule_account", resource_id=row.account,
                    details={"reason": reason.strip()[:500]},
                ),
                session=session,
            )  # fmt: skip
            return _view(row)

    def listed(self, *, actor: Principal, why: Justification) -> list[MuleView]:
        """The accounts listed now (audited: accounts are personal data)."""
        actor.require(Permission.MULES_MANAGE)
        now = utcnow()
        with self._db.reader() as session:
            rows = [
                _view(r)
                for r in session.scalars(
                    select(MuleAccount)
                    .where(
                        MuleAccount.active.is_(True),
                        MuleAccount.expires_at.is_(None) | (MuleAccount.expires_at > now),
                    )
                    .order_by(MuleAccount.account)
                )
            ]
        self._audit.access(
            actor=actor, why=why, action="search", resource_type="mule_account",
            details={"returned": len(rows)},
        )  # fmt: skip
        return rows
