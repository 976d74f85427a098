"""The console's login: the password form, then — for users with two-factor sign-in — the code
step, or enrolling an authenticator app where it is required (docs/security.md).

Each step is a plain form posted back here and answered with the next page, so no script is
needed; the short-lived ``mfa_token`` between the steps travels in a hidden field.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from kupol.api.auth import set_session_cookies
from kupol.api.deps import client_of, get_container
from kupol.bootstrap import Container
from kupol.core.auth.mfa import TotpSetup, WrongCodeError
from kupol.core.auth.service import LoginResult
from kupol.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    RateLimitedError,
)
from kupol.web.i18n import negotiate, translate
from kupol.web.rendering import render
from kupol.web.session import landing_page, safe_next, session_user

router = APIRouter(include_in_schema=False)
WRONG_CODE = ("wrong_code", "reused_code")


def _form(
    request: Request,
    *,
    locale: str,
    next: str,
    status_code: int = 200,
    error: str | None = None,
    username: str = "",
    step: str | None = None,
    mfa_token: str = "",
    setup: TotpSetup | None = None,
    recovery_codes: tuple[str, ...] = (),
) -> Response:
    secret = setup.secret if setup else ""
    return render(
        request,
        "login.html",
        user=None,
        locale=locale,
        status_code=status_code,
        next=safe_next(next),
        username=username,
        error=error,
        step=step,
        mfa_token=mfa_token,
        # Groups of four, as authenticator apps show keys: easier to type and to check.
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        otpauth_uri=setup.uri if setup else "",
        recovery_codes=recovery_codes,
    )


def _foreign(request: Request) -> bool:
    # A login form posted from another site could sign a victim in as the attacker.
    origin = request.headers.get("origin")
    return bool(origin) and urlsplit(origin or "").netloc != request.url.netloc


def _target(result: LoginResult, next: str) -> str:
    home = landing_page(result.principal)
    target = safe_next(next)
    return home.path if target == "/" and home is not None else target


def _signed_in(container: Container, result: LoginResult, next: str) -> Response:
    return _set_cookies(RedirectResponse(_target(result, next), status_code=303), container, result)


def _set_cookies(response: Response, container: Container, result: LoginResult) -> Response:
    security = container.settings.security
    set_session_cookies(
        response,
        token=result.token,
        secure=security.cookie_secure,
        max_age=security.token_ttl_minutes * 60,
    )
    return response


@router.get("/login")
def login_page(request: Request, lang: str | None = None, next: str | None = None) -> Response:
    """The login form; ``?lang=`` picks its language (Russian by default)."""
    user = session_user(request)
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    locale = negotiate(lang, default=get_container(request).settings.default_locale)
    return _form(request, locale=locale, next=safe_next(next))


@router.post("/login")
def login_submit(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    lang: Annotated[str, Form()] = "",
) -> Response:
    """Check the form through the auth service and set the same cookies as the login API —
    or answer with the code or enrolment step."""
    container = get_container(request)
    locale = negotiate(lang, default=container.settings.default_locale)
    form = partial(_form, request, locale=locale, next=next, username=username)
    if _foreign(request):
        return form(error=translate(locale, "login.error_origin"), status_code=403)
    try:
        if not username or not password:
            raise InvalidInputError("user name and password are required")
        result = container.auth.login(
            username=username.strip(), password=password, client=client_of(request)
        )
    except RateLimitedError as exc:
        error = translate(locale, "login.rate_limited", seconds=exc.retry_after_s)
        return form(error=error, status_code=429)
    except (AuthenticationError, InvalidInputError):
        return form(error=translate(locale, "login.error"), status_code=401)
    if isinstance(result, LoginResult):
        return _signed_in(container, result, next)
    step = partial(form, step=result.step, mfa_token=result.mfa_token)
    if result.step == "code":
        return step()
    principal = container.auth.mfa_principal(result.mfa_token, step="enrol")
    return step(setup=container.auth.mfa.setup(principal=principal, client=client_of(request)))


@router.post("/login/code")
def login_code(
    request: Request,
    mfa_token: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    lang: Annotated[str, Form()] = "",
) -> Response:
    """The second step: a code from the authenticator app, or a recovery code."""
    container = get_container(request)
    locale = negotiate(lang, default=container.settings.default_locale)
    start_over = partial(_form, request, locale=locale, next=next)
    again = partial(start_over, step="code", mfa_token=mfa_token)
    if _foreign(request):
        return start_over(error=translate(locale, "login.error_origin"), status_code=403)
    try:
        result = container.auth.finish_login(
            mfa_token=mfa_token, code=code, client=client_of(request)
        )
    except RateLimitedError as exc:
        error = translate(locale, "login.rate_limited", seconds=exc.retry_after_s)
        return again(error=error, status_code=429)
    except AuthenticationError as exc:
        if exc.code in WRONG_CODE:
            return again(error=translate(locale, "login.mfa_wrong"), status_code=401)
        return start_over(error=translate(locale, "login.mfa_expired"), status_code=401)
    except ConflictError:
        return start_over(error=translate(locale, "login.mfa_unavailable"), status_code=409)
    return _signed_in(container, result, next)


@router.post("/login/enrol")
def login_enrol(
    request: Request,
    mfa_token: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    lang: Annotated[str, Form()] = "",
) -> Response:
    """Enrolling where two-factor sign-in is required: the app's first code switches it on,
    the recovery codes are shown once, and the login completes."""
    container = get_container(request)
    locale = negotiate(lang, default=container.settings.default_locale)
    start_over = partial(_form, request, locale=locale, next=next)
    if _foreign(request):
        return start_over(error=translate(locale, "login.error_origin"), status_code=403)
    client = client_of(request)
    try:
        principal = container.auth.mfa_principal(mfa_token, step="enrol")
        codes = container.auth.mfa.confirm(principal=principal, code=code, client=client)
    except (RateLimitedError, WrongCodeError) as exc:
        limited = isinstance(exc, RateLimitedError)
        error = (
            translate(locale, "login.rate_limited", seconds=exc.retry_after_s)
            if isinstance(exc, RateLimitedError)
            else translate(locale, "login.mfa_wrong")
        )
        return start_over(
            step="enrol",
            mfa_token=mfa_token,
            setup=container.auth.mfa.pending(principal=principal),
            error=error,
            status_code=429 if limited else 422,
        )
    except AuthenticationError:
        return start_over(error=translate(locale, "login.mfa_expired"), status_code=401)
    except ConflictError:
        return start_over(error=translate(locale, "login.mfa_unavailable"), status_code=409)
    result = container.auth.login_verified(
        username=principal.username, how="totp-enrol", client=client
    )
    page = _form(
        request,
        locale=locale,
        next=_target(result, next),
        step="recovery",
        recovery_codes=tuple(codes),
    )
    return _set_cookies(page, container, result)
