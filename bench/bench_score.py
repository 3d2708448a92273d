"""Benchmarks of batch scoring (`churn.batch.score_file`, what `python -m churn score` runs).

Each case scores a generated customer CSV (new customers: no churn label, IDs unknown to the
offer recommender, so every offer comes from the cold start) end to end into a CSV: reading in
chunks, validation, P(churn), exact SHAP drivers with sentences, CLV and revenue at risk, offer
ranking, writing, and loading the cached engine (the active model of the benchmark data folder,
trained there once when missing, before any timing).

Cases
- ``batch_10k``: 10,000 rows (median of 3 runs): seconds end to end, rows/s, peak memory.
- ``batch_100k``: 100,000 rows: the same figures.
- ``batch_1m``: 1,000,000 rows: seconds (target 45 s, issue 15), rows/s, peak memory of the
  process and its scoring workers together (target 2,048 MB); ``batch_linearity``: scoring time
  per row at 1M ÷ at 100k as the command runs them (100k measured just before, one process), and
  ``batch_linearity_1proc``: the same with one process for both (target 1.1 each: time grows
  linearly with rows). ``--no-1proc`` leaves the one-process 1M run (over two minutes) out.

rows/s counts the scoring work (engine loading left out); seconds include it. Files of 200,000
rows or more are scored in worker processes (``batch.default_workers``: one per core). Peak
memory is sampled from /proc over the process and all its descendants. The input files are
generated once (in a child process, so their memory does not count) under bench/results/score/
and reused.

Run: ``python bench/bench_score.py CASE [--quick]`` (``--quick``: 10k and 20k rows; batch_1m is
skipped by the runner in quick mode, see QUICK_SKIP).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, peak_rss_mb, result, scratch_dir  # noqa: E402

#: Cases `python -m churn bench --quick` leaves out.
QUICK_SKIP = {"batch_1m"}
TARGET_1M_SECONDS = 45.0
TARGET_PEAK_MB = 2048.0
TARGET_LINEARITY = 1.1
CHUNK_ROWS = 100_000


def make_csv(rows: int, path: Path, seed: int = 2025) -> None:
    """Write `rows` generated customers (no Churn, fresh unique IDs) to `path` (IBM layout)."""
    import numpy as np

    from churn import schema, synth

    df = synth.generate_customers(rows, seed).drop(columns=[schema.TARGET])
    i = np.arange(rows)
    letters = "".join  # IDs like 0042-BAAAC: 4 digits, a dash, 5 letters (unique up to 1.1e11)
    df[schema.ID] = [f"{k % 10000:04d}-" + letters(chr(65 + (k // 10000 // 26 ** p) % 26)
                                                   for p in range(5)) for k in i]
    tmp = path.with_suffix(".tmp")
    schema.to_file_frame(df).to_csv(tmp, index=False)
    tmp.replace(path)


def _csv(rows: int) -> Path:
    path = scratch_dir("score") / f"customers_{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--make", str(rows), str(path)], check=True)
    return path


class TreeMemory:
    """Peak total resident memory (MB) of this process and all its descendants (the scoring
    workers), sampled every `every` seconds from /proc while the block runs (Linux)."""

    def __init__(self, every: float = 0.2):
        self.every = every
        self.peak_mb = 0.0
        self._stop = threading.Event()

    @staticmethod
    def total_mb() -> float:
        me = os.getpid()
        parent, rss = {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                parent[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
            except (OSError, IndexError, ValueError):
                continue

        def mine(pid):
            seen = set()
            while pid in parent and pid not in seen:
                if pid == me:
                    return True
                seen.add(pid)
                pid = parent[pid]
            return False

        return sum(v for pid, v in rss.items() if mine(pid))

    def _run(self):
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.total_mb())
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.total_mb())


def _engine():
    from churn.scoring import Engine

    scratch_dir("score")               # points CHURN_DATA_DIR at bench/results/data
    Engine.load()                       # train / fit once outside any timing


def _run(rows: int, workers: int | None = None):
    """One end-to-end run (engine loaded inside, from the cache; worker processes as
    `batch.default_workers` chooses unless given): the BatchResult, with ``peak_total_mb`` and
    ``workers``."""
    from churn import batch

    src = _csv(rows)
    workers = workers or batch.default_workers(src, CHUNK_ROWS)
    load_before = os.getloadavg()[0]
    with TreeMemory() as mem:
        res = batch.score_file(src, scratch_dir("score") / f"scores_{rows}.csv",
                               chunk_rows=CHUNK_ROWS, workers=workers)
    if res.problem:
        raise RuntimeError(res.problem)
    res.peak_total_mb, res.workers = mem.peak_mb, workers
    res.load = (load_before, os.getloadavg()[0])     # 1-minute load average before, after
    return res


def _figures(name: str, runs: list, target_s=None) -> list[dict]:
    secs = statistics.median(r.seconds for r in runs)
    rate = statistics.median(r.rows_per_second for r in runs)
    r = runs[-1]
    peak = max(max(x.peak_total_mb for x in runs), peak_rss_mb())
    note = (f"{r.rows:,} rows, {r.scored:,} scored, {r.rejected:,} rejected; CSV in and out, "
            f"chunks of {CHUNK_ROWS:,}, {r.workers} scoring process(es); engine load "
            f"{r.load_seconds:.1f} s" + (f"; median of {len(runs)} runs" if len(runs) > 1 else "")
            + f"; load average {r.load[0]:.2f} before, {r.load[1]:.2f} after (2 cores)")
    out = [result(name, secs, "s", target_s, note=note),
           result(f"{name}_rows_per_s", rate, "rows/s",
                  None if target_s is None else r.rows / TARGET_1M_SECONDS,
                  lower_is_better=False, note="scoring work only (engine load left out)"),
           result(f"{name}_peak_mb", peak, "MB",
                  TARGET_PEAK_MB if target_s is not None else None,
                  note="peak resident memory of the process and its scoring workers together")]
    for fig in out:
        fig["peak_mb"] = round(peak, 1)     # the whole process tree, not this process alone
    return out


def batch_10k(quick: bool) -> list[dict]:
    _engine()
    runs = [_run(10_000) for _ in range(1 if quick else 3)]
    return _figures("batch_10k", runs)


def batch_100k(quick: bool) -> list[dict]:
    _engine()
    rows = 20_000 if quick else 100_000
    return _figures("batch_100k" if not quick else "batch_20k", [_run(rows)])


def _per_row(res) -> float:
    return (res.seconds - res.load_seconds) / res.rows


def batch_1m(quick: bool) -> list[dict]:
    """1M rows as the command runs them (worker processes), then the linearity figures: per-row
    time at 1M ÷ at 100k as the command runs both (100k: one process), and with one process
    for both (the algorithm's own linearity)."""
    _engine()
    small, big = (10_000, 100_000) if quick else (100_000, 1_000_000)
    _csv(big)
    first = _run(small, workers=1)
    res = _run(big)
    name = "batch_1m" if not quick else "batch_100k_q"
    out = _figures(name, [res], TARGET_1M_SECONDS if not quick else None)
    ratio = _per_row(res) / _per_row(first)
    out.append(result("batch_linearity", ratio, "×", TARGET_LINEARITY,
                      note=f"scoring time per row at {big:,} rows ({_per_row(res) * 1e6:.0f} µs, "
                           f"{res.workers} process(es)) ÷ at {small:,} "
                           f"({_per_row(first) * 1e6:.0f} µs, 1 process), as the command runs"))
    if res.workers > 1 and "--no-1proc" not in sys.argv:
        one = _run(big, workers=1)
        out.append(result("batch_linearity_1proc", _per_row(one) / _per_row(first), "×",
                          TARGET_LINEARITY,
                          note=f"the same with one process for both ({_per_row(one) * 1e6:.0f} µs "
                               f"per row at {big:,}; {one.seconds:.0f} s end to end)"))
    one_peak = one.peak_total_mb if res.workers > 1 and "--no-1proc" not in sys.argv else 0.0
    for fig in out:                     # the whole process tree, largest of the runs
        fig["peak_mb"] = round(max(out[0]["peak_mb"], first.peak_total_mb, one_peak), 1)
    return out


CASES = {"batch_10k": batch_10k, "batch_100k": batch_100k, "batch_1m": batch_1m}

if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--make":
        make_csv(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(CASES)
