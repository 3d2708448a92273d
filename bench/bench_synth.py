"""Benchmark: generate and write a large sample (`churn.synth.write_sample`).

Case `synth_1m`: 1,000,000 customers plus their offer history, generated and written as CSV
(both files). Targets: under 15 s wall time, peak memory under 2,048 MB. `--quick` uses 100,000
customers with the same targets (a smoke run).

    python bench/bench_synth.py synth_1m [--quick]
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, peak_rss_mb, result, scratch_dir, timed  # noqa: E402

TARGET_SECONDS = 15.0
TARGET_PEAK_MB = 2048.0


def synth_1m(quick: bool) -> list[dict]:
    from churn.synth import write_sample

    rows = 100_000 if quick else 1_000_000
    out = scratch_dir("synth")
    cpu0 = time.process_time()
    seconds, _, files = timed(lambda: write_sample(out, rows=rows, seed=7))
    cpu = time.process_time() - cpu0
    size_mb = sum(os.path.getsize(f) for f in files) / 1e6
    note = f"{rows:,} customers; {size_mb:.0f} MB written; CPU {cpu:.1f} s"
    return [
        result("synth_1m", seconds, "s", TARGET_SECONDS, note=note),
        result("synth_1m_peak_memory", peak_rss_mb(), "MB", TARGET_PEAK_MB,
               note="peak resident memory of the generating process"),
    ]


CASES = {"synth_1m": synth_1m}

if __name__ == "__main__":
    main(CASES)
