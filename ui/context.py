"""Cached access to the data and models the pages work on (the only place pages get them).

Caching rules (docs/design.md): `st.cache_resource` for things loaded once and shared (models,
keyed by model version: a fingerprint of data and settings; customer frames, keyed by what they
are computed from: a file's path, size and modification time, or a saved batch's name and save
time, so a changed file is never served stale). Frames handed out here are shared and read-only:
never change them in place. The sample is generated on first use when it is missing.

Everything here reads `churn.config.paths()` at call time, so `CHURN_DATA_DIR` (set by the tests,
or by a deployment) moves all of it.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from churn import config
from ui import state
from ui.state import DatasetRef

# A user of the app never waits on MLflow: training and activation hand the logging to a child
# process (churn.tracking) and go on; this process never imports MLflow. An explicit
# CHURN_TRACKING (on/off) in the environment is kept.
os.environ.setdefault("CHURN_TRACKING", "background")


# --- the sample ---------------------------------------------------------------------------------
_SAMPLE_LOCK = threading.Lock()  # one generation at a time when several sessions start at once


def sample_paths() -> config.Paths:
    """Paths of the current data folder, with the sample generated first if it is missing."""
    p = config.paths()
    if not (p.customers_csv.exists() and p.active_csv.exists()):
        from churn.synth import ensure_sample

        with _SAMPLE_LOCK, st.spinner("Preparing the sample customers (first start only)…"):
            ensure_sample(p)
    return p


@st.cache_resource(show_spinner="Reading customers…", max_entries=8)
def _read_customers(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    """A resource (one shared, read-only frame): `st.cache_data` would unpickle a copy on every
    run, and a new object each run would defeat `frame_fingerprint`'s memory."""
    from churn.validate import load_customers

    return load_customers(path)


def read_customers(path: Path) -> pd.DataFrame:
    """The canonical frame of a customer file, cached until the file changes."""
    st_ = Path(path).stat()
    return _read_customers(str(path), st_.st_size, st_.st_mtime_ns)


def sample_frame() -> pd.DataFrame:
    """The sample's customers as a canonical frame (the history: labelled, what models learn)."""
    return read_customers(sample_paths().customers_csv)


def sample_active_frame() -> pd.DataFrame:
    """The sample's active base (customers still here, no Churn column): what decisions are
    about by default."""
    return read_customers(sample_paths().active_csv)


@st.cache_resource(show_spinner=False, max_entries=8)
def _active(fingerprint: str, _frame: pd.DataFrame) -> pd.DataFrame:
    from churn.population import active

    return active(_frame)


def active_customers(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The active customers of `frame` (default: the data set chosen in the sidebar):
    `churn.population.active` (customers who have left dropped), one shared read-only frame per
    data set, so pages that decide (Overview's risk figures, the what-if picker, campaigns) never
    score or target a customer who has left."""
    frame = customers() if frame is None else frame
    return _active(frame_fingerprint(frame), frame)


def history_customers() -> pd.DataFrame:
    """The customers the Why page explains: the sample's labelled history when the sample's
    active base is chosen (explanations and training stay on the history, whose outcomes the
    page compares with), else the chosen data set (an uploaded batch is explained as it is)."""
    ref = state.dataset()
    if ref is None or ref.kind == "active":
        return sample_frame()
    return customers(ref)


def population_line(frame: pd.DataFrame | None = None) -> str:
    """One sentence saying whether `frame` (default: the chosen data set) is a history or an
    active base, and what the risk figures use (`churn.population.describe`). The chosen data
    set is counted in SQL where its rows live (`rows`): a saved million is never loaded."""
    if frame is None:
        return population().line
    from churn.population import describe

    return describe(frame).line


def explained_line(frame: pd.DataFrame | None = None) -> str:
    """`population_line` of the customers the Why page explains (`history_customers`; None: the
    chosen data set, counted where it lives); when they are the sample's history shown in place
    of the chosen active base, the sentence says so and which customers the other pages' figures
    are about (not the history's own active rows)."""
    from churn.population import HISTORY, describe

    if frame is None:
        return population_line()
    pop = describe(frame)
    ref = state.dataset()
    if pop.kind == HISTORY and (ref is None or ref.kind == "active"):
        return pop.stand_in_line(population().rows)
    return pop.line


def population(ref: DatasetRef | None = None):
    """`churn.population.Population` of a data set (default: the chosen one), counted in SQL
    (`churn.stored_views.population`), remembered per data set."""
    rows_ = rows(ref)
    return _population(rows_.key, rows_)


@st.cache_data(show_spinner=False, max_entries=64)
def _population(key: tuple, _rows):
    from churn import stored_views

    return stored_views.population(_rows)


def history_sample(size: int, seed: int = 0) -> pd.DataFrame:
    """`history_customers`, or for a saved batch larger than `size` a repeatable random `size`
    of its customers fetched from the store (`Store.sample_batch`; the rest are never loaded).
    Below `size`, every customer, as `history_customers` gives them."""
    ref = state.dataset()
    if ref is None or ref.kind != "saved" or ref.rows <= size:
        return history_customers()
    return saved_sample(ref, size, seed)


def saved_sample(ref: DatasetRef, size: int, seed: int = 0) -> pd.DataFrame:
    """A repeatable random `size` of a saved batch's customers (all when it has no more),
    fetched from the store (`Store.sample_batch`); shared and read-only."""
    return _saved_sample(str(config.paths().store), ref.name, _saved_created(ref.name),
                         int(size), int(seed))


@st.cache_resource(show_spinner="Fetching a random sample of the saved customers…",
                   max_entries=4)
def _saved_sample(path: str, name: str, created: str, size: int, seed: int) -> pd.DataFrame:
    """A seeded sample of a saved batch (keyed by its save time: a replaced batch is fetched
    again); shared and read-only."""
    return _open_store(path).sample_batch(name, size, seed).drop(columns="row", errors="ignore")


# --- rows in SQL (churn.stored_views) --------------------------------------------------------
def data_key(ref: DatasetRef | None = None) -> tuple:
    """What identifies a data set's rows for caching: a saved batch's name and save time (a
    replaced batch gets a new key), else the frame's content fingerprint."""
    ref = ref or state.dataset() or DatasetRef("active", "active", 0)
    if ref.kind == "saved":
        return ("saved", ref.name, _saved_created(ref.name))
    return ("frame", frame_fingerprint(customers(ref)))


def _saved_created(name: str) -> str:
    saved = saved_batches()
    hit = saved[saved["name"] == name]
    if hit.empty:
        raise ValueError(f"the saved batch {name!r} is no longer in the store (another user may "
                         "have deleted it); choose another data set in the sidebar")
    return str(hit["created"].iloc[-1])


@st.cache_resource(show_spinner=False, max_entries=8)
def _frame_rows(fingerprint: str, _frame: pd.DataFrame):
    from churn import stored_views

    return stored_views.rows_from_frame(_frame)


def rows(ref: DatasetRef | None = None):
    """`churn.stored_views.Rows` of a data set (default: the chosen one), with ``key`` set to
    `data_key`: a saved batch's rows stay in the store (SQL over them; nothing loaded), a frame
    of this process (the sample, an upload) is registered once in an in-memory DuckDB."""
    from churn import stored_views

    ref = ref or state.dataset() or DatasetRef("active", "active", 0)
    key = data_key(ref)
    if ref.kind == "saved":
        db = store()
        found = stored_views.rows_from_store(db, ref.name) if db is not None else None
        if found is None:
            raise ValueError(f"the saved batch {ref.name!r} is no longer in the store (another "
                             "user may have deleted it); choose another data set in the sidebar")
    else:
        found = _frame_rows(key[1], customers(ref))
    found.key = key
    return found


# --- the store (batches saved for every session) ----------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=4)
def _open_store(path: str):
    from churn.store import Store

    return Store(path)


def store():
    """The data folder's `churn.store.Store` (one per file, shared by all sessions), or None when
    it cannot be opened (e.g. another process holds the DuckDB file): saved batches are then
    not offered, but everything else works."""
    try:
        return _open_store(str(config.paths().store))
    except Exception:  # noqa: BLE001 - a locked or broken store must not stop the app
        import logging

        logging.getLogger("churn.app").warning("the store could not be opened", exc_info=True)
        return None


SAVED_KINDS = ("upload",)  # store batch kinds the data-set picker offers


def saved_batches() -> pd.DataFrame:
    """Batches saved to the store that the picker offers (kind in `SAVED_KINDS`): name, kind,
    created (UTC), rows, valid_rows, rejected_rows, source; oldest first. Read on every call (a
    few milliseconds), so a batch saved in one session appears in every other one."""
    db = store()
    empty = pd.DataFrame(columns=["name", "kind", "created", "rows", "valid_rows",
                                  "rejected_rows", "source"])
    if db is None:
        return empty
    try:
        found = db.list_batches()
    except Exception:  # noqa: BLE001 - see store()
        return empty
    return found[found["kind"].isin(SAVED_KINDS)].reset_index(drop=True)


@st.cache_resource(show_spinner="Loading the saved customers…", max_entries=4)
def _saved_frame(path: str, name: str, created: str) -> pd.DataFrame:
    """A saved batch (keyed by its name and save time, so a replaced batch is never served
    stale). A resource, not data: 100,000 rows are not copied on every run; read-only."""
    df = _open_store(path).load_batch(name)
    return df.drop(columns="row", errors="ignore")


# --- data sets ----------------------------------------------------------------------------------
def datasets() -> list[DatasetRef]:
    """Every data set the sidebar offers: the sample first, then this session's uploads, then
    the batches saved to the store (every session sees those)."""
    refs = [DatasetRef("active", "active", len(sample_active_frame())),
            DatasetRef("sample", "sample", len(sample_frame()))]
    refs += [DatasetRef("batch", name, len(frame)) for name, frame in state.batches().items()]
    saved = saved_batches()
    refs += [DatasetRef("saved", str(n), int(r))
             for n, r in zip(saved["name"], saved["valid_rows"])]
    return refs


def customers(ref: DatasetRef | None = None) -> pd.DataFrame:
    """The canonical frame of `ref` (default: the data set chosen in the sidebar)."""
    ref = ref or state.dataset() or DatasetRef("active", "active", 0)
    if ref.kind == "active":
        return sample_active_frame()
    if ref.kind == "sample":
        return sample_frame()
    if ref.kind == "saved":
        saved = saved_batches()
        hit = saved[saved["name"] == ref.name]
        if hit.empty:
            raise ValueError(f"the saved batch {ref.name!r} is no longer in the store (another "
                             "user may have deleted it); choose another data set in the sidebar")
        return _saved_frame(str(config.paths().store), ref.name, str(hit["created"].iloc[-1]))
    found = state.batches().get(ref.name)
    if found is None:
        raise ValueError(f"the uploaded batch {ref.name!r} is no longer in this session; upload "
                         "it again on the Upload & score page")
    return found


# --- the active model ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelStatus:
    """The active churn model (None when none is usable) and how the sidebar describes it."""

    model: object | None
    label: str
    help: str


NO_MODEL = ModelStatus(None, "No churn model trained yet",
                       "Train one on the Model report page, or run `python -m churn train`.")


@st.cache_resource(show_spinner="Loading the churn model…", max_entries=4)
def _load_version(models_dir: str, version: str):
    """The model of `version` (a fingerprint of data and settings, so the key never goes stale)."""
    from churn.models import load_active

    model = load_active(Path(models_dir))
    if model.version != version:  # the pointer moved between the two reads: do not cache
        raise RuntimeError("the active model changed while loading; try again")
    return model


def model_status() -> ModelStatus:
    """The active model and a one-line description for the sidebar (never raises for a missing
    or unusable model: that is a state to explain, not an error)."""
    from churn.models import FAMILIES, ModelCacheError, NoModelError, active_version

    folder = config.paths().models_dir
    version = active_version(folder)
    if version is None:
        return NO_MODEL
    try:
        model = _load_version(str(folder), version)
    except NoModelError:
        return NO_MODEL
    except ModelCacheError as exc:
        return ModelStatus(None, "The model in use cannot be loaded",
                           f"{exc} Train again on the Model report page.")
    family = FAMILIES[model.family].label if model.family in FAMILIES else model.family
    return ModelStatus(model, f"Model in use: {family} · version {version[:8]}",
                       "The churn model every page uses. Compare and switch models on the "
                       "Model report page.")


def active_model():
    """The active `ChurnModel`, or None when no usable model is trained in this data folder."""
    return model_status().model


# --- the scoring engine (model + explanations + lifetime value + offers) ------------------------
@st.cache_resource(show_spinner="Loading the models…", max_entries=2)
def _engine(data_dir: str, active_version: str | None):
    from churn.scoring import Engine

    eng = Engine.load(config.paths(data_dir))
    settle_heap()
    return eng


def settle_heap() -> None:
    """Put everything alive now (the libraries, the engine's models and frames: about 200,000
    objects that live as long as the server) out of the garbage collector's reach (`gc.freeze`),
    after one collection so that no garbage is kept. A full collection walking them took
    150-300 ms; Streamlit ran one after every script run, most of a what-if redraw (issue 18).
    That one is off (`runner.postScriptGC`, .streamlit/config.toml); Python's own collections,
    which still run as memory grows, now skip these objects. They are unfrozen at exit, so
    that the interpreter's last collection still frees them (DuckDB reports leaks otherwise)."""
    import atexit
    import gc

    gc.collect()
    gc.freeze()
    atexit.unregister(gc.unfreeze)
    atexit.register(gc.unfreeze)


def engine():
    """The `churn.scoring.Engine` of the current data folder, keyed by the active model version
    (after `prepared`: the first start's training, with its progress)."""
    from churn.models import active_version

    p = prepared()
    return _engine(str(p.data_dir), active_version(p.models_dir))


def prepared() -> config.Paths:
    """The current data folder, once everything the engine loads exists (cheap after the first
    time per folder and model).

    The first start trains the models: once per server in the background
    (`churn.preparation.SharedPreparation`), while this run shows its progress outside any
    cache (a cached function would replay the bar on every later run, and Streamlit cannot
    replay elements drawn on placeholders).
    """
    from churn.scoring import Engine

    p = config.paths()
    stamp = _prepared_stamp(p)
    if stamp not in _PREPARED and not Engine.is_prepared(p):
        from churn.preparation import SharedPreparation

        # Once per server, in the background: another page or session shows the same progress,
        # and leaving the page does not restart the training.
        job = SharedPreparation.start(p)
        # Streamlit's "Stop" button would stop only this page's wait, not the shared training:
        # hidden while the progress shows (issue 16).
        style, holder = st.empty(), st.empty()
        style.html(f"<style>{HIDE_STOP}</style>")

        def progress(fraction: float, message: str) -> None:
            holder.progress(fraction, text=f"First start: {message}. Other pages show the same "
                                           "progress; the training goes on if you leave.")

        try:
            progress(job.fraction, job.message)
            job.wait(progress)
        finally:
            holder.empty()
            style.empty()
        SharedPreparation.forget(p)
        stamp = _prepared_stamp(p)
    _PREPARED.add(stamp)
    return p


#: CSS that hides Streamlit's Stop button (in the running indicator at the top right).
HIDE_STOP = '[data-testid="stStatusWidget"] button { display: none; }'

# Data folders already known to be prepared, by `_prepared_stamp`: `Engine.is_prepared` reads
# and validates the sample (about 0.2 s), too slow to repeat on every run of every page.
_PREPARED: set = set()


def _prepared_stamp(p: config.Paths) -> tuple:
    """What `Engine.is_prepared` depends on: the folder, the active version and the size and
    modification time of the sample, the campaign history and the catalogue."""
    from churn.models import active_version

    def stamp(path: Path):
        try:
            s = path.stat()
        except OSError:
            return None
        return (s.st_size, s.st_mtime_ns)

    return (str(p.data_dir), active_version(p.models_dir), stamp(p.customers_csv),
            stamp(p.campaign_history_csv), stamp(p.catalogue), stamp(p.active_csv))


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """A short content hash of a frame (the key of everything derived from it).

    Hashing 100,000 rows takes about 0.1 s, and pages ask for it on every rerun, so the hash is
    remembered for as long as that very frame object lives (the frames pages get from here are
    read-only: cached, or kept in session state, never changed in place)."""
    import hashlib
    import weakref

    key = id(frame)
    hit = _FINGERPRINTS.get(key)
    if hit is not None and hit[0]() is frame:
        return hit[1]
    h = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    h.update(",".join(map(str, frame.columns)).encode())
    fp = h.hexdigest()[:16]
    try:
        ref = weakref.ref(frame, lambda _r, k=key: _FINGERPRINTS.pop(k, None))
    except TypeError:  # not weak-referenceable: do not remember
        return fp
    _FINGERPRINTS[key] = (ref, fp)
    return fp


# id(frame) -> (weak reference to the frame, fingerprint); an entry leaves with its frame.
_FINGERPRINTS: dict = {}


def _scored_key(fingerprint: str, version: str | None, settings_key: tuple) -> str:
    """The disk-cache key of a scoring: besides the code and libraries (in every key's code
    stamp), the model, the data, the settings, the offer catalogue and the sample files the
    survival model and the recommender are fitted on."""
    from churn import cache

    p = config.paths()
    return cache.key("scored", version, fingerprint, settings_key,
                     cache.file_stamp(p.catalogue), cache.file_stamp(p.customers_csv),
                     cache.file_stamp(p.campaign_history_csv),
                     # recorded campaign outcomes (in the store) retrain the recommender
                     cache.file_stamp(p.store))


@st.cache_resource(show_spinner="Scoring customers…", max_entries=6)
def _scored(fingerprint: str, version: str | None, settings_key: tuple, _frame: pd.DataFrame):
    """The scoring of a frame: from this process's memory, else from the disk cache
    (`churn.cache.results`: a restarted server does not load the engine or score again), else
    computed by the engine and saved there."""
    from churn import cache
    from churn.config import BusinessSettings

    k = _scored_key(fingerprint, version, settings_key)
    disk = cache.results()
    found = disk.read("scored", k) if version is not None else None
    if found is not None:
        return found
    eng = engine()
    # Every applicable offer is ranked (top_offers=None), not only the top 3: the Retention
    # campaign page builds its list from this same scoring instead of scoring the data again.
    out = eng.score_all(_frame, BusinessSettings(**dict(settings_key)), top_offers=None)
    if eng.version == version:  # the active model did not change meanwhile
        disk.write("scored", k, out)
    return out


def settings_key() -> tuple:
    """The sidebar's business settings as a hashable cache key."""
    return tuple(sorted(state.settings().to_dict().items()))


def scored(frame: pd.DataFrame | None = None, fingerprint: str | None = None):
    """`churn.scoring.Scored` for a frame (default: the data set in use) under the sidebar's
    business settings; computed once per (data, model version, settings) and shared. Treat the
    result as read-only. Its `ranked` holds every applicable offer of every customer (top_offers
    None), so the campaign page reuses it. fingerprint: `frame_fingerprint(frame)` when the caller
    already has it."""
    from churn import cache
    from churn.models import active_version

    frame = customers() if frame is None else frame
    version = active_version(config.paths().models_dir)
    fingerprint = fingerprint or frame_fingerprint(frame)
    memo = (fingerprint, version, settings_key())
    if version is not None and memo not in _SCORED_HERE and not cache.results().has(
            "scored", _scored_key(*memo)):
        # Any first-start work (fitting the engine's parts, with its progress) happens here, not
        # inside the cached `_scored`: Streamlit replays what a cached function draws on every
        # later hit, and cannot replay elements drawn on placeholders ("Something went wrong").
        # A scoring on disk needs no engine (a restarted server shows it without loading one).
        prepared()
    out = _scored(*memo, frame)
    _SCORED_HERE.add(memo)  # later reruns skip the disk check (about 3 ms of file stamps)
    return out


#: (fingerprint, version, settings key) of the scorings this process has already made or read.
_SCORED_HERE: set = set()
