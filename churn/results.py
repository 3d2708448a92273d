"""What a campaign really saved: churn in the treatment group against the control group.

A campaign exported with a control group (``campaign.build_campaign(..., control_share=)``) comes
back from the CRM with a ``churned`` column filled in (``Yes``/``No``: left within the outcome
window) and, optionally, ``accepted`` (``Yes``/``No`` for treatment rows). :func:`measure` turns
that into measured figures; :func:`read_outcomes` reads the file; bad rows are reported (exact
messages: the ``MSG_*`` constants) and every good row still counts.

Definitions (rates are shares 0..1, money in dollars):

- churn rate of a group = customers who churned / customers with a known outcome;
- **uplift** = control churn rate − treatment churn rate: the drop in churn the offers caused
  (intention to treat: every treatment customer counts, whether or not they accepted). Positive
  means the campaign kept customers;
- 95% confidence interval of the uplift: **Newcombe's hybrid score interval** (method 10 of
  Newcombe 1998) for a difference of two independent proportions, built from each group's Wilson
  score interval. Unlike the Wald interval it stays inside [−1, 1] and keeps close to its nominal
  95% for small groups and rates near 0 or 1;
- customers saved = uplift × treatment customers; saved value = uplift × the treatment group's
  total lifetime value (CLV) (assumes the effect does not depend on CLV); their intervals are the
  uplift's interval times the same factor;
- cost = the treatment group's offer cost; ROI = (saved value − cost) / cost, interval likewise;
- predicted (from the campaign file): uplift = mean over treatment of expected saved value / CLV
  (= P(churn) × P(accept) × risk reduction), customers saved = its sum, saved value = sum of
  expected saved value. So measured and predicted figures are the same quantities.

Groups too small: each group needs at least ``MIN_GROUP_SIZE`` customers with a known outcome;
below that the 95% interval of a typical churn rate is wider than ±18 points and the uplift is not
reported (the row says why). The headline, and each offer and risk tier, follow the same rule.
"""
from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from churn.campaign import CONTROL, TREATMENT, machine_headers
from churn.schema import ID

#: Fewest customers with a known outcome per group (treatment and control) to report an uplift.
MIN_GROUP_SIZE = 30
Z95 = 1.959963984540054
METHOD = "Newcombe hybrid score interval (Wilson score intervals of each group), 95%"

# --- messages (exact; tests pin them) -------------------------------------------------------------
MSG_UNREADABLE = "{name} cannot be read as a CSV or Excel file ({why})."
MSG_EMPTY = "{name} has no rows."
MSG_NO_ID = "{name} has no customerID column; the results must name each customer."
MSG_NO_CHURNED = ("{name} has no churned column: fill in Yes or No for each customer (left within "
                  "the outcome window) and load it again.")
MSG_NOT_IN_CAMPAIGN = ("{n:,} row(s) name a customer who is not in the campaign, e.g. {id} "
                       "(row {row}); they are left out.")
MSG_MISSING_CHURNED = ("{n:,} row(s) have no churned value yet, e.g. row {row}; they are left "
                       "out until the outcome is known.")
MSG_BAD_CHURNED = ("{n:,} row(s) have a churned value other than Yes or No, e.g. {value!r} "
                   "(row {row}); they are left out.")
MSG_BAD_GROUP = ("{n:,} row(s) have a group other than treatment or control, e.g. {value!r} "
                 "(row {row}); they are left out.")
MSG_DUPLICATE = ("{n:,} row(s) repeat a customer already counted, e.g. {id} (row {row}); only "
                 "the first row of each customer is counted.")
MSG_NO_CONTROL = ("The campaign has no control group (every customer got the offer), so what it "
                  "saved cannot be measured: only churn rates are shown. Hold out a control "
                  "group (10% is usual) next time.")
MSG_TOO_SMALL = ("Too few customers with a known outcome to measure the uplift: treatment "
                 "{nt:,}, control {nc:,} (at least {min:,} each are needed).")


@dataclass
class Problem:
    """One thing wrong with the results file: a message, and whether it stops the measurement."""

    message: str
    fatal: bool = False

    def __str__(self) -> str:
        return self.message


@dataclass
class Measure:
    """Measured (and predicted) figures for one set of customers (the campaign, an offer, a tier).

    label: what the set is ("All customers", an offer name, a risk tier).
    n_treatment / n_control: customers with a known outcome; churned_*: how many left;
    rate_*: churn rates 0..1 with their Wilson 95% intervals (ci_*).
    uplift (0..1 share, control − treatment) and ci95 [lo, hi]: None when not measurable
    (``note`` says why). saved_customers, saved_value (dollars), roi (share) with intervals.
    cost: treatment offer cost (dollars). predicted_*: what the campaign file expected.
    accepted_rate: share of treatment customers who accepted (None when not given).
    """

    label: str
    n_treatment: int
    n_control: int
    churned_treatment: int
    churned_control: int
    rate_treatment: float | None
    rate_control: float | None
    ci_treatment: list | None
    ci_control: list | None
    uplift: float | None = None
    ci95: list | None = None
    saved_customers: float | None = None
    saved_customers_ci: list | None = None
    saved_value: float | None = None
    saved_value_ci: list | None = None
    cost: float | None = None
    roi: float | None = None
    roi_ci: list | None = None
    predicted_uplift: float | None = None
    predicted_saved_customers: float | None = None
    predicted_saved_value: float | None = None
    accepted_rate: float | None = None
    note: str = ""

    @property
    def measured(self) -> bool:
        return self.uplift is not None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Results:
    """Everything :func:`measure` found.

    overall: the whole campaign. by_offer / by_tier: one `Measure` each (offers by name, tiers
    High → Low). problems: what was wrong with the input (messages). rows_read: rows in the file;
    rows_used: rows counted (a known outcome, in the campaign, a valid group). used: the counted
    rows (customerID, group, churned 0/1, accepted, offer, offer_id, risk_tier, clv, offer_cost,
    expected_saved_value), for the campaign history.
    """

    overall: Measure | None
    by_offer: list = field(default_factory=list)
    by_tier: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    rows_read: int = 0
    rows_used: int = 0
    used: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def fatal(self) -> str | None:
        hit = [p.message for p in self.problems if p.fatal]
        return hit[0] if hit else None

    def to_dict(self) -> dict:
        """JSON-able: uplift, ci95, treatment, control, by_offer, by_tier, predicted, problems."""
        o = self.overall
        group = (lambda n, k, r, ci: {"customers": n, "churned": k, "churn_rate": r, "ci95": ci})
        out = {
            "uplift": o.uplift if o else None,
            "ci95": o.ci95 if o else None,
            "method": METHOD,
            "min_group_size": MIN_GROUP_SIZE,
            "treatment": group(o.n_treatment, o.churned_treatment, o.rate_treatment,
                               o.ci_treatment) if o else None,
            "control": group(o.n_control, o.churned_control, o.rate_control,
                             o.ci_control) if o else None,
            "saved_customers": o.saved_customers if o else None,
            "saved_customers_ci95": o.saved_customers_ci if o else None,
            "saved_value": o.saved_value if o else None,
            "saved_value_ci95": o.saved_value_ci if o else None,
            "cost": o.cost if o else None,
            "roi": o.roi if o else None,
            "roi_ci95": o.roi_ci if o else None,
            "accepted_rate": o.accepted_rate if o else None,
            "predicted": {"uplift": o.predicted_uplift,
                          "saved_customers": o.predicted_saved_customers,
                          "saved_value": o.predicted_saved_value} if o else None,
            "note": o.note if o else "",
            "by_offer": [m.to_dict() for m in self.by_offer],
            "by_tier": [m.to_dict() for m in self.by_tier],
            "rows_read": self.rows_read, "rows_used": self.rows_used,
            "problems": [p.message for p in self.problems],
            "fatal": self.fatal,
        }
        return out

    def table(self, which: str = "offer") -> pd.DataFrame:
        """by_offer / by_tier ("offer" or "tier") as a frame, one row per `Measure`."""
        items = self.by_offer if which == "offer" else self.by_tier
        return pd.DataFrame([m.to_dict() for m in items],
                            columns=list(Measure.__dataclass_fields__))


# --- intervals ---------------------------------------------------------------------------------
def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion x/n (n ≥ 1): (lo, hi), both in [0, 1]."""
    if n <= 0:
        raise ValueError(f"n={n} must be at least 1 to give an interval.")
    p = x / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 − p2 (p1 = x1/n1, p2 = x2/n2, independent groups).

    With (l1, u1), (l2, u2) the Wilson intervals and d = p1 − p2:
    lo = d − √((p1 − l1)² + (u2 − p2)²), hi = d + √((u1 − p1)² + (p2 − l2)²).
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


# --- reading ------------------------------------------------------------------------------------
def read_outcomes(source, name: str | None = None) -> tuple[pd.DataFrame | None, Problem | None]:
    """Read a results file (path, bytes or file-like; CSV or .xlsx) as text columns.

    Returns (frame, None), or (None, fatal Problem) when it cannot be read. Every cell is text
    (blank → ""), so nothing is guessed; :func:`measure` converts what it needs.
    """
    if isinstance(source, (str, Path)):
        name = name or Path(source).name
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            return None, Problem(MSG_UNREADABLE.format(name=name, why=exc.strerror or exc), True)
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        data = source.read()
        name = name or getattr(source, "name", None)
    name = name or "The file"
    if not data.strip():
        return None, Problem(MSG_EMPTY.format(name=name), True)
    try:
        if data[:4] == b"PK\x03\x04":
            df = pd.read_excel(io.BytesIO(data), engine="openpyxl", dtype=str)
            df = df.fillna("")
        else:
            if b"\x00" in data[:4096]:
                raise ValueError("it looks like binary data")
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
            header = text.splitlines()[0] if text.strip() else ""
            sep = max((",", ";", "\t"), key=header.count)
            names = set(machine_headers(str(c).strip().lstrip("'") for c in header.split(sep)))
            # Only the columns measuring reads (a campaign's reason text is long): faster.
            use = (lambda c: machine_headers([str(c).strip().lstrip("'")])[0] in _READ_COLS) \
                if {ID, "churned"} <= names else None
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep,
                             usecols=use)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file, not a crash
        return None, Problem(MSG_UNREADABLE.format(name=name, why=str(exc).splitlines()[0]
                                                   if str(exc) else type(exc).__name__), True)
    # The Excel export's business headers ("Customer ID", "Offer cost ($)"...) read as the
    # CSV's names, so either file, or a copy saved from the other, is understood.
    df.columns = machine_headers(str(c).strip().lstrip("'") for c in df.columns)
    if df.empty:
        return None, Problem(MSG_EMPTY.format(name=name), True)
    return df, None


# --- measuring ----------------------------------------------------------------------------------
_YES, _NO = {"yes", "y", "1", "true"}, {"no", "n", "0", "false"}
_CAMPAIGN_COLS = ["group", "offer", "offer_id", "risk_tier", "clv", "offer_cost",
                  "expected_saved_value"]
_READ_COLS = {ID, "churned", "accepted", *_CAMPAIGN_COLS}
TIER_ORDER = ["High", "Medium", "Low"]


def _by_value(values: pd.Series, fn) -> np.ndarray:
    """`fn` applied once per distinct value (a column of a few distinct words is fast)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.asarray([fn(u) for u in uniques], dtype=object)[codes] if len(uniques) else \
        np.asarray([], dtype=object)


def _yes_no(values: pd.Series) -> np.ndarray:
    """1.0 for yes, 0.0 for no, NaN for blank, -1.0 for anything else."""
    def one(v) -> float:
        t = "" if v is None or (isinstance(v, float) and v != v) else str(v).strip().lower()
        return 1.0 if t in _YES else 0.0 if t in _NO else np.nan if t == "" else -1.0

    return _by_value(values, one).astype(float)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A money or number column as floats (NaN: blank or not a number); "$1,234" and a
    formula guard's leading ' are understood."""
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    raw = frame[col]
    out = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    odd = np.isnan(out) & (raw.astype(str).str.len().to_numpy() > 0)
    if odd.any():
        fixed = raw[odd].astype(str).str.replace(r"[$,\s]", "", regex=True).str.lstrip("'")
        out[odd] = pd.to_numeric(fixed, errors="coerce").to_numpy(dtype=float)
    return out


def _clean_id(v) -> str:
    return str(v).strip().lstrip("'")


def measure(outcomes: pd.DataFrame, campaign: pd.DataFrame | None = None, *,
            name: str = "The file", min_group: int = MIN_GROUP_SIZE) -> Results:
    """Measure a campaign's effect from its outcomes.

    outcomes: the results file as read by :func:`read_outcomes` (text columns; at least
      customerID and churned; optionally accepted and the campaign's own columns).
    campaign: the campaign as exported or saved (``Campaign.rows``), when the results file does
      not carry its columns (e.g. only customerID, churned, accepted); rows of `outcomes` whose
      customer is not in it are left out (:data:`MSG_NOT_IN_CAMPAIGN`). None: the results file is
      the exported campaign with churned filled in.
    name: the file's name in messages. min_group: see :data:`MIN_GROUP_SIZE`.
    Returns `Results` (never raises on the user's data).
    """
    problems: list[Problem] = []
    if outcomes is None or len(outcomes) == 0:
        return Results(None, problems=[Problem(MSG_EMPTY.format(name=name), True)])
    df = outcomes.reset_index(drop=True).copy()
    df.columns = [str(c).strip() for c in df.columns]
    rows_read = len(df)
    if ID not in df.columns:
        return Results(None, problems=[Problem(MSG_NO_ID.format(name=name), True)],
                       rows_read=rows_read)
    if "churned" not in df.columns:
        return Results(None, problems=[Problem(MSG_NO_CHURNED.format(name=name), True)],
                       rows_read=rows_read)
    df[ID] = df[ID].map(_clean_id)
    df["_row"] = np.arange(len(df)) + 2  # spreadsheet row (header = row 1)
    keep = np.ones(len(df), dtype=bool)

    dup = df[ID].duplicated().to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        problems.append(Problem(MSG_DUPLICATE.format(n=int(dup.sum()), id=df[ID].iloc[first],
                                                     row=int(df["_row"].iloc[first]))))
        keep &= ~dup

    if campaign is not None:
        camp = campaign.reset_index(drop=True).copy()
        camp[ID] = camp[ID].astype(str)
        camp = camp.drop_duplicates(ID)
        if "group" not in camp.columns:
            camp["group"] = TREATMENT
        cols = [c for c in _CAMPAIGN_COLS if c in camp.columns]
        df = df.drop(columns=[c for c in cols if c in df.columns])
        df = df.merge(camp[[ID] + cols], on=ID, how="left", indicator=True)
        missing = (df.pop("_merge") == "left_only").to_numpy() & keep
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            problems.append(Problem(MSG_NOT_IN_CAMPAIGN.format(
                n=int(missing.sum()), id=df[ID].iloc[first], row=int(df["_row"].iloc[first]))))
            keep &= ~missing

    churned = _yes_no(df["churned"])
    blank = np.isnan(churned) & keep
    if blank.any():
        first = int(np.flatnonzero(blank)[0])
        problems.append(Problem(MSG_MISSING_CHURNED.format(n=int(blank.sum()),
                                                           row=int(df["_row"].iloc[first]))))
        keep &= ~blank
    bad = (churned == -1.0) & keep
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        problems.append(Problem(MSG_BAD_CHURNED.format(n=int(bad.sum()),
                                                       value=str(df["churned"].iloc[first]),
                                                       row=int(df["_row"].iloc[first]))))
        keep &= ~bad

    if "group" in df.columns:
        group = pd.Series(_by_value(df["group"], lambda v: str(v).strip().lower()),
                          index=df.index)
        badg = ~group.isin([TREATMENT, CONTROL]).to_numpy() & keep
        if badg.any():
            first = int(np.flatnonzero(badg)[0])
            problems.append(Problem(MSG_BAD_GROUP.format(n=int(badg.sum()),
                                                         value=str(df["group"].iloc[first]),
                                                         row=int(df["_row"].iloc[first]))))
            keep &= ~badg
    else:  # an export from before control groups: everyone was treated
        group = pd.Series(TREATMENT, index=df.index)

    used = pd.DataFrame({
        ID: df[ID].to_numpy()[keep],
        "group": group.to_numpy()[keep],
        "churned": churned[keep].astype(int),
        "accepted": (_yes_no(df["accepted"])[keep] if "accepted" in df.columns
                     else np.full(int(keep.sum()), np.nan)),
        "offer": (df["offer"].astype(str).to_numpy()[keep] if "offer" in df.columns
                  else df["offer_id"].astype(str).to_numpy()[keep] if "offer_id" in df.columns
                  else np.full(int(keep.sum()), "")),
        "offer_id": (df["offer_id"].astype(str).to_numpy()[keep] if "offer_id" in df.columns
                     else np.full(int(keep.sum()), "")),
        "risk_tier": (df["risk_tier"].astype(str).to_numpy()[keep] if "risk_tier" in df.columns
                      else np.full(int(keep.sum()), "")),
        "clv": _num(df, "clv")[keep],
        "offer_cost": _num(df, "offer_cost")[keep],
        "expected_saved_value": _num(df, "expected_saved_value")[keep],
    })
    if not (used["group"] == CONTROL).any():
        problems.append(Problem(MSG_NO_CONTROL))
    overall = _measure(used, "All customers", min_group)
    if overall.note and (used["group"] == CONTROL).any():
        problems.append(Problem(overall.note))
    by_offer = [_measure(g, str(k), min_group)
                for k, g in used.groupby("offer", sort=True)] if used["offer"].ne("").any() else []
    tiers = [t for t in TIER_ORDER if t in set(used["risk_tier"])] + sorted(
        t for t in set(used["risk_tier"]) if t not in TIER_ORDER and t != "")
    by_tier = [_measure(used[used["risk_tier"] == t], t, min_group) for t in tiers]
    return Results(overall, by_offer, by_tier, problems, rows_read, int(len(used)), used)


def _measure(used: pd.DataFrame, label: str, min_group: int) -> Measure:
    """The figures of one set of counted rows (see `Measure` and the module doc)."""
    treat = used[used["group"] == TREATMENT]
    ctrl = used[used["group"] == CONTROL]
    nt, nc = len(treat), len(ctrl)
    kt, kc = int(treat["churned"].sum()), int(ctrl["churned"].sum())
    m = Measure(label, nt, nc, kt, kc,
                kt / nt if nt else None, kc / nc if nc else None,
                list(wilson(kt, nt)) if nt else None, list(wilson(kc, nc)) if nc else None)
    cost = treat["offer_cost"].to_numpy(dtype=float)
    m.cost = float(np.nansum(cost)) if nt and not np.isnan(cost).all() else None
    acc = treat["accepted"].to_numpy(dtype=float)
    acc = acc[(acc == 0) | (acc == 1)]
    m.accepted_rate = float(acc.mean()) if len(acc) else None
    clv = treat["clv"].to_numpy(dtype=float)
    esv = treat["expected_saved_value"].to_numpy(dtype=float)
    if nt and not np.isnan(esv).all():
        m.predicted_saved_value = float(np.nansum(esv))
        ok = ~np.isnan(esv) & (clv > 0)
        if ok.any():
            m.predicted_saved_customers = float((esv[ok] / clv[ok]).sum() * nt / ok.sum())
            m.predicted_uplift = m.predicted_saved_customers / nt
    if nc == 0:
        m.note = "No control group: the uplift cannot be measured."
        return m
    if nt < min_group or nc < min_group:
        m.note = MSG_TOO_SMALL.format(nt=nt, nc=nc, min=min_group)
        return m
    m.uplift = m.rate_control - m.rate_treatment
    m.ci95 = list(newcombe(kc, nc, kt, nt))
    m.saved_customers = m.uplift * nt
    m.saved_customers_ci = [v * nt for v in m.ci95]
    total_clv = float(np.nansum(clv)) if not np.isnan(clv).all() else None
    if total_clv is not None:
        m.saved_value = m.uplift * total_clv
        m.saved_value_ci = [v * total_clv for v in m.ci95]
        if m.cost:
            m.roi = (m.saved_value - m.cost) / m.cost
            m.roi_ci = [(v - m.cost) / m.cost for v in m.saved_value_ci]
    return m


def measure_file(source, campaign: pd.DataFrame | None = None, *, name: str | None = None,
                 min_group: int = MIN_GROUP_SIZE) -> Results:
    """:func:`read_outcomes` then :func:`measure` (a file that cannot be read gives `Results`
    with a fatal problem, never an exception)."""
    frame, problem = read_outcomes(source, name)
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "The file")
    if problem is not None:
        return Results(None, problems=[problem])
    return measure(frame, campaign, name=label, min_group=min_group)


def plain_summary(r: Results) -> str:
    """The headline in plain words (page and CLI), e.g. "The offers cut churn by 6.1 points
    (95% confidence interval 1.2 to 11.0 points): about 22 customers kept (4 to 41)."""
    o = r.overall
    if r.fatal:
        return r.fatal
    if o is None or not o.measured:
        return o.note if o is not None else "Nothing to measure."
    lo, hi = o.ci95
    kept = o.saved_customers
    verb = "cut churn by" if o.uplift >= 0 else "raised churn by"
    text = (f"The offers {verb} {abs(o.uplift) * 100:.1f} percentage points (control "
            f"{o.rate_control:.1%} churned, treatment {o.rate_treatment:.1%}); 95% confidence "
            f"interval {lo * 100:+.1f} to {hi * 100:+.1f} points. ")
    if kept >= 0:
        text += f"About {kept:,.0f} customers kept "
    else:
        text += f"About {-kept:,.0f} more customers left than without the offers "
    text += (f"(95% interval {o.saved_customers_ci[0]:+,.0f} to {o.saved_customers_ci[1]:+,.0f} "
             "customers kept).")
    if lo <= 0 <= hi:
        text += (" The interval includes zero: this campaign cannot tell a real effect from "
                 "chance.")
    return text


def history_rows(r: Results, campaign_id: str, date: str) -> pd.DataFrame:
    """The counted rows in the campaign history format (one row per customer): customerID,
    campaign_id, date (YYYY-MM-DD), offer_id, group, accepted (Yes/No for treatment, blank for
    control and when unknown), churned (Yes/No)."""
    u = r.used
    acc = u["accepted"].to_numpy(dtype=float) if len(u) else np.array([])
    accepted = np.where(u["group"].to_numpy() == CONTROL, "",
                        np.where(acc == 1, "Yes", np.where(acc == 0, "No", ""))) if len(u) else []
    return pd.DataFrame({
        ID: u[ID].astype(str).to_numpy() if len(u) else [],
        "campaign_id": str(campaign_id), "date": str(date),
        "offer_id": u["offer_id"].astype(str).to_numpy() if len(u) else [],
        "group": u["group"].astype(str).to_numpy() if len(u) else [],
        "accepted": accepted,
        "churned": np.where(u["churned"].to_numpy() == 1, "Yes", "No") if len(u) else [],
    }, columns=[ID, "campaign_id", "date", "offer_id", "group", "accepted", "churned"])


def recorded_history(store_path) -> pd.DataFrame | None:
    """The campaign outcomes recorded in the store at `store_path` (campaign history format, text
    columns), or None when there are none or the store cannot be opened (e.g. another process
    holds it). ``scoring.Engine`` adds them to the sample's campaign history, so the next
    recommender learns from them."""
    from pathlib import Path as _Path

    if not _Path(store_path).exists():
        return None
    try:
        from churn.store import Store

        found = Store(store_path).load_campaign_history()
    except Exception:  # noqa: BLE001 - a locked or broken store: learn from the files only
        return None
    if found is None or len(found) == 0:
        return None
    return found.fillna("").astype(str)
