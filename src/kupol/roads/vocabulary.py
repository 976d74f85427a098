"""The registry's words for an accident's kind, severity and conditions. Imports map a
source's own values onto these (a mapping file's ``[values]``), so statistics compare like
with like across sources."""

from __future__ import annotations

SEVERITIES = ("fatal", "serious", "slight", "damage_only")
"""Worst outcome: someone died (within 30 days), was seriously or slightly injured, or only
property was damaged."""

SEVERITY_WEIGHTS = {"fatal": 10.0, "serious": 5.0, "slight": 1.0, "damage_only": 0.2}
"""Default weights of severity-weighted counts (hotspots, advice): a common equivalent-
property-damage-only style scale, kept as data that an analysis may override."""

KINDS = (
    "collision",
    "single_vehicle",
    "pedestrian_hit",
    "cyclist_hit",
    "rollover",
    "fixed_object",
    "passenger_fall",
    "other",
)
"""Kinds of accident (ДТП): a collision of vehicles, a single vehicle (run off the road), a
pedestrian or cyclist hit, a rollover, hitting a fixed object, a passenger's fall, other."""

LIGHT = ("day", "dusk", "dark_lit", "dark_unlit", "unknown")
WEATHER = ("clear", "rain", "snow", "fog", "wind", "other", "unknown")
SURFACE = ("dry", "wet", "snow", "ice", "other", "unknown")
ROAD_CLASSES = ("motorway", "national", "regional", "local", "street", "other", "unknown")
"""Road classes: motorway; national (республиканского значения, UK 'A'); regional
(областного, 'B'); local (районного, 'C'); a city street ('Unclassified'); other."""

FIELDS: dict[str, tuple[str, ...]] = {
    "severity": SEVERITIES,
    "kind": KINDS,
    "light": LIGHT,
    "weather": WEATHER,
    "surface": SURFACE,
    "road_class": ROAD_CLASSES,
}
"""The fields whose values come from a fixed list."""
