"""Domain exceptions, mapped once: to RFC 9457 problems in the API, to exit codes in the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class FieldProblem:
    """One invalid input value: where it is and what is wrong with it."""

    field: str
    message: str


class KupolError(Exception):
    """Base of every error kupol raises on purpose."""

    status = 500
    title = "Internal error"
    exit_code = 1

    def __init__(
        self, detail: str, *, problems: Sequence[FieldProblem] = (), code: str | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = tuple(problems)
        self.code = code
        """A stable machine-readable reason (e.g. ``no_face``) clients may translate."""

    @property
    def type_slug(self) -> str:
        """A stable, URL-friendly name of the error kind (the problem's ``type``)."""
        name = type(self).__name__.removesuffix("Error")
        return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


class ConfigError(KupolError):
    status = 500
    title = "Invalid configuration"
    exit_code = 3


class InvalidInputError(KupolError):
    status = 422
    title = "Invalid input"
    exit_code = 2


class NotFoundError(KupolError):
    status = 404
    title = "Not found"
    exit_code = 4


class ConflictError(KupolError):
    status = 409
    title = "Conflict"
    exit_code = 5


class AuthenticationError(KupolError):
    status = 401
    title = "Not authenticated"
    exit_code = 6


class PermissionDeniedError(KupolError):
    status = 403
    title = "Permission denied"
    exit_code = 6


class StorageFullError(KupolError):
    """The disk (or quota) a store writes to is full: nothing was kept."""

    status = 507
    title = "Insufficient storage"
    exit_code = 8


class PurposeRequiredError(KupolError):
    status = 428
    title = "Purpose required"
    exit_code = 2


class RateLimitedError(KupolError):
    status = 429
    title = "Too many requests"
    exit_code = 7

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class ServiceUnavailableError(KupolError):
    status = 503
    title = "Service unavailable"
    exit_code = 8


class SourceError(KupolError):
    """A camera or video source cannot be opened or read."""

    status = 422
    title = "Source unavailable"
    exit_code = 9
