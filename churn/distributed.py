"""Score customers on a Dask cluster: what ``python -m churn score IN --out OUT --dask ADDR`` runs.

``score_dask(source, out, address)`` gives the same files as `churn.batch.score_file` for the
same input (same columns, values and row order; rejects written the same way, with the same row
numbers and reasons), but validates and scores the pieces on the workers of a Dask cluster:

- ``address``: ``tcp://host:port`` of a running scheduler (``dask scheduler``), or ``local`` /
  ``local:N`` to start a `distributed.LocalCluster` of N single-threaded worker processes
  (default: one per core).
- input: a CSV file, a Parquet file, or a folder or glob of Parquet files (a dataset). A CSV is
  cut on this machine into the very pieces `churn.batch` scores (quote-aware record ends, the
  header line in front of each piece, BOM / delimiter / encoding as `validate` reads them) and
  the pieces are sent to the cluster; Parquet row groups are read by the workers themselves, so
  the input must sit where every worker sees it (a shared filesystem), as for
  ``dask.dataframe.read_parquet``.
- output: Parquet, one file for a one-file input, a folder of ``part-NNNNN.parquet`` files (in
  input order) for a dataset. The rejects go to ``OUT`` stem + ``.rejects.csv`` as with
  `churn.batch`. Everything is written under ``.partial`` names and renamed at the end: a failed
  or interrupted run leaves nothing under the final names.

How it runs (no scheduler of our own: Dask places, retries and balances the tasks):

1. Pieces: each a ``chunk_rows`` run of records with the file row number of its first record
   (for Parquet from the file metadata: row counts are known before anything is read; a dataset
   is numbered as its files concatenated in name order).
2. Duplicate IDs across pieces: every piece is validated once on the workers
   (`validate.validate_chunk`, the single-machine check) to list the IDs it shows first with
   their row; a ``dask.dataframe`` group-by over those lists finds the IDs seen in more than one
   piece and their first row. Each piece then starts from exactly the ``seen_ids`` the
   single-machine run would have had when it reached that piece.
3. Scoring: the fitted engine is sent to every worker once (``client.scatter(...,
   broadcast=True)``) and each task validates its piece again with its ``seen_ids``, scores the
   valid rows (`scoring.Engine.score`) and writes its part file (temporary name, then renamed,
   so a task that Dask re-runs after a worker died simply writes it again). Tasks return the
   counts, warnings and the rejected rows, which this process writes in input order.

Progress: ``progress(pieces done, pieces, rows scored, seconds)``; `ProgressLine` prints it as
"pieces done, rows per second".
"""
from __future__ import annotations

import glob as globmod
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from churn import batch, schema
from churn.files import atomic_path
from churn.config import BusinessSettings

#: Progress callback: (pieces done, pieces in all, rows scored, seconds since the start).
Progress = Callable[[int, int, int, float], None]

@dataclass(frozen=True)
class _Spec:
    """One piece of the input, as a worker gets it.

    kind "bytes": the CSV piece (header line + records) travels beside the spec (a task result,
        so Dask can rebuild it if the worker holding it dies).
    kind "parquet": records ``start``..``stop`` of the Parquet file ``path``, read by the worker.
    row_offset: file row of the first record minus 2 (as `validate.validate_chunk` takes it).
    """

    kind: str
    row_offset: int
    path: str | None = None
    start: int = 0
    stop: int = 0


# --- the input -----------------------------------------------------------------------------------
def _parquet_files(source: str) -> list[Path] | None:
    """The Parquet files of a folder or glob (sorted by name), or None for a single file."""
    if any(ch in source for ch in "*?["):
        return sorted(Path(p) for p in globmod.glob(source) if Path(p).is_file())
    path = Path(source)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file()
                      and p.suffix.lower() in (".parquet", ".pq") and not p.name.startswith((".", "_")))
    return None


def _parquet_specs(files: list[Path], chunk_rows: int) -> list[_Spec]:
    """Pieces of ``chunk_rows`` records of each file (the last of a file may be shorter), as
    `churn.batch` cuts a Parquet file; a dataset is numbered as its files concatenated."""
    import pyarrow.parquet as pq

    specs, offset = [], 0
    for f in files:
        rows = pq.ParquetFile(f).metadata.num_rows
        for start in range(0, max(rows, 1), chunk_rows):
            stop = min(start + chunk_rows, rows)
            specs.append(_Spec("parquet", offset + start, path=str(f), start=start, stop=stop))
        offset += rows
    return specs


def _read_spec(spec: _Spec, data=None):
    """What `validate_chunk` takes for a piece: CSV bytes, or a text frame of Parquet rows."""
    if spec.kind == "bytes":
        return data
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(spec.path)
    names = [str(n) for n in pf.schema_arrow.names]
    groups, first, at = [], None, 0
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if at + n > spec.start and at < spec.stop:
            groups.append(g)
            first = at if first is None else first
        at += n
    if groups:
        table = pf.read_row_groups(groups).slice(spec.start - first, spec.stop - spec.start)
        cols = {j: batch._text_column(table.column(j).combine_chunks())
                for j in range(table.num_columns)}
    else:
        cols = {j: np.empty(0, object) for j in range(len(names))}
    frame = pd.DataFrame(cols, copy=False)
    frame.columns = names
    return frame


def _hold(data: bytes) -> bytes:
    """A CSV piece as a task result: kept on a worker, rebuilt by Dask if that worker dies."""
    return data


def _fatal_of(ids: pd.DataFrame):
    return ids.attrs.get("fatal")


# --- what runs on the workers ------------------------------------------------------------------
def _first_ids(spec: _Spec, data=None) -> pd.DataFrame:
    """The customer IDs a piece shows first, with their file row (the single-machine check's
    own bookkeeping), and a fatal message if the piece cannot be read."""
    from churn.validate import validate_chunk

    seen: dict[str, int] = {}
    report = validate_chunk(_read_spec(spec, data), row_offset=spec.row_offset, seen_ids=seen)
    out = pd.DataFrame({schema.ID: pd.Series(list(seen.keys()), dtype=object),
                        "row": pd.Series(list(seen.values()), dtype="int64")})
    out.attrs["fatal"] = report.fatal
    return out


def _limit_threads(engine) -> None:
    """One thread per task for the model family (the worker runs its own thread count)."""
    estimator = getattr(getattr(engine, "model", None), "estimator", None)
    booster = getattr(estimator, "booster_", None)
    if estimator is not None and hasattr(estimator, "n_jobs"):
        estimator.n_jobs = 1
    if booster is not None and hasattr(booster, "set_param"):
        booster.set_param({"nthread": 1})


def _score_piece(spec: _Spec, data, index: int, first: pd.Series, engine,
                 settings: BusinessSettings, part_dir: str) -> dict:
    """Validate one piece (with the IDs earlier pieces showed first), score its valid rows into
    ``part_dir/part-<index>.parquet`` and return what the caller writes and counts."""
    from churn.scoring import SCORE_COLUMNS
    from churn.validate import validate_chunk

    start_row = spec.row_offset + 2
    earlier = first[first < start_row]
    seen = dict(zip(earlier.index.tolist(), earlier.to_numpy().tolist()))
    report = validate_chunk(_read_spec(spec, data), row_offset=spec.row_offset, seen_ids=seen)
    out = {"index": index, "rows": report.rows, "scored": 0, "fatal": report.fatal,
           "file_problems": [str(p) for p in batch._file_problems(report)] if not report.fatal
           else [], "warnings": [str(w) for w in report.warnings], "rejects": None,
           "reject_columns": None}
    if report.fatal or out["file_problems"]:
        return out
    rejected = report.rejected_frame()
    out["reject_columns"] = list(rejected.columns)
    if len(rejected):
        out["rejects"] = batch._rejects_frame(rejected)
    frame = report.frame.drop(columns="row")
    target = Path(part_dir) / f"part-{index:05d}.parquet"
    with atomic_path(target) as tmp:
        sink = batch._Sink(tmp, SCORE_COLUMNS, "parquet", floats=batch.FLOAT_COLUMNS)
        try:
            if len(frame):
                _limit_threads(engine)
                sink.write(batch._scores_frame(engine.score(frame, settings), "parquet"))
            out["scored"] = len(frame)
        finally:
            sink.close()
    return out


# --- the client side -----------------------------------------------------------------------------
def connect(address: str):
    """A `distributed.Client` for ``address`` (``tcp://host:port``, ``local`` or ``local:N``).

    Returns (client, cluster or None); the caller closes both. ValueError for another address.
    """
    from distributed import Client, LocalCluster

    text = str(address).strip()
    if text == "local" or text.startswith("local:"):
        n_text = text.partition(":")[2]
        if n_text and not (n_text.isdigit() and int(n_text) >= 1):
            raise ValueError(f"--dask {address}: after 'local:' give a number of workers >= 1, "
                             "e.g. local:4.")
        n = int(n_text) if n_text else max(1, os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster
    if "://" not in text:
        raise ValueError(f"--dask {address}: expected tcp://HOST:PORT of a Dask scheduler, or "
                         "local[:N] to start N workers on this machine.")
    return Client(text), None


def _specs(source: str, chunk_rows: int, client) -> tuple[list[_Spec], list, bool, str | None]:
    """(pieces, their data (Futures of CSV bytes, or None: the worker reads Parquet itself),
    whether the input is a dataset, fatal message)."""
    from churn.validate import MSG_NOT_FOUND

    files = _parquet_files(source)
    if files is not None:
        if not files:
            return [], [], True, (f"{source}: no Parquet files there (a folder or glob of .parquet "
                              "files is expected).")
        specs = _parquet_specs(files, chunk_rows)
        return specs, [None] * len(specs), True, None
    path = Path(source)
    if not path.exists():
        return [], [], False, MSG_NOT_FOUND.format(path=path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
        try:
            specs = _parquet_specs([path], chunk_rows)
        except Exception as exc:  # noqa: BLE001 - the file is not Parquet after all
            return [], [], False, f"The file could not be read as Parquet: {exc}."
        return specs, [None] * len(specs), False, None
    specs, datas = [], []
    for piece in batch._pieces(path, chunk_rows):
        if piece.fatal:
            return [], [], False, piece.fatal
        specs.append(_Spec("bytes", piece.row_offset))
        datas.append(client.submit(_hold, piece.data, pure=False))
    return specs, datas, False, None


def _first_rows(client, specs: list[_Spec], datas: list) -> tuple[pd.Series, str | None]:
    """customer ID -> first file row, for the IDs that appear in more than one piece (a
    ``dask.dataframe`` group-by over every piece's first IDs)."""
    import dask.dataframe as dd

    futures = client.map(_first_ids, specs, datas, pure=False)
    ids = dd.from_delayed(futures, meta={schema.ID: object, "row": "int64"}, verify_meta=False)
    agg = ids.groupby(schema.ID)["row"].agg(["min", "count"])
    multi = agg[agg["count"] > 1]["min"]
    fatal = next((f for f in client.gather(client.map(_fatal_of, futures, pure=False)) if f),
                 None)                        # a piece that cannot be read at all
    first = multi.compute() if fatal is None else pd.Series(dtype="int64")
    first.index = first.index.astype(object)
    return first.astype("int64"), fatal


def score_dask(source, out, address: str = "local", *, engine=None,
               settings: BusinessSettings | None = None,
               chunk_rows: int = batch.DEFAULT_CHUNK_ROWS, progress: Progress | None = None,
               client=None) -> batch.BatchResult:
    """Score every valid row of a customer file or Parquet dataset on a Dask cluster.

    source: CSV or Parquet file, or a folder or glob of Parquet files (Telco schema).
    out: output path: a ``.parquet`` file for a one-file input, a folder for a dataset (a name
        without extension, or ending in .parquet). Rejects go to `batch.rejects_path(out)`.
    address: see `connect` (ignored when ``client`` is given).
    engine: a ``scoring.Engine`` or a zero-argument callable returning one (None:
        ``Engine.load()``); it is sent to every worker once.
    settings: business settings (default ``BusinessSettings()``).
    chunk_rows: records per piece (one task each).
    progress: optional ``progress(pieces done, pieces, rows scored, seconds)``.
    Returns a `batch.BatchResult` (``problem`` set and nothing written when the input cannot be
    scored at all). Raises ValueError for caller errors (bad ``out``, ``chunk_rows``,
    ``address``); any other exception propagates after the partial output is removed.
    """
    t0 = time.perf_counter()
    src_text = str(source)
    out = Path(out)
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) \
            or chunk_rows < 1:
        raise ValueError(f"chunk_rows={chunk_rows!r}: expected a whole number of rows >= 1.")
    dataset = _parquet_files(src_text) is not None
    if not dataset and batch.output_kind(out) != "parquet":
        raise ValueError(f"--out {out}: with --dask the output is Parquet; name it .parquet.")
    if Path(src_text).exists() and Path(src_text).resolve() == out.resolve():
        raise ValueError(f"--out {out}: that would overwrite the input {source}; choose another "
                         "output name.")
    settings = settings or BusinessSettings()
    rej_path = batch.rejects_path(out)
    result = batch.BatchResult(source=src_text, out=out, rejects=rej_path)
    part_dir = batch.partial_path(out) if dataset else \
        out.with_name(f".{out.name}.parts.partial")
    part_out, part_rej = batch.partial_path(out), batch.partial_path(rej_path)
    cluster = None
    own_client = client is None
    if own_client:
        client, cluster = connect(address)
    rej_sink = None
    futures: list = []

    def fail(message: str, fatal: bool) -> batch.BatchResult:
        result.problem, result.fatal = message, fatal
        result.seconds = time.perf_counter() - t0
        return result

    try:
        specs, datas, dataset, fatal = _specs(src_text, int(chunk_rows), client)
        if fatal:
            return fail(fatal, True)
        first, fatal = _first_rows(client, specs, datas)
        if fatal:
            return fail(fatal, True)
        if engine is None or not hasattr(engine, "score"):
            t_load = time.perf_counter()
            if engine is None:
                from churn.scoring import Engine

                engine = Engine.load()
            else:
                engine = engine()
            result.load_seconds = time.perf_counter() - t_load
        for stale in (part_dir, part_out, part_rej):
            _remove_tree(stale)
        part_dir.mkdir(parents=True)
        engine_f = client.scatter(engine, broadcast=True, hash=False)
        first_f = client.scatter(first, broadcast=True, hash=False)
        futures = [client.submit(_score_piece, spec, data, i, first_f, engine_f, settings,
                                 str(part_dir), pure=False)
                   for i, (spec, data) in enumerate(zip(specs, datas))]
        from distributed import as_completed

        done: dict[int, dict] = {}
        scored = 0
        for fut in as_completed(futures):
            res = fut.result()
            done[res["index"]] = res
            scored += res["scored"]
            if progress is not None:
                progress(len(done), len(specs), scored, time.perf_counter() - t0)
        warned: set[str] = set()
        for i in range(len(specs)):
            res = done[i]
            if res["fatal"]:
                where = "" if i == 0 else f"From row {specs[i].row_offset + 2} on: "
                return fail(where + res["fatal"], True)
            if res["file_problems"]:
                return fail(" ".join(res["file_problems"]), False)
            for text in res["warnings"]:
                if text not in warned and len(result.warnings) < batch.MAX_WARNINGS:
                    warned.add(text)
                    result.warnings.append(text)
            result.rows += res["rows"]
            result.scored += res["scored"]
            if rej_sink is None:
                rej_path.parent.mkdir(parents=True, exist_ok=True)
                rej_sink = batch._Sink(part_rej, res["reject_columns"], "csv", ints=("row",))
            rejects = res["rejects"]
            if rejects is not None and len(rejects):
                result.rejected += len(rejects)
                for row, reasons in zip(rejects["row"][:5], rejects["reasons"][:5]):
                    if len(result.first_rejects) < 5:
                        result.first_rejects.append(f"Row {row}: {reasons}")
                rej_sink.write(rejects)
        if result.rows == 0:
            from churn.validate import MSG_NO_ROWS

            return fail(MSG_NO_ROWS, False)
        rej_sink.close()
        rej_sink = None
        parts = [part_dir / f"part-{i:05d}.parquet" for i in range(len(specs))]
        if dataset:
            _remove_tree(out)
            os.replace(part_dir, out)
        else:
            _concat_parts(parts, part_out)
            os.replace(part_out, out)
        os.replace(part_rej, rej_path)
    except BaseException:
        if futures:
            client.cancel(futures)
        if rej_sink is not None:
            try:
                rej_sink.close()
            except Exception:  # noqa: BLE001 - the original error matters
                pass
        raise
    finally:
        for stale in (part_dir, part_out, part_rej):
            _remove_tree(stale)
        if own_client:
            client.close()
            if cluster is not None:
                cluster.close()
    result.seconds = time.perf_counter() - t0
    return result


def _concat_parts(parts: list[Path], target: Path) -> None:
    """The part files, in order, as one Parquet file (one row group per part)."""
    import pyarrow.parquet as pq

    writer = None
    try:
        for p in parts:
            table = pq.read_table(p)
            if writer is None:
                writer = pq.ParquetWriter(str(target), table.schema)
            if table.num_rows:
                writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _remove_tree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


class ProgressLine:
    """Progress of `score_dask` for a terminal or a log: "3/10 pieces, 41,000 rows scored,
    9,800 rows/s", at most one line per ``every`` seconds (and the last one)."""

    def __init__(self, stream=None, every: float = 2.0):
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self.last = -float("inf")

    @staticmethod
    def line(done: int, total: int, scored: int, seconds: float) -> str:
        rate = scored / seconds if seconds > 0 else 0.0
        return f"{done}/{total} pieces done, {scored:,} rows scored, {rate:,.0f} rows/s"

    def __call__(self, done: int, total: int, scored: int, seconds: float) -> None:
        now = time.monotonic()
        if now - self.last >= self.every or done == total:
            self.stream.write(self.line(done, total, scored, seconds) + "\n")
            self.stream.flush()
            self.last = now

    def finish(self) -> None:
        """Nothing to close (each line is complete); the same interface as `batch.ProgressBar`."""
        self.stream.flush()
