"""A short way through the web stack for the one request that comes hundreds of times a
second: a switch's ``POST /api/antifraud/calls/screen`` with a Bearer token.

The wrapper sits in front of the whole app (ASGI). For that request it checks the token
(remembered for two seconds, :meth:`AuthService.authenticate`), validates the body with the
endpoint's own model (``CallIn``, pydantic's compiled validator), screens the call and waits
for its group commit, and answers exactly what the endpoint answers — without the router's
matching over every route, the dependency solver and the thread hand-offs. Whatever it cannot
answer (no Bearer token, a body over 64 KiB, bad JSON, invalid fields, a bad token, a missing
permission, an attempt the screen refuses) it passes to the regular endpoint with the body
replayed, which answers it as it answers any request: errors keep one format and one place.
Nothing is decided twice: the screen refuses an attempt before it changes any state; a
decision made but not stored (the database failing) is answered here as the problem
handlers would answer it (503).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from kupol.antifraud.api import ANSWER_JSON, CallIn, screen_one
from kupol.api.problems import problem, problem_of
from kupol.core.auth import Permission
from kupol.core.errors import (
    AuthenticationError,
    InvalidInputError,
    KupolError,
    PermissionDeniedError,
)

PATH = "/api/antifraud/calls/screen"
MAX_BODY = 64 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class ScreenFastPath:
    """ASGI wrapper (see the module)."""

    def __init__(self, app: App, container: Any) -> None:
        self.app = app
        self._container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        body, more = await _read(receive)
        if token is None or more:
            await self.app(scope, _replay(body, more, receive), send)
            return
        answer = await self._screen(token, body)
        if answer is None:
            await self.app(scope, _replay(body, False, receive), send)
            return
        if isinstance(answer, Response):  # the decision was made, storing it failed
            await answer(scope, receive, send)
            return
        payload = ANSWER_JSON.encode(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _screen(self, token: str, body: bytes) -> dict[str, Any] | Response | None:
        container = self._container
        try:
            actor = container.auth.authenticate(token)
            if not actor.can(Permission.CALLS_SCREEN):
                return None
            call = CallIn.model_validate_json(body)
        except (AuthenticationError, PermissionDeniedError, ValidationError, ValueError):
            return None
        try:
            return await screen_one(container, actor, call)
        except InvalidInputError:  # refused before any state changed: let the endpoint say so
            return None
        except TimeoutError as exc:
            return problem(503, "Service unavailable", str(exc), type_="service-unavailable",
                           instance=PATH)  # fmt: skip
        except KupolError as exc:  # as the problem handlers map it for the regular endpoint
            return problem_of(exc, instance=PATH)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                return text[7:].strip() or None
            return None
    return None


async def _read(receive: Receive) -> tuple[bytes, bool]:
    """The body, and whether more was left unread (over ``MAX_BODY``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False
        if size > MAX_BODY:
            return b"".join(chunks), True


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` first, then (when ``more``) the rest as it comes."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()  # the rest of the body, or http.disconnect when the client goes

    return replayed
