"""Shared plumbing for the benchmarks under bench/ (not tests: figures, not pass/fail).

Contract for every `bench/bench_<area>.py`:
- `CASES`: dict name -> function(quick: bool) -> list[dict] made with `result(...)`.
- `python bench/bench_<area>.py --list` prints the case names;
  `python bench/bench_<area>.py CASE [--quick]` runs one case in this process and prints its
  results as one JSON line (last line of stdout). Peak memory is this process's peak RSS, so the
  runner starts one process per case to measure each on its own.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, repeat: int = 1):
    """Run fn `repeat` times; return (median seconds, list of seconds, last return value)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def percentile(values, q: float) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def result(name: str, value: float, unit: str, target: float | None, *, lower_is_better=True,
           note: str = "") -> dict:
    """One figure against its target; `holds` is None when there is no target."""
    holds = None
    if target is not None:
        holds = bool(value < target) if lower_is_better else bool(value > target)
    return {"name": name, "value": round(float(value), 4), "unit": unit, "target": target,
            "holds": holds, "peak_mb": round(peak_rss_mb(), 1), "note": note}


def main(cases: dict) -> None:
    """Entry point for a bench module: `--list`, or run one case and print JSON."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--list" in sys.argv:
        print("\n".join(cases))
        return
    quick = "--quick" in sys.argv
    names = args or list(cases)
    out = []
    for name in names:
        out.extend(cases[name](quick))
    print(json.dumps(out))


def scratch_dir(name: str) -> Path:
    """A folder for benchmark inputs/outputs (bench/results/, ignored by git)."""
    d = ROOT / "bench" / "results" / name
    d.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CHURN_DATA_DIR", str(ROOT / "bench" / "results" / "data"))
    return d
