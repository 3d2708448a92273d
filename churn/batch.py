"""Score a customer file of any size in chunks: what ``python -m churn score FILE --out OUT`` runs.

``score_file(source, out)`` reads a customer file in the Telco schema (CSV in any dialect
``churn.validate`` reads, Parquet, or an .xlsx workbook) piece by piece, validates each piece
with ``validate.validate_chunk`` and scores its valid rows with the engine
(``scoring.Engine.score``: P(churn), risk tier, top three drivers in percentage points, CLV,
revenue at risk, best offer and its reason). Memory stays bounded by the chunk size, whatever the
size of the file.

Outputs (nothing is lost: every customer row ends up in exactly one of them):

- ``OUT`` (``.csv`` or ``.parquet``): one row per valid customer, columns ``scoring.SCORE_COLUMNS``,
  in file order.
- ``OUT`` stem + ``.rejects.csv`` (beside ``OUT``): every invalid row as read (text), with its row
  number (as the user counts lines in the file: header = row 1, first customer = row 2; for
  Parquet the same convention over the records) and all its reasons.

Both are written to ``<name>.partial`` and renamed to their final names only when the whole file
has been scored; on any error or Ctrl-C (KeyboardInterrupt) the partial files are removed before
the exception propagates, so a half-written file never sits under a final name.

Row numbers and duplicates work across pieces: each piece carries the file row number of its
first record, and the customer IDs already seen (with their first row) are kept in one dict, so a
duplicate ID in a later piece is rejected naming the earlier row, exactly as ``validate`` would
report it for the whole file. CSV pieces are cut at record ends with a quote-aware scan (a line
break inside a quoted value does not end a record) and each piece is validated with the file's
header line in front, so BOM, ``;``/tab delimiters, CRLF and Latin-1 work as in ``validate``.

CSV text cells and headers that Excel would read as a formula (customer IDs, rejected rows' text
and headers starting with ``=``, ``+``, ``-``, ``@``) are prefixed with ``'``
(``churn.spreadsheet.escape_cell``, the one rule of every export); Parquet is written as is.

Speed: a file of at least `POOL_FROM_ROWS` rows is scored by worker processes (one per core, see
`default_workers`), each with a pickled copy of the engine and one thread in every thread pool,
in parts of `POOL_PART_ROWS` (aligned to `PART_ALIGN`), while this process reads, validates and
writes; workers hand back Arrow tables of the output rows, written in file order, so the output
is the same as with one process, byte for byte. 1,000,000 customers peak at about 1.9-2.0 GB
(``bench/bench_score.py``); per 100,000 customers a worker spends about 9 CPU seconds: a third
in the offer recommender's nearest-neighbour search (``churn.nearest``, which replaced a scan
that took half), then the uplift models and exact SHAP (README: "Where batch scoring spends
its time").
"""
from __future__ import annotations

import math
import os
import pickle
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from churn.config import BusinessSettings
from churn.files import process_alive
from churn.spreadsheet import escape_series

#: Rows validated and scored at a time (about 0.9 GB at peak per process with the default engine).
DEFAULT_CHUNK_ROWS = 100_000
#: Bytes read from a CSV file at a time while looking for record ends.
READ_BLOCK_BYTES = 1 << 22
#: Output formats by file extension.
OUTPUT_KINDS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Columns of the scored output holding numbers (the others are text).
FLOAT_COLUMNS = ("churn_prob", "driver_1_pp", "driver_2_pp", "driver_3_pp", "clv",
                 "expected_months", "revenue_at_risk", "revenue_at_risk_12m", "offer_net_value")
#: Warnings kept in `BatchResult.warnings` (distinct texts, in order of appearance).
MAX_WARNINGS = 100
#: Most scoring processes `default_workers` chooses (each holds an engine, about 1 GB at peak).
MAX_WORKERS = 4
#: Bytes per customer row of a CSV in the IBM layout, to estimate a file's rows from its size.
CSV_BYTES_PER_ROW = 135
#: Rows from which scoring in worker processes pays for their start (a few seconds each).
POOL_FROM_ROWS = 200_000
#: Rows a worker process scores at a time (at most this many per worker, plus one part, are in
#: flight): a 100,000-row part peaks at about 0.95 GB in a worker, a 50,000-row one at 0.75 GB.
#: Used rounded down to a multiple of `PART_ALIGN` (see `_part_rows`).
POOL_PART_ROWS = 50_000
#: Parts of a chunk start at multiples of this many rows: BLAS matrix-vector kernels (e.g. the
#: survival model's linear predictor) treat rows in blocks, and a row's last bit can depend on
#: its place in the block, so parts aligned like this give the bits of scoring the whole chunk.
PART_ALIGN = 64

# Progress callback: (fraction of the input read 0..1, rows read, rows scored, seconds of work so
# far, engine loading left out).
Progress = Callable[[float, int, int, float], None]

_BLANK_BYTES = b',;\t|" \xef\xbb\xbf'   # a record of only these (and line ends) is a blank line


@dataclass
class BatchResult:
    """What `score_file` did.

    rows: customer rows read (blank lines not counted); scored: rows written to ``out``;
    rejected: rows written to ``rejects``; seconds: wall time of the whole call (engine loading
    included), load_seconds: of which loading the engine; warnings: distinct warning texts
    (first `MAX_WARNINGS`); first_rejects: "Row N: reasons" of the first few rejected rows.
    problem: set (and nothing written) when the file cannot be scored at all: unreadable
    (``fatal`` True), or without the schema's columns or any customer row (``fatal`` False).
    """

    source: str
    out: Path
    rejects: Path
    rows: int = 0
    scored: int = 0
    rejected: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    first_rejects: list[str] = field(default_factory=list)
    problem: str | None = None
    fatal: bool = False

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of scoring work (engine loading left out)."""
        work = self.seconds - self.load_seconds
        return self.rows / work if work > 0 else float("nan")

    def summary(self) -> str:
        """The counts line the command prints."""
        if self.problem:
            return f"{self.source}: nothing was scored. {self.problem}"
        rate = self.rows_per_second
        rate_text = f"{rate:,.0f} rows/s" if math.isfinite(rate) else "no rows"
        return (f"{self.source}: {self.rows:,} rows read, {self.scored:,} scored, "
                f"{self.rejected:,} rejected in {self.seconds:.1f} s ({rate_text}; "
                f"engine ready in {self.load_seconds:.1f} s). Scores: {self.out}; "
                f"rejected rows: {self.rejects}.")


@dataclass
class _Piece:
    """One piece of the input: what `validate_chunk` reads, and where it sits in the file."""

    data: object              # bytes (header line + records) or a text DataFrame
    row_offset: int           # file row of the first record minus 2
    done: float               # fraction of the input consumed after this piece (0..1)
    fatal: str | None = None  # the input cannot be read (then data is None)


def rejects_path(out) -> Path:
    """The rejects file beside ``out``: ``scores.parquet`` -> ``scores.rejects.csv``."""
    out = Path(out)
    return out.with_name(out.stem + ".rejects.csv")


def partial_path(path) -> Path:
    """Where a file is written until it is complete: ``scores.csv`` -> ``scores.csv.partial``."""
    path = Path(path)
    return path.with_name(path.name + ".partial")


def output_kind(out) -> str:
    """"csv" or "parquet" from the extension of ``out``; ValueError for anything else."""
    kind = OUTPUT_KINDS.get(Path(out).suffix.lower())
    if kind is None:
        raise ValueError(f"--out {out}: the file name must end in .csv or .parquet (the output "
                         "format is chosen by the extension).")
    return kind


# --- reading pieces ------------------------------------------------------------------------------
def _record_runs(fh, chunk_rows: int, block: int,
                 first: int | None = None) -> Iterator[tuple[bytes, np.ndarray]]:
    """Runs of ``chunk_rows`` whole records from a binary CSV stream (the first run ``first``
    records when given, e.g. one more for the header; the last run may be shorter).

    Yields (data, ends): ``ends`` are the exclusive end offsets of each record in ``data``.
    Records are split by `churn.validate.record_ends`, the validator's own reader: a line break
    inside a quoted value does not end a record, and a stray quote mark breaks only its own line,
    so the pieces are cut exactly where `validate` would see record ends.
    """
    from churn.validate import _Fatal, header_shape, record_ends

    buf = b""
    ends = np.empty(0, np.int64)     # record ends found in buf
    shape = None                     # (delimiter, header fields), from the first non-blank line
    eof = False
    want = first or chunk_rows
    while True:
        while len(ends) < want and not eof:
            data = fh.read(block)
            if not data:
                eof = True
            elif b"\n" not in data:
                buf += data
                continue             # no new line end: nothing new to split
            else:
                buf += data
            if shape is None:
                try:
                    shape = header_shape(buf, eof) or ((",", 1) if eof else None)
                except _Fatal:       # an absurd header: one run, refused by the validator
                    yield buf + fh.read(), np.array([len(buf)], np.int64)
                    return
                if shape is None:
                    continue
            ends = record_ends(buf, shape[0], shape[1], eof).ends
        if not buf:
            return
        if len(ends) >= want:
            cut, take = int(ends[want - 1]), want
            run_ends = ends[:take]
        else:                        # end of file: everything left, a last unterminated line too
            cut, take = len(buf), len(ends)
            run_ends = ends if (take and ends[-1] == cut) else np.append(ends, cut)
        yield buf[:cut], run_ends
        buf = buf[cut:]
        ends = ends[take:] - cut
        want = chunk_rows
        if eof and not buf:
            return


def _is_blank(record: bytes) -> bool:
    """True for a line with no value in it (empty, or only delimiters/quotes/spaces)."""
    return not record.translate(None, _BLANK_BYTES).strip(b"\r\n")


def _csv_pieces(path: Path, chunk_rows: int, block: int) -> Iterator[_Piece]:
    """Pieces of a CSV file: the first as is, every later one with the header line in front."""
    size = max(path.stat().st_size, 1)
    header = None        # the header record (first non-blank one), with its line end
    consumed = 0         # records of the file before the next piece
    lead_n = 0           # blank lines before the header (not yet followed by one)
    read = 0
    with open(path, "rb") as fh:
        for data, ends in _record_runs(fh, chunk_rows, block, first=chunk_rows + 1):
            read += len(data)
            n = len(ends)
            if header is None:
                starts = np.concatenate([[0], ends[:-1]])
                first = next((i for i, (a, b) in enumerate(zip(starts, ends))
                              if not _is_blank(data[a:b])), None)
                if first is None:        # only blank lines so far: keep them for the next run
                    lead_n += n
                    continue
                header = data[starts[first]:ends[first]]
                if not header.endswith(b"\n"):
                    header += b"\n"
                # blank lines before the header are left out (counted in the row numbers)
                yield _Piece(data[starts[first]:], lead_n + first, read / size)
                consumed = lead_n + n
                continue
            yield _Piece(header + data, consumed - 1, read / size)
            consumed += n
    if header is None:                   # empty, or blank lines only: validate says so
        yield _Piece(b"", 0, 1.0)


def _text_column(arr) -> np.ndarray:
    """One Arrow column as text (object array of str; null and NaN -> "")."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(arr.type):
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)
    try:
        text = pc.cast(arr, pa.string()) if not pa.types.is_string(arr.type) else arr
        return text.fill_null("").to_numpy(zero_copy_only=False).astype(object)
    except (pa.ArrowException, TypeError, ValueError):   # e.g. binary that is not UTF-8
        return np.array(["" if v is None else str(v) for v in arr.to_pylist()], dtype=object)


def _parquet_pieces(path: Path, chunk_rows: int) -> Iterator[_Piece]:
    """Pieces of a Parquet file: record batches as text frames named by the file's columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        yield _Piece(None, 0, 1.0, fatal=f"The file could not be read as Parquet: {exc}.")
        return
    total = max(pf.metadata.num_rows, 1)
    names = [str(n) for n in pf.schema_arrow.names]
    done = 0
    for batch in pf.iter_batches(batch_size=chunk_rows):
        cols = {j: _text_column(batch.column(j)) for j in range(batch.num_columns)}
        frame = pd.DataFrame(cols, copy=False)
        frame.columns = names
        yield _Piece(frame, done, (done + batch.num_rows) / total)
        done += batch.num_rows
    if done == 0:
        frame = pd.DataFrame({j: np.empty(0, object) for j in range(len(names))})
        frame.columns = names
        yield _Piece(frame, 0, 1.0)


def _pieces(path: Path, chunk_rows: int, block: int = READ_BLOCK_BYTES) -> Iterator[_Piece]:
    """The input in pieces of about ``chunk_rows`` records, by format."""
    from churn.validate import MSG_IS_FOLDER, MSG_NOT_FOUND

    if not path.exists():
        yield _Piece(None, 0, 1.0, fatal=MSG_NOT_FOUND.format(path=path))
        return
    if path.is_dir():
        yield _Piece(None, 0, 1.0, fatal=MSG_IS_FOLDER.format(path=path))
        return
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
        yield from _parquet_pieces(path, chunk_rows)
    elif magic.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xff\xfe", b"\xfe\xff")):
        # Excel (at most 1,048,576 rows) or UTF-16 text: validated whole, scored in chunks
        yield _Piece(path.read_bytes(), 0, 1.0)
    else:
        yield from _csv_pieces(path, chunk_rows, block)


# --- writing -------------------------------------------------------------------------------------
class _Sink:
    """A CSV or Parquet file written piece by piece with a fixed schema (pyarrow writers).

    CSV: UTF-8, comma-separated, "\\n" line ends, a header row (names quoted only when needed),
    text values always in quotes, floats in their shortest exact form, missing numbers empty.
    Parquet: one row group per piece.
    """

    def __init__(self, path: Path, columns: list[str], kind: str, floats=(), ints=()):
        import pyarrow as pa

        def typ(c):
            return pa.float64() if c in floats else pa.int64() if c in ints else pa.string()

        self.schema = pa.schema([(c, typ(c)) for c in columns])
        if kind == "csv":
            import csv
            import io

            import pyarrow.csv as pacsv

            from churn.spreadsheet import escape_names

            head = io.StringIO()   # quoted only if needed; spreadsheet-safe like every cell
            csv.writer(head, lineterminator="\n").writerow(escape_names(columns))
            self.fh = open(path, "wb")
            self.fh.write(head.getvalue().encode("utf-8"))
            self.writer = pacsv.CSVWriter(self.fh, self.schema,
                                          write_options=pacsv.WriteOptions(include_header=False))
        else:
            import pyarrow.parquet as pq

            self.writer = pq.ParquetWriter(str(path), self.schema)

    def write(self, frame) -> None:
        """Append a DataFrame, or an Arrow table of this sink's schema (`_scores_table`)."""
        import pyarrow as pa

        if not isinstance(frame, pa.Table):
            frame = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        self.writer.write_table(frame)

    def close(self) -> None:
        self.writer.close()
        if getattr(self, "fh", None) is not None:
            self.fh.close()


def _scores_frame(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The engine's table in output form: `SCORE_COLUMNS` in order, typed, CSV-safe text."""
    from churn.scoring import SCORE_COLUMNS

    out = table.reindex(columns=SCORE_COLUMNS).reset_index(drop=True)
    for c in FLOAT_COLUMNS:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    if kind == "csv" and len(out):
        out[SCORE_COLUMNS[0]] = escape_series(out[SCORE_COLUMNS[0]])
    return out


def _scores_table(table: pd.DataFrame, kind: str):
    """`_scores_frame` as an Arrow table of the output schema: what a worker process hands
    back (its text travels as a few buffers instead of a million Python strings, and the
    conversion is done in the workers, in parallel, not in the process that writes)."""
    import pyarrow as pa

    from churn.scoring import SCORE_COLUMNS

    schema = pa.schema([(c, pa.float64() if c in FLOAT_COLUMNS else pa.string())
                        for c in SCORE_COLUMNS])
    return pa.Table.from_pandas(_scores_frame(table, kind), schema=schema, preserve_index=False)


def _part_rows(chunk_rows: int, pool: bool) -> int:
    """Rows scored at a time: the whole chunk in this process; in worker processes parts of
    `POOL_PART_ROWS` rounded down to a multiple of `PART_ALIGN` (so every row keeps its place
    modulo the BLAS blocks, and the output has the same bits as with whole chunks)."""
    if not pool or chunk_rows <= POOL_PART_ROWS:
        return chunk_rows
    return max(PART_ALIGN, POOL_PART_ROWS // PART_ALIGN * PART_ALIGN)


def _rejects_frame(rejected: pd.DataFrame) -> pd.DataFrame:
    out = rejected.reset_index(drop=True)
    if len(out):
        for c in out.columns[1:]:
            out[c] = escape_series(out[c])
    return out


def _file_problems(report) -> list:
    """Errors that make every row unusable (columns missing, no schema columns at all)."""
    from churn.schema import FILE_COLUMNS
    from churn.validate import MSG_MISSING_COLUMN, MSG_NO_SCHEMA_COLUMNS, MSG_TARGET_REQUIRED

    whole = {MSG_MISSING_COLUMN, MSG_TARGET_REQUIRED,
             MSG_NO_SCHEMA_COLUMNS.format(examples=", ".join(FILE_COLUMNS[:4]))}
    return [p for p in report.errors if p.row is None and p.message in whole]


def _remove(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


# --- scoring in worker processes ----------------------------------------------------------------
_WORKER_ENGINE = None


def _die_with(parent_pid: int | None, every: float = 0.5) -> None:
    """End this worker as soon as the scoring process ends, even when it is killed with
    SIGKILL (no clean-up code runs then): the kernel kills the worker when its own parent (the
    forkserver) dies (``prctl(PR_SET_PDEATHSIG)``, Linux), and a watcher thread ends it within
    ``every`` seconds of the scoring process ``parent_pid`` ending. Workers then release the
    forkserver and the resource tracker, which end by themselves."""
    import signal
    import threading

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)       # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):               # pragma: no cover - not Linux
        pass
    if parent_pid is None:
        return

    def watch() -> None:
        while process_alive(parent_pid):
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="churn-parent-watch", daemon=True).start()


def _worker_init(engine_bytes: bytes, threads: int, parent_pid: int | None = None) -> None:
    """Set up a scoring process: its copy of the engine, its thread limits, Ctrl-C ignored (the
    parent stops the workers and cleans up), and its end tied to the parent's (`_die_with`)."""
    import signal

    global _WORKER_ENGINE
    _die_with(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_ENGINE = pickle.loads(engine_bytes)
    estimator = getattr(getattr(_WORKER_ENGINE, "model", None), "estimator", None)
    booster = getattr(estimator, "booster_", None)
    if estimator is not None and hasattr(estimator, "n_jobs"):
        estimator.n_jobs = threads          # thread count the model family predicts with
    if booster is not None and hasattr(booster, "set_param"):
        booster.set_param({"nthread": threads})
    uplift = getattr(_WORKER_ENGINE, "uplift", None)
    if uplift is not None and hasattr(uplift, "n_jobs"):
        uplift.n_jobs = threads             # XGBoost threads of the uplift models' predictions
    _limit_threads(threads)


def _limit_threads(threads: int) -> None:
    """Limit every BLAS and OpenMP thread pool of this process to ``threads``. Called once the
    engine is loaded and the libraries scoring uses lazily are imported: threadpoolctl only
    reaches libraries already loaded, and a pool left at one thread per core makes two workers
    on two cores fight over them (measured: 18.6 instead of 14.5 CPU seconds per 100,000 rows)."""
    try:
        import sklearn.neighbors  # noqa: F401 - its OpenMP runtime, used by the offer recommender
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)          # BLAS / OpenMP pools (numpy, scipy, scikit-learn)
    except ImportError:                     # pragma: no cover - a scikit-learn dependency
        pass


def _worker_score(frame: pd.DataFrame, settings: BusinessSettings, kind: str):
    """Score one part in a worker process; the output rows as an Arrow table (`_scores_table`)."""
    table = _scores_table(_WORKER_ENGINE.score(frame, settings), kind)
    del frame
    _release_memory()
    return table


def _release_memory() -> None:
    """Hand the memory freed by the last part back to the system (glibc keeps freed blocks for
    reuse: about 150 MB a worker between 50,000-row parts, counted in the peak while the other
    worker is at its own). A no-op where glibc's ``malloc_trim`` does not exist."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            import ctypes

            _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None


def default_workers(source, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> int:
    """Scoring processes for a file: 1 (score in this process) unless it holds at least two
    chunks and `POOL_FROM_ROWS` rows, then one per core up to `MAX_WORKERS` (rows estimated
    from Parquet metadata or the CSV size)."""
    path = Path(source)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic == b"PAR1":
            import pyarrow.parquet as pq

            rows = pq.ParquetFile(path).metadata.num_rows
        else:
            rows = path.stat().st_size // CSV_BYTES_PER_ROW
    except Exception:  # noqa: BLE001 - unreadable: the reader reports it; no pool needed
        return 1
    if rows < max(2 * chunk_rows, POOL_FROM_ROWS):
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


class _Scorer:
    """Scores frames and hands back their output rows (Arrow tables, `_scores_table` for the
    output ``kind``) in submission order.

    workers == 1: in this process, at once. workers > 1: in that many processes (forkserver;
    each gets a pickled copy of the engine and ``threads`` threads), at most ``workers + 1``
    frames in flight so memory stays bounded while this process reads and validates ahead.
    """

    def __init__(self, engine, settings: BusinessSettings, workers: int, threads: int = 1,
                 kind: str = "csv"):
        self.engine, self.settings, self.workers = engine, settings, workers
        self.kind = kind
        self.pending: deque = deque()
        self.pool = None
        if workers > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            try:
                blob = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, AttributeError, TypeError):
                self.workers = 1             # an engine that cannot travel: score here
                return
            method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
            self.pool = ProcessPoolExecutor(
                workers, mp_context=mp.get_context(method), initializer=_worker_init,
                initargs=(blob, threads, os.getpid()))

    def submit(self, frame: pd.DataFrame) -> Iterator[tuple[int, object]]:
        """Queue one frame; yields (rows, table) of the frames that are done, in order."""
        if self.pool is None:
            yield len(frame), _scores_table(self.engine.score(frame, self.settings), self.kind)
            return
        self.pending.append((len(frame), self.pool.submit(_worker_score, frame, self.settings,
                                                          self.kind)))
        while len(self.pending) > self.workers:
            n, fut = self.pending.popleft()
            yield n, fut.result()

    def finish(self) -> Iterator[tuple[int, object]]:
        """(rows, table) of every frame still in flight, in order; then the pool is closed."""
        while self.pending:
            n, fut = self.pending.popleft()
            yield n, fut.result()
        self.close()

    def close(self, cancel: bool = False) -> None:
        """Stop the pool; with ``cancel`` the running work is abandoned (workers terminated)."""
        if self.pool is None:
            return
        pool, self.pool = self.pool, None
        if cancel:
            for _n, fut in self.pending:
                fut.cancel()
            self.pending.clear()
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=cancel)


# --- the whole file ------------------------------------------------------------------------------
def score_file(source, out, *, engine=None, settings: BusinessSettings | None = None,
               chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None,
               workers: int | None = None,
               read_block_bytes: int = READ_BLOCK_BYTES) -> BatchResult:
    """Score every valid row of a customer file into ``out``; invalid rows into the rejects file.

    source: path of a CSV, Parquet or .xlsx customer file (Telco schema; Churn optional).
    out: output path ending in .csv or .parquet; the rejects go to `rejects_path(out)`.
    engine: a ``scoring.Engine``, or a zero-argument callable returning one (called once, when
        the first valid rows are ready, so an unreadable file fails fast); None:
        ``Engine.load()`` (loads or trains the active model in the current data folder).
    settings: business settings for tiers, CLV and offers (default ``BusinessSettings()``).
    chunk_rows: records read, validated and scored at a time (memory grows with it).
    progress: optional callback ``progress(fraction read 0..1, rows read, rows scored, seconds)``
        called after every piece.
    workers: scoring processes (None: `default_workers`; 1: score in this process). With more
        than one, this process reads, validates and writes while the workers score chunks (each
        with a pickled copy of the engine); the output is the same.
    Returns a `BatchResult`. A file that cannot be read, lacks the schema's columns or has no
    customer rows returns a result with ``problem`` set and writes nothing. Raises ValueError for caller errors (bad
    ``out`` extension, ``chunk_rows`` < 1, ``out`` naming the input); any exception, and
    KeyboardInterrupt, propagates after the partial files are removed (a previous ``out`` is
    left untouched).
    """
    from churn.validate import validate_chunk

    t0 = time.perf_counter()
    src, out = Path(source), Path(out)
    kind = output_kind(out)
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) \
            or chunk_rows < 1:
        raise ValueError(f"chunk_rows={chunk_rows!r}: expected a whole number of rows >= 1.")
    if workers is not None and (isinstance(workers, bool)
                                or not isinstance(workers, (int, np.integer)) or workers < 1):
        raise ValueError(f"workers={workers!r}: expected a whole number of processes >= 1.")
    rej_path = rejects_path(out)
    if src.exists() and any(src.resolve() == p.resolve() for p in (out, rej_path)):
        raise ValueError(f"--out {out}: that would overwrite the input file {src}; choose "
                         "another output name.")
    settings = settings or BusinessSettings()
    result = BatchResult(source=str(source), out=out, rejects=rej_path)
    part_out, part_rej = partial_path(out), partial_path(rej_path)
    sink = rej_sink = scorer = None
    seen: dict[str, int] = {}
    warned: set[str] = set()

    def fail(message: str, fatal: bool) -> BatchResult:
        if scorer is not None:
            scorer.close(cancel=True)
        for s in (sink, rej_sink):
            if s is not None:
                s.close()
        _remove(part_out, part_rej)
        result.problem, result.fatal = message, fatal
        result.seconds = time.perf_counter() - t0
        return result

    try:
        for i, piece in enumerate(_pieces(src, int(chunk_rows), read_block_bytes)):
            if piece.fatal:
                return fail(piece.fatal, True)
            report = validate_chunk(piece.data, row_offset=piece.row_offset, seen_ids=seen)
            if report.fatal:
                where = "" if i == 0 else f"From row {piece.row_offset + 2} on: "
                return fail(where + report.fatal, True)
            if i == 0:
                whole = _file_problems(report)
                if whole:
                    return fail(" ".join(str(p) for p in whole), False)
                out.parent.mkdir(parents=True, exist_ok=True)
                rej_path.parent.mkdir(parents=True, exist_ok=True)
                from churn.scoring import SCORE_COLUMNS

                sink = _Sink(part_out, SCORE_COLUMNS, kind, floats=FLOAT_COLUMNS)
                rej_sink = _Sink(part_rej, list(report.rejected_frame().columns), "csv",
                                 ints=("row",))
            for w in report.warnings:
                text = str(w)
                if text not in warned and len(result.warnings) < MAX_WARNINGS:
                    warned.add(text)
                    result.warnings.append(text)
            result.rows += report.rows
            if report.rejected_rows:
                rejected = report.rejected_frame()
                result.rejected += len(rejected)
                for row, reasons in zip(rejected["row"][:5], rejected["reasons"][:5]):
                    if len(result.first_rejects) < 5:
                        result.first_rejects.append(f"Row {row}: {reasons}")
                rej_sink.write(_rejects_frame(rejected))
            frame = report.frame
            if len(frame) and (engine is None or not hasattr(engine, "score")):
                t_load = time.perf_counter()
                if engine is None:
                    from churn.scoring import Engine

                    engine = Engine.load()
                else:
                    engine = engine()
                result.load_seconds = time.perf_counter() - t_load
            if len(frame) and scorer is None:
                n_workers = workers if workers is not None else default_workers(src, chunk_rows)
                scorer = _Scorer(engine, settings, int(n_workers), kind=kind)
            step = _part_rows(int(chunk_rows), scorer is not None and scorer.pool is not None)
            for start in range(0, len(frame), step):
                part = frame.iloc[start:start + step].drop(columns="row")
                for n, table in scorer.submit(part):
                    sink.write(table)
                    result.scored += n
            del report, frame
            _release_memory()
            if progress is not None:
                progress(piece.done, result.rows, result.scored,
                         time.perf_counter() - t0 - result.load_seconds)
        if result.rows == 0:
            from churn.validate import MSG_NO_ROWS

            return fail(MSG_NO_ROWS, False)
        if scorer is not None:
            for n, table in scorer.finish():
                sink.write(table)
                result.scored += n
                if progress is not None:
                    progress(1.0, result.rows, result.scored,
                             time.perf_counter() - t0 - result.load_seconds)
            scorer = None
        sink.close()
        rej_sink.close()
        sink = rej_sink = None
        os.replace(part_out, out)
        os.replace(part_rej, rej_path)
    except BaseException:
        if scorer is not None:
            try:
                scorer.close(cancel=True)
            except Exception:  # noqa: BLE001 - the original error matters, not this one
                pass
        for s in (sink, rej_sink):
            if s is not None:
                try:
                    s.close()
                except Exception:  # noqa: BLE001 - the original error matters, not this one
                    pass
        _remove(part_out, part_rej)
        raise
    result.seconds = time.perf_counter() - t0
    return result


# --- progress display ----------------------------------------------------------------------------
class ProgressBar:
    """A tiny progress display for `score_file`: a bar redrawn in place on a terminal, plain
    lines (at most one per ``every`` seconds, and the last one on `finish`) when the stream is
    not a terminal.

    Use as the ``progress`` callback; call `finish()` at the end.
    """

    def __init__(self, stream=None, width: int = 30, every: float = 5.0):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.every = every
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = -math.inf
        self.drawn = False
        self.unsaid = None               # the latest line not written yet (plain mode)

    @staticmethod
    def line(done: float, rows: int, scored: int, seconds: float) -> str:
        """'42% 420,000 rows read, 400,000 scored, 10,512 rows/s, about 55 s left'.

        done: fraction of the input read; rows/s counts scored rows; the time left assumes the
        file holds rows / done rows in all."""
        rate = scored / seconds if seconds > 0 else 0.0
        left = ""
        if 0 < done and rate > 0:
            remaining = rows / done - scored
            if remaining > 0:
                left = f", about {remaining / rate:,.0f} s left"
        return (f"{done:4.0%} {rows:,} rows read, {scored:,} scored, {rate:,.0f} rows/s"
                f"{left}")

    def __call__(self, done: float, rows: int, scored: int, seconds: float) -> None:
        text = self.line(done, rows, scored, seconds)
        now = time.monotonic()
        if self.tty:
            filled = int(round(self.width * min(max(done, 0.0), 1.0)))
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {text}\x1b[K")
            self.drawn = True
        elif now - self.last >= self.every:
            self.stream.write(text + "\n")
            self.last, self.unsaid = now, None
        else:
            self.unsaid = text
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line (terminal), or write the last state not written yet (plain)."""
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.drawn = False
        elif self.unsaid:
            self.stream.write(self.unsaid + "\n")
            self.unsaid = None
        self.stream.flush()
