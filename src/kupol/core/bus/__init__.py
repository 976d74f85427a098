"""The event backbone: one :class:`Bus` protocol, an in-process and a NATS JetStream implementation."""

from kupol.core.bus.base import Bus, Handler, Subscription
from kupol.core.bus.memory import InProcessBus

__all__ = ["Bus", "Handler", "InProcessBus", "Subscription"]
