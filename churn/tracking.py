"""MLflow tracking and registry for the churn models: runs, the registered model ``churn``, aliases.

What and why
------------
Data scientists keep their runs and models in MLflow. Every trained model version is logged as
one MLflow run (parameters and grid, per-family cross-validated metrics, the selected family,
data fingerprint and row counts, the model-report curves, library versions) and registered as
version N of the MLflow model ``churn``: a pyfunc whose ``predict`` takes Telco-layout rows and
returns exactly the columns of ``python -m churn score`` (it wraps ``churn.scoring.Engine``), so
a team can serve it with ``mlflow models serve -m models:/churn@champion``.

Where: ``$MLFLOW_TRACKING_URI`` when set (a team's server), else the embedded
``sqlite:///<data folder>/mlflow.db`` with artifacts in ``<data folder>/mlartifacts`` (never a
``./mlruns`` folder in the working directory). ``CHURN_TRACKING=off`` turns tracking off (the
test suite does, except the tests of this module).

One source of truth for the active model: the ``ACTIVE`` pointer in the models folder
(``churn.models.activate``). It is read on every page load in microseconds and works when a
tracking server is down. The registry's alias ``champion`` is *published from* it on every
activation (``publish_champion``), and ``challenger`` marks a trained version not activated;
nothing in the product reads the aliases to decide which model scores. ``check_aliases`` reports
a registry that disagrees with the pointer (e.g. an alias moved by hand in the MLflow UI).

Which run belongs to which version: ``<models>/<version>/mlflow.json`` (run id, registered
version, tracking URI), written after logging, so the Model report lists runs without importing
MLflow (its import costs seconds). A version logged to another tracking URI is logged again.

Failures never lose a model: every public function here returns warnings (strings) instead of
raising, and training keeps its model whatever MLflow does.

Off the training's path: MLflow's import and the opening (first time: creation) of its store cost
seconds, so ``churn.models`` hands the logging to a child process (`start`, a `Job`) started
*when training starts*: it imports MLflow and opens the store on the other core while the models
train (at a lower priority, so on a busy machine it takes spare CPU rather than the training's),
then logs the version it is told about once the model is saved and activated. With
``CHURN_TRACKING=on`` (the default) the trainer then waits for it (about a second: the command
line, cron and the tests see every warning); with ``CHURN_TRACKING=background`` (what the app
sets) nobody waits: the app's first start never waits on MLflow and its process never imports
it. Jobs on one data folder take turns (a lock file), and the ``champion`` alias is always set
to the version the ``ACTIVE`` pointer names when the job runs, so jobs finishing out of order
cannot leave the registry behind the pointer.

MLflow is imported lazily, only inside the functions that log (in the child process, when
training and activation go through `Job`).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

MODEL_NAME = "churn"
EXPERIMENT = "churn"
RETRAIN_EXPERIMENT = "churn-retrain"
CHAMPION, CHALLENGER = "champion", "challenger"
SIDECAR = "mlflow.json"
VERSION_TAG = "churn_version"


# --- where -------------------------------------------------------------------------------------
def enabled() -> bool:
    """False when ``CHURN_TRACKING`` is off/0/false/no."""
    return os.environ.get("CHURN_TRACKING", "on").strip().lower() not in ("off", "0", "false",
                                                                            "no")


def background() -> bool:
    """True when ``CHURN_TRACKING=background``: training and activation hand the logging to a
    child process and do not wait for it (the app)."""
    return os.environ.get("CHURN_TRACKING", "on").strip().lower() == "background"


def tracking_uri(data_dir) -> str:
    """``$MLFLOW_TRACKING_URI``, else ``sqlite:///<data_dir>/mlflow.db`` (absolute path)."""
    env = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if env:
        return env
    return f"sqlite:///{Path(data_dir).resolve() / 'mlflow.db'}"


def _artifact_root(data_dir) -> str | None:
    """Artifacts beside the embedded database; a team's server decides its own."""
    if os.environ.get("MLFLOW_TRACKING_URI", "").strip():
        return None
    return (Path(data_dir).resolve() / "mlartifacts").as_uri()


def _quiet_mlflow() -> None:
    for name in ("mlflow", "alembic", "mlflow.store.db.utils", "mlflow.tracking._model_registry",
                 "mlflow.pyfunc"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _skip_dependency_scan() -> None:
    """MLflow checks a logged model's pip requirements against the installed packages by mapping
    every installed distribution to its modules first (seconds to tens of seconds on a large
    environment). Our requirements are the pinned ones this environment was installed from, so
    the map is left empty: each requirement is then checked by its distribution name only."""
    try:
        from mlflow.utils import requirements_utils as ru
    except ImportError:
        return
    if getattr(ru, "_MODULES_TO_PACKAGES", "absent") is None:
        ru._MODULES_TO_PACKAGES = {}
    if getattr(ru, "_PACKAGES_TO_MODULES", "absent") is None:
        ru._PACKAGES_TO_MODULES = {}


@contextmanager
def _client(data_dir):
    """(mlflow module, MlflowClient) pointed at the data folder's tracking URI, for a block.

    ``mlflow.set_tracking_uri`` also writes ``$MLFLOW_TRACKING_URI`` (for subprocesses) and
    MLflow keeps both URIs in module globals; either would make every later data folder of the
    process use this one's database (a client built later with only a tracking URI found its
    registry here), so the variables and the globals are put back when the block ends.
    """
    uri = tracking_uri(data_dir)
    root = _artifact_root(data_dir)  # before set_tracking_uri writes the variable
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    _quiet_mlflow()
    import mlflow
    from mlflow import MlflowClient

    globals_ = _uri_globals()
    before = [(mod, name, getattr(mod, name)) for mod, name in globals_]
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.churn_artifact_root = root
        yield mlflow, client
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for mod, name, value in before:
            setattr(mod, name, value)


def _uri_globals() -> list:
    """(module, attribute) of MLflow's process-wide tracking and registry URIs (private names,
    so an MLflow that moves them just gets nothing restored)."""
    out = []
    for module, name in (("mlflow.tracking._tracking_service.utils", "_tracking_uri"),
                         ("mlflow.tracking._model_registry.utils", "_registry_uri")):
        try:
            import importlib

            mod = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(mod, name):
            out.append((mod, name))
    return out


def _experiment_id(client, name: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    root = client.churn_artifact_root
    return client.create_experiment(name, artifact_location=f"{root}/{name}" if root else None)


# --- which run belongs to which version ----------------------------------------------------------
def run_info(version_folder) -> dict | None:
    """The version's ``mlflow.json`` ({run_id, experiment_id, model_version, tracking_uri,
    registered, model_id: MLflow's logged model}) when it was logged to the current tracking
    URI, else None. No MLflow import."""
    folder = Path(version_folder)
    try:
        info = json.loads((folder / SIDECAR).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("tracking_uri") != tracking_uri(folder.parent.parent):
        return None
    return info


def _write_sidecar(folder: Path, info: dict) -> None:
    from churn import files

    files.write_text(folder / SIDECAR, json.dumps(info, indent=1))


# --- the pyfunc ---------------------------------------------------------------------------------
def _pyfunc_class():
    """The pyfunc wrapper class (built on demand: it subclasses an MLflow class)."""
    import mlflow.pyfunc

    class ChurnScorer(mlflow.pyfunc.PythonModel):
        """``predict(rows)``: Telco-layout rows in, ``python -m churn score``'s columns out.

        Rows are validated like a file (``churn.validate``); rows with errors are left out, as
        the command line leaves them out of its output (it writes them to a rejects file).
        """

        def load_context(self, context):
            """Rebuild a data folder from the packaged sample, model and catalogue, then load
            the engine exactly as ``python -m churn score`` does (``Engine.load``: out-of-fold
            probabilities for training customers, survival model, recommender, uplift)."""
            import shutil
            import tempfile

            from churn import config, scoring

            a = context.artifacts
            self.data_dir_ = Path(tempfile.mkdtemp(prefix="churn-pyfunc-"))
            p = config.paths(self.data_dir_)
            shutil.copytree(a["sample"], p.sample_dir)
            version = Path(a["model"]).name
            shutil.copytree(a["model"], p.models_dir / version)
            (p.models_dir / "ACTIVE").write_text(version + "\n", encoding="utf-8")
            shutil.copyfile(a["catalogue"], self.data_dir_ / "offers.toml")
            self.engine = scoring.Engine.load(p)

        def predict(self, context, model_input, params=None):
            return score_rows(self.engine, model_input)

    return ChurnScorer


def score_rows(engine, rows: pd.DataFrame) -> pd.DataFrame:
    """Validate Telco-layout rows and score the valid ones: `scoring.SCORE_COLUMNS`, typed as
    the command line's Parquet output (``churn.batch``)."""
    from churn import batch, validate

    if not isinstance(rows, pd.DataFrame):
        rows = pd.DataFrame(rows)
    text = rows.astype(object).where(rows.notna(), "").astype(str)
    report = validate.validate_chunk(text)
    frame = report.frame.drop(columns="row", errors="ignore")
    return batch._scores_frame(engine.score(frame), "parquet")


# --- logging a version --------------------------------------------------------------------------
def _flat_params(meta: dict) -> dict:
    out = {f"config.{k}": (",".join(v) if isinstance(v, list) else v)
           for k, v in meta.get("config", {}).items()}
    out["selected"] = meta.get("selected")
    out["selection_metric"] = meta.get("selection_metric")
    for fam, d in meta.get("families", {}).items():
        for k, v in (d.get("params") or {}).items():
            out[f"{fam}.{k}"] = v
    for k, v in meta.get("libraries", {}).items():
        out[f"lib.{k}"] = v
    return {k: ("" if v is None else str(v))[:500] for k, v in out.items()}


def _metrics(meta: dict) -> dict:
    out = {"n_rows": meta.get("n_rows"), "churn_rate": meta.get("churn_rate"),
           "train_seconds": meta.get("train_seconds")}
    sel = meta.get("selected")
    for fam, d in meta.get("families", {}).items():
        for k, v in (d.get("cv") or {}).items():
            out[f"{fam}.cv.{k}"] = v
            if fam == sel:
                out[f"cv.{k}"] = v
        for k, v in (d.get("cv_std") or {}).items():
            out[f"{fam}.cv_std.{k}"] = v
    return {k: float(v) for k, v in out.items()
            if isinstance(v, (int, float)) and v == v and not isinstance(v, bool)}


def log_version(models_dir, version: str, *, alias: str | None = None) -> list[str]:
    """Log a trained version folder as an MLflow run and register it as model ``churn``.

    models_dir: the models folder (its parent is the data folder). version: a version id there.
    alias: CHAMPION or CHALLENGER to point at the registered version (None: no alias).
    Does nothing when tracking is off or the version was already logged to this tracking URI
    (then only the alias moves). Returns warnings (empty when all went well); never raises.
    """
    if not enabled():
        return []
    models_dir = Path(models_dir)
    folder = models_dir / version
    try:
        if run_info(folder) is None:
            _log(models_dir, folder)
        return _set_alias(models_dir, version, alias) if alias else []
    except Exception as exc:  # noqa: BLE001 - tracking is never allowed to break training
        msg = (f"MLflow tracking failed for model version {version} ({type(exc).__name__}: "
               f"{str(exc)[:300]}); the model is saved and usable.")
        log.warning(msg)
        return [msg]


def _log(models_dir: Path, folder: Path) -> dict:
    """One run for the version: the pyfunc model first (registered as ``churn``), then tags,
    parameters and metrics in one batch (the metrics linked to the logged model as they are
    written: logging the model after them makes MLflow read every metric's history back to link
    it), and the report files as one artifact folder."""
    import tempfile
    import time as _time

    from mlflow.entities import Metric, Param, RunTag

    from churn import config as config_mod

    data_dir = models_dir.parent
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    p = config_mod.paths(data_dir)
    can_register = p.customers_csv.is_file()
    with _client(data_dir) as (mlflow, client), \
            mlflow.start_run(experiment_id=_experiment_id(client, EXPERIMENT),
                             run_name=f"train {meta['version']}") as run:
        run_id = run.info.run_id
        info = {"run_id": run_id, "experiment_id": run.info.experiment_id,
                "model_version": None,
                "registered": False, "tracking_uri": tracking_uri(data_dir)}
        model_id = None
        if can_register:
            import mlflow.pyfunc

            _skip_dependency_scan()
            import warnings

            with warnings.catch_warnings():
                # MLflow suggests type hints on predict; the model takes a Telco-layout frame
                # and says so in its docstring, so the hint would only repeat it on stderr.
                warnings.filterwarnings("ignore", message=".*type hints.*", category=UserWarning)
                model_info = mlflow.pyfunc.log_model(
                    name="model", python_model=_pyfunc_class()(),
                    artifacts={"model": str(folder), "sample": str(p.sample_dir),
                               "catalogue": str(p.catalogue)},
                    code_paths=[str(Path(__file__).resolve().parent)],
                    registered_model_name=MODEL_NAME,
                    pip_requirements=_requirements(), await_registration_for=0)
            model_id = getattr(model_info, "model_id", None)
            mv = str(model_info.registered_model_version)
            client.set_model_version_tag(MODEL_NAME, mv, VERSION_TAG, meta["version"])
            info.update(model_version=mv, registered=True, model_id=model_id)
        now = int(_time.time() * 1000)
        tags = {VERSION_TAG: meta["version"], "fingerprint": meta.get("fingerprint"),
                "data_fingerprint": meta.get("data_fingerprint"),
                "selected_family": meta.get("selected"), "kind": "training"}
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0, model_id=model_id) if model_id else
                     Metric(k, v, now, 0) for k, v in _metrics(meta).items()],
            params=[Param(k, v) for k, v in _flat_params(meta).items()],
            tags=[RunTag(k, "" if v is None else str(v)) for k, v in tags.items()])
        fams = meta.get("families", {})
        with tempfile.TemporaryDirectory(prefix="churn-run-") as tmp:
            out = Path(tmp)
            (out / "curves").mkdir()
            files = {"grid.json": {f: d.get("grid") for f, d in fams.items()},
                     "curves/curves.json": {f: d.get("curves") for f, d in fams.items()},
                     "curves/segments.json": {f: d.get("segments") for f, d in fams.items()},
                     "libraries.json": meta.get("libraries", {})}
            for name, obj in files.items():
                (out / name).write_text(json.dumps(obj, indent=1, default=str),
                                        encoding="utf-8")
            (out / "metadata.json").write_bytes((folder / "metadata.json").read_bytes())
            client.log_artifacts(run_id, str(out))
    _write_sidecar(folder, info)
    return info


def _requirements() -> list[str]:
    """The pinned requirements file's packages the pyfunc needs (no inference: it is slow)."""
    from churn.config import ROOT

    want = ("numpy", "pandas", "scikit-learn", "xgboost", "catboost", "shap", "lifelines",
            "scikit-surprise", "pyarrow", "scipy", "joblib", "threadpoolctl", "mlflow")
    try:
        lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    except OSError:
        return list(want)
    out = [ln.strip() for ln in lines
           if ln.strip() and not ln.startswith("#")
           and ln.split("==")[0].split(">=")[0].split("[")[0].strip().lower() in want]
    return out or list(want)


def _model_version_of(client, version: str) -> str | None:
    found = client.search_model_versions(
        f"name='{MODEL_NAME}' and tags.{VERSION_TAG}='{version}'")
    if not found:
        return None
    return str(max(int(v.version) for v in found))


def _set_alias(models_dir: Path, version: str, alias: str) -> list[str]:
    if alias == CHAMPION:
        # The pointer is the source of truth: a job that runs after a later activation (jobs can
        # finish out of order) publishes what the pointer names now, not what it was told.
        from churn import models

        pointer = models.active_version(models_dir)
        if pointer and pointer != version and (models_dir / pointer).is_dir():
            if run_info(models_dir / pointer) is None:
                _log(models_dir, models_dir / pointer)
            version = pointer
    info = run_info(models_dir / version) or {}
    with _client(models_dir.parent) as (_, client):
        mv = info.get("model_version") or _model_version_of(client, version)
        if mv is None:
            return [f"Model version {version} is not registered in MLflow (no sample data to "
                    f"package with it), so the {alias} alias was not moved."]
        client.set_registered_model_alias(MODEL_NAME, alias, mv)
        if alias == CHAMPION:
            try:  # the activated candidate is no longer a challenger
                ch = client.get_model_version_by_alias(MODEL_NAME, CHALLENGER)
                if str(ch.version) == str(mv):
                    client.delete_registered_model_alias(MODEL_NAME, CHALLENGER)
            except Exception:  # noqa: BLE001 - no challenger alias
                pass
    return []


def publish_champion(models_dir, version: str) -> list[str]:
    """Point ``champion`` at ``version`` (logging it first if it never was). Returns warnings."""
    return log_version(models_dir, version, alias=CHAMPION)


# --- the tracking job: a child process that logs while the models train -------------------------
WORKER_LOG = "mlflow-worker.log"
LOCK_FILE = "mlflow.lock"
_PENDING: list["Job"] = []


class Job:
    """A child process that logs one version to MLflow (``log_version``).

    Started before training (`start`): it imports MLflow and opens (or creates) the tracking
    store while the models train. `submit` then tells it the version and alias; `cancel` lets
    it exit without logging (training failed). `wait` returns its warnings. Its own output goes
    to ``<data folder>/mlflow-worker.log``.
    """

    def __init__(self, models_dir):
        from churn.config import ROOT

        self.models_dir = Path(models_dir)
        data_dir = self.models_dir.parent
        data_dir.mkdir(parents=True, exist_ok=True)
        log_path = data_dir / WORKER_LOG
        try:
            if log_path.stat().st_size > 1_000_000:
                log_path.unlink()
        except OSError:
            pass
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [x for x in [env.get("PYTHONPATH")]
                                                             if x])
        self.version: str | None = None
        self.warnings: list[str] | None = None
        with open(log_path, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from churn.tracking import _worker; _worker()",
                 str(self.models_dir)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, env=env,
                cwd=str(data_dir), start_new_session=True)

    def submit(self, version: str, alias: str | None) -> None:
        """Log ``version`` (and point ``alias`` at it) once MLflow is ready."""
        self.version = str(version)
        try:
            self.proc.stdin.write(json.dumps({"version": self.version, "alias": alias}) + "\n")
            self.proc.stdin.close()
        except OSError:  # the child died already; wait() reports it
            pass
        for job in [j for j in _PENDING if j.done()]:  # reap finished jobs (no zombies)
            for w in job.wait():
                log.warning(w)
        _PENDING.append(self)

    def cancel(self) -> None:
        """Nothing to log (training failed): the child exits."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()

    def done(self) -> bool:
        return self.proc.poll() is not None

    def wait(self, timeout: float | None = None) -> list[str]:
        """The job's warnings once it has finished (empty when all went well)."""
        if self.warnings is not None:
            return self.warnings
        try:
            self.proc.wait(timeout=timeout)  # its stdout is one short line: no pipe to drain
            out = self.proc.stdout.read()
            self.proc.stdout.close()
        except subprocess.TimeoutExpired:
            return [f"MLflow tracking of model version {self.version} is still running after "
                    f"{timeout:.0f} s; it goes on in the background."]
        found = None
        for line in reversed((out or "").splitlines()):
            try:
                found = json.loads(line)
                break
            except ValueError:
                continue
        if isinstance(found, dict) and isinstance(found.get("warnings"), list):
            self.warnings = [str(w) for w in found["warnings"]]
        else:
            self.warnings = [
                f"MLflow tracking failed for model version {self.version} (the tracking process "
                f"exited with code {self.proc.returncode}; see "
                f"{self.models_dir.parent / WORKER_LOG}); the model is saved and usable."]
        if self in _PENDING:
            _PENDING.remove(self)
        return self.warnings


def start(models_dir) -> Job | None:
    """A `Job` for the data folder of ``models_dir`` (None when tracking is off, or the process
    cannot start: then `track` logs in this process)."""
    if not enabled():
        return None
    try:
        return Job(models_dir)
    except OSError as exc:
        log.warning("Could not start the MLflow tracking process (%s); logging in-process.", exc)
        return None


def track(models_dir, version: str, alias: str | None, job: Job | None = None) -> list[str]:
    """Log ``version`` and point ``alias`` at it, through ``job`` (or a new one).

    ``CHURN_TRACKING=background``: returns at once (the job goes on; `wait_pending` waits for
    it). Otherwise waits for the job and returns its warnings. Never raises.
    """
    if not enabled():
        if job is not None:
            job.cancel()
        return []
    job = job if job is not None else start(models_dir)
    if job is None:
        return log_version(models_dir, version, alias=alias)
    job.submit(version, alias)
    return [] if background() else job.wait()


def wait_pending(timeout: float | None = None) -> list[str]:
    """Wait for every job this process submitted and not yet waited for; their warnings."""
    out: list[str] = []
    for job in list(_PENDING):
        out += job.wait(timeout)
    return out


@contextmanager
def _locked(data_dir):
    """One tracking job at a time per data folder (an exclusive lock on ``mlflow.lock``)."""
    import fcntl

    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(data_dir) / LOCK_FILE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


#: Niceness of the tracking process while it waits for the training to finish.
WARM_UP_NICENESS = 10


def _nice(step: int) -> bool:
    """Change this process's niceness by ``step``; False when not allowed."""
    try:
        os.nice(step)
        return True
    except (OSError, AttributeError):
        return False


def _worker() -> None:
    """The child process of a `Job`: argv[1] is the models folder; one JSON line on stdin
    ({"version", "alias"}) says what to log, EOF says nothing; one JSON line on stdout
    ({"warnings": [...]}) says how it went. MLflow's own output goes to stderr."""
    models_dir = Path(sys.argv[1])
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # MLflow prints to stdout; only the answer goes there
    niced = _nice(WARM_UP_NICENESS)  # the warm-up takes spare CPU, not the training's
    try:
        with _locked(models_dir.parent), _client(models_dir.parent) as (_, client):
            _experiment_id(client, EXPERIMENT)  # creates/migrates the database once, now
        import mlflow.pyfunc  # noqa: F401 - the model logging's own imports, while waiting
    except Exception as exc:  # noqa: BLE001 - log_version below reports it properly
        print(f"warm-up: {type(exc).__name__}: {exc}", file=sys.stderr)
    line = sys.stdin.readline()
    if not line.strip():
        return
    if niced:  # someone may be waiting now: normal priority again where allowed
        _nice(-WARM_UP_NICENESS)
    job = json.loads(line)
    with _locked(models_dir.parent):
        warnings = log_version(models_dir, job["version"], alias=job.get("alias"))
    for w in warnings:
        print(w, file=sys.stderr)
    out.write(json.dumps({"warnings": warnings}) + "\n")
    out.flush()


def check_aliases(models_dir) -> dict:
    """Does the registry's ``champion`` alias name the active model (the ``ACTIVE`` pointer)?

    Returns {"pointer": active version, "champion": the version the alias names (None when
    unset), "agree": bool, "checked": bool (False: tracking off, or the registry could not be
    read), "message": one sentence for the Model health page (empty when they agree or tracking
    is off)}. The embedded SQLite registry is read directly, read-only, in milliseconds (no MLflow
    import); a team's server through MLflow's client. A tracking job still running for this
    data folder is not a disagreement yet.
    """
    from churn import models

    models_dir = Path(models_dir)
    pointer = models.active_version(models_dir)
    out = {"pointer": pointer, "champion": None, "agree": False, "checked": False, "message": ""}
    if not enabled() or pointer is None:
        out["agree"] = True
        return out
    try:
        found = _champion_from_sqlite(models_dir.parent)
        if found is _UNKNOWN:
            with _client(models_dir.parent) as (_, client):
                mv = client.get_model_version_by_alias(MODEL_NAME, CHAMPION)
            found = (mv.tags or {}).get(VERSION_TAG)
    except Exception as exc:  # noqa: BLE001 - no alias, no model, server down
        found = None
        if "RESOURCE_DOES_NOT_EXIST" not in str(exc) and "not found" not in str(exc).lower():
            out["message"] = (f"The MLflow registry could not be read ({type(exc).__name__}), "
                              "so its champion alias was not checked.")
            return out
    out.update(champion=found, checked=True, agree=found == pointer)
    if out["agree"]:
        return out
    if _job_running(models_dir.parent):
        out.update(agree=True, message="")
        return out
    cmd = f"`python -m churn models --activate {pointer}`"
    if found is None:
        out["message"] = (f"MLflow's registry has no champion alias for model \"{MODEL_NAME}\" "
                          f"although version {pointer} is in use; run {cmd} to publish it.")
    else:
        out["message"] = (f"MLflow's registry names version {found} as champion, but the app "
                          f"uses version {pointer}; run {cmd} to publish the one in use.")
    return out


_UNKNOWN = object()


def _champion_from_sqlite(data_dir):
    """The churn_version tag of the champion in the embedded SQLite registry: a version id, None
    (no alias), or `_UNKNOWN` (not the embedded database, or its layout is not the one known)."""
    import sqlite3

    uri = tracking_uri(data_dir)
    if not uri.startswith("sqlite:///"):
        return _UNKNOWN
    db = Path(uri[len("sqlite:///"):])
    if not db.is_file():
        return None
    try:
        con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            row = con.execute(
                "SELECT t.value FROM registered_model_aliases a LEFT JOIN model_version_tags t "
                "ON t.name = a.name AND t.version = a.version AND t.key = ? "
                "WHERE a.name = ? AND a.alias = ?", (VERSION_TAG, MODEL_NAME, CHAMPION)).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return _UNKNOWN
    return row[0][0] if row else None


def _job_running(data_dir) -> bool:
    """True while a tracking job holds this data folder's lock."""
    import fcntl

    path = Path(data_dir) / LOCK_FILE
    if not path.exists():
        return False
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


# --- retraining decisions -----------------------------------------------------------------------
def log_decision(data_dir, decision: dict) -> tuple[str | None, list[str]]:
    """Log a retraining decision (``churn.retrain.Decision.to_dict()``) as a run of the
    ``churn-retrain`` experiment. Returns (run id or None, warnings); never raises."""
    if not enabled():
        return None, []
    try:
        with _client(data_dir) as (mlflow, client), \
                mlflow.start_run(experiment_id=_experiment_id(client, RETRAIN_EXPERIMENT),
                                 run_name=f"retrain: {decision['outcome']}") as r:
            mlflow.set_tags({"outcome": decision["outcome"], "kind": "retrain-decision",
                             "champion": str(decision.get("champion")),
                             "challenger": str(decision.get("challenger"))})
            mlflow.log_params({"exit_code": decision.get("exit_code"),
                               "metric": decision.get("metric"),
                               "margin": decision.get("margin"),
                               "data": str(decision.get("data"))[:500]})
            nums = {k: float(v) for k, v in (decision.get("scores") or {}).items()
                    if isinstance(v, (int, float)) and v == v}
            if nums:
                mlflow.log_metrics(nums)
            mlflow.log_dict(decision, "decision.json")
            mlflow.log_text("\n".join(decision.get("reasons", [])), "reasons.txt")
        return r.info.run_id, []
    except Exception as exc:  # noqa: BLE001
        msg = f"Could not log the decision to MLflow ({type(exc).__name__}: {str(exc)[:300]})."
        log.warning(msg)
        return None, [msg]
