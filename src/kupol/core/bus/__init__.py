"""The event backbone: one :class:`Bus` protocol; in-process and NATS JetStream buses."""

from kupol.core.bus.base import Bus, Handler, Subscription
from kupol.core.bus.memory import InProcessBus

__all__ = ["Bus", "Handler", "InProcessBus", "Subscription"]
