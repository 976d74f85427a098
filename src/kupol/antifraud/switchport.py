"""The switches' port: call screening over plain HTTP/1.1 on a port of its own.

An operator's switch asks about every call attempt, thousands a second, and waits for the
answer before it connects the call. The API answers the same request
(``POST /api/antifraud/calls/screen``), but through the general web stack — routing,
middleware, the ASGI messages of every request — which costs more than the screening
itself. This port serves that one request and nothing else, in the API's own process and
event loop (so both see the same sliding windows and lists), with the HTTP parser uvicorn
uses (``httptools``) and the API's answers: the same JSON for a decision, the same problem
documents for an error (401 without a valid token, 403 without the permission, 413 over
64 KiB, 422 with the invalid fields, 503 when the decision cannot be stored, 404 for any
other path). Keep-alive and pipelining as HTTP/1.1 has them: answers leave in the order
the requests came.

Started with the API when ``[antifraud] screen_listen`` is set (``kupol serve``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, cast

import httptools
from pydantic import ValidationError

from kupol.antifraud.api import ANSWER_JSON, CallIn, screen_one
from kupol.api.problems import field_location, problem, problem_of
from kupol.core.auth import Permission
from kupol.core.errors import AuthenticationError, KupolError, PermissionDeniedError

log = logging.getLogger(__name__)

PATH = "/api/antifraud/calls/screen"
MAX_BODY = 64 * 1024
_PIPELINED = 64  # requests waiting on one connection before it stops reading
_REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 403: b"Forbidden",
            404: b"Not Found", 405: b"Method Not Allowed", 413: b"Content Too Large",
            422: b"Unprocessable Content", 500: b"Internal Server Error",
            503: b"Service Unavailable"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: bytes = b"application/json"


@dataclass(slots=True)
class _Request:
    method: bytes
    path: str
    token: str | None
    body: bytes
    too_big: bool
    keep_alive: bool


def _problem(status: int, title: str, detail: str, type_: str, **extra: Any) -> Answer:
    response = problem(status, title, detail, type_=type_, instance=PATH, **extra)
    return Answer(status, bytes(response.body), b"application/problem+json")


class ScreeningPort:
    """The port's server (see the module); ``container`` is the API's."""

    def __init__(self, container: Any) -> None:
        self._container = container
        self._server: asyncio.Server | None = None
        self.connections: set[_Connection] = set()
        self._all_closed: asyncio.Event | None = None  # set when stopping and none is left

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), host, port, reuse_address=True
        )
        log.info("call screening for switches on http://%s:%d%s", host, port, PATH)

    @property
    def port(self) -> int:
        """The port it listens on (the one the system chose, when asked for 0)."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self, wait_s: float = 10.0) -> None:
        """Stop taking connections and requests; the requests already read are answered and
        each connection closed after its last answer (or after ``wait_s``)."""
        if self._server is not None:
            self._server.close()
            self._all_closed = asyncio.Event()
            for connection in list(self.connections):
                connection.finish()
            if not self.connections:
                self._all_closed.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_closed.wait(), wait_s)
            for connection in list(self.connections):
                connection.abort()
            # (from Python 3.12.1 this waits for every connection to be closed, as above)
            await self._server.wait_closed()
            self._server = None

    async def answer(self, request: _Request) -> Answer:
        """What the API would answer to ``request``."""
        if request.path != PATH:
            return _problem(404, "Not found", f"only {PATH} is served on this port", "not-found")
        if request.method != b"POST":
            return _problem(405, "Method not allowed", "POST a call attempt", "method-not-allowed")
        if request.too_big:
            return _problem(413, "Content too large", f"at most {MAX_BODY} bytes",
                            "content-too-large")  # fmt: skip
        container = self._container
        try:
            if request.token is None:
                raise AuthenticationError("a Bearer token is required")
            actor = container.auth.authenticate(request.token)
            if not actor.can(Permission.CALLS_SCREEN):
                raise PermissionDeniedError(f"missing permission {Permission.CALLS_SCREEN.value}")
            try:
                call = CallIn.model_validate_json(request.body)
            except ValidationError as exc:
                errors = [{"field": field_location(("body", *e["loc"])), "message": e["msg"]}
                          for e in exc.errors()]  # fmt: skip
                detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
                return _problem(422, "Invalid input", detail, "invalid-input", errors=errors)
            answer = await screen_one(container, actor, call)
        except TimeoutError as exc:
            return _problem(503, "Service unavailable", str(exc), "service-unavailable")
        except KupolError as exc:
            response = problem_of(exc, instance=PATH)
            return Answer(exc.status, bytes(response.body), b"application/problem+json")
        body = ANSWER_JSON.encode(answer)
        return Answer(200, body.encode())


class _Connection(asyncio.Protocol):
    """One switch's connection: each request is answered as soon as it has been read — those
    pipelined behind it do not wait for its decision to be stored (a connection would carry
    only one call per commit) — and the answers leave in the order the requests came."""

    def __init__(self, port: ScreeningPort) -> None:
        self._port = port
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        # the requests being answered, oldest first, with whether to keep the connection
        self._waiting: collections.deque[tuple[asyncio.Future[Answer], bool]] = collections.deque()
        self._paused = False
        self._last_read = False  # a request asked for the connection to close after it
        self._closing = False  # the port is stopping
        self._url = b""
        self._token: str | None = None
        self._body: list[bytes] = []
        self._size = 0

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = cast(asyncio.Transport, transport)
        self._port.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._port.connections.discard(self)
        if self._port._all_closed is not None and not self._port.connections:
            self._port._all_closed.set()
        self._transport = None
        # the calls already read are still decided and stored; only their answers are lost
        self._waiting.clear()

    def data_received(self, data: bytes) -> None:
        if self._last_read:  # after "Connection: close" or a malformed request: dropped
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._last_read:  # bytes after a request that closes the connection
                return
            # answered 400 after the requests before it, then the connection is closed
            answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
            answer.set_result(_problem(400, "Bad request", "malformed HTTP request", "bad-request"))
            self._waiting.append((answer, False))
            self._last_read = True
            if self._transport is not None:
                self._transport.pause_reading()
            self._answered(answer)

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._token = None
        self._body = []
        self._size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                self._token = text[7:].strip() or None

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= MAX_BODY:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self._last_read:  # pipelined after "Connection: close": not read, not judged
            return
        path = self._url.split(b"?", 1)[0].decode("latin-1")
        request = _Request(
            method=self._parser.get_method(),
            path=path,
            token=self._token,
            body=b"".join(self._body),
            too_big=self._size > MAX_BODY,
            keep_alive=self._parser.should_keep_alive(),
        )
        # Tasks start in the order they are created: calls are judged in the order they came.
        task = asyncio.get_running_loop().create_task(self._port.answer(request))
        self._waiting.append((task, request.keep_alive))
        task.add_done_callback(self._answered)
        if not request.keep_alive and self._transport is not None:
            self._last_read = True
            self._transport.pause_reading()
        elif len(self._waiting) >= _PIPELINED and self._transport is not None:
            self._transport.pause_reading()
            self._paused = True

    def finish(self) -> None:
        """Read no more requests; close once the ones read are answered."""
        self._last_read = True
        self._closing = True
        if self._transport is not None:
            self._transport.pause_reading()
            if not self._waiting:
                self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # -- answering
    def _answered(self, _: asyncio.Future[Answer]) -> None:
        """Write every answer that is ready and has no earlier request still waiting."""
        waiting = self._waiting
        while waiting and waiting[0][0].done() and self._transport is not None:
            task, keep_alive = waiting.popleft()
            if task.cancelled():
                answer = _problem(503, "Service unavailable", "the server is stopping",
                                  "service-unavailable")  # fmt: skip
            elif (failure := task.exception()) is not None:
                # a bug: the switch hears 500, the next request is answered
                log.error("the switches' port failed on a request", exc_info=failure)
                answer = _problem(500, "Internal error", "see the server log", "internal")
            else:
                answer = task.result()
            self._write(answer, keep_alive=keep_alive and not (self._closing and not waiting))
        if (
            self._paused
            and not self._last_read
            and len(waiting) < _PIPELINED // 2
            and self._transport is not None
        ):
            self._transport.resume_reading()
            self._paused = False

    def _write(self, answer: Answer, *, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None:
            return
        head = (
            b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n"
            % (answer.status, _REASONS.get(answer.status, b"Error"), answer.content_type,
               len(answer.body))
        )  # fmt: skip
        if not keep_alive:
            head += b"connection: close\r\n"
        transport.write(head + b"\r\n" + answer.body)
        if not keep_alive:
            transport.close()
            self._transport = None
