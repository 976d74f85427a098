"""``kupol antifraud``: simulate a day of call records and screen CDR files in batch (JSON)."""

from __future__ import annotations

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
        Path | None, typer.Option(help="Ported numbers (number,operator) from the register.")
    ] = None,
    verdicts: Annotated[
        Path | None, typer.Option("--out", help="Write each call's verdict here (CSV).")
    ] = None,
) -> None:
    """Screen a CDR file in time order; print verdict counts, reasons, decisions/s, and —
    where the file has a truth column — the figures per kind of fraud (JSON)."""
    from kupol.antifraud.cdr import read_ported
    from kupol.antifraud.screening_eval import screen_file

    register = read_ported(ported) if ported else None
    figures = screen_file(cdr, verdicts, ported=register)
    out.print_json(json.dumps(figures, ensure_ascii=False))
