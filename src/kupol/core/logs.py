"""Logging for a server: plain lines for a person at a terminal, or one JSON object a line
(``[server] log_format = "json"``) for a log shipper — time, level, logger, message, the
exception, and any ``extra`` fields. Either way a filter masks what must never reach a log:
bearer tokens, ``password=…``/``secret=…``/``code=…`` pairs and the like.

Example:
    >>> record = logging.LogRecord("kupol.api", logging.INFO, __file__, 1,
    ...                            "login with Authorization: Bearer abc.def.ghi", None, None)
    >>> Redact().filter(record), record.getMessage()
    (True, 'login with Authorization: Bearer ***')
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

SECRETS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"
    r"|((?:password|passwd|secret|token|access_token|api_key|code)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"'&,;]+"
)
STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
QUIET_LOGGER = "sqlalchemy.engine"
"""Kept at WARNING whatever the server's level (see :func:`log_config`)."""


def _mask(text: str) -> str:
    return SECRETS.sub(lambda m: (m.group(1) or m.group(2) or "") + "***", text)


class Redact(logging.Filter):
    """Masks secrets in a record's message (its arguments merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            entry["exception"] = _mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def log_config(*, fmt: str, level: str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for kupol and uvicorn (``fmt``: text or json)."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "filters": ["redact"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": Redact}},
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"handlers": ["main"], "level": level.upper()},
        "loggers": {
            **{
                name: {"handlers": ["main"], "level": level.upper(), "propagate": False}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            # At DEBUG SQLAlchemy prints every result row (password hashes, phone numbers,
            # plates): a server at DEBUG must not. ``[database] echo`` still logs statements.
            QUIET_LOGGER: {"level": "WARNING"},
        },
    }
