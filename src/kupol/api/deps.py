"""FastAPI dependencies: the container, the current user, permissions, stated purposes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Query, Request

from kupol.bootstrap import Container
from kupol.core.audit import Justification
from kupol.core.auth import Permission, Principal
from kupol.core.errors import AuthenticationError, PermissionDeniedError

SESSION_COOKIE = "kupol_session"
CSRF_COOKIE = "kupol_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PERMISSION_ATTRIBUTE = "__kupol_permission__"
"""Set on each :func:`require` check to its permission, so tests can map routes to roles."""


def get_container(request: Request) -> Container:
    """The application's container."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def client_of(request: Request) -> str | None:
    """The client address, for the audit log and login limits."""
    return request.client.host if request.client else None


def get_principal(request: Request, container: ContainerDep) -> Principal:
    """The user behind the request: a Bearer token, or the console's session cookie.

    Cookie sessions must echo the CSRF cookie in a header on unsafe methods.
    """
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return container.auth.authenticate(header[7:].strip())
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AuthenticationError("log in first (Bearer token or console session)")
    if request.method not in SAFE_METHODS:
        csrf = request.cookies.get(CSRF_COOKIE)
        if not csrf or request.headers.get(CSRF_HEADER) != csrf:
            raise PermissionDeniedError("missing or wrong CSRF token")
    return container.auth.authenticate(token)


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets only holders of ``permission`` through."""

    def check(user: CurrentUser) -> Principal:
        user.require(permission)
        return user

    check.__name__ = f"require_{permission.name.lower()}"
    setattr(check, PERMISSION_ATTRIBUTE, permission)
    return check


def get_justification(
    request: Request,
    x_purpose: Annotated[str | None, Header(description="Why you look at this data.")] = None,
    x_case_number: Annotated[str | None, Header()] = None,
    purpose: Annotated[str | None, Query(description="Same as X-Purpose (links).")] = None,
    case: Annotated[str | None, Query(description="Same as X-Case-Number.")] = None,
) -> Justification:
    """The stated purpose of a personal-data request (header or query); required."""
    if purpose and not x_purpose and SESSION_COOKIE in request.cookies:
        # A link on another site could make a logged-in browser fetch personal data with a
        # purpose of the attacker's choosing, in the user's name: refuse cross-site fetches.
        site = request.headers.get("sec-fetch-site")
        if site not in (None, "same-origin", "none"):
            raise PermissionDeniedError("personal data cannot be requested from another site")
    # Headers are Latin-1 on the wire: Russian and Kazakh purposes arrive percent-encoded.
    header_purpose = unquote(x_purpose) if x_purpose else None
    return Justification(
        purpose=(header_purpose or purpose or "").strip(),
        case_number=(unquote(x_case_number) if x_case_number else case) or None,
        client=client_of(request),
    )


Why = Annotated[Justification, Depends(get_justification)]
