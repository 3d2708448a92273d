"""Which customers a frame holds, and which of them decisions are about.

Two kinds of customer data (issue 11):

- **history**: labelled customers (a ``Churn`` column). The model learns from them and the
  explanations describe them. Customers with ``Churn = Yes`` have *left*: they are never campaign
  targets, never the default what-if customer, and never counted as predicted churners or revenue
  at risk.
- **active base**: the customers still here, the ones every decision is about. A file with no
  ``Churn`` column is an active base; in a labelled file, the rows with ``Churn = No`` are its
  active customers.

Pages, the API and the CLI call :func:`active` before scoring anything they decide on, and
:func:`describe` for the one line that says what they show.

Scores of customers the model was *trained on* must be out-of-fold, never in-sample (an in-sample
score of a customer whose label the model saw is too confident). :func:`out_of_fold` finds the
rows of a frame that are training rows (same customerID and the same feature values) and returns
their cross-fitted out-of-fold probability, which ``scoring.Engine.score_all`` uses instead of
the model's own score.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn import schema
from churn.schema import FEATURES, ID, TARGET

HISTORY = "history"
ACTIVE = "active"


@dataclass(frozen=True)
class Population:
    """What a frame holds: kind ("history" or "active"), rows in the frame, active rows, and
    the rows that have left (0 for an active base)."""

    kind: str
    rows: int
    active: int
    left: int

    @property
    def line(self) -> str:
        """One plain sentence for a page caption or a CLI output line."""
        if self.kind == ACTIVE:
            return (f"Active base: {self.active:,} current customers (no churn outcome yet); "
                    "every figure is about them.")
        return (f"History (labelled): {self.rows:,} customers, of whom {self.left:,} have left; "
                f"risk figures and campaigns use the {self.active:,} still active.")

    def stand_in_line(self, active_base: int) -> str:
        """The sentence for this history when a page shows it in place of the chosen active base
        of ``active_base`` customers (the Why page explains the history the model learned from,
        whose outcomes it compares with): says which customers the other figures are about."""
        return (f"Explained on the labelled history the model learned from: {self.rows:,} "
                f"customers, of whom {self.left:,} have left. Risk figures and campaigns use the "
                f"chosen active base ({active_base:,} current customers).")


def _left_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for rows with Churn = Yes (canonical 1; "Yes"/True accepted too)."""
    s = frame[TARGET]
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return s.astype(str).str.strip().str.lower().isin(["yes", "1", "true"]).to_numpy()
    return (pd.to_numeric(s, errors="coerce").fillna(0).to_numpy() == 1)


def kind(frame: pd.DataFrame) -> str:
    """"history" when the frame has a Churn column, else "active"."""
    return HISTORY if TARGET in frame.columns else ACTIVE


def active(frame: pd.DataFrame) -> pd.DataFrame:
    """The active customers of a frame: every row when there is no Churn column, else the rows
    with Churn = No (the same object when nothing is dropped, so cached fingerprints hold)."""
    if TARGET not in frame.columns:
        return frame
    left = _left_mask(frame)
    return frame if not left.any() else frame[~left]


def describe(frame: pd.DataFrame) -> Population:
    """What the frame holds (see `Population`)."""
    n = int(len(frame))
    if TARGET not in frame.columns:
        return Population(ACTIVE, n, n, 0)
    left = int(_left_mask(frame).sum())
    return Population(HISTORY, n, n - left, left)


def out_of_fold(frame: pd.DataFrame, training: pd.DataFrame, oof_prob: pd.Series) -> np.ndarray:
    """Out-of-fold P(churn) for the rows of `frame` the model was trained on, NaN elsewhere.

    frame: canonical customers to score. training: the canonical frame the model was trained on.
    oof_prob: cross-fitted out-of-fold probability per training customer, indexed by customerID
    (``models.load_oof(version)["p_<family>"]``).
    A row counts as trained on when a training row has its customerID *and* the same value in
    every feature column: an edited or aged customer (new tenure or charges) is new data, scored
    by the model. Returns a float array aligned with `frame` (NaN: not a training row).
    """
    return TrainingLookup(training, oof_prob).out_of_fold(frame)


class TrainingLookup:
    """`out_of_fold` with its per-training-set work done once (the engine keeps one: a single
    customer's lookup then costs well under a millisecond instead of re-indexing every training
    row on each call)."""

    def __init__(self, training: pd.DataFrame, oof_prob: pd.Series):
        self.training = training
        self.oof_prob = oof_prob
        ok = ID in training.columns and len(training) > 0
        tr = training.drop_duplicates(ID) if ok else training
        self._index = pd.Index(tr[ID].astype(str).to_numpy()) if ok else pd.Index([])
        self._columns = {c: (tr[c].to_numpy(), pd.api.types.is_numeric_dtype(tr[c]))
                         for c in FEATURES if c in tr.columns}
        oof = oof_prob.copy()
        oof.index = oof.index.astype(str)
        self._oof = oof[~oof.index.duplicated()]
        self._position_dict: dict[str, int] | None = None   # few-row look-ups, built lazily
        self._oof_dict: dict[str, float] | None = None

    def out_of_fold(self, frame: pd.DataFrame) -> np.ndarray:
        """See `out_of_fold`."""
        out = np.full(len(frame), np.nan)
        if ID not in frame.columns or len(frame) == 0 or len(self._index) == 0:
            return out
        # One customer: its columns as arrays and dict look-ups by customerID (the same
        # answers as the index look-ups, which cost more to set up than to run).
        arrays = schema.column_arrays(frame)
        ids = schema.id_texts(frame)
        if arrays is None:
            pos = self._index.get_indexer(ids)
        else:
            where = self._positions()
            pos = np.array([where.get(i, -1) for i in ids], dtype=np.intp)
        hit = np.flatnonzero(pos >= 0)
        if len(hit) == 0:
            return out
        same = np.ones(len(hit), dtype=bool)
        for col, (train_values, train_numeric) in self._columns.items():
            if col not in frame.columns:
                continue
            a = (frame[col].to_numpy() if arrays is None else arrays[col])[hit]
            b = train_values[pos[hit]]
            numeric = (pd.api.types.is_numeric_dtype(frame[col]) if arrays is None
                       else arrays[col].dtype.kind in "biufc")
            if train_numeric and numeric:
                a, b = a.astype(float), b.astype(float)
                same &= np.isclose(a, b, rtol=0, atol=1e-9) | (np.isnan(a) & np.isnan(b))
            else:
                same &= a.astype(str) == b.astype(str)
        hit = hit[same]
        if arrays is None:
            out[hit] = self._oof.reindex(ids[hit]).to_numpy(dtype=float)
        else:
            oof = self._oof_by_id()
            out[hit] = [oof.get(i, np.nan) for i in ids[hit]]
        return out

    def _positions(self) -> dict[str, int]:
        """customerID -> position in the training arrays (built on the first few-row call)."""
        if self._position_dict is None:
            self._position_dict = dict(zip(self._index.tolist(), range(len(self._index))))
        return self._position_dict

    def _oof_by_id(self) -> dict[str, float]:
        """customerID -> out-of-fold P(churn) (built on the first few-row call)."""
        if self._oof_dict is None:
            self._oof_dict = dict(zip(self._oof.index.tolist(),
                                      self._oof.to_numpy(dtype=float).tolist()))
        return self._oof_dict
