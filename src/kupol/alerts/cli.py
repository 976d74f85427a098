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

import tomllib
from pathlib import Path

import typer
from pydantic import ValidationError

from kupol.alerts.schemas import AlertRuleCreate
from kupol.clikit import container, err, handle_errors, out
from kupol.core.auth.service import SYSTEM
from kupol.core.errors import ConflictError, FieldProblem, InvalidInputError, KupolError

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
    try:
        entries = tomllib.loads(file.read_text(encoding="utf-8")).get("rules")
    except FileNotFoundError:
        raise InvalidInputError(f"file not found: {file}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{file} is not valid TOML: {exc}") from None
    if not isinstance(entries, list) or not entries:
        raise InvalidInputError(f"{file} has no [[rules]] tables")
    services = container()
    added = refused = 0
    for number, entry in enumerate(entries, start=1):
        try:
            services.alerts.create_rule(rule=_validate(entry, number), actor=SYSTEM)
            added += 1
        except ConflictError as exc:
            err.print(f"rules #{number}: {exc.detail} (skipped)", markup=False)
            refused += 1
        except KupolError as exc:
            err.print(exc.detail, markup=False)
            for problem in exc.problems:
                err.print(f"  {problem.field}: {problem.message}", markup=False)
            refused += 1
    out.print(f"{added} rule(s) added, {refused} refused", highlight=False)
    if refused:
        raise typer.Exit(2)


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


def _validate(entry: object, number: int) -> AlertRuleCreate:
    if not isinstance(entry, dict):
        raise InvalidInputError(f"rules #{number}: expected a table of fields")
    try:
        return AlertRuleCreate.model_validate(entry)
    except ValidationError as exc:
        problems = [
            FieldProblem(field=".".join(str(p) for p in e["loc"]) or "rule", message=e["msg"])
            for e in exc.errors()
        ]
        raise InvalidInputError(f"rules #{number}: invalid", problems=problems) from None
