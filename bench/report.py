"""BENCHMARKS.md from bench/results.json."""

from __future__ import annotations


def render(results: dict) -> str:
    return "# Benchmarks\n\n```json\n" + __import__("json").dumps(results, indent=2) + "\n```\n"
