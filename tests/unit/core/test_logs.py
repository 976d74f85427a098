"""Server logs: JSON lines with the extra fields, and secrets masked in either format."""

from __future__ import annotations

import doctest
import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from kupol.core import logs as module
from kupol.core.logs import log_config


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """dictConfig changes the root and uvicorn's loggers: put them back for later tests."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", module.QUIET_LOGGER)
    saved = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).level,
                 logging.getLogger(n).propagate) for n in names}  # fmt: skip
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(module).failed == 0


def test_json_lines_carry_the_fields_and_no_secret() -> None:
    stream = io.StringIO()
    config = log_config(fmt="json", level="debug")
    config["handlers"]["main"]["stream"] = stream
    logging.config.dictConfig(config)
    log = logging.getLogger("kupol.test")
    log.info("login for %s with password=%s", "olga", "hunter2", extra={"camera": "ast-1"})
    try:
        raise ValueError("token=abc123 refused")
    except ValueError:
        log.exception("failed with Authorization: Bearer eyJ.x.y")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "login for olga with password=***"
    assert lines[0]["camera"] == "ast-1" and lines[0]["level"] == "info"
    assert "hunter2" not in stream.getvalue() and "eyJ.x.y" not in stream.getvalue()
    assert "abc123" not in lines[1]["exception"] and lines[1]["logger"] == "kupol.test"


def test_text_lines_are_masked_too() -> None:
    stream = io.StringIO()
    config = log_config(fmt="text", level="info")
    config["handlers"]["main"]["stream"] = stream
    logging.config.dictConfig(config)
    logging.getLogger("kupol.sms").info("code: 123456 sent to +7701***4567")
    assert "123456" not in stream.getvalue() and "code: ***" in stream.getvalue()
