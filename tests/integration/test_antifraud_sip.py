"""The SIP front answering a real SIP peer (sipp, Debian's sip-tester) on loopback: an
ordinary call is redirected to its destination, a spoofed one declined; and the front's
answers to what else a switch or a stranger may send."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kupol.antifraud.screening import CallAttempt, Screened
from kupol.antifraud.sip import SipFront, SipSettings, parse_request, serve
from kupol.bootstrap import Container
from tests.conftest import add_user, require_services

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "sip"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sip_front(container: Container) -> Iterator[tuple[int, SipFront]]:
    switch, _ = add_user(container, "sip-switch", "telecom")

    def decide(attempt: CallAttempt) -> Screened:
        return container.antifraud.calls.screen(actor=switch, attempt=attempt)

    port = free_udp_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        transport, front = loop.run_until_complete(serve(decide, SipSettings(), "127.0.0.1", port))
        holder["transport"], holder["front"] = transport, front
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    front = holder["front"]
    assert isinstance(front, SipFront)
    yield port, front
    loop.call_soon_threadsafe(holder["transport"].close)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def sipp(scenario: str, port: int, caller: str, called: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("sipp")
    if binary is None:
        if require_services():
            pytest.fail("sipp is not installed (make test installs sip-tester)")
        pytest.skip("sipp is not installed: apt-get install sip-tester")
    return subprocess.run(
        [
            binary, f"127.0.0.1:{port}", "-sf", str(SCENARIOS / scenario), "-m", "1",
            "-i", "127.0.0.1", "-p", str(free_udp_port()), "-key", "caller", caller,
            "-key", "called", called, "-timeout", "15s", "-timeout_error", "-nostdin",
            "-trace_err", "-error_file", "/dev/stderr",
        ],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_a_real_sip_peer_gets_allowed_calls_redirected_and_spoofed_ones_declined(
    sip_front: tuple[int, SipFront], container: Container
) -> None:
    port, front = sip_front
    allowed = sipp("redirect.xml", port, "77011234567", "77015550101")
    assert allowed.returncode == 0, allowed.stdout[-2000:] + allowed.stderr[-2000:]
    declined = sipp("decline.xml", port, "77011234567", "77015550101")
    assert declined.returncode == 0, declined.stdout[-2000:] + declined.stderr[-2000:]
    assert front.counts == {"allow": 1, "block": 1}
    from sqlalchemy import select

    from kupol.antifraud.model import CallDecision

    with container.db.reader() as session:
        kept = [
            (d.caller, d.verdict)
            for d in session.scalars(select(CallDecision).order_by(CallDecision.id))
        ]
    assert kept == [("+77011234567", "allow"), ("+77011234567", "block")]


def request(method: str, *, uri: str = "sip:77015550101@kupol", extra: str = "") -> bytes:
    return (
        f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
        "From: <sip:77011234567@10.0.0.1>;tag=1\r\nTo: <sip:77015550101@kupol>\r\n"
        f"Call-ID: abc@10.0.0.1\r\nCSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    ).encode()


def test_the_front_answers_what_else_may_come_and_drops_what_is_not_sip() -> None:
    decisions: list[CallAttempt] = []

    def decide(attempt: CallAttempt) -> Screened:
        decisions.append(attempt)
        from kupol.antifraud.screening import CallScreen

        return CallScreen().screen(attempt)

    front = SipFront(decide, SipSettings(international_peers=frozenset({"10.9.9.9"})))

    def answer(data: bytes, peer: str = "10.0.0.1") -> str | None:
        parsed = parse_request(data)
        if parsed is None:
            return None
        reply = front.answer(parsed, peer)
        return reply.decode() if reply else ""

    assert answer(request("OPTIONS")).startswith("SIP/2.0 200 OK")
    assert answer(request("ACK")) == ""
    assert answer(request("REGISTER")).startswith("SIP/2.0 405")
    assert answer(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") is None
    assert answer(b"\xff\xfe garbage") is None
    no_call_id = request("INVITE").replace(b"Call-ID: abc@10.0.0.1\r\n", b"")
    assert answer(no_call_id).startswith("SIP/2.0 400")
    warned = answer(request("INVITE", extra="P-Asserted-Identity: <tel:+77771234567>\r\n"))
    assert warned.startswith("SIP/2.0 302") and "To: <sip:77015550101@kupol>;tag=kupol" in warned
    assert decisions[-1].caller == "+77771234567"  # the asserted identity, not From
    from_abroad = answer(request("INVITE"), peer="10.9.9.9")
    assert from_abroad.startswith("SIP/2.0 603 Decline")
    assert 'Reason: SIP;cause=603;text="domestic_on_international"' in from_abroad
