"""The reference reads JSONL line by line: a line that is no JSON object, or whose id is not
a JSON string, is one INVALID record with its own raw_ref, and the lines after it keep
their numbers. (Reading with read_json stopped the whole load at the first such line.)"""

from __future__ import annotations

import gzip
import json

import duckdb

from bench.harness import AS_OF, START
from bench.reference import run_reference
from dagster_project.lib.generator import generate_catalog, generate_events


def test_jsonl_lines_that_are_no_record_are_invalid_and_keep_their_numbers(tmp_path):
    catalog = generate_catalog(tmp_path / "gen", accounts=20, seed=7, start=START)
    generate_events(
        catalog, tmp_path / "gen", events=50, days=30, seed=7, start=START, fmt="jsonl",
        bad_share=0,
    )  # fmt: skip
    first_file = sorted((tmp_path / "gen" / "landing").glob("*.jsonl"))[0]
    good = json.loads(first_file.read_text().splitlines()[0])
    lines = [
        json.dumps(good),
        json.dumps({**good, "id": 12345}),  # a number is no id
        json.dumps(good)[:40],  # a cut-off write
        "<html><body>502 Bad Gateway</body></html>",
        "[1, 2]",  # JSON, but no object
        json.dumps({**good, "id": good["id"] + "-resent"}),
    ]
    landing = tmp_path / "landing"
    landing.mkdir()
    with gzip.open(landing / "events-a.jsonl.gz", "wt") as out:
        out.write("\n".join(lines) + "\n")

    run_reference(catalog, landing, tmp_path / "reference.duckdb", AS_OF)

    con = duckdb.connect(str(tmp_path / "reference.duckdb"), read_only=True)
    rows = dict(
        (ref, (status, reason))
        for ref, status, reason in con.execute(
            "select raw_ref, status, status_reason from pipeline_log"
        ).fetchall()
    )
    con.close()
    billed = rows["events-a.jsonl.gz:1"]
    assert billed[0] != "INVALID"
    assert rows == {
        "events-a.jsonl.gz:1": billed,
        "events-a.jsonl.gz:2": ("INVALID", "bad id"),
        "events-a.jsonl.gz:3": ("INVALID", "unparseable JSON"),
        "events-a.jsonl.gz:4": ("INVALID", "unparseable JSON"),
        "events-a.jsonl.gz:5": ("INVALID", "record is not a JSON object"),
        "events-a.jsonl.gz:6": billed,
    }
