"""Incidents: what happened, where and when, and the evidence and alerts that belong to it."""
