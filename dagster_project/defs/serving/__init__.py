"""Serving: the read-only snapshot the dashboards open."""
