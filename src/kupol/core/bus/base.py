"""The bus contract shared by the in-process and the NATS JetStream implementations.

Delivery is at-least-once: ``publish`` returns only when the events are *accepted*
(in-process: every durable consumer has handled them; JetStream: the server has stored
them). When it raises :class:`DeliveryError` none of them was accepted; when it raises
:class:`DeliveryUnconfirmedError` some may have been (the server went away before it
confirmed): sending the same events again is safe either way. A consumer that raises gets
the same events again, so consumers must be idempotent, keyed by the event id (see
:mod:`kupol.core.bus.inbox`); one that raises :class:`~kupol.core.errors.ServiceUnavailableError`
(its database is down) keeps its events until it can take them, without using up their
deliveries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kupol.core.errors import KupolError, ServiceUnavailableError
from kupol.core.messages import Command, Event

Handler = Callable[[Sequence[Any]], Awaitable[None]]
CommandHandler = Callable[[Any], Awaitable[Any]]


class DeliveryError(KupolError):
    """Events could not be accepted: a durable consumer kept failing or the server refused."""

    status = 503
    title = "Event not accepted"
    exit_code = 8


class DeliveryUnconfirmedError(DeliveryError):
    """Events were sent but not confirmed in time (the server went away meanwhile): some may
    be stored. Send them again with the same ids: the bus and consumers de-duplicate."""

    title = "Event not confirmed"


def is_transient(exc: BaseException) -> bool:
    """Whether a consumer's failure is its surroundings' (the database or the bus down), not
    the event's: the event is kept and tried again, without counting towards dead-lettering.

    Example:
        >>> is_transient(ServiceUnavailableError("database down")), is_transient(ValueError())
        (True, False)
    """
    return isinstance(exc, ServiceUnavailableError | DeliveryError)


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """One consumer's interest in one event type.

    Attributes:
        event_type: the class of events delivered.
        handler: called with a non-empty batch of events, oldest first.
        consumer: the consumer's durable name; redelivery and idempotency are per consumer.
        durable: durable consumers must succeed for an event to be accepted (in-process)
            and keep their position across restarts (JetStream). Non-durable ones (a live
            console feed) get events only while they listen.
        batch_size: the most events handed to one call.
        wanted: for a non-durable consumer, whether anyone listens now; while it says no,
            its events are skipped before they are decoded (every node's live feed would
            otherwise decode every node's notices for consoles that are not open).
    """

    event_type: type[Event]
    handler: Handler
    consumer: str
    durable: bool = True
    batch_size: int = 1
    wanted: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        if self.durable and self.wanted is not None:
            # A durable consumer must get every event: skipping some would lose them.
            raise ValueError(f"consumer {self.consumer!r}: only a live consumer may be 'wanted'")


class Bus(Protocol):
    """What every bus implementation offers."""

    def subscribe(
        self,
        event_type: type[Event],
        handler: Handler,
        *,
        consumer: str,
        durable: bool = True,
        batch_size: int = 1,
        wanted: Callable[[], bool] | None = None,
    ) -> None:
        """Register a consumer (before :meth:`start` for durable ones)."""

    def register(self, command_type: type[Command], handler: CommandHandler) -> None:
        """Register the one handler of a command type."""

    async def execute(self, command: Command) -> Any:
        """Run a command's handler here and return its result."""

    async def publish(self, *events: Event) -> None:
        """Hand events to the bus; returns once they are accepted (see module docs)."""

    async def announce(self, *events: Event) -> None:
        """Hand events to the live (non-durable) consumers listening now, best effort: not
        stored, never redelivered, not seen by durable consumers (a console's ticker)."""

    async def start(self) -> None:
        """Connect and start consumers."""

    async def stop(self) -> None:
        """Stop consumers and disconnect; events not yet handled stay in the bus."""

    async def ping(self) -> None:
        """Raise when the bus cannot accept events (readiness)."""


class CommandRouter:
    """Commands are handled where they are sent: one handler per command type."""

    def __init__(self) -> None:
        self._command_handlers: dict[type[Command], CommandHandler] = {}

    def register(self, command_type: type[Command], handler: CommandHandler) -> None:
        """Register the one handler of ``command_type``; a second one is a programming error."""
        if command_type in self._command_handlers:
            raise ValueError(f"{command_type.__name__} already has a handler")
        self._command_handlers[command_type] = handler

    async def execute(self, command: Command) -> Any:
        """Run the handler of ``command`` and return what it returns."""
        try:
            handler = self._command_handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None
        return await handler(command)
