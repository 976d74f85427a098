"""Login (with its two-factor step), logout, the current user, and user management."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from kupol.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ContainerDep,
    CurrentUser,
    client_of,
    get_principal,
    require,
)
from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraId
from kupol.core.auth import Permission, Principal
from kupol.core.auth.mfa import MfaChallenge
from kupol.core.auth.scope import REGION_CODE
from kupol.core.auth.service import LoginResult
from kupol.core.errors import KupolError

router = APIRouter(prefix="/api", tags=["auth"])
RegionCode = Annotated[str, Field(pattern=REGION_CODE.pattern)]
MAX_SCOPE = 1000
"""At most this many cameras listed in one user's scope (regions are for more)."""
Admin = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserRead(BaseModel):
    username: str
    full_name: str
    roles: list[str]
    locale: str
    permissions: list[str] = []
    active: bool = True
    camera_ids: list[str] = Field(
        default_factory=list, description="The cameras of the user's scope (docs/security.md)."
    )
    region_codes: list[str] = Field(
        default_factory=list,
        description="The regions whose cameras are in the user's scope; with camera_ids "
        "empty too, the user sees every camera.",
    )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    user: UserRead


class MfaNeeded(BaseModel):
    """The password was right; no session until the second step (docs/security.md)."""

    mfa: Literal["code", "enrol"] = Field(
        description="code: POST /api/auth/mfa/verify with a code from the authenticator app; "
        "enrol: POST /api/auth/mfa/setup, then /api/auth/mfa/confirm."
    )
    mfa_token: str = Field(description="Good for that step only.")
    expires_in: int = Field(description="Seconds the mfa_token is good for.")


class MfaVerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mfa_token: str = Field(min_length=1, max_length=1000)
    code: str = Field(
        min_length=1, max_length=40, description="From the authenticator app, or a recovery code."
    )


class MfaSetupOut(BaseModel):
    secret: str = Field(description="Base32: type it into the authenticator app.")
    otpauth_uri: str = Field(description="The same as a link an authenticator app opens.")


class MfaConfirmed(BaseModel):
    recovery_codes: list[str] = Field(
        description="One-time codes for when the phone is lost: shown this once only."
    )
    login: TokenOut | None = Field(
        None, description="With an enrolment mfa_token: the session the login completes with."
    )


class MfaDisableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str
    full_name: str = ""
    roles: list[str] = Field(min_length=1)
    locale: str = "ru"
    camera_ids: list[CameraId] = Field(
        default_factory=list,
        max_length=MAX_SCOPE,
        description="The user's scope: cameras they see (people) or may submit events for "
        "(devices). Empty, with region_codes empty too: every camera.",
    )
    region_codes: list[RegionCode] = Field(
        default_factory=list,
        max_length=20,
        description="The user's scope: regions (01-20) whose cameras they see.",
    )
    password: str | None = Field(None, description="Leave out to have one generated.")


class ScopeIn(BaseModel):
    """A user's scope (docs/security.md): both lists empty, every camera."""

    model_config = ConfigDict(extra="forbid")

    camera_ids: list[CameraId] = Field(default_factory=list, max_length=MAX_SCOPE)
    region_codes: list[RegionCode] = Field(default_factory=list, max_length=20)


class ScopeRead(BaseModel):
    username: str
    camera_ids: list[str]
    region_codes: list[str]
    unknown_camera_ids: list[str] = Field(
        description="Ids in camera_ids that name no registered camera (yet)."
    )


class UserCreated(BaseModel):
    user: UserRead
    password: str


class LocaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: str = Field(pattern=r"^(ru|kk|en)$")


def user_read(p: Principal, active: bool = True) -> UserRead:
    """The API view of a user."""
    return UserRead(
        username=p.username,
        full_name=p.full_name,
        roles=list(p.roles),
        locale=p.locale,
        active=active,
        permissions=[perm.value for perm in Permission if p.can(perm)],
        camera_ids=list(p.camera_ids),
        region_codes=list(p.region_codes),
    )


def set_session_cookies(response: Response, *, token: str, secure: bool, max_age: int) -> None:
    """The console's session: an HttpOnly token cookie and a readable CSRF cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=max_age,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(16),
        httponly=False,
        samesite="strict",
        secure=secure,
        max_age=max_age,
        path="/",
    )


def start_session(response: Response, container: Container, result: LoginResult) -> TokenOut:
    """The answer to a completed login: the token, also set as the console's cookies."""
    security = container.settings.security
    set_session_cookies(
        response,
        token=result.token,
        secure=security.cookie_secure,
        max_age=security.token_ttl_minutes * 60,
    )
    return TokenOut(access_token=result.token, user=user_read(result.principal))


@router.post("/auth/login", response_model=TokenOut | MfaNeeded)
def login(
    body: LoginIn, request: Request, response: Response, container: ContainerDep
) -> TokenOut | MfaNeeded:
    """Exchange a user name and password for a token (also set as the console's cookie) — or,
    for a user with two-factor sign-in, for an ``mfa_token`` and the step that completes it."""
    result = container.auth.login(
        username=body.username, password=body.password, client=client_of(request)
    )
    if isinstance(result, MfaChallenge):
        return MfaNeeded(
            mfa=result.step, mfa_token=result.mfa_token, expires_in=result.expires_in_s
        )
    return start_session(response, container, result)


@router.post("/auth/mfa/verify", response_model=TokenOut)
def mfa_verify(
    body: MfaVerifyIn, request: Request, response: Response, container: ContainerDep
) -> TokenOut:
    """Complete a login that answered ``mfa: code``: a code from the authenticator app or a
    recovery code (each works once). Wrong codes count like wrong passwords."""
    result = container.auth.finish_login(
        mfa_token=body.mfa_token, code=body.code, client=client_of(request)
    )
    return start_session(response, container, result)


EnrolToken = Annotated[
    str | None,
    Body(
        embed=True,
        max_length=1000,
        description="After a login that answered ``mfa: enrol``; leave out from a session.",
    ),
]


@dataclass(frozen=True, kw_only=True)
class Enroller:
    principal: Principal
    signing_in: bool
    """Enrolling with the token of a login that is waiting for it (not from a session)."""


def enrolling_user(
    request: Request, container: ContainerDep, mfa_token: EnrolToken = None
) -> Enroller:
    """Who is enrolling: the holder of an enrolment token, or else the session's user."""
    if mfa_token:
        principal = container.auth.mfa_principal(mfa_token, step="enrol")
        return Enroller(principal=principal, signing_in=True)
    return Enroller(principal=get_principal(request, container), signing_in=False)


Enrolling = Annotated[Enroller, Depends(enrolling_user)]


@router.post("/auth/mfa/setup", response_model=MfaSetupOut)
def mfa_setup(user: Enrolling, request: Request, container: ContainerDep) -> MfaSetupOut:
    """Start enrolling an authenticator app: a new secret, waiting for a first code."""
    setup = container.auth.mfa.setup(principal=user.principal, client=client_of(request))
    return MfaSetupOut(secret=setup.secret, otpauth_uri=setup.uri)


@router.post("/auth/mfa/confirm", response_model=MfaConfirmed)
def mfa_confirm(
    user: Enrolling,
    code: Annotated[str, Body(embed=True, min_length=1, max_length=40)],
    request: Request,
    response: Response,
    container: ContainerDep,
) -> MfaConfirmed:
    """Switch two-factor sign-in on with the app's current code; returns the recovery codes
    (once). With an enrolment token the login completes too (token and cookies)."""
    client = client_of(request)
    codes = container.auth.mfa.confirm(principal=user.principal, code=code, client=client)
    if not user.signing_in:
        return MfaConfirmed(recovery_codes=codes)
    result = container.auth.login_verified(
        username=user.principal.username, how="totp-enrol", client=client
    )
    return MfaConfirmed(recovery_codes=codes, login=start_session(response, container, result))


@router.post("/auth/mfa/disable", status_code=status.HTTP_204_NO_CONTENT)
def mfa_disable(
    body: MfaDisableIn, user: CurrentUser, request: Request, container: ContainerDep
) -> None:
    """Switch one's own two-factor sign-in off; needs a current code (or a recovery code)."""
    container.auth.mfa.disable(principal=user, code=body.code, client=client_of(request))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, container: ContainerDep) -> None:
    """End the user's sessions: the token (and every other token of this user) stops working."""
    try:
        user = get_principal(request, container)
    except KupolError:
        user = None  # not logged in (or already out): clearing the cookies is all there is
    if user is not None:
        container.auth.logout(principal=user, client=client_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me", response_model=UserRead)
def me(user: CurrentUser) -> UserRead:
    """The current user, roles and permissions."""
    return user_read(user)


@router.put("/me/locale", response_model=UserRead)
def set_locale(body: LocaleIn, user: CurrentUser, container: ContainerDep) -> UserRead:
    """Choose the console language: ru, kk or en."""
    container.auth.set_locale(principal=user, locale=body.locale)
    return user_read(replace(user, locale=body.locale))


@router.get("/users", response_model=list[UserRead])
def list_users(container: ContainerDep, _: Admin) -> list[UserRead]:
    """Every user (administrators)."""
    return [user_read(p, active) for p, active in container.auth.list_users()]


@router.post("/users", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, container: ContainerDep, admin: Admin) -> UserCreated:
    """Create a user; the password is returned once."""
    principal, password = container.auth.create_user(
        username=body.username,
        password=body.password,
        roles=body.roles,
        full_name=body.full_name,
        locale=body.locale,
        camera_ids=body.camera_ids,
        region_codes=body.region_codes,
        actor=admin,
    )
    return UserCreated(user=user_read(principal), password=password)


@router.put("/users/{username}/scope", response_model=ScopeRead)
def set_scope(username: str, body: ScopeIn, container: ContainerDep, admin: Admin) -> ScopeRead:
    """Replace the cameras and regions a user sees (both empty: every camera); audited."""
    scope = container.auth.scopes.set(
        username=username, camera_ids=body.camera_ids, region_codes=body.region_codes, actor=admin
    )
    return ScopeRead(
        username=username,
        camera_ids=sorted(scope.camera_ids),
        region_codes=sorted(scope.region_codes),
        unknown_camera_ids=container.auth.scopes.missing_cameras(scope.camera_ids),
    )


@router.post("/users/{username}/deactivate", status_code=status.HTTP_204_NO_CONTENT)
def deactivate_user(username: str, container: ContainerDep, admin: Admin) -> None:
    """Disable a user and end their sessions."""
    container.auth.deactivate(username=username, actor=admin)


@router.post("/users/{username}/mfa/reset", status_code=status.HTTP_204_NO_CONTENT)
def reset_mfa(username: str, container: ContainerDep, admin: Admin) -> None:
    """Switch a user's two-factor sign-in off (lost phone and recovery codes) and end their
    sessions; where it is required they enrol again at their next login."""
    container.auth.mfa.reset(username=username, actor=admin)
