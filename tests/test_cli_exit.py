"""The `tallyhouse` script leaves through os._exit (no interpreter teardown): its exit status,
its buffered output and the exit handlers must survive that."""

from __future__ import annotations

import subprocess
import sys

import jwt

SECRET = "a-test-secret-of-at-least-32-bytes!"

# Registers an exit handler that writes a file, fills stdout's buffer (a pipe is block
# buffered) and runs the script's entry point with the arguments given.
SCRIPT = """
import atexit, sys
marker, args = sys.argv[1], sys.argv[2:]
atexit.register(lambda: open(marker, "w").write("exit handlers ran"))
print("x" * 100_000)
from dagster_project.cli import entry
entry(args)
print("never printed: entry does not return")
"""


def _entry(tmp_path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    marker = tmp_path / "marker"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(marker), *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TALLYHOUSE_PORTAL_SECRET": SECRET},
        timeout=120,
    )
    return done, marker.read_text() if marker.exists() else ""


def test_success_keeps_status_output_and_exit_handlers(tmp_path):
    done, marker = _entry(tmp_path, "token", "--scope", "finance", "--ttl", "60")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "x" * 100_000
    assert jwt.decode(lines[1], SECRET, algorithms=["HS256"])["scope"] == "finance"
    assert len(lines) == 2
    assert marker == "exit handlers ran"


def test_failure_keeps_status_and_message(tmp_path):
    missing = tmp_path / "no-such-warehouse.duckdb"
    done, marker = _entry(tmp_path, "explain", "evt_1", "--warehouse", str(missing))
    assert done.returncode == 1
    message = done.stderr.replace("\n", "")  # rich wraps the paragraph
    assert message.startswith("error:") and str(missing) in message
    assert done.stdout == "x" * 100_000 + "\n"
    assert marker == "exit handlers ran"
