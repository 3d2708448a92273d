"""The Telco customer schema, declared once.

Everything else derives from this module: validation (`churn.validate`), the feature pipeline
(`churn.models`), the what-if widgets (`ui/`), and the generator (`churn.synth`).

The *canonical frame* is what every core function takes and returns after validation:

- ``customerID``: str
- category columns: str, exactly one of the column's ``values``
- ``SeniorCitizen``: int 0/1 (as in the IBM file)
- ``tenure``: int months; ``MonthlyCharges``: float dollars
- ``TotalCharges``: float dollars, NaN exactly when the customer has not been billed yet (tenure 0)
- ``Churn`` (optional): int 0/1

``to_file_frame`` turns a canonical frame back into the exact text layout of the IBM file.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

ID = "customerID"
TARGET = "Churn"
#: The columns the core computes with by name (money, time, the main segments), so no module
#: retypes them: tenure in months, the monthly bill and the total billed in dollars.
TENURE = "tenure"
MONTHLY = "MonthlyCharges"
TOTAL = "TotalCharges"

#: Longest customer ID, and longest value of any other column, a file may hold (characters);
#: longer values are row errors, so nothing downstream ever sizes memory by a runaway cell.
MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 256

NO_INTERNET = "No internet service"
NO_PHONE = "No phone service"


@dataclass(frozen=True)
class Column:
    """One column of the schema.

    kind: ``id`` | ``category`` | ``flag01`` (0/1 integer, shown as No/Yes) | ``integer`` |
    ``money`` | ``target``.
    ``minimum``/``maximum`` bound valid values (outside: a row error);
    ``widget_min``/``widget_max`` bound the what-if sliders.
    ``parent``/``parent_value``/``forced``: when ``row[parent] == parent_value`` this column must be
    ``forced`` (and only then).
    """

    name: str
    kind: str
    label: str
    help: str
    values: tuple = ()
    required: bool = True
    editable: bool = True
    minimum: float | None = None
    maximum: float | None = None
    widget_min: float | None = None
    widget_max: float | None = None
    parent: str | None = None
    parent_value: str | None = None
    forced: str | None = None

    @property
    def is_feature(self) -> bool:
        return self.kind not in ("id", "target")


_YN = ("No", "Yes")
_ADDON = ("No", "Yes", NO_INTERNET)


def _addon(name: str, label: str, help: str) -> Column:
    return Column(name, "category", label, help, _ADDON,
                  parent="InternetService", parent_value="No", forced=NO_INTERNET)


COLUMNS: tuple[Column, ...] = (
    Column(ID, "id", "Customer ID", "The customer's identifier, e.g. 7590-VHVEG.", editable=False),
    Column("gender", "category", "Gender", "Customer's gender.", ("Female", "Male")),
    Column("SeniorCitizen", "flag01", "Senior citizen", "Whether the customer is 65 or older.",
           (0, 1)),
    Column("Partner", "category", "Partner", "Whether the customer has a partner.", _YN),
    Column("Dependents", "category", "Dependents", "Whether the customer has dependents.", _YN),
    Column("tenure", "integer", "Tenure (months)", "Months the customer has been with us.",
           minimum=0, maximum=120, widget_min=0, widget_max=72),
    Column("PhoneService", "category", "Phone service", "Whether the customer has a phone line.",
           _YN),
    Column("MultipleLines", "category", "Multiple lines", "Whether the customer has more than one line.",
           ("No", "Yes", NO_PHONE), parent="PhoneService", parent_value="No", forced=NO_PHONE),
    Column("InternetService", "category", "Internet service", "Type of internet connection.",
           ("DSL", "Fiber optic", "No")),
    _addon("OnlineSecurity", "Online security", "Online security add-on."),
    _addon("OnlineBackup", "Online backup", "Online backup add-on."),
    _addon("DeviceProtection", "Device protection", "Device protection add-on."),
    _addon("TechSupport", "Tech support", "Premium technical support add-on."),
    _addon("StreamingTV", "Streaming TV", "Streaming TV add-on."),
    _addon("StreamingMovies", "Streaming movies", "Streaming movies add-on."),
    Column("Contract", "category", "Contract", "Contract term.",
           ("Month-to-month", "One year", "Two year")),
    Column("PaperlessBilling", "category", "Paperless billing", "Whether bills are paperless.", _YN),
    Column("PaymentMethod", "category", "Payment method", "How the customer pays.",
           ("Electronic check", "Mailed check", "Bank transfer (automatic)",
            "Credit card (automatic)")),
    Column("MonthlyCharges", "money", "Monthly charges ($)", "Current monthly bill in dollars.",
           minimum=0, maximum=1000, widget_min=18.0, widget_max=120.0),
    Column("TotalCharges", "money", "Total charges ($)",
           "Total billed so far in dollars; blank for customers not yet billed (tenure 0).",
           minimum=0, maximum=100_000, widget_min=0.0, widget_max=9000.0),
    Column(TARGET, "target", "Churned", "Whether the customer left (needed only for training).",
           (0, 1), required=False, editable=False),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
FILE_COLUMNS: list[str] = [c.name for c in COLUMNS]
REQUIRED_COLUMNS: list[str] = [c.name for c in COLUMNS if c.required]
FEATURES: list[str] = [c.name for c in COLUMNS if c.is_feature]
CATEGORICAL_FEATURES: list[str] = [c.name for c in COLUMNS if c.kind == "category"]
NUMERIC_FEATURES: list[str] = [c.name for c in COLUMNS if c.kind in ("flag01", "integer", "money")]
EDITABLE_FEATURES: list[str] = [c.name for c in COLUMNS if c.is_feature and c.editable]
DEPENDENT_COLUMNS: list[Column] = [c for c in COLUMNS if c.parent]

# --- segments: the column groups the windows split, filter or break figures down by -------------
#: The main business segments: the Overview's "split by", the survival curves, the customer
#: list's filter.
MAIN_SEGMENTS: tuple[str, ...] = ("Contract", "InternetService", "PaymentMethod")
#: Columns a campaign list can be limited to (the main segments first).
CAMPAIGN_SEGMENTS: tuple[str, ...] = MAIN_SEGMENTS + (
    "PaperlessBilling", "SeniorCitizen", "Partner", "Dependents", "gender", "PhoneService",
    "TechSupport", "OnlineSecurity")
#: Columns the model's metrics are broken down by (does it work as well for every group?).
METRIC_SEGMENTS: tuple[str, ...] = ("gender", "SeniorCitizen", "Contract")


def max_length(column) -> int:
    """Most characters a value of ``column`` (a `Column` or its name) may have."""
    col = BY_NAME.get(column) if isinstance(column, str) else column
    return MAX_ID_LENGTH if col is not None and col.kind == "id" else MAX_TEXT_LENGTH


def label(name: str) -> str:
    """Business label of a column (the name itself when unknown)."""
    col = BY_NAME.get(name)
    return col.label if col else name


def enforce_dependencies(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy where dependent columns obey their parent (the what-if form's rules).

    A dependent column is set to its forced value when the parent says so; when the parent no
    longer says so but the column still holds the forced value, it becomes "No" (the customer
    has the service but not the add-on).
    """
    out = df.copy()
    for col in DEPENDENT_COLUMNS:
        if col.name not in out or col.parent not in out:
            continue
        off = out[col.parent] == col.parent_value
        out.loc[off, col.name] = col.forced
        out.loc[~off & (out[col.name] == col.forced), col.name] = "No"
    return out


def total_charges_estimate(tenure, monthly) -> np.ndarray:
    """tenure × MonthlyCharges, NaN for tenure 0 (not yet billed), as in the IBM file."""
    tenure = np.asarray(tenure, dtype=float)
    monthly = np.asarray(monthly, dtype=float)
    return np.where(tenure > 0, np.round(tenure * monthly, 2), np.nan)


def feature_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The model's input: the feature columns of a canonical frame, in schema order.

    TotalCharges NaN (not yet billed) becomes 0 dollars billed. customerID and Churn never enter.
    A few rows (the API, the what-if page) are built in one constructor from numpy arrays, which
    saves the per-column pandas overhead (about 5 ms a call); many rows go through pandas, whose
    text conversion is faster at scale. Both give equal frames (tested).
    """
    if len(df) < _SMALL_FRAME:
        memo = getattr(_SHARED, "memo", None)
        if memo is not None and memo["df"] is df:
            if "X" not in memo:
                memo["X"] = _small_feature_frame(df)
            return memo["X"]
        return _small_feature_frame(df)
    X = df[FEATURES].copy()
    X["TotalCharges"] = X["TotalCharges"].astype(float).fillna(0.0)
    X["SeniorCitizen"] = X["SeniorCitizen"].astype(int)
    X["tenure"] = X["tenure"].astype(int)
    X["MonthlyCharges"] = X["MonthlyCharges"].astype(float)
    for c in CATEGORICAL_FEATURES:
        X[c] = X[c].astype(str)
    return X


def in_feature_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame[FEATURES]``, or ``frame`` itself when its columns are already exactly FEATURES
    (no selection: for one customer the copy costs more than the work that follows)."""
    return frame if list(frame.columns) == FEATURES else frame[FEATURES]


def numeric_matrix(X: pd.DataFrame) -> np.ndarray:
    """The NUMERIC_FEATURES of a feature frame as a float64 matrix (rows × 3), column by column:
    the same numbers as ``X[NUMERIC_FEATURES].to_numpy(float)`` without the frame selection
    (about 0.35 ms of a one-customer call)."""
    return np.column_stack([column_values(X, c).astype(np.float64) for c in NUMERIC_FEATURES])


#: Below this many rows `feature_frame` skips pandas' per-column conversions.
_SMALL_FRAME = 2048

_SHARED = threading.local()


@contextmanager
def shared_encoding(df: pd.DataFrame):
    """Within the block, `feature_frame(df)` of this very frame object (fewer than
    ``_SMALL_FRAME`` rows) is built once and `one_hot` of that feature frame is computed once:
    the churn model, the recommender and the uplift models of one customer share one encoding
    instead of building it three times (about 2 ms of a one-customer call). Per thread; the
    frame must not be changed inside the block (the shared frame is read-only by contract, and
    `one_hot` hands out copies). Outside the block, or for other frames, nothing changes."""
    previous = getattr(_SHARED, "memo", None)
    _SHARED.memo = {"df": df} if len(df) < _SMALL_FRAME else None
    try:
        yield
    finally:
        _SHARED.memo = previous


#: Below this many rows the one-customer shortcuts (`column_arrays` and the functions that use
#: it) read a frame's columns as plain numpy arrays: each pandas column access costs tens of
#: microseconds, which a one-customer call pays a few hundred times.
FEW_ROWS = 16


def column_arrays(df: pd.DataFrame) -> dict[str, np.ndarray] | None:
    """Every column of a frame of fewer than `FEW_ROWS` rows as a numpy array of its own dtype
    (read in one pass: one object matrix, each column cast back to its dtype, which gives the
    same values), or None when that does not apply (more rows, repeated column names, or a
    pandas extension dtype): callers then use pandas as usual. Inside a `shared_encoding`
    block its frame and that frame's `feature_frame` are read once. The arrays are not views of
    ``df``; treat them as read-only."""
    if len(df) >= FEW_ROWS:
        return None
    found = _shared_arrays(df)
    return _column_arrays(df) if found is None else found[0]


def _shared_arrays(df: pd.DataFrame) -> tuple | None:
    """(`column_arrays` of df,) when df is the open `shared_encoding` block's frame or its
    feature frame (read-only by contract, so read once), else None."""
    memo = getattr(_SHARED, "memo", None)
    if memo is None or len(df) >= FEW_ROWS:
        return None
    key = "df_arrays" if memo["df"] is df else "X_arrays" if memo.get("X") is df else None
    if key is None:
        return None
    if key not in memo:
        memo[key] = (_column_arrays(df),)
    return memo[key]


def column_getter(df: pd.DataFrame):
    """``name -> df[name].to_numpy()`` for reading several columns of one frame; for a few rows
    every column is read in one pass (`column_arrays`: the same values), not one pandas access
    each. Read-only arrays."""
    arrays = column_arrays(df)
    if arrays is None:
        return lambda name: df[name].to_numpy()
    return arrays.__getitem__


def column_values(df: pd.DataFrame, name: str) -> np.ndarray:
    """``df[name].to_numpy()`` (read-only); from the block's `column_arrays` inside a
    `shared_encoding` block (one access of pandas per column costs tens of microseconds)."""
    found = _shared_arrays(df)
    if found is None or found[0] is None:
        return df[name].to_numpy()
    return found[0][name]


def column_numbers(df: pd.DataFrame, name: str) -> np.ndarray:
    """``pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)``; a column of numbers
    (which `pd.to_numeric` returns unchanged) is only cast."""
    values = column_values(df, name)
    if values.dtype.kind in "biuf":
        return values.astype(float)
    return pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)


def id_texts(df: pd.DataFrame) -> np.ndarray:
    """``df[ID].astype(str).to_numpy()`` (object array); a few IDs that are already texts are
    taken as they are (what ``astype(str)`` leaves them)."""
    if len(df) < FEW_ROWS:
        values = column_values(df, ID)
        if all(isinstance(v, str) for v in values):
            return np.array(values, dtype=object)
    return df[ID].astype(str).to_numpy()


def _column_arrays(df: pd.DataFrame) -> dict[str, np.ndarray] | None:
    if not df.columns.is_unique:
        return None
    dtypes = list(df.dtypes)
    if not all(isinstance(t, np.dtype) and t.kind in "biufO" for t in dtypes):
        return None
    matrix = df.to_numpy(dtype=object)
    return {c: matrix[:, j] if t.kind == "O" else matrix[:, j].astype(t)
            for j, (c, t) in enumerate(zip(df.columns, dtypes))}


def _small_feature_frame(df: pd.DataFrame) -> pd.DataFrame:
    data = {}
    arrays = column_arrays(df)
    for c in FEATURES:
        v, kind = (arrays[c] if arrays is not None else df[c].to_numpy()), BY_NAME[c].kind
        if kind == "money":  # NaN TotalCharges: not billed yet, 0 dollars
            v = np.nan_to_num(v.astype(float), nan=0.0, posinf=np.inf, neginf=-np.inf)
        elif kind in ("flag01", "integer"):
            v = v.astype(int)
        else:
            v = v.astype(str).astype(object)
        data[c] = v
    # Fresh arrays in FEATURES order: no copy and no consolidation into blocks (a third of
    # the constructor's cost for one customer).
    return pd.DataFrame(data, index=df.index, copy=False)


_CENTS = np.array([""] + [f".{c:02d}".rstrip("0") for c in range(1, 100)], dtype=object)


def format_dollars(values: np.ndarray, blank: str = "") -> np.ndarray:
    """Dollar amounts as the IBM file writes them: "1889.5", "29.85", "20" (trailing zeros
    dropped), ``blank`` for NaN. Vectorised (whole cents, then a table of the 100 endings)."""
    v = np.asarray(values, dtype=float)
    bad = np.isnan(v)
    cents = np.rint(np.where(bad, 0.0, np.abs(v)) * 100).astype(np.int64)
    sign = np.where(v < 0, "-", "").astype(object)
    text = sign + (cents // 100).astype(str).astype(object) + _CENTS[cents % 100]
    return np.where(bad, blank, text)


def to_file_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A canonical frame in the IBM file's text layout (TotalCharges " " when blank, Churn Yes/No)."""
    out = df[[c for c in FILE_COLUMNS if c in df.columns]].copy()
    out["TotalCharges"] = format_dollars(out["TotalCharges"].to_numpy(dtype=float), blank=" ")
    if TARGET in out:
        out[TARGET] = np.where(out[TARGET].astype(int) == 1, "Yes", "No")
    return out


def template_frame() -> pd.DataFrame:
    """Three example customers in the IBM file's layout (no Churn column): what an upload file
    should look like. Values come from the schema's value sets and its dependency rules (an
    add-on needs internet service; TotalCharges is tenure × MonthlyCharges, blank at tenure 0).
    A new customer on DSL; one with a phone line only; one with everything."""
    examples = [
        {"gender": "Female", "Partner": "Yes", "tenure": 0, "PhoneService": "No",
         "InternetService": "DSL", "add_ons": "No", "Contract": "Month-to-month",
         "PaymentMethod": "Electronic check", "MonthlyCharges": 29.85},
        {"gender": "Male", "Partner": "No", "tenure": 34, "PhoneService": "Yes",
         "InternetService": "No", "add_ons": "No", "Contract": "One year",
         "PaymentMethod": "Mailed check", "MonthlyCharges": 19.95},
        {"gender": "Female", "Partner": "Yes", "tenure": 60, "PhoneService": "Yes",
         "InternetService": "Fiber optic", "add_ons": "Yes", "Contract": "Two year",
         "PaymentMethod": "Credit card (automatic)", "MonthlyCharges": 109.65},
    ]
    rows = []
    for i, ex in enumerate(examples):
        row = {c.name: (ex["add_ons"] if c.parent == "InternetService" else c.values[0])
               for c in COLUMNS if c.kind == "category"}
        row.update({k: v for k, v in ex.items() if k != "add_ons"})
        row.update({ID: f"0000-EXMP{'ABC'[i]}", "SeniorCitizen": 0})
        rows.append(row)
    df = enforce_dependencies(pd.DataFrame(rows))
    df["TotalCharges"] = total_charges_estimate(df["tenure"], df["MonthlyCharges"])
    return df[[c for c in FILE_COLUMNS if c != TARGET]]


def template_csv_bytes() -> bytes:
    """`template_frame` as the CSV a user fills in (UTF-8, the IBM text layout)."""
    return to_file_frame(template_frame()).to_csv(index=False, lineterminator="\n").encode()


#: The dtype of each column in a canonical frame (object for IDs and categories, int64 for
#: flags, counts and Churn, float64 for money).
DTYPES: dict[str, str] = {
    c.name: ("object" if c.kind in ("id", "category")
             else "int64" if c.kind in ("flag01", "integer", "target") else "float64")
    for c in COLUMNS}


def empty_frame() -> pd.DataFrame:
    """A canonical frame with no rows and the right dtypes (`DTYPES`)."""
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in DTYPES.items()})


#: One-hot column names ("Contract=Month-to-month"), in CATEGORICAL_FEATURES then value order.
ONE_HOT_COLUMNS: list[str] = [f"{c}={v}" for c in CATEGORICAL_FEATURES for v in BY_NAME[c].values]
#: For each one-hot column, the schema feature it belongs to.
ONE_HOT_FEATURE: list[str] = [c for c in CATEGORICAL_FEATURES for _ in BY_NAME[c].values]


_CATEGORY_INDEX: dict[str, pd.Index] = {}


_CATEGORY_POSITION: dict[str, dict] = {}


def category_codes(values, column: str) -> np.ndarray:
    """Position of each value in the column's schema value set (int16), -1 when unknown.

    A few values (one customer) are looked up in a dict, many through a pandas index (the
    index's set-up costs about 0.3 ms a call, the dict's per-value cost grows with the rows)."""
    values = np.asarray(values, dtype=object)
    if len(values) < 64:
        pos = _CATEGORY_POSITION.get(column)
        if pos is None:
            pos = _CATEGORY_POSITION[column] = {v: i for i, v in enumerate(BY_NAME[column].values)}
        return np.array([pos.get(v, -1) if isinstance(v, str) else -1 for v in values],
                        dtype=np.int16)
    index = _CATEGORY_INDEX.get(column)
    if index is None:
        index = _CATEGORY_INDEX[column] = pd.Index(list(BY_NAME[column].values), dtype=object)
    return index.get_indexer(np.asarray(values, dtype=object)).astype(np.int16)


def one_hot(df: pd.DataFrame, dtype=np.float64) -> np.ndarray:
    """Indicator matrix of the categorical features (rows × ``ONE_HOT_COLUMNS``).

    The categories come from the schema, so nothing is learned from data and a row's encoding
    never depends on the other rows; an unknown value gives all zeros for that feature.
    Vectorised (one categorical coding per column): about a second for a million rows.
    """
    memo = getattr(_SHARED, "memo", None)
    if memo is not None and memo.get("X") is df:
        key = ("one_hot", np.dtype(dtype).str)
        if key not in memo:
            memo[key] = _one_hot(df, dtype)
        return memo[key].copy()
    return _one_hot(df, dtype)


def _one_hot(df: pd.DataFrame, dtype) -> np.ndarray:
    out = np.zeros((len(df), len(ONE_HOT_COLUMNS)), dtype=dtype)
    start = 0
    rows = np.arange(len(df))
    for c in CATEGORICAL_FEATURES:
        k = len(BY_NAME[c].values)
        codes = category_codes(column_values(df, c), c)
        ok = codes >= 0
        out[rows[ok], start + codes[ok]] = 1.0
        start += k
    return out
