"""The document workflow: which step leads from which state to which, and who may take it.

::

    draft ──sign──▶ signed ──serve──▶ served ──pay──▶ paid
      │               │                 │  └─appeal─▶ appealed ──pay──▶ paid
      └──cancel──▶ cancelled ◀──cancel──┴──────────────┘  (appeal upheld)

A draft may be edited; a signed document never changes (a correction is a new document and
the old one is cancelled). Only a document that imposes a fine can be paid.
"""

from __future__ import annotations

from dataclasses import dataclass

from kupol.core.auth import Permission

STATES = ("draft", "signed", "served", "appealed", "paid", "cancelled")
FINAL = frozenset({"paid", "cancelled"})


@dataclass(frozen=True)
class Step:
    """A permitted step."""

    action: str
    source: frozenset[str]
    target: str
    permission: Permission
    needs_note: bool = False


STEPS = {
    step.action: step
    for step in (
        Step("sign", frozenset({"draft"}), "signed", Permission.DOCUMENTS_SIGN),
        Step("serve", frozenset({"signed"}), "served", Permission.DOCUMENTS_WRITE, needs_note=True),
        Step(
            "appeal", frozenset({"served"}), "appealed", Permission.DOCUMENTS_WRITE, needs_note=True
        ),
        Step("pay", frozenset({"served", "appealed"}), "paid", Permission.PAYMENTS_UPDATE),
        Step(
            "cancel",
            frozenset({"draft", "signed", "served", "appealed"}),
            "cancelled",
            Permission.DOCUMENTS_SIGN,
            needs_note=True,
        ),
    )
}


def allowed_actions(status: str) -> list[str]:
    """The steps that can be taken from ``status`` (by someone)."""
    return [name for name, step in STEPS.items() if status in step.source]
