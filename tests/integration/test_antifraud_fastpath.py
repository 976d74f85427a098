"""The short way for switches' screening requests: it answers what the endpoint answers, and
passes everything else — with the body intact — to the regular app; a token it trusts is
re-checked within seconds of a change made by another process."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import Any

import httpx
import pytest

from kupol.antifraud.fastpath import MAX_BODY, ScreenFastPath
from kupol.bootstrap import Container, build_container
from kupol.core.audit import Justification
from kupol.core.auth import service as auth_service
from kupol.core.errors import AuthenticationError
from kupol.settings import Settings
from tests.conftest import add_user
from tests.unit.factories import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PATH = "/api/antifraud/calls/screen"


class Inner:
    """Stands for the regular app: records what reached it, body included."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.seen.append((scope["path"], body))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"regular"})


def _post(app: Any, path: str, body: bytes, token: str | None) -> httpx.Response:
    async def go() -> httpx.Response:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kupol") as client:
            return await client.post(path, content=body, headers=headers)

    return asyncio.run(go())


def test_switches_calls_take_the_short_way_and_the_rest_reaches_the_app(
    container: Container,
) -> None:
    inner = Inner()
    app = ScreenFastPath(inner, container)
    switch = _token(container, "kcell", "telecom")
    analyst = _token(container, "cyber", "fraud_analyst")
    call = {"call_id": "F1", "caller": "8 701 123 45 67", "called": "+77021234567"}
    answered = _post(app, PATH, json.dumps(call).encode(), switch)
    assert answered.status_code == 200 and inner.seen == []
    assert answered.json() == {
        "call_id": "F1", "verdict": "allow", "reasons": [], "caller": "+77011234567",
        "caller_kind": "kz_mobile",
    }  # fmt: skip
    stored = container.antifraud.calls.lookup(
        actor=container.auth.authenticate(analyst),
        why=Justification(purpose="fast path test"),
        number="+77011234567",
    )
    assert [c["call_id"] for c in stored["calls"]] == ["F1"]

    passed = [
        (PATH, json.dumps(call).encode(), None),  # no Bearer token: a console session, perhaps
        (PATH, json.dumps(call).encode(), "not-a-token"),
        (PATH, json.dumps(call).encode(), analyst),  # may not screen: the app says 403
        (PATH, b'{"call_id": "F2"}', switch),  # invalid: the app says which field
        (PATH, b"{not json", switch),
        (PATH, json.dumps({**call, "at": "2026-01-01T00:00:00"}).encode(), switch),  # no offset
        (PATH, b'{"pad": "' + b"x" * (MAX_BODY + 10) + b'"}', switch),  # too large to read here
        ("/api/antifraud/calls/summary", b"{}", switch),  # another path
    ]
    for path, body, token in passed:
        response = _post(app, path, body, token)
        assert response.status_code == 299, (path, body[:40], response.text)
        assert inner.seen[-1] == (path, body)  # the regular app got the very same body
    assert len(inner.seen) == len(passed)


def _token(container: Container, username: str, role: str) -> str:
    _, password = add_user(container, username, role)
    return container.auth.login(username=username, password=password).token


def test_a_trusted_token_is_rechecked_within_seconds_of_another_process_s_change(
    container: Container, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]  # the service's monotonic clock, moved by hand: no race with a slow CI

    class Clock:
        time = staticmethod(time.time)  # tokens' expiry: the wall clock

        @staticmethod
        def monotonic() -> float:
            return clock[0]

    monkeypatch.setattr(auth_service, "time", Clock)
    user, password = add_user(container, "kcell", "telecom")
    token = container.auth.login(username=user.username, password=password).token
    assert container.auth.authenticate(token).username == "kcell"
    other = build_container(settings)  # another worker, or the CLI
    try:
        other.auth.deactivate(username="kcell")
    finally:
        other.db.dispose()
    clock[0] += auth_service.RECHECK_S - 0.1
    assert container.auth.authenticate(token).username == "kcell"  # trusted a moment longer
    clock[0] += 0.2
    with pytest.raises(AuthenticationError):
        container.auth.authenticate(token)


def test_a_change_made_by_this_process_ends_the_token_at_once(container: Container) -> None:
    user, password = add_user(container, "kcell", "telecom")
    token = container.auth.login(username=user.username, password=password).token
    principal = container.auth.authenticate(token)
    container.auth.logout(principal=principal)
    with pytest.raises(AuthenticationError):
        container.auth.authenticate(token)


def test_a_decision_that_cannot_be_stored_is_answered_as_a_problem(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = Inner()
    app = ScreenFastPath(inner, container)
    switch = _token(container, "kcell", "telecom")

    async def stuck(_rows: Any) -> None:
        raise TimeoutError("the decision writer did not answer")

    monkeypatch.setattr(container.antifraud.calls._writer, "write_async", stuck)
    call = {"call_id": "F9", "caller": "+77011234567", "called": "+77021234567"}
    answered = _post(app, PATH, json.dumps(call).encode(), switch)
    assert answered.status_code == 503 and inner.seen == []
    assert answered.headers["content-type"] == "application/problem+json"
    assert answered.json()["detail"] == "the decision writer did not answer"


def test_calls_arriving_together_are_scored_by_the_model_in_one_batch_with_the_same_verdicts(
    settings: Settings,
) -> None:
    from kupol.antifraud.calls import CallScreening
    from kupol.antifraud.cdr_sim import simulate_day
    from kupol.antifraud.screen_model import try_load_screen_model

    model = try_load_screen_model()
    assert model is not None
    calls = [c.attempt for c in simulate_day(5, subscribers=2000).calls[:300] if c.attempt.imsi]
    one = build_container(settings)
    try:
        switch = add_user(one, "kcell", "telecom")[0]
        alone = CallScreening(db=one.db, audit=one.audit, model=model)
        together = CallScreening(db=one.db, audit=one.audit, model=model)
        expected = [alone.screen(actor=switch, attempt=a).verdict for a in calls]

        async def all_at_once() -> list[Any]:
            # Switches' calls in flight together, each its own coroutine, in time order.
            return list(await asyncio.gather(*(
                together.screen_async(actor=switch, attempt=replace(a, call_id=a.call_id + "-b"))
                for a in calls
            )))  # fmt: skip

        got = [r.verdict for r in asyncio.run(all_at_once())]
        assert got == expected
        batched = together._batched
        assert batched is not None and batched.scored == len(calls)
        assert batched.batches < len(calls) / 10  # many calls per call of the model
    finally:
        one.db.dispose()


def test_a_batch_of_calls_gets_the_verdicts_one_by_one_would(
    api: Any, container: Container
) -> None:
    from tests.unit.factories import login_as

    switch = login_as(api, container, "kcell-switch", "telecom")
    calls = [{"call_id": f"B{i}", "caller": "+77757770000", "called": f"+7701800{i:04d}"}
             for i in range(26)]  # fmt: skip
    one_by_one = [
        api.post("/api/antifraud/calls/screen", json={**c, "call_id": "S" + c["call_id"],
                 "caller": "+77757770001"}, headers=switch).json()["verdict"]
        for c in calls
    ]  # fmt: skip
    batch = api.post("/api/antifraud/calls/screen-batch", json={"calls": calls}, headers=switch)
    assert batch.status_code == 200, batch.text
    verdicts = [r["verdict"] for r in batch.json()["results"]]
    assert verdicts == one_by_one  # a fan-out caller: warned, then blocked, as one by one
    assert verdicts.count("block") >= 1 and [r["call_id"] for r in batch.json()["results"]] == [
        c["call_id"] for c in calls]  # fmt: skip
    bad = api.post("/api/antifraud/calls/screen-batch", headers=switch,
                   json={"calls": [calls[0], {"call_id": "x"}]})  # fmt: skip
    assert bad.status_code == 422 and "calls.1" in bad.text
    assert api.post("/api/antifraud/calls/screen-batch", json={"calls": []},
                    headers=switch).status_code == 422  # fmt: skip
