"""BENCHMARKS.md names the DuckDB memory limit each figure ran under: one invocation may run
100M at 3 GiB while the rows and sections it keeps from earlier ones ran at 4 GiB."""

from bench.report import render


def cold_row(limit, reference_limit=None):
    return {
        "wall_s": 10.0,
        "reference_s": 5.0,
        "ratio": 2.0,
        "events_per_s": 1000,
        "peak_rss_bytes": 3 * 2**30,
        "reference_peak_rss_bytes": 2**30,
        "invoices": 7,
        "accounts": 10_000,
        "memory_limit": limit,
        "reference_memory_limit": reference_limit or limit,
        "load_1_5_15": ["1.00/1.00/1.00"],
    }


def test_each_figure_names_its_own_memory_limit():
    report = render(
        {
            "cold": {
                "10M": cold_row("4GiB"),
                "100M": cold_row("3GiB", "12GiB"),
                "1M": cold_row(None),
            },
            "fixed_overhead": {
                "wall_s": 40.0,
                "runs_s": [40.0],
                "peak_rss_bytes": 2**30,
                "memory_limit": "2GiB",
            },
            "incremental": {
                "night_events": 20_000,
                "events_per_history_month": 100_000,
                "after_1_month_s": 20.0,
                "after_6_months_s": 21.0,
                "ratio": 1.05,
                "memory_limit": "5GiB",
            },
            "machine": {"cpus": 2, "python": "3.11", "date": "2026-12-07"},
        }
    )
    rows = {
        line.split("|")[1].strip(): line for line in report.splitlines() if line.startswith("| 1")
    }
    assert rows["10M"].split("|")[3].strip() == "4GiB"
    # the reference's own limit, when it ran under another
    assert rows["100M"].split("|")[3].strip() == "3GiB (reference 12GiB)"
    assert rows["1M"].split("|")[3].strip() == "none"
    assert "peak RSS 1.00 GiB, memory limit 2GiB." in report
    assert "ratio **1.05×** (memory limit 5GiB)." in report
