"""The SIP front of call screening: a redirect server (RFC 3261 §8.3) the operator's switch
sends each INVITE to before routing it. It answers

- **allow** → ``302 Moved Temporarily`` to the called number at the switch's next hop (routing
  goes on as before);
- **warn** → ``302`` to the warning announcement (``warn-<number>@<announcement host>``: the
  callee hears "this call may be fraud" and is connected);
- **block** → ``603 Decline``, the reasons in a ``Reason`` header;

with the verdict and reason codes in ``X-Kupol-Verdict`` either way. ``OPTIONS`` gets ``200``,
``CANCEL`` and ``BYE`` ``200``, ``ACK`` nothing, other methods ``405``; a request that is not
SIP is dropped, one missing what an answer needs gets ``400``.

Over UDP and over TCP (RFC 3261 §18: every SIP element implements both), on the same port. On a
TCP connection messages are framed by their ``Content-Length`` (§18.3), CRLFs between messages
are skipped (§7.5) and a double-CRLF keep-alive ping gets a single-CRLF pong (RFC 5626
§3.5.1); a message without a usable ``Content-Length`` gets ``400`` and one larger than 64 KiB
``513``, and the connection is closed — a stream cannot be re-synchronised after either.

The caller is the user part of ``P-Asserted-Identity`` (what a trusted network asserts), else of
``From``; the called number that of the Request-URI. A call is international when it comes
from a peer listed as an international trunk or carries ``P-Kupol-Trunk: international`` (set
by the operator's border controller).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from kupol.antifraud.screening import CallAttempt, Screened, Verdict
from kupol.core.messages import utcnow

log = logging.getLogger(__name__)
_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
}
_USER = re.compile(r"<?(?:sips?|tel):(\+?[^@;>]+)", re.IGNORECASE)
MAX_DATAGRAM = 65_507
MAX_STREAM_MESSAGE = 65_536
MAX_CONNECTIONS = 1_024
IDLE_S = 600.0


@dataclass
class SipRequest:
    method: str
    uri: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse_request(data: bytes) -> SipRequest | None:
    """A SIP request's method, URI and headers (compact names expanded), or ``None``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0" or not parts[0].isalpha():
        return None
    request = SipRequest(method=parts[0].upper(), uri=parts[1])
    last: str | None = None
    for line in lines[1:]:
        if line[:1] in {" ", "\t"}:  # folded onto the header above (RFC 3261 §7.3.1)
            if last is not None and line.strip():
                values = request.headers[last]
                values[-1] = f"{values[-1]} {line.strip()}".strip()
            continue
        if ":" not in line:
            continue
        name, value = line.split(":", 1)
        key = name.rstrip().lower()
        key = _COMPACT.get(key, key)
        request.headers.setdefault(key, []).append(value.strip())
        last = key
    return request


def user_of(value: str | None) -> str | None:
    """The user part of a SIP or tel URI as written (``"A" <sip:+77011234567@host>`` →
    ``+77011234567``, ``<sip:87011234567@host>`` → ``87011234567``)."""
    if not value:
        return None
    match = _USER.search(value)
    return match.group(1) if match else None


def _as_sent(number: str, *, international: bool) -> str:
    """A caller's number as the numbering should read it. From abroad, digits without ``+`` are
    an international number (``6491234567`` is New Zealand's, ``81312345678`` Japan's) —
    unless written the Kazakh domestic way, ``8 7xx…`` or ``8 6xx…`` (eleven digits), which is
    what a forger shows; on a domestic trunk the numbering reads them as dialled (``8 7xx…``,
    ``7xx…``, ``7 7xx…``, a foreign one by its country code).

    Example:
        >>> _as_sent("6491234567", international=True), _as_sent("87011234567", international=True)
        ('+6491234567', '87011234567')
    """
    if international and number.isdigit() and not _DOMESTIC_WRITTEN.fullmatch(number):
        return "+" + number
    return number


_DOMESTIC_WRITTEN = re.compile(r"8[67][0-9]{9}")


def response(request: SipRequest, status: int, reason: str, extra: Sequence[str] = ()) -> bytes:
    """A response to ``request`` with its Via, From, To (tagged), Call-ID and CSeq."""
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"Via: {v}" for v in request.headers.get("via", [])]
    lines.append(f"From: {request.first('from')}")
    to = request.first("to") or ""
    if status >= 200 and ";tag=" not in to:
        to += ";tag=kupol"
    lines.append(f"To: {to}")
    lines.append(f"Call-ID: {request.first('call-id')}")
    lines.append(f"CSeq: {request.first('cseq')}")
    lines += list(extra)
    lines += ["Server: kupol", "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode("utf-8")


@dataclass(frozen=True, kw_only=True)
class SipSettings:
    next_hop: str = "127.0.0.1:5060"
    """Where allowed calls are redirected (the switch's own routing)."""
    announcement: str = "127.0.0.1:5062"
    """The warning announcement server."""
    international_peers: frozenset[str] = frozenset()


class SipFront(asyncio.DatagramProtocol):
    """Answers INVITEs per the verdict ``decide`` gives (``CallScreening.screen`` bound to the
    switch's account)."""

    def __init__(self, decide: Callable[[CallAttempt], Screened], settings: SipSettings) -> None:
        self.decide = decide
        self.settings = settings
        self.transport: asyncio.DatagramTransport | None = None
        self.counts: dict[str, int] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) > MAX_DATAGRAM:
            self.count("dropped")
            return
        request = parse_request(data)
        if request is None:
            self.count("dropped")
            return
        answer = self.answer(request, addr[0])
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)

    def answer(self, request: SipRequest, peer: str) -> bytes | None:
        """The response to one request (``None`` for ACK)."""
        if request.method == "ACK":
            return None
        if not all(request.first(h) for h in ("via", "from", "to", "call-id", "cseq")):
            self.count("bad")
            return response(request, 400, "Bad Request")
        if request.method in {"OPTIONS", "CANCEL", "BYE"}:
            return response(request, 200, "OK")
        if request.method != "INVITE":
            return response(
                request, 405, "Method Not Allowed", ["Allow: INVITE, ACK, OPTIONS, CANCEL, BYE"]
            )
        caller = user_of(request.first("p-asserted-identity")) or user_of(request.first("from"))
        called = user_of(request.uri)
        if not caller or not called:
            self.count("bad")
            return response(
                request, 400, "Bad Request", ['Warning: 399 kupol "no caller or callee"']
            )
        trunk = (request.first("p-kupol-trunk") or "").lower()
        international = peer in self.settings.international_peers or trunk == "international"
        attempt = CallAttempt(
            call_id=(request.first("call-id") or "")[:64],
            at=utcnow(),
            caller=_as_sent(caller, international=international),
            called=called,  # a callee here, as dialled: 8 7xx…, 7xx… and 7 7xx… alike
            international=international,
        )
        try:
            verdict = self.decide(attempt)
        except Exception:  # the switch must get an answer; screening failed: let it route
            log.exception("screening failed for call %s", attempt.call_id)
            self.count("error")
            return response(request, 500, "Server Internal Error", ["Retry-After: 1"])
        self.count(verdict.verdict.value)
        codes = ",".join(verdict.reasons) or "none"
        tag = [f"X-Kupol-Verdict: {verdict.verdict.value}; reasons={codes}"]
        number = called.lstrip("+")
        if verdict.verdict is Verdict.BLOCK:
            return response(
                request, 603, "Decline", [*tag, f'Reason: SIP;cause=603;text="{codes}"']
            )
        if verdict.verdict is Verdict.WARN:
            contact = f"Contact: <sip:warn-{number}@{self.settings.announcement}>"
        else:
            contact = f"Contact: <sip:{number}@{self.settings.next_hop}>"
        return response(request, 302, "Moved Temporarily", [*tag, contact])


class SipStream(asyncio.Protocol):
    """One peer's TCP connection to the front: requests framed by ``Content-Length``, each
    answered on the connection it came by, in order.

    A peer that sends faster than it reads its answers is not read from until it catches up
    (the transport's write buffer past its high-water mark pauses reading); one that sends
    nothing for ``IDLE_S`` (a switch pings every minute or two) is closed; and at most
    ``MAX_CONNECTIONS`` are held at once — more are closed as they come.
    """

    def __init__(self, front: SipFront, connections: set[SipStream]) -> None:
        self.front = front
        self.connections = connections
        self.buffer = bytearray()
        self.scanned = 0  # where the search for the end of the next head goes on from
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.paused = False
        self.last_data = 0.0
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peername = transport.get_extra_info("peername")
        self.peer = str(peername[0]) if peername else ""
        if len(self.connections) >= MAX_CONNECTIONS:
            log.warning(
                "SIP over TCP: %d connections already; closing %s", MAX_CONNECTIONS, self.peer
            )
            self.front.count("refused")
            self.transport.close()
            return
        self.connections.add(self)
        loop = asyncio.get_running_loop()
        self.last_data = loop.time()
        self.idle = loop.call_later(IDLE_S, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if self.idle is not None:
            self.idle.cancel()
        self.transport = None

    def _check_idle(self) -> None:
        if self.transport is None:
            return
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self.last_data
        if quiet >= IDLE_S:
            self.front.count("idle")
            self.transport.close()
        else:
            self.idle = loop.call_later(IDLE_S - quiet, self._check_idle)

    def pause_writing(self) -> None:
        self.paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()
            self._work()

    def data_received(self, data: bytes) -> None:
        self.last_data = asyncio.get_running_loop().time()
        self.buffer += data
        self._work()

    def _work(self) -> None:
        """Handle the whole messages buffered, while the peer reads its answers."""
        ponged = False
        while self.transport is not None and not self.transport.is_closing() and not self.paused:
            step = self._next()
            if step == "pong":
                if not ponged:  # keep-alive pong (RFC 5626): one for the pings of a read
                    self._send(b"\r\n")
                    ponged = True
            elif step != "message":
                break

    def _send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _give_up(self, answer: bytes | None) -> str:
        """Answer (if there is something to answer) and close: the stream is out of step."""
        self.front.count("bad")
        if answer is not None:
            self._send(answer)
        if self.transport is not None:
            self.transport.close()
        self.buffer.clear()
        return "closed"

    def _next(self) -> str:
        """Handle what comes next in the buffer: ``"pong"`` (a keep-alive ping), ``"message"``,
        ``"more"`` (needs more bytes) or ``"closed"``."""
        buffer = self.buffer
        if buffer.startswith(b"\r\n"):
            if buffer.startswith(b"\r\n\r\n"):
                del buffer[:4]
                self.scanned = 0
                return "pong"
            if len(buffer) < 4 and b"\r\n\r\n".startswith(bytes(buffer)):
                return "more"
            del buffer[:2]  # a CRLF before a start line is skipped (RFC 3261 §7.5)
            self.scanned = 0
            return "message" if buffer else "more"
        end = buffer.find(b"\r\n\r\n", self.scanned)
        if end < 0:
            if len(buffer) > MAX_STREAM_MESSAGE:
                return self._give_up(None)
            self.scanned = max(0, len(buffer) - 3)
            return "more"
        head = bytes(buffer[: end + 4])
        request = parse_request(head)
        length = _content_length(head)
        # What cannot be framed is answered (a request's 400 or 513) unless it is an ACK,
        # which is never answered, or no request at all.
        answerable = request if request is not None and request.method != "ACK" else None
        if length is None:
            return self._give_up(
                None
                if answerable is None
                else response(
                    answerable, 400, "Bad Request", ['Warning: 399 kupol "Content-Length"']
                )
            )
        if end + 4 + length > MAX_STREAM_MESSAGE:
            return self._give_up(
                None if answerable is None else response(answerable, 513, "Message Too Large")
            )
        if len(buffer) < end + 4 + length:
            self.scanned = end  # the head is whole: wait for the body
            return "more"
        del buffer[: end + 4 + length]
        self.scanned = 0
        if request is None:  # a response, or not SIP: nothing to answer
            self.front.count("dropped")
            return "message"
        answer = self.front.answer(request, self.peer)
        if answer is not None:
            self._send(answer)
        return "message"


def _content_length(head: bytes) -> int | None:
    """The ``Content-Length`` (or ``l``) of a message's head; ``None`` if absent, not a
    number, or given twice with different values."""
    found: set[int | None] = set()
    for line in head.split(b"\r\n")[1:]:
        if line[:1] in {b" ", b"\t"}:
            continue  # a folded continuation of the header above (RFC 3261 §7.3.1)
        name, colon, value = line.partition(b":")
        if colon and name.rstrip().lower() in {b"content-length", b"l"}:
            text = value.strip()
            found.add(int(text) if text.isdigit() and len(text) < 10 else None)
    return found.pop() if len(found) == 1 else None


async def serve(
    decide: Callable[[CallAttempt], Screened], settings: SipSettings, host: str, port: int
) -> tuple[asyncio.DatagramTransport, SipFront]:
    """Listen on ``host:port`` (UDP)."""
    loop = asyncio.get_running_loop()
    front = SipFront(decide, settings)
    transport, _ = await loop.create_datagram_endpoint(lambda: front, local_addr=(host, port))
    return transport, front


async def serve_tcp(front: SipFront, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` (TCP) with ``front``'s screening and counts."""
    loop = asyncio.get_running_loop()
    connections: set[SipStream] = set()
    return await loop.create_server(lambda: SipStream(front, connections), host, port)
