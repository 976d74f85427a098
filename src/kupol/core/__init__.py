"""Shared kernel: messages and bus, database, audit, authentication, errors."""
