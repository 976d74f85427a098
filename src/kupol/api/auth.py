"""Login, logout, the current user, and user management."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
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
from kupol.core.auth import Permission, Principal
from kupol.core.errors import KupolError

router = APIRouter(prefix="/api", tags=["auth"])
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


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    user: UserRead


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str
    full_name: str = ""
    roles: list[str] = Field(min_length=1)
    locale: str = "ru"
    camera_ids: list[str] = Field(
        default_factory=list,
        description="Devices: the cameras they may submit events for (empty: any).",
    )
    password: str | None = Field(None, description="Leave out to have one generated.")


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


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, request: Request, response: Response, container: ContainerDep) -> TokenOut:
    """Exchange a user name and password for a token (also set as the console's cookie)."""
    result = container.auth.login(
        username=body.username, password=body.password, client=client_of(request)
    )
    security = container.settings.security
    set_session_cookies(
        response,
        token=result.token,
        secure=security.cookie_secure,
        max_age=security.token_ttl_minutes * 60,
    )
    return TokenOut(access_token=result.token, user=user_read(result.principal))


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
        actor=admin,
    )
    return UserCreated(user=user_read(principal), password=password)


@router.post("/users/{username}/deactivate", status_code=status.HTTP_204_NO_CONTENT)
def deactivate_user(username: str, container: ContainerDep, admin: Admin) -> None:
    """Disable a user and end their sessions."""
    container.auth.deactivate(username=username, actor=admin)
