"""The switches' port answers call screening as the API does — same decisions, same problems —
over plain HTTP/1.1 with keep-alive and pipelining, in the API's process and windows."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kupol.antifraud.model import CallDecision
from kupol.antifraud.switchport import MAX_BODY, PATH
from kupol.api.app import create_app
from kupol.bootstrap import Container, build_container
from kupol.settings import Settings
from tests.conftest import add_user, make_settings
from tests.unit.factories import fast_passwords, listing_of

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, str, Container]]:
    """The API (a TestClient) and its switches' port, started by the API as configured."""
    configured = make_settings(
        database_url=settings.database.url, data_dir=tmp_path / "port",
        antifraud={"screen_listen": "127.0.0.1:0"},
    )  # fmt: skip
    container = build_container(configured)
    with TestClient(create_app(container)) as api:
        port = api.app.state.switches.port  # type: ignore[attr-defined]
        yield api, f"http://127.0.0.1:{port}", container


def _token(container: Container, username: str, role: str) -> str:
    _, password = add_user(container, username, role)
    return container.auth.login(username=username, password=password).token


def _headers(token: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


def test_the_port_answers_as_the_api_does(served: tuple[TestClient, str, Container]) -> None:
    api, base, container = served
    switch = _token(container, "kcell", "telecom")
    analyst = _token(container, "cyber", "fraud_analyst")
    cases: list[tuple[dict[str, Any] | bytes, str | None]] = [
        ({"call_id": "P1", "caller": "8 701 123 45 67", "called": "+77021234567"}, switch),
        ({"call_id": "P2", "caller": "hello", "called": "+77021234567"}, switch),
        ({"call_id": "P3", "caller": "+77011234567", "called": "+77021234567"}, None),
        ({"call_id": "P4", "caller": "+77011234567", "called": "+77021234567"}, "not-a-token"),
        ({"call_id": "P5", "caller": "+77011234567", "called": "+77021234567"}, analyst),
        ({"call_id": "P6"}, switch),  # fields missing: 422 naming them
        ({"call_id": "P7", "caller": "+77011234567", "called": "+7702", "imsi": "x"}, switch),
        ({"call_id": "P8", "caller": "+77011234567", "called": "+77021234567",
          "at": "2026-01-01T00:00:00"}, switch),  # no UTC offset
        ({"call_id": "P9", "caller": "+77011234567", "called": "+77021234567",
          "at": "2099-01-01T00:00:00Z"}, switch),  # far ahead: the screen refuses it
    ]  # fmt: skip
    with httpx.Client(base_url=base) as port:
        for body, token in cases:
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            mine = port.post(PATH, content=content, headers=_headers(token))
            # The same call again through the API: call ids differ so both are stored.
            if isinstance(body, dict) and "call_id" in body:
                content = json.dumps({**body, "call_id": body["call_id"] + "-api"}).encode()
            theirs = api.post(PATH, content=content, headers=_headers(token))
            assert mine.status_code == theirs.status_code, (body, mine.text, theirs.text)
            assert mine.headers["content-type"] == theirs.headers["content-type"]
            if mine.status_code == 200:
                answer, expected = mine.json(), theirs.json()
                assert answer.pop("call_id") + "-api" == expected.pop("call_id")
                assert answer == expected
            else:
                assert mine.json()["type"] == theirs.json()["type"]
                fields = {e["field"] for e in mine.json().get("errors", [])}
                assert fields == {e["field"] for e in theirs.json().get("errors", [])}
        for content, status in [
            (b"{not json", 422),
            (b'{"pad": "' + b"x" * (MAX_BODY + 10) + b'"}', 413),
        ]:
            assert port.post(PATH, content=content, headers=_headers(switch)).status_code == status
        other = port.post("/api/antifraud/calls/summary", headers=_headers(switch))
        assert other.status_code == 404
        assert port.get(PATH, headers=_headers(switch)).status_code == 405
    assert container.metrics.registry.get_sample_value(
        "kupol_decisions_total", {"kind": "call_allow"}
    )


def test_the_port_shares_the_apis_windows(served: tuple[TestClient, str, Container]) -> None:
    """Fan-out counted over calls that came through both: one screen, one process."""
    api, base, container = served
    switch = _token(container, "kcell", "telecom")
    caller = "+77011112233"
    with httpx.Client(base_url=base) as port:
        for n in range(5):
            call = {"call_id": f"W{n}", "caller": caller, "called": f"+7702{n:07d}"}
            assert port.post(PATH, json=call, headers=_headers(switch)).status_code == 200
    for n in range(5, 12):
        call = {"call_id": f"W{n}", "caller": caller, "called": f"+7702{n:07d}"}
        answer = api.post(PATH, json=call, headers=_headers(switch)).json()
    assert "fan_out" in {r["code"] for r in answer["reasons"]}


def test_a_caller_caught_on_the_port_is_listed_by_the_decisions_process(
    served: tuple[TestClient, str, Container],
) -> None:
    """The entry a call earns is stored with its decision by the decisions' process (no
    thread of the API's holds the database's write lock meanwhile), audited, and in force."""
    _, base, container = served
    switch = _token(container, "kcell", "telecom")
    caller = "+77757770000"
    with httpx.Client(base_url=base) as port:
        for i in range(25):  # an unknown number ringing 25 people in a minute
            call = {"call_id": f"D{i}", "caller": caller, "called": f"+7701700{i:04d}"}
            answer = port.post(PATH, json=call, headers=_headers(switch))
            assert answer.status_code == 200, answer.text
        assert answer.json()["verdict"] == "block"
        call = {"call_id": "E", "caller": caller, "called": "+77017770000"}
        again = port.post(PATH, json=call, headers=_headers(switch))
    assert "block_list" in {r["code"] for r in again.json()["reasons"]}
    writer = container.antifraud.calls._process_writer
    assert writer is not None and writer._sent == 26  # every decision, the listing one too
    entry, audited, decisions = listing_of(container, caller)
    assert entry is not None and entry.added_by == "screening"
    assert entry.source.startswith("auto: fan_out_heavy")
    assert audited == ["screening"]
    assert sorted(decisions) == sorted([f"D{i}" for i in range(25)] + ["E"])
    assert container.audit.verify().ok


def test_a_batch_through_the_api_that_catches_a_caller_is_stored_by_the_process(
    served: tuple[TestClient, str, Container],
) -> None:
    """The batch endpoint, while the decisions' process serves the loop: the request's
    decisions and the listing they earn go to it together."""
    api, _, container = served
    switch = _token(container, "kcell", "telecom")
    caller = "+77757772222"
    calls = [
        {"call_id": f"G{i}", "caller": caller, "called": f"+7701900{i:04d}"} for i in range(25)
    ]
    answer = api.post("/api/antifraud/calls/screen-batch", json={"calls": calls},
                      headers=_headers(switch))  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][-1]["verdict"] == "block"
    writer = container.antifraud.calls._process_writer
    assert writer is not None and writer._sent == 25
    entry, audited, _ = listing_of(container, caller)
    assert entry is not None and entry.added_by == "screening"
    assert audited == ["screening"]


def _read_answers(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    data = b""
    answers: list[tuple[int, bytes]] = []
    while len(answers) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))  # fmt: skip
            if len(rest) < length:
                break
            answers.append((int(head.split(b" ")[1]), rest[:length]))
            data = rest[length:]
    return answers


def _request(token: str, call_id: str, *, close: bool = False) -> bytes:
    body = json.dumps({"call_id": call_id, "caller": "+77015556677", "called": "+77021234567"})
    return (
        f"POST {PATH} HTTP/1.1\r\nHost: kupol\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        + ("Connection: close\r\n" if close else "")
        + f"\r\n{body}"
    ).encode()


def test_pipelined_requests_are_answered_in_order_and_close_is_honoured(
    served: tuple[TestClient, str, Container],
) -> None:
    _, base, container = served
    switch = _token(container, "kcell", "telecom")
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        ids = [f"Q{n}" for n in range(20)]
        sock.sendall(b"".join(_request(switch, i) for i in ids))  # one write, twenty requests
        answers = _read_answers(sock, len(ids))
        assert [s for s, _ in answers] == [200] * len(ids)
        assert [json.loads(b)["call_id"] for _, b in answers] == ids
        # a request pipelined after the one that asks to close is neither answered nor judged
        sock.sendall(_request(switch, "last", close=True) + _request(switch, "ghost"))
        assert [json.loads(b)["call_id"] for _, b in _read_answers(sock, 1)] == ["last"]
        assert sock.recv(10) == b""  # closed after it, as asked
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answers = _read_answers(sock, 1)
        assert answers and answers[0][0] == 400
        assert sock.recv(10) == b""
    with httpx.Client(base_url=base) as client:  # the port still answers
        call = {"call_id": "after", "caller": "+77015556677", "called": "+77021234567"}
        assert client.post(PATH, json=call, headers=_headers(switch)).status_code == 200
    with container.db.reader() as session:
        stored = set(session.scalars(select(CallDecision.call_id)))
    assert {"last", "after"} <= stored
    assert "ghost" not in stored


def test_a_switch_that_hangs_up_with_calls_in_flight_loses_none_of_them(
    served: tuple[TestClient, str, Container], caplog: pytest.LogCaptureFixture
) -> None:
    """A switch that gives up on a connection (its own time-out) with twenty pipelined calls
    unanswered: every call the port read is still decided and stored — the windows and the
    record must not depend on whether the answer could be delivered — nothing is logged as a
    failure, and the port goes on answering."""
    _, base, container = served
    switch = _token(container, "kcell", "telecom")
    port = int(base.rsplit(":", 1)[1])
    ids = [f"H{n}" for n in range(20)]
    caplog.set_level(logging.WARNING)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"".join(_request(switch, i) for i in ids))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # closed at once with a reset, before any answer was read
    stored: set[str] = set()
    deadline = time.monotonic() + 10
    while not set(ids) <= stored and time.monotonic() < deadline:
        time.sleep(0.05)
        with container.db.reader() as session:
            stored = set(session.scalars(select(CallDecision.call_id)))
    assert set(ids) <= stored
    with httpx.Client(base_url=base) as client:
        call = {"call_id": "after-hangup", "caller": "+77015556677", "called": "+77021234567"}
        assert client.post(PATH, json=call, headers=_headers(switch)).status_code == 200
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not failures, [r.getMessage() for r in failures]


def test_pipelined_calls_do_not_wait_for_each_others_commit(
    served: tuple[TestClient, str, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty calls in one write are decided together: each one's storing is under way before
    the one ahead of it is stored (one at a time, a connection would carry one call a commit);
    the answers still leave in the order the calls came though the later ones are stored
    first, and every decision is stored by the decisions' process."""
    _, base, container = served
    calls = container.antifraud.calls
    writer = calls._process_writer
    assert writer is not None  # a SQLite file or PostgreSQL: a process of its own stores
    store = calls._store_async
    storing = 0
    most = 0

    async def slow_store(rows: list[dict[str, Any]]) -> None:
        nonlocal storing, most
        storing += 1
        most = max(most, storing)
        # the later the call, the sooner its storing ends: answers must still keep their order
        await asyncio.sleep(0.05 * (20 - int(rows[0]["call_id"][1:])) / 20)
        await store(rows)
        storing -= 1

    monkeypatch.setattr(calls, "_store_async", slow_store)
    switch = _token(container, "kcell", "telecom")
    port = int(base.rsplit(":", 1)[1])
    ids = [f"C{n}" for n in range(20)]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"".join(_request(switch, i) for i in ids))
        answers = _read_answers(sock, len(ids))
    assert [json.loads(b)["call_id"] for _, b in answers] == ids
    assert most == len(ids)
    assert writer.batches >= 1
    with container.db.reader() as session:
        stored = set(session.scalars(select(CallDecision.call_id)))
    assert set(ids) <= stored


def test_stopping_answers_what_was_read_and_closes_idle_connections(
    served: tuple[TestClient, str, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, base, container = served
    calls = container.antifraud.calls
    store = calls._store_async
    read = 0

    async def slow_store(rows: list[dict[str, Any]]) -> None:
        nonlocal read
        read += 1
        await asyncio.sleep(0.3)  # still being stored when the port stops
        await store(rows)

    monkeypatch.setattr(calls, "_store_async", slow_store)
    switch = _token(container, "kcell", "telecom")
    port = int(base.rsplit(":", 1)[1])
    switches = api.app.state.switches  # type: ignore[attr-defined]
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as idle,
        socket.create_connection(("127.0.0.1", port), timeout=10) as busy,
    ):
        idle.sendall(_request(switch, "S0"))
        assert [json.loads(b)["call_id"] for _, b in _read_answers(idle, 1)] == ["S0"]
        busy.sendall(b"".join(_request(switch, f"S{n}") for n in range(1, 6)))
        deadline = time.monotonic() + 5
        while read < 6 and time.monotonic() < deadline:  # S0 and the five are read
            time.sleep(0.01)
        started = time.monotonic()
        api.portal.call(switches.stop)  # type: ignore[union-attr]
        assert time.monotonic() - started < 5  # keep-alive connections do not hold it up
        assert idle.recv(10) == b""  # closed
        answers = _read_answers(busy, 5)  # what was read before the stop is answered
        assert [json.loads(b)["call_id"] for _, b in answers] == [f"S{n}" for n in range(1, 6)]
        assert busy.recv(10) == b""
