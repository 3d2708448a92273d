"""The command line: `python -m churn COMMAND ...` for batch work.

Each command parses its arguments here and calls one or two core functions. Exit status: 0 on
success, 1 when the input has problems the user can fix, 2 when a file cannot be read at all.
"""
from __future__ import annotations

import argparse
import json
import sys


def _not_ready(name: str) -> int:
    print(f"`{name}` is not available in this build.", file=sys.stderr)
    return 2


# --- synth -------------------------------------------------------------------------------------
def cmd_synth(args) -> int:
    from churn.synth import write_sample

    try:
        files = write_sample(args.out, rows=args.rows, seed=args.seed)
    except ValueError as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 1

    def data_lines(path) -> int:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1

    print(f"Wrote {data_lines(files.customers):,} customers (seed {args.seed}) to "
          f"{files.customers} (the labelled history)")
    print(f"Wrote {data_lines(files.active):,} active customers to {files.active} (one month "
          f"later: survivors and new joiners, no Churn column)")
    print(f"Wrote {data_lines(files.campaign_history):,} campaign rows to "
          f"{files.campaign_history} (past randomised campaigns with control groups)")
    return 0


# --- validate ----------------------------------------------------------------------------------
def cmd_validate(args) -> int:
    """Exit 0: no errors; 1: errors (listed); 2: the file cannot be read at all.

    A file whose header has campaign_id and group is checked as a campaign history
    (`churn.history`), anything else as a customer file; `--kind` overrides the guess."""
    kind = args.kind
    if kind == "auto":
        kind = "history" if _looks_like_history(args.file) else "customers"
    if kind == "history":
        report = _validate_history_file(args)
        if report is None:
            return 2
    else:
        from churn.validate import validate

        report = validate(args.file)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    elif report.fatal:
        print(report.summary(), file=sys.stderr)
    else:
        print(report.summary(limit=50))
    if report.fatal:
        return 2
    return 1 if report.errors else 0


def _looks_like_history(path) -> bool:
    """True when the file's first line names campaign_id and group (CSV only; else False)."""
    import csv

    from churn.history import is_history_header

    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            line = next((ln for ln in fh if ln.strip()), "")
    except OSError:
        return False
    sep = max((",", ";", "\t", "|"), key=line.count)
    try:
        return is_history_header(next(csv.reader([line], delimiter=sep)))
    except (csv.Error, StopIteration):
        return False


def _validate_history_file(args):
    """The HistoryReport of args.file, checked against --customers IDs (when given) and the
    catalogue's offers; None (message printed) when the customer file cannot be read."""
    from churn import offers
    from churn.config import paths
    from churn.history import validate_history
    from churn.validate import validate

    ids = None
    if args.customers:
        cust = validate(args.customers)
        if cust.fatal:
            print(f"--customers {args.customers}: cannot be read. {cust.fatal}", file=sys.stderr)
            return None
        ids = cust.frame["customerID"].astype(str).tolist()
        rejected = cust.rejected_frame()  # customers whose other columns have errors still exist
        if "customerID" in rejected:
            ids += rejected["customerID"].astype(str).str.strip().tolist()
    try:
        offer_ids = offers.load_catalogue(paths().catalogue).ids
    except ValueError:
        offer_ids = None
    return validate_history(args.file, customer_ids=ids, offer_ids=offer_ids)


# --- simulate-outcomes -------------------------------------------------------------------------
def cmd_simulate_outcomes(args) -> int:
    """Fill in accepted/churned of an exported campaign from the demo's hidden model.

    Exit 0: written; 1: a problem the user can fix (customers not in the customer file, bad
    group values, missing columns); 2: a file cannot be read at all."""
    from pathlib import Path

    import pandas as pd

    from churn import simulate, synth
    from churn.campaign import to_csv_bytes
    from churn.config import paths
    from churn.validate import validate

    src, out = Path(args.campaign), Path(args.out)
    try:
        head = src.read_bytes()[:4]
        if head.startswith(b"PK\x03\x04"):
            campaign = pd.read_excel(src, engine="openpyxl", dtype=str).fillna("")
        else:
            campaign = pd.read_csv(src, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        print(f"{args.campaign}: cannot be read ({type(exc).__name__}: {exc}).", file=sys.stderr)
        return 2
    if campaign.empty:
        print(f"{args.campaign}: the file has no campaign rows.", file=sys.stderr)
        return 1
    if "customerID" in campaign:  # undo the export's formula guard ('+1-2 -> +1-2)
        guarded = campaign["customerID"].str.match(r"^'[=+\-@\t\r]")
        campaign.loc[guarded, "customerID"] = campaign.loc[guarded, "customerID"].str[1:]
    if args.customers:
        sources = [Path(args.customers)]
    else:
        p = synth.ensure_sample(paths())
        sources = [p.active_csv, p.customers_csv]
    frames = []
    for path in sources:
        report = validate(path)
        if report.fatal:
            print(f"{path}: cannot be read. {report.fatal}", file=sys.stderr)
            return 2
        frames.append(report.frame.drop(columns="row"))
    customers = pd.concat(frames, ignore_index=True).drop_duplicates("customerID", keep="first")
    try:
        done = simulate.simulate_outcomes(campaign, customers, seed=args.seed)
    except ValueError as exc:
        print(f"{args.campaign}: {exc}", file=sys.stderr)
        return 1
    from churn.files import write_bytes

    write_bytes(out, to_csv_bytes(done))
    treat = done["group"].str.lower().eq("treatment") if "group" in done else \
        pd.Series(True, index=done.index)
    left = done["churned"].eq("Yes")
    print(f"Wrote {out}: {len(done):,} customers ({int(treat.sum()):,} treatment, "
          f"{int((~treat).sum()):,} control); simulated outcomes (seed {args.seed}): "
          f"{int(left[treat].sum()):,} treated and {int(left[~treat].sum()):,} control customers "
          f"left within {simulate.OUTCOME_WINDOW_DAYS} days. Demo only: real outcomes come from "
          f"the CRM.")
    return 0


# --- train / models ----------------------------------------------------------------------------
def _fmt(value, digits: int = 3) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def cmd_train(args) -> int:
    """Train (or load from the cache) and compare the families; exit 1 for fixable input problems.

    `--json` prints exactly {"selected", "version", "seconds", "models": {family: {roc_auc,
    pr_auc, brier, log_loss, lift_at_10, lift_at_20, ece}}} (mean 5-fold CV figures of calibrated
    out-of-fold probabilities; seconds = wall time of the command).
    """
    import time

    from churn import models
    from churn.config import paths
    from churn.validate import validate

    t0 = time.perf_counter()
    given = ",".join(models.FAMILIES) if args.models is None else args.models
    names = [n.strip() for n in given.split(",") if n.strip()]
    unknown = [n for n in names if n not in models.FAMILIES]
    if not names or unknown:
        what = ", ".join(repr(n) for n in unknown) if unknown else "none given"
        print(f"--models {args.models!r}: unknown model family ({what}); choose from "
              f"{', '.join(models.FAMILIES)}, separated by commas.", file=sys.stderr)
        return 1
    p = paths()
    if args.data:
        source = args.data
    else:
        from churn import synth

        source = str(synth.ensure_sample(p).customers_csv)
    report = validate(source, require_target=True)
    if report.fatal:
        print(f"{source}: cannot be read. {report.fatal}", file=sys.stderr)
        return 2
    if any(e.row is None and e.column == models.TARGET for e in report.errors):
        print(f"{source}: there is no Churn column, so there is nothing to learn from. Training "
              "needs Churn (Yes/No) for every customer; to score customers without it use "
              "`python -m churn score`.", file=sys.stderr)
        return 1
    if report.errors:
        print(f"{source}: {report.rejected_rows:,} of {report.rows:,} rows fail validation and are "
              "left out of training. First problems:", file=sys.stderr)
        for problem in report.errors[:5]:
            print(f"  {problem}", file=sys.stderr)
        print(f"  (full list: python -m churn validate {source})", file=sys.stderr)
    frame = report.frame.drop(columns="row")
    if frame.empty:
        print(f"{source}: no valid customer rows to train on.", file=sys.stderr)
        return 1
    config = models.TrainConfig(families=tuple(names))
    if not args.json:
        print(f"Training {', '.join(names)} with {config.folds}-fold cross-validation on "
              f"{len(frame):,} customers (cached versions load at once)…", file=sys.stderr)
    try:   # the models folder is the record of trained versions: no store needed
        result = models.train(frame, config, p.models_dir)
    except ValueError as exc:
        print(f"{source}: {exc}", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _train_uplift(p)
    seconds = round(time.perf_counter() - t0, 2)
    fams = result.metadata["families"]
    if args.json:
        out = {"selected": result.selected, "version": result.version, "seconds": seconds,
               "models": {n: {k: fams[n]["cv"].get(k) for k in models.REPORT_METRICS}
                          for n in fams}}
        print(json.dumps(models.jsonable(out)))
        return 0
    heads = ["", "family", "ROC-AUC", "PR-AUC", "Brier", "log loss", "lift@10%", "lift@20%",
             "ECE", "chosen parameters"]
    rows = []
    for n, d in fams.items():
        cv = d["cv"]
        rows.append(["*" if n == result.selected else "", n] +
                    [_fmt(cv.get(k)) for k in models.REPORT_METRICS] +
                    [", ".join(f"{k}={v}" for k, v in d["params"].items())])
    from churn.console import text_table

    print(f"Model comparison: mean of {config.folds}-fold cross-validation, calibrated "
          f"out-of-fold probabilities, {result.metadata['n_rows']:,} customers.")
    print(text_table(heads, rows))
    metric = result.metadata["selection_metric"]
    how = "loaded from the cache" if result.cached else "trained"
    from churn.metrics import LABELS

    print(f"Selected: {models.FAMILIES[result.selected].label} (best {LABELS[metric]}). "
          f"Version {result.version}, {how} in {seconds:.1f} s, now active.")
    return 0


def _train_uplift(p) -> None:
    """With a campaign history in the data folder, fit (or load from the cache) the uplift model
    the engine uses, and say on stderr what it learned."""
    from churn import uplift as U

    if not U.history_path(p).exists():
        return
    from churn.offers import load_catalogue
    from churn.scoring import uplift_part
    from churn.validate import load_customers

    try:
        model = uplift_part(p, load_customers(p.customers_csv), load_catalogue(p.catalogue))
    except (OSError, ValueError) as exc:
        print(f"warning: the uplift model was not trained: {exc}", file=sys.stderr)
        return
    assumed = [o for o in model.offers_ if o not in model.learned_]
    print(f"Uplift model ({U.LEARNERS[model.learner_]}, from {U.history_path(p)}): learned "
          f"{', '.join(model.learned_) or 'no offer'}; assumed {', '.join(assumed) or 'none'}.",
          file=sys.stderr)


def cmd_models(args) -> int:
    """List model versions (active marked with *), or `--activate ID` (unknown ID: exit 1)."""
    from churn import models
    from churn.config import paths

    folder = paths().models_dir
    if args.activate:
        try:
            warnings = models.activate(args.activate, folder)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        except models.ModelCacheError as exc:
            print(f"{exc}. Train again with `python -m churn train`.", file=sys.stderr)
            return 1
        for warning in warnings or []:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"Activated model version {args.activate}.")
        from churn import tracking

        if tracking.background():
            print(f"MLflow: alias champion of model {tracking.MODEL_NAME} moves in the "
                  f"background (log: {folder.parent / tracking.WORKER_LOG}).")
        elif tracking.enabled() and not warnings:
            print(f"MLflow: alias champion of model {tracking.MODEL_NAME} now points at it "
                  f"({tracking.tracking_uri(folder.parent)}).")
        return 0
    rows = models.list_versions(folder)
    if args.json:
        print(json.dumps(models.jsonable(rows)))
        return 0
    if not rows:
        print(f"No model versions in {folder} yet: run `python -m churn train`.")
        return 0
    heads = ["", "version", "created (UTC)", "family", "metric", "score", "rows", "MLflow run",
             "status"]
    table = [["*" if r["active"] else "", r["version"], r["created"] or "?", r["family"] or "?",
              r["selection_metric"] or "?", _fmt(r["score"]),
              f"{r['rows']:,}" if r["rows"] is not None else "?",
              (f"{r['mlflow_run']} (churn v{r['mlflow_model_version']})"
               if r.get("mlflow_model_version") else r.get("mlflow_run") or "—"),
              "ok" if r["usable"] else f"unusable: {r['problem']}"] for r in rows]
    from churn.console import text_table

    print(text_table(heads, table))
    print("* = active. Activate another with `python -m churn models --activate VERSION`.")
    return 0


# --- retrain -----------------------------------------------------------------------------------
def cmd_retrain(args) -> int:
    """One logged retraining decision (`churn.retrain.retrain`); the exit code says what
    happened: 0 promoted, 10 kept the champion, 20/21/22 skipped (unchanged data / too few rows /
    no drift with --if-drift), 2 invalid data, 1 failed. `--json` prints the decision."""
    from churn import retrain

    quiet = args.json
    try:
        decision = retrain.retrain(
            args.data, min_rows=args.min_rows, if_drift=args.if_drift,
            metric=args.promote_if_better, margin=args.margin,
            progress=None if quiet else
            lambda f, m: print(f"[{float(f):4.0%}] {m}", file=sys.stderr))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for warning in decision.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        from churn.models import jsonable

        print(json.dumps(jsonable(decision.to_dict())))
    else:
        for reason in decision.reasons[:-1]:
            print(f"  {reason}")
        print(decision.message)
    return decision.exit_code


# --- score -------------------------------------------------------------------------------------
def cmd_score(args) -> int:
    """Score a customer file in chunks (`churn.batch.score_file`); counts on stdout.

    Exit 0: done (invalid rows, if any, are in the rejects file); 1: bad arguments, a file
    without the schema's columns, or an error while scoring (nothing written); 2: the file
    cannot be read at all; 130: interrupted with Ctrl-C (nothing written).
    """
    from churn import batch
    from churn.config import paths

    def load():
        from churn.scoring import Engine

        return Engine.load(paths(), progress=lambda f, m: print(f"[{f:4.0%}] {m}",
                                                                file=sys.stderr))

    if getattr(args, "dask", None):
        from churn import distributed

        bar = distributed.ProgressLine(sys.stderr)
    else:
        bar = batch.ProgressBar(sys.stderr)
    try:
        if getattr(args, "dask", None):
            result = distributed.score_dask(args.file, args.out, args.dask, engine=load,
                                            chunk_rows=args.chunk_rows, progress=bar)
        else:
            result = batch.score_file(args.file, args.out, engine=load,
                                      chunk_rows=args.chunk_rows, progress=bar)
    except ValueError as exc:
        bar.finish()
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        bar.finish()
        print(f"Interrupted: nothing was written to {args.out} (partial files removed).",
              file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - report any failure as one line, exit 1
        bar.finish()
        print(f"Scoring {args.file} failed: {type(exc).__name__}: {exc}. Nothing was written "
              f"to {args.out} (partial files removed).", file=sys.stderr)
        return 1
    bar.finish()
    if result.problem:
        print(result.summary(), file=sys.stderr)
        return 2 if result.fatal else 1
    print(result.summary())
    if (line := _score_population(args.file)) is not None:
        print(line)
    if result.rejected:
        print(f"First rejected rows (all {result.rejected:,} with their reasons are in "
              f"{result.rejects}):")
        for line in result.first_rejects:
            print(f"  {line}")
    if result.warnings:
        print(f"Warnings ({len(result.warnings):,}{'+' if len(result.warnings) >= batch.MAX_WARNINGS else ''}"
              f"; `python -m churn validate {args.file}` lists them all):")
        for line in result.warnings[:10]:
            print(f"  {line}")
    return 0


def _score_population(path) -> str | None:
    """One line saying whether a scored file was a history (Churn column) or an active base
    (None when its header cannot be read cheaply, e.g. Excel)."""
    from pathlib import Path

    import pandas as pd

    from churn.schema import TARGET

    try:
        if Path(path).suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            columns = pq.read_schema(path).names
        elif Path(path).suffix.lower() in (".xlsx", ".xls"):
            return None
        else:
            columns = pd.read_csv(path, nrows=0, sep=None, engine="python").columns
    except Exception:  # noqa: BLE001 - the line is a courtesy; scoring already succeeded
        return None
    if TARGET in {str(c).strip() for c in columns}:
        return ("History file (it has a Churn column): every valid row is scored, including "
                "customers who have left; campaigns and risk figures use only those still "
                "active (Churn = No).")
    return "Active base (no Churn column): every valid row is a current customer."


# --- campaign ----------------------------------------------------------------------------------
def cmd_campaign(args) -> int:
    """Write the budgeted campaign list (CSV, or Excel for .xlsx) — the same bytes as the
    Retention campaign page's download for the same customers, budget and default settings."""
    from pathlib import Path

    from churn import campaign
    from churn.config import BusinessSettings, paths
    from churn.scoring import Engine

    out = Path(args.out)
    kind = {".csv": "csv", ".xlsx": "xlsx"}.get(out.suffix.lower())
    if kind is None:
        print(f"--out {args.out}: the file name must end in .csv or .xlsx.", file=sys.stderr)
        return 1
    if not args.budget >= 0:
        print(f"--budget {args.budget:g}: the budget must be 0 or more dollars.", file=sys.stderr)
        return 1
    customers = None
    if args.data:
        customers, status = _good_rows(args.data, "the campaign")
        if customers is None:
            return status
    engine = Engine.load(paths(), progress=lambda f, m: print(f"[{f:4.0%}] {m}", file=sys.stderr))
    if customers is None:
        customers = _default_active(engine)
    from churn import population

    print(population.describe(customers).line)
    customers = population.active(customers)
    settings = BusinessSettings()
    scored, ranked = campaign.campaign_inputs(engine, customers, settings)
    camp = campaign.build_campaign(scored, ranked, args.budget, control_share=args.control,
                                   seed=args.seed, business_settings=settings,
                                   model_version=engine.version)
    data = campaign.to_csv_bytes(camp.rows) if kind == "csv" else campaign.to_excel_bytes(camp.rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"Wrote {out}: {camp.customers:,} customers ({camp.treated:,} get the offer, "
          f"{camp.held_out:,} held out as control), ${camp.spent:,.2f} of the "
          f"${args.budget:,.2f} budget, expected saved revenue ${camp.expected_saved_revenue:,.2f}, "
          f"expected net value ${camp.expected_net_value:,.2f} ({campaign.GREEDY_RULE}).")
    if camp.warning:
        print(f"Warning: {camp.warning}", file=sys.stderr)
    return 0


# --- uplift ------------------------------------------------------------------------------------
def cmd_uplift(args) -> int:
    """Learn each offer's uplift from a campaign history and write it for every customer.

    OUT (CSV) has exactly the columns customerID, offer_id, uplift: one row per customer of
    CUSTOMERS (file order) and offer of the history (sorted); uplift is the learned drop in churn
    probability if the offer is made (0.05 = 5 points; negative = the offer makes leaving more
    likely), blank for offers with too little history (their assumed effect from the catalogue
    applies). Problems with the history go to stderr, one line each. `--json` prints the held-out
    evaluation (`UpliftModel.evaluation_json`) on stdout. Exit 0: written; 1: nothing to learn
    from or bad arguments; 2: a file cannot be read at all.
    """
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from churn import uplift as U
    from churn.campaign import escape_formula

    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        print(f"--out {args.out}: the file name must end in .csv.", file=sys.stderr)
        return 1
    customers, status = _good_rows(args.customers, "learning")
    if customers is None:
        return status
    try:
        history = U.read_history(args.history)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        print(f"{args.history}: cannot be read as a CSV file ({type(exc).__name__}: {exc}).",
              file=sys.stderr)
        return 2
    try:
        from churn.config import paths
        from churn.offers import load_catalogue

        catalogue_ids = load_catalogue(paths().catalogue).ids
    except (OSError, ValueError):
        catalogue_ids = None
    try:
        model = U.UpliftModel().fit(history, customers, catalogue_ids=catalogue_ids)
    except ValueError as exc:
        print(f"{args.history}: {exc}", file=sys.stderr)
        return 1
    for message in model.warnings_:
        print(f"{args.history}: {message}", file=sys.stderr)
    if not model.offers_:
        print(f"{args.history}: no usable rows, so there is nothing to learn from; "
              f"{args.out} was not written.", file=sys.stderr)
        return 1
    pred = model.predict(customers).round(6)
    ids = pd.Series(pred.index.astype(str)).map(escape_formula).to_numpy()
    offers = list(pred.columns)
    long = pd.DataFrame({U.ID: np.repeat(ids, len(offers)),
                         "offer_id": pd.Series(np.tile(np.asarray(offers, dtype=object), len(ids)),
                                               dtype=object).map(escape_formula).to_numpy(),
                         "uplift": pred.to_numpy().reshape(-1)})
    from churn.files import atomic_path

    with atomic_path(out) as tmp:
        long.to_csv(tmp, index=False, lineterminator="\n")
    learned = ", ".join(model.learned_) or "none"
    assumed = [o for o in model.offers_ if o not in model.learned_]
    if args.json:
        print(json.dumps(model.evaluation_json()))
    else:
        print(f"Wrote {out}: {len(ids):,} customers × {len(offers)} offers. Learned "
              f"({U.LEARNERS[model.learner_]}): {learned}. Assumed (too little history, uplift "
              f"left blank): {', '.join(assumed) or 'none'}.")
    return 0

def _good_rows(path, purpose: str):
    """(canonical frame of a customer file's valid rows, None), after saying on stderr how many
    rows fail validation and are left out of ``purpose``; (None, 2) when the file cannot be
    read at all (the validator's reason on stderr)."""
    from churn.validate import validate

    report = validate(path)
    if report.fatal:
        print(f"{path}: cannot be read. {report.fatal}", file=sys.stderr)
        return None, 2
    if report.errors:
        print(f"{path}: {report.rejected_rows:,} of {report.rows:,} rows fail validation and are "
              f"left out of {purpose} (run `python -m churn validate {path}` for the list).",
              file=sys.stderr)
    return report.frame.drop(columns="row"), None


def _default_active(engine):
    """The customers a decision is about when no file is given: the sample's active base when
    it exists (``Paths.active_csv``), else the training history (whose left customers
    ``population.active`` drops)."""
    from churn.config import paths

    active_csv = getattr(paths(), "active_csv", None)
    if active_csv is not None and active_csv.exists():
        from churn.validate import load_customers

        return load_customers(active_csv)
    return engine.customers


def _share(text: str) -> float:
    """--control: a share 0..0.5 (0.1) or a percentage (10%)."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share; give e.g. 0.1 or 10%.") from None
    from churn.campaign import MAX_CONTROL_SHARE

    if not 0.0 <= value <= MAX_CONTROL_SHARE:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and {MAX_CONTROL_SHARE:g} "
                                         f"(0% to {MAX_CONTROL_SHARE:.0%}).")
    return value


# --- results ----------------------------------------------------------------------------------
def cmd_results(args) -> int:
    """Measure what a campaign saved (`churn.results.measure`). Exit 0: measured; 1: measured
    with problems (rows left out, no control group, groups too small); 2: unreadable file."""
    from churn import results

    campaign_rows, campaign_id, date = None, None, None
    if args.campaign:
        from churn.campaign import CAMPAIGN_COLUMNS

        frame, problem = results.read_outcomes(args.campaign)
        if problem is not None:
            print(f"--campaign: {problem}", file=sys.stderr)
            return 2
        campaign_rows = frame[[c for c in frame.columns if c in CAMPAIGN_COLUMNS]]
    elif args.saved is not None:
        from churn import campaign
        from churn.config import paths
        from churn.store import Store

        try:
            camp = campaign.reopen_campaign(Store(paths().store), args.saved)
        except ValueError as exc:
            print(f"--saved {args.saved}: {exc}", file=sys.stderr)
            return 1
        campaign_rows, campaign_id = camp.rows, f"saved-{args.saved}"
        date = camp.settings.get("date")
    r = results.measure_file(args.file, campaign_rows)
    if args.json:
        print(json.dumps(r.to_dict(), ensure_ascii=False, default=float))
    else:
        _print_results(r)
    if r.fatal:
        if not args.json:
            print(r.fatal, file=sys.stderr)
        return 2
    if args.record:
        from datetime import datetime, timezone
        from pathlib import Path

        from churn.config import paths
        from churn.store import Store

        rows = results.history_rows(
            r, campaign_id or Path(args.file).stem,
            date or datetime.now(timezone.utc).strftime("%Y-%m-%d"))
        total = Store(paths().store).append_campaign_history(rows)
        print(f"Added {len(rows):,} outcomes to the campaign history ({total:,} rows in all).",
              file=sys.stderr if args.json else sys.stdout)
    return 1 if r.problems else 0


def _print_results(r) -> None:
    from churn import results

    o = r.overall
    print(f"Counted {r.rows_used:,} of {r.rows_read:,} rows.")
    for p in r.problems:
        print(f"Problem: {p}")
    if o is None:
        return
    print(results.plain_summary(r))
    pct = lambda v: "—" if v is None else f"{v:.1%}"  # noqa: E731
    money = lambda v: "—" if v is None else f"${v:,.0f}"  # noqa: E731
    print(f"Treatment: {o.n_treatment:,} customers, {o.churned_treatment:,} left "
          f"({pct(o.rate_treatment)}); control: {o.n_control:,} customers, "
          f"{o.churned_control:,} left ({pct(o.rate_control)}).")
    if o.measured:
        print(f"Uplift {o.uplift * 100:+.1f} points, 95% CI [{o.ci95[0] * 100:+.1f}, "
              f"{o.ci95[1] * 100:+.1f}] ({results.METHOD}).")
        if o.saved_value is not None:
            print(f"Saved value {money(o.saved_value)} (95% CI {money(o.saved_value_ci[0])} to "
                  f"{money(o.saved_value_ci[1])}); cost {money(o.cost)}; ROI "
                  f"{pct(o.roi)} (95% CI {pct(o.roi_ci[0]) if o.roi_ci else '—'} to "
                  f"{pct(o.roi_ci[1]) if o.roi_ci else '—'}).")
    if o.predicted_uplift is not None:
        print(f"Predicted by the campaign: uplift {o.predicted_uplift * 100:+.1f} points, "
              f"{o.predicted_saved_customers:,.1f} customers, "
              f"{money(o.predicted_saved_value)} saved.")
    for title, items in (("By offer", r.by_offer), ("By risk tier", r.by_tier)):
        if not items:
            continue
        print(f"{title}:")
        for m in items:
            head = f"  {m.label}: treatment {m.n_treatment:,}, control {m.n_control:,}"
            if m.measured:
                print(f"{head}, uplift {m.uplift * 100:+.1f} points "
                      f"[{m.ci95[0] * 100:+.1f}, {m.ci95[1] * 100:+.1f}]")
            else:
                print(f"{head}: {m.note}")


# --- bench -------------------------------------------------------------------------------------
def cmd_bench(args) -> int:
    """Run every benchmark (`churn.bench.run`) and print the table; exit 0 whatever the figures
    (benchmarks are not tests), 1 only when the runner itself fails."""
    from churn import bench

    try:
        bench.run(quick=args.quick, as_json=args.json)
    except KeyboardInterrupt:
        print("Interrupted: the benchmark results were not written.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the runner broke: say so in one line
        print(f"The benchmark runner failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


# --- api ---------------------------------------------------------------------------------------
def cmd_api(args) -> int:
    """Serve the REST API (uvicorn), or print a new key (`--new-key NAME`). The `api` package is
    imported here only, so the core never imports fastapi."""
    if args.new_key:
        from api.security import keys_file_entry, new_key

        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        key = new_key()
        print(f"Key for {args.new_key} (shown once; give it to the client):\n  {key}\n"
              f"Add this to the keys file (CHURN_API_KEYS_FILE):\n")
        print(keys_file_entry(args.new_key, key, scopes))
        return 0
    from api.server import serve

    return serve(args.host, args.port, insecure_local=args.insecure_local)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m churn", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="data folder (default: $CHURN_DATA_DIR or ./data)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="generate a sample in the Telco schema")
    s.add_argument("--rows", type=int, default=7043)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--out", required=True, help="output folder")
    s.set_defaults(func=cmd_synth)

    s = sub.add_parser("validate", help="check a customer file or a campaign history and report "
                                        "every problem")
    s.add_argument("file")
    s.add_argument("--json", action="store_true")
    s.add_argument("--kind", choices=("auto", "customers", "history"), default="auto",
                   help="auto: a header with campaign_id and group is a campaign history")
    s.add_argument("--customers", help="history only: customer file whose IDs the history must "
                                       "use (default: IDs not checked)")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("simulate-outcomes", help="DEMO ONLY: fill in accepted/churned of an "
                                                 "exported campaign from the sample's hidden model")
    s.add_argument("campaign", help="exported campaign (.csv or .xlsx)")
    s.add_argument("--out", required=True, help="output CSV")
    s.add_argument("--customers", help="customer file of the campaign's customers (default: the "
                                       "sample's active base, then its history)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_simulate_outcomes)

    s = sub.add_parser("train", help="train (or load from cache) and compare the model families")
    s.add_argument("--data", help="customer file with Churn (default: the sample)")
    s.add_argument("--models", help="model families to compare, separated by commas, e.g. "
                                    "lr,xgb (default: every family; a wrong name lists them)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("models", help="list model versions, or activate one")
    s.add_argument("--activate", metavar="ID")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_models)

    s = sub.add_parser("retrain", help="one logged retraining decision (for cron); the exit "
                       "code says what happened",
                       description=cmd_retrain.__doc__)
    s.add_argument("--data", help="customer file with Churn (default: the workbench customers)")
    s.add_argument("--min-rows", type=int, default=1000,
                   help="skip with fewer valid labelled customers (default 1000)")
    s.add_argument("--if-drift", action="store_true",
                   help="retrain only when some feature has shifted (PSI >= 0.1)")
    s.add_argument("--promote-if-better", metavar="METRIC", default="pr_auc",
                   help="metric the challenger must beat the champion on (default pr_auc)")
    s.add_argument("--margin", type=float, default=0.005,
                   help="by how much, in the metric's units (default 0.005)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_retrain)

    s = sub.add_parser("score", help="score a customer file of any size, in chunks")
    s.add_argument("file")
    s.add_argument("--out", required=True, help="output file (.csv or .parquet)")
    s.add_argument("--chunk-rows", type=int, default=100_000)
    s.add_argument("--dask", metavar="ADDRESS",
                   help="score on a Dask cluster: tcp://HOST:PORT of a scheduler, or local[:N] "
                        "for N local workers; FILE may then be a folder or glob of Parquet "
                        "files, and OUT is Parquet (a folder for a folder input)")
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("campaign", help="build a budgeted retention campaign list")
    s.add_argument("--data", help="customer file (default: the sample)")
    s.add_argument("--budget", type=float, required=True, help="dollars")
    s.add_argument("--out", required=True, help="output file (.csv or .xlsx)")
    s.add_argument("--control", type=_share, default=0.10, metavar="SHARE",
                   help="share of the list held out as a control group to measure the effect "
                        "(0.1 or 10%%; 0 allowed, then results cannot be measured; default 0.1)")
    s.add_argument("--seed", type=int, default=0, help="seed of the control draw (default 0)")
    s.set_defaults(func=cmd_campaign)

    s = sub.add_parser("uplift", help="learn what each offer really does from a campaign history")
    s.add_argument("--history", required=True, help="campaign history CSV (treatment/control)")
    s.add_argument("--customers", required=True, help="customer file (features, by customerID)")
    s.add_argument("--out", required=True, help="output CSV: customerID, offer_id, uplift")
    s.add_argument("--json", action="store_true", help="print the held-out evaluation as JSON")
    s.set_defaults(func=cmd_uplift)

    s = sub.add_parser("results", help="measure what a campaign saved, from its outcomes")
    s.add_argument("file", help="the exported campaign with churned (and optionally accepted) "
                                "filled in, CSV or .xlsx")
    s.add_argument("--campaign", metavar="CAMPAIGN_FILE",
                   help="the exported campaign, when FILE holds only customerID, churned, "
                        "accepted")
    s.add_argument("--saved", type=int, metavar="ID",
                   help="a campaign saved in the store (its id), instead of --campaign")
    s.add_argument("--record", action="store_true",
                   help="add the outcomes to the campaign history (trains the next model)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_results)

    s = sub.add_parser("api", help="serve the REST API (uvicorn)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--insecure-local", action="store_true",
                   help="serve without keys when none is configured; binds 127.0.0.1 only")
    s.add_argument("--new-key", metavar="NAME", help="print a new random key and its keys-file "
                                                     "entry, then exit")
    s.add_argument("--scopes", default="read,score", help="scopes of --new-key (read,score,admin)")
    s.set_defaults(func=cmd_api)

    s = sub.add_parser("bench", help="run every benchmark and print figures against targets")
    s.add_argument("--quick", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir:
        import os

        os.environ["CHURN_DATA_DIR"] = args.data_dir
    return int(args.func(args) or 0)
