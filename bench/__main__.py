"""`python -m bench` (`make bench`): the nightly run against a hand-written DuckDB reference.

For each size: the cold nightly run (`tallyhouse run` from landing files to invoices and the
pipeline log, in a fresh warehouse) and the reference (bench/reference.sql) on the same
files, each the median of --repeat runs, with the peak memory of the whole process tree.
Every invoice the reference writes must equal the pipeline's to the cent, or the benchmark
fails. Then the incremental night (after six closed monthly cycles vs after one) and the
fixed overhead (a run on an empty landing folder). Generated data is cached under
bench/data/ by (size, format, seed). Results: bench/results.json and BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
from datetime import date
from pathlib import Path

from bench.harness import (
    ACCOUNTS,
    AS_OF,
    DATA_DIR,
    SEED,
    START,
    Dataset,
    Timed,
    child_env,
    compare,
    dataset,
    fresh_dir,
    keep_compared_tables,
    month_start,
    pipeline_run,
    reference_run,
)

RESULTS = Path(__file__).resolve().parent / "results.json"
REPORT = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
COLD_KEYS = ("1M", "10M", "100M", "10M_jsonl")


class BenchmarkFailed(Exception):
    """The reference and the pipeline disagree, or a run failed."""


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def median_of(runs: list[Timed]) -> float:
    return statistics.median(r.wall_s for r in runs)


def cold_dataset(key: str, accounts: int = ACCOUNTS) -> Dataset:
    """The generated data of a cold-run key: "10M" is Parquet, "10M_jsonl" JSONL.gz."""
    size, _, fmt = key.partition("_")
    return dataset(size, {"jsonl": "jsonl.gz"}.get(fmt, fmt or "parquet"), accounts)


def cold(
    key: str,
    repeat: int,
    work: Path,
    env: dict,
    accounts: int = ACCOUNTS,
    reference_env: dict | None = None,
) -> dict:
    """The cold night of one dataset against the reference. `reference_env` (default `env`)
    lets the reference run under another memory limit."""
    data = cold_dataset(key, accounts)
    reference_env = reference_env or env
    pipeline_runs, reference_runs = [], []
    loads = [load()]
    for attempt in range(repeat):
        run_dir = fresh_dir(work / f"cold-{key}")
        warehouse = run_dir / "warehouse.duckdb"
        compared = run_dir / "pipeline-compared.duckdb"
        reference_db = run_dir / "reference.duckdb"
        pipeline_runs.append(
            pipeline_run(
                data.catalog, data.landing, warehouse, AS_OF, env, run_dir / "pipeline.log"
            )
        )
        # Printed now: a reference that fails later must not lose the pipeline's figures.
        print(
            f"{key} run {attempt + 1}: pipeline {pipeline_runs[-1].wall_s:.1f} s, "
            f"peak RSS {gib(pipeline_runs[-1].peak_rss_bytes)}",
            flush=True,
        )
        keep_compared_tables(warehouse, compared)
        reference_runs.append(
            reference_run(
                data.catalog,
                data.landing,
                reference_db,
                AS_OF,
                reference_env,
                run_dir / "reference.log",
            )
        )
        if attempt == 0:
            result = compare(compared, reference_db)
            print(f"{key}: {result.describe(limit=0)}", flush=True)
            if not result.ok:
                raise BenchmarkFailed(
                    f"{key}: the pipeline and the reference disagree:\n{result.describe()}"
                )
        loads.append(load())
        print(
            f"{key} run {attempt + 1}: pipeline {pipeline_runs[-1].wall_s:.1f} s, "
            f"reference {reference_runs[-1].wall_s:.1f} s, load {loads[-1]}",
            flush=True,
        )
        if attempt + 1 < repeat:
            shutil.rmtree(run_dir, ignore_errors=True)
    wall, reference = median_of(pipeline_runs), median_of(reference_runs)
    return {
        "wall_s": round(wall, 2),
        "reference_s": round(reference, 2),
        "ratio": round(wall / reference, 2),
        "events_per_s": round(data.events / wall),
        "peak_rss_bytes": max(r.peak_rss_bytes for r in pipeline_runs),
        "reference_peak_rss_bytes": max(r.peak_rss_bytes for r in reference_runs),
        "runs_s": [round(r.wall_s, 2) for r in pipeline_runs],
        "reference_runs_s": [round(r.wall_s, 2) for r in reference_runs],
        "events": data.events,
        "invoices": result.invoices,
        "accounts": accounts,
        "memory_limit": env.get("TALLYHOUSE_MEMORY_LIMIT"),
        "reference_memory_limit": reference_env.get("TALLYHOUSE_MEMORY_LIMIT"),
        "load_1_5_15": loads,
    }


# The night after the fresh one, with the landing folder still empty: what every later night
# pays before it has anything new to bill.
NEXT_NIGHT_AS_OF = "2026-12-03T00:00:00Z"


def fixed_overhead(repeat: int, work: Path, env: dict, accounts: int = ACCOUNTS) -> dict:
    """The nightly run over an empty landing folder, on the 10k-account bench catalog: on a
    fresh warehouse (the first night also bills every cycle of the catalog begun by then),
    and the next night on the same warehouse."""
    catalog = dataset("1M", "parquet", accounts).catalog
    runs, next_runs = [], []
    for _ in range(repeat):
        run_dir = fresh_dir(work / "fixed-overhead")
        landing = fresh_dir(run_dir / "landing")
        warehouse = run_dir / "warehouse.duckdb"
        runs.append(pipeline_run(catalog, landing, warehouse, AS_OF, env, run_dir / "first.log"))
        print(f"fixed overhead, fresh: {runs[-1].wall_s:.1f} s, load {load()}", flush=True)
        next_runs.append(
            pipeline_run(catalog, landing, warehouse, NEXT_NIGHT_AS_OF, env, run_dir / "next.log")
        )
        print(
            f"fixed overhead, next night: {next_runs[-1].wall_s:.1f} s, load {load()}", flush=True
        )
    return {
        "wall_s": round(median_of(runs), 2),
        "runs_s": [round(r.wall_s, 2) for r in runs],
        "peak_rss_bytes": max(r.peak_rss_bytes for r in runs),
        "next_night_s": round(median_of(next_runs), 2),
        "next_night_runs_s": [round(r.wall_s, 2) for r in next_runs],
        "next_night_peak_rss_bytes": max(r.peak_rss_bytes for r in next_runs),
        "accounts": accounts,
        "memory_limit": env.get("TALLYHOUSE_MEMORY_LIMIT"),
    }


# The incremental night: history months finalized by one earlier run, then the same new
# events (the first days of the open November cycle) on top of one or six closed months.
HISTORY_AS_OF = "2026-11-07T00:00:00Z"  # past every October cycle's grace period
NIGHT_AS_OF = "2026-11-08T00:00:00Z"
NIGHT_DAYS = 6


def incremental_data(events_per_month: int, accounts: int) -> Path:
    from dagster_project.lib.generator import generate_catalog, generate_events

    root = DATA_DIR / f"incremental-{events_per_month}-{accounts}acc-seed{SEED}"
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        catalog = generate_catalog(root, accounts=accounts, seed=SEED, start=START)
        for back in range(1, 7):
            first = month_start(START, -back)
            days = (month_start(START, 1 - back) - first).days
            generate_events(
                catalog,
                root / f"month-{back}",
                events=events_per_month,
                days=days,
                seed=SEED + back,
                start=first,
                fmt="parquet",
            )
        generate_events(
            catalog,
            root / "night",
            events=events_per_month * NIGHT_DAYS // 30,
            days=NIGHT_DAYS,
            seed=SEED + 100,
            start=START,
            fmt="parquet",
        )
        (root / "done").write_text("ok\n")
    return root


def link_landing(target: Path, sources: list[Path]) -> Path:
    fresh_dir(target)
    for source in sources:
        for file in sorted((source / "landing").iterdir()):
            (target / file.name).symlink_to(file)
    return target


def incremental(repeat: int, work: Path, env: dict, events_per_month: int, accounts: int) -> dict:
    root = incremental_data(events_per_month, accounts)
    catalog = root / "catalog"
    result: dict = {
        "events_per_history_month": events_per_month,
        "night_events": events_per_month * NIGHT_DAYS // 30,
        "accounts": accounts,
        "memory_limit": env.get("TALLYHOUSE_MEMORY_LIMIT"),
    }
    for months in (1, 6):
        base = fresh_dir(work / f"incremental-{months}")
        history = [root / f"month-{back}" for back in range(1, months + 1)]
        history_warehouse = base / "history.duckdb"
        prepared = pipeline_run(
            catalog,
            link_landing(base / "landing-history", history),
            history_warehouse,
            HISTORY_AS_OF,
            env,
            base / "history.log",
        )
        print(
            f"incremental: {months} closed month(s) prepared in {prepared.wall_s:.1f} s", flush=True
        )
        landing = link_landing(base / "landing-night", [*history, root / "night"])
        runs = []
        for _ in range(repeat):
            warehouse = base / "night.duckdb"
            shutil.copyfile(history_warehouse, warehouse)
            runs.append(
                pipeline_run(catalog, landing, warehouse, NIGHT_AS_OF, env, base / "night.log")
            )
            print(
                f"incremental night after {months}: {runs[-1].wall_s:.1f} s, load {load()}",
                flush=True,
            )
        key = f"after_{months}_month{'s' if months > 1 else ''}_s"
        result[key] = round(median_of(runs), 2)
        result[f"after_{months}_runs_s"] = [round(r.wall_s, 2) for r in runs]
    result["ratio"] = round(result["after_6_months_s"] / result["after_1_month_s"], 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes", default="1M,10M,100M,10M_jsonl", help="comma-separated: " + ",".join(COLD_KEYS)
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-incremental", action="store_true")
    parser.add_argument("--no-overhead", action="store_true")
    parser.add_argument(
        "--incremental-events", type=int, default=100_000, help="events per history month"
    )
    parser.add_argument(
        "--incremental-accounts",
        type=int,
        default=ACCOUNTS,
        help="catalog of the incremental night",
    )
    parser.add_argument("--memory-limit", default=os.environ.get("TALLYHOUSE_MEMORY_LIMIT", "4GiB"))
    parser.add_argument(
        "--reference-memory-limit",
        default=None,
        help="the reference's DuckDB memory limit (default: --memory-limit); more memory "
        "makes the reference faster and the ratio stricter",
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--accounts", type=int, default=ACCOUNTS, help="catalog size of the cold runs (default 10k)"
    )
    parser.add_argument("--work", default=str(DATA_DIR / "work"))
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1k events, 200 accounts, one run, the comparison only; no report",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite BENCHMARKS.md from results.json"
    )
    args = parser.parse_args(argv)
    if args.report_only:
        write_report(json.loads(RESULTS.read_text()))
        return 0
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = child_env(args.memory_limit, work / "spill", args.threads)
    reference_env = child_env(
        args.reference_memory_limit or args.memory_limit, work / "spill", args.threads
    )
    try:
        if args.smoke:
            figures = cold("1k", 1, work, env, accounts=200)
            print(json.dumps({"cold": {"1k": figures}}, indent=2))
            return 0
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results = {
            k: v
            for k, v in results.items()
            if k in ("cold", "incremental", "fixed_overhead_s", "fixed_overhead")
        }
        results.setdefault("cold", {})
        for key in filter(None, args.sizes.split(",")):
            if key not in COLD_KEYS:
                parser.error(f"unknown size {key!r}; choose from {', '.join(COLD_KEYS)}")
            results["cold"][key] = cold(key, args.repeat, work, env, args.accounts, reference_env)
            save(results, args)
        if not args.no_overhead:
            overhead = fixed_overhead(args.repeat, work, env, args.accounts)
            results["fixed_overhead_s"] = overhead["wall_s"]
            results["fixed_overhead"] = overhead
            save(results, args)
        if not args.no_incremental:
            results["incremental"] = incremental(
                args.repeat, work, env, args.incremental_events, args.incremental_accounts
            )
            save(results, args)
    except BenchmarkFailed as error:
        print(f"benchmark FAILED: {error}", file=sys.stderr)
        return 1
    return 0


def save(results: dict, args: argparse.Namespace) -> None:
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": date.today().isoformat(),
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_report(results)


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def write_report(results: dict) -> None:
    from bench.report import render

    REPORT.write_text(render(results))


if __name__ == "__main__":
    sys.exit(main())
