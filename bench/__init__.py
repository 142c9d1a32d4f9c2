"""Tallyhouse benchmarks (`make bench`): throughput figures written to BENCHMARKS.md."""
