"""The API against its own OpenAPI spec (schemathesis): for every operation, generated requests
(valid and invalid, and the spec's examples) never get a server error, and every answer —
success or problem — has a documented status, content type and body schema. SQLite only;
hypothesis is derandomized, so a run replays exactly and a failure names a curl command.

One staff user holds every role but the citizen's; the citizens' portal (/api/citizen/*) is
called with a citizen's token. Operations left out, and why, are in ``EXCLUDED``.

The operations are fuzzed in one test rather than through schemathesis's pytest plugin: its
fixture-based loader (``schemathesis.pytest.from_fixture``) renames the test node through an
attribute pytest 9 no longer has, and the app needs the test's SQLite database.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import kupol.core.auth.service as auth_service
from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.core.auth import Role
from tests.conftest import add_user, login, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_EXAMPLES = int(os.environ.get("KUPOL_FUZZ_EXAMPLES", "12"))
"""Requests per operation (12 keeps make test fast); KUPOL_FUZZ_EXAMPLES=150 digs deeper (about
8 minutes)."""
ONLY = re.compile(os.environ.get("KUPOL_FUZZ_ONLY", ""))
"""Operations fuzzed: those whose "METHOD /path" this matches (KUPOL_FUZZ_ONLY=/helpers)."""
STAFF_ROLES = tuple(role.value for role in Role if role is not Role.CITIZEN)
"""Every role but the citizen's: the staff's, and the machines' (devices, banks, telecoms,
scooter operators, monitors), so that each operation's checks are passed and its work reached."""
EXCLUDED: dict[tuple[str, str], str] = {
    ("GET", "/api/stream"): "server-sent events: the stream never ends",
    ("GET", "/api/cameras/{camera_id}/live.mjpeg"): "MJPEG: the stream never ends",
    ("POST", "/api/auth/logout"): "ends every session of the fuzzing user, its token included",
}
"""(method, path) → why the operation is not fuzzed."""


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[FastAPI, Container]]:
    """The app on a SQLite database of its own, shared by every operation's test."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, root / "kupol.sqlite")
    with pytest.MonkeyPatch.context() as patch:
        # Users made while fuzzing (POST /api/users) would otherwise cost a second each.
        patch.setattr(
            auth_service,
            "PasswordHasher",
            lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        )
        container = build_container(
            make_settings(database_url=f"sqlite:///{root / 'kupol.sqlite'}", data_dir=root / "data")
        )
        app = create_app(container)
        yield app, container
    asgi.shutdown_lifespans()
    container.db.dispose()


@pytest.fixture(scope="module")
def tokens(fuzzed: tuple[FastAPI, Container]) -> dict[str, dict[str, str]]:
    """Bearer headers of the staff user and of a citizen."""
    from tests.integration.test_citizens import DEVICE

    app, container = fuzzed
    # schemathesis's own ASGI client: the app's lifespan starts once, for every request.
    with asgi.get_client(app) as client:
        _, password = add_user(container, "fuzz-staff", *STAFF_ROLES)
        staff = login(client, "fuzz-staff", password)
        sent = client.post("/api/citizen/code", json={"phone": "+77015550101", "device_id": DEVICE})
        text = container.citizens.sms.last_to(sent.json()["phone"]) or ""
        code = re.search(r"\d{6}", text)
        assert code is not None
        body = {"phone": "+77015550101", "code": code.group(), "device_id": DEVICE}
        got = client.post("/api/citizen/login", json=body)
        citizen = {"Authorization": "Bearer " + got.json()["access_token"]}
    return {"staff": staff, "citizen": citizen}


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance,
          content_type_conformance]  # fmt: skip


def fuzz(operation: APIOperation, headers: dict[str, str]) -> str | None:
    """Fuzz one operation; the first failure's report, or None."""
    strategies = [
        *operation.schema.get_strategies_from_examples(operation),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(st.one_of(strategies))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except FailureGroup as exc:  # the checks' failures, with a curl command to replay one
        return str(exc)[:3000]
    except Exception as exc:  # the app's own exception, raised through the test client
        return "".join(traceback.format_exception(exc, limit=-4))[-3000:]
    return None


def test_every_operation_answers_as_documented_and_never_fails(
    fuzzed: tuple[FastAPI, Container], tokens: dict[str, dict[str, str]]
) -> None:
    app, _ = fuzzed
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    failures: dict[str, str] = {}
    timings: dict[str, float] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED or not ONLY.search(
            operation.label
        ):
            continue
        who = "citizen" if operation.path.startswith("/api/citizen/") else "staff"
        started = time.monotonic()
        failure = fuzz(operation, tokens[who])
        timings[operation.label] = time.monotonic() - started
        if failure is not None:
            failures[operation.label] = failure
    slowest = sorted(timings.items(), key=lambda t: -t[1])[:10]
    print("slowest:", *(f"{label} {s:.1f}s" for label, s in slowest), sep="\n  ")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(
        f"== {label}\n{text}" for label, text in failures.items()
    )
