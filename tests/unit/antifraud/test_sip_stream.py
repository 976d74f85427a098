"""The SIP front's TCP framing, driven byte by byte through a transport that records what it
is asked to do: pauses while the peer does not read, one pong per read of pings, ACKs never
answered, what cannot be framed refused, folded headers, the connection cap and idle close."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kupol.antifraud import sip
from kupol.antifraud.screening import CallAttempt, CallScreen, Screened
from kupol.antifraud.sip import SipFront, SipSettings, SipStream


class Transport(asyncio.Transport):
    """What the stream wrote, and whether it paused reading or closed."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.reading = True
        self.closed = False

    def write(self, data: Any) -> None:
        assert not self.closed
        self.written += data

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("10.0.0.1", 5060) if name == "peername" else default


def front() -> SipFront:
    screen = CallScreen()

    def decide(attempt: CallAttempt) -> Screened:
        return screen.screen(attempt)

    return SipFront(decide, SipSettings())


def request(method: str, call: str = "abc", extra: str = "", length: str = "0") -> bytes:
    return (
        f"{method} sip:77015550101@kupol SIP/2.0\r\n"
        "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
        "From: <sip:77011234567@10.0.0.1>;tag=1\r\nTo: <sip:77015550101@kupol>\r\n"
        f"Call-ID: {call}@10.0.0.1\r\nCSeq: 1 {method}\r\n{extra}Content-Length: {length}\r\n\r\n"
    ).encode()


def opened(connections: set[SipStream] | None = None) -> tuple[SipStream, Transport]:
    stream = SipStream(front(), connections if connections is not None else set())
    transport = Transport()
    stream.connection_made(transport)
    return stream, transport


def answers(transport: Transport) -> list[str]:
    return [a.split("\r\n")[0] for a in transport.written.decode().split("\r\n\r\n") if a.strip()]


def run(test: Any) -> None:
    async def main() -> None:
        test()

    asyncio.run(main())


def test_a_peer_that_does_not_read_its_answers_is_not_read_from_until_it_does() -> None:
    def test() -> None:
        stream, transport = opened()
        stream.pause_writing()  # the write buffer went past its high-water mark
        assert not transport.reading
        stream.data_received(request("OPTIONS", "1") + request("OPTIONS", "2"))
        assert transport.written == b""  # kept, not answered into a full buffer
        stream.resume_writing()
        assert transport.reading
        assert answers(transport) == ["SIP/2.0 200 OK", "SIP/2.0 200 OK"]

    run(test)


def test_pings_get_one_pong_a_read_and_a_message_split_into_bytes_is_read_whole() -> None:
    def test() -> None:
        stream, transport = opened()
        stream.data_received(b"\r\n\r\n" * 1000)
        assert transport.written == b"\r\n"
        stream.data_received(b"\r\n\r\n")
        assert transport.written == b"\r\n\r\n"
        transport.written.clear()
        for byte in request("INVITE"):
            stream.data_received(bytes([byte]))
        assert answers(transport) == ["SIP/2.0 302 Moved Temporarily"]
        assert stream.buffer == b"" and stream.scanned == 0

    run(test)


def test_an_ack_that_cannot_be_framed_closes_the_connection_unanswered() -> None:
    def test() -> None:
        stream, transport = opened()
        stream.data_received(request("ACK").replace(b"Content-Length: 0\r\n", b""))
        assert transport.closed and transport.written == b""
        stream, transport = opened()
        stream.data_received(request("ACK", length="70000"))
        assert transport.closed and transport.written == b""

    run(test)


def test_conflicting_lengths_are_refused_and_a_folded_line_is_no_header() -> None:
    def test() -> None:
        stream, transport = opened()
        stream.data_received(request("OPTIONS", extra="l: 5\r\n"))
        assert answers(transport) == ["SIP/2.0 400 Bad Request"] and transport.closed
        stream, transport = opened()
        folded = request("OPTIONS", extra="Subject: a long\r\n l: 5\r\n")
        stream.data_received(folded)
        assert answers(transport) == ["SIP/2.0 200 OK"] and not transport.closed
        assert sip.parse_request(folded).first("subject") == "a long l: 5"  # type: ignore[union-attr]

    run(test)


def test_connections_past_the_cap_are_closed_and_quiet_ones_time_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sip, "MAX_CONNECTIONS", 2)
    monkeypatch.setattr(sip, "IDLE_S", 0.3)

    async def main() -> None:
        connections: set[SipStream] = set()
        first, one = opened(connections)
        second, two = opened(connections)
        third, three = opened(connections)
        assert three.closed and not one.closed and connections == {first, second}
        assert third.front.counts == {"refused": 1}
        await asyncio.sleep(0.15)
        second.data_received(b"\r\n\r\n")  # a ping keeps it open
        await asyncio.sleep(0.25)
        assert one.closed and not two.closed
        first.connection_lost(None)
        assert connections == {second}
        await asyncio.sleep(0.3)
        assert two.closed

    asyncio.run(main())
