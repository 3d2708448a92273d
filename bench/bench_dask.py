"""Benchmark of scoring on a Dask cluster (`churn.distributed.score_dask`) against one process.

Case ``dask_local_200k``: the 200,000-row customer CSV of bench_score.py (new customers, no
churn label) scored end to end into Parquet twice, with the active model of the benchmark data
folder (loaded before any timing):

- one process (`churn.batch.score_file`, ``workers=1``): seconds;
- ``--dask local:2`` (a `distributed.LocalCluster` of 2 single-threaded worker processes, one per
  core of the reference machine): seconds including starting the cluster and sending it the
  engine, and the same without the cluster start;
- ``dask_local_200k_speedup``: one process ÷ Dask (target > 1: the cluster pays for itself on
  a file of this size), and rows per second per core.

The two outputs are compared (same frame) so the figure is for the same work. ``--quick``:
20,000 rows.

Run: ``python bench/bench_dask.py dask_local_200k [--quick]``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, result, scratch_dir  # noqa: E402

ROWS = 200_000
QUICK_ROWS = 20_000
WORKERS = 2
CHUNK_ROWS = 25_000


def _csv(rows: int) -> Path:
    import bench_score

    return bench_score._csv(rows)


def dask_local_200k(quick: bool) -> list[dict]:
    import pandas as pd

    from churn import batch, distributed
    from churn.scoring import Engine

    rows = QUICK_ROWS if quick else ROWS
    out_dir = scratch_dir("dask")
    src = _csv(rows)
    engine = Engine.load()
    t0 = time.perf_counter()
    single = batch.score_file(src, out_dir / "single.parquet", engine=engine,
                              chunk_rows=CHUNK_ROWS, workers=1)
    single_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    client, cluster = distributed.connect(f"local:{WORKERS}")
    started = time.perf_counter() - t0
    try:
        t1 = time.perf_counter()
        res = distributed.score_dask(src, out_dir / "dask.parquet", engine=engine,
                                     chunk_rows=CHUNK_ROWS, client=client)
        work_s = time.perf_counter() - t1
    finally:
        client.close()
        cluster.close()
    dask_s = started + work_s
    if res.problem or single.problem:
        raise RuntimeError(res.problem or single.problem)
    same = pd.read_parquet(out_dir / "single.parquet").equals(
        pd.read_parquet(out_dir / "dask.parquet"))
    if not same:
        raise RuntimeError("the Dask output differs from the single-process output")
    name = "dask_local_200k" if not quick else "dask_local_20k"
    note = (f"{rows:,} rows ({res.scored:,} scored) CSV -> Parquet, pieces of {CHUNK_ROWS:,}, "
            f"{WORKERS} workers x 1 thread; cluster start {started:.1f} s, scoring "
            f"{work_s:.1f} s; one process {single_s:.1f} s; outputs identical")
    return [
        result(name, dask_s, "s", None, note=note),
        result(f"{name}_single", single_s, "s", None,
               note="the same file with `python -m churn score` in one process"),
        result(f"{name}_speedup", single_s / dask_s, "×", 1.0, lower_is_better=False,
               note=f"one process ÷ Dask local:{WORKERS} (cluster start included; without it "
                    f"{single_s / work_s:.2f} ×)"),
        result(f"{name}_rows_per_s_per_core", rows / work_s / WORKERS, "rows/s", None,
               lower_is_better=False,
               note="scoring on the cluster (start left out) per worker core"),
    ]


CASES = {"dask_local_200k": dask_local_200k}

if __name__ == "__main__":
    main(CASES)
