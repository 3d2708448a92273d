"""Spreadsheet-safe cells: the one formula-escaping policy of every export.

Excel, LibreOffice and Google Sheets run a CSV cell that begins with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula (CSV or formula injection: ``=HYPERLINK(...)`` can leak
data or mislead the reader). Every file the workbench writes for a spreadsheet (campaign lists,
scored customers, rejected rows, in the app and from the command line) goes through this module,
header row included, so there is exactly one rule:

- CSV (:func:`escape_cell`): such a text cell gets a leading ``'`` so it stays text, unless it is
  a plain number written as text (``-5``, ``+1.5``): that is data, and Excel reads it as the same
  number. Control characters an .xlsx cannot hold are removed (the same in CSV and Excel, so both
  exports read back alike). Numbers, booleans and None pass unchanged.
- Excel (:func:`xlsx_text`): text cells are stored with the text type, which a spreadsheet never
  evaluates, so no apostrophe is added: an ID such as ``+1-2`` reads back exactly as ``+1-2`` and
  still matches the CRM. Only the control characters are removed.
"""
from __future__ import annotations

import re

import pandas as pd

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Control characters an .xlsx cannot hold (XML 1.0); tab, line feed and carriage return are fine.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A plain number written as text: data, not a formula.
_PLAIN_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def escape_cell(value):
    """One CSV cell made spreadsheet-safe (see the module docstring for the rule).

    value: any cell value. Returns it unchanged unless it is text; text loses the control
    characters an .xlsx cannot hold and gets a leading ``'`` when it would run as a formula.
    """
    if not isinstance(value, str):
        return value
    value = _ILLEGAL_XML.sub("", value)
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def xlsx_text(value: str) -> str:
    """A text cell for an .xlsx stored with the text type: control characters removed, nothing
    added (a text-typed cell is never run as a formula)."""
    return _ILLEGAL_XML.sub("", value)


def escape_names(names) -> list[str]:
    """Column headers made spreadsheet-safe with :func:`escape_cell` (headers are text too)."""
    return [escape_cell(str(n)) for n in names]


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and every header escaped by :func:`escape_cell`
    (numeric columns untouched), ready for ``to_csv``."""
    out = frame.reset_index(drop=True).copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(escape_cell).astype(object)
    out.columns = escape_names(out.columns)
    return out


def escape_series(values: pd.Series) -> pd.Series:
    """:func:`escape_cell` over a column, touching only the cells that need it (fast on a
    million clean IDs)."""
    text = values.astype(str)
    risky = text.str.startswith(FORMULA_TRIGGERS) | text.str.contains(_ILLEGAL_XML.pattern,
                                                                      regex=True)
    if not risky.any():
        return values
    out = values.astype(object).copy()
    out[risky] = values[risky].map(escape_cell)
    return out


def is_safe_csv_cell(text: str) -> bool:
    """True when a CSV cell as written cannot run as a formula (for tests and audits)."""
    return not (text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text)) \
        and not _ILLEGAL_XML.search(text)
