"""Helpers of the Upload & score page: the session's memory of an upload, the tables it shows,
safe downloads and paging (retraining and its comparison are churn.retrain's).

An uploaded file is validated once per upload (Streamlit gives every upload its own
``file_id``); the report, the accepted customers and their fingerprint are kept in this
session's state (`ui.state.upload_memo`), never in a shared cache, so two browser sessions never
see each other's unsaved uploads. Scores go through `ui.context.scored` (shared, but keyed by
the content's fingerprint, so only identical data share them).

Everything below except `read` is a plain function (no Streamlit), tested directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np
import pandas as pd

from churn import schema
from churn.campaign import escape_formula
from churn.validate import Problem, ValidationReport

PAGE_SIZE = 100          # rows of the scored table shown per page
NAME_MAX = 80            # characters kept of a batch name

#: Scored-table columns shown on the page, with their headers.
SHOWN_COLUMNS = {
    schema.ID: "Customer ID", "churn_prob": "Churn probability", "risk_tier": "Risk",
    "driver_1_text": "Top reason", "driver_2_text": "Second reason",
    "driver_3_text": "Third reason", "clv": "Lifetime value", "revenue_at_risk": "Revenue at risk",
    "offer_name": "Best offer", "offer_reason": "Why this offer",
}


@dataclass
class Upload:
    """One uploaded file as this session sees it.

    file_id: Streamlit's id of the upload; file_name: as uploaded. report: the validation report.
    accepted: canonical frame of the valid rows (no ``row`` column, RangeIndex).
    fingerprint: `ui.context.frame_fingerprint(accepted)` (None when nothing was accepted).
    memo: what later steps computed for this upload (drift table, score order, ...).
    """

    file_id: str
    file_name: str
    report: ValidationReport
    accepted: pd.DataFrame
    fingerprint: str | None
    memo: dict = field(default_factory=dict)

    @property
    def has_outcomes(self) -> bool:
        """True when the accepted rows carry Churn (so they can be used to retrain)."""
        return schema.TARGET in self.accepted.columns and len(self.accepted) > 0


def read(uploaded) -> Upload:
    """The `Upload` of a Streamlit ``UploadedFile``: validated on first sight, then remembered
    in this session (one upload at a time: a new file replaces the previous one's memory)."""
    from churn.validate import validate
    from ui import context, state

    memo = state.upload_memo()
    current = memo.get("upload")
    if current is not None and current.file_id == uploaded.file_id:
        return current
    report = validate(uploaded.getvalue())
    report.source = uploaded.name
    accepted = report.frame.drop(columns="row").reset_index(drop=True)
    fp = context.frame_fingerprint(accepted) if len(accepted) else None
    up = Upload(uploaded.file_id, uploaded.name, report, accepted, fp)
    memo.clear()
    memo["upload"] = up
    return up


# --- tables -------------------------------------------------------------------------------------
def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table: row (file row number; blank for the whole file/column), column
    (blank for a whole row), reason."""
    return pd.DataFrame({
        "row": pd.array([p.row for p in problems], dtype="Int64"),
        "column": [p.column or "" for p in problems],
        "reason": [p.message for p in problems]})


_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def safe_cell(value):
    """A cell that a spreadsheet will not run as a formula: text starting with = + - @ (etc.)
    gets a leading quote (`churn.campaign.escape_formula`), except plain numbers such as "-5",
    which are data, not formulas."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return value
    return escape_formula(value)


def rejects_csv(report: ValidationReport) -> bytes:
    """Every rejected row as read, with its file row number and all its reasons, as UTF-8 CSV
    (header row; cells made spreadsheet-safe with `safe_cell`)."""
    frame = report.rejected_frame().reset_index(drop=True)
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(safe_cell)
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def scores_csv(accepted: pd.DataFrame, table: pd.DataFrame) -> bytes:
    """The scored table (every `churn.scoring.SCORE_COLUMNS` column) as UTF-8 CSV, one row per
    accepted customer in file order; text cells made spreadsheet-safe."""
    out = table.reset_index(drop=True).copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(safe_cell)
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def default_name(file_name: str | None) -> str:
    """A batch name from a file name: "march customers.csv" -> "march customers"."""
    stem = PurePath(file_name or "").stem.strip()
    return (stem or "Uploaded customers")[:NAME_MAX]


def clean_name(name: str | None) -> str:
    """A batch name as typed, trimmed (inner runs of spaces collapsed), or "" when empty."""
    return re.sub(r"\s+", " ", (name or "")).strip()[:NAME_MAX]


def pages(n_rows: int, page_size: int = PAGE_SIZE) -> int:
    """How many pages `n_rows` rows fill (at least 1)."""
    return max(1, -(-int(n_rows) // int(page_size)))


def page_bounds(n_rows: int, page: int, page_size: int = PAGE_SIZE) -> tuple[int, int]:
    """(start, stop) positions of page `page` (1-based, clamped to the pages there are)."""
    page = min(max(int(page), 1), pages(n_rows, page_size))
    start = (page - 1) * page_size
    return start, min(start + page_size, int(n_rows))


def risk_order(table: pd.DataFrame) -> np.ndarray:
    """Positions of the scored rows, highest churn probability first (ties in file order)."""
    return np.argsort(-table["churn_prob"].to_numpy(float), kind="stable")


def shown_page(table: pd.DataFrame, order: np.ndarray, page: int,
               page_size: int = PAGE_SIZE) -> pd.DataFrame:
    """One page of the scored table (highest risk first), with the page's columns only."""
    start, stop = page_bounds(len(table), page, page_size)
    return table.iloc[order[start:stop]][list(SHOWN_COLUMNS)].reset_index(drop=True)
