"""Ingestion of new landing files into the warehouse's ingestion log (raw.event_records)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from .landing import LandingFile, discover_landing_files
from .readers import stage_landing_files
from .records import classify_batch, ensure_raw_tables, prepare_batch

__all__ = ["IngestionSummary", "ingest_landing", "ensure_raw_tables"]


@dataclass
class IngestionSummary:
    files_ingested: list[str] = field(default_factory=list)
    files_rejected: dict[str, str] = field(default_factory=dict)
    files_already_ingested: list[str] = field(default_factory=list)
    files_ignored: list[str] = field(default_factory=list)
    records_by_status: dict[str, int] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(self.records_by_status.values())


def _new_files(
    con: duckdb.DuckDBPyConnection, files: list[LandingFile]
) -> list[tuple[LandingFile, str]]:
    """Files whose content was never ingested, with their raw_ref prefix.

    A name seen before with other content is a new file: its refs read `<name>@<sha8>`.
    """
    known = con.execute("select content_sha256, file_name from raw.landing_files").fetchall()
    known_hashes = {sha for sha, _ in known}
    known_names = {name for _, name in known}
    new: list[tuple[LandingFile, str]] = []
    for landing in files:
        if landing.content_sha256 in known_hashes:
            continue
        prefix = landing.name
        if landing.name in known_names:
            prefix = f"{landing.name}@{landing.content_sha256[:8]}"
        known_hashes.add(landing.content_sha256)
        known_names.add(landing.name)
        new.append((landing, prefix))
    return new


# Landing bytes parsed at once: ~2.5M Parquet records or ~1M JSONL.gz records a group.
GROUP_BYTES = 64 << 20


def _file_groups(numbered: list) -> list[list]:
    groups: list[list] = [[]]
    size = 0
    for item in numbered:
        landing = item[1][0]
        if groups[-1] and size + landing.size_bytes > GROUP_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += landing.size_bytes
    return groups


def ingest_landing(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, received_at: datetime
) -> IngestionSummary:
    """Ingest every new, complete landing file, a group of files per transaction: a group
    commits all of its files and records or none, so a crash never leaves part of a file."""
    ensure_raw_tables(con)
    files, ignored = discover_landing_files(landing_dir)
    summary = IngestionSummary(files_ignored=ignored)
    new = _new_files(con, files)
    new_hashes = {landing.content_sha256 for landing, _ in new}
    summary.files_already_ingested = [f.name for f in files if f.content_sha256 not in new_hashes]
    if not new:
        return summary

    first_file_seq = con.execute(
        "select coalesce(max(file_seq), 0) from raw.landing_files"
    ).fetchall()[0][0]
    numbered = list(enumerate(new, start=first_file_seq + 1))
    # Parsed in groups of files of bounded size, in order, each group written in its own
    # transaction: a group dedupes against raw.event_records, which already holds the groups
    # before it, so the statuses are those of one pass. One transaction for the whole
    # batch kept every group's staging tables until its commit (a replaced table stays
    # readable to a rollback): at 100M records, ~1.5 GB of spill a group until the end.
    # Staging fills temp tables only, before the transaction (readers.stage_landing_files).
    for group in _file_groups(numbered):
        prepare_batch(con)
        problems = stage_landing_files(
            con, [(file_seq, landing) for file_seq, (landing, _) in group]
        )
        for file_seq, (landing, prefix) in group:
            problem = problems.get(file_seq)
            if problem is None:
                summary.files_ingested.append(landing.name)
            else:
                summary.files_rejected[landing.name] = problem
            con.execute(
                "insert into batch_files values (?, ?, ?, ?, ?, ?, ?)",
                [
                    file_seq,
                    landing.name,
                    landing.content_sha256,
                    prefix,
                    landing.file_format,
                    landing.size_bytes,
                    None if problem is None else f"{landing.name}: {problem}",
                ],
            )
        con.execute("begin transaction")
        try:
            classify_batch(con, received_at)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    counts = con.execute(
        "select ingest_status, count(*) from raw.event_records where file_seq > ? group by all",
        [first_file_seq],
    ).fetchall()
    summary.records_by_status = dict(counts)
    return summary
