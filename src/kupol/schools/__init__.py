"""Driving schools' quality control: the registry's records (schools, instructors, vehicles,
cadets, lessons, exam attempts, graduates' later record), quality scores with their evidence,
anomaly flags for inspectors, the required training hours, and a synthetic region with known
injected fraud to measure the detectors on. This package is the pure core: no database, no
API, no settings."""
