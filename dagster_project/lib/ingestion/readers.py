"""Readers that stage one landing file's records in batch_records, in bulk.

A JSON record is staged as its text, a Parquet row as the record's fields (JSON values):
the same fields the parse takes from the text, so validation, the fingerprint and the
canonical payload have one implementation (records.py). No Python code touches individual
records on the normal path: JSONL is split into lines by Arrow, JSON arrays and Parquet are
expanded by DuckDB.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .landing import LandingFile
from .records import RECORD_FIELD_NAMES

READ_BLOCK_BYTES = 64 << 20

# Columns a Parquet landing file may have; the first three are required (CONTRACT §1.1).
PARQUET_REQUIRED_COLUMNS = ("timestamp", "accountId", "schemaName")
PARQUET_OPTIONAL_COLUMNS = ("id", "attributes", "dimensions")


class UnreadableFile(Exception):
    """The file as a whole cannot be read; it becomes one INVALID record `<name>:0`."""


def _lines_table(body: bytes, first_line_no: int) -> pa.Table:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Rare: keep the valid lines exact and turn the undecodable ones into visible
        # replacement characters, which then fail JSON validation with their line number.
        text = body.decode("utf-8", errors="replace")
    lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n")[0].values
    line_no = pa.array(range(first_line_no + 1, first_line_no + 1 + len(lines)), pa.int64())
    return pa.table({"record_no": line_no, "raw_text": lines})


def iter_jsonl_blocks(path: Path, compressed: bool) -> Iterator[pa.Table]:
    """Lines of a JSONL(.gz) file in blocks, numbered from 1 (blank lines keep their number)."""
    opener = gzip.open if compressed else open
    lines_before = 0
    carry = b""
    try:
        with opener(path, "rb") as stream:
            while block := stream.read(READ_BLOCK_BYTES):
                block = carry + block
                cut = block.rfind(b"\n")
                if cut < 0:
                    carry = block
                    continue
                carry = block[cut + 1 :]
                table = _lines_table(block[:cut], lines_before)
                lines_before += table.num_rows
                yield table
            if carry:
                yield _lines_table(carry, lines_before)
    except (OSError, EOFError, zlib.error) as error:
        raise UnreadableFile(f"cannot read compressed file: {error}") from error


def stage_landing_files(
    con: duckdb.DuckDBPyConnection, files: list[tuple[int, LandingFile]]
) -> dict[int, str]:
    """Insert the records of a group's files into temp table batch_records.

    Returns the files that cannot be read, by file_seq, with why: none of their records is
    staged, as a broken file is rejected whole. Run outside a transaction: in one, DuckDB
    aborts the whole transaction at a failed statement, so a file whose Parquet pages cannot
    be decoded would fail the night instead of being rejected.
    """
    problems: dict[int, str] = {}
    parquet: dict[tuple, list[tuple[int, Path]]] = {}
    for file_seq, landing in files:
        try:
            if landing.file_format == "parquet":
                parquet.setdefault(_parquet_schema(con, landing.path), []).append(
                    (file_seq, landing.path)
                )
            else:
                _stage_text_file(con, file_seq, landing)
        except UnreadableFile as error:
            _reject(con, problems, file_seq, error)
    # The Parquet files of one schema are read by one statement, which DuckDB spreads over
    # its threads (one thread reads a file of one row group): 2.8 s instead of 5.2 s for the
    # eleven files of a 3.6M-record group. Should one be unreadable, each is read alone.
    for schema, same in parquet.items():
        try:
            _stage_parquet(con, same, schema)
        except UnreadableFile:
            for file_seq, path in same:
                try:
                    _stage_parquet(con, [(file_seq, path)], schema)
                except UnreadableFile as error:
                    _reject(con, problems, file_seq, error)
    return problems


def _reject(
    con: duckdb.DuckDBPyConnection, problems: dict[int, str], file_seq: int, error: Exception
) -> None:
    # Nothing of a broken file is billed: drop what was staged before the fault.
    con.execute("delete from batch_records where file_seq = ?", [file_seq])
    problems[file_seq] = str(error)


def _stage_text_file(con: duckdb.DuckDBPyConnection, file_seq: int, landing: LandingFile) -> None:
    if landing.file_format in ("jsonl", "jsonl.gz"):
        for table in iter_jsonl_blocks(landing.path, landing.file_format == "jsonl.gz"):
            # A relation over the block, not con.register(): inside a transaction DuckDB keeps
            # a registered Arrow table alive until commit, so every block of the transaction
            # stayed in memory (2.4 GiB beyond the memory limit at 10M JSONL.gz records).
            con.from_arrow(table).query(
                "jsonl_block",
                f"""
                insert into batch_records (file_seq, record_no, raw_text)
                select {int(file_seq)}, record_no, raw_text from jsonl_block
                -- Blank lines are not records (SEMANTICS, ingestion order).
                where trim(raw_text, ' \t\r') <> ''
                """,
            )
    else:
        _stage_json_array(con, file_seq, landing.path)


def _stage_json_array(con: duckdb.DuckDBPyConnection, file_seq: int, path: Path) -> None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"not UTF-8 text: {error}") from error
    shape = con.execute(
        "select case when json_valid($1) then json_type($1::JSON) end", [text]
    ).fetchall()[0][0]
    if shape is None:
        raise UnreadableFile("not valid JSON")
    if shape != "ARRAY":
        raise UnreadableFile(f"a .json landing file must hold one JSON array, found {shape}")
    con.execute(
        """
        insert into batch_records (file_seq, record_no, raw_text)
        select ?, unnest(range(1, len(elements) + 1)), unnest(elements)::varchar
        from (select json_extract(?::JSON, '$[*]') as elements)
        """,
        [file_seq, text],
    )


def _parquet_schema(con: duckdb.DuckDBPyConnection, path: Path) -> tuple:
    """The file's columns as Parquet describes them (files alike are read together), checked
    against the columns a landing file may have."""
    try:
        rows = con.execute(
            "select * exclude (file_name) from parquet_schema(?) order by column_id", [str(path)]
        ).fetchall()[1:]
    except duckdb.Error as error:
        raise UnreadableFile(f"not a readable Parquet file: {error}") from error
    names = [row[0] for row in rows]
    missing = [c for c in PARQUET_REQUIRED_COLUMNS if c not in names]
    unknown = sorted(set(names) - set(PARQUET_REQUIRED_COLUMNS + PARQUET_OPTIONAL_COLUMNS))
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unexpected column(s) {', '.join(unknown)}")
        raise UnreadableFile("wrong Parquet schema: " + "; ".join(problems))
    return tuple(rows)


def _stage_parquet(
    con: duckdb.DuckDBPyConnection, files: list[tuple[int, Path]], schema: tuple
) -> None:
    columns = {row[0] for row in schema}

    def as_json(column: str) -> str:
        # Nested columns may be JSON text or native lists/structs/maps: both become JSON. A
        # merge patch onto {} drops the nulls at every depth of an object, as the JSON
        # document the row stands for would have none (CONTRACT §1.1: a null is absent);
        # text that names no null needs none (the patch took a third of the staging time).
        quoted = f'"{column}"'
        if column not in columns:
            return "NULL"
        text = f"try_cast({quoted} as varchar)"
        return (
            f"case when {text} is not null and json_valid({text}) "
            f"and left(ltrim({text}), 1) in ('{{', '[') "
            f"then case when contains({text}, 'null') "
            f"then json_merge_patch('{{}}', {text}::JSON) else {text}::JSON end "
            f"else json_merge_patch('{{}}', to_json({quoted})) end"
        )

    def scalar(column: str) -> str:
        return f'to_json("{column}")' if column in columns else "NULL"

    # The row goes in as the record's fields, not as JSON text to be parsed again.
    fields = ", ".join(
        f"'{name}': {as_json(name) if name in ('attributes', 'dimensions') else scalar(name)}"
        for name in RECORD_FIELD_NAMES
    )
    paths = [str(path) for _, path in files]
    try:
        con.execute(
            f"""
            insert into batch_records (file_seq, record_no, fields)
            select $file_seqs[list_position($paths, filename)], file_row_number + 1, {{{fields}}}
            from read_parquet($paths, file_row_number = true, filename = true)
            """,
            {"file_seqs": [file_seq for file_seq, _ in files], "paths": paths},
        )
    except duckdb.Error as error:
        raise UnreadableFile(f"not a readable Parquet file: {error}") from error
