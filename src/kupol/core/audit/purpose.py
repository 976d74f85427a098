"""Why someone looks at personal data: the purpose every audited read must state."""

from __future__ import annotations

from dataclasses import dataclass

from kupol.core.errors import PurposeRequiredError


@dataclass(frozen=True, kw_only=True)
class Justification:
    """Why personal data is being looked at: required, written to the audit log."""

    purpose: str
    case_number: str | None = None
    client: str | None = None

    def __post_init__(self) -> None:
        if len(self.purpose.strip()) < 5:
            raise PurposeRequiredError(
                "state the purpose of this look-up (at least 5 characters), "
                "e.g. 'alert follow-up' or a case number"
            )
