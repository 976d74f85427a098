"""Which roles hold which permission. One table, read by the API, the console and tests."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from kupol.core.auth.model import Role


class Permission(enum.StrEnum):
    CAMERAS_READ = "cameras.read"
    CAMERAS_WRITE = "cameras.write"
    EVENTS_INGEST = "events.ingest"
    EVENTS_READ = "events.read"
    EVIDENCE_VIEW = "evidence.view"
    ALERTS_READ = "alerts.read"
    ALERTS_HANDLE = "alerts.handle"
    RULES_WRITE = "rules.write"
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"
    LIVE_VIEW = "live.view"
    TRACKS_READ = "tracks.read"
    WATCHLISTS_READ = "watchlists.read"
    WATCHLISTS_MANAGE = "watchlists.manage"
    FACE_HITS_REVIEW = "faces.hits.review"
    FACES_SEARCH = "faces.search"
    FACES_EXPORT = "faces.export"
    PLATES_SEARCH = "plates.search"
    HOTLISTS_MANAGE = "hotlists.manage"
    EVIDENCE_INGEST = "evidence.ingest"
    EVIDENCE_EXPORT = "evidence.export"
    EVIDENCE_MANAGE = "evidence.manage"
    VIOLATIONS_READ = "traffic.violations.read"
    VIOLATIONS_REVIEW = "traffic.violations.review"
    TRAFFIC_STATS = "traffic.stats"
    VEHICLE_REGISTRY = "traffic.registry"
    PAYMENTS_UPDATE = "traffic.payments"
    SIGNALS_REPORT = "traffic.signals"
    DEVICES_MANAGE = "evidence.devices"
    INCIDENTS_READ = "incidents.read"
    INCIDENTS_WRITE = "incidents.write"
    DOCUMENTS_READ = "documents.read"
    DOCUMENTS_WRITE = "documents.write"
    DOCUMENTS_SIGN = "documents.sign"
    ROADS_READ = "roads.read"
    ROADS_IMPORT = "roads.import"
    TRANSFERS_CHECK = "antifraud.transfers.check"
    TRANSFERS_READ = "antifraud.transfers.read"
    MULES_MANAGE = "antifraud.mules"
    CALLS_SCREEN = "antifraud.calls.screen"
    NUMBERS_READ = "antifraud.numbers.read"
    NUMBERS_MANAGE = "antifraud.numbers.manage"
    AFC_REPORT = "antifraud.afc"
    VOICES_CHECK = "antifraud.voices"
    FLEET_READ = "fleet.read"
    FLEET_MANAGE = "fleet.manage"
    SCHOOLS_READ = "schools.read"
    SCHOOLS_INSPECT = "schools.inspect"
    SCOOTERS_READ = "scooters.read"
    SCOOTERS_MANAGE = "scooters.manage"
    SCOOTER_FEEDS = "scooters.feeds"
    CITIZEN_REPORT = "citizens.report"
    CITIZEN_REVIEW = "citizens.review"
    CITIZEN_PAYOUTS = "citizens.payouts"
    HELPERS_MANAGE = "citizens.helpers"
    METRICS_READ = "system.metrics"


_STAFF = {
    Role.ADMIN,
    Role.OPERATOR,
    Role.ANALYST,
    Role.INVESTIGATOR,
    Role.TRAFFIC_OFFICER,
    Role.FRAUD_ANALYST,
    Role.AUDITOR,
}
_FIELD = {Role.OPERATOR, Role.INVESTIGATOR, Role.TRAFFIC_OFFICER}

# Administrators run the system but do not, by that role alone, see personal data or the
# audit trail: separation of duties, as data-protection reviews of such systems expect.
PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.CAMERAS_READ: frozenset(_STAFF),
    Permission.CAMERAS_WRITE: frozenset({Role.ADMIN}),
    Permission.EVENTS_INGEST: frozenset({Role.DEVICE, Role.OPERATOR, Role.ADMIN}),
    Permission.EVENTS_READ: frozenset(_FIELD | {Role.ANALYST}),
    Permission.EVIDENCE_VIEW: frozenset(_FIELD),
    Permission.ALERTS_READ: frozenset(_FIELD | {Role.ANALYST, Role.ADMIN}),
    Permission.ALERTS_HANDLE: frozenset({Role.OPERATOR}),
    Permission.RULES_WRITE: frozenset({Role.ADMIN, Role.OPERATOR}),
    Permission.USERS_MANAGE: frozenset({Role.ADMIN}),
    Permission.AUDIT_READ: frozenset({Role.AUDITOR}),
    Permission.LIVE_VIEW: frozenset(_FIELD),
    Permission.TRACKS_READ: frozenset(_FIELD | {Role.ANALYST}),
    # Faces: operators see watchlists and review hits; only investigators, for a case, change
    # watchlists, search where a face was seen and export it.
    Permission.WATCHLISTS_READ: frozenset({Role.OPERATOR, Role.INVESTIGATOR}),
    Permission.WATCHLISTS_MANAGE: frozenset({Role.INVESTIGATOR}),
    Permission.FACE_HITS_REVIEW: frozenset({Role.OPERATOR, Role.INVESTIGATOR}),
    Permission.FACES_SEARCH: frozenset({Role.INVESTIGATOR}),
    Permission.FACES_EXPORT: frozenset({Role.INVESTIGATOR}),
    # Plates: where a vehicle was is personal data too; every search and route is audited.
    Permission.PLATES_SEARCH: frozenset(_FIELD),
    Permission.HOTLISTS_MANAGE: frozenset({Role.INVESTIGATOR, Role.TRAFFIC_OFFICER}),
    # The evidence vault: field officers and docking stations (devices) put files in.
    # Fraud analysts put fraud groups' case files in the vault; they do not view the vault.
    Permission.EVIDENCE_INGEST: frozenset(_FIELD | {Role.DEVICE, Role.FRAUD_ANALYST}),
    Permission.EVIDENCE_EXPORT: frozenset({Role.INVESTIGATOR, Role.TRAFFIC_OFFICER}),
    # Legal holds, retention and deletion: investigators, for their cases.
    Permission.EVIDENCE_MANAGE: frozenset({Role.INVESTIGATOR}),
    # Traffic enforcement: only traffic officers see violations (plates, evidence, owners)
    # and decide them; counts per rule, camera and crossing hold no personal data.
    Permission.VIOLATIONS_READ: frozenset({Role.TRAFFIC_OFFICER}),
    Permission.VIOLATIONS_REVIEW: frozenset({Role.TRAFFIC_OFFICER}),
    Permission.TRAFFIC_STATS: frozenset({Role.TRAFFIC_OFFICER, Role.ANALYST, Role.OPERATOR}),
    Permission.VEHICLE_REGISTRY: frozenset({Role.TRAFFIC_OFFICER}),
    # A payment gateway reports payments with a device account.
    Permission.PAYMENTS_UPDATE: frozenset({Role.TRAFFIC_OFFICER, Role.DEVICE}),
    Permission.SIGNALS_REPORT: frozenset({Role.DEVICE, Role.OPERATOR}),
    # Body cameras handed out and taken back at the shift's start and end.
    Permission.DEVICES_MANAGE: frozenset({Role.ADMIN, Role.OPERATOR}),
    # Incidents list the officers and clips that saw them: field roles only.
    Permission.INCIDENTS_READ: frozenset(_FIELD),
    Permission.INCIDENTS_WRITE: frozenset(_FIELD),
    # Protocols and resolutions: the officers who draw them up and sign them.
    Permission.DOCUMENTS_READ: frozenset({Role.TRAFFIC_OFFICER, Role.INVESTIGATOR}),
    Permission.DOCUMENTS_WRITE: frozenset({Role.TRAFFIC_OFFICER, Role.INVESTIGATOR}),
    Permission.DOCUMENTS_SIGN: frozenset({Role.TRAFFIC_OFFICER, Role.INVESTIGATOR}),
    # Road safety: accident records carry no names; analysts import them and, with traffic
    # officers, operators and administrators, read the statistics.
    Permission.ROADS_READ: frozenset(
        {Role.ANALYST, Role.TRAFFIC_OFFICER, Role.OPERATOR, Role.ADMIN}
    ),
    Permission.ROADS_IMPORT: frozenset({Role.ANALYST, Role.ADMIN}),
    # Anti-fraud: banks ask about transfers and report the payer's answer with a bank
    # account (nothing else: not a device, which may submit camera events); fraud analysts
    # see the holds (accounts: audited) and keep the mule list.
    Permission.TRANSFERS_CHECK: frozenset({Role.BANK, Role.FRAUD_ANALYST}),
    Permission.TRANSFERS_READ: frozenset({Role.FRAUD_ANALYST}),
    Permission.MULES_MANAGE: frozenset({Role.FRAUD_ANALYST}),
    # Call screening: operators' switches ask with telecom accounts; analysts look numbers up
    # (calls are personal data: audited) and keep the block and allow lists.
    Permission.CALLS_SCREEN: frozenset({Role.TELECOM}),
    Permission.NUMBERS_READ: frozenset({Role.FRAUD_ANALYST}),
    Permission.NUMBERS_MANAGE: frozenset({Role.FRAUD_ANALYST}),
    # Reports to the National Bank's Anti-Fraud Centre and the answers to them.
    Permission.AFC_REPORT: frozenset({Role.FRAUD_ANALYST}),
    # Voice checks: recordings of fraud calls and complaints (voices are personal data).
    Permission.VOICES_CHECK: frozenset({Role.FRAUD_ANALYST}),
    # The fleet: where drones, robot dogs and patrols are; operators (the situation centre and
    # dispatch) register units and set their status.
    Permission.FLEET_READ: frozenset(
        {Role.OPERATOR, Role.ADMIN, Role.TRAFFIC_OFFICER, Role.INVESTIGATOR, Role.ANALYST}
    ),
    Permission.FLEET_MANAGE: frozenset({Role.OPERATOR, Role.ADMIN}),
    # Driving schools: the administrative police inspect them (traffic officers); analysts
    # read the ratings and the flags (which name instructors and cadets: audited).
    Permission.SCHOOLS_READ: frozenset({Role.TRAFFIC_OFFICER, Role.ANALYST}),
    Permission.SCHOOLS_INSPECT: frozenset({Role.TRAFFIC_OFFICER}),
    # E-scooters: operators, their scooters and the city's zones are kept by traffic officers
    # and administrators; trips and violations name riders (traffic officers and analysts);
    # an operator's own system sends its feeds (for itself only).
    Permission.SCOOTERS_READ: frozenset({Role.TRAFFIC_OFFICER, Role.ANALYST}),
    Permission.SCOOTERS_MANAGE: frozenset({Role.TRAFFIC_OFFICER, Role.ADMIN}),
    Permission.SCOOTER_FEEDS: frozenset({Role.MOBILITY}),
    # Citizens report what they saw and follow their own reports (nothing else).
    Permission.CITIZEN_REPORT: frozenset({Role.CITIZEN}),
    # Their reports are reviewed by traffic officers (violations) and operators (public order).
    Permission.CITIZEN_REVIEW: frozenset({Role.TRAFFIC_OFFICER, Role.OPERATOR}),
    # Reward payouts: batches of pseudonymous citizen ids and amounts for the payment provider.
    Permission.CITIZEN_PAYOUTS: frozenset({Role.ADMIN}),
    # Public-order helpers (volunteers, named and phoned): the situation centre and dispatch
    # register them, plan their shifts and recognise them.
    Permission.HELPERS_MANAGE: frozenset({Role.OPERATOR}),
    # The process's metrics and the health page: counts and timings, no personal data.
    Permission.METRICS_READ: frozenset({Role.MONITOR, Role.ADMIN}),
}


def allowed_roles(permission: Permission) -> frozenset[Role]:
    """The roles that hold ``permission``."""
    return PERMISSIONS[permission]


def has_permission(roles: Iterable[str], permission: Permission) -> bool:
    """Whether any of ``roles`` holds ``permission``.

    Example:
        >>> has_permission(["operator"], Permission.ALERTS_HANDLE)
        True
        >>> has_permission(["admin"], Permission.AUDIT_READ)
        False
    """
    allowed = PERMISSIONS[permission]
    return any(role in allowed for role in roles)
