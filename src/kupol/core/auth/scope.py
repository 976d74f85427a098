"""What part of the camera network a user sees: their cameras and their regions' cameras.

A city's operators should see their city's cameras, not the country's. A user's scope is the
cameras listed in ``camera_ids`` together with every camera whose ``region_code`` is in
``region_codes``; both empty means every camera (administrators, national desks). Roles still
decide what a user may do; the scope only narrows which cameras' data they do it on. The
domains apply it in SQL (:meth:`CameraScope.clause`) and answer "not found" for a single item
outside it, so nothing reveals that it exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from kupol.cameras.model import Camera
from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth.model import User
from kupol.core.db import Database
from kupol.core.errors import FieldProblem, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from kupol.core.auth.service import Principal

REGION_CODE = re.compile(r"^(0[1-9]|1[0-9]|20)$")
"""Kazakhstan's region codes, as cameras carry them (01-20)."""
CAMERA_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
"""A camera's id, as the registry accepts it."""
SCOPE_REFRESH_S = 30.0
"""How often an open live feed re-reads its user's scope and the cameras in it."""


@dataclass(frozen=True, kw_only=True)
class CameraScope:
    """The cameras a user sees: ``camera_ids`` and the cameras of ``region_codes``.

    Example:
        >>> scope = CameraScope(camera_ids=frozenset({"cam-7"}), region_codes=frozenset({"02"}))
        >>> scope.allows("cam-7"), scope.allows("cam-8", region_code="02")
        (True, True)
        >>> scope.allows("cam-8", region_code="11"), CameraScope().allows("cam-8")
        (False, True)
    """

    camera_ids: frozenset[str] = frozenset()
    region_codes: frozenset[str] = frozenset()

    @classmethod
    def of(cls, user: Principal) -> CameraScope:
        """The scope of ``user``."""
        return cls(camera_ids=frozenset(user.camera_ids), region_codes=frozenset(user.region_codes))

    @property
    def everywhere(self) -> bool:
        """Whether this scope holds every camera (nothing set)."""
        return not self.camera_ids and not self.region_codes

    def allows(self, camera_id: str, region_code: str | None = None) -> bool:
        """Whether the camera ``camera_id`` (in region ``region_code``) is in this scope."""
        if self.everywhere or camera_id in self.camera_ids:
            return True
        return region_code is not None and region_code in self.region_codes

    def clause(
        self, column: ColumnElement[str] | InstrumentedAttribute[str]
    ) -> ColumnElement[bool]:
        """A condition on a camera-id ``column`` that holds for the cameras in this scope
        (``true()`` for every camera); regions become a sub-query over ``cameras``, so a
        camera registered in a region later is in scope at once.

        Example:
            ``select(PlateSighting).where(CameraScope.of(actor).clause(PlateSighting.camera_id))``
        """
        if self.everywhere:
            return true()
        conditions: list[ColumnElement[bool]] = []
        if self.camera_ids:
            conditions.append(column.in_(sorted(self.camera_ids)))
        if self.region_codes:
            in_regions = (
                select(Camera.id)
                .where(Camera.region_code.in_(sorted(self.region_codes)))
                .correlate(None)  # never tied to a ``cameras`` row of the outer query
            )
            conditions.append(column.in_(in_regions))
        return or_(*conditions)

    def __str__(self) -> str:
        """The scope in words, for messages and the CLI.

        Example:
            >>> str(CameraScope(camera_ids=frozenset({"cam-7"}), region_codes=frozenset({"02"})))
            'cameras cam-7; regions 02'
        """
        if self.everywhere:
            return "every camera"
        parts = []
        if self.camera_ids:
            parts.append("cameras " + ", ".join(sorted(self.camera_ids)))
        if self.region_codes:
            parts.append("regions " + ", ".join(sorted(self.region_codes)))
        return "; ".join(parts)

    def for_audit(self) -> dict[str, dict[str, list[str]]]:
        """``{"scope": ...}`` to add to an audit entry's details (nothing for every camera).

        Example:
            >>> CameraScope(region_codes=frozenset({"02"})).for_audit()
            {'scope': {'cameras': [], 'regions': ['02']}}
        """
        if self.everywhere:
            return {}
        return {"scope": {"cameras": sorted(self.camera_ids), "regions": sorted(self.region_codes)}}


EVERYWHERE = CameraScope()


def checked_scope(
    *, camera_ids: Iterable[str], region_codes: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Camera ids and region codes, sorted and without repeats, refusing malformed ones.

    Example:
        >>> checked_scope(camera_ids=["cam-2", "cam-1", "cam-2"], region_codes=["02"])
        (['cam-1', 'cam-2'], ['02'])
    """
    cameras = sorted({c.strip() for c in camera_ids})
    regions = sorted({r.strip() for r in region_codes})
    problems = [
        FieldProblem(field="camera_ids", message=f"not a camera id: {c!r}")
        for c in cameras
        if not CAMERA_ID.match(c)
    ] + [
        FieldProblem(field="region_codes", message=f"not a region code (01-20): {r!r}")
        for r in regions
        if not REGION_CODE.match(r)
    ]
    if problems:
        raise InvalidInputError("; ".join(p.message for p in problems), problems=problems)
    return cameras, regions


class UserScopes:
    """Setting a user's scope (administrators), audited like every user change."""

    def __init__(self, *, db: Database, audit: AuditLog, forget: Callable[[], None]) -> None:
        self._db = db
        self._audit = audit
        self._forget = forget

    def set(
        self,
        *,
        username: str,
        camera_ids: Iterable[str],
        region_codes: Iterable[str],
        actor: Principal,
    ) -> CameraScope:
        """Replace the user's scope (both empty: every camera). Their next request uses it;
        another process's within ``RECHECK_S`` seconds, an open live feed within
        ``SCOPE_REFRESH_S``."""
        cameras, regions = checked_scope(camera_ids=camera_ids, region_codes=region_codes)
        with self._db.unit_of_work() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFoundError(f"no user {username!r}")
            before = {"camera_ids": list(user.camera_ids), "region_codes": list(user.region_codes)}
            user.camera_ids, user.region_codes = cameras, regions
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="set-scope",
                    resource_type="user",
                    resource_id=username,
                    details={
                        "before": before,
                        "camera_ids": cameras,
                        "region_codes": regions,
                    },
                ),
                session=session,
            )
        self._forget()
        return CameraScope(camera_ids=frozenset(cameras), region_codes=frozenset(regions))

    def of(self, username: str) -> CameraScope:
        """The scope of the user ``username``."""
        with self._db.reader() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFoundError(f"no user {username!r}")
            return CameraScope(
                camera_ids=frozenset(user.camera_ids), region_codes=frozenset(user.region_codes)
            )

    def missing_cameras(self, camera_ids: Iterable[str]) -> list[str]:
        """The ids among ``camera_ids`` that name no registered camera (a typo, or a camera
        not registered yet: it comes into the scope once it is)."""
        wanted = set(camera_ids)
        if not wanted:
            return []
        with self._db.reader() as session:
            known = set(session.scalars(select(Camera.id).where(Camera.id.in_(wanted))))
        return sorted(wanted - known)
