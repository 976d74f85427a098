"""One typed settings tree, read from ``kupol.toml`` and ``KUPOL_*`` environment variables.

Precedence, highest first: arguments passed in code, environment variables
(``KUPOL_DATABASE__URL`` sets ``database.url``), the TOML file, the defaults here.
The defaults are the embedded deployment: SQLite under ``./var`` and the in-process bus.

Example:
    >>> settings = load_settings(toml_file=None, environ={})
    >>> settings.database.url
    'sqlite:///var/kupol.sqlite'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kupol.core.errors import ConfigError

DEFAULT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside dev mode
ENV_PREFIX = "KUPOL_"
# Environment variables with the prefix that are not settings: they steer tests and CI.
RESERVED_ENV = frozenset(
    {
        "KUPOL_CONFIG",
        "KUPOL_REQUIRE_SERVICES",
        "KUPOL_REQUIRE_DATA",
        "KUPOL_DATA_ROOT",
        "KUPOL_TEST_POSTGRES_URL",
        "KUPOL_TEST_NATS_URL",
        "KUPOL_TEST_MQTT_HOST",
        "KUPOL_UPDATE_SCREENSHOTS",
        "KUPOL_CHROMIUM",
    }
)


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(Section):
    url: str = Field(
        "sqlite:///var/kupol.sqlite",
        description="SQLAlchemy URL. sqlite:///path (WAL mode) or postgresql+psycopg://...",
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    pool_size: int = Field(
        5,
        ge=1,
        le=200,
        description="PostgreSQL connections a node keeps open (twice as many more while busy); "
        "times [bus] consumer_tasks with NATS, as each task works like another node.",
    )


class HistorySettings(Section):
    """How long camera events and plate sightings are kept, and (PostgreSQL) their time
    partitions: see kupol.core.partitions and docs/scale-out.md#partitions."""

    partition_interval: Literal["day", "week", "month"] = Field(
        "month",
        description="PostgreSQL: the time each partition of camera_events and plate_sightings "
        "covers. A day suits a city whose cameras read tens of millions of plates a day.",
    )
    partitions_ahead: int = Field(
        3, ge=1, le=400, description="PostgreSQL: partitions kept made ahead of the clock."
    )
    camera_events_days: int | None = Field(
        None, ge=1, description="Keep camera events this many days (unset: for ever)."
    )
    plate_sightings_days: int | None = Field(
        None, ge=1, description="Keep plate sightings this many days (unset: for ever)."
    )
    every_s: float = Field(
        3600.0, gt=0, le=86400, description="How often partitions and retention are seen to."
    )


class BusSettings(Section):
    type: Literal["memory", "nats"] = Field(
        "memory", description="memory: in-process, synchronous; nats: NATS JetStream, durable."
    )
    nats_url: str = Field("nats://127.0.0.1:4222", description="NATS server URL.")
    stream: str = Field("KUPOL", pattern=r"^[A-Za-z0-9_-]+$", description="JetStream stream name.")
    subject_prefix: str = Field(
        "kupol", pattern=r"^[A-Za-z0-9_-]+$", description="NATS subjects are <prefix>.event.<Type>."
    )
    max_deliver: int = Field(20, ge=1, description="Deliveries before a message is dead-lettered.")
    ack_wait_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="JetStream redelivers an event a consumer took but did not acknowledge "
        "(it crashed) after this many seconds.",
    )
    retry_delays_s: tuple[float, ...] = Field(
        (0.05, 0.2, 1.0), description="In-process retries of a failing consumer, in seconds."
    )
    publish_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="How long a publish waits for JetStream to store the events, through a "
        "NATS restart included; then it is refused (503), and the same ids may be sent again.",
    )
    outbox_grace_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="With NATS: an announcement a node stores in the outbox is its own to "
        "publish for this long; only then may another node's relay take it (the writer died "
        "or its bus refused). Longer than a publish takes after a commit.",
    )
    consumer_tasks: int = Field(
        1,
        ge=1,
        le=16,
        description="With NATS: batches each durable consumer of a node works on at once "
        "(each its own pull subscription, as if that many nodes shared it): one batch's "
        "database round trips then overlap another's Python work.",
    )
    stream_keep_hours: float = Field(
        168.0,
        ge=0,
        description="With NATS: events are kept in the stream this long after they were "
        "published, consumed or not (0: for ever — the stream then grows without end: a camera "
        "event takes about 264 bytes there, 19 GB an hour at 20,000/s). Dead letters are kept "
        "for ever in a stream of their own.",
    )
    stream_max_gb: float = Field(
        0.0,
        ge=0,
        description="With NATS: the most the stream may hold (0: no limit but the disk's). "
        "When it is full new events are refused (after publish_timeout_s: producers get 503 "
        "and keep them), never old ones dropped.",
    )


class MqttSettings(Section):
    enabled: bool = Field(False, description="Take camera events from an MQTT broker too.")
    host: str = Field("127.0.0.1", description="MQTT broker host.")
    port: int = Field(1883, ge=1, le=65535, description="MQTT broker port.")
    topic: str = Field("kupol/cameras/+/events", description="Subscription; + is the camera id.")
    client_id: str = Field(
        "kupol-ingest",
        description="Fixed client id: the broker keeps "
        "this persistent session's messages while kupol is down.",
    )


class SecuritySettings(Section):
    secret_key: SecretStr = Field(
        SecretStr(DEFAULT_SECRET), description="Signs login tokens. Must be changed outside dev."
    )
    token_ttl_minutes: int = Field(
        480, ge=5, le=7 * 24 * 60, description="Login lifetime (a shift is 8 hours)."
    )
    login_max_failures: int = Field(5, ge=1, description="Failed logins allowed per window.")
    login_window_s: int = Field(300, ge=10, description="Window of the login rate limit.")
    cookie_secure: bool = Field(False, description="Send the session cookie over HTTPS only.")
    mfa_required: bool = Field(
        False,
        description="Users holding any of mfa_roles must sign in with a code from an "
        "authenticator app (TOTP); those not enrolled yet enrol at their next login. Turn on "
        "in production.",
    )
    mfa_roles: tuple[str, ...] = Field(
        (
            "operator",
            "investigator",
            "traffic_officer",
            "fraud_analyst",
            "auditor",
            "analyst",
        ),
        description="The roles that see personal data: two-factor sign-in is required of "
        "them when mfa_required is on (anyone may enrol).",
    )
    idle_timeout_minutes: int = Field(
        0,
        ge=0,
        le=24 * 60,
        description="End a session unused for this long (0: only token_ttl_minutes ends it); "
        "30 suits an office.",
    )

    @field_validator("mfa_roles")
    @classmethod
    def _known_roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        from kupol.core.auth.model import Role

        unknown = sorted(set(roles) - {r.value for r in Role})
        if unknown:
            raise ValueError(f"unknown role(s): {', '.join(unknown)}")
        return roles


class ServerSettings(Section):
    host: str = Field("127.0.0.1", description="Address the API and console listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port the API and console listen on.")
    public_url: str | None = Field(None, description="URL printed for users; default from host.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Server logs: text lines, or one JSON object a line for a shipper."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="The least severe log records written."
    )
    map_tiles: Path | None = Field(
        None,
        description="A folder of map tiles (z/x/y.png, Web Mercator) for the portal's place "
        "picker — an offline tile pack; default: drawn from the regions and the fleet's roads.",
    )
    clock_sync_every_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="How often this node measures its clock against the PostgreSQL server's "
        "and corrects its timestamps by the difference, so events from nodes whose clocks "
        "disagree keep their order; 0: never (trust the system clock). Not used on SQLite.",
    )
    max_clock_skew_s: float = Field(
        1.0,
        gt=0,
        description="A node whose clock is further than this from the database server's logs "
        "a warning (timestamps are corrected anyway; fix its NTP).",
    )


class VisionSettings(Section):
    """The camera pipelines (each camera's analytics live with the camera itself)."""

    enabled: bool = Field(
        True, description="Run a pipeline for every enabled camera that has a stream_url."
    )
    poll_s: float = Field(
        2.0, gt=0, le=300, description="How often camera changes made elsewhere are picked up."
    )
    loop_files: bool = Field(
        True, description="Play a camera whose stream_url is a file again at its end."
    )
    leases: bool = Field(
        False,
        description="Share the cameras among several vision workers through the database's "
        "lease table (kupol worker on each machine); off: this process runs every camera.",
    )
    worker_id: str = Field(
        "", max_length=80, description="This worker's name in the lease table (default: host-pid)."
    )
    lease_ttl_s: float = Field(
        6.0,
        ge=1,
        le=300,
        description="A worker's cameras move to the others this long after it stops beating "
        "(it beats every third of it).",
    )
    realtime_files: bool = Field(
        True, description="Pace file cameras as live ones (off: as fast as the CPU allows)."
    )
    camera_ids: tuple[str, ...] = Field(
        (),
        description=(
            "Run only these cameras' pipelines (empty: every camera). Splits the cameras "
            "across several vision processes; API-only processes set enabled = false."
        ),
    )


class FacesSettings(Section):
    """Face matching against watchlists, retrospective search and the retention of templates."""

    matching: bool = Field(
        True, description="Match faces seen by cameras against the active watchlists."
    )
    engine: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Face detector, embedder and quality thresholds (FaceEngineConfig in "
            "kupol.faces.engine; empty: the measured defaults, see docs/faces.md)."
        ),
    )
    retention_days: float = Field(
        30.0,
        gt=0,
        le=3650,
        description=(
            "Face templates and crops seen by cameras are kept this long for retrospective "
            "search, then purged. Watchlist photos are kept until removed."
        ),
    )
    purge_interval_s: float = Field(
        3600.0, gt=0, le=86400, description="How often expired face templates are purged."
    )
    group_window_s: float = Field(
        120.0,
        gt=0,
        le=86400,
        description=(
            "Repeated sightings of one watchlist person on one camera within this time join "
            "one hit instead of raising another."
        ),
    )
    default_threshold: float = Field(
        0.94,
        gt=0,
        lt=1,
        description="Cosine similarity a new watchlist starts with (tune it from decisions).",
    )
    search_min_similarity: float = Field(
        0.9,
        gt=0,
        lt=1,
        description="Least similarity a retrospective search returns by default.",
    )

    @field_validator("engine")
    @classmethod
    def _engine_is_valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Checked when settings load (``kupol config check``), loaded when first used; the
        # defaults need no check (and no import of the face models' libraries).
        if value:
            from kupol.faces.engine import FaceEngineConfig

            FaceEngineConfig.model_validate(value)
        return value


class PlatesSettings(Section):
    """Plate reading on cameras (each camera switches it on in its analytics)."""

    reader: str = Field(
        "kupol",
        min_length=1,
        description=(
            "Plate reader plug-in cameras use unless their analytics name another "
            "(kupol.plates.readers: kupol, the CRNN trained here; rapidocr, the baseline)."
        ),
    )
    detector: bool = Field(
        True,
        description="The kupol reader also reads the places its learned plate detector finds "
        "(besides the classical locator's): more plates found, about 35 ms more a reader call "
        "on a camera. Off: the classical locator only.",
    )
    max_speed_kmh: float = Field(
        200.0,
        gt=0,
        le=1000,
        description="Fastest straight-line speed between two sightings of one plate before "
        "it is a possible cloned plate.",
    )
    clone_min_distance_km: float = Field(
        2.0,
        ge=0,
        le=100,
        description="Cameras closer than this never make a possible cloned plate (their "
        "positions are not known to a few hundred metres, and the crossing between them is "
        "short).",
    )
    clone_clock_skew_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="Seconds added to the time between two sightings before the speed is "
        "worked out: the cameras' clocks may differ by this much.",
    )


class SectionSettings(Section):
    """An average-speed section between two plate cameras."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="The section's name.")
    entry_camera: str = Field(min_length=1, description="Plate camera at its start.")
    exit_camera: str = Field(min_length=1, description="Plate camera at its end.")
    length_m: float = Field(gt=0, le=200_000, description="Road distance between them, metres.")
    limit_kmh: float = Field(gt=0, le=200, description="Speed limit over the section.")
    max_minutes: float = Field(60.0, gt=0, le=24 * 60, description="Longer apart: two trips.")


class TrafficSettings(Section):
    """Traffic enforcement: the legal table, review and notices, smart crossings."""

    legal_table: Path | None = Field(
        None,
        description="The deployment's own legal table (TOML: articles, fines, MRP by date); "
        "empty: the one kupol ships (src/kupol/traffic/reference/kz-legal.toml).",
    )
    timezone: str = Field(
        "Asia/Almaty",
        description="Local time of the offences: the day whose MRP applies, notice dates.",
    )
    signing_secret: SecretStr | None = Field(
        None,
        description="Keyed the officers' decision signatures before they were signed with "
        "their X.509 certificates; kept so those older decisions still verify. Empty: "
        "derived from [security] secret_key.",
    )
    notice_prefix: str = Field(
        "KUP",
        pattern=r"^[A-Z0-9]{1,8}$",
        description="Notice numbers start with this (then the year and a sequence).",
    )
    mqtt: bool = Field(
        False,
        description="Use the MQTT broker of [mqtt] (host, port) for the crossings' warning "
        "devices and the controllers' phase feed; off: warnings are only logged and counted.",
    )
    crossings_prefix: str = Field(
        "kupol/crossings",
        min_length=1,
        description="MQTT topics of crossing warning devices: <prefix>/<crossing id>/warning.",
    )
    still_camera_mps: float = Field(
        1.0,
        ge=0,
        le=10,
        description="A speed measured by a camera on a unit (a drone, a robot) counts only "
        "while the unit moved no faster than this (m/s: hovering, standing): its calibration "
        "holds for a still camera only. Faster, the violation is refused.",
    )
    sections: list[SectionSettings] = Field(
        default_factory=list, description="Average-speed sections ([[traffic.sections]])."
    )
    sections_every_s: float = Field(
        60.0, gt=0, le=3600, description="How often new sightings are paired into trips."
    )
    section_tolerance_kmh: float = Field(
        10.0, ge=0, le=50, description="Average excess not reported (art. 592 starts above 10)."
    )
    section_min_confidence: float = Field(
        0.8, ge=0, le=1, description="Least plate-read confidence of both ends of a trip."
    )
    repeat_window_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="A violation of the same offence by the same plate at the same camera "
        "within this many seconds of one already recorded is the same event seen twice (the "
        "tracker lost and found the vehicle): it is kept, marked a duplicate of the first and "
        "left out of the queue. 0: never merged.",
    )
    signals_topic: str = Field(
        "kupol/signals/+/phase",
        min_length=1,
        description="MQTT topic of traffic-light controllers' phase reports (+ is the signal).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class EvidenceSettings(Section):
    """The evidence vault: retention, purge and resumable uploads."""

    retention_days: dict[str, int] = Field(
        default_factory=lambda: {
            "bodycam": 30,
            "camera": 30,
            "drone": 30,
            "photo": 365,
            "document": 1825,
            "citizen": 365,  # citizens' reports: appeals and rewards run for months
            "other": 90,
        },
        description="Days an item without a case is kept, by category; then it is purged.",
    )
    case_years: int = Field(
        5, ge=1, le=100, description="Years an item is kept after its case is closed."
    )
    purge_every_s: float = Field(
        3600.0, gt=0, le=86400, description="How often items past their retention are purged."
    )
    max_upload_bytes: int = Field(
        64 * 1024**3, ge=1, description="The largest file a resumable upload may carry."
    )
    upload_expire_h: float = Field(
        24.0, gt=0, le=24 * 30, description="Hours an unfinished resumable upload is kept."
    )
    storage: Literal["local", "s3"] = Field(
        "local",
        description="Where files are kept: on local disk under data_dir/vault, or in an "
        "S3-compatible bucket (MinIO, Garage, Ceph, AWS S3).",
    )
    s3_endpoint: str = Field("", description="The S3 service's URL (empty: AWS).")
    s3_bucket: str = Field("", description="The bucket (it must exist; make it write-once).")
    s3_prefix: str = Field("", description="A key prefix inside the bucket.")
    s3_region: str = Field("us-east-1", description="The S3 region.")
    s3_access_key: str | None = Field(None, description="Access key (else the AWS defaults).")
    s3_secret_key: SecretStr | None = Field(None, description="Secret key.")

    @model_validator(mode="after")
    def _s3_complete(self) -> EvidenceSettings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("storage = s3 needs s3_bucket")
        return self

    @field_validator("retention_days")
    @classmethod
    def _every_category(cls, value: dict[str, int]) -> dict[str, int]:
        from kupol.evidence.service import CATEGORIES

        missing = sorted(set(CATEGORIES) - set(value))
        if missing or any(days < 1 for days in value.values()):
            raise ValueError(
                f"give a retention of 1 day or more for every category ({', '.join(CATEGORIES)})"
            )
        return value


class DocumentSettings(Section):
    """The document flow's signatures."""

    trust_anchors: list[Path] = Field(
        default_factory=list,
        description="PEM files of further CAs whose certificates may sign documents (e.g. "
        "the NCA's roots); the deployment's own CA is always trusted.",
    )


class RoadsSettings(Section):
    """Road safety: the accident registry and its reference data."""

    population: Path | None = Field(
        None,
        description="The deployment's own region table (TOML: population and vehicles by "
        "region and date, region aliases); empty: the one kupol ships "
        "(src/kupol/roads/reference/kz-population.toml).",
    )


class AntifraudSettings(Section):
    """Anti-fraud: transfers banks ask about before executing them."""

    hold_hours: float = Field(
        24.0,
        gt=0,
        le=24 * 10,
        description="How long a held transfer waits for the payer's confirmation before it is "
        "released by expiry.",
    )
    hold_threshold: float = Field(
        0.5, ge=0, le=1, description="The model's fraud probability from which a transfer is held."
    )
    history_days: int = Field(
        30,
        ge=1,
        le=366,
        description="Days of earlier transfers the service remembers per account "
        "(the payer's usual amounts, the payee's payers).",
    )
    organisation: str = Field(
        "kupol",
        min_length=2,
        max_length=120,
        description="The reporting organisation named in reports to the Anti-Fraud Centre.",
    )
    call_window_hours: float = Field(
        2.0,
        gt=0,
        le=72,
        description="A transfer is held when the payer was called this many hours before by a "
        "number screening warned about or blocked.",
    )
    model: Path | None = Field(
        None,
        description="The deployment's own transfer model (joblib with its card; kupol does not "
        "start if it cannot be used); empty: the one kupol ships, trained on PaySim "
        "(src/kupol/antifraud/models/).",
    )
    screen_model: Path | None = Field(
        None,
        description="The deployment's own call screening model (joblib with its card, made by "
        "`kupol antifraud train-screen-model` from its labelled CDRs; kupol does not start if "
        "it cannot be used); empty: the one kupol ships, trained on simulated network days "
        "(src/kupol/antifraud/models/).",
    )
    numbering: Path | None = Field(
        None,
        description="The deployment's copy of Kazakhstan's numbering plan (TOML as "
        "src/kupol/antifraud/reference/kz-numbering.toml: mobile codes and operators, area "
        "codes); kupol does not start if it cannot be read; empty: the one kupol ships "
        "(unverified: check it against the regulator's current plan).",
    )
    ported: Path | None = Field(
        None,
        description="The number-portability register's export (CSV: number,operator), read at "
        "start: a ported number presented by the network now serving it is no "
        "network_mismatch; kupol does not start if it cannot be read; empty: none.",
    )
    screen_listen: str = Field(
        "",
        pattern=r"^$|^[^\s:]+:[0-9]{1,5}$",
        description="HOST:PORT of the switches' port: call screening alone over plain HTTP/1.1, "
        "served by the API process beside the API (the same windows and lists); empty: off. "
        "The API's own screening endpoint answers either way.",
    )
    decision_writer: Literal["process", "thread"] = Field(
        "process",
        description="While the switches' port is served, who stores the call decisions "
        "screened in the API's event loop: process — a child process of its own (the "
        "screening does not share its interpreter lock with storing; a SQLite file or "
        "PostgreSQL), thread — the group commit's thread in the API process (always so on "
        "an in-memory SQLite, and without the port).",
    )
    warm_start_minutes: float = Field(
        15.0,
        ge=0,
        le=1440,
        description="At start the API (and the SIP front) replays the call decisions stored "
        "in this many last minutes through call screening's windows (a restart does not "
        "forget a call-centre's fan-out; their verdicts are not changed or stored again); it "
        "serves once done, or after 2 minutes of replay with what it has. 0: start with empty "
        "windows.",
    )


class CitizensSettings(Section):
    """The citizens' portal: sign-up by phone, their reports."""

    sms_gateway: Literal["log"] = Field(
        "log",
        description="How verification codes are sent: log (to data_dir/sms.log, a line of "
        "JSON each — for development and the demo; a deployment adds its operator's gateway).",
    )
    code_ttl_s: int = Field(300, ge=60, le=3600, description="A code is valid this long.")
    code_attempts: int = Field(5, ge=1, le=10, description="Wrong codes before a new one.")
    codes_per_hour: int = Field(
        5, ge=1, le=100, description="Codes sent to one phone (and one device) in an hour."
    )
    reports_per_day: int = Field(
        20, ge=1, le=1000, description="Reports one citizen (and one device) may send a day."
    )
    max_media_mb: int = Field(200, ge=1, le=4000, description="The largest photo or video.")
    helper_max_hours_per_week: float = Field(
        24, ge=2, le=60, description="Public-order helpers: most patrol hours in a local week."
    )
    helper_max_per_area: int = Field(
        6, ge=1, le=100, description="Public-order helpers on duty in one area at once."
    )
    helper_night_shifts: bool = Field(
        True, description="Whether helpers' shifts may run into 22:00–06:00 (local)."
    )


class ScootersSettings(Section):
    """Rental e-scooters: the city's rules beside its zones (kept in the database)."""

    max_speed_kmh: float = Field(25.0, gt=0, le=60, description="The limit everywhere.")
    sidewalk_max_kmh: float = Field(6.0, gt=0, le=25, description="The limit on sidewalks.")
    curfew: str = Field(
        "23:00-06:00",
        pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
        description="No riding in this local time window (HH:MM-HH:MM; empty: none).",
    )
    min_age: int = Field(18, ge=14, le=25, description="Riders' minimum age.")
    licence_required: bool = Field(True, description="Riders must hold a driving licence.")
    timezone: str = Field("Asia/Almaty", description="Local time of curfews and report days.")


class FleetSettings(Section):
    mavlink: bool = Field(
        False, description="Listen for drones' MAVLink telemetry on UDP (mavlink_port)."
    )
    mavlink_host: str = Field(
        "127.0.0.1", description="Address the MAVLink listener binds (0.0.0.0: every interface)."
    )
    mavlink_port: int = Field(14550, ge=1, le=65535, description="MAVLink UDP port (GCS port).")
    mqtt: bool = Field(
        False,
        description="Take robot dogs' and patrol devices' telemetry from the MQTT broker "
        "([mqtt] host and port) on mqtt_topic.",
    )
    mqtt_topic: str = Field(
        "kupol/units/+/telemetry", description="Telemetry subscription; + is the unit's callsign."
    )
    link_stale_s: float = Field(
        5.0, gt=0, description="Seconds without telemetry after which a unit's link is stale."
    )
    link_lost_s: float = Field(
        15.0, gt=0, description="Seconds without telemetry after which a unit's link is lost."
    )
    battery_low_pct: float = Field(
        30.0, ge=0, le=100, description="Battery at or below this: advise returning home."
    )
    battery_critical_pct: float = Field(
        15.0, ge=0, le=100, description="Battery at or below this: advise landing or stopping now."
    )
    flush_every_s: float = Field(
        0.5, gt=0, le=10, description="How often telemetry samples are written, in one batch."
    )
    max_alt_m: float = Field(
        120.0,
        gt=0,
        le=5_000,
        description="Highest waypoint a drone's mission may have (m above home).",
    )
    roads: Path | None = Field(
        None,
        description="GeoJSON road centre lines units are routed over (speed_kmh, oneway, foot "
        "properties); none: ground units' times are estimated from straight lines.",
    )
    arrive_within_m: float = Field(
        60.0, gt=0, le=5_000, description="A dispatched unit this near its target has arrived."
    )
    simulate: bool = Field(
        False,
        description="Fly the demo's simulated drone (MAVLink) and walk its robot dog (MQTT) "
        "while kupol runs (make demo).",
    )
    endurance_reserve: float = Field(
        0.2, ge=0, lt=1, description="Share of a unit's endurance a mission must leave unused."
    )


class Settings(BaseSettings):
    """The whole configuration of one kupol deployment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    mode: Literal["dev", "test", "prod"] = Field("dev", description="prod refuses dev secrets.")
    data_dir: Path = Field(Path("var"), description="Evidence files and the SQLite database.")
    default_locale: Literal["ru", "kk", "en"] = Field(
        "ru", description="Console language before login and for new users."
    )
    database: DatabaseSettings = DatabaseSettings()
    history: HistorySettings = HistorySettings()
    bus: BusSettings = BusSettings()
    mqtt: MqttSettings = MqttSettings()
    security: SecuritySettings = SecuritySettings()
    server: ServerSettings = ServerSettings()
    vision: VisionSettings = VisionSettings()
    faces: FacesSettings = FacesSettings()
    plates: PlatesSettings = PlatesSettings()
    traffic: TrafficSettings = TrafficSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    documents: DocumentSettings = DocumentSettings()
    roads: RoadsSettings = RoadsSettings()
    antifraud: AntifraudSettings = AntifraudSettings()
    fleet: FleetSettings = FleetSettings()
    scooters: ScootersSettings = ScootersSettings()
    citizens: CitizensSettings = CitizensSettings()

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.mode != "dev" and self.security.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise ValueError(
                "security.secret_key is the built-in development secret; "
                f"set KUPOL_SECURITY__SECRET_KEY or [security] secret_key in {self.mode} mode"
            )
        if self.mode != "dev" and len(self.security.secret_key.get_secret_value()) < 32:
            raise ValueError("security.secret_key must be at least 32 characters outside dev")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        source = _SOURCE.get()
        toml_file = source.toml_file if source else None
        environment = _GivenEnvironment(settings_cls, source.environ) if source else env_settings
        sources: list[PydanticBaseSettingsSource] = [init_settings, environment]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, when the database is SQLite on disk."""
        prefix = "sqlite:///"
        url = self.database.url
        if url.startswith(prefix) and url[len(prefix) :] not in ("", ":memory:"):
            return Path(url[len(prefix) :])
        return None


@dataclass(frozen=True)
class _Source:
    toml_file: Path | None
    environ: Mapping[str, str]


# pydantic-settings builds its sources from the class, so load_settings hands the file and
# environment it chose over through a context variable: per thread and task, never global.
_SOURCE: ContextVar[_Source | None] = ContextVar("kupol_settings_source", default=None)


class _GivenEnvironment(EnvSettingsSource):
    """The environment source, reading a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._given.items()}


def _check_env_keys(environ: Mapping[str, str]) -> None:
    """Refuse KUPOL_* variables that name no setting, so a typo is not silently ignored."""
    unknown: list[str] = []
    for key in environ:
        # pydantic-settings matches names without regard to case, so the check does too.
        if not key.upper().startswith(ENV_PREFIX) or key.upper() in RESERVED_ENV:
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        model: Any = Settings
        for part in path:
            fields = getattr(model, "model_fields", None)
            if fields is None or part not in fields:
                unknown.append(key)
                break
            annotation = fields[part].annotation
            model = annotation if isinstance(annotation, type) else None
            if model is None or not issubclass(model, BaseModel):
                model = None
    if unknown:
        raise ConfigError(
            "unknown setting(s) in the environment: "
            + ", ".join(sorted(unknown))
            + " (see docs/configuration.md for the keys)"
        )


def load_settings(
    *,
    toml_file: Path | str | None = "kupol.toml",
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read the settings, turning every problem into one :class:`ConfigError`.

    Args:
        toml_file: the TOML file; a missing default ``kupol.toml`` is fine, a missing
            file named explicitly (or by ``KUPOL_CONFIG``) is an error. ``None``: no file.
        environ: the environment to read (default ``os.environ``).
        **overrides: values that win over everything else (tests, CLI flags).
    """
    env = dict(os.environ if environ is None else environ)
    path: Path | None = None
    explicit = env.get("KUPOL_CONFIG")
    if explicit:
        path = Path(explicit)
    elif toml_file is not None:
        path = Path(toml_file)
        if not path.exists() and str(toml_file) == "kupol.toml":
            path = None
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    _check_env_keys(env)
    token = _SOURCE.set(_Source(toml_file=path, environ=env))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    except ValueError as exc:  # TOML syntax errors arrive as ValueError subclasses
        raise ConfigError(f"cannot read {path}: {exc}") from None
    finally:
        _SOURCE.reset(token)


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = f" (from {path} and KUPOL_* variables)" if path else " (from KUPOL_* variables)"
    lines = [f"invalid configuration{where}:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "settings"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
