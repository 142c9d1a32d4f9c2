"""The benchmark's moving parts: datasets, timed process trees, the cent-exact comparison.

The pipeline runs as `tallyhouse run` in a child process and the reference as
`python bench/reference.py` in another, each timed by wall clock with the peak resident
memory of its whole process tree (dbt runs in the run's process on DuckDB, as a grandchild on
Spark), sampled from /proc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
REPO_DIR = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
START = date(2026, 11, 1)
AS_OF = "2026-12-02T00:00:00Z"  # the generator's recommended as-of for a 30-day November
ACCOUNTS = 10_000
SEED = 42
SIZES = {"1k": 1_000, "100k": 100_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Dataset:
    root: Path
    events: int

    @property
    def catalog(self) -> Path:
        return self.root / "catalog"

    @property
    def landing(self) -> Path:
        return self.root / "landing"


def dataset(size: str, fmt: str, accounts: int = ACCOUNTS) -> Dataset:
    """The generated catalog and landing files for (size, format), cached by seed."""
    from dagster_project.lib.generator import generate_catalog, generate_events

    root = DATA_DIR / f"{size}-{fmt.replace('.', '_')}-seed{SEED}"
    if accounts != ACCOUNTS:
        root = root.with_name(f"{root.name}-{accounts}acc")
    if not (root / "manifest.json").exists():
        shutil.rmtree(root, ignore_errors=True)
        catalog = generate_catalog(root, accounts=accounts, seed=SEED, start=START)
        generate_events(catalog, root, events=SIZES[size], days=30, seed=SEED, start=START, fmt=fmt)
    return Dataset(root, SIZES[size])


# ---------------------------------------------------------------- timed process trees


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.scandir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task.name}/children") as f:
                kids.extend(int(k) for k in f.read().split())
    except OSError:
        pass
    return kids


def _tree_rss(root_pid: int) -> int:
    """Resident bytes of a process and all its descendants. Walks the tree through
    /proc/<pid>/task/<tid>/children, so a sample costs a few reads, not a scan of /proc."""
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE  # resident pages
        except OSError:
            continue
        stack.extend(_children(pid))
    return total


@dataclass(frozen=True)
class Timed:
    wall_s: float
    peak_rss_bytes: int


def run_timed(cmd: list[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> Timed:
    """Runs cmd to completion; raises with the log's tail when it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    done = threading.Event()
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(proc.pid))
                done.wait(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({code}); {log}:\n{tail}")
    return Timed(wall, peak)


def child_env(memory_limit: str | None, temp_dir: Path | None, threads: int | None) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DAGSTER_HOME", str(REPO_DIR / ".dagster_home"))
    for name in ("TALLYHOUSE_MEMORY_LIMIT", "TALLYHOUSE_TEMP_DIR", "TALLYHOUSE_THREADS"):
        env.pop(name, None)
    if memory_limit:
        env["TALLYHOUSE_MEMORY_LIMIT"] = memory_limit
    if temp_dir:
        env["TALLYHOUSE_TEMP_DIR"] = str(temp_dir)
    if threads:
        env["TALLYHOUSE_THREADS"] = str(threads)
    return env


def pipeline_run(
    catalog: Path, landing: Path, warehouse: Path, as_of: str, env: dict, log: Path
) -> Timed:
    """`tallyhouse run` on an existing (or fresh) warehouse."""
    # `python -m dagster_project.cli` (the `tallyhouse` script) from this tree, so a copy of
    # the repository benchmarks its own code whatever the venv's editable install points at.
    env = {**env, "PYTHONPATH": str(REPO_DIR)}
    return run_timed(
        [
            sys.executable,
            "-m",
            "dagster_project.cli",
            "run",
            "--catalog",
            str(catalog),
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--as-of",
            as_of,
        ],
        {**env, "TALLYHOUSE_SERVING": str(warehouse.with_name("serving.duckdb"))},
        log,
    )


def reference_run(
    catalog: Path, landing: Path, out: Path, as_of: str, env: dict, log: Path
) -> Timed:
    cmd = [sys.executable, str(BENCH_DIR / "reference.py"), str(catalog), str(landing), str(out)]
    cmd += ["--as-of", as_of, "--profile"]
    for flag, name in (
        ("--memory-limit", "TALLYHOUSE_MEMORY_LIMIT"),
        ("--temp-dir", "TALLYHOUSE_TEMP_DIR"),
        ("--threads", "TALLYHOUSE_THREADS"),
    ):
        if env.get(name):
            cmd += [flag, env[name]]
    return run_timed(cmd, env, log)


# What the comparison reads of the pipeline's warehouse. The benchmark keeps only these and
# deletes the warehouse before the reference runs: at 100M the warehouse (35 GB), its serving
# copy (14 GB) and the reference's database and spill do not fit on one small disk together.
COMPARED_TABLES = {
    "fct_invoices": "*",
    "fct_invoice_line_items": "*",
    "fct_event_pipeline_log": "raw_ref, status",
}


def keep_compared_tables(warehouse: Path, out: Path) -> None:
    """Copy what `compare` reads of a pipeline warehouse into `out` (same schema and table
    names), then delete the warehouse and its serving copy."""
    con = duckdb.connect(str(out))
    try:
        con.execute(f"attach '{warehouse}' as pipe (read_only)")
        con.execute("create schema marts")
        for table, columns in COMPARED_TABLES.items():
            con.execute(f"create table marts.{table} as select {columns} from pipe.marts.{table}")
    finally:
        con.close()
    for path in (warehouse, warehouse.with_name("serving.duckdb")):
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------- the comparison

# Invoices are matched by (account, assignment, period start): both sides name the same
# invoice that way, whatever their invoice ids.
COMPARE_SQL = """
with pipeline as (
    select account_id, assignment_id, period_start, subtotal, minimum_commitment_true_up
    from pipe.marts.fct_invoices
),
reference as (
    select account_id, assignment_id, period_start, subtotal, minimum_commitment_true_up
    from ref.priced_invoices
)
select coalesce(p.account_id, r.account_id), coalesce(p.assignment_id, r.assignment_id),
       coalesce(p.period_start, r.period_start),
       p.subtotal, r.subtotal, p.minimum_commitment_true_up, r.minimum_commitment_true_up
from pipeline p
full join reference r using (account_id, assignment_id, period_start)
where p.subtotal is distinct from r.subtotal
   or p.minimum_commitment_true_up is distinct from r.minimum_commitment_true_up
order by 1, 3
"""

LINES_SQL = """
with pipeline as (
    select i.account_id, i.assignment_id, i.period_start, l.rate_card_id, l.line_type, l.amount
    from pipe.marts.fct_invoice_line_items l
    join pipe.marts.fct_invoices i using (invoice_id)
    where l.line_type in ('USAGE', 'FIXED_FEE')
),
reference as (
    select i.account_id, i.assignment_id, i.period_start, u.rate_card_id, 'USAGE' as line_type,
           u.amount
    from ref.usage_lines u join ref.invoices i using (invoice_id)
    union all
    select i.account_id, i.assignment_id, i.period_start, f.rate_card_id, 'FIXED_FEE',
           f.line_amount
    from ref.fixed_lines f join ref.invoices i using (invoice_id)
    where f.rate_card_type = 'FIXED_FEE'
)
select coalesce(p.account_id, r.account_id), coalesce(p.period_start, r.period_start),
       coalesce(p.rate_card_id, r.rate_card_id), p.amount, r.amount
from pipeline p
full join reference r using (account_id, assignment_id, period_start, rate_card_id, line_type)
where p.amount is distinct from r.amount
order by 1, 2, 3
"""

STATUS_SQL = """
select coalesce(p.raw_ref, r.raw_ref), p.status, r.status
from pipe.marts.fct_event_pipeline_log p
full join ref.pipeline_log r using (raw_ref)
where p.status is distinct from r.status
order by 1
"""


@dataclass(frozen=True)
class Comparison:
    invoices: int
    records: int
    invoice_mismatches: list[tuple]
    line_mismatches: list[tuple]
    status_mismatches: list[tuple]

    @property
    def ok(self) -> bool:
        return not (self.invoice_mismatches or self.line_mismatches or self.status_mismatches)

    def describe(self, limit: int = 10) -> str:
        parts = [
            f"{len(self.invoice_mismatches)} invoice(s) differ in subtotal or true-up, "
            f"{len(self.line_mismatches)} USAGE/FIXED_FEE line(s) differ, "
            f"{len(self.status_mismatches)} record(s) differ in pipeline status "
            f"(of {self.invoices:,} invoices, {self.records:,} records)"
        ]
        for title, rows in (
            (
                "invoice (account, assignment, period, pipeline subtotal, reference subtotal, "
                "pipeline true-up, reference true-up)",
                self.invoice_mismatches,
            ),
            ("line (account, period, rate card, pipeline, reference)", self.line_mismatches),
            ("record (raw_ref, pipeline, reference)", self.status_mismatches),
        ):
            for row in rows[:limit]:
                parts.append(f"  {title}: {row}")
        return "\n".join(parts)


def compare(pipeline_warehouse: Path, reference_db: Path) -> Comparison:
    """Every invoice's subtotal and true-up, every USAGE and FIXED_FEE line, to the cent,
    and every record's pipeline status. `pipeline_warehouse` is a warehouse or what
    `keep_compared_tables` kept of one."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"attach '{pipeline_warehouse}' as pipe (read_only)")
        con.execute(f"attach '{reference_db}' as ref (read_only)")
        invoices = con.execute("select count(*) from pipe.marts.fct_invoices").fetchall()[0][0]
        records = con.execute("select count(*) from pipe.marts.fct_event_pipeline_log").fetchall()[
            0
        ][0]
        return Comparison(
            invoices,
            records,
            con.execute(COMPARE_SQL).fetchall(),
            con.execute(LINES_SQL).fetchall(),
            con.execute(STATUS_SQL).fetchall(),
        )
    finally:
        con.close()


def month_start(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def days_between(a: date, b: date) -> int:
    return (b - a) // timedelta(days=1)
