"""Sending a citizen a text: the gateway is pluggable; the one kupol ships writes each message
as a line of JSON to a file (development, the demo, a deployment's first days), so a code can
be read without a telecom contract."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Protocol

from kupol.core.messages import utcnow


class SmsGateway(Protocol):
    """Sends one text message."""

    def send(self, *, phone: str, text: str) -> None: ...


class LogFileGateway:
    """Appends ``{"at", "phone", "text"}`` to a file instead of sending."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, *, phone: str, text: str) -> None:
        line = json.dumps({"at": utcnow().isoformat(), "phone": phone, "text": text},
                          ensure_ascii=False)  # fmt: skip
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line + "\n")

    def last_to(self, phone: str) -> str | None:
        """The last text sent to ``phone`` (tests and the demo read codes with it)."""
        if not self.path.exists():
            return None
        found = None
        for line in self.path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["phone"] == phone:
                found = str(record["text"])
        return found
