"""The HTTP API: ``create_app(container)``, dependencies, the router registry, problem mapping."""

from kupol.api.app import create_app

__all__ = ["create_app"]
