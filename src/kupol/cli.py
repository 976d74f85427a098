"""The ``kupol`` command line.

Exit codes scripts can rely on: 0 success, 1 a check failed (e.g. the audit chain is
broken), 2 bad arguments or input, 3 bad configuration, 4 not found, 5 conflict,
6 authentication/permission, 8 a service (database, bus) is unavailable, 9 a video source
cannot be read, 130 interrupted.
"""

from __future__ import annotations

import logging.config
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from kupol.alerts.cli import app as rules_app
from kupol.antifraud.cli import app as antifraud_app
from kupol.cameras.cli import app as cameras_app
from kupol.clikit import (
    STATE,
    container,
    err,
    handle_errors,
    out,
    require_schema,
    settings,
)
from kupol.core.auth.scope import CameraScope, UserScopes
from kupol.core.errors import ConfigError, InvalidInputError, ServiceUnavailableError
from kupol.faces.cli import app as faces_app
from kupol.fleet.cli import app as fleet_app
from kupol.plates.cli import app as plates_app
from kupol.roads.cli import app as roads_app
from kupol.settings import Settings

app = typer.Typer(
    name="kupol",
    help="kupol (купол) — digital policing platform: cameras, events, alerts, audit.\n\n"
    "Start with `kupol demo` to see it work, `kupol run` in production.",
    epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 bad configuration, 4 not found, "
    "5 conflict, 6 not allowed, 8 database/bus unavailable, 9 video source unreadable.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(
    help="Database schema: upgrade, show the current revision.", no_args_is_help=True
)
users_app = typer.Typer(help="Manage console and API users.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the audit log.", no_args_is_help=True)
evidence_app = typer.Typer(
    help="The evidence vault: check its files and chains of custody.", no_args_is_help=True
)
documents_app = typer.Typer(
    help="Protocols and resolutions: signing certificates, offline verification.",
    no_args_is_help=True,
)
quarantine_app = typer.Typer(
    help="Input that could not be accepted, kept with the reason.", no_args_is_help=True
)
eval_app = typer.Typer(help="Measure analytics on real video and data.", no_args_is_help=True)
config_app = typer.Typer(
    help="Check the configuration and print its reference.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(evidence_app, name="evidence")
app.add_typer(documents_app, name="documents")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(eval_app, name="eval")
app.add_typer(config_app, name="config")
app.add_typer(cameras_app, name="cameras")
app.add_typer(rules_app, name="rules")
app.add_typer(faces_app, name="faces")
app.add_typer(plates_app, name="plates")
app.add_typer(roads_app, name="roads")
app.add_typer(fleet_app, name="fleet")
app.add_typer(antifraud_app, name="antifraud")


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="TOML settings file (default ./kupol.toml if present)."
        ),
    ] = None,
) -> None:
    """Global options."""
    STATE["config"] = config


@config_app.command("check")
@handle_errors
def config_check() -> None:
    """Validate the configuration and print the effective settings (secrets hidden)."""
    import json

    out.print_json(json.dumps(settings().model_dump(mode="json"), default=str))


@config_app.command("reference")
def config_reference() -> None:
    """Print the Markdown reference of every setting (docs/configuration.md)."""
    from kupol.config_reference import reference

    sys.stdout.write(reference())


@config_app.command("analytics-reference")
def config_analytics_reference() -> None:
    """Print the Markdown reference of a camera's analytics (docs/camera-analytics.md)."""
    from kupol.config_reference import analytics_reference

    sys.stdout.write(analytics_reference())


@db_app.command("upgrade")
@handle_errors
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database schema to the latest version."""
    from sqlalchemy.exc import OperationalError

    from kupol.core.db import upgrade

    s = settings()
    try:
        upgrade(s.database.url, revision)
    except OperationalError as exc:
        raise ServiceUnavailableError(f"cannot reach the database: {exc.orig}") from None
    out.print(f"database at {_safe_url(s.database.url)} is at revision {revision}")


@db_app.command("current")
@handle_errors
def db_current() -> None:
    """Print the schema revision the database is at."""
    from kupol.core.db import current_revision, make_engine

    engine = make_engine(settings().database.url)
    out.print(current_revision(engine) or "empty (run `kupol db upgrade`)")


@db_app.command("partitions")
@handle_errors
def db_partitions() -> None:
    """List the time partitions of camera events and plate sightings (PostgreSQL)."""
    from kupol.core.db import make_engine
    from kupol.core.partitions import PARTITIONED, is_partitioned, partitions

    engine = make_engine(settings().database.url)
    with engine.connect() as conn:
        for spec in PARTITIONED:
            if not is_partitioned(conn, spec.table):
                out.print(f"{spec.table}: not partitioned (retention deletes old rows)")
                continue
            parts = partitions(conn, spec.table)
            out.print(f"{spec.table}: {len(parts)} partitions by {spec.column}")
            for part in parts:
                span = "default"
                if part.since is not None and part.until is not None:
                    span = f"{part.since:%Y-%m-%d} … {part.until:%Y-%m-%d}"
                rows = "not analysed" if part.rows < 0 else f"≈ {part.rows:,} rows"
                out.print(f"  {part.name:<32} {span:<25} {rows}")
    engine.dispose()


@db_app.command("history")
@handle_errors
def db_history() -> None:
    """Make the time partitions due and apply the retention now (`kupol run` does it every
    [history] every_s)."""
    from kupol.core.db import make_engine
    from kupol.core.partitions import History, Interval

    s = settings()
    engine = make_engine(s.database.url)
    done = History(
        engine,
        interval=Interval(s.history.partition_interval),
        ahead=s.history.partitions_ahead,
        retention_days={
            "camera_events": s.history.camera_events_days,
            "plate_sightings": s.history.plate_sightings_days,
        },
    ).run()
    engine.dispose()
    if done.skipped:
        out.print("another node is seeing to the partitions now; nothing done")
        return
    for table, made in done.made.items():
        out.print(f"{table}: made {', '.join(made)}")
    for trimmed in done.trimmed:
        out.print(
            f"{trimmed.table}: dropped {len(trimmed.partitions)} partitions"
            f"{' (' + ', '.join(trimmed.partitions) + ')' if trimmed.partitions else ''},"
            f" deleted {trimmed.rows:,} rows past the retention"
            + (f" and {trimmed.companions:,} of its summaries" if trimmed.companions else "")
        )
    if not done.made and not done.trimmed:
        out.print("nothing due (no retention set, partitions already ahead)")


@users_app.command("add")
@handle_errors
def users_add(
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, . _ -"),
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            "-r",
            help="Role (repeat for several): admin, operator, analyst, "
            "investigator, traffic_officer, fraud_analyst, auditor, device, bank, telecom.",
        ),
    ] = [],  # noqa: B006
    full_name: str = typer.Option("", help="Name shown in the console and audit log."),
    locale: str = typer.Option("ru", help="Console language: ru, kk or en."),
    camera: Annotated[
        list[str],
        typer.Option(
            "--camera",
            help="Scope: a camera the user sees, or a device may submit events for (repeat).",
        ),
    ] = [],  # noqa: B006
    region: Annotated[
        list[str],
        typer.Option("--region", help="Scope: a region (01-20) whose cameras the user sees."),
    ] = [],  # noqa: B006
    password_stdin: bool = typer.Option(
        False, help="Read the password from standard input instead of generating one."
    ),
) -> None:
    """Create a user. A generated password is printed once. Without --camera and --region
    the user sees every camera."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    services = container()
    user, password = services.auth.create_user(
        username=username,
        password=password,
        roles=role,
        full_name=full_name,
        locale=locale,
        camera_ids=camera,
        region_codes=region,
    )
    if "device" in role and not camera:
        err.print(
            "note: this device may submit events for any camera; bind it with --camera",
            markup=False,
        )
    _warn_unknown_cameras(services.auth.scopes, user.camera_ids)
    scope = CameraScope.of(user)
    shown = "" if scope.everywhere else f"; scope: {scope}"
    out.print(
        f"created {username} ({', '.join(sorted(set(role)))}){shown}", highlight=False, markup=False
    )
    if not password_stdin:
        out.print(f"password: {password}", highlight=False)


@users_app.command("scope")
@handle_errors
def users_scope(
    username: str,
    camera: Annotated[
        list[str], typer.Option("--camera", help="A camera the user sees (repeat).")
    ] = [],  # noqa: B006
    region: Annotated[
        list[str],
        typer.Option("--region", help="A region (01-20) whose cameras the user sees (repeat)."),
    ] = [],  # noqa: B006
    clear: bool = typer.Option(False, "--clear", help="Let the user see every camera again."),
) -> None:
    """Show a user's scope, or replace it with the --camera and --region given (or --clear
    it). The user's next request uses the new scope."""
    from kupol.core.auth.service import SYSTEM

    auth = container().auth
    if clear and (camera or region):
        raise InvalidInputError("--clear takes no --camera or --region")
    if not (clear or camera or region):
        scope = auth.scopes.of(username)
    else:
        scope = auth.scopes.set(
            username=username, camera_ids=camera, region_codes=region, actor=SYSTEM
        )
        _warn_unknown_cameras(auth.scopes, scope.camera_ids)
    out.print(f"{username}: {scope}", highlight=False, markup=False)


def _warn_unknown_cameras(scopes: UserScopes, camera_ids: Iterable[str]) -> None:
    unknown = scopes.missing_cameras(camera_ids)
    if unknown:
        err.print(
            f"note: no camera {', '.join(unknown)} is registered (yet): it is in the scope "
            "once it is",
            markup=False,
        )


@users_app.command("list")
@handle_errors
def users_list() -> None:
    """List users, their roles and the scope of those who do not see every camera."""
    for principal, active in container().auth.list_users():
        state = "" if active else "  [disabled]"
        scope = CameraScope.of(principal)
        shown = "" if scope.everywhere else f"  [{scope}]"
        out.print(
            f"{principal.username:<20} {', '.join(principal.roles)}{shown}{state}",
            highlight=False,
            markup=False,
        )


@users_app.command("passwd")
@handle_errors
def users_passwd(
    username: str,
    password_stdin: bool = typer.Option(False, help="Read the new password from standard input."),
) -> None:
    """Set a new password (generated unless --password-stdin) and end the user's sessions."""
    import secrets

    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
    container().auth.set_password(username=username, password=password)
    out.print(f"password of {username} changed")
    if not password_stdin:
        out.print(f"password: {password}", highlight=False)


@users_app.command("reset-mfa")
@handle_errors
def users_reset_mfa(username: str) -> None:
    """Switch a user's two-factor sign-in off (lost phone and recovery codes) and end their
    sessions; where it is required they enrol again at their next login."""
    from kupol.core.auth.service import SYSTEM

    container().auth.mfa.reset(username=username, actor=SYSTEM)
    out.print(f"two-factor sign-in of {username} reset; their sessions ended")


@audit_app.command("verify")
@handle_errors
def audit_verify(
    anchor: str | None = typer.Option(
        None, help="SEQ:HASH printed by an earlier run; detects entries cut off the end."
    ),
) -> None:
    """Recompute the audit log's hash chain. Exit 0 if intact, 1 if tampered with.

    Prints the anchor of the last entry: keep it outside the database (a ticket, a signed
    e-mail) and pass it with --anchor next time.
    """
    report = container().audit.verify(anchor=anchor)
    if report.ok:
        out.print(f"audit log intact: {report.checked} entries verified")
        out.print(f"anchor: {report.anchor}", highlight=False, soft_wrap=True)
        return
    err.print(
        f"[bold red]audit log BROKEN[/] at entry {report.first_bad_seq}: {report.reason} "
        f"({report.checked} entries verified before it)",
        highlight=False,
    )
    raise typer.Exit(1)


@evidence_app.command("verify")
@handle_errors
def evidence_verify(
    workers: int = typer.Option(
        os.cpu_count() or 1, min=1, max=64, help="Processes checking the chains at once."
    ),
) -> None:
    """Re-hash every file in the vault and recompute every item's chain of custody (and its
    last entry against the audit log). Exit 0 if intact, 1 naming the first broken link."""
    report = container().evidence.verify(workers=workers)
    if report.ok:
        out.print(f"evidence vault intact: {report.items} items, {report.entries} custody entries")
        return
    first = report.problems[0]
    where = f"entry {first.seq}" if first.seq is not None else "its file"
    err.print(
        f"[bold red]evidence vault BROKEN[/]: item {first.item_id}, {where}: {first.reason} "
        f"({len(report.problems)} problem(s) in all)",
        highlight=False,
    )
    for problem in report.problems[1:]:
        where = f"entry {problem.seq}" if problem.seq is not None else "its file"
        err.print(f"  item {problem.item_id}, {where}: {problem.reason}", highlight=False)
    raise typer.Exit(1)


@evidence_app.command("import-folder")
@handle_errors
def evidence_import_folder(
    folder: Path = typer.Argument(..., help="A docked body camera's folder of clips."),
    user: str = typer.Option(..., help="The user the import is made as (recorded in custody)."),
    category: str = typer.Option("bodycam", help="The clips' category."),
) -> None:
    """Import a folder of clips, each with its sidecar .json (device, officer, time span, GPS;
    see docs/evidence.md). Bad clips are listed with their reason; the others are kept."""
    from kupol.evidence.docking import import_folder

    c = container()
    report = import_folder(c.evidence, folder, actor=c.auth.principal_of(user), category=category)
    out.print(
        f"imported {len(report.imported)}, already in the vault {len(report.duplicates)}, "
        f"refused {len(report.refused)}"
    )
    for name, reason in report.refused:
        err.print(f"  {name}: {reason}", highlight=False)
    if report.refused:
        raise typer.Exit(1)


@evidence_app.command("verify-package")
@handle_errors
def evidence_verify_package(
    package: Path = typer.Argument(..., help="The exported ZIP."),
    fingerprint: str | None = typer.Option(
        None, help="The signing key's fingerprint the deployment publishes, to compare."
    ),
) -> None:
    """Check an export package offline: its signature, every file's SHA-256 and every chain
    of custody in it. Exit 0 if intact, 1 if not."""
    from kupol.evidence.package import verify_package

    report = verify_package(package)
    if report.ok and fingerprint and fingerprint.lower() != report.fingerprint:
        report.problems.append(
            f"signed by key {report.fingerprint}, not the expected {fingerprint.lower()}"
        )
    if report.ok:
        out.print(f"package intact: {report.items} items, signed by key {report.fingerprint}")
        return
    err.print(f"[bold red]package BROKEN[/]: {report.problems[0]}", highlight=False)
    for problem in report.problems[1:]:
        err.print(f"  {problem}", highlight=False)
    raise typer.Exit(1)


@quarantine_app.command("list")
@handle_errors
def quarantine_list(
    limit: int = typer.Option(50, min=1, max=1000, help="How many, newest first."),
    bodies: bool = typer.Option(False, help="Print each rejected input too."),
) -> None:
    """Show rejected input (bad MQTT messages, events for unknown cameras) and why."""
    import json

    for item in container().quarantine.recent(limit=limit):
        out.print(
            f"{item.id:>6} {item.received_at:%Y-%m-%d %H:%M:%S} {item.source}: {item.reason}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        if bodies:
            out.print(
                "       " + json.dumps(item.body, ensure_ascii=False, default=str)[:2000],
                markup=False,
                highlight=False,
                soft_wrap=True,
            )


@eval_app.command("motion")
@handle_errors
def eval_motion(
    video: Path = typer.Argument(..., help="Video file to analyse."),
    fps: float = typer.Option(5.0, min=0.1, max=60, help="Analysis frame rate."),
    min_area: float = typer.Option(
        0.004, min=0.0001, max=0.9, help="Changed fraction of the image that is motion."
    ),
    timeline: bool = typer.Option(False, help="List each motion episode's start and end."),
) -> None:
    """Run the motion detector over a video as fast as possible and report what it found."""
    import av

    from kupol.core.errors import SourceError
    from kupol.vision.evaluate import measure_motion
    from kupol.vision.sources import check_source

    check_source(str(video))
    try:
        container = av.open(str(video))
    except (av.error.FFmpegError, OSError) as exc:
        raise SourceError(f"cannot open video {video}: {exc}") from None
    with container:
        if not container.streams.video:
            raise SourceError(f"no video stream in {video}")
        stream = container.streams.video[0]
        duration = (
            float(stream.duration * stream.time_base)
            if stream.duration and stream.time_base
            else None
        )
    with Progress(
        TextColumn("analysing"),
        BarColumn(),
        TextColumn("{task.completed:.0f}s"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("video", total=duration)
        report = measure_motion(
            str(video),
            analysis_fps=fps,
            min_area=min_area,
            progress=lambda t: progress.update(task, completed=t),
        )
    out.print(
        f"{video.name}: {report.frames} frames analysed at {fps:g} fps, "
        f"{len(report.episodes)} motion episodes, {report.events} events, "
        f"{report.frames_per_second:.0f} frames/s on this machine",
        soft_wrap=True,
    )
    if timeline:
        for episode in report.episodes:
            end = f"{episode.end_s:.1f}" if episode.end_s is not None else "end"
            out.print(f"  motion {episode.start_s:.1f} s - {end} s", highlight=False)


def _face_engine_config(detector: str | None) -> Any:
    """The configured face engine (``faces.engine`` in the settings), its detector type
    replaced when ``detector`` is given."""
    from kupol.faces.engine import engine_config

    engine = dict(settings().faces.engine)
    if detector:
        engine["detector"] = {"type": detector}
    return engine_config(engine)


@eval_app.command("faces-pairs")
@handle_errors
def eval_faces_pairs(
    folder: Path = typer.Argument(..., help="Folder of photos with master.csv (deepface)."),
    threshold: float | None = typer.Option(
        None, min=-1, max=1, help="Operating cosine threshold (default: kupol's recommended)."
    ),
    detector: str | None = typer.Option(
        None, help="Face detector type instead of the configured one (blazeface, dlib-hog)."
    ),
) -> None:
    """Face verification on labelled photo pairs: accuracy, TAR at FAR 1 %, speed (JSON)."""
    import json

    from kupol.faces.evaluate import evaluate_pairs

    report = evaluate_pairs(folder, config=_face_engine_config(detector), threshold=threshold)
    print(json.dumps(report, indent=2))


@eval_app.command("plates")
@handle_errors
def eval_plates(
    folder: Path = typer.Argument(
        ..., help="Folder with groundtruth.csv (file,x,y,w,h,plate | file,plate | file,plates)."
    ),
    reader: str = typer.Option("kupol", help="Plate reader plug-in: kupol or rapidocr."),
    baseline: str | None = typer.Option(
        None, help="Also run this reader (e.g. rapidocr) and print its figures under 'baseline'."
    ),
    countries: str = typer.Option(
        "kz", help="Comma-separated countries whose plate layouts correct look-alikes (kz,br,ua…)."
    ),
    vehicles: bool = typer.Option(
        True,
        help="Whole photos: the kupol reader also looks for plates inside each vehicle the "
        "COCO detector finds (rapidocr keeps its own text detector).",
    ),
) -> None:
    """Plate reading on labelled photos or crops: detected, exact, character accuracy (JSON)."""
    import json

    from kupol.plates.evaluate import evaluate_plates
    from kupol.plates.formats import COUNTRY_LAYOUTS
    from kupol.plates.readers import reader_for

    chosen = tuple(c.strip().lower() for c in countries.split(",") if c.strip())
    unknown = sorted(set(chosen) - set(COUNTRY_LAYOUTS))
    if unknown:
        raise InvalidInputError(
            f"unknown countries {', '.join(unknown)}; known: {', '.join(sorted(COUNTRY_LAYOUTS))}"
        )
    figures = evaluate_plates(folder, reader_for(reader, countries=chosen, vehicles=vehicles))
    figures["countries"] = list(chosen)
    figures["vehicles"] = vehicles and reader == "kupol"  # the other readers find their own
    if baseline:
        figures["baseline"] = evaluate_plates(
            folder, reader_for(baseline, countries=chosen, vehicles=vehicles)
        )
    print(json.dumps(figures, indent=2))


@eval_app.command("plates-rendered")
@handle_errors
def eval_plates_rendered(
    n: int = typer.Option(2000, min=1, help="How many held-out Kazakh plates to render."),
    seed: int = typer.Option(7, help="Seed of the held-out set."),
    reader: str = typer.Option("kupol", help="Plate reader plug-in: kupol or rapidocr."),
    foreign: bool = typer.Option(
        False, "--foreign", help="Yellow foreign-owned plates (F 1234 02) instead."
    ),
) -> None:
    """Crops of rendered Kazakh plates in held-out fonts and degradations, read (JSON)."""
    import json

    from kupol.plates.evaluate import evaluate_rendered
    from kupol.plates.readers import reader_for

    figures = evaluate_rendered(reader_for(reader), n=n, seed=seed, foreign=foreign)
    print(json.dumps(figures, indent=2))


@eval_app.command("transfers")
@handle_errors
def eval_transfers(
    file: Path = typer.Argument(..., help="PaySim CSV (step,type,amount,nameOrig,…,isFraud)."),
    split_step: int = typer.Option(84, min=0, help="Train on steps up to this, test on the rest."),
    threshold: float = typer.Option(0.5, min=0.0, max=1.0, help="Model score that holds."),
) -> None:
    """Transfer holds on a time-based split: precision, recall, ROC AUC, amount protected (JSON)."""
    import json

    from kupol.antifraud.transfer_eval import evaluate_transfers

    figures = evaluate_transfers(file, split_step=split_step, threshold=threshold)
    print(json.dumps(figures, indent=2))


@eval_app.command("voices")
@handle_errors
def eval_voices(
    folder: Path = typer.Argument(..., help="Folder with fake/ and real/ clips (recursively)."),
) -> None:
    """The synthetic-speech detector on labelled clips: EER, accuracy, and the same through a
    telephone line and after MP3 (JSON)."""
    import json

    from kupol.antifraud.voices import SyntheticSpeechDetector, evaluate_voices

    print(json.dumps(evaluate_voices(folder, SyntheticSpeechDetector.load()), indent=2))


@eval_app.command("speakers")
@handle_errors
def eval_speakers(
    folder: Path = typer.Argument(..., help="Folder of human speech recordings (recursively)."),
) -> None:
    """Speaker linking: halves of recordings compared as recorded and through a telephone
    line; equal error rate and errors at kupol's threshold (JSON)."""
    import json

    from kupol.antifraud.speaker_eval import evaluate_speakers
    from kupol.antifraud.speakers import shipped_encoder

    print(json.dumps(evaluate_speakers(folder, shipped_encoder()), indent=2))


@eval_app.command("faces-ident")
@handle_errors
def eval_faces_ident(
    folder: Path = typer.Argument(..., help="Folder of identity folders of photos."),
    threshold: float | None = typer.Option(
        None, min=-1, max=1, help="Operating cosine threshold (default: kupol's recommended)."
    ),
    detector: str | None = typer.Option(
        None, help="Face detector type instead of the configured one (blazeface, dlib-hog)."
    ),
) -> None:
    """Face identification: first half of each identity enrolled, the rest probed; rank-1,
    false alarms at the threshold, speed (JSON)."""
    import json

    from kupol.faces.evaluate import evaluate_identification

    report = evaluate_identification(
        folder, config=_face_engine_config(detector), threshold=threshold
    )
    print(json.dumps(report, indent=2))


@app.command("analyze")
@handle_errors
def analyze(
    video: Path = typer.Argument(..., help="Video file (or image folder) to analyse."),
    camera_config: Path | None = typer.Option(
        None, "--camera-config", help="The camera's analytics as TOML or JSON."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per event per line."),
    tracks: bool = typer.Option(False, help="Report track starts and ends too."),
    evidence_dir: Path | None = typer.Option(
        None, help="Write each alert's evidence frames (annotated JPEG) into this folder."
    ),
) -> None:
    """Run the camera pipeline on a video file and print the events it finds."""
    import json

    from kupol.vision.analyze import AnalysisStats, analyze_video
    from kupol.vision.annotate import save_evidence
    from kupol.vision.config import CameraAnalytics, load_camera_config
    from kupol.vision.sources import check_source

    check_source(str(video))
    config = load_camera_config(camera_config) if camera_config else CameraAnalytics()
    stats = AnalysisStats()
    for event in analyze_video(str(video), config=config, track_events=tracks, stats=stats):
        saved: list[str] = []
        if evidence_dir is not None and event.evidence:
            saved = [str(p) for p in save_evidence(event, folder=evidence_dir)]
        if as_json:
            line = event.as_json() | ({"evidence": saved} if saved else {})
            print(json.dumps(line, ensure_ascii=False), flush=True)
        else:
            where = f" zone {event.zone}" if event.zone else ""
            who = f" {event.object_class or ''}#{event.track_id}" if event.track_id else ""
            kind = "ALERT " if event.is_alert else ""
            out.print(
                f"{event.pts_s:8.2f} s  frame {event.frame_index:6d}  {kind}{event.type}"
                f"{who}{where}  ({event.confidence:.2f})",
                highlight=False,
            )
    fps = stats.frames / stats.seconds if stats.seconds else 0.0
    err.print(
        f"{video.name}: {stats.frames} frames analysed, detector on {stats.detector_runs}, "
        f"{stats.events} events, {fps:.1f} analysed frames/s",
        highlight=False,
    )


@app.command("run")
@handle_errors
def run(
    host: str | None = typer.Option(None, help="Address to listen on (default from settings)."),
    port: int | None = typer.Option(None, help="Port (default from settings)."),
) -> None:
    """Serve the API and console with the configured database, bus and sources."""
    s = settings()
    require_schema(s)
    _serve(s, host=host or s.server.host, port=port if port is not None else s.server.port)


@app.command("worker")
@handle_errors
def worker(
    worker_id: str = typer.Option(
        "", help="This worker's name (default: [vision] worker_id, else host-pid)."
    ),
) -> None:
    """Run camera pipelines without the API: with others on the same database (PostgreSQL),
    the cameras are shared out through the lease table and move when a worker joins or dies."""
    import asyncio

    from kupol.core.logs import log_config
    from kupol.settings import Settings

    s = settings()
    require_schema(s)
    data = s.model_dump()
    data["vision"].update(enabled=True, leases=True, worker_id=worker_id or s.vision.worker_id)
    s = Settings.model_validate(data)
    _preflight(s)
    logging.config.dictConfig(log_config(fmt=s.server.log_format, level=s.server.log_level))
    asyncio.run(_work(s))


async def _work(s: Settings) -> None:
    import asyncio
    import signal

    from kupol.bootstrap import build_container

    container = build_container(s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await container.start()
    try:
        await stop.wait()
    finally:
        await container.stop()


@app.command("demo")
@handle_errors
def demo(
    port: int = typer.Option(8000, help="Port to serve the console on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    video: Path | None = typer.Option(
        None,
        help="Video for every demo camera (default: the shared sample videos, or a generated one).",
    ),
    serve: bool = typer.Option(True, help="Serve the console (--no-serve: set up only)."),
) -> None:
    """Set up an embedded kupol with demo cameras and rules, print a login, and serve it."""
    from kupol.demo import prepare_demo

    s, login = prepare_demo(settings(), video=video, port=port, host=host)
    url = s.server.public_url or f"http://{host}:{port}/"
    out.print("\n[bold]kupol demo[/] is ready")
    out.print(f"  console:  {url}", highlight=False)
    out.print(f"  user:     {login[0]}", highlight=False)
    out.print(f"  password: {login[1]}", highlight=False)
    out.print(f"  API docs: {url}api/docs", highlight=False)
    from kupol.demo import TRAFFIC_CAMERA

    lights = (
        f"MQTT {s.mqtt.host}:{s.mqtt.port} {s.traffic.crossings_prefix}/sim-crossing/warning"
        if s.traffic.mqtt
        else "logged (no MQTT broker answered)"
    )
    out.print(f"  traffic:  {TRAFFIC_CAMERA}, crossing lights {lights}", highlight=False)
    clip = s.data_dir / "demo" / "intersection.mp4"
    out.print(
        f"  citizens: {url}portal (sign-in codes are written to {s.data_dir / 'sms.log'}; "
        f"a red-light run to report: {clip})",
        highlight=False,
    )
    out.print(
        "            demo citizens +7 701 000 01 01 (reported the run first: rewarded), "
        "+7 701 000 01 02 (the same run: none), +7 701 000 01 03 (a public-order helper); "
        f"open statistics: {url}public/citizens\n",
        highlight=False,
    )
    if serve:
        _serve(s, host=host, port=port)


def _serve(s: Settings, *, host: str, port: int) -> None:
    import uvicorn

    from kupol.api import create_app
    from kupol.api.app import tune_for_serving
    from kupol.bootstrap import build_container
    from kupol.core.logs import log_config

    _preflight(s)
    container = build_container(s)
    app = create_app(container)
    tune_for_serving()
    config = log_config(fmt=s.server.log_format, level=s.server.log_level)
    logging.config.dictConfig(config)
    uvicorn.run(app, host=host, port=port, log_config=config, log_level=s.server.log_level,
                timeout_graceful_shutdown=5)  # fmt: skip


def _preflight(s: Settings) -> None:
    """Fail with exit code 8 and a clear line when a server kupol needs does not answer,
    before uvicorn takes over start-up (it would report any failure as its own)."""
    from urllib.parse import urlparse

    if s.bus.type == "nats":
        # A cluster is a comma-separated list: one answering server is enough to start.
        servers = []
        for item in s.bus.nats_url.split(","):
            try:
                url = urlparse(item.strip())
                servers.append((url.hostname or "127.0.0.1", url.port or 4222))
            except ValueError as exc:
                raise ConfigError(f"bus.nats_url: {item.strip()!r} is not a URL: {exc}") from None
        if not any(_answers(host, port) for host, port in servers):
            raise ServiceUnavailableError(f"no NATS server answers at {s.bus.nats_url}")
    if s.mqtt.enabled and not _answers(s.mqtt.host, s.mqtt.port):
        raise ServiceUnavailableError(f"MQTT broker at {s.mqtt.host}:{s.mqtt.port} does not answer")


def _answers(host: str, port: int) -> bool:
    import socket

    try:
        socket.create_connection((host, port), timeout=5).close()
        return True
    except OSError:
        return False


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point of the ``kupol`` script."""
    app()


@documents_app.command("issue-certificate")
@handle_errors
def documents_issue_certificate(
    username: str = typer.Argument(..., help="The user who will sign."),
    algorithm: str = typer.Option("ecdsa-p256-sha256", help="ecdsa-p256-sha256 or ed25519."),
    days: int = typer.Option(365, help="Days the certificate is valid."),
) -> None:
    """Issue a user a signing key and certificate from the deployment's CA (replacing theirs)."""
    from kupol.core.auth.service import SYSTEM

    info = container().documents.issue_certificate(
        username=username, algorithm=algorithm, days=days, actor=SYSTEM
    )
    out.print(f"{username}: certificate {info['sha256']}, valid to {info['not_after']}")


@documents_app.command("verify")
@handle_errors
def documents_verify(
    pdf: Path = typer.Argument(..., help="The signed PDF."),
    bundle: Path = typer.Argument(
        ..., help="Its signature bundle (GET /api/documents/{id}/signature), JSON."
    ),
) -> None:
    """Check a signed document offline: the PDF's SHA-256, each signature, and each
    certificate against the CAs in the bundle (compare their fingerprints with the ones the
    deployment publishes). Exit 0 if valid, 1 if not."""
    import json

    from kupol.core.errors import InvalidInputError
    from kupol.documents.pki import fingerprint, load_certificate
    from kupol.documents.service import verify_offline

    try:
        data = json.loads(bundle.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{bundle} is not a signature bundle: {exc}") from None
    problems = verify_offline(pdf.read_bytes(), data)
    if problems:
        err.print(f"[bold red]document NOT valid[/]: {problems[0]}", highlight=False)
        for problem in problems[1:]:
            err.print(f"  {problem}", highlight=False)
        raise typer.Exit(1)
    signers = ", ".join(s["signer"] for s in data["signatures"])
    anchors = ", ".join(fingerprint(load_certificate(a))[:16] for a in data["trust_anchors"])
    out.print(f"{data.get('number')}: signature valid ({signers}; CA {anchors}…)")
