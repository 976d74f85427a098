"""Every error leaves the API as an RFC 9457 problem document, mapped here and nowhere else."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kupol.core.errors import KupolError, RateLimitedError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
MAX_INTEGER = 2**63 - 1
"""The largest whole number the databases store (a signed 64-bit integer)."""
NOT_FOUND_PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>404 · kupol</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main class="page"><h1>404</h1>
<p lang="ru">Страница не найдена.</p><p lang="kk">Бет табылмады.</p><p lang="en">Page not found.</p>
<p><a href="/">kupol</a></p></main></body></html>"""
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:kupol:problem:invalid-input"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string", "description": "A stable reason clients may translate."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "The request was refused: an RFC 9457 problem document says why.",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    }
}
"""What every operation may answer besides its success, in OpenAPI terms."""


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str,
    instance: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"urn:kupol:problem:{type_}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    if code:
        body["code"] = code
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_of(exc: KupolError, *, instance: str) -> JSONResponse:
    """The problem a domain error is answered with (server errors logged), wherever it is
    answered: the app's handlers, the screening fast path, the switches' port."""
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    if exc.status >= 500:
        log.error("%s on %s: %s", type(exc).__name__, instance, exc.detail)
    errors = [{"field": p.field, "message": p.message} for p in exc.problems]
    return problem(exc.status, exc.title, exc.detail, type_=exc.type_slug, instance=instance,
                   errors=errors or None, headers=headers, code=exc.code)  # fmt: skip


def field_location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, rest = parts[0], parts[1:]
        return f"{where}:{'.'.join(rest)}" if rest else where
    return ".".join(parts)


def install_problem_handlers(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to problems, and document them.

    The problem responses are documented on every operation of the routers included after
    this call (what ``FastAPI(responses=...)`` does), in place of FastAPI's own 422 schema,
    which kupol's problems do not follow.
    """
    app.router.responses = {**PROBLEM_RESPONSES, **app.router.responses}

    @app.exception_handler(KupolError)
    async def domain_error(request: Request, exc: KupolError) -> JSONResponse:
        return problem_of(exc, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": field_location(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(
            422,
            "Invalid input",
            detail,
            type_="invalid-input",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if (
            exc.status_code == 404
            and not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", "")
        ):
            # A person typed a wrong console address: a page, not a JSON document.
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        return problem(
            exc.status_code,
            _title(exc.status_code),
            str(exc.detail),
            type_=f"http-{exc.status_code}",
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
        return _out_of_range(request, exc)

    @app.exception_handler(StatementError)
    async def unbindable(request: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc.orig, OverflowError):  # a value the database cannot take
            return _out_of_range(request, exc.orig)
        raise exc  # to the server-error handler below, as if this one were not here

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        container = getattr(request.app.state, "container", None)
        if container is not None:
            container.metrics.error("api")
        return problem(
            500,
            "Internal error",
            "an unexpected error occurred; it was logged",
            type_="internal",
            instance=request.url.path,
        )


def _out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
    """A number or a time too large for Python's dates or the database: an id of 10**20
    (SQLite binds 64-bit integers at most), a time on 0001-01-01 east of Greenwich (before the
    first day in UTC), a day 9999-12-31 plus a week. Whatever the code that met it, the
    request carried it: a 422, logged, rather than a 500."""
    params = {**request.path_params, **request.query_params}
    too_big = sorted(name for name, value in params.items() if _beyond_64_bits(str(value)))
    log.warning("out-of-range input on %s: %s", request.url.path, exc)
    where = ", ".join(too_big) or "a number or a date in the request"
    return problem(
        422,
        "Invalid input",
        f"{where}: out of range",
        type_="invalid-input",
        instance=request.url.path,
        errors=[{"field": name, "message": "out of range"} for name in too_big] or None,
        code="out_of_range",
    )


def _beyond_64_bits(text: str) -> bool:
    digits = text.strip().lstrip("+-")
    return digits.isascii() and digits.isdigit() and (len(digits) > 19 or int(digits) > MAX_INTEGER)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
