"""How long customers stay, what they are worth, and how much revenue is at risk.

Survival models (lifelines) learn the time to churn from the training customers: the duration is
``tenure`` (months) and the event is ``Churn == 1``; active customers are right-censored at their
current tenure. Two model classes are compared by their concordance index on held-out folds and
the better one is kept (`SurvivalModel`):

- ``"cox"``: Cox proportional hazards (``CoxPHFitter``, Breslow baseline).
  S(t|x) = S0(t) ** exp(beta . (x - mean)).
- ``"weibull"``: Weibull accelerated failure time (``WeibullAFTFitter``).
  S(t|x) = exp(-(t / lambda(x)) ** rho), log lambda(x) = beta . x + intercept.

Modelling choices (and why):

- **Covariates** are the schema's features, one-hot encoded with the schema's first value of each
  category as the reference level (dropped). The add-on columns (``OnlineSecurity`` ...,
  ``MultipleLines``) enter as one "== Yes" indicator each: their third value ("No internet/phone
  service") is exactly ``InternetService == "No"`` / ``PhoneService == "No"``, which would be a
  perfectly collinear duplicate. ``tenure`` is the duration, so it is never a covariate.
  ``TotalCharges`` is left out on purpose: it is almost exactly ``tenure x MonthlyCharges``
  (correlation 0.9996 on the IBM file), so it would leak the duration into a covariate and the
  model would "predict" how long someone stayed from how long they stayed. A small ridge
  penalizer (default 0.01) keeps the fit stable with correlated covariates (``MonthlyCharges`` is
  largely a sum of the services).
- **Tenure 0** (joined this month, nothing billed yet): parametric models need positive
  durations, so the training duration is ``max(tenure, 0.5)`` months for both models (the same
  durations keep their concordance indices comparable). Only tenure-0 rows change.
- **Conditional survival** for an active customer who has already stayed ``tenure`` months:
  S(tenure + t | x) / S(tenure | x). It is computed as exp(-[H(tenure + t|x) - H(tenure|x)]) from
  the cumulative hazard H, which is the same ratio but cannot divide by zero when S(tenure|x) is
  tiny, so it is always finite, 1 at t = 0 and non-increasing in t.
- **Beyond the longest observed tenure** the Weibull model extrapolates by its formula. The Cox
  baseline is only known up to the longest training duration T; past T its cumulative hazard
  continues as a straight line (a constant hazard) whose slope is the typical monthly baseline
  hazard of the last 12 observed months: the median of the 12 monthly increments of H0, so that
  one heaped month at the edge of the data (the IBM file piles customers up at 72 months, and the
  Breslow jump there is large and noisy) does not set the rate for ever; the mean of the
  increments, then H0(T) / T, if that median is 0. Between training durations the baseline is
  linearly interpolated, as lifelines does.
- Survival is evaluated with numpy from the fitted parameters (one matrix evaluation for all
  customers), not through lifelines' per-call DataFrames, so 100,000 customers take well under a
  second; the tests check the numbers against lifelines' own ``predict_survival_function``.

Money: ``clv`` gives customer lifetime value over a horizon as discounted expected margin,
CLV = sum_{t=1..H} margin x MonthlyCharges x S(tenure+t|x) / S(tenure|x) / (1 + r_m) ** t,
with the monthly rate r_m = (1 + annual rate) ** (1/12) - 1, and two revenue-at-risk figures the
caller chooses between: ``revenue_at_risk`` = P(churn) x CLV (margin, discounted, over the
horizon) and the simpler ``revenue_at_risk_12m`` = P(churn) x 12 x MonthlyCharges (one year of
revenue, not margin, not discounted).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd

from churn import schema
from churn.config import BusinessSettings

KINDS = ("cox", "weibull")
SEGMENTS = (*schema.MAIN_SEGMENTS, "tenure band")
TENURE_BANDS = (("0-6", 0, 6), ("7-12", 7, 12), ("13-24", 13, 24), ("25-48", 25, 48),
                ("49-72", 49, 72), ("73+", 73, None))
MIN_EVENTS = 10          # churned customers needed to fit anything sensible
TAIL_WINDOW = 12.0       # last months of the Cox baseline whose hazard extends it past the end
ZERO_TENURE = 0.5        # training duration (months) used for tenure 0

# Columns the covariates are built from (TotalCharges deliberately excluded, see module doc).
_COVARIATE_SOURCES = list(schema.CATEGORICAL_FEATURES) + ["SeniorCitizen", schema.MONTHLY]
_PREDICT_COLUMNS = _COVARIATE_SOURCES + [schema.TENURE]
_DURATION, _EVENT = "_duration", "_event"


# --- helpers -----------------------------------------------------------------------------------
def _require(df, columns, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what}: expected a pandas DataFrame (a canonical customer frame), "
                         f"got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}; expected a canonical "
                         "customer frame (see churn.schema)")


def _tenure(df: pd.DataFrame) -> np.ndarray:
    t = schema.column_numbers(df, schema.TENURE)
    if t.size and (not np.isfinite(t).all() or (t < 0).any()):
        raise ValueError("tenure must be months >= 0 with no blanks; validate the file first "
                         "(churn.validate)")
    return t


def _horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, Integral) or horizon < 1:
        raise ValueError(f"horizon must be a whole number of months >= 1, got {horizon!r}")
    return int(horizon)


def _check_settings(settings: BusinessSettings) -> None:
    m = settings.margin
    if not isinstance(m, Real) or not 0.0 <= m <= 1.0:
        raise ValueError(f"margin must be between 0 and 1 (a share of MonthlyCharges), got {m!r}; "
                         "a percentage such as 60 should be given as 0.6")
    r = settings.annual_discount_rate
    if not isinstance(r, Real) or not 0.0 <= r <= 1.0:
        raise ValueError(f"annual_discount_rate must be between 0 and 1, got {r!r}; "
                         "a percentage such as 10 should be given as 0.1")
    _horizon(settings.horizon_months)


def _churn_prob(churn_prob, n: int) -> np.ndarray:
    p = np.asarray(churn_prob, dtype=float).reshape(-1)
    if p.shape[0] != n:
        raise ValueError(f"churn_prob has {p.shape[0]} values but the frame has {n} rows")
    if p.size and (not np.isfinite(p).all() or (p < 0).any() or (p > 1).any()):
        raise ValueError("churn_prob must hold probabilities between 0 and 1 with no blanks")
    return p


def tenure_band(tenure) -> np.ndarray:
    """The tenure band label ("0-6", "7-12", "13-24", "25-48", "49-72", "73+") of each tenure.

    tenure: months (array-like of numbers >= 0). Returns a numpy array of str.
    """
    t = np.asarray(tenure, dtype=float)
    out = np.full(t.shape, TENURE_BANDS[-1][0], dtype=object)
    for name, lo, hi in reversed(TENURE_BANDS[:-1]):
        out[t <= hi] = name
    return out.astype(str)


def design_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """The survival models' covariates for a canonical frame (floats, one row per customer).

    Columns are fixed by the schema, not by the data, so a scoring batch lines up with the
    training frame whatever values it happens to contain: ``Column=value`` indicators for every
    non-reference value of the independent categories, ``Column=Yes`` for the dependent add-on
    columns, then ``SeniorCitizen`` (0/1) and ``MonthlyCharges`` (dollars). No tenure, no
    TotalCharges (see the module docstring).
    """
    _require(df, _COVARIATE_SOURCES, "design_matrix")
    return pd.DataFrame(_design_columns(df), index=df.index)


def _design_columns(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """`design_matrix`'s columns as {name: float array} (no frame: the predictions need only a
    few of them as one matrix)."""
    cols: dict[str, np.ndarray] = {}
    # A few rows (one customer): numpy's text conversion, without pandas' per-column astype
    # (about 1.5 ms of a one-customer call); the same texts, so the same indicators.
    few = len(df) < schema._SMALL_FRAME
    for name in schema.CATEGORICAL_FEATURES:
        col = schema.BY_NAME[name]
        values = (schema.column_values(df, name).astype(str) if few
                  else df[name].astype(str).to_numpy())
        levels = ("Yes",) if col.parent else col.values[1:]
        for v in levels:
            cols[f"{name}={v}"] = (values == v).astype(float)
    cols["SeniorCitizen"] = schema.column_numbers(df, "SeniorCitizen")
    cols[schema.MONTHLY] = schema.column_numbers(df, schema.MONTHLY)
    return cols


# --- the survival model ------------------------------------------------------------------------
class SurvivalModel:
    """Time-to-churn model: Cox PH or Weibull AFT, chosen by held-out concordance.

    Parameters
    ----------
    kind: "auto" (fit both, keep the one with the higher held-out concordance), "cox" or
        "weibull" (evaluate and fit only that one).
    penalizer: ridge penalty passed to lifelines (>= 0); small values stabilise the fit.
    n_folds: folds of the held-out concordance evaluation (>= 2).
    seed: seed of the fold split, so results are reproducible.

    Learned attributes (after `fit`)
    --------------------------------
    kind_: the kind kept ("cox" or "weibull").
    concordance_: dict kind -> mean held-out concordance index (0.5 = random, 1 = perfect).
    concordance_folds_: dict kind -> list of the per-fold indices.
    failures_: dict kind -> why that kind did not converge (empty when all fitted; in "auto"
        mode a kind that fails is skipped, and fit raises ValueError only if every kind fails).
    model_: the lifelines fitter of ``kind_``, fitted on all training rows.
    columns_: covariate names used (schema design columns that vary in the training data).
    max_tenure_: longest training tenure in months (beyond it the model extrapolates).
    n_customers_, n_churned_: training rows and churned customers among them.
    """

    def __init__(self, kind: str = "auto", penalizer: float = 0.01, n_folds: int = 5,
                 seed: int = 0):
        self.kind = kind
        self.penalizer = penalizer
        self.n_folds = n_folds
        self.seed = seed

    # ---- fitting ----
    def fit(self, df: pd.DataFrame) -> "SurvivalModel":
        """Learn time to churn from a canonical frame with a ``Churn`` column (0/1).

        Validates the arguments and the frame, then fits; returns self. Raises ValueError for a
        bad ``kind``/``penalizer``/``n_folds``, a missing column, ``Churn`` values other than
        0/1, or fewer than `MIN_EVENTS` churned customers.
        """
        if self.kind not in ("auto",) + KINDS:
            raise ValueError(f"kind must be one of 'auto', 'cox', 'weibull', got {self.kind!r}")
        if not isinstance(self.penalizer, Real) or not self.penalizer >= 0:
            raise ValueError(f"penalizer must be a number >= 0, got {self.penalizer!r}")
        if isinstance(self.n_folds, bool) or not isinstance(self.n_folds, Integral) \
                or self.n_folds < 2:
            raise ValueError(f"n_folds must be a whole number >= 2, got {self.n_folds!r}")
        _require(df, _PREDICT_COLUMNS + [schema.TARGET], "fit")
        tenure = _tenure(df)
        event = pd.to_numeric(df[schema.TARGET], errors="coerce").to_numpy(float)
        if not np.isin(event, (0.0, 1.0)).all():
            raise ValueError("fit: Churn must be 0 or 1 for every row (no blanks); "
                             "validate the file first (churn.validate)")
        n_churned = int(event.sum())
        if n_churned < MIN_EVENTS:
            raise ValueError(f"fit needs at least {MIN_EVENTS} churned customers (Churn == 1) "
                             f"to learn how long customers stay, got {n_churned}")
        X = design_matrix(df)
        varying = X.columns[X.std(ddof=0).to_numpy() > 0]
        data = X[varying].reset_index(drop=True)
        data[_DURATION] = np.maximum(tenure, ZERO_TENURE)
        data[_EVENT] = event.astype(int)
        return self._fit(data, list(varying), float(tenure.max()), n_churned)

    def _fit(self, data: pd.DataFrame, columns: list, max_tenure: float, n_churned: int):
        from lifelines.exceptions import ConvergenceError

        kinds = KINDS if self.kind == "auto" else (self.kind,)
        folds = self._folds(data[_EVENT].to_numpy())
        self.concordance_folds_, self.failures_ = {}, {}
        for k in kinds:
            try:
                self.concordance_folds_[k] = [self._held_out_concordance(k, data, tr, te)
                                              for tr, te in folds]
            except (ConvergenceError, np.linalg.LinAlgError) as exc:
                self.failures_[k] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        if not self.concordance_folds_:
            raise ValueError("the survival model(s) " + ", ".join(kinds) + " did not converge on "
                             "this training data (" + "; ".join(self.failures_.values()) + "); "
                             "check that tenure and Churn vary, or raise the penalizer")
        self.concordance_ = {k: float(np.mean(v)) for k, v in self.concordance_folds_.items()}
        fitted = list(self.concordance_)
        # ties keep the first kind in KINDS (Cox, the semi-parametric one)
        self.kind_ = max(fitted, key=lambda k: (self.concordance_[k], -KINDS.index(k)))
        self.columns_ = columns
        self.max_tenure_ = max_tenure
        self.n_customers_ = int(len(data))
        self.n_churned_ = n_churned
        self.model_ = self._lifelines(self.kind_, data)
        self._params = self._extract(self.kind_, self.model_)
        return self

    def _folds(self, event: np.ndarray):
        from sklearn.model_selection import KFold, StratifiedKFold

        n_active = int((event == 0).sum())
        idx = np.arange(len(event))
        if min(n_active, int(event.sum())) >= self.n_folds:
            split = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.seed)
            return list(split.split(idx, event))
        return list(KFold(self.n_folds, shuffle=True, random_state=self.seed).split(idx))

    def _lifelines(self, kind: str, data: pd.DataFrame):
        """A lifelines fitter of ``kind`` fitted on ``data`` (covariates, duration, event).

        The Weibull AFT is optimised with BFGS, about three times faster here than lifelines'
        default SLSQP and landing on the same optimum; SLSQP is the fallback if BFGS fails.
        """
        from lifelines import CoxPHFitter, WeibullAFTFitter
        from lifelines.exceptions import ConvergenceError

        def attempt(method):
            fitter = (CoxPHFitter(penalizer=self.penalizer) if kind == "cox"
                      else WeibullAFTFitter(penalizer=self.penalizer))
            if method:
                fitter._scipy_fit_method = method
            with warnings.catch_warnings():
                # low-variance / approximation notices on small folds are not the caller's business
                warnings.simplefilter("ignore")
                return fitter.fit(data, duration_col=_DURATION, event_col=_EVENT)

        if kind == "cox":
            return attempt(None)
        try:
            return attempt("BFGS")
        except ConvergenceError:
            return attempt(None)

    def _held_out_concordance(self, kind, data, train, test) -> float:
        from lifelines.utils import concordance_index

        fitter = self._lifelines(kind, data.iloc[train])
        params = self._extract(kind, fitter)
        held = data.iloc[test]
        X = held[params["columns"]].to_numpy(float)
        # a larger score means a longer expected lifetime
        if kind == "cox":
            score = -(X - params["mean"]) @ params["beta"]
        else:
            score = X @ params["beta"] + params["intercept"]
        return float(concordance_index(held[_DURATION], score, held[_EVENT]))

    @staticmethod
    def _extract(kind: str, fitter) -> dict:
        """The fitted parameters as numpy arrays (what `_cum_hazard` evaluates)."""
        if kind == "cox":
            columns = list(fitter.params_.index)
            base = fitter.baseline_cumulative_hazard_.iloc[:, 0]
            knots = base.index.to_numpy(float)
            values = base.to_numpy(float)
            if knots[0] > 0:                     # H0(0) = 0: nobody has churned before joining
                knots, values = np.r_[0.0, knots], np.r_[0.0, values]
            values = np.maximum.accumulate(values)
            last = knots[-1]
            grid = np.arange(max(last - TAIL_WINDOW, 0.0), last + 0.5)      # whole months
            steps = np.diff(np.interp(grid, knots, values))
            tail = float(np.median(steps)) if steps.size else 0.0
            if not tail > 0:
                tail = float(steps.mean()) if steps.size else 0.0
            if not tail > 0:
                tail = values[-1] / last if last > 0 else 0.0
            return {"columns": columns, "beta": fitter.params_.to_numpy(float),
                    "mean": fitter._norm_mean.reindex(columns).to_numpy(float),
                    "knots": knots, "values": values, "tail": float(tail)}
        lam = fitter.params_.loc["lambda_"]
        columns = [c for c in lam.index if c != "Intercept"]
        rho = fitter.params_.loc["rho_"]
        return {"columns": columns, "beta": lam.reindex(columns).to_numpy(float),
                "intercept": float(lam.get("Intercept", 0.0)),
                "log_rho": float(rho.get("Intercept", 0.0))}

    # ---- prediction ----
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("this SurvivalModel is not fitted yet: call fit(df) first")

    def _linear(self, df: pd.DataFrame, what: str) -> np.ndarray:
        """Per-customer linear predictor: Cox log relative hazard, or Weibull log lambda."""
        self._check_fitted()
        _require(df, _PREDICT_COLUMNS, what)
        p = self._params
        cols = _design_columns(df)
        # columns × rows, transposed: the memory layout pandas' float block gave, so the
        # matrix products below round exactly as before
        X = (np.vstack([cols[c] for c in p["columns"]]).T if p["columns"]
             else np.zeros((len(df), 0)))
        if X.size and not np.isfinite(X).all():
            raise ValueError(f"{what}: SeniorCitizen and MonthlyCharges must be numbers with no "
                             "blanks; validate the file first (churn.validate)")
        if self.kind_ == "cox":
            return (X - p["mean"]) @ p["beta"]
        return X @ p["beta"] + p["intercept"]

    def _cum_hazard(self, linear: np.ndarray, t: np.ndarray) -> np.ndarray:
        """H(t|x) for each row's linear predictor and an array of times t (months, >= 0).

        ``linear`` has shape (rows,), ``t`` shape (rows, k); returns (rows, k), finite, >= 0.
        """
        p = self._params
        if self.kind_ == "cox":
            h0 = np.interp(t, p["knots"], p["values"])
            h0 += p["tail"] * np.maximum(t - p["knots"][-1], 0.0)
            return h0 * np.exp(linear)[:, None]
        rho = np.exp(p["log_rho"])
        log_t = np.log(np.clip(t, 1e-100, None))
        return np.exp(np.minimum(rho * (log_t - linear[:, None]), 700.0))

    def survival(self, df: pd.DataFrame, months) -> np.ndarray:
        """Unconditional survival S(t|x): P(a new customer like this one is still here at t).

        df: canonical frame (Churn not needed). months: times in months (>= 0).
        Returns an array rows x len(months) of probabilities in 0..1.
        """
        t = np.atleast_1d(np.asarray(months, dtype=float))
        if t.ndim != 1 or (t.size and (not np.isfinite(t).all() or (t < 0).any())):
            raise ValueError(f"months must be a list of times >= 0 in months, got {months!r}")
        lin = self._linear(df, "survival")
        return np.exp(-self._cum_hazard(lin, np.broadcast_to(t, (len(lin), t.size))))

    def conditional_survival(self, df: pd.DataFrame, horizon: int) -> np.ndarray:
        """P(still a customer t months from now | stayed ``tenure`` months so far), t = 0..horizon.

        S(tenure + t | x) / S(tenure | x), computed in log space (never divides by zero).
        df: canonical frame (Churn not needed); horizon: months >= 1.
        Returns an array rows x (horizon + 1); column 0 is 1, rows are non-increasing.
        """
        horizon = _horizon(horizon)
        lin = self._linear(df, "conditional_survival")
        tenure = _tenure(df)
        steps = np.arange(horizon + 1, dtype=float)
        H = self._cum_hazard(lin, tenure[:, None] + steps[None, :])
        return np.exp(-np.maximum(H - H[:, :1], 0.0))

    def expected_remaining_months(self, df: pd.DataFrame, horizon: int) -> np.ndarray:
        """Expected number of the next ``horizon`` months each customer is still with us.

        Sum over t = 1..horizon of the conditional survival (0..horizon months; the months
        billed within the horizon). Returns a float array, one value per row.
        """
        return self.conditional_survival(df, horizon)[:, 1:].sum(axis=1)


# --- money -------------------------------------------------------------------------------------
def clv(model: SurvivalModel, df: pd.DataFrame, settings: BusinessSettings = BusinessSettings(),
        churn_prob=None) -> pd.DataFrame:
    """Customer lifetime value over the settings' horizon, and revenue at risk.

    model: a fitted `SurvivalModel`. df: canonical frame (Churn not needed). settings: margin
    (0..1), annual_discount_rate (0..1), horizon_months (>= 1). churn_prob: optional P(churn)
    per row (0..1), e.g. from ``ChurnModel.predict_proba``.

    Returns a DataFrame on ``df.index`` with
    - ``expected_months``: expected months still a customer within the horizon (months);
    - ``clv``: sum_{t=1..H} margin x MonthlyCharges x S(tenure+t|x)/S(tenure|x) / (1+r_m)^t
      (dollars, discounted margin; r_m = settings.monthly_discount_rate);
    and, when ``churn_prob`` is given,
    - ``revenue_at_risk``: churn_prob x clv (dollars of discounted margin over the horizon);
    - ``revenue_at_risk_12m``: churn_prob x 12 x MonthlyCharges (dollars of revenue over a year,
      the simpler figure finance teams often quote).
    One matrix evaluation for all rows (no loop per customer).
    """
    return pd.DataFrame(clv_columns(model, df, settings, churn_prob), index=df.index)


def clv_columns(model: SurvivalModel, df: pd.DataFrame,
                settings: BusinessSettings = BusinessSettings(), churn_prob=None) -> dict:
    """`clv`'s columns as {name: float array} in its column order, without the frame
    (`Engine.score_all` copies them into its own table)."""
    if not isinstance(model, SurvivalModel):
        raise ValueError(f"model must be a fitted SurvivalModel, got {type(model).__name__}")
    _check_settings(settings)
    _require(df, _PREDICT_COLUMNS, "clv")
    horizon = int(settings.horizon_months)
    monthly = schema.column_numbers(df, schema.MONTHLY)
    cond = model.conditional_survival(df, horizon)[:, 1:]
    discount = (1.0 + settings.monthly_discount_rate) ** -np.arange(1, horizon + 1, dtype=float)
    out = {"expected_months": cond.sum(axis=1),
           "clv": settings.margin * monthly * (cond @ discount)}
    if churn_prob is not None:
        p = _churn_prob(churn_prob, len(df))
        out["revenue_at_risk"] = p * out["clv"]
        out["revenue_at_risk_12m"] = p * 12.0 * monthly
    return out   # `clv` frames it in one constructor: columns in this order


# --- segments and summaries --------------------------------------------------------------------
def _check_by(by) -> None:
    if by not in SEGMENTS:
        raise ValueError("by must be one of 'Contract', 'InternetService', 'PaymentMethod', "
                         f"'tenure band', got {by!r}")


def _segments(df: pd.DataFrame, by: str) -> tuple[np.ndarray, list]:
    """Each row's segment label, and the segments in their natural order."""
    if by == "tenure band":
        labels = tenure_band(_tenure(df))
        order = [name for name, _, _ in TENURE_BANDS]
    else:
        labels = df[by].astype(str).to_numpy()
        order = list(schema.BY_NAME[by].values)
        order += sorted(set(labels) - set(order))
    present = set(labels)
    return labels, [s for s in order if s in present]


def km_curves(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """Kaplan-Meier retention curves per segment, with 95% confidence bands.

    df: canonical frame with Churn (tenure = months observed, Churn = churned). by: "Contract",
    "InternetService", "PaymentMethod" or "tenure band" (0-6, 7-12, 13-24, 25-48, 49-72, 73+
    months). Returns a long DataFrame [segment, timeline (months), survival, ci_lower, ci_upper]
    (probabilities 0..1, ci_lower <= survival <= ci_upper), segments in their natural order.
    """
    from lifelines import KaplanMeierFitter

    _check_by(by)
    _require(df, [schema.TENURE, schema.TARGET] + ([] if by == "tenure band" else [by]), "km_curves")
    tenure = _tenure(df)
    event = pd.to_numeric(df[schema.TARGET], errors="coerce").to_numpy(float)
    if not np.isin(event, (0.0, 1.0)).all():
        raise ValueError("km_curves: Churn must be 0 or 1 for every row (no blanks); "
                         "validate the file first (churn.validate)")
    labels, order = _segments(df, by)
    parts = []
    for seg in order:
        mask = labels == seg
        kmf = KaplanMeierFitter().fit(tenure[mask], event[mask], label="s")
        s = kmf.survival_function_.iloc[:, 0].to_numpy(float)
        ci = kmf.confidence_interval_survival_function_
        lo = ci.iloc[:, 0].to_numpy(float)
        hi = ci.iloc[:, 1].to_numpy(float)
        lo = np.minimum(np.where(np.isfinite(lo), lo, s), s)
        hi = np.maximum(np.where(np.isfinite(hi), hi, s), s)
        parts.append(pd.DataFrame({"segment": seg, "timeline": kmf.timeline.astype(float),
                                   "survival": s, "ci_lower": lo, "ci_upper": hi}))
    if not parts:
        return pd.DataFrame({"segment": pd.Series(dtype=str), "timeline": pd.Series(dtype=float),
                             "survival": pd.Series(dtype=float),
                             "ci_lower": pd.Series(dtype=float), "ci_upper": pd.Series(dtype=float)})
    return pd.concat(parts, ignore_index=True)


def revenue_at_risk_by_segment(df_with_scores: pd.DataFrame, by: str) -> pd.DataFrame:
    """Churn, value and revenue at risk summed per segment.

    df_with_scores: canonical frame plus ``churn_prob`` (0..1), ``clv`` and ``revenue_at_risk``
    (dollars), optionally ``revenue_at_risk_12m`` (e.g. a `clv` frame joined on). by: as in
    `km_curves`. Returns one row per segment present, in natural order: segment, customers,
    avg_churn_prob (0..1), predicted_churners (sum of probabilities), clv, revenue_at_risk
    [, revenue_at_risk_12m] (dollars, totals), risk_share (segment's share of the total revenue
    at risk, 0..1; 0 when there is no risk at all).
    """
    _check_by(by)
    needed = ["churn_prob", "clv", "revenue_at_risk"]
    needed += [schema.TENURE] if by == "tenure band" else [by]
    _require(df_with_scores, needed, "revenue_at_risk_by_segment")
    labels, order = _segments(df_with_scores, by)
    money = ["clv", "revenue_at_risk"] + (["revenue_at_risk_12m"]
                                          if "revenue_at_risk_12m" in df_with_scores else [])
    frame = df_with_scores[["churn_prob"] + money].astype(float).assign(segment=labels)
    g = frame.groupby("segment", sort=False)
    out = pd.DataFrame({"customers": g.size(), "avg_churn_prob": g["churn_prob"].mean(),
                        "predicted_churners": g["churn_prob"].sum()})
    for m in money:
        out[m] = g[m].sum()
    out = out.reindex(order).rename_axis("segment").reset_index()
    total = float(out["revenue_at_risk"].sum())
    out["risk_share"] = out["revenue_at_risk"] / total if total > 0 else 0.0
    return out


def portfolio_summary(df: pd.DataFrame, churn_prob, clv_frame: pd.DataFrame) -> dict:
    """Headline figures for the KPI cards.

    df: canonical frame (Churn optional); churn_prob: P(churn) per row (0..1); clv_frame: the
    output of `clv` for the same rows. Returns a dict: customers (count), churn_rate (observed
    share churned, 0..1, by the rule of `observed_churn`), predicted_churners (sum of
    probabilities), total_clv, total_revenue_at_risk (sum of churn_prob x clv) and
    total_revenue_at_risk_12m (sum of churn_prob x 12 x MonthlyCharges) in dollars.
    """
    _require(df, [schema.MONTHLY], "portfolio_summary")
    _require(clv_frame, ["clv"], "portfolio_summary")
    n = len(df)
    if len(clv_frame) != n:
        raise ValueError(f"clv_frame has {len(clv_frame)} rows but the frame has {n} rows")
    p = _churn_prob(churn_prob, n)
    value = clv_frame["clv"].to_numpy(float)
    monthly = pd.to_numeric(df[schema.MONTHLY], errors="coerce").to_numpy(float)
    _, churn_rate = observed_churn(df)
    return {"customers": int(n), "churn_rate": churn_rate,
            "predicted_churners": float(p.sum()), "total_clv": float(value.sum()),
            "total_revenue_at_risk": float((p * value).sum()),
            "total_revenue_at_risk_12m": float((p * 12.0 * monthly).sum())}


def observed_churn(df: pd.DataFrame) -> tuple[int | None, float | None]:
    """(customers who left, their share 0..1) from the Churn column: the one rule every window
    uses for the observed churn rate.

    Both are None when there is no Churn column, no row, or any row without a 0/1 outcome: a
    partly known outcome says nothing reliable about the rate (the validator drops a Churn column
    it cannot read for every row, so canonical frames are all-or-nothing anyway).
    """
    n = len(df)
    if schema.TARGET not in df or n == 0:
        return None, None
    y = pd.to_numeric(df[schema.TARGET], errors="coerce").to_numpy(float)
    if not np.isin(y, (0.0, 1.0)).all():
        return None, None
    churned = int(y.sum())
    return churned, churned / n


@dataclass(frozen=True)
class DataSummary:
    """Headline figures of a customer frame, before any model.

    customers: rows; churned / churn_rate: customers who left and their share 0..1
    (`observed_churn`; None when unknown); monthly_revenue: sum of MonthlyCharges (dollars per
    month); mean_tenure: average months with the company (NaN without rows).
    """

    customers: int
    churned: int | None
    churn_rate: float | None
    monthly_revenue: float
    mean_tenure: float


def data_summary(df: pd.DataFrame) -> DataSummary:
    """`DataSummary` of a canonical frame (MonthlyCharges and tenure required)."""
    _require(df, [schema.MONTHLY, schema.TENURE], "data_summary")
    churned, rate = observed_churn(df)
    n = len(df)
    return DataSummary(
        customers=int(n), churned=churned, churn_rate=rate,
        monthly_revenue=float(pd.to_numeric(df[schema.MONTHLY], errors="coerce").sum()),
        mean_tenure=float(pd.to_numeric(df[schema.TENURE], errors="coerce").mean()) if n
        else float("nan"))
