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
from churn.spreadsheet import escape_frame
from churn.validate import MSG_NO_ROWS, Problem, ValidationReport
from ui import format as fmt

PAGE_SIZE = 100          # rows of the scored table shown per page
NAME_MAX = 80            # characters kept of a batch name

#: Scored-table columns shown on the page, with their headers. Key columns first (who, how
#: risky, what is at stake, what to offer and why), so they are on screen at 1440 px; the
#: second and third reasons follow.
SHOWN_COLUMNS = {
    schema.ID: "Customer ID", "churn_prob": "Churn probability", "risk_tier": "Risk",
    "clv": "Lifetime value", "revenue_at_risk": "Revenue at risk", "offer_name": "Best offer",
    "driver_1_text": "Top reason", "offer_reason": "Why this offer",
    "driver_2_text": "Second reason", "driver_3_text": "Third reason",
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
#: What the Row column says for a problem that is not about one row.
WHOLE_FILE, WHOLE_COLUMN = "whole file", "all rows"


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table of text: row (the file row number, or `WHOLE_COLUMN` / `WHOLE_FILE`
    for a problem about a whole column or the whole file), column (blank for a whole row),
    reason."""
    return pd.DataFrame({
        "row": [str(p.row) if p.row is not None else WHOLE_COLUMN if p.column else WHOLE_FILE
                for p in problems],
        "column": [p.column or "" for p in problems],
        "reason": [p.message for p in problems]}, dtype=object)


def unusable(report: ValidationReport) -> tuple[str, str] | None:
    """(what, why) to show as one message instead of the report when the file holds nothing to
    check: it cannot be read at all, or it has no customer row (a header only). None
    otherwise."""
    if report.fatal:
        return "cannot be read", report.fatal
    if report.rows == 0:
        return "has no customers to check", (report.errors[0].message if report.errors
                                              else MSG_NO_ROWS)
    return None


def rejects_csv(report: ValidationReport) -> bytes:
    """Every rejected row as read, with its file row number and all its reasons, as UTF-8 CSV
    (header row and cells made spreadsheet-safe by `churn.spreadsheet.escape_frame`, the rule
    of every export; the command line's rejects file follows it too)."""
    out = escape_frame(report.rejected_frame())
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def scores_csv(accepted: pd.DataFrame, table: pd.DataFrame) -> bytes:
    """The scored table (every `churn.scoring.SCORE_COLUMNS` column) as UTF-8 CSV, one row per
    accepted customer in file order; text cells made spreadsheet-safe (`escape_frame`)."""
    out = escape_frame(table)
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
    """One page of the scored table (highest risk first), with the page's columns only; the
    churn probability in percent (0..100, `ui.format.PERCENT`)."""
    start, stop = page_bounds(len(table), page, page_size)
    shown = table.iloc[order[start:stop]][list(SHOWN_COLUMNS)].reset_index(drop=True)
    return fmt.percent_columns(shown, ["churn_prob"])  # in percent for the grid (fmt.PERCENT)
