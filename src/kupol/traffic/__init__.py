"""Automated traffic enforcement: legal qualification of violations (issue 6, in progress)."""
