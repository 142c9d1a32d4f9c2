"""The landing folder: which files are complete event files, their content hashes and formats."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

# Longest suffix first: "x.jsonl.gz" must not be read as ".gz".
EVENT_FILE_FORMATS = {
    ".jsonl.gz": "jsonl.gz",
    ".jsonl": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
}
# Writers write, then rename: these names are files still being written (CONTRACT §1.1).
INCOMPLETE_SUFFIXES = (".tmp", ".partial")


@dataclass(frozen=True)
class LandingFile:
    path: Path
    name: str
    file_format: str
    size_bytes: int
    content_sha256: str


def is_incomplete(name: str) -> bool:
    return name.startswith(".") or name.endswith(INCOMPLETE_SUFFIXES)


def event_file_format(name: str) -> str | None:
    for suffix, file_format in EVENT_FILE_FORMATS.items():
        if name.endswith(suffix):
            return file_format
    return None


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def discover_landing_files(landing_dir: Path) -> tuple[list[LandingFile], list[str]]:
    """Complete event files in file-name order (the order of receipt), and names ignored."""
    files: list[LandingFile] = []
    ignored: list[str] = []
    if not landing_dir.exists():
        return files, ignored
    for path in sorted(p for p in landing_dir.iterdir() if p.is_file()):
        if is_incomplete(path.name):
            continue
        file_format = event_file_format(path.name)
        if file_format is None:
            ignored.append(path.name)
            continue
        files.append(
            LandingFile(
                path=path,
                name=path.name,
                file_format=file_format,
                size_bytes=path.stat().st_size,
                content_sha256=sha256_of_file(path),
            )
        )
    return files, ignored
