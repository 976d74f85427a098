"""Imports every module that defines tables, so ``Base.metadata`` is complete (Alembic, tests)."""


def import_all_tables() -> None:
    """Load every table definition once."""
    import kupol.alerts.model
    import kupol.antifraud.model
    import kupol.cameras.model
    import kupol.citizens.helpers_store
    import kupol.citizens.store
    import kupol.core.audit.model
    import kupol.core.auth.model
    import kupol.core.bus.inbox
    import kupol.core.outbox
    import kupol.core.quarantine
    import kupol.documents.model
    import kupol.events.model
    import kupol.evidence.model
    import kupol.faces.model
    import kupol.fleet.model
    import kupol.incidents.model
    import kupol.plates.model
    import kupol.roads.model
    import kupol.schools.store
    import kupol.scooters.store
    import kupol.traffic.model
    import kupol.vision.model  # noqa: F401
