"""Drones, robot dogs and patrols as units: the registry, their telemetry (MAVLink over UDP
from drones, JSON over MQTT from robot dogs and patrol devices), tracks, link and battery
watch, and the simulators that speak those protocols (issue 10)."""
