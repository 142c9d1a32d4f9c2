"""The benchmark at 1k events, so it never rots: the real `tallyhouse run` and the
hand-written reference on the same files must agree to the cent, for Parquet and for
JSONL.gz (whose planted faults include lines that are no JSON at all). No timing assertions."""

from __future__ import annotations

import csv
import json
from collections import Counter
from decimal import Decimal

import duckdb
import pytest

from bench import __main__ as bench_main
from bench import harness


@pytest.fixture(scope="module", params=["1k", "1k_jsonl"])
def smoke(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    harness.DATA_DIR, saved = root / "data", harness.DATA_DIR
    try:
        work = root / "work"
        env = harness.child_env("1GiB", work / "spill", None)
        reference_env = harness.child_env("2GiB", work / "spill", None)
        figures = bench_main.cold(request.param, 1, work, env, 200, reference_env)
        data = bench_main.cold_dataset(request.param, accounts=200).root  # generated above
    finally:
        harness.DATA_DIR = saved
    return figures, work / f"cold-{request.param}", data


@pytest.mark.slow
def test_reference_equals_pipeline_to_the_cent(smoke):
    figures, run_dir, _ = smoke
    # cold() raises BenchmarkFailed on a single cent of disagreement; check again explicitly.
    # It keeps only the compared tables of the pipeline's warehouse, so the reference never
    # shares the disk with the warehouse and its serving copy.
    assert not (run_dir / "warehouse.duckdb").exists()
    assert not (run_dir / "serving.duckdb").exists()
    result = harness.compare(run_dir / "pipeline-compared.duckdb", run_dir / "reference.duckdb")
    assert result.ok, result.describe()
    assert result.records == 1000  # every record has exactly one pipeline-log row
    assert figures["events"] == 1000
    assert figures["invoices"] == result.invoices > 0
    assert figures["peak_rss_bytes"] > figures["reference_peak_rss_bytes"] > 0
    assert set(figures) >= {"wall_s", "reference_s", "ratio", "events_per_s", "peak_rss_bytes"}
    # The reference ran under its own limit (--reference-memory-limit), the pipeline under 1GiB.
    assert "reference: DuckDB memory limit 2.0 GiB" in (run_dir / "reference.log").read_text()
    assert (figures["memory_limit"], figures["reference_memory_limit"]) == ("1GiB", "2GiB")


@pytest.mark.slow
def test_reference_statuses_match_the_generator(smoke):
    """The reference stands on its own: its statuses for the planted faults are the
    generator's expected ones (planted.csv), not read back from the pipeline."""
    _, run_dir, data = smoke
    manifest = json.loads((data / "manifest.json").read_text())
    with (data / "planted.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    planted = {row["raw_ref"]: row["expected_status"] for row in rows}
    # JSONL carries lines that are no JSON object at all (Parquet rows always parse).
    assert ("unparseable" in {row["kind"] for row in rows}) == ("jsonl" in data.name)
    con = duckdb.connect(str(run_dir / "reference.duckdb"), read_only=True)
    statuses = dict(con.execute("select raw_ref, status from pipeline_log").fetchall())
    con.close()
    assert len(statuses) == manifest["records_total"] == 1000
    assert {ref: statuses[ref] for ref in planted} == planted
    clean = Counter(s for ref, s in statuses.items() if ref not in planted)
    assert set(clean) <= {"METERED", "NO_MATCHING_METERS"}
    assert sum(clean.values()) == manifest["expected_status_counts"]["clean"]


@pytest.mark.slow
def test_comparison_catches_one_cent(smoke, tmp_path):
    """A reference one cent off on one invoice fails the comparison, naming that invoice."""
    _, run_dir, _ = smoke
    tampered = tmp_path / "reference.duckdb"
    tampered.write_bytes((run_dir / "reference.duckdb").read_bytes())
    con = duckdb.connect(str(tampered))
    account, period_start, subtotal = con.execute(
        "select account_id, period_start, subtotal from priced_invoices "
        "order by account_id, period_start limit 1"
    ).fetchall()[0]
    con.execute(
        "update priced_invoices set subtotal = subtotal + 0.01 "
        "where account_id = ? and period_start = ?",
        [account, period_start],
    )
    con.close()
    result = harness.compare(run_dir / "pipeline-compared.duckdb", tampered)
    assert not result.ok
    assert [(row[0], row[2], row[3], row[4]) for row in result.invoice_mismatches] == [
        (account, period_start, subtotal, subtotal + Decimal("0.01"))
    ]
    assert result.line_mismatches == [] and result.status_mismatches == []
