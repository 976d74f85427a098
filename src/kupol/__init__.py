"""kupol — an open digital policing platform: cameras, events, alerts and audit in one product."""

__version__ = "0.1.0"
