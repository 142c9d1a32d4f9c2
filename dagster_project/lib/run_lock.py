"""One run at a time per warehouse: DuckDB takes one writer, and a billing run must never
interleave with another (two runs could both finalize, or one read the other's half-written
drafts). The lock is an OS file lock next to the warehouse, so a killed run releases it."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse."""


def lock_path(warehouse: Path | str) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".run.lock")


def acquire_run_lock(warehouse: Path | str, *, purpose: str, wait_seconds: float = 0.0) -> int:
    """The lock's file descriptor; raises WarehouseBusy naming the holder after wait_seconds."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 500, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise WarehouseBusy(
                    f"Another run is using the warehouse {warehouse} ({holder}). "
                    "Nothing was changed by this one: wait for that run to finish, then "
                    "start this one again."
                ) from None
            time.sleep(0.2)
    os.ftruncate(fd, 0)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    os.pwrite(fd, f"{purpose}, pid {os.getpid()}, since {stamp}".encode(), 0)
    return fd


def release_run_lock(fd: int) -> None:
    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextmanager
def warehouse_run_lock(
    warehouse: Path | str, *, purpose: str, wait_seconds: float = 0.0
) -> Iterator[None]:
    fd = acquire_run_lock(warehouse, purpose=purpose, wait_seconds=wait_seconds)
    try:
        yield
    finally:
        release_run_lock(fd)
