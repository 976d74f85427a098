"""The road-safety domain, wired: what the API, the console and the CLI use."""

from __future__ import annotations

from dataclasses import dataclass

from kupol.core.audit import AuditLog
from kupol.core.db import Database
from kupol.roads.analyses import AccidentAnalyses
from kupol.roads.crime_store import CrimeStatistics
from kupol.roads.links import AccidentLinks
from kupol.roads.measures import Measures
from kupol.roads.regions import RegionTable, load_regions
from kupol.roads.registry import AccidentRegistry
from kupol.roads.stats import AccidentStatistics
from kupol.settings import RoadsSettings


@dataclass(frozen=True, kw_only=True)
class Roads:
    """The accident registry, the statistics and the regional context."""

    regions: RegionTable
    registry: AccidentRegistry
    statistics: AccidentStatistics
    analyses: AccidentAnalyses
    measures: Measures
    links: AccidentLinks
    crime: CrimeStatistics


def build_roads(*, settings: RoadsSettings, db: Database, audit: AuditLog) -> Roads:
    """Wire the domain; the region table is loaded (and checked) now.

    Raises:
        ConfigError: the configured region table is missing or invalid.
    """
    regions = load_regions(settings.population)
    analyses = AccidentAnalyses(db=db)
    return Roads(
        regions=regions,
        registry=AccidentRegistry(db=db, audit=audit),
        statistics=AccidentStatistics(db=db, regions=regions),
        analyses=analyses,
        measures=Measures(db=db, audit=audit, analyses=analyses),
        links=AccidentLinks(db=db, audit=audit),
        crime=CrimeStatistics(db=db, audit=audit, regions=regions),
    )
