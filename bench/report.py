"""BENCHMARKS.md from bench/results.json (the figures) and bench/profile.md (the profile)."""

from __future__ import annotations

from pathlib import Path

PROFILE = Path(__file__).resolve().parent / "profile.md"

TARGETS = """\
Targets (issue #8, on a 2-core machine): cold nightly run at 10M Parquet events within 2.0×
of the reference; at 100M at least 0.5M events/s end to end with peak RSS under 4 GiB; the
night after six closed monthly cycles at most 1.3× the night after one; fixed overhead
(empty landing) under 20 s."""

COVERAGE = """\
## What the reference covers

`bench/reference.sql` (run by `bench/reference.py`, which imports nothing from the project)
is a second implementation written by hand for the generator's demo-shaped catalog: it loads
the landing files into one table (JSONL line by line, so a line that is no JSON object is an
INVALID record), validates the fields (missing fields, bad ids and
timestamps, non-numeric / NaN attributes, future timestamps, undeclared attributes),
dedupes forever (first valid record of an id wins; DUPLICATE vs DUPLICATE_CONFLICT by
payload), resolves accounts and aliases, cuts monthly cycles in each account's timezone by
its plan assignments, matches the ten meters (their JSON Logic compiled by hand), aggregates
COUNT / SUM / MAX / UNIQUE_COUNT / LATEST, rates TIERED / VOLUME / package / flat-fee slabs
with min/max clamps in exact decimals, prorates fixed fees and the commitment by seconds,
applies the six pricing rules of the three plans, computes the subtotal and the true-up,
writes one pipeline-log row per record with its revenue, and the invoices.

The benchmark fails unless, for every invoice, the reference's **subtotal and
minimum-commitment true-up equal the pipeline's to the cent**, every USAGE and FIXED_FEE
line is equal to the cent, and every record has the same pipeline status.

Not in the reference (so not compared): credits, the wallet and the payment workflow
(per-account ledgers over ~10k accounts, independent of the event volume), the pricing-rule
log, and per-event revenue attribution by the pipeline's marginal TIERED order (the
reference attributes in proportion to units: the same amount per line, cheaper to compute,
which makes the ratio stricter, not looser). It handles a cold run only (no
PAST_GRACE_PERIOD) and monthly cycles anchored on days 1-28."""


def _gib(n: int | None) -> str:
    return "–" if not n else f"{n / 2**30:.2f} GiB"


def _limit(figures: dict) -> str:
    """The DuckDB memory limit a figure ran under ("none": DuckDB's default, 80% of RAM),
    and the reference's when it ran under another."""
    limit = figures.get("memory_limit") or "none"
    reference = figures.get("reference_memory_limit") or limit
    return limit if reference == limit else f"{limit} (reference {reference})"


def render(results: dict) -> str:
    machine = results.get("machine", {})
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`; `--sizes 1M,10M`, `--repeat N`,",
        "`--smoke` for the 1k-event check the test suite runs). Each figure is the median of",
        "the runs in one invocation; the reference runs in the same invocation, so the ratio",
        "pipeline / reference cancels most machine noise. Peak RSS is the whole process tree",
        "(dbt runs inside the run's process; on Spark, as a child), sampled from /proc every "
        "0.25 s. Catalog: 10,000 accounts",
        "unless the accounts column says otherwise; DuckDB's memory limit",
        "(`TALLYHOUSE_MEMORY_LIMIT`, `--memory-limit`) is given with each figure;",
        f"{machine.get('cpus', '?')} CPUs, Python {machine.get('python', '?')}, measured "
        f"{machine.get('date', '?')}.",
        "",
        TARGETS,
        "",
        "## Cold nightly run",
        "",
        "| size | accounts | limit | pipeline s | reference s | ratio | events/s | peak RSS | reference peak RSS | invoices | load (1/5/15 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, c in results.get("cold", {}).items():
        loads = c.get("load_1_5_15", [])
        lines.append(
            f"| {key} | {c.get('accounts', 10_000):,} | {_limit(c)} | "
            f"{c['wall_s']:.1f} | {c['reference_s']:.1f} | {c['ratio']:.2f}× | "
            f"{c['events_per_s']:,} | {_gib(c.get('peak_rss_bytes'))} | "
            f"{_gib(c.get('reference_peak_rss_bytes'))} | {c.get('invoices', 0):,} | "
            f"{' → '.join(loads)} |"
        )
    if not results.get("cold"):
        lines.append("| – | | | not measured yet | | | | | | | |")
    overhead = results.get("fixed_overhead")
    lines += ["", "## Fixed overhead", ""]
    if overhead:
        lines.append(
            f"The nightly run on an empty landing folder "
            f"({overhead.get('accounts', 10_000):,}-account catalog, fresh warehouse): **{overhead['wall_s']:.1f} s** (runs {overhead['runs_s']}), "
            f"peak RSS {_gib(overhead.get('peak_rss_bytes'))}, "
            f"memory limit {_limit(overhead)}."
        )
        if "next_night_s" in overhead:
            lines.append(
                f"The next night on the same warehouse, landing still empty: "
                f"**{overhead['next_night_s']:.1f} s** (runs {overhead['next_night_runs_s']}), "
                f"peak RSS {_gib(overhead.get('next_night_peak_rss_bytes'))}."
            )
    else:
        lines.append("Not measured in this results file.")
    inc = results.get("incremental")
    lines += ["", "## Incremental night", ""]
    if inc:
        lines.append(
            f"The same {inc['night_events']:,} new events (the first days of the open November "
            f"cycle) on a warehouse holding one closed monthly cycle vs six "
            f"({inc['events_per_history_month']:,} events a month, "
            f"{inc.get('accounts', 10_000):,} accounts): after one "
            f"**{inc['after_1_month_s']:.1f} s**, after six **{inc['after_6_months_s']:.1f} s**, "
            f"ratio **{inc['ratio']:.2f}×** (memory limit {_limit(inc)})."
        )
    else:
        lines.append("Not measured in this results file.")
    lines += ["", COVERAGE, ""]
    if PROFILE.exists():
        lines += [PROFILE.read_text().rstrip(), ""]
    return "\n".join(lines)
