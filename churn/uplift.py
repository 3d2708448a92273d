"""What each retention offer really does for whom: uplift models learned from campaign history.

Why: the catalogue's ``risk_reduction`` assumes an offer cuts every customer's churn risk by the
same share. Randomised campaign history (treatment and control groups, see ``churn.history``)
shows what it really did: some customers stay anyway, some leave anyway, some are pushed out by
the contact. :class:`UpliftModel` learns, per offer, the **drop in churn probability if the offer
is made** (intention to treat: offered, whether or not accepted), per customer, from the
customers' own features.

Units: an uplift of 0.05 means the offer lowers this customer's probability of leaving within the
outcome window by 5 percentage points; a negative uplift means the offer makes leaving *more*
likely ("sleeping dog": leave them alone).

Learners (boosted trees: XGBoost on the schema's one-hot encoding, ``models.SchemaEncoder``; the
same features as the churn models, never customerID):

- ``"t"`` **T-learner**: one classifier of P(churn | not contacted) fitted on every control row
  (control outcomes do not depend on which offer was withheld, so the control rows of all offers
  are pooled), and one classifier of P(churn | offered) per offer on that offer's treated rows.
  uplift = P(churn | control) − P(churn | offered).
- ``"x"`` **X-learner** (Künzel et al. 2019): the T-learner's two models impute each customer's
  own effect (treated: P̂(churn | control) − churned; control: churned − P̂(churn | offered)), a
  regression tree ensemble learns each imputed effect from the features, and the two are blended
  by the share of treated rows: uplift = g × τ_control(x) + (1 − g) × τ_treated(x). It suits
  histories where one group is much larger than the other, as with a 10% control share.
- ``"r"`` **T-learner on the control risk**: the offered model starts from the control model's
  log-odds for the customer (XGBoost's base margin) and its trees learn only how the offer moves
  them. uplift = σ(m₀(x)) − σ(m₀(x) + δ(x)), with m₀ the control model's log-odds and δ the
  offer's trees. Each offer's few thousand treated rows then estimate only a *change*, not the
  whole risk surface again: the same idea as the S-learner's shared model, keeping a separate
  effect per offer.
- ``"e"`` **the average of the three**: uplift = the mean of the T-, X- and control-risk
  learners' predictions. Each of the three is noisy in its own way (two separately fitted
  probabilities, imputed effects, a change fitted on one offer's rows); averaging them cuts the
  variance that dominates with a few thousand treated customers per offer.
- ``"auto"`` (default) **cross-fits** all four: the history's customers are split into ``folds``
  parts (by customer, so nobody is in two parts); each part is scored by models fitted on the
  other parts, so every customer gets an out-of-fold prediction from models that never saw them.
  The learner with the highest mean out-of-fold Qini coefficient over the learned offers is kept
  and refitted on all rows. The out-of-fold figures stay in ``evaluation_`` and ``heldout_``. All
  customers held out once, rather than one 30% part: on the sample the four learners' Qini
  differ by about 0.002, which one 30% part cannot tell apart (its noise is about as large).

XGBoost settings: the not-offered (control) model, fitted on every control row, has depth 3 and
100 rounds at 0.1 (``max_depth``, ``n_estimators``); each offer's own models (the T-learner's
offered model, the X-learner's effect regressions, the control-risk learner's trees) have depth 2
and 40 rounds (``effect_max_depth``, ``effect_n_estimators``). On the sample's history the
cross-fitted Qini is higher with the smaller offer models than with depth 3 and 100 rounds for
every learner (T 0.0188 against 0.0155, X 0.0182 against 0.0141, control risk 0.0179 against
0.0142; on a second sample drawn with another seed, 0.0176 / 0.0192 / 0.0192 against 0.0145 /
0.0152 / 0.0137; 2026-12-01): an offer's 1,000-4,000 treated customers with yes/no outcomes
support only a few simple splits. A larger history may support deeper trees.

Minimum history: an offer is **learned** only with at least ``min_treated`` treated and
``min_control`` control rows with a known outcome (default 300 and 300: below that the held-out
Qini of an offer is mostly noise). Other offers are **assumed**: the ranking falls back to the
catalogue's risk reduction (``campaign.rank_offers``). Bad history never raises: each problem
becomes one message in ``warnings_`` and the rows that are fine are used.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from churn import schema
from churn import uplift_metrics as UM

ID = schema.ID

#: Columns the model reads from a campaign history (others, e.g. campaign_id, date, are ignored).
NEEDED_COLUMNS = [ID, "offer_id", "group", "churned"]
MIN_TREATED = 300
MIN_CONTROL = 300
LEARNERS = {"t": "T-learner (two models)", "x": "X-learner",
            "r": "T-learner on the control risk (offset)",
            "e": "average of the T-, X- and control-risk learners"}
#: The learners the average ("e") is made of.
_PARTS = ("t", "x", "r")
LEARNED, ASSUMED = "learned", "assumed"
#: Share of a policy's targets in :func:`policy_value` (the top 20%).
POLICY_SHARE = 0.20
_YES = {"yes", "1", "true", "y"}
_NO = {"no", "0", "false", "n"}


_PREDICTOR_LOCK = threading.Lock()


def _predictor(booster, threads: int, copies: dict | None):
    """``booster`` set to predict with ``threads`` threads: a copy, made once per booster and
    thread count and kept in ``copies``. Setting a parameter of a booster while another thread
    predicts with it makes XGBoost fail ("need_configuration_": 11 of 200 requests of 20
    concurrent API clients answered 500), so the shared boosters are never changed."""
    key = (id(booster), threads)
    found = None if copies is None else copies.get(key)
    if found is None:
        with _PREDICTOR_LOCK:
            found = None if copies is None else copies.get(key)
            if found is None:
                found = booster.copy()
                found.set_param({"nthread": threads})
                if copies is not None:
                    copies[key] = found
    return found


#: Rows below which `_booster_predict` calls XGBoost's predictor directly.
_DIRECT_ROWS = 64
_PREDICT_CONFIG: dict[bool, bytes] = {}


def _booster_predict(booster, dm, margin: bool = False) -> np.ndarray:
    """``booster.predict(dm, output_margin=margin)`` (float32, one value a row).

    For a few rows the same XGBoost C predictor is called without the Python wrapper's
    per-call work (feature-name checks, a JSON config, a class built to read the output): 16
    boosters of one customer take about 1 ms instead of about 5 ms, with the same numbers
    (`tests/test_predict_parts.py`). Many rows, or an XGBoost without these internals, take
    the public call."""
    if dm.num_row() >= _DIRECT_ROWS:
        return booster.predict(dm, output_margin=margin)
    import ctypes
    import json

    try:
        from xgboost import core
        lib, check, to_cstr, ulong = (core._LIB, core._check_call, core.from_pystr_to_cstr,
                                      core.c_bst_ulong)
    except (ImportError, AttributeError):  # pragma: no cover - a different XGBoost layout
        return booster.predict(dm, output_margin=margin)
    config = _PREDICT_CONFIG.get(margin)
    if config is None:
        config = _PREDICT_CONFIG[margin] = to_cstr(json.dumps({
            "type": 1 if margin else 0, "training": False, "iteration_begin": 0,
            "iteration_end": 0, "strict_shape": False}))
    preds = ctypes.POINTER(ctypes.c_float)()
    shape = ctypes.POINTER(ulong)()
    dims = ulong()
    check(lib.XGBoosterPredictFromDMatrix(
        booster.handle, dm.handle, config, ctypes.byref(shape), ctypes.byref(dims),
        ctypes.byref(preds)))
    n = 1
    for i in range(dims.value):
        n *= int(shape[i])
    return np.ctypeslib.as_array(preds, shape=(n,)).copy()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Probability from log-odds, as XGBoost's logistic objective computes it."""
    return 1.0 / (1.0 + np.exp(-z))


def heldout_calibration(heldout: dict, learner: str) -> float:
    """How much to scale predicted uplift so that it does not promise more than it delivers.

    heldout: per learned offer ``{"churned", "treated", "scores": {learner: predicted uplift}}``
    of the held-out customers (the models that scored them never saw them). Returns
    Σ_offers n_treated × observed uplift / Σ_offers n_treated × mean predicted uplift of the
    treated, where observed uplift = control churn rate − treated churn rate of the offer's
    held-out customers, clipped to 0..1: predictions are only ever shrunk (calibration in the
    large, pooled over offers because one offer's few hundred held-out customers measure its
    uplift too loosely). 1.0 when there is nothing to compare or the predictions do not
    overstate. Ranking by uplift is unchanged (one factor for every customer and offer).
    """
    observed = predicted = 0.0
    for h in heldout.values():
        y, w = np.asarray(h["churned"], dtype=float), np.asarray(h["treated"])
        s = np.asarray(h["scores"][learner], dtype=float)
        nt, nc = int((w == 1).sum()), int((w == 0).sum())
        if nt == 0 or nc == 0:
            continue
        observed += nt * (y[w == 0].mean() - y[w == 1].mean())
        predicted += nt * s[w == 1].mean()
    if predicted <= 0 or not np.isfinite(predicted) or not np.isfinite(observed):
        return 1.0
    return float(np.clip(observed / predicted, 0.0, 1.0))


def _booster_params(objective: str, p: "UpliftModel", n_rows: int, depth: int) -> dict:
    """XGBoost settings of every model. One thread while fitting: the per-offer models are
    small, and on a busy machine OpenMP barriers make two threads many times slower than one."""
    return {"objective": objective, "tree_method": "hist", "max_depth": int(depth),
            "eta": float(p.learning_rate), "min_child_weight": float(p.min_child_weight),
            "lambda": 5.0, "nthread": 1, "seed": int(p.seed),
            "verbosity": 0}


def _fold_mean(churned, treated, score, fold) -> dict:
    """``uplift_metrics.evaluate`` within each fold, averaged over the folds that have both
    treated and control customers (NaN figures left out of the mean)."""
    figures = []
    for f in np.unique(fold):
        k = fold == f
        if treated[k].any() and not treated[k].all():
            figures.append(UM.evaluate(churned[k], treated[k], score[k]))
    nan = float("nan")
    return {key: (float(np.nanmean([x[key] for x in figures]))
                  if any(np.isfinite(x[key]) for x in figures) else nan)
            for key in ("qini", "auuc", "uplift_at_10", "uplift_at_20")}


class UpliftModel:
    """Per-offer uplift (drop in churn probability if offered) learned from campaign history.

    Parameters (stored as given; checked by ``fit``):
      learner: "auto" (keep the best of "t", "x", "r" and "e" by cross-fitted Qini), "t", "x",
        "r" or "e".
      min_treated, min_control: rows with a known outcome an offer needs to be learned.
      folds: parts the history's customers are split into to evaluate (whole number >= 2): each
        part is scored by models fitted on the others.
      seed: random seed of the split and the trees.
      max_depth, n_estimators: XGBoost depth and rounds of the not-offered (control) model.
      effect_max_depth, effect_n_estimators: the same for each offer's own models (smaller: an
        offer has fewer rows and a weaker signal; see the module docstring).
      learning_rate, min_child_weight: XGBoost settings of every model.
      n_jobs: threads for large fits and for scoring.

    Learned state (after ``fit``):
      offers_: every offer id in the history (sorted). learned_: those with enough history.
      status_: DataFrame[offer_id, basis ("learned"/"assumed"), treated, control, in_catalogue,
        reason] — why each offer is learned or assumed.
      learner_: the learner kept ("t"/"x"/"r"/"e"); evaluation_: out-of-fold figures per offer
        (see :meth:`evaluation_json`); heldout_: per learned offer the outcomes and every
        ranking's out-of-fold scores (for :meth:`qini_curves`); models_: the kept learner refitted on all
        rows; warnings_: messages about the history (bad rows, offers that fall back).
      n_rows_: rows used. control_rate_: churn rate of all control rows (0..1).
      calibration_: the factor (0..1) every predicted uplift is multiplied by, so that on the
        out-of-fold predictions add up to the uplift actually observed (see
        :func:`heldout_calibration`); 1 when nothing says they overstate.
    """

    def __init__(self, learner: str = "auto", min_treated: int = MIN_TREATED,
                 min_control: int = MIN_CONTROL, folds: int = 3, seed: int = 0,
                 max_depth: int = 3, learning_rate: float = 0.1, n_estimators: int = 100,
                 effect_max_depth: int = 2, effect_n_estimators: int = 40,
                 min_child_weight: float = 10.0, n_jobs: int = 2):
        self.learner = learner
        self.min_treated = min_treated
        self.min_control = min_control
        self.folds = folds
        self.seed = seed
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.effect_max_depth = effect_max_depth
        self.effect_n_estimators = effect_n_estimators
        self.min_child_weight = min_child_weight
        self.n_jobs = n_jobs

    # --- checking -------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.learner not in ("auto", *LEARNERS):
            raise ValueError(f"learner={self.learner!r} must be 'auto', 't' (T-learner), "
                             "'x' (X-learner), 'r' (T-learner on the control risk) or 'e' "
                             "(their average).")
        for name in ("min_treated", "min_control"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name}={v!r} must be a whole number of rows, at least 1.")
        if isinstance(self.folds, bool) or not isinstance(self.folds, (int, np.integer)) \
                or self.folds < 2:
            raise ValueError(f"folds={self.folds!r} must be a whole number of at least 2 (e.g. "
                             "3: each customer is held out once, scored by models fitted on the "
                             "other two thirds).")

    @staticmethod
    def check_history(history: pd.DataFrame, customers: pd.DataFrame,
                      catalogue_ids=None) -> tuple[pd.DataFrame, list[str]]:
        """The usable rows of a campaign history, and a message for every problem.

        history: one row per customer per campaign, with at least ``NEEDED_COLUMNS`` (group
        ``treatment``/``control``, churned Yes/No or blank while unknown). customers: canonical
        frame with every history customer's features. catalogue_ids: offer ids of the catalogue
        (None: not checked).
        Returns (rows [customerID, offer_id, treated 0/1, churned 0/1], messages). Raises
        ValueError only when the frame cannot be a history at all (not a frame, missing columns).
        Rows with an unknown group, an unreadable or blank outcome, or a customer missing from
        ``customers`` are left out, each kind with one message giving the count and first rows
        (as a spreadsheet counts them: header = row 1).
        """
        if not isinstance(history, pd.DataFrame):
            raise ValueError("history must be a table (DataFrame) of campaign rows.")
        missing = [c for c in NEEDED_COLUMNS if c not in history.columns]
        if missing:
            raise ValueError(f"the campaign history has no {', '.join(missing)} column(s); it "
                             f"needs {', '.join(NEEDED_COLUMNS)} (one row per customer per "
                             "campaign).")
        messages: list[str] = []
        h = history.reset_index(drop=True)
        rows = np.arange(len(h)) + 2
        cust = h[ID].astype(str).str.strip()
        offer = h["offer_id"].fillna("").astype(str).str.strip()
        group = h["group"].fillna("").astype(str).str.strip().str.lower()
        out = h["churned"].fillna("").astype(str).str.strip().str.lower()
        keep = np.ones(len(h), dtype=bool)

        def drop(mask, text):
            nonlocal keep
            mask = np.asarray(mask) & keep
            if mask.any():
                first = ", ".join(str(r) for r in rows[mask][:5])
                messages.append(f"{int(mask.sum()):,} row(s) {text} and are left out "
                                f"(first rows: {first}).")
                keep &= ~mask

        drop(offer.eq("").to_numpy(), "have no offer_id")
        drop(~group.isin(["treatment", "control"]).to_numpy(),
             "have a group other than treatment or control")
        drop(out.eq("").to_numpy(), "have no churned outcome yet (blank while unknown)")
        drop(~out.isin(_YES | _NO).to_numpy(), "have a churned value other than Yes or No")
        known = pd.Index(customers[ID].astype(str))
        drop(~cust.isin(known).to_numpy(), "name a customer who is not in the customer file")
        used = pd.DataFrame({ID: cust[keep].to_numpy(), "offer_id": offer[keep].to_numpy(),
                             "treated": (group[keep] == "treatment").to_numpy().astype(np.int8),
                             "churned": out[keep].isin(_YES).to_numpy().astype(np.int8)})
        if len(used) and not used["treated"].eq(0).any():
            messages.append("The campaign history has no control rows (group = control): "
                            "without a randomised control group no offer's effect can be "
                            "learned, so every offer uses its assumed effect from the catalogue.")
        if catalogue_ids is not None:
            cat = {str(c) for c in catalogue_ids}
            for o in sorted(set(used["offer_id"]) - cat):
                messages.append(f"Offer {o!r} is in the campaign history but not in the offer "
                                "catalogue: its effect is modelled anyway, but it cannot be "
                                "offered until it is added to offers.toml.")
        return used, messages

    # --- fitting --------------------------------------------------------------------------------
    def fit(self, history: pd.DataFrame, customers: pd.DataFrame,
            catalogue_ids=None) -> "UpliftModel":
        """Learn each offer's uplift from randomised history.

        history: campaign history (``check_history``); customers: canonical frame holding the
        features of every history customer (joined by customerID); catalogue_ids: the offer
        catalogue's ids, to report history offers that are not in it (None: not checked).
        Never raises for bad rows or offers without enough history (see ``warnings_`` and
        ``status_``); raises ValueError for bad parameters or a frame that is not a history.
        """
        self._check_params()
        if not isinstance(customers, pd.DataFrame) or ID not in customers.columns:
            raise ValueError("customers must be a canonical frame with a customerID column.")
        cust = customers.drop_duplicates(ID).copy()
        cust[ID] = cust[ID].astype(str)
        rows, messages = self.check_history(history, cust, catalogue_ids)
        self._fit(rows, cust.set_index(ID, drop=False), messages,
                  None if catalogue_ids is None else {str(c) for c in catalogue_ids})
        return self

    def _status(self, rows: pd.DataFrame, catalogue: set | None, messages: list[str]):
        n_control_all = int((rows["treated"] == 0).sum())
        status = []
        for o in sorted(rows["offer_id"].unique()):
            r = rows[rows["offer_id"] == o]
            nt, nc = int(r["treated"].sum()), int((r["treated"] == 0).sum())
            ok = nt >= self.min_treated and nc >= self.min_control
            if ok:
                reason = (f"learned from {nt:,} treated and {nc:,} control customers")
            else:
                reason = (f"{nt:,} treatment and {nc:,} control rows with a known outcome; at "
                          f"least {self.min_treated:,} and {self.min_control:,} are needed to "
                          "learn its effect, so its assumed effect from the catalogue is used")
                if n_control_all > 0:
                    messages.append(f"Offer {o!r}: {reason}.")
            status.append({"offer_id": o, "basis": LEARNED if ok else ASSUMED, "treated": nt,
                           "control": nc,
                           "in_catalogue": True if catalogue is None else o in catalogue,
                           "reason": reason})
        return pd.DataFrame(status, columns=["offer_id", "basis", "treated", "control",
                                             "in_catalogue", "reason"])

    def _fit(self, rows: pd.DataFrame, cust: pd.DataFrame, messages: list[str],
             catalogue: set | None) -> None:
        from churn.models import SchemaEncoder

        self.warnings_ = messages
        self.status_ = self._status(rows, catalogue, messages)
        self.offers_ = self.status_["offer_id"].tolist()
        self.learned_ = self.status_.loc[self.status_["basis"] == LEARNED, "offer_id"].tolist()
        self.n_rows_ = int(len(rows))
        control = rows["treated"] == 0
        self.control_rate_ = float(rows.loc[control, "churned"].mean()) if control.any() else float("nan")
        self.encoder_ = SchemaEncoder(scale=False).fit(schema.feature_frame(cust))
        self.evaluation_ = {}
        self.heldout_ = {}
        self.learner_ = "t" if self.learner == "auto" else self.learner
        self.models_ = {}
        self.calibration_ = 1.0
        if not self.learned_:
            return
        rows = rows[rows["offer_id"].isin(self.learned_) | (rows["treated"] == 0)]
        rows = rows.reset_index(drop=True)
        Z = self.encoder_.transform(schema.feature_frame(cust.loc[rows[ID]])).astype(np.float32)
        learners = list(LEARNERS) if self.learner == "auto" else [self.learner]
        self._evaluate(rows, *self._cross_fit(learners, rows, Z))
        if self.learner == "auto":
            mean_qini = {lr: np.nanmean([self.evaluation_[o][lr]["qini"] for o in self.learned_])
                         for lr in learners}
            self.learner_ = max(learners, key=lambda lr: (np.nan_to_num(mean_qini[lr], nan=-1e9),
                                                          lr == "t"))
        self.calibration_ = heldout_calibration(self.heldout_, self.learner_)
        self.models_ = self._fit_learners([self.learner_], rows, Z)[self.learner_]

    def _train(self, Z, y, objective: str, margin: np.ndarray | None = None,
               effect: bool = True):
        """One booster; ``margin``: log-odds each row starts from (the "r" learner's offset),
        with the booster's own intercept fixed at 0 log-odds so that its trees are the change.
        ``effect``: an offer's own model (``effect_*`` settings), else the control model."""
        import xgboost as xgb

        dm = xgb.DMatrix(Z, label=y, nthread=1, base_margin=margin)
        depth, rounds = ((self.effect_max_depth, self.effect_n_estimators) if effect
                         else (self.max_depth, self.n_estimators))
        params = _booster_params(objective, self, len(y), depth)
        if margin is not None:
            params["base_score"] = 0.5
        booster = xgb.train(params, dm, num_boost_round=int(rounds))
        booster.set_param({"nthread": int(self.n_jobs)})
        return booster

    def _cross_fit(self, learners, rows: pd.DataFrame, Z: np.ndarray):
        """Out-of-fold predictions: ({learner: {offer: uplift per row}}, risk per row, fold per
        row), each row scored by models fitted on the other folds. Folds are drawn by customer (``seed``), so a
        customer's rows are all in one fold."""
        import xgboost as xgb

        ids = np.array(sorted(rows[ID].unique()))
        fold_of = pd.Series(np.random.default_rng(self.seed).permutation(len(ids)) % int(self.folds),
                            index=ids)
        fold = fold_of.loc[rows[ID]].to_numpy()
        effects = {lr: {o: np.full(len(rows), np.nan) for o in self.learned_} for lr in learners}
        risk = np.full(len(rows), np.nan)
        for f in range(int(self.folds)):
            out = fold == f
            if not out.any() or out.all():
                continue
            fitted = self._fit_learners(learners, rows[~out], Z[~out])
            dm = xgb.DMatrix(Z[out], nthread=1)
            risk[out] = fitted[learners[0]]["control"].predict(dm)
            for lr in learners:
                for o, v in self._effects(fitted[lr], dm, self.learned_).items():
                    effects[lr][o][out] = v
        return effects, risk, fold

    def _fit_learners(self, learners, rows: pd.DataFrame, Z: np.ndarray) -> dict:
        """{learner: {"learner", "control": booster, offer: booster (t, r) or (tau0, tau1, g)
        (x)}}; the average ("e") holds its three parts: {"learner": "e", "control", "parts":
        [t, x, r]}.

        The learners share their first stage (the pooled control model, and each offer's treated
        model for T and X), so fitting all of them costs little more than the X-learner alone.
        """
        import xgboost as xgb

        wanted = learners
        if "e" in learners:
            learners = list(dict.fromkeys([lr for lr in learners if lr != "e"] + list(_PARTS)))

        w = rows["treated"].to_numpy()
        y = rows["churned"].to_numpy().astype(np.float32)
        offer = rows["offer_id"].to_numpy()
        c = w == 0
        control = self._train(Z[c], y[c], "binary:logistic", effect=False)
        out = {lr: {"learner": lr, "control": control} for lr in learners}
        d_c = xgb.DMatrix(Z[c], nthread=1) if "x" in learners else None
        m0 = control.predict(xgb.DMatrix(Z, nthread=1), output_margin=True) \
            if "r" in learners else None
        for o in self.learned_:
            t = (w == 1) & (offer == o)
            if "r" in out:
                out["r"][o] = self._train(Z[t], y[t], "binary:logistic", margin=m0[t])
            if "t" not in out and "x" not in out:
                continue
            mu1 = self._train(Z[t], y[t], "binary:logistic")
            if "t" in out:
                out["t"][o] = mu1
            if "x" in out:
                imputed_t = control.predict(xgb.DMatrix(Z[t], nthread=1)) - y[t]  # P̂(churn|control) − y
                imputed_c = y[c] - mu1.predict(d_c)                               # y − P̂(churn|offered)
                tau1 = self._train(Z[t], imputed_t, "reg:squarederror")
                tau0 = self._train(Z[c], imputed_c, "reg:squarederror")
                out["x"][o] = (tau0, tau1, float(t.sum()) / float(t.sum() + c.sum()))
        if "e" in wanted:
            out["e"] = {"learner": "e", "control": control, "parts": [out[lr] for lr in _PARTS]}
        return {lr: out[lr] for lr in wanted}

    @staticmethod
    def _effects(models: dict, dm, offers, threads: int | None = None,
                 copies: dict | None = None, m0: np.ndarray | None = None) -> dict:
        """{offer: uplift array} for a DMatrix (drop in churn probability, 0..1 scale).

        threads: prediction threads of every booster used (None: as they are). One thread for a
        few rows: a single customer's prediction takes about 0.1 ms instead of about 12 ms,
        which is spent starting and joining a thread pool on a busy machine. The boosters are
        never changed: each thread count gets its own copy (`_predictor`), kept in ``copies``.
        m0: the control model's log-odds for these rows when already computed (the average
        computes them once for its T- and control-risk parts: the control model is the largest
        booster)."""
        def predict(booster, margin: bool = False):
            if threads is not None:
                booster = _predictor(booster, int(threads), copies)
            return _booster_predict(booster, dm, margin).astype(np.float64)

        if models["learner"] == "e":
            m0 = predict(models["control"], margin=True)
            parts = [UpliftModel._effects(m, dm, offers, threads, copies, m0)
                     for m in models["parts"]]
            return {o: np.mean([p[o] for p in parts], axis=0) for o in offers}
        out = {}
        base = None
        for o in offers:
            m = models[o]
            if models["learner"] == "t":
                if base is None:
                    base = predict(models["control"]) if m0 is None else _sigmoid(m0)
                out[o] = base - predict(m)
            elif models["learner"] == "r":
                if base is None:
                    if m0 is None:
                        m0 = predict(models["control"], margin=True)
                    base = _sigmoid(m0)
                out[o] = base - _sigmoid(m0 + predict(m, margin=True))
            else:
                tau0, tau1, g = m
                out[o] = g * predict(tau0) + (1.0 - g) * predict(tau1)
        return out

    def _evaluate(self, rows: pd.DataFrame, effects: dict, risk: np.ndarray,
                  fold: np.ndarray) -> None:
        """Out-of-fold figures of every learner (``effects``: {learner: {offer: uplift per
        row}}), of risk-only targeting (``risk``: the control model's P(churn | not contacted),
        what a churn model predicts) and of random targeting, per learned offer (on that offer's
        treated and control rows). Each figure is computed within each fold, where one model
        ranks the customers it scores, and averaged over the folds, as cross-validation does:
        pooling the folds would interleave rankings of different models whose scales differ.
        Rows without an out-of-fold score are left out."""
        fitted = list(effects)
        scored = np.isfinite(risk)
        test = rows[scored]
        risk = risk[scored]
        fold = np.asarray(fold)[scored]
        effects = {lr: {o: v[scored] for o, v in e.items()} for lr, e in effects.items()}
        offer = test["offer_id"].to_numpy()
        for o in self.learned_:
            sel = offer == o
            y = test["churned"].to_numpy()[sel]
            w = test["treated"].to_numpy()[sel]
            f = fold[sel]
            ev = {"test_treated": int(w.sum()), "test_control": int((w == 0).sum())}
            if ev["test_treated"] == 0 or ev["test_control"] == 0:
                nan = {"qini": float("nan"), "auuc": float("nan"), "uplift_at_10": float("nan"),
                       "uplift_at_20": float("nan")}
                ev.update({lr: dict(nan) for lr in fitted})
                ev.update({"risk only": dict(nan), "random": dict(nan)})
                self.evaluation_[o] = ev
                continue
            for lr in fitted:
                ev[lr] = _fold_mean(y, w, effects[lr][o][sel], f)
            ev["risk only"] = _fold_mean(y, w, risk[sel], f)
            ate = float(y[w == 0].mean() - y[w == 1].mean())
            ev["random"] = {"qini": 0.0, "auuc": ate / 2.0, "uplift_at_10": ate,
                            "uplift_at_20": ate}
            self.evaluation_[o] = ev
            self.heldout_[o] = {"churned": y, "treated": w, "risk": risk[sel],
                                "scores": {lr: effects[lr][o][sel] for lr in fitted}}

    # --- after fitting --------------------------------------------------------------------------
    def __getstate__(self) -> dict:
        """Pickled without the per-thread-count booster copies (rebuilt on first use)."""
        state = dict(self.__dict__)
        state.pop("_predictors", None)
        return state

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise ValueError("this UpliftModel is not fitted yet; call fit(history, customers).")

    def predict(self, customers: pd.DataFrame) -> pd.DataFrame:
        """Uplift per customer and offer: DataFrame indexed by customerID (as str), one column
        per offer in ``offers_`` (sorted); the learned drop in churn probability if offered
        (0.05 = 5 points; negative = the offer makes leaving more likely), NaN for offers that
        are assumed (too little history). Any canonical frame (customers need not be in the
        history)."""
        import xgboost as xgb

        self._check_fitted()
        ids = schema.id_texts(customers) if ID in customers else \
            np.arange(len(customers)).astype(str)
        values = np.full((len(customers), len(self.offers_)), np.nan)
        if self.learned_ and len(customers):
            Z = self.encoder_.transform(schema.feature_frame(customers)).astype(np.float32)
            threads = 1 if len(Z) < 2000 else int(self.n_jobs)
            dm = xgb.DMatrix(Z, nthread=threads)
            column = {o: j for j, o in enumerate(self.offers_)}
            k = float(getattr(self, "calibration_", 1.0))
            copies = self.__dict__.setdefault("_predictors", {})
            for o, v in self._effects(self.models_, dm, self.learned_, threads, copies).items():
                values[:, column[o]] = k * v
        # one constructor (per-offer column assignment cost ~0.3 ms an offer for one customer)
        return pd.DataFrame(values, index=pd.Index(ids, name=ID), columns=list(self.offers_))

    def basis(self) -> dict[str, str]:
        """{offer_id: "learned" | "assumed"} for every offer in the history."""
        self._check_fitted()
        return dict(zip(self.status_["offer_id"], self.status_["basis"]))

    def evaluation_json(self) -> dict:
        """The held-out evaluation as plain JSON (what ``python -m churn uplift --json`` prints).

        {"learner": kept learner, "learners": {code: label}, "min_treated", "min_control",
        "folds", "rows", "offers": {offer_id: {"basis", "treated", "control",
        "in_catalogue", "reason", and for learned offers "test_treated", "test_control" (the
        offer's customers scored out of fold: all of them),
        "model": {qini, auuc, uplift_at_10, uplift_at_20} of the kept learner,
        "learners": {code: same figures}, "random": same, "risk only": same}},
        "warnings": [...]}. NaN becomes null.
        """
        self._check_fitted()

        def clean(v):
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (float, np.floating)):
                return None if not np.isfinite(v) else float(v)
            if isinstance(v, (np.integer,)):
                return int(v)
            if isinstance(v, np.bool_):
                return bool(v)
            return v

        offers = {}
        for rec in self.status_.to_dict("records"):
            o = rec.pop("offer_id")
            entry = dict(rec)
            ev = self.evaluation_.get(o)
            if ev is not None:
                entry["test_treated"] = ev["test_treated"]
                entry["test_control"] = ev["test_control"]
                entry["model"] = ev.get(self.learner_)
                entry["learners"] = {lr: ev[lr] for lr in LEARNERS if lr in ev}
                entry["random"] = ev["random"]
                entry["risk only"] = ev["risk only"]
            offers[o] = entry
        return clean({"learner": self.learner_, "learners": dict(LEARNERS),
                      "calibration": float(getattr(self, "calibration_", 1.0)),
                      "min_treated": int(self.min_treated), "min_control": int(self.min_control),
                      "folds": int(self.folds), "rows": self.n_rows_,
                      "offers": offers, "warnings": list(self.warnings_)})

    def qini_curves(self) -> pd.DataFrame:
        """Out-of-fold Qini curves: DataFrame[offer_id, policy ("model" = the kept learner,
        "risk only", "random"), share (0..1 of the offer's customers targeted), qini (extra
        customers kept, as a share of the offer's treated customers)]. Each customer's score is
        out of fold; the curve ranks all of an offer's customers together."""
        self._check_fitted()
        parts = []
        for o, h in self.heldout_.items():
            nt = max(float(h["treated"].sum()), 1.0)
            for policy, score in (("model", h["scores"][self.learner_]), ("risk only", h["risk"])):
                qc = UM.qini_curve(h["churned"], h["treated"], score)
                parts.append(pd.DataFrame({"offer_id": o, "policy": policy,
                                           "share": qc["share"], "qini": qc["qini"] / nt}))
            end = float(parts[-1]["qini"].iloc[-1])
            parts.append(pd.DataFrame({"offer_id": o, "policy": "random", "share": [0.0, 1.0],
                                       "qini": [0.0, end]}))
        if not parts:
            return pd.DataFrame({"offer_id": pd.Series(dtype=object), "policy": pd.Series(dtype=object),
                                 "share": pd.Series(dtype=float), "qini": pd.Series(dtype=float)})
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values(["offer_id", "policy", "share"], kind="stable").reset_index(drop=True)

    def effect_contributions(self, customers: pd.DataFrame, offer_id: str) -> tuple[float, pd.DataFrame]:
        """What drives one learned offer's effect, per customer, in percentage points.

        Returns (base, contributions): contributions is DataFrame[rows × schema FEATURES] with
        ``base + row sum == 100 × predict(customers)[offer_id]`` (up to float rounding).
        T-learner: the difference of the two models' contributions, each moved from log-odds to
        percentage points of probability as ``churn.explain`` does (each feature keeps its share
        of the probability change). X-learner: the blended regressions' own contributions, which
        are already in probability units. T-learner on the control risk: as the T-learner, the
        offered model's contributions being the control model's plus the offer's trees'. The
        average ("e"): the mean of its three learners' contributions (each adds up to its own
        prediction, so their mean adds up to the mean).
        """
        import xgboost as xgb

        from churn.explain import to_percentage_points
        from churn.models import onehot_feature_map

        self._check_fitted()
        if offer_id not in self.learned_:
            raise ValueError(f"offer {offer_id!r} is not learned (learned offers: "
                             f"{', '.join(self.learned_) or 'none'}); its effect is assumed.")
        Z = self.encoder_.transform(schema.feature_frame(customers)).astype(np.float32)
        dm = xgb.DMatrix(Z, nthread=1 if len(Z) < 2000 else int(self.n_jobs))
        fmap = onehot_feature_map()

        def contrib(booster):
            raw = booster.predict(dm, pred_contribs=True).astype(np.float64)
            return float(raw[0, -1]) if len(raw) else 0.0, raw[:, :-1] @ fmap

        base, values = self._contributions(self.models_, offer_id, contrib, to_percentage_points)
        index = customers.index
        k = float(getattr(self, "calibration_", 1.0))  # as `predict` scales the effect
        return k * base, pd.DataFrame(k * values, columns=schema.FEATURES, index=index)

    @staticmethod
    def _contributions(models: dict, offer_id: str, contrib, to_points):
        """(base, per-feature values) in percentage points of one learner's uplift for an offer;
        ``contrib(booster)`` gives a booster's (bias, per-feature contributions)."""
        learner = models["learner"]
        if learner == "e":
            parts = [UpliftModel._contributions(m, offer_id, contrib, to_points)
                     for m in models["parts"]]
            return (float(np.mean([b for b, _ in parts])),
                    np.mean([v for _, v in parts], axis=0))
        m = models[offer_id]
        if learner in ("t", "r"):
            parts = []
            b0, c0 = contrib(models["control"])
            b1, c1 = contrib(m)
            if learner == "r":  # the offered log-odds: control's plus the trees
                b1, c1 = b0 + b1, c0 + c1
            for base, c in ((b0, c0), (b1, c1)):
                p0, _, pp = to_points(base, c)
                parts.append((100.0 * float(np.atleast_1d(p0).ravel()[0]), np.asarray(pp)))
            return parts[0][0] - parts[1][0], parts[0][1] - parts[1][1]
        tau0, tau1, g = m
        b0, c0 = contrib(tau0)
        b1, c1 = contrib(tau1)
        return 100.0 * (g * b0 + (1 - g) * b1), 100.0 * (g * c0 + (1 - g) * c1)


# --- using it -----------------------------------------------------------------------------------
def effect_drivers(model: UpliftModel, customers: pd.DataFrame, top: int = 6,
                   max_rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Which customer features drive each learned offer's effect.

    Returns DataFrame[offer_id, feature, label, mean_abs_pp, mean_pp]: per learned offer its
    ``top`` features by mean absolute contribution to the uplift, in percentage points of churn
    probability, over ``customers`` (a seeded sample of ``max_rows`` when larger).
    """
    cols = ["offer_id", "feature", "label", "mean_abs_pp", "mean_pp"]
    if len(customers) > max_rows:
        customers = customers.sample(max_rows, random_state=seed)
    rows = []
    for o in model.learned_:
        _, pp = model.effect_contributions(customers, o)
        imp = pd.DataFrame({"feature": pp.columns, "mean_abs_pp": pp.abs().mean().to_numpy(),
                            "mean_pp": pp.mean().to_numpy()})
        imp = imp.sort_values("mean_abs_pp", ascending=False, kind="stable").head(top)
        imp.insert(0, "offer_id", o)
        imp.insert(2, "label", [schema.label(f) for f in imp["feature"]])
        rows.append(imp)
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def risk_only_waste(uplift: pd.DataFrame, churn_prob, costs: dict, share: float = POLICY_SHARE,
                    threshold: float = 0.01, offer_choice=None) -> dict:
    """How much of a risk-only campaign's budget goes to customers the offer does not help.

    uplift: :meth:`UpliftModel.predict` of the customers (NaN = not learned). churn_prob: P(churn)
    per customer, same order. costs: {offer_id: dollars}. offer_choice: the offer each customer
    would get (same order; e.g. the catalogue's assumed best offer, what risk-only campaigns
    make today); None: each customer's best learned offer. Customers without an offer ("" or
    NaN) are skipped. Risk-only targeting takes the top ``share`` of the customers with an offer
    by churn probability. Returns {customers, budget (dollars), wasted (dollars spent where the
    offer's learned uplift is below ``threshold``, default 1 point: no or negative effect),
    unknown (dollars spent on offers with no learned uplift), share_wasted (wasted / budget),
    negative (customers the offer would push out: uplift < 0)}.
    """
    prob = np.asarray(churn_prob, dtype=float)
    n = len(prob)
    learned = [c for c in uplift.columns if uplift[c].notna().any()]
    if offer_choice is None:
        u = uplift[learned].to_numpy(dtype=float) if learned else np.full((n, 0), np.nan)
        filled = np.where(np.isnan(u), -np.inf, u)
        has = ~np.isnan(u).all(axis=1) if learned else np.zeros(n, dtype=bool)
        pick = np.where(has, filled.argmax(axis=1) if learned else 0, -1)
        choice = np.array([learned[i] if i >= 0 else "" for i in pick], dtype=object)
    else:
        choice = pd.Series(offer_choice).fillna("").astype(str).to_numpy(dtype=object)
    has = np.array([c != "" and c in costs for c in choice])
    cols = {c: i for i, c in enumerate(uplift.columns)}
    U = uplift.to_numpy(dtype=float)
    chosen_u = np.array([U[r, cols[c]] if has[r] and c in cols else np.nan
                         for r, c in enumerate(choice)])
    cost = np.array([float(costs[c]) if has[r] else 0.0 for r, c in enumerate(choice)])
    k = int(np.ceil(share * has.sum() - 1e-9))
    order = np.argsort(-np.where(has, prob, -np.inf), kind="mergesort")[:k]
    budget = float(cost[order].sum())
    cu = chosen_u[order]
    wasted = float(cost[order][cu < threshold].sum())
    unknown = float(cost[order][np.isnan(cu)].sum())
    return {"customers": int(k), "budget": budget, "wasted": wasted, "unknown": unknown,
            "share_wasted": wasted / budget if budget > 0 else float("nan"),
            "negative": int((cu < 0).sum())}


def policy_value(predicted: pd.DataFrame, true_effect: pd.DataFrame, clv, churn_prob, *,
                 allowed: pd.DataFrame | None = None, share: float = POLICY_SHARE) -> dict:
    """The quality check: value captured by targeting the top ``share`` of customers.

    predicted / true_effect: rows = customers (same order), columns = offers: the predicted and
    the true drop in churn probability if offered. clv: dollars per customer; churn_prob: 0..1.
    allowed: bool frame of the offers that may be made (applicability; None: all).
    Value of a policy = Σ over its targeted customers of true_effect[customer, chosen offer] ×
    CLV (dollars of lifetime value kept, in expectation). Policies, each targeting
    ``ceil(share × customers)`` customers:
      learned: top by best predicted uplift × CLV, each with that best predicted offer;
      oracle: top by best true effect × CLV, each with that best true offer (the most possible);
      risk only: top by churn probability, each with the best *predicted* offer (so the
        comparison is only about whom to target).
    Returns {learned, oracle, risk_only (dollars), capture = learned / oracle, vs_risk =
    learned / risk_only − 1, customers}.
    """
    offers = [c for c in predicted.columns if c in true_effect.columns]
    P = predicted[offers].to_numpy(dtype=float)
    T = true_effect[offers].to_numpy(dtype=float)
    v = np.asarray(clv, dtype=float)
    prob = np.asarray(churn_prob, dtype=float)
    ok = np.ones_like(P, dtype=bool) if allowed is None else \
        allowed[offers].to_numpy(dtype=bool)
    ok &= ~np.isnan(P)
    n = len(v)
    k = int(np.ceil(share * n - 1e-9))
    rows = np.arange(n)

    def value(choice, order):
        top = order[:k]
        return float(np.sum(T[top, choice[top]] * v[top]))

    p_fill = np.where(ok, P, -np.inf)
    t_fill = np.where(ok, T, -np.inf)
    p_best = p_fill.argmax(axis=1)
    t_best = t_fill.argmax(axis=1)
    any_ok = ok.any(axis=1)
    learned_key = np.where(any_ok, p_fill[rows, p_best] * v, -np.inf)
    oracle_key = np.where(any_ok, t_fill[rows, t_best] * v, -np.inf)
    risk_key = np.where(any_ok, prob, -np.inf)
    learned = value(p_best, np.argsort(-learned_key, kind="mergesort"))
    oracle = value(t_best, np.argsort(-oracle_key, kind="mergesort"))
    risk = value(p_best, np.argsort(-risk_key, kind="mergesort"))
    return {"learned": learned, "oracle": oracle, "risk_only": risk,
            "capture": learned / oracle if oracle > 0 else float("nan"),
            "vs_risk": learned / risk - 1.0 if risk > 0 else float("nan"), "customers": k}


# --- files --------------------------------------------------------------------------------------
def history_path(p) -> "Path":
    """The campaign history file of a data folder (``config.Paths``): ``<data>/sample/
    campaign_history.csv`` unless the paths name another."""
    from pathlib import Path

    return Path(getattr(p, "campaign_history_csv", Path(p.sample_dir) / "campaign_history.csv"))


def read_history(path) -> pd.DataFrame:
    """A campaign history CSV read as text (every column a string, blanks as ""), so that
    :meth:`UpliftModel.check_history` sees exactly what the file holds. Raises OSError /
    ValueError (pandas) when the file cannot be read at all."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


# --- the Model report's uplift section ----------------------------------------------------------
def ranking_note(offers: pd.DataFrame) -> str:
    """One sentence on how the uplift model's ranking compares with churn risk alone, from the
    per-offer table of :func:`report` (learned offers: ``qini_model`` against ``qini_risk``).

    Within one offer, ranking by risk is often as good: the riskiest customers are largely the
    ones an offer can help. The sentence says so when the table shows it, so that a reader does
    not take a lower model Qini for a broken model, and says what the model adds instead.
    """
    both = offers[(offers["basis"] == LEARNED) & offers["qini_model"].notna()
                  & offers["qini_risk"].notna()]
    n = len(both)
    if n == 0:
        return ""
    risk_wins = int((both["qini_risk"] >= both["qini_model"]).sum())
    adds = ("What the uplift model adds is choosing which offer each customer gets, holding "
            "back sleeping dogs, and a value for each offer in points of churn.")
    every = {1: "the only learned offer", 2: "both learned offers"}.get(n, f"all {n} learned "
                                                                         "offers")
    if risk_wins == 0:
        return (f"The uplift model finds the customers each offer helps better than churn risk "
                f"alone for {every} (higher Qini).")
    which = every if risk_wins == n else f"{risk_wins} of the {n} learned offers"
    return (f"For {which}, ordering by churn risk alone finds the customers "
            "the offer helps as well as the uplift model or better (Qini): within one offer, "
            f"the riskiest customers are largely the ones it can help. {adds}")


def report(model: UpliftModel, customers: pd.DataFrame, churn_prob, costs: dict, *,
           offer_choice=None, share: float = POLICY_SHARE, max_rows: int = 2000,
           seed: int = 0) -> dict:
    """Everything the Model report's uplift section shows, as plain frames and numbers.

    model: a fitted :class:`UpliftModel`. customers: the customers to judge targeting on (the
    active base: customers still here). churn_prob: their P(churn), same order. costs:
    {offer_id: dollars} (the catalogue). offer_choice: the offer a risk-only campaign would make
    to each customer (see :func:`risk_only_waste`).
    Returns {"offers": DataFrame[offer_id, basis, treated, control, reason, qini_model,
    qini_risk, uplift_at_20_model, uplift_at_20_risk, uplift_at_20_random] (held-out figures,
    NaN for assumed offers), "curves": :meth:`UpliftModel.qini_curves`, "waste":
    :func:`risk_only_waste` at ``share``, "drivers": :func:`effect_drivers` (top 6 per offer, on
    a seeded sample of ``max_rows`` customers), "learner": the kept learner's label}.
    :func:`ranking_note` puts the table's Qini comparison in a sentence.
    """
    rows = []
    for rec in model.status_.to_dict("records"):
        ev = model.evaluation_.get(rec["offer_id"], {})
        kept, risk, rnd = ev.get(model.learner_, {}), ev.get("risk only", {}), ev.get("random", {})
        rows.append({**{k: rec[k] for k in ("offer_id", "basis", "treated", "control", "reason")},
                     "qini_model": kept.get("qini", np.nan), "qini_risk": risk.get("qini", np.nan),
                     "uplift_at_20_model": kept.get("uplift_at_20", np.nan),
                     "uplift_at_20_risk": risk.get("uplift_at_20", np.nan),
                     "uplift_at_20_random": rnd.get("uplift_at_20", np.nan)})
    pred = model.predict(customers)
    return {"offers": pd.DataFrame(rows), "curves": model.qini_curves(),
            "waste": risk_only_waste(pred, churn_prob, costs, share=share,
                                     offer_choice=offer_choice),
            "drivers": effect_drivers(model, customers, max_rows=max_rows, seed=seed),
            "learner": LEARNERS.get(model.learner_, model.learner_)}
