"""Secrets are never logged: with every logger at DEBUG (as a server at ``log_level =
"debug"`` sets them), logging in (right and wrong password), a citizen's texted code and
sign-in, requests with a Bearer token, creating users and issuing one a signing key leave
no password, password hash, token, code, key or the app's secret in any log record (as
logged: before the server's ``Redact`` filter masks anything), nor in the audit log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kupol.bootstrap import Container, token_secret
from kupol.core.audit import AuditEntry
from kupol.core.auth import User
from kupol.core.logs import log_config
from tests.conftest import add_user, login
from tests.integration.test_citizens import DEVICE
from tests.unit.factories import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PHONE = "+77011234567"


@contextmanager
def logging_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every logger at DEBUG as a server at ``log_level = "debug"`` sets them — those its
    logging config pins keep their level — all captured, those that do not propagate too."""
    pinned = {n: c["level"] for n, c in log_config(fmt="text", level="debug")["loggers"].items()}
    caplog.set_level(logging.DEBUG)
    names = {*logging.root.manager.loggerDict, *pinned}
    loggers = [logging.getLogger(name) for name in names]
    saved = {lg: lg.level for lg in loggers}
    for lg in loggers:
        pin = next((p for p in pinned if lg.name == p or lg.name.startswith(p + ".")), None)
        lg.setLevel(logging.DEBUG if pin is None else pinned[lg.name] if pin == lg.name else 0)
    aside = [lg for lg in loggers if not lg.propagate]
    for lg in aside:
        lg.addHandler(caplog.handler)
    try:
        yield
    finally:
        for lg in aside:
            lg.removeHandler(caplog.handler)
        for lg, level in saved.items():
            lg.setLevel(level)


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def logged(records: list[logging.LogRecord]) -> str:
    """All that the records hold: message, arguments, extras and tracebacks (not times)."""
    formatter = logging.Formatter()
    parts = []
    for record in records:
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        parts += [record.getMessage(), repr(record.msg), repr(record.args), repr(extras)]
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
    return "\n".join(parts)


def key_material(container: Container) -> list[str]:
    """The app's secret and the lines of every key file under the data folder."""
    secret = token_secret(container.settings)
    found = [secret.decode(), secret.hex()]
    for path in container.settings.data_dir.rglob("*"):
        if path.is_file() and (path.suffix in (".key", ".pem") or "key" in path.name):
            lines = path.read_text(errors="replace").splitlines()
            found += [ln.strip() for ln in lines if len(ln.strip()) >= 16 and "-----" not in ln]
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_secret_reaches_the_logs_or_the_audit_log(
    api: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    _, password = add_user(container, "boss", "admin")
    secrets: dict[str, str] = {"password": password}
    with logging_at_debug(caplog):
        wrong = api.post("/api/auth/login", json={"username": "boss", "password": "Wr0ng-pass-77"})
        assert wrong.status_code == 401
        secrets["wrong password"] = "Wr0ng-pass-77"
        headers = login(api, "boss", password)
        api.cookies.clear()
        secrets["token"] = headers["Authorization"].removeprefix("Bearer ")
        assert api.get("/api/me", headers=headers).status_code == 200
        made = api.post(
            "/api/users",
            headers=headers,
            json={"username": "olga", "roles": ["traffic_officer"], "password": "Olga-pass-1"},
        )
        assert made.status_code == 201, made.text
        secrets["new user's password"] = "Olga-pass-1"
        issued = api.post("/api/certificates/olga", json={}, headers=headers)  # a key on disk
        assert issued.status_code == 201, issued.text
        generated = api.post(
            "/api/users", headers=headers, json={"username": "timur", "roles": ["analyst"]}
        )
        secrets["generated password"] = generated.json()["password"]

        sent = api.post("/api/citizen/code", json={"phone": PHONE, "device_id": DEVICE})
        assert sent.status_code == 200, sent.text
        code = re.search(r"\d{6}", container.citizens.sms.last_to(PHONE) or "")
        assert code is not None
        secrets["code"] = code.group()
        wrong_code = f"{(int(code.group()) + 1) % 1_000_000:06d}"
        refused = api.post(
            "/api/citizen/login", json={"phone": PHONE, "code": wrong_code, "device_id": DEVICE}
        )
        assert refused.status_code in (401, 422), refused.text
        secrets["wrong code"] = wrong_code
        citizen = api.post(
            "/api/citizen/login", json={"phone": PHONE, "code": code.group(), "device_id": DEVICE}
        )
        assert citizen.status_code == 200, citizen.text
        secrets["citizen's token"] = citizen.json()["access_token"]
        api.cookies.clear()
        mine = {"Authorization": "Bearer " + secrets["citizen's token"]}
        assert api.get("/api/citizen/reports", headers=mine).status_code == 200

    assert len(caplog.records) > 0, "nothing was logged: the capture is not working"
    keys = key_material(container)
    assert len(keys) > 2, "the signing keys were not found on disk"
    secrets.update({f"key material {n}": line for n, line in enumerate(keys)})
    with container.db.reader() as session:
        entries = session.scalars(select(AuditEntry)).all()
        hashes = session.scalars(select(User.password_hash)).all()
    secrets.update({f"password hash {n}": h for n, h in enumerate(hashes)})
    audited = "\n".join(
        repr((e.actor, e.action, e.resource_type, e.resource_id, e.purpose, e.details))
        for e in entries
    )
    assert len(entries) >= 6, "logins, failures and user changes should be audited"
    text = logged(caplog.records)
    leaks = [f"{what} in the logs" for what, value in secrets.items() if value in text]
    leaks += [f"{what} in the audit log" for what, value in secrets.items() if value in audited]
    assert not leaks, leaks


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_error_names_no_value_it_was_given(container: Container) -> None:
    # A failed statement's message is logged with the traceback; its values (a password
    # hash, a phone number) must not be in it.
    with pytest.raises(DBAPIError) as raised, container.db.engine.connect() as connection:
        connection.execute(text("select no_such_column, :value"), {"value": "Hash-of-a-pass"})
    assert "no_such_column" in str(raised.value)
    assert "Hash-of-a-pass" not in str(raised.value)
