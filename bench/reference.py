"""The hand-written reference the benchmark measures the pipeline against.

`python bench/reference.py CATALOG LANDING OUT.duckdb --as-of TS` loads the catalog's
small tables, then runs bench/reference.sql: one DuckDB script that does the nightly run's
essential work as directly as possible (load, validate, dedupe, resolve accounts, cut
periods, meter, aggregate, rate, fixed fees, pricing rules, true-up; one pipeline-log row
per record; the invoices). It imports nothing from the project on purpose: it is a second,
independent implementation, so agreeing with it to the cent means something.
"""

import argparse
import re
import sys
import time
from pathlib import Path

import duckdb
import yaml

HERE = Path(__file__).resolve().parent

CATALOG_TABLES = {
    "price_plans": "plan_id VARCHAR, currency VARCHAR, anchor_day INTEGER, grace_days INTEGER",
    "rate_cards": "plan_id VARCHAR, rate_card_id VARCHAR, rate_card_type VARCHAR, "
    "meter_id VARCHAR, pricing_model VARCHAR, minimum DECIMAL(38,12), "
    "maximum DECIMAL(38,12), amount DECIMAL(38,12), proration BOOLEAN",
    "slabs": "rate_card_id VARCHAR, slab_index INTEGER, start_after DECIMAL(38,12), "
    "rate DECIMAL(18,9), flat_fee DECIMAL(38,12), package_size DECIMAL(38,12)",
    "schema_attributes": "schema_name VARCHAR, attribute VARCHAR",
}


def load_pricing(con: duckdb.DuckDBPyConnection, pricing_yaml: Path) -> None:
    pricing = yaml.safe_load(pricing_yaml.read_text())
    rows: dict[str, list[tuple]] = {name: [] for name in CATALOG_TABLES}
    for schema in pricing["event_schemas"]:
        for attribute in schema.get("attributes", []):
            rows["schema_attributes"].append((schema["name"], attribute["name"]))
    for plan in pricing["price_plans"]:
        cycle = plan["billing_cycle"]
        if cycle["interval"] != "MONTHLY" or cycle.get("anchor_day", 1) > 28:
            sys.exit(f"reference: only MONTHLY cycles anchored on days 1-28 ({plan['id']})")
        rows["price_plans"].append(
            (
                plan["id"],
                plan["currency"],
                cycle.get("anchor_day", 1),
                cycle.get("grace_period_days", 0),
            )
        )
        for card in plan["rate_cards"]:
            rows["rate_cards"].append(
                (
                    plan["id"],
                    card["id"],
                    card["type"],
                    card.get("meter"),
                    card.get("pricing_model"),
                    card.get("minimum"),
                    card.get("maximum"),
                    card.get("amount"),
                    card.get("proration", False),
                )
            )
            for index, slab in enumerate(card.get("slabs", [])):
                rows["slabs"].append(
                    (
                        card["id"],
                        index,
                        str(slab["start_after"]),
                        str(slab["rate"]),
                        slab.get("flat_fee"),
                        slab.get("package_size") and str(slab["package_size"]),
                    )
                )
    for name, columns in CATALOG_TABLES.items():
        con.execute(f"create or replace table {name} ({columns})")
        if rows[name]:
            width = len(rows[name][0])
            placeholders = ", ".join("?" * width)
            con.executemany(f"insert into {name} values ({placeholders})", rows[name])


def run_reference(
    catalog: Path,
    landing: Path,
    out: Path,
    as_of: str,
    memory_limit=None,
    temp_dir=None,
    threads=None,
    profile: bool = False,
) -> float:
    """Runs the reference into `out` (replaced); returns its wall seconds."""
    started = time.perf_counter()
    out.unlink(missing_ok=True)
    Path(f"{out}.wal").unlink(missing_ok=True)
    con = duckdb.connect(str(out))
    con.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_dir:
        con.execute(f"SET temp_directory = '{temp_dir}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    # In the log, so a benchmark shows the limit the reference really ran under.
    limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    print(f"reference: DuckDB memory limit {limit}", flush=True)
    load_pricing(con, catalog / "pricing.yaml")
    parquet = sorted(landing.glob("*.parquet"))
    jsonl = sorted(landing.glob("*.jsonl")) + sorted(landing.glob("*.jsonl.gz"))
    if parquet and jsonl:
        sys.exit("reference: a landing folder of one format (Parquet or JSONL) only")
    files = [str(p) for p in (parquet or jsonl)]
    staging = ""
    if files and parquet:
        source = (
            f'select filename, file_row_number + 1 as line, id, schemaName, "timestamp", '
            f"accountId, attributes::VARCHAR as attributes, dimensions::VARCHAR as dimensions, "
            f"null::VARCHAR as read_problem "
            f"from read_parquet({files!r}, filename = true, file_row_number = true)"
        )
    elif files:
        # JSONL: every line as text first (a cut-off or non-JSON line is a record too, INVALID,
        # where read_json would stop the load), kept in file order, so a line's number is its
        # rank by rowid within its file. The generator writes no blank lines; one would shift
        # every later raw_ref of its file, which the status comparison would report.
        staging = (
            "CREATE OR REPLACE TABLE landing_lines AS SELECT filename, column0 AS raw_text "
            f"FROM read_csv({files!r}, columns = {{'column0': 'VARCHAR'}}, header = false, "
            "delim = chr(1), quote = '', escape = '', auto_detect = false, filename = true);\n"
        )
        fields = (
            '{"id": "JSON", "schemaName": "VARCHAR", "timestamp": "VARCHAR", '
            '"accountId": "VARCHAR", "attributes": "JSON", "dimensions": "JSON"}'
        )
        # An id must be a JSON string: a number there is a bad id, not its digits as text.
        source = (
            "select filename, line, case when json_type(f.id) = 'VARCHAR' then f.id->>'$' end "
            'as id, f.schemaName, f."timestamp", f.accountId, '
            "f.attributes::VARCHAR as attributes, f.dimensions::VARCHAR as dimensions, "
            "case when not json_valid(raw_text) then 'unparseable JSON' "
            "when f is null then 'record is not a JSON object' "
            "when json_type(f.id) not in ('VARCHAR', 'NULL') then 'bad id' end as read_problem "
            "from (select filename, raw_text, "
            "row_number() over (partition by filename order by rowid) as line, "
            "case when json_valid(raw_text) and json_type(raw_text) = 'OBJECT' "
            f"then from_json(raw_text, '{fields}') end as f from landing_lines)"
        )
    else:
        source = (
            "select null::VARCHAR as filename, null::BIGINT as line, null::VARCHAR as id, "
            'null::VARCHAR as schemaName, null::VARCHAR as "timestamp", '
            "null::VARCHAR as accountId, null::VARCHAR as attributes, "
            "null::VARCHAR as dimensions, null::VARCHAR as read_problem where false"
        )
    script = staging + (HERE / "reference.sql").read_text()
    script = (
        script.replace("{{ records_source }}", source)
        .replace("{{ catalog }}", str(catalog))
        .replace("{{ as_of }}", as_of)
        .replace("{{ files }}", f"{files!r}::VARCHAR[]" if files else "[]::VARCHAR[]")
    )
    # One statement at a time, so an error names its step and --profile can time each one.
    for statement in re.split(r";\s*\n", script):
        body = "\n".join(
            line for line in statement.splitlines() if not line.lstrip().startswith("--")
        )
        if not body.strip():
            continue
        step_started = time.perf_counter()
        try:
            con.execute(statement)
        except duckdb.Error as error:
            raise RuntimeError(
                f"reference.sql failed at:\n{body.strip()[:300]}\n{error}"
            ) from error
        if profile:
            # As each step ends, so the log of a run stopped midway shows where it was.
            step = body.strip().splitlines()[0][:80]
            print(f"{time.perf_counter() - step_started:8.2f} s  {step}", flush=True)
    con.close()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench/reference.py", description=__doc__)
    parser.add_argument("catalog", type=Path)
    parser.add_argument("landing", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--memory-limit")
    parser.add_argument("--temp-dir")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--profile", action="store_true", help="print seconds per statement")
    args = parser.parse_args(argv)
    seconds = run_reference(
        args.catalog.resolve(),
        args.landing.resolve(),
        args.out.resolve(),
        args.as_of,
        args.memory_limit,
        args.temp_dir,
        args.threads,
        args.profile,
    )
    print(f"reference: {seconds:.2f} s")


if __name__ == "__main__":
    main()
