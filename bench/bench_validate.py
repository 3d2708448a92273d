"""Benchmarks of churn.validate and churn.store on a large customer file.

Cases
- ``validate_1m``: `validate()` of a 1,000,000-row CSV in the IBM layout (target 10 s, peak
  memory of the process target 2,048 MB). The file is generated once (in a child process, so its
  memory does not count) under bench/results/validate/ and reused.
- ``store_1m``: `Store.save_batch` then `Store.load_batch` of the validated 1,000,000 rows in a
  fresh DuckDB file (information, no target).
- ``validate_wide_row``: issue 17's wide row, the real-shaped 7,043-row file with 100,000 extra
  commas on one row (1.07 MB; also 20,000 and 200,000): seconds against 4 x the clean file's
  seconds per MB, peak memory against 500 MB + 4 x file size.
- ``validate_damaged_1m``: the 1,000,000-row file with a stray quote, a NUL byte and a
  5,000-field row (the tolerant reader): target 30 s, peak memory 500 MB + 4 x file size.
- ``validate_fuzz``: the fuzz test's long run (2,000 examples; ``make fuzz``), 0 failures.

Run: ``python bench/bench_validate.py CASE [--quick]`` (``--quick`` uses 100,000 rows, target
2 s).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
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


WIDE_ROWS = 7_043                 # the size of the real Telco file
WIDE_COMMAS = 100_000             # issue 17: 1.07 MB, 10 GB and MemoryError before the fix


def _hostile(name: str, rows: int, damage) -> Path:
    """A real-shaped file of `rows` customers with `damage(lines)` applied (made once)."""
    path = scratch_dir("validate") / f"{name}_{rows}.csv"
    if not path.exists():
        clean = _csv(rows)
        lines = clean.read_bytes().split(b"\n")
        damage(lines)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(b"\n".join(lines))
        tmp.replace(path)
    return path


def _wide(commas: int):
    def damage(lines):
        lines[100] = lines[100] + b"," * commas
    return damage


def validate_wide_row(quick: bool) -> list[dict]:
    """Issue 17, failure 2: the real-shaped file with 100,000 extra commas on one row (1.07 MB).
    Targets: time linear in size (figure: seconds per MB, against the clean file's), peak
    memory within 500 MB + 4 x file size; one rejected row."""
    from churn.validate import validate

    clean = _csv(WIDE_ROWS)
    base_s, _, _ = timed(lambda: validate(clean), repeat=3)
    out = []
    for commas in ((20_000, WIDE_COMMAS, 200_000) if not quick else (WIDE_COMMAS,)):
        path = _hostile(f"wide{commas}", WIDE_ROWS, _wide(commas))
        seconds, _, report = timed(lambda: validate(path), repeat=3)
        mb = path.stat().st_size / 1e6
        name = "validate_wide_row" if commas == WIDE_COMMAS else f"validate_wide_row_{commas}"
        out.append(result(name, seconds, "s", max(2.0, 4 * base_s / clean.stat().st_size * 1e6
                                                  * mb),
                          note=f"{mb:.2f} MB, {commas:,} extra commas on one row: "
                               f"{report.rejected_rows} rejected of {report.rows:,} "
                               f"({report.errors[0] if report.errors else 'no error'}); clean "
                               f"file {base_s:.2f} s; target: 4 x the clean file's s/MB"))
    size_mb = _hostile(f"wide{WIDE_COMMAS}", WIDE_ROWS, _wide(WIDE_COMMAS)).stat().st_size / 1e6
    out.append(result("validate_wide_row_peak_mb", peak_rss_mb(), "MB", 500 + 4 * size_mb,
                      note="peak resident memory of the process (imports included)"))
    return out


def validate_damaged_1m(quick: bool) -> list[dict]:
    """The 1,000,000-row file with one stray quote, one NUL byte and one 5,000-field row: the
    tolerant reader's cost (every good row kept). Target: 3 x validate_1m's 10 s."""
    from churn.validate import validate

    rows = _rows(quick)

    def damage(lines):
        mid = len(lines) // 2
        parts = lines[mid].split(b",")
        parts[3] = b'"' + parts[3]
        lines[mid] = b",".join(parts)
        lines[mid + 7] = lines[mid + 7].replace(b",", b",\x00", 1)
        lines[mid + 11] = lines[mid + 11] + b"," * 5000

    path = _hostile("damaged", rows, damage)
    seconds, _, report = timed(lambda: validate(path))
    target = 6.0 if quick else 30.0
    return [result("validate_damaged_1m", seconds, "s", target,
                   note=f"{report.rows:,} rows, {report.valid_rows:,} valid, "
                        f"{report.rejected_rows} rejected (stray quote, NUL, wide row)"),
            result("validate_damaged_1m_peak_mb", peak_rss_mb(), "MB",
                   500 + 4 * path.stat().st_size / 1e6,
                   note="peak resident memory; target 500 MB + 4 x file size")]


def validate_fuzz(quick: bool) -> list[dict]:
    """The fuzz test's long run (`make fuzz`): CHURN_FUZZ_EXAMPLES examples (2,000; quick 200)."""
    examples = 200 if quick else 2000
    env = dict(os.environ, CHURN_FUZZ_EXAMPLES=str(examples))
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(Path(__file__).resolve().parent.parent / "tests" / "test_fuzz.py")],
                       env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    last = (p.stdout.strip().splitlines() or ["no output"])[-1]
    return [result("validate_fuzz", 0.0 if p.returncode == 0 else 1.0, "failures", 0.5,
                   note=f"{examples:,} validator examples, {max(5, examples // 4):,} score "
                        f"examples, {seconds:.0f} s: {last}")]


CASES = {"validate_1m": validate_1m, "store_1m": store_1m,
         "validate_wide_row": validate_wide_row, "validate_damaged_1m": validate_damaged_1m,
         "validate_fuzz": validate_fuzz}

if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--make":
        make_csv(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(CASES)
