"""The campaign-history format, declared once, and its row-by-row validation.

A campaign history has one row per customer per campaign: who was offered what (or, in the
control group, would have been), whether they accepted, and whether they left within the
outcome window (one month, ``churn.simulate.OUTCOME_WINDOW_DAYS``) after the offer date. The
recommender learns acceptance from its treatment rows; the uplift model learns each offer's effect
from treatment against control; campaign results are appended to it.

=============  ===========================================================================
column         meaning
=============  ===========================================================================
customerID     the customer
campaign_id    the campaign
date           YYYY-MM-DD, when the offer was (or would have been) made
offer_id       the offer assigned; for control rows, the offer they would have got
group          ``treatment`` or ``control``
accepted       ``Yes``/``No`` for treatment rows (blank: not known); blank for control
churned        ``Yes``/``No``: left within the outcome window after ``date``; blank while unknown
=============  ===========================================================================

``validate_history(source, customer_ids=None, offer_ids=None)`` never raises on the file's
content; it returns a :class:`HistoryReport`, shaped like ``churn.validate.ValidationReport``
(same ``Problem`` rows numbered as in a spreadsheet: header = row 1). It reads files with
``churn.validate``'s reader (CSV in any common dialect, or .xlsx). Errors drop the row; warnings
keep it:

- errors: a missing customer ID, campaign, offer or date; a customer not in ``customer_ids``; a
  ``group`` other than treatment/control; ``accepted`` given for a control row; ``accepted`` or
  ``churned`` other than Yes/No/blank; a date that is not a real YYYY-MM-DD date; a repeated
  (customerID, campaign_id) (the first row is kept; later ones name it);
- warnings: an offer not in ``offer_ids`` (the row is kept and the offer modelled as its own,
  issue 12); values in another case or with spaces, and Yes/No written as 1/0 or true/false
  (normalised, one warning per column); ignored extra columns; a missing ``accepted`` or
  ``churned`` column (read as blank).

Row problems of one kind are listed for the first ``churn.validate.MAX_LISTED`` rows, then one
line with the total. The message templates are the ``MSG_*`` constants (tests pin them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn import validate as _v
from churn.schema import ID
from churn.validate import Problem, ValidationReport

HISTORY_COLUMNS = [ID, "campaign_id", "date", "offer_id", "group", "accepted",
                   "churned"]
REQUIRED_COLUMNS = [ID, "campaign_id", "date", "offer_id", "group"]
OPTIONAL_COLUMNS = ["accepted", "churned"]   # missing: read as blank (unknown), with a warning
GROUPS = ("treatment", "control")
ANSWERS = ("Yes", "No")

MSG_MISSING_COLUMN = _v.MSG_MISSING_COLUMN
MSG_OPTIONAL_MISSING = "the column is missing from the file; every row reads it as blank (unknown)."
MSG_NO_ROWS = "The file has a header but no campaign rows."
MSG_NOT_HISTORY = ("None of the campaign-history columns were found; the first row must be a "
                   "header naming " + ", ".join(HISTORY_COLUMNS) + ".")
MSG_EXTRA_COLUMNS = ("Ignored {count} that {is_are} not part of the campaign-history format: "
                     "{names}.")
MSG_MISSING_VALUE = "the value is missing."
MSG_UNKNOWN_CUSTOMER = ('customer "{value}" is not in the customer file; add the customer there '
                        'or check the ID.')
MSG_UNKNOWN_OFFER = ('offer "{value}" is not in the offer catalogue; the row is kept and the offer '
                     'is modelled on its own.')
MSG_BAD_GROUP = '"{value}" is not a group; expected treatment or control.'
MSG_ACCEPTED_CONTROL = ('"{value}" given for a control row; control customers were not made the '
                        'offer, so accepted must be blank.')
MSG_BAD_ACCEPTED = '"{value}" is not an answer; expected Yes or No (blank for control rows).'
MSG_BAD_CHURNED = '"{value}" is not an outcome; expected Yes, No, or blank while unknown.'
MSG_BAD_DATE = '"{value}" is not a date; expected YYYY-MM-DD, e.g. 2024-03-31.'
MSG_DUPLICATE = 'customer "{customer}" already appears in campaign "{campaign}" in row {first}.'
MSG_CASE_SPACES = ("{count} in another case or with extra spaces {was_were} read as allowed "
                   "values ({examples}).")
MSG_RECODED = "{count} {was_were} read in another coding ({examples})."

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODES = {**{w: "Yes" for w in _v._YES_WORDS}, **{w: "No" for w in _v._NO_WORDS}}


def _empty_frame() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in HISTORY_COLUMNS})
    out["row"] = pd.Series(dtype="int64")
    return out


@dataclass
class HistoryReport(ValidationReport):
    """What `validate_history` found (the fields of ``churn.validate.ValidationReport``).

    rows: campaign rows read (blank lines not counted); valid_rows: rows in ``frame``.
    frame: the usable rows, ``HISTORY_COLUMNS`` as text (date "YYYY-MM-DD"; group treatment /
    control; accepted and churned "Yes"/"No"/"") plus ``row`` (file row number, int).
    errors / warnings: :class:`churn.validate.Problem` lists; fatal: why the file could not be
    read at all, else None.
    """

    frame: pd.DataFrame = field(default_factory=_empty_frame)


def is_history_header(columns) -> bool:
    """True when a header names the campaign-history columns that set it apart from a customer
    file (campaign_id and group), compared without case and spaces."""
    names = {str(c).strip().lower() for c in columns}
    return {"campaign_id", "group"} <= names


def validate_history(source, *, customer_ids=None, offer_ids=None) -> HistoryReport:
    """Check a campaign-history file row by row; never raises on its content.

    source: a path, bytes, a binary file object (CSV or .xlsx, read by ``churn.validate``), or a
    DataFrame (values read as text). customer_ids: the known customers (iterable of IDs; None:
    not checked). offer_ids: the catalogue's offer ids (None: not checked; an unknown offer is a
    warning). Returns a :class:`HistoryReport`.
    """
    name = _v._source_name(source) if not isinstance(source, pd.DataFrame) else None
    try:
        header, cols, rownums, notes = _table(source)
    except _v._Fatal as exc:
        msg = str(exc)
        return HistoryReport(errors=[Problem(None, None, msg)], fatal=msg, source=name)
    return _Check(header, cols, rownums, notes, name, customer_ids, offer_ids).run()


def load_history(path, *, customer_ids=None, offer_ids=None) -> pd.DataFrame:
    """The usable rows of a campaign-history file (``HISTORY_COLUMNS``, text; see
    ``HistoryReport.frame``), without the ``row`` column. Rows with errors are left out; raises
    ValueError only when the file cannot be read at all or has none of the format's columns."""
    report = validate_history(path, customer_ids=customer_ids, offer_ids=offer_ids)
    if report.fatal:
        raise ValueError(f"{path}: cannot be read. {report.fatal}")
    if any(p.row is None and p.column in REQUIRED_COLUMNS for p in report.errors) \
            or any(p.message == MSG_NOT_HISTORY for p in report.errors):
        first = "; ".join(str(p).rstrip(".") for p in report.errors[:3])
        raise ValueError(f"{path} is not a campaign history: {first}. Run `python -m churn "
                         f"validate {path}` for the list.")
    return report.frame.drop(columns="row").reset_index(drop=True)


# --- reading -----------------------------------------------------------------------------------
def _table(source):
    """(header, {position: text array}, file row numbers, reader notes) of the data rows."""
    if isinstance(source, pd.DataFrame):
        header = [str(c) for c in source.columns]
        cols = {j: source.iloc[:, j].map(lambda v: "" if v is None or (isinstance(v, float)
                                                                       and np.isnan(v))
                                         else str(v)).to_numpy(dtype=object)
                for j in range(len(header))}
        return header, cols, np.arange(2, len(source) + 2), []
    raw = _v._read(source)
    width = raw.width or len(raw.codes)
    text = [u[c] if len(c) else np.empty(0, dtype=object) for c, u in zip(raw.codes, raw.uniques)]
    strip = [np.asarray([str(t).strip() for t in u], dtype=object) for u in raw.uniques]
    nonblank = np.zeros(raw.nrecords, bool)
    for c, s in zip(raw.codes, strip):
        nonblank |= s[c] != ""
    if not nonblank.any():
        raise _v._Fatal(_v.MSG_EMPTY_FILE)
    first = int(np.argmax(nonblank))
    header = [str(text[j][first]).strip().lstrip("\ufeff") for j in range(min(width, len(text)))]
    keep = np.flatnonzero(nonblank)
    keep = keep[keep > first]
    cols = {j: text[j][keep] for j in range(len(header))}
    notes = list(raw.notes)
    blank = np.flatnonzero(~nonblank[first:]) + first
    blank = blank[blank < (keep[-1] if len(keep) else first)] + 1  # inner blank lines only
    if len(blank):
        notes.append(Problem(None, None, _v.MSG_BLANK_ROWS.format(
            count=_v._count(len(blank), "empty row"), was_were=_v._was_were(len(blank)),
            rows=_v._join_rows([int(r) for r in blank[:5]], len(blank)))))
    return header, cols, keep + 1, notes


# --- checking ----------------------------------------------------------------------------------
class _Check:
    def __init__(self, header, cols, rownums, notes, name, customer_ids, offer_ids):
        self.header = header
        self.cols = cols
        self.rownums = np.asarray(rownums, dtype=np.int64)
        self.n = len(self.rownums)
        self.name = name
        self.customer_ids = customer_ids
        self.offer_ids = offer_ids
        self.file_errors: list[Problem] = []
        self.warnings: list[Problem] = list(notes)
        self.row_errors: list[tuple[str, str, np.ndarray, list[str]]] = []
        self.row_warnings: list[tuple[str, str, np.ndarray, list[str]]] = []
        self.bad = np.zeros(self.n, dtype=bool)

    def run(self) -> HistoryReport:
        where = self._map_header()
        if not any(c in where for c in HISTORY_COLUMNS):
            return HistoryReport(rows=self.n, errors=[Problem(None, None, MSG_NOT_HISTORY)],
                                 warnings=self.warnings, source=self.name)
        for c in REQUIRED_COLUMNS:
            if c not in where:
                self.file_errors.append(Problem(None, c, MSG_MISSING_COLUMN))
        for c in OPTIONAL_COLUMNS:
            if c not in where:
                self.warnings.append(Problem(None, c, MSG_OPTIONAL_MISSING))
        if self.n == 0:
            self.file_errors.append(Problem(None, None, MSG_NO_ROWS))
        if self.file_errors and any(p.column in REQUIRED_COLUMNS for p in self.file_errors) \
                or self.n == 0:
            return HistoryReport(rows=self.n, errors=self.file_errors, warnings=self.warnings,
                                 source=self.name)
        v = {c: (np.asarray([str(t).strip() for t in self.cols[where[c]]], dtype=object)
                 if c in where else np.full(self.n, "", dtype=object)) for c in HISTORY_COLUMNS}
        for c in REQUIRED_COLUMNS:
            self._error(c, v[c] == "", MSG_MISSING_VALUE, {})
        cid = v[ID]
        if self.customer_ids is not None:
            known = pd.Index(pd.unique(np.asarray([str(i) for i in self.customer_ids],
                                                  dtype=object)))
            unk = (cid != "") & (known.get_indexer(cid) < 0)
            self._error(ID, unk, MSG_UNKNOWN_CUSTOMER, {"value": cid})
        if self.offer_ids is not None:
            known = pd.Index([str(o) for o in self.offer_ids])
            off = v["offer_id"]
            unk = (off != "") & (known.get_indexer(off) < 0)
            self._warn("offer_id", unk, MSG_UNKNOWN_OFFER, {"value": off})
        v["group"] = self._choice("group", v["group"], GROUPS, MSG_BAD_GROUP, blank_ok=False)
        for c, msg in (("accepted", MSG_BAD_ACCEPTED), ("churned", MSG_BAD_CHURNED)):
            v[c] = self._choice(c, v[c], ANSWERS, msg, blank_ok=True, codes=True)
        control = v["group"] == "control"
        acc = v["accepted"]
        self._error("accepted", control & np.isin(acc, ANSWERS), MSG_ACCEPTED_CONTROL,
                    {"value": acc})
        self._check_dates(v["date"])
        self._check_duplicates(cid, v["campaign_id"])
        return self._report(v)

    def _map_header(self) -> dict[str, int]:
        where: dict[str, int] = {}
        extra = []
        for j, h in enumerate(self.header):
            key = h.strip().lower()
            match = next((c for c in HISTORY_COLUMNS if c.lower() == key), None)
            if match is None:
                if h.strip():
                    extra.append(h.strip())
            elif match not in where:
                where[match] = j
        if extra and any(c in where for c in HISTORY_COLUMNS):
            self.warnings.append(Problem(None, None, MSG_EXTRA_COLUMNS.format(
                count=_v._count(len(extra), "column"), is_are="is" if len(extra) == 1 else "are",
                names=", ".join(extra))))
        return where

    def _choice(self, column, values, allowed, template, *, blank_ok, codes=False):
        """Normalise a choice column; errors for values that are none of ``allowed``."""
        out = values.copy()
        lower = {a.lower(): a for a in allowed}
        fixed_case, recoded = [], []
        for u in pd.unique(values):
            if u in allowed or (u == "" and blank_ok):
                continue
            if u.lower() in lower:
                out[values == u] = lower[u.lower()]
                fixed_case.append(u)
            elif codes and u.lower() in _CODES:
                out[values == u] = _CODES[u.lower()]
                recoded.append(u)
        for found, msg in ((fixed_case, MSG_CASE_SPACES), (recoded, MSG_RECODED)):
            if found:
                hit = np.isin(values, found)
                ex = ", ".join(f'"{u}" as "{out[values == u][0]}"' for u in found[:_v.MAX_EXAMPLES])
                self.warnings.append(Problem(None, column, msg.format(
                    count=_v._count(int(hit.sum()), "value"), was_were=_v._was_were(int(hit.sum())),
                    examples=ex)))
        bad = ~np.isin(out, list(allowed) + ([""] if blank_ok else []))
        bad &= values != ""  # a blank required value is reported as missing
        self._error(column, bad, template, {"value": values})
        return out

    def _check_dates(self, dates) -> None:
        ok = np.zeros(self.n, dtype=bool)
        for u in pd.unique(dates):
            if u == "" or not _DATE.match(u):
                continue
            try:
                pd.Timestamp(u)
                ok[dates == u] = np.datetime64(u, "D").astype(str) == u
            except ValueError:
                pass
        self._error("date", (dates != "") & ~ok, MSG_BAD_DATE, {"value": dates})

    def _check_duplicates(self, cid, campaign) -> None:
        usable = (cid != "") & (campaign != "")
        key = pd.Series(list(zip(cid, campaign)))
        dup = key.duplicated(keep="first").to_numpy() & usable
        if not dup.any():
            return
        first_pos = pd.Series(np.arange(self.n)).groupby(key.to_numpy()).transform("min")
        first_row = self.rownums[first_pos.to_numpy()]
        self._error(None, dup, MSG_DUPLICATE,
                    {"customer": cid, "campaign": campaign, "first": first_row})

    def _error(self, column, mask, template, fields) -> None:
        self._add(self.row_errors, column, mask, template, fields)
        self.bad |= mask

    def _warn(self, column, mask, template, fields) -> None:
        self._add(self.row_warnings, column, mask, template, fields)

    def _add(self, into, column, mask, template, fields) -> None:
        pos = np.flatnonzero(mask)
        if len(pos):
            into.append((column, template, pos, fields))

    def _problems(self, items) -> list[Problem]:
        out = []
        for column, template, pos, fields in items:
            for k in pos[:_v.MAX_LISTED]:
                msg = template.format(**{f: a[k] for f, a in fields.items()})
                out.append(Problem(int(self.rownums[k]), column, msg))
            if len(pos) > _v.MAX_LISTED:
                what = template.split(";")[0].format(**{f: "…" for f in fields}).rstrip(".")
                out.append(Problem(None, column, _v.MSG_SUMMARY.format(
                    count=_v._count(len(pos), "row"), what=f"this problem ({what})",
                    listed=_v.MAX_LISTED)))
        return out

    def _report(self, v) -> HistoryReport:
        order = {c: i for i, c in enumerate(HISTORY_COLUMNS)}

        def by_row(items):
            return sorted(items, key=lambda p: (p.row is None, p.row or 0,
                                                order.get(p.column, -1)))

        errors = self.file_errors + by_row(self._problems(self.row_errors))
        warnings = self.warnings + by_row(self._problems(self.row_warnings))
        good = ~self.bad
        frame = pd.DataFrame({c: v[c][good] for c in HISTORY_COLUMNS})
        frame["row"] = self.rownums[good]
        return HistoryReport(rows=self.n, valid_rows=int(good.sum()), frame=frame, errors=errors,
                             warnings=warnings, source=self.name)
