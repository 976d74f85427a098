"""``kupol antifraud``: simulate a day of call records and screen CDR files in batch (JSON)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from kupol.clikit import handle_errors, out

app = typer.Typer(help="Anti-fraud: call screening in batch, simulated CDRs.", no_args_is_help=True)


@app.command("simulate-cdr")
@handle_errors
def simulate_cdr(
    cdr: Annotated[Path, typer.Argument(help="Where to write the day's CDR file (CSV).")],
    ported: Annotated[
        Path | None, typer.Option(help="Also write the ported numbers (number,operator).")
    ] = None,
    seed: Annotated[int, typer.Option(help="The day's seed.")] = 2026,
    subscribers: Annotated[int, typer.Option(min=100, max=2_000_000)] = 20_000,
) -> None:
    """Simulate a day of a mobile network's calls with the truth of each (legit, call_centre,
    simbox, wangiri, spoofed)."""
    from kupol.antifraud.cdr_sim import simulate_day, write_cdr, write_ported

    day = simulate_day(seed, subscribers=subscribers)
    write_cdr(day.calls, cdr)
    if ported is not None:
        write_ported(day.ported, ported)
    out.print_json(json.dumps({"calls": len(day.calls), "ported": len(day.ported)}))


@app.command("screen-cdr")
@handle_errors
def screen_cdr(
    cdr: Annotated[Path, typer.Argument(help="CDR file (call_id,at,caller,called,…).")],
    ported: Annotated[
        Path | None,
        typer.Option(help="Ported numbers (number,operator); default: [antifraud] ported."),
    ] = None,
    verdicts: Annotated[
        Path | None, typer.Option("--out", help="Write each call's verdict here (CSV).")
    ] = None,
    model: Annotated[
        bool, typer.Option("--model/--no-model", help="Let the learned model warn too.")
    ] = True,
) -> None:
    """Screen a CDR file in time order, by the deployment's numbering plan; print verdict
    counts, reasons, decisions/s, and — where the file has a truth column — the figures per
    kind of fraud (JSON)."""
    from kupol.antifraud.cdr import read_ported
    from kupol.antifraud.numbers import NUMBERING_PATH, load_numbering
    from kupol.antifraud.screen_model import configured_screen_model
    from kupol.antifraud.screening_eval import screen_file
    from kupol.clikit import settings

    configured = settings().antifraud
    numbering = load_numbering(configured.numbering or NUMBERING_PATH)  # the deployment's plan
    register_file = ported or configured.ported  # the option, else the deployment's register
    register = read_ported(register_file, numbering) if register_file else None
    learned = configured_screen_model(configured.screen_model) if model else None
    figures = screen_file(cdr, verdicts, ported=register, model=learned, numbering=numbering)
    out.print_json(json.dumps(figures, ensure_ascii=False))


@app.command("import-cdr")
@handle_errors
def import_cdr(
    cdr: Annotated[Path, typer.Argument(help="CDR file (call_id,at,caller,called,…).")],
    user: Annotated[
        str, typer.Option("--as", help="The switch's kupol account (telecom role) it came from.")
    ],
) -> None:
    """Screen a switch's CDR file with the lists and store every decision, as the service
    would have decided the calls (in time order): number look-ups, fraud groups, transfer
    holds and reports see them. Bad rows are reported with their line and the good ones
    kept; exit 2 if any row was refused (JSON)."""
    import hashlib
    from collections import Counter

    from kupol.antifraud.cdr import read_cdr
    from kupol.clikit import container, err
    from kupol.core.audit import AuditRecord
    from kupol.core.auth import Permission

    c = container()
    actor = c.auth.principal_of(user)
    actor.require(Permission.CALLS_SCREEN)
    records = read_cdr(cdr)
    rows = sorted(records.rows, key=lambda r: (r.attempt.at, r.line))
    verdicts: Counter[str] = Counter()
    for start in range(0, len(rows), _IMPORT_CHUNK):  # one transaction a chunk
        chunk = rows[start : start + _IMPORT_CHUNK]
        results = c.antifraud.calls.screen_many(
            actor=actor, calls=[(r.attempt, r.answered, r.duration_s) for r in chunk]
        )
        verdicts.update(r.verdict.value for r in results)
    for line, reason in records.rejects[:50]:
        err.print(f"{cdr}:{line}: refused: {reason}", highlight=False)
    figures = {"file": cdr.name, "stored": len(rows), "refused": len(records.rejects),
               "verdicts": dict(verdicts)}  # fmt: skip
    # Call records are personal data brought in under a switch's name: who, which file, what.
    digest = hashlib.sha256(cdr.read_bytes()).hexdigest()
    c.audit.append(
        AuditRecord(
            actor=actor.username, roles=actor.roles, action="import", resource_type="cdr_file",
            resource_id=digest, client="cli", details={**figures, "sha256": digest},
        )
    )  # fmt: skip
    out.print_json(json.dumps(figures, ensure_ascii=False))
    if records.rejects:
        raise typer.Exit(2)


_IMPORT_CHUNK = 20_000


@app.command("train-screen-model")
@handle_errors
def train_screen_model_command(
    cdr: Annotated[
        list[Path],
        typer.Argument(help="Labelled CDR files (a truth column) of one network, any period each."),
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the model (.joblib; its card beside).")
    ],
    ported: Annotated[
        Path | None, typer.Option(help="Ported numbers (number,operator) from the register.")
    ] = None,
    holdout: Annotated[
        float,
        typer.Option(
            min=0.0, max=0.5, help="Share of each file's last calls held out to judge it."
        ),
    ] = 0.2,
) -> None:
    """Train call screening's learned model on the deployment's own labelled call records
    (the files screened together in time order, the last --holdout of them judged); print its
    card as JSON. Point `[antifraud] screen_model` at the file to use it."""
    from kupol.antifraud.cdr import read_cdr, read_ported
    from kupol.antifraud.modelfile import save_with_card
    from kupol.antifraud.screen_training import file_source, screen_labelled, train_screen_model
    from kupol.core.errors import InvalidInputError

    if out_file.suffix != ".joblib":
        raise InvalidInputError(f"--out {out_file}: the model file's name must end in .joblib")
    register = read_ported(ported) if ported else None
    rows, sources = [], []
    for path in cdr:
        parsed = read_cdr(path)
        if not parsed.rows:
            raise InvalidInputError(f"{path}: no usable call records")
        rows += parsed.rows
        sources.append(file_source(path, len(parsed.rows), len(parsed.rejects)))
    # The files are one network's records: screened as one stream, in time order.
    names = ", ".join(p.name for p in cdr)
    calls = screen_labelled(rows, name=names, ported=register)
    estimator, card = train_screen_model([calls], holdout=holdout, sources=sources)
    out.print_json(json.dumps(save_with_card(estimator, out_file, card), ensure_ascii=False))


@app.command("sip")
@handle_errors
def sip_front(
    user: Annotated[str, typer.Option("--as", help="The switch's telecom account.")],
    listen: Annotated[
        str, typer.Option(help="HOST:PORT to answer INVITEs on (UDP, and TCP unless --no-tcp).")
    ] = "127.0.0.1:5070",
    next_hop: Annotated[str, typer.Option(help="Where allowed calls are redirected.")] = (
        "127.0.0.1:5060"
    ),
    announcement: Annotated[
        str, typer.Option(help="The warning announcement server (warned calls).")
    ] = "127.0.0.1:5062",
    international_peer: Annotated[
        list[str] | None, typer.Option(help="A peer address that is an international trunk.")
    ] = None,
    tcp: Annotated[
        bool, typer.Option("--tcp/--no-tcp", help="Answer over TCP too, on the same port.")
    ] = True,
) -> None:
    """Run the SIP front of call screening (a redirect server) until interrupted."""
    import asyncio

    from kupol.antifraud.screening import CallAttempt, Screened
    from kupol.antifraud.sip import SipSettings, serve, serve_tcp
    from kupol.clikit import container
    from kupol.core.errors import InvalidInputError

    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidInputError(f"--listen {listen!r}: expected HOST:PORT")
    c = container()
    switch = c.auth.principal_of(user)

    def decide(attempt: CallAttempt) -> Screened:
        verdict: Screened = c.antifraud.calls.screen(actor=switch, attempt=attempt)
        return verdict

    settings = SipSettings(
        next_hop=next_hop,
        announcement=announcement,
        international_peers=frozenset(international_peer or ()),
    )

    minutes = c.settings.antifraud.warm_start_minutes
    replayed = c.antifraud.calls.warm(minutes)  # a restart does not forget the windows
    if replayed:
        out.print(f"{replayed} calls of the last {minutes:g} minutes replayed into the windows")

    async def main() -> None:
        transport, front = await serve(decide, settings, host, int(port_text))
        server = await serve_tcp(front, host, int(port_text)) if tcp else None
        on = "udp and tcp" if tcp else "udp"
        out.print(f"kupol SIP front on {on} {host}:{port_text} (as {user})")
        try:
            await asyncio.Event().wait()
        finally:
            transport.close()
            if server is not None:
                server.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@app.command("groups")
@handle_errors
def fraud_groups(
    cdr: Annotated[Path, typer.Argument(help="CDR file (call_id,at,caller,called,…).")],
    ported: Annotated[
        Path | None, typer.Option(help="Ported numbers (number,operator) from the register.")
    ] = None,
) -> None:
    """Screen a CDR file and print the organised groups among the numbers caught for their
    behaviour, each with its numbers, SIMs, handsets, cells and evidence (JSON)."""
    from dataclasses import asdict

    from kupol.antifraud.cdr import read_cdr, read_ported
    from kupol.antifraud.groups import find_groups, purity
    from kupol.antifraud.screening import CallScreen
    from kupol.antifraud.screening_eval import screen_rows

    records = read_cdr(cdr)
    screen = CallScreen()
    screen.ported = read_ported(ported) if ported else {}
    groups = find_groups(records.rows, screen_rows(records.rows, screen))
    result: dict[str, object] = {"groups": [asdict(g) for g in groups]}
    if any(r.source for r in records.rows):
        result["against_sources"] = purity(groups)
    out.print_json(json.dumps(result, default=str, ensure_ascii=False))
