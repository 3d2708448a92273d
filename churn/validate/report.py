"""What validation returns: `Problem`, `ValidationReport`, and how findings become the report.

Row problems of one kind (one rule on one column) are listed for the first `MAX_LISTED` rows,
then one line with the total count; warnings are only about rows that are used. The
`_Reporting` mixin is the part of the checker (`churn.validate.checks._Checker`) that builds the
report, the canonical frame of the usable rows and the rejected-rows table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from churn import schema
from churn.schema import COLUMNS, FILE_COLUMNS
from churn.validate.messages import MSG_SUMMARY, _count

MAX_LISTED = 20          # rows listed one by one per problem kind before a count line
MAX_EXAMPLES = 3         # examples quoted in one aggregated warning

_COL_ORDER = {name: i for i, name in enumerate(FILE_COLUMNS)}


# --- public types -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One problem: file row number (None: whole file/column), column (None: whole row/file)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is not None and self.column is not None:
            return f"Row {self.row}, {self.column}: {self.message}"
        if self.row is not None:
            return f"Row {self.row}: {self.message}"
        if self.column is not None:
            return f"Column {self.column}: {self.message}"
        return self.message

    def to_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ValidationReport:
    """What `validate` found.

    rows: customer rows read (blank lines not counted); valid_rows: rows in ``frame``.
    frame: canonical frame of the usable rows plus ``row`` (file row number, int).
    errors / warnings: lists of :class:`Problem` (row problems capped per kind, see module doc).
    fatal: why the file could not be read at all, else None (then ``errors`` holds it too).
    source: the file name when known.
    """

    rows: int = 0
    valid_rows: int = 0
    frame: pd.DataFrame = field(default_factory=lambda: _with_row(schema.empty_frame()))
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    fatal: str | None = None
    source: str | None = None
    _rejected: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def rejected_rows(self) -> int:
        return self.rows - self.valid_rows

    @property
    def ok(self) -> bool:
        """True when nothing is wrong enough to be an error."""
        return not self.errors and self.fatal is None

    def to_dict(self) -> dict:
        """Plain JSON-able dict: rows, valid_rows, errors, warnings, fatal."""
        return {"rows": self.rows, "valid_rows": self.valid_rows,
                "errors": [p.to_dict() for p in self.errors],
                "warnings": [p.to_dict() for p in self.warnings],
                "fatal": self.fatal}

    def rejected_frame(self) -> pd.DataFrame:
        """Every rejected row as read (text), with its row number and all its reasons.

        Columns: ``row``, ``reasons`` (each reason ``column: message``, joined by "; "), then the
        file's columns as named in its header.
        """
        if self._rejected is None:
            return pd.DataFrame({"row": pd.Series(dtype="int64"),
                                 "reasons": pd.Series(dtype="object")})
        return self._rejected()

    def summary(self, limit: int = 50) -> str:
        """Human-readable text: counts, then errors and warnings (first `limit` of each)."""
        name = self.source or "The file"
        if self.fatal:
            return f"{name}: cannot be read. {self.fatal}"
        lines = [f"{name}: {_count(self.rows, 'row')} read, {self.valid_rows:,} valid, "
                 f"{self.rejected_rows:,} rejected; {_count(len(self.errors), 'error')}, "
                 f"{_count(len(self.warnings), 'warning')}."]
        for title, items in (("Errors", self.errors), ("Warnings", self.warnings)):
            if not items:
                continue
            lines.append(f"{title}:")
            lines.extend(f"  {p}" for p in items[:limit])
            if len(items) > limit:
                lines.append(f"  ... and {len(items) - limit:,} more")
        return "\n".join(lines)


def _with_row(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["row"] = pd.Series(dtype="int64")
    return out


@dataclass
class _Finding:
    """One rule broken (or one normalisation applied) on a set of rows.

    pos: positions (sorted) into the data rows; fields: per-position values for `template`.
    """

    severity: str          # "error" | "warning"
    column: str | None
    template: str
    what: str              # phrase for the count line, e.g. "a value that is not ..."
    pos: np.ndarray
    fields: dict = field(default_factory=dict)
    const: dict = field(default_factory=dict)

    def message(self, k: int) -> str:
        vals = {name: arr[k] for name, arr in self.fields.items()}
        return self.template.format(**self.const, **vals)


class _Reporting:
    """The report-building half of `churn.validate.checks._Checker` (see there for the state)."""

    def _report(self, valid: np.ndarray) -> ValidationReport:
        """Errors for every row; warnings only about rows that are used (``valid``)."""
        self._resolve_target(valid)
        errors = list(self.file_errors)
        warnings = []
        for w in self.file_warnings:
            w = w(valid) if callable(w) else w
            if w:
                warnings.append(w)
        listed_e, listed_w = [], []
        for f in self.findings:
            if f.severity == "warning":
                keep = valid[f.pos]
                f = _Finding(f.severity, f.column, f.template, f.what, f.pos[keep],
                             {k: v[keep] for k, v in f.fields.items()}, f.const)
            dest, listed = (errors, listed_e) if f.severity == "error" else (warnings, listed_w)
            n = len(f.pos)
            for k in range(min(n, MAX_LISTED)):
                listed.append(Problem(int(self.rownums[f.pos[k]]), f.column, f.message(k)))
            if n > MAX_LISTED:
                dest.append(Problem(None, f.column, MSG_SUMMARY.format(
                    count=_count(n, "row"), what=f.what, listed=MAX_LISTED)))

        def order(p: Problem):
            return (p.row, _COL_ORDER.get(p.column, -1))

        errors.extend(sorted(listed_e, key=order))
        warnings.extend(sorted(listed_w, key=order))
        frame = self._frame(valid)
        return ValidationReport(rows=self.n, valid_rows=len(frame), frame=frame, errors=errors,
                                warnings=warnings, fatal=None, source=self.raw.name,
                                _rejected=self._rejected_builder(valid))

    def _frame(self, valid: np.ndarray) -> pd.DataFrame:
        out = {}
        for col in COLUMNS:
            if col.name in self.cats:
                codes, values_u = self.cats[col.name]
                out[col.name] = values_u[codes[valid]]
            elif col.name in self.canon or col.required:
                values = self.canon.get(col.name, np.empty(0))
                values = values[valid] if len(values) == len(valid) else values[:0]
                out[col.name] = values.astype(schema.DTYPES[col.name], copy=False)
        out["row"] = self.rownums[valid].astype(np.int64)
        # copy=False keeps one block per column: consolidating 1M-row object columns costs seconds
        return pd.DataFrame(out, copy=False)

    def _rejected_builder(self, valid: np.ndarray):
        rejected = np.flatnonzero(~valid)
        findings = [f for f in self.findings if f.severity == "error"]
        file_reasons = [str(p) for p in self.file_errors]
        codes, uniques, header, rownums = self.codes, self.uniques, self.header, self.rownums

        def build() -> pd.DataFrame:
            reasons: dict[int, list[str]] = {int(p): [] for p in rejected}
            for f in findings:
                prefix = f"{f.column}: " if f.column else ""
                for k, p in enumerate(f.pos):
                    reasons[int(p)].append(prefix + f.message(k))
            out = {"row": rownums[rejected].astype(np.int64),
                   "reasons": ["; ".join(file_reasons + reasons[int(p)]) for p in rejected]}
            for j, name in enumerate(_unique_names(header)):
                out[name] = uniques[j][codes[j][rejected]]
            return pd.DataFrame(out)

        return build


def _unique_names(header: list[str]) -> list[str]:
    """Header texts made unique and non-empty (for the rejected-rows table)."""
    out, seen = [], {}
    for i, h in enumerate(header):
        name = h.strip() or f"column {i + 1}"
        if name in ("row", "reasons"):
            name = f"{name} (file)"
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(name if k == 0 else f"{name}.{k}")
    return out
