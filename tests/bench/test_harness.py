"""The benchmark's peak memory counts the whole process tree, not the largest process."""

from __future__ import annotations

import os
import sys

from bench.harness import run_timed

HOLD = "import sys, time; block = bytearray(int(sys.argv[1]) << 20); time.sleep(2)"


def test_peak_rss_sums_every_descendant(tmp_path):
    # bash starts two Python children holding 300 MiB and 200 MiB at the same time: the
    # tree's peak is at least their sum, far more than any single process.
    script = f'"{sys.executable}" -c "{HOLD}" 300 & "{sys.executable}" -c "{HOLD}" 200; wait'
    timed = run_timed(["bash", "-c", script], dict(os.environ), tmp_path / "run.log")
    assert timed.peak_rss_bytes >= 500 << 20
    assert timed.wall_s >= 2
