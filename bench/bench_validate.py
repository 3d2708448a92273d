"""Benchmarks of churn.validate and churn.store on a large customer file.

Cases
- ``validate_1m``: `validate()` of a 1,000,000-row CSV in the IBM layout (target 10 s, peak
  memory of the process target 2,048 MB). The file is generated once (in a child process, so its
  memory does not count) under bench/results/validate/ and reused.
- ``store_1m``: `Store.save_batch` then `Store.load_batch` of the validated 1,000,000 rows in a
  fresh DuckDB file (information, no target).

Run: ``python bench/bench_validate.py CASE [--quick]`` (``--quick`` uses 100,000 rows, target
2 s).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, peak_rss_mb, result, scratch_dir, timed  # noqa: E402

FULL_ROWS, QUICK_ROWS = 1_000_000, 100_000


def _rows(quick: bool) -> int:
    return QUICK_ROWS if quick else FULL_ROWS


def make_csv(rows: int, path: Path, seed: int = 7) -> None:
    """Write `rows` generated customers in the IBM text layout to `path`."""
    import numpy as np
    import pandas as pd

    from churn import schema

    try:
        from churn.synth import generate_customers

        df = generate_customers(rows, seed)
    except ImportError:              # churn.synth not there: uniform draws from the schema
        rng = np.random.default_rng(seed)
        data = {schema.ID: [f"{i % 10000:04d}-" + "".join(chr(65 + (i // 10000 // 26 ** k) % 26)
                                                           for k in range(5))
                            for i in range(rows)]}
        for col in schema.COLUMNS:
            if col.kind == "category":
                data[col.name] = rng.choice(np.array(col.values, dtype=object), rows)
        data["SeniorCitizen"] = rng.integers(0, 2, rows)
        data["tenure"] = rng.integers(0, 73, rows)
        data["MonthlyCharges"] = np.round(rng.uniform(18.25, 118.75, rows), 2)
        data["TotalCharges"] = schema.total_charges_estimate(data["tenure"],
                                                             data["MonthlyCharges"])
        data["Churn"] = rng.integers(0, 2, rows)
        df = schema.enforce_dependencies(pd.DataFrame(data))[schema.FILE_COLUMNS]
    tmp = path.with_suffix(".tmp")
    schema.to_file_frame(df).to_csv(tmp, index=False)
    tmp.replace(path)


def _csv(rows: int) -> Path:
    """The benchmark file for `rows` customers, generated in a child process when missing."""
    path = scratch_dir("validate") / f"customers_{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--make", str(rows), str(path)], check=True)
    return path


def validate_1m(quick: bool) -> list[dict]:
    from churn.validate import validate

    rows = _rows(quick)
    path = _csv(rows)
    seconds, _, report = timed(lambda: validate(path))
    target = 2.0 if quick else 10.0          # quick: 100k rows, fixed costs weigh more
    note = (f"{report.rows:,} rows, {report.valid_rows:,} valid, {len(report.errors)} errors, "
            f"{len(report.warnings)} warnings; {path.stat().st_size / 1e6:.0f} MB file")
    return [result("validate_1m", seconds, "s", target, note=note),
            result("validate_1m_peak_mb", peak_rss_mb(), "MB", 2048.0,
                   note="peak resident memory of the process (import + validate)")]


def store_1m(quick: bool) -> list[dict]:
    from churn.store import Store
    from churn.validate import validate

    rows = _rows(quick)
    frame = validate(_csv(rows)).frame
    db = scratch_dir("validate") / "store_bench.duckdb"
    for f in (db, db.with_suffix(".duckdb.wal")):
        f.unlink(missing_ok=True)
    store = Store(db)
    save_s, _, _ = timed(lambda: store.save_batch("bench", frame, kind="upload"))
    load_s, _, back = timed(lambda: store.load_batch("bench"))
    assert len(back) == len(frame)
    store.close()
    size = db.stat().st_size / 1e6
    return [result("store_1m_save", save_s, "s", None, note=f"{rows:,} rows; file {size:.0f} MB"),
            result("store_1m_load", load_s, "s", None, note=f"{rows:,} rows back as a frame")]


CASES = {"validate_1m": validate_1m, "store_1m": store_1m}

if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--make":
        make_csv(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(CASES)
