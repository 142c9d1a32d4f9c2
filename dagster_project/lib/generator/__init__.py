"""Deterministic synthetic catalogs and usage events with planted faults (`tallyhouse generate`)."""

from .catalog import generate_catalog
from .events import FORMATS, generate_events
from .manifest import Manifest

__all__ = ["FORMATS", "Manifest", "generate_catalog", "generate_events"]
