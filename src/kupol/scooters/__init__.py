"""Rental e-scooters: the registry of operators and their numbered scooters, the operators' data
feeds (GBFS for availability, MDS for trips and telemetry), the city's rules as geofences and
curfews, the checks of trips against them, and the operators' compliance reports.

This package is the pure core: no database, API or settings; the values it passes are frozen
dataclasses and NumPy arrays.

* :mod:`.plates`, :mod:`.registry` — scooter plates (``W12345``), operators and scooters;
* :mod:`.feeds`, :mod:`.mds`, :mod:`.mds_routes`, :mod:`.gbfs`, :mod:`.gbfs_zones` — the
  feeds, validated record by record (``accepted`` and ``rejected``);
* :mod:`.model` — trips, routes, riders, telemetry, events;
* :mod:`.city`, :mod:`.rules` (with :mod:`.points`, :mod:`.geometry`) — the rules and
  ``check_trips``; :mod:`.violations` — what it finds;
* :mod:`.fines` (``reference/kz-scooter-fines.toml``), :mod:`.compliance` — fines and reports;
* :mod:`.astana`, :mod:`.generator` (with :mod:`.planner`, :mod:`.ride`),
  :mod:`.synthetic_feeds` — a synthetic day with known violations, its feeds, broken feeds.
"""
