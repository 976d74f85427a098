"""Rendering console pages: the Jinja2 environment, the shared page context, security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from kupol.core.auth import Permission, Principal
from kupol.web.i18n import LOCALES, catalogue, translator
from kupol.web.session import landing_page, navigation, session_user, to_login

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

# Everything the console loads comes from this server: it must work with no internet, and a
# strict policy keeps injected markup from running or calling out.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def asset(path: str) -> str:
    """The URL of a static file, versioned by its modification time so browsers refetch edits.

    Example:
        >>> asset("app.css").startswith("/static/app.css?v=")
        True
    """
    try:
        version = int((STATIC / path).stat().st_mtime)
    except OSError:
        version = 0
    return f"/static/{path}?v={version}"


def render(
    request: Request,
    template: str,
    *,
    user: Principal | None,
    locale: str,
    status_code: int = 200,
    active: str | None = None,
    **context: Any,
) -> Response:
    """Render ``template`` in ``locale`` for ``user`` with the navigation and catalogue."""
    shared: dict[str, Any] = {
        "t": translator(locale),
        "locale": locale,
        "locales": LOCALES,
        "messages": dict(catalogue(locale)),
        "user": user,
        "nav": navigation(user) if user else [],
        "active": active,
        "can": {p.value: user.can(p) for p in Permission} if user else {},
        "asset": asset,
    }
    response = TEMPLATES.TemplateResponse(
        request, template, {**shared, **context}, status_code=status_code
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def forbidden(request: Request, user: Principal, permission: Permission) -> Response:
    """The friendly 403 page: what is missing and where the user can go instead."""
    return render(
        request,
        "forbidden.html",
        user=user,
        locale=user.locale,
        status_code=403,
        active="forbidden",
        permission=permission.value,
        home=landing_page(user),
    )


def guard(request: Request, permission: Permission) -> Principal | Response:
    """The page's user, or the response to send instead (login redirect or 403 page)."""
    user = session_user(request)
    if user is None:
        return to_login(request)
    if not user.can(permission):
        return forbidden(request, user, permission)
    return user
