"""``kupol fleet``: the simulators — a MAVLink drone over UDP, a robot dog over MQTT."""

from __future__ import annotations

from typing import Annotated

import typer

from kupol.clikit import handle_errors, out
from kupol.core.errors import InvalidInputError

app = typer.Typer(help="Fleet: drone and robot-dog simulators.", no_args_is_help=True)

ROUTE_HELP = "Waypoints as lat,lon;lat,lon;… (the first is home)."


def _route(text: str) -> list[tuple[float, float]]:
    from kupol.fleet.sim import parse_route

    try:
        return parse_route(text)
    except ValueError as exc:
        raise InvalidInputError(f"route: {exc}") from exc


@app.command("sim-drone")
@handle_errors
def sim_drone(
    route: Annotated[str, typer.Option(help=ROUTE_HELP)],
    sysid: Annotated[int, typer.Option(min=1, max=255, help="MAVLink system id.")] = 1,
    to: Annotated[str, typer.Option(help="kupol's MAVLink UDP address.")] = "127.0.0.1:14550",
    speed: Annotated[float, typer.Option(min=0.5, max=60, help="Ground speed, m/s.")] = 15.0,
    alt: Annotated[float, typer.Option(min=5, max=500, help="Height above home, m.")] = 80.0,
    rate: Annotated[float, typer.Option(min=0.2, max=50, help="Position reports a second.")] = 4.0,
    endurance: Annotated[float, typer.Option(min=1, help="Minutes on a full battery.")] = 40.0,
    speedup: Annotated[float, typer.Option(min=0.1, max=1000, help="Time runs this fast.")] = 1.0,
) -> None:
    """Fly a route and home again, reporting over MAVLink as an autopilot does."""
    from kupol.fleet.sim import DroneSim

    sim = DroneSim(sysid=sysid, route=_route(route), target=to, speed_mps=speed, alt_m=alt,
                   rate_hz=rate, endurance_min=endurance, speedup=speedup)  # fmt: skip
    try:
        sim.run()
    except KeyboardInterrupt:
        sim.stop()
    out.print(f"drone {sysid}: {sim.sent} position reports sent to {to}", highlight=False)


@app.command("sim-dog")
@handle_errors
def sim_dog(
    callsign: Annotated[str, typer.Option(help="The unit's callsign (its MQTT topic).")],
    route: Annotated[str, typer.Option(help=ROUTE_HELP + " Walked as a loop.")],
    host: Annotated[str, typer.Option(help="MQTT broker host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 1883,
    speed: Annotated[float, typer.Option(min=0.1, max=5, help="Walking speed, m/s.")] = 1.5,
    laps: Annotated[int, typer.Option(min=1, max=10_000)] = 1,
    speedup: Annotated[float, typer.Option(min=0.1, max=1000, help="Time runs this fast.")] = 1.0,
) -> None:
    """Walk a patrol loop, publishing telemetry over MQTT as a robot dog does."""
    from kupol.fleet.sim import DogSim

    sim = DogSim(callsign=callsign, route=_route(route), host=host, port=port, speed_mps=speed,
                 laps=laps, speedup=speedup)  # fmt: skip
    try:
        sim.run()
    except KeyboardInterrupt:
        sim.stop()
    except OSError as exc:
        raise InvalidInputError(f"cannot reach the MQTT broker at {host}:{port}: {exc}") from exc
    out.print(f"{callsign}: {sim.sent} samples published", highlight=False)
