"""``kupol rules``: list alert rules, import them from a file, switch them on and off.

An import file is TOML with one ``[[rules]]`` table per rule, the same fields as the API::

    [[rules]]
    name = "Движение на проезжей части ночью"
    severity = "high"
    event_types = ["motion"]
    camera_ids = ["ast-kabanbay-01"]
    zones = ["road"]
    active_from = "22:00"
    active_to = "06:00"
    cooldown_s = 60
"""

from __future__ import annotations

from pathlib import Path

import typer

from kupol.alerts.schemas import AlertRuleCreate
from kupol.clikit import container, handle_errors, import_tables, out
from kupol.core.auth.service import SYSTEM

app = typer.Typer(help="List, import, enable and disable alert rules.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_rules() -> None:
    """Print every rule: id, state, severity, name and what it matches."""
    for rule in container().alerts.list_rules():
        state = "on " if rule.enabled else "off"
        scope = ", ".join(
            part
            for part in (
                "types " + "/".join(rule.event_types) if rule.event_types else "",
                "cameras " + "/".join(rule.camera_ids) if rule.camera_ids else "",
                "zones " + "/".join(rule.zones) if rule.zones else "",
                f"{rule.active_from}-{rule.active_to}" if rule.active_from else "",
            )
            if part
        )
        out.print(
            f"{rule.id:>4} {state} {rule.severity:<8} {rule.name}  [{scope or 'everything'}]",
            markup=False,
            highlight=False,
        )


@app.command("import")
@handle_errors
def import_rules(file: Path = typer.Argument(..., help="TOML file with [[rules]] tables.")) -> None:
    """Add the rules in a file. Valid ones are added even if others are not; each problem is
    reported by its entry number and field. Exit 2 if any was refused."""
    alerts = container().alerts
    import_tables(
        file,
        table="rules",
        model=AlertRuleCreate,
        noun="rule",
        add=lambda rule: alerts.create_rule(rule=rule, actor=SYSTEM),
    )


@app.command("enable")
@handle_errors
def enable(rule_id: int) -> None:
    """Switch a rule on."""
    rule = container().alerts.set_rule_enabled(rule_id=rule_id, enabled=True, actor=SYSTEM)
    out.print(f"rule {rule.id} ({rule.name}) is on", highlight=False)


@app.command("disable")
@handle_errors
def disable(rule_id: int) -> None:
    """Switch a rule off."""
    rule = container().alerts.set_rule_enabled(rule_id=rule_id, enabled=False, actor=SYSTEM)
    out.print(f"rule {rule.id} ({rule.name}) is off", highlight=False)
