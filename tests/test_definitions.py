"""The Dagster asset graph (assets, checks, jobs, schedules, sensors), snapshotted so lineage changes show up in review."""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


def asset_graph_lines() -> list[str]:
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = sorted(p.to_user_string() for p in node.parent_keys)
        lines.append(f"{key.to_user_string()} <- {', '.join(parents) or '(source)'}")
    for check_key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        blocking = "blocking" if graph.get_check_spec(check_key).blocking else "warn"
        lines.append(f"check {check_key.to_user_string()} ({blocking})")
    jobs = sorted(job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__"))
    lines.append("jobs: " + ", ".join(jobs))
    lines.append("schedules: " + ", ".join(sorted(s.name for s in defs.schedules or [])))
    lines.append("sensors: " + ", ".join(sorted(s.name for s in defs.sensors or [])))
    return lines


def test_asset_graph_matches_the_snapshot():
    lines = asset_graph_lines()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text("\n".join(lines) + "\n")
    assert SNAPSHOT.read_text().splitlines() == lines, (
        "the asset graph changed: review the lineage, then rerun with UPDATE_SNAPSHOTS=1"
    )


def test_nightly_job_runs_in_process():
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("nightly_billing_job")
    # DuckDB takes one writer: every step in the run's own process.
    assert job.executor_def.name == "in_process"
