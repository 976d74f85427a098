"""The SIP front answering a real SIP peer (sipp, Debian's sip-tester) on loopback, over UDP
and TCP: an ordinary call is redirected to its destination, a spoofed one declined; and the
front's answers to what else a switch or a stranger may send, and to how a TCP stream may
arrive."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kupol.antifraud.screening import CallAttempt, Screened
from kupol.antifraud.sip import SipFront, SipSettings, parse_request, serve, serve_tcp
from kupol.bootstrap import Container
from tests.conftest import add_user, require_services

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "sip"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port() -> int:
    """A port free for both UDP and TCP (the front listens on both)."""
    for _ in range(50):
        port = free_udp_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP")


@pytest.fixture
def sip_front(container: Container) -> Iterator[tuple[int, SipFront]]:
    switch, _ = add_user(container, "sip-switch", "telecom")

    def decide(attempt: CallAttempt) -> Screened:
        return container.antifraud.calls.screen(actor=switch, attempt=attempt)

    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        transport, front = loop.run_until_complete(serve(decide, SipSettings(), "127.0.0.1", port))
        server = loop.run_until_complete(serve_tcp(front, "127.0.0.1", port))
        holder["transport"], holder["front"], holder["server"] = transport, front, server
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    front = holder["front"]
    assert isinstance(front, SipFront)
    yield port, front
    loop.call_soon_threadsafe(holder["transport"].close)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(holder["server"].close)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def sipp(
    scenario: str, port: int, caller: str, called: str, *, tcp: bool = False
) -> subprocess.CompletedProcess[str]:
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
            "-trace_err", "-error_file", "/dev/stderr", *(["-t", "t1"] if tcp else []),
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


def test_a_real_sip_peer_over_tcp_gets_the_same_answers(
    sip_front: tuple[int, SipFront], container: Container
) -> None:
    port, front = sip_front
    allowed = sipp("redirect.xml", port, "77011234567", "77015550101", tcp=True)
    assert allowed.returncode == 0, allowed.stdout[-2000:] + allowed.stderr[-2000:]
    declined = sipp("decline.xml", port, "77011234567", "77015550101", tcp=True)
    assert declined.returncode == 0, declined.stdout[-2000:] + declined.stderr[-2000:]
    assert front.counts == {"allow": 1, "block": 1}
    from sqlalchemy import select

    from kupol.antifraud.model import CallDecision

    with container.db.reader() as session:
        kept = [d.verdict for d in session.scalars(select(CallDecision).order_by(CallDecision.id))]
    assert kept == ["allow", "block"]


def read_answers(sock: socket.socket, n: int) -> list[str]:
    """``n`` whole answers from a TCP connection (each ends with ``Content-Length: 0``)."""
    data = b""
    while data.count(b"\r\n\r\n") < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return [a + "\r\n\r\n" for a in data.decode().split("\r\n\r\n") if a]


def closed(sock: socket.socket) -> bool:
    """Whether the front closed the connection (a reset, if it left bytes unread, counts)."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def test_a_tcp_stream_is_framed_by_content_length_and_closed_when_it_cannot_be(
    sip_front: tuple[int, SipFront],
) -> None:
    port, front = sip_front
    invite = request("INVITE").replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
    sdp = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n\r\nc=IN IP4 10.0.0.1\r\n"
    with_body = (
        invite.replace(b"Call-ID: abc@", b"Call-ID: body@").replace(
            b"Content-Length: 0", b"Content-Type: application/sdp\r\nl: %d" % len(sdp)
        )
        + sdp
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # A keep-alive ping, two requests in one write (the second with a body holding a blank
        # line of its own), then one split across writes; stray CRLFs between them.
        sock.sendall(b"\r\n\r\n" + request("OPTIONS") + b"\r\n" + with_body)
        pong = sock.recv(2)
        assert pong == b"\r\n"
        first = read_answers(sock, 2)
        assert [a.split("\r\n")[0] for a in first] == [
            "SIP/2.0 200 OK",
            "SIP/2.0 302 Moved Temporarily",
        ]
        assert "Call-ID: body@10.0.0.1" in first[1]
        sock.sendall(invite[:40])
        time.sleep(0.05)
        sock.sendall(invite[40:])
        (third,) = read_answers(sock, 1)
        assert third.startswith("SIP/2.0 302") and "Via: SIP/2.0/TCP 10.0.0.1:5060" in third
        # No Content-Length: the stream cannot be framed any more — 400, then closed.
        sock.sendall(invite.replace(b"Content-Length: 0\r\n", b""))
        (refused,) = read_answers(sock, 1)
        assert refused.startswith("SIP/2.0 400") and "Content-Length" in refused
        assert closed(sock)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(invite.replace(b"Content-Length: 0", b"Content-Length: 70000"))
        (too_big,) = read_answers(sock, 1)
        assert too_big.startswith("SIP/2.0 513 Message Too Large")
        assert closed(sock)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"x" * 70_000)  # no end of head in sight: closed without an answer
        assert closed(sock)
    assert front.counts == {"allow": 2, "bad": 3}


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

    def shown(number: str, call: str) -> bytes:
        return request("INVITE", extra=f"P-Asserted-Identity: <sip:{number}@10.9.9.9>\r\n").replace(
            b"Call-ID: abc", f"Call-ID: {call}".encode()
        )

    # From abroad a Kazakhstan number written the domestic way, or in E.164 without its +,
    # is forged; foreign numbers without their + are foreign, not Kazakh or Russian ones.
    for n, number in enumerate(("87011234567", "77011234567")):
        declined = answer(shown(number, f"k{n}"), peer="10.9.9.9")
        assert 'text="domestic_on_international"' in declined, (number, declined)
    for n, number in enumerate(("6491234567", "81312345678", "442079460958")):
        redirected = answer(shown(number, f"f{n}"), peer="10.9.9.9")
        assert redirected.startswith("SIP/2.0 302"), (number, redirected)
        assert decisions[-1].caller == "+" + number
    # On a domestic trunk the same digits are read as dialled: 8 7xx… and 7xx… are Kazakh.
    for n, number in enumerate(("87011234567", "7011234567")):
        assert answer(shown(number, f"d{n}")).startswith("SIP/2.0 302")
        assert decisions[-1].caller == number


def test_the_cli_front_answers_over_udp_and_tcp_on_one_port(
    tmp_path: Path, sqlite_url: str
) -> None:
    import os
    import signal
    import sys

    from kupol.bootstrap import build_container
    from tests.conftest import make_settings

    settings = make_settings(database_url=sqlite_url, data_dir=tmp_path / "data")
    built = build_container(settings)
    built.auth.create_user(username="switch-1", password="switch-password-1", roles=["telecom"])
    built.db.dispose()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KUPOL_")},
        "KUPOL_MODE": "dev",
        "KUPOL_DATABASE__URL": sqlite_url,
        "KUPOL_DATA_DIR": str(tmp_path / "data"),
    }
    port = free_port()
    command = [sys.executable, "-m", "kupol", "antifraud", "sip", "--as", "switch-1"]
    process = subprocess.Popen(
        [*command, "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert f"udp and tcp 127.0.0.1:{port}" in banner, banner + process.stdout.read()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(10)
            udp.sendto(request("OPTIONS"), ("127.0.0.1", port))
            assert udp.recv(65536).startswith(b"SIP/2.0 200 OK")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request("INVITE"))
            (answer,) = read_answers(sock, 1)
        assert answer.startswith("SIP/2.0 302") and "X-Kupol-Verdict: allow" in answer
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)


def test_a_retransmitted_invite_gets_the_same_answer_and_is_stored_once(
    container: Container,
) -> None:
    from sqlalchemy import func, select

    from kupol.antifraud.model import CallDecision

    switch, _ = add_user(container, "sip-switch", "telecom")
    front = SipFront(
        lambda attempt: container.antifraud.calls.screen(actor=switch, attempt=attempt),
        SipSettings(international_peers=frozenset({"10.9.9.9"})),
    )
    invite = parse_request(request("INVITE"))
    assert invite is not None
    first, again = (front.answer(invite, "10.9.9.9") for _ in range(2))
    assert first is not None and b"603 Decline" in first and first == again
    with container.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(CallDecision)) == 1
