"""One DuckDB file holding what the workbench keeps between sessions.

Tables:

- ``batches``: one row per customer batch (name, kind e.g. "sample"/"upload", created (UTC),
  rows, valid_rows, rejected_rows, source file name, whether it has Churn / file row numbers);
- ``customers``: the canonical columns of every batch (``batch``, ``pos`` = order in the batch,
  ``row`` = file row number when known, then the schema columns);
- ``offer_history``: the past offers (whatever columns the frame has; replaced as a whole);
- ``scores``: one stored frame per (batch, model version) (any columns: probability, tier...);
- ``campaigns``: id, created, name, settings (JSON), and the campaign rows as a table;
- ``retrain_decisions``: created, outcome, exit code, the decision (JSON) of ``churn.retrain``.

Results that can be recomputed (explanations, scorings) are not kept here but in `churn.cache`
files; a store from before 2026-11-30 had a ``frame_cache`` table for them, dropped with its
frames when the file is opened (`_retire_frame_cache`).

Trained model versions are not logged here either: the models folder is their record
(``churn.models.list_versions``, with the ``ACTIVE`` pointer) and MLflow their history. A store
written by an earlier version had a ``model_runs`` log that nothing read: opening it drops that
table.

Frames of arbitrary shape (scores, campaigns, offer history) are stored as their own
DuckDB table plus a small JSON description of the pandas dtypes and index, so what
``load_*`` return equals what was saved (dtypes and values, NaN/None in object
columns both come back as None).

Concurrency: one DuckDB connection per process and file (a module-level registry guarded by a
lock), one cursor per thread, and every write in a transaction (BEGIN ... COMMIT, ROLLBACK on any
exception) under a per-file write lock, so several Streamlit sessions of one server can read and
write at once and an interrupted write leaves nothing half-written.

One process per data folder writes the store: DuckDB locks the file for the first process that
opens it (normally the app), and a second process can open it neither for writing nor for
reading while that lock is held. Opening it then raises :class:`StoreBusy`, whose message names
the file and the process holding it; callers say what they could not write (the command line
does, see ``churn.cli``; ``train`` and ``models --activate`` do not need the store at all).
"""
from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from churn import config, schema
from churn.schema import COLUMNS, TARGET

_SQL_TYPES = {"id": "VARCHAR", "category": "VARCHAR", "flag01": "BIGINT", "integer": "BIGINT",
              "money": "DOUBLE", "target": "BIGINT"}
_SCHEMA_SQL = [
    """CREATE TABLE IF NOT EXISTS batches (
        name VARCHAR NOT NULL, kind VARCHAR NOT NULL, created TIMESTAMP NOT NULL,
        rows BIGINT NOT NULL, valid_rows BIGINT NOT NULL, rejected_rows BIGINT NOT NULL,
        source VARCHAR, has_target BOOLEAN NOT NULL, has_row BOOLEAN NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS customers (batch VARCHAR NOT NULL, pos BIGINT NOT NULL, "
    "row BIGINT, " + ", ".join(f'"{c.name}" {_SQL_TYPES[c.kind]}' for c in COLUMNS) + ")",
    """CREATE TABLE IF NOT EXISTS frame_meta (tbl VARCHAR NOT NULL, meta VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS scores (
        batch VARCHAR NOT NULL, version VARCHAR NOT NULL, created TIMESTAMP NOT NULL,
        rows BIGINT NOT NULL, tbl VARCHAR NOT NULL)""",
    "CREATE SEQUENCE IF NOT EXISTS campaign_ids START 1",
    """CREATE TABLE IF NOT EXISTS campaigns (
        id BIGINT NOT NULL, created TIMESTAMP NOT NULL, name VARCHAR NOT NULL,
        settings VARCHAR NOT NULL, rows BIGINT NOT NULL, tbl VARCHAR NOT NULL)""",
    # Migration: the log of trained versions that nothing read (the models folder is the record).
    "DROP TABLE IF EXISTS model_runs",
    """CREATE TABLE IF NOT EXISTS retrain_decisions (
        created TIMESTAMP NOT NULL, outcome VARCHAR NOT NULL, exit_code BIGINT NOT NULL,
        decision VARCHAR NOT NULL)""",
]
_OFFER_HISTORY = "offer_history"
_CAMPAIGN_HISTORY = "campaign_history"


class StoreBusy(RuntimeError):
    """The store file is locked by another process (DuckDB: one process per file).

    path: the store file; holder: what DuckDB says holds it ("PID 1234"), or None.
    """

    def __init__(self, path: Path, holder: str | None):
        self.path, self.holder = path, holder
        who = f"process {holder.removeprefix('PID ')}" if holder else "another process"
        super().__init__(f"The workbench store {path} is in use by {who} (normally the app), "
                         "and only one process at a time can open it")


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        import re

        m = re.search(r"\(PID (\d+)\)", str(exc))
        raise StoreBusy(path, f"PID {m.group(1)}" if m else None) from None


class _Shared:
    """The process-wide state for one database file."""

    def __init__(self, path: Path):
        self.path = path
        self.con = _connect(path)
        self.write_lock = threading.RLock()
        self.local = threading.local()
        self.closed = False
        for sql in _SCHEMA_SQL:
            self.con.execute(sql)
        _retire_frame_cache(self.con)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self.local, "cur", None)
        if cur is None:
            cur = self.con.cursor()
            self.local.cur = cur
        return cur


_REGISTRY: dict[str, _Shared] = {}
_REGISTRY_LOCK = threading.Lock()


def _shared(path: Path) -> _Shared:
    key = str(path)
    with _REGISTRY_LOCK:
        sh = _REGISTRY.get(key)
        if sh is None or sh.closed:
            sh = _Shared(path)
            _REGISTRY[key] = sh
        return sh


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Store:
    """The workbench's database (default ``config.paths().store``).

    Every instance for the same file shares one connection; each thread gets its own cursor.
    """

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else config.paths().store
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path = self.path.resolve()
        self._sh = _shared(self.path)

    # -- plumbing --
    def _cur(self) -> duckdb.DuckDBPyConnection:
        if self._sh.closed:
            self._sh = _shared(self.path)
        return self._sh.cursor()

    @contextmanager
    def _write(self):
        """A write transaction: committed at the end, rolled back on any exception."""
        with self._sh.write_lock:
            cur = self._cur()
            cur.begin()
            try:
                yield cur
            except BaseException:
                cur.rollback()
                raise
            cur.commit()

    def _query(self, sql: str, params=()) -> pd.DataFrame:
        return self._cur().execute(sql, list(params)).fetchdf()

    def close(self) -> None:
        """Close this file's shared connection (every Store on the file); reopened on next use."""
        with _REGISTRY_LOCK:
            self._sh.closed = True
            _REGISTRY.pop(str(self.path), None)
            self._sh.con.close()

    # -- customer batches --
    def save_batch(self, name: str, df: pd.DataFrame, *, kind: str, source: str | None = None,
                   rejected: int = 0) -> None:
        """Store a canonical frame as batch `name`, replacing any batch of that name atomically.

        df: canonical frame (``Churn`` and ``row`` optional; other extra columns are not kept).
        kind: e.g. "sample" or "upload"; source: original file name; rejected: rows of the file
        that failed validation (kept for the counts). Scores of a replaced batch are dropped.
        """
        name = _check_name(name, "batch name")
        kind = _check_name(kind, "kind")
        _check_canonical(df)
        n = len(df)
        has_target, has_row = TARGET in df.columns, "row" in df.columns
        data = {"pos": np.arange(n, dtype=np.int64)}
        if has_row:
            data["row"] = df["row"].to_numpy(dtype=np.int64)
        for c in COLUMNS:
            if c.name in df.columns:
                data[c.name] = df[c.name].to_numpy()
        frame = pd.DataFrame(data, copy=False)
        cols = ", ".join(['"pos"', '"row"' if has_row else "NULL"] +
                         [f'"{c.name}"' if c.name in df.columns else "NULL" for c in COLUMNS])
        view = f"_in_{uuid.uuid4().hex}"
        with self._write() as cur:
            self._drop_batch(cur, name)
            cur.register(view, frame)
            try:
                cur.execute(f"INSERT INTO customers SELECT ?, {cols} FROM {view}", [name])
            finally:
                cur.unregister(view)
            cur.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [name, kind, _now(), n + int(rejected), n, int(rejected), source,
                         has_target, has_row])

    def list_batches(self) -> pd.DataFrame:
        """name, kind, created (UTC), rows, valid_rows, rejected_rows, source; oldest first."""
        return self._query("SELECT name, kind, created, rows, valid_rows, rejected_rows, source "
                           "FROM batches ORDER BY created, name")

    def load_batch(self, name: str) -> pd.DataFrame:
        """The canonical frame saved as `name` (with ``row`` when it was saved with one)."""
        return self._load_batch(name)

    def sample_batch(self, name: str, n: int, seed: int = 0) -> pd.DataFrame:
        """A repeatable random `n` of the customers saved as `name` (all of them when there are
        no more), as a canonical frame in saved order: the `n` with the smallest hash of their
        customer ID and the seed, chosen in SQL (the other rows are never loaded). The same
        (batch, n, seed) gives the same customers; a larger n keeps those of a smaller one."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"sample_batch: n={n!r}: expected a number of customers >= 0.")
        return self._load_batch(
            name, 'AND pos IN (SELECT pos FROM customers WHERE batch = ? '
                  f'ORDER BY hash("{schema.ID}" || ?), pos LIMIT ?)',
            [name, f":{int(seed)}", int(n)])

    def find_customers(self, name: str, ids) -> pd.DataFrame:
        """The customers of batch `name` whose customer ID is in `ids`, as a canonical frame in
        saved order (none found: no rows); only those rows are read."""
        ids = [str(i) for i in ids]
        if not ids:
            return self._load_batch(name, "AND false")
        marks = ", ".join("?" * len(ids))
        return self._load_batch(name, f'AND "{schema.ID}" IN ({marks})', ids)

    def _load_batch(self, name: str, where: str = "", params: tuple = ()) -> pd.DataFrame:
        info = self._cur().execute("SELECT has_target, has_row FROM batches WHERE name = ?",
                                   [name]).fetchall()
        if not info:
            known = ", ".join(self.list_batches()["name"]) or "none"
            raise ValueError(f'No batch named "{name}" in {self.path}; known batches: {known}.')
        has_target, has_row = info[0]
        select = []
        for c in COLUMNS:
            if c.kind == "target" and not has_target:
                continue
            if c.kind == "category":
                values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in c.values)
                select.append(f'CAST("{c.name}" AS ENUM({values})) AS "{c.name}"')
            else:
                select.append(f'"{c.name}"')
        if has_row:
            select.append('"row"')
        df = self._query(f"SELECT {', '.join(select)} FROM customers WHERE batch = ? "
                         f"{where} ORDER BY pos", [name, *params])
        empty = schema.empty_frame()
        for c in df.columns:
            # categorical -> object shares the category strings: cheap for a million rows
            df[c] = df[c].astype(empty[c].dtype if c in empty else np.int64)
        return df

    def delete_batch(self, name: str) -> bool:
        """Remove a batch, its customers and its scores; False when there was no such batch."""
        with self._write() as cur:
            return self._drop_batch(cur, name)

    def _drop_batch(self, cur, name: str) -> bool:
        found = cur.execute("SELECT count(*) FROM batches WHERE name = ?", [name]).fetchall()[0][0]
        cur.execute("DELETE FROM customers WHERE batch = ?", [name])
        cur.execute("DELETE FROM batches WHERE name = ?", [name])
        for (tbl,) in cur.execute("SELECT tbl FROM scores WHERE batch = ?", [name]).fetchall():
            _drop_frame(cur, tbl)
        cur.execute("DELETE FROM scores WHERE batch = ?", [name])
        return bool(found)

    # -- offer history --
    def save_offer_history(self, df: pd.DataFrame) -> None:
        """Replace the whole offer history with `df` (any columns, dtypes kept)."""
        _check_frame(df)
        with self._write() as cur:
            _write_frame(cur, _OFFER_HISTORY, df)

    def load_offer_history(self) -> pd.DataFrame | None:
        """The offer history as saved, or None when none was saved."""
        return self._read_frame(_OFFER_HISTORY)

    # -- campaign history (measured campaign outcomes, appended) --
    def append_campaign_history(self, df: pd.DataFrame) -> int:
        """Append campaign outcomes (the campaign history format: customerID, campaign_id, date,
        offer_id, group, accepted, churned; text columns) to the stored history. A (customer,
        campaign) already stored is replaced by the new row, so recording the same results twice
        adds nothing. Returns the number of rows stored in all."""
        _check_frame(df)
        need = [schema.ID, "campaign_id", "date", "offer_id", "group", "accepted", "churned"]
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise ValueError(f"campaign history rows are missing column(s) {missing}; pass "
                             "results.history_rows(...).")
        new = df[need].astype(str).reset_index(drop=True)
        with self._write() as cur:
            old = self._read_frame(_CAMPAIGN_HISTORY)
            both = new if old is None else pd.concat([old[need].astype(str), new],
                                                     ignore_index=True)
            both = both.drop_duplicates([schema.ID, "campaign_id"], keep="last")
            _write_frame(cur, _CAMPAIGN_HISTORY, both.reset_index(drop=True))
        return int(len(both))

    def load_campaign_history(self) -> pd.DataFrame | None:
        """The campaign outcomes appended so far (text columns), or None when there are none."""
        return self._read_frame(_CAMPAIGN_HISTORY)

    # -- scores --
    def save_scores(self, batch: str, version: str, df: pd.DataFrame) -> None:
        """Store the score frame of `batch` under model `version` (replaces the previous one)."""
        batch, version = _check_name(batch, "batch name"), _check_name(version, "model version")
        _check_frame(df)
        with self._write() as cur:
            old = cur.execute("SELECT tbl FROM scores WHERE batch = ? AND version = ?",
                              [batch, version]).fetchall()
            for (tbl,) in old:
                _drop_frame(cur, tbl)
            cur.execute("DELETE FROM scores WHERE batch = ? AND version = ?", [batch, version])
            tbl = _new_table()
            _write_frame(cur, tbl, df)
            cur.execute("INSERT INTO scores VALUES (?, ?, ?, ?, ?)",
                        [batch, version, _now(), len(df), tbl])

    def load_scores(self, batch: str, version: str, offset: int = 0,
                    limit: int | None = None) -> pd.DataFrame | None:
        """Rows [offset, offset+limit) of a stored score frame (all when limit is None).

        None when nothing is stored for (batch, version). The index is the saved one.
        """
        found = self._cur().execute("SELECT tbl FROM scores WHERE batch = ? AND version = ?",
                                    [batch, version]).fetchall()
        return self._read_frame(found[0][0], offset, limit) if found else None

    def scores_table(self, batch: str, version: str) -> tuple[str, dict, int] | None:
        """For SQL over a stored score frame without loading it: (table name, {column name:
        column in that table}, rows), or None when nothing is stored for (batch, version).
        Only string column names are listed (the table's own names are c0, c1, ...)."""
        cur = self._cur()
        found = cur.execute("SELECT tbl, rows FROM scores WHERE batch = ? AND version = ?",
                            [batch, version]).fetchall()
        if not found:
            return None
        tbl, rows = found[0]
        meta = cur.execute("SELECT meta FROM frame_meta WHERE tbl = ?", [tbl]).fetchall()
        if not meta:
            return None
        names = [m["name"] for m in json.loads(meta[0][0])["columns"]]
        return tbl, {n: f"c{j}" for j, n in enumerate(names) if isinstance(n, str)}, int(rows)

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor of this store for read-only queries in this thread (writes go through the
        store's methods, which hold its write lock)."""
        return self._cur()

    def list_scores(self) -> pd.DataFrame:
        """batch, version, created (UTC), rows of every stored score frame."""
        return self._query("SELECT batch, version, created, rows FROM scores "
                           "ORDER BY created, batch, version")

    # -- campaigns --
    def save_campaign(self, name: str, settings: dict, df: pd.DataFrame) -> int:
        """Store a campaign (settings must be JSON-serialisable); returns its new id."""
        name = _check_name(name, "campaign name")
        if not isinstance(settings, dict):
            raise ValueError(f"campaign settings must be a dict, not {type(settings).__name__}.")
        try:
            text = json.dumps(settings, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"campaign settings must be JSON-serialisable: {exc}.") from None
        _check_frame(df)
        with self._write() as cur:
            cid = int(cur.execute("SELECT nextval('campaign_ids')").fetchall()[0][0])
            tbl = _new_table()
            _write_frame(cur, tbl, df)
            cur.execute("INSERT INTO campaigns VALUES (?, ?, ?, ?, ?, ?)",
                        [cid, _now(), name, text, len(df), tbl])
        return cid

    def list_campaigns(self) -> pd.DataFrame:
        """id, created (UTC), name, rows of every campaign, newest first."""
        return self._query("SELECT id, created, name, rows FROM campaigns ORDER BY id DESC")

    def load_campaign(self, campaign_id: int) -> tuple[dict, pd.DataFrame]:
        """(settings, rows) exactly as saved; ValueError for an unknown id."""
        found = self._cur().execute("SELECT settings, tbl FROM campaigns WHERE id = ?",
                                    [int(campaign_id)]).fetchall()
        if not found:
            raise ValueError(f"No campaign with id {campaign_id} in {self.path}.")
        settings, tbl = found[0]
        return json.loads(settings), self._read_frame(tbl)

    def delete_campaign(self, campaign_id: int) -> bool:
        with self._write() as cur:
            found = cur.execute("SELECT tbl FROM campaigns WHERE id = ?",
                                [int(campaign_id)]).fetchall()
            for (tbl,) in found:
                _drop_frame(cur, tbl)
            cur.execute("DELETE FROM campaigns WHERE id = ?", [int(campaign_id)])
        return bool(found)

    # -- retraining decisions --
    def record_retrain_decision(self, decision: dict) -> None:
        """Append a retraining decision (``churn.retrain.Decision.to_dict()``: outcome,
        exit_code, reasons, ...)."""
        if not isinstance(decision, dict) or "outcome" not in decision:
            raise ValueError("a retraining decision is a dict with an 'outcome'.")
        text = json.dumps(decision, default=_json_default)
        with self._write() as cur:
            cur.execute("INSERT INTO retrain_decisions VALUES (?, ?, ?, ?)",
                        [_now(), str(decision["outcome"]), int(decision.get("exit_code", 0)),
                         text])

    def list_retrain_decisions(self) -> pd.DataFrame:
        """created (UTC), outcome, exit_code, decision (dict); newest first."""
        df = self._query("SELECT created, outcome, exit_code, decision FROM retrain_decisions "
                         "ORDER BY created DESC, rowid DESC")
        df["decision"] = [json.loads(m) for m in df["decision"]]
        return df

    def _read_frame(self, tbl: str, offset: int = 0, limit: int | None = None):
        cur = self._cur()
        found = cur.execute("SELECT meta FROM frame_meta WHERE tbl = ?", [tbl]).fetchall()
        if not found:
            return None
        meta = json.loads(found[0][0])
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError(f"offset and limit must be >= 0, got offset={offset}, limit={limit}.")
        where, params = "_pos >= ?", [int(offset)]
        if limit is not None:
            where += " AND _pos < ?"
            params.append(int(offset) + int(limit))
        raw = cur.execute(f'SELECT * EXCLUDE (_pos) FROM "{tbl}" WHERE {where} ORDER BY _pos',
                          params).fetchdf()
        return _restore(raw, meta)


def _json_default(value):
    """numpy numbers and arrays become plain JSON numbers and lists (they come back as such)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# --- checks on caller input ---------------------------------------------------------------------
def _check_name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}.")
    return value


def _check_frame(df) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(df).__name__}.")


def _check_canonical(df) -> None:
    """A batch must be a canonical frame: every required column, values from the schema."""
    _check_frame(df)
    missing = [c for c in schema.REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"save_batch needs a canonical frame; missing columns: "
                         f"{', '.join(missing)}. Pass report.frame from churn.validate.")
    for c in COLUMNS:
        if c.name not in df.columns or c.kind not in ("category", "flag01", "target"):
            continue
        values = df[c.name]
        bad = ~values.isin(list(c.values))
        if bad.any():
            raise ValueError(f'save_batch: column {c.name} holds {values[bad].iloc[0]!r}, '
                             f'which is not one of {", ".join(map(str, c.values))}; validate '
                             f'the data first (churn.validate).')


# --- arbitrary frames as tables -----------------------------------------------------------------
def _retire_frame_cache(con) -> None:
    """Drop the ``frame_cache`` table of an older store, and the frames it pointed to (its
    entries were cached explanations, now `churn.cache` files); nothing when there is none."""
    found = con.execute("SELECT count(*) FROM information_schema.tables "
                        "WHERE table_name = 'frame_cache'").fetchone()[0]
    if not found:
        return
    con.execute("BEGIN")
    try:
        for (tbl,) in con.execute("SELECT tbl FROM frame_cache").fetchall():
            _drop_frame(con, tbl)
        con.execute("DROP TABLE frame_cache")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _new_table() -> str:
    return f"frame_{uuid.uuid4().hex}"


def _drop_frame(cur, tbl: str) -> None:
    cur.execute(f'DROP TABLE IF EXISTS "{tbl}"')
    cur.execute("DELETE FROM frame_meta WHERE tbl = ?", [tbl])


_NULLS = (None, float("nan"), pd.NA, pd.NaT)   # how a missing value looked in an object column


def _null_kinds(s: pd.Series) -> np.ndarray | None:
    """Per row: index into _NULLS of the missing value's kind (None when every null is None)."""
    nulls = s.isna().to_numpy()
    if not nulls.any():
        return None
    kinds = np.zeros(len(s), np.int8)
    kinds[nulls] = [0 if v is None else 2 if v is pd.NA else 3 if v is pd.NaT else 1
                    for v in s.to_numpy(dtype=object)[nulls]]
    return kinds if kinds.any() else None


_OBJECT_KINDS = ("string", "empty", "integer", "floating", "boolean", "date", "datetime")


def _object_kind(name, s: pd.Series) -> str:
    """What an object column holds; ValueError when DuckDB cannot give it back unchanged."""
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind not in _OBJECT_KINDS:
        raise ValueError(f"column {name!r} holds values of kind {kind!r} (e.g. mixed text and "
                         f"numbers), which cannot be stored unchanged; convert it to one type "
                         f"first (e.g. .astype(str)).")
    return kind


def _dtype_meta(s: pd.Series) -> dict:
    d = {"dtype": str(s.dtype)}
    if isinstance(s.dtype, pd.CategoricalDtype):
        d["categories"] = s.cat.categories.tolist()
        d["categories_dtype"] = str(s.cat.categories.dtype)
        d["ordered"] = bool(s.cat.ordered)
    return d


def _write_frame(cur, tbl: str, df: pd.DataFrame) -> None:
    """(Re)create table `tbl` holding df: columns c0.., index levels i0.., and _pos for order."""
    index = df.index
    default_index = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    data = {"_pos": np.arange(len(df), dtype=np.int64)}
    meta = {"columns": [], "index": None,
            "columns_name": df.columns.name}
    for j in range(df.shape[1]):
        s = df.iloc[:, j]
        data[f"c{j}"] = s
        m = {"name": _json_key(df.columns[j]), **_dtype_meta(s)}
        if s.dtype == object:
            m["infer"] = _object_kind(df.columns[j], s)
            kinds = _null_kinds(s)
            if kinds is not None:
                used = np.unique(kinds[s.isna().to_numpy()])
                if len(used) == 1:
                    m["null"] = int(used[0])
                else:
                    m["null"] = "column"
                    data[f"n{j}"] = kinds
        meta["columns"].append(m)
    if not default_index:
        meta["index"] = []
        for k in range(index.nlevels):
            level = pd.Series(index.get_level_values(k))
            data[f"i{k}"] = level
            meta["index"].append({"name": _json_key(index.names[k]), **_dtype_meta(level)})
    frame = pd.DataFrame({k: (v.array if isinstance(v, pd.Series) else v)
                          for k, v in data.items()}, copy=False)
    view = f"_in_{uuid.uuid4().hex}"
    cur.register(view, frame)
    try:
        cur.execute(f'CREATE OR REPLACE TABLE "{tbl}" AS SELECT * FROM {view}')
    except duckdb.Error as exc:
        raise ValueError(f"this frame cannot be stored in DuckDB ({exc}); use plain numbers, "
                         f"text, dates, booleans or categories in its columns.") from None
    finally:
        cur.unregister(view)
    cur.execute("DELETE FROM frame_meta WHERE tbl = ?", [tbl])
    cur.execute("INSERT INTO frame_meta VALUES (?, ?)", [tbl, json.dumps(meta)])


def _json_key(name):
    """Column/index names as JSON: str, int, float, None stay; tuples become tagged lists."""
    if isinstance(name, tuple):
        return {"tuple": [_json_key(x) for x in name]}
    if isinstance(name, (np.integer,)):
        return int(name)
    if isinstance(name, (np.floating,)):
        return float(name)
    if name is None or isinstance(name, (str, int, float, bool)):
        return name
    return str(name)


def _from_json_key(name):
    if isinstance(name, dict) and "tuple" in name:
        return tuple(_from_json_key(x) for x in name["tuple"])
    return name


def _as_dtype(s: pd.Series, meta: dict, kinds_col: pd.Series | None = None) -> pd.Series:
    dtype = meta["dtype"]
    if dtype == "category":
        cats = pd.Index(meta["categories"], dtype=meta.get("categories_dtype", "object"))
        values = s.astype(object).where(s.notna(), None)
        return pd.Series(pd.Categorical(values, categories=cats, ordered=meta["ordered"]),
                         index=s.index)
    if dtype == "object":
        if meta.get("infer") == "date":
            s = pd.to_datetime(s).dt.date
        out = s.astype(object).where(s.notna(), None)
        null = meta.get("null", 0)
        if isinstance(null, int) and null:
            out[s.isna()] = _NULLS[null]
        elif null == "column":
            kinds = kinds_col.to_numpy()
            for k in (1, 2, 3):
                hit = (kinds == k) & s.isna().to_numpy()
                if hit.any():
                    out[hit] = _NULLS[k]
        return out
    if str(s.dtype) == dtype:
        return s
    return s.astype(dtype)


def _restore(raw: pd.DataFrame, meta: dict) -> pd.DataFrame:
    cols = {}
    for j, m in enumerate(meta["columns"]):
        cols[j] = _as_dtype(raw[f"c{j}"], m, raw.get(f"n{j}"))
    out = pd.DataFrame(cols, copy=False)
    out.columns = pd.Index([_from_json_key(m["name"]) for m in meta["columns"]],
                           name=meta.get("columns_name"), dtype=object)
    if meta["index"] is not None:
        levels = [_as_dtype(raw[f"i{k}"], m) for k, m in enumerate(meta["index"])]
        names = [_from_json_key(m["name"]) for m in meta["index"]]
        if len(levels) == 1:
            out.index = pd.Index(levels[0], name=names[0])
        else:
            out.index = pd.MultiIndex.from_arrays(levels, names=names)
    return out
