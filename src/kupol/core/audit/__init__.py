"""The append-only, hash-chained audit log of who looked at or changed what, and why."""

from kupol.core.audit.model import AuditEntry
from kupol.core.audit.purpose import Justification
from kupol.core.audit.service import AuditLog, AuditRecord, ChainReport

__all__ = ["AuditEntry", "AuditLog", "AuditRecord", "ChainReport", "Justification"]
