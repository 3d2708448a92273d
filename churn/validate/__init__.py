"""Check a customer file against the schema and turn its usable rows into a canonical frame.

``validate(source)`` reads a CSV (or an Excel workbook) and returns a :class:`ValidationReport`;
it never raises on the user's data. Every rule is derived from :mod:`churn.schema` (columns,
kinds, allowed values, minimum/maximum, parent/forced dependencies).

Vocabulary of the report:

- an **error** means the row cannot be used (it is left out of ``report.frame``);
- a **warning** means the row is used, but something was read in a normalised way (or looks
  suspicious) and the user may want to check it;
- ``fatal`` is set when the file cannot be read at all (empty, binary, unreadable).

Each :class:`Problem` has the spreadsheet row number (header = row 1, first customer = row 2;
``None`` for a problem about the whole file or a whole column), the column (``None`` when the
problem is about a whole row or the whole file) and a message a business user understands.
``Problem.message`` never repeats the location; ``str(problem)`` puts it in front, e.g.
``Row 5, tenure: "abc" is not a number of months.`` The message templates are the ``MSG_*``
constants below, so tests compare exact strings.

To keep the report readable for a million rows, row problems of one kind (one rule on one column)
are listed for the first ``MAX_LISTED`` rows only, followed by one line with the total count;
normalisations that touch many rows (another case, Yes/No written as 1/0, ...) are one warning
per column and kind with a count. ``report.rejected_frame()`` still gives every rejected row with
all its reasons.

Decisions worth knowing:

- ``TotalCharges`` blank (empty or spaces) with ``tenure == 0`` is the IBM convention for a
  customer not billed yet: valid, read as NaN, no warning. Blank with ``tenure > 0``: the row is
  kept with a warning and the total is estimated as tenure × MonthlyCharges
  (:func:`churn.schema.total_charges_estimate`). A total given with ``tenure == 0`` is read as
  blank (warning), so NaN means exactly "not billed yet".
- An internet add-on (or MultipleLines) written "No" where the parent service is "No" is read as
  the forced value ("No internet service" / "No phone service") with one warning per column; any
  other disagreement between a dependent column and its parent is an error, because we cannot
  tell which of the two is wrong.
- Duplicate customer IDs: the first occurrence is kept, every later one is an error naming the
  first row.
- Files too large to hold are validated piece by piece with :func:`validate_chunk` (used by
  ``python -m churn score``): each piece is the header line plus a run of records, row numbers
  stay the whole file's, and duplicate IDs are found across pieces through a shared dict of the
  IDs already seen.
- One damaged row never costs the file (`record_ends`, `_read_tolerant`): a stray quote mark,
  control characters (a NUL byte...), more values than the header (or more than `MAX_COLUMNS`
  fields at all), or a value longer than `schema.max_length` make that row an error and nothing
  else; a header longer than `HEAD_BYTES` or wider than `MAX_COLUMNS` is refused before anything
  else is read. Clean files take pyarrow's fast path; time and memory are linear in the size.
- ``Churn`` is needed only for training: with ``require_target=False`` a missing column is fine
  and a column with unusable values is dropped with a warning; with ``require_target=True`` the
  missing column is a file error and every unusable value is a row error.

Package layout (this ``__init__`` holds the entry points and re-exports every public name, so
callers keep writing ``from churn.validate import validate, Problem, MSG_...``):

- ``messages``  every ``MSG_*`` template and the helpers that fill them in
- ``reading``   bytes, CSV dialects and Excel into dictionary-coded columns (``record_ends``)
- ``checks``    the checker: header, damaged rows, each column by its kind
- ``rules/``    cross-column rules, one module each (``dependencies``, ``totals``); adding a
                rule is one new module there (see ``churn/validate/rules/__init__.py``)
- ``report``    ``Problem``, ``ValidationReport`` and how findings become the report
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churn.validate.checks import (_FILE_SPELLINGS, _MONTHLY, _NO_WORDS, _TENURE, _TOTAL,
                                   _YES_WORDS, _Checker, _parse_number_text)
from churn.validate.messages import *  # noqa: F401,F403 - every MSG_* template and ID_PATTERN
from churn.validate.messages import (_allowed, _count, _expected_number, _join_rows, _money,
                                     _num, _quote, _unit, _was_were)
from churn.validate.reading import (_BLANK_BYTES, _CONTROL_BYTES, _CONTROL_RE, _CONTROL_TABLE,
                                    BINARY_RATIO, DELIMITERS, HEAD_BYTES, MAX_COLUMNS,
                                    MAX_JOIN_LINES, _blank_code, _code_table, _Fatal,
                                    _has_values, _parse_csv_arrow, _parse_records, _Raw, _read,
                                    _read_excel, _read_text, _read_tolerant, _Records, _sniff,
                                    _source_name, _split_fields, header_shape, record_ends)
from churn.validate.report import (_COL_ORDER, MAX_EXAMPLES, MAX_LISTED, Problem,
                                   ValidationReport, _Finding, _unique_names, _with_row)
from churn.validate.rules import RULES
from churn.validate.rules.totals import TOTAL_RATIO_LIMIT


def validate(source, *, require_target: bool = False) -> ValidationReport:
    """Check a customer file and return a :class:`ValidationReport` (never raises on its content).

    source: a path (str or PathLike), bytes, or a binary file object (e.g. a Streamlit upload);
    CSV in any common dialect (comma/semicolon/tab, BOM, CRLF, UTF-8 or Latin-1), or Excel .xlsx
    (recognised by its content). require_target: True for training, where Churn must be present.
    Raises ValueError only when `source` is not one of those types (a caller error).
    """
    try:
        raw = _read(source)
    except _Fatal as exc:
        name = _source_name(source)
        msg = str(exc)
        return ValidationReport(errors=[Problem(None, None, msg)], fatal=msg, source=name)
    return _Checker(raw, require_target).run()


def validate_chunk(source, *, row_offset: int = 0, seen_ids: dict[str, int] | None = None,
                   require_target: bool = False) -> ValidationReport:
    """Validate one piece of a file that is read in chunks; row numbers are the whole file's.

    source: what `validate` takes, holding the file's header line followed by a run of its
    records (for CSV: the header line's bytes + the piece's bytes), or a DataFrame of text (str
    values, "" for blank) whose column names are the header, e.g. a Parquet batch, or the same
    as a dict {header: list of str} (records sent to the API: no frame to build).
    row_offset: added to every row number; a piece whose first record is file row R (header =
    row 1) has ``row_offset = R - 2``.
    seen_ids: customer ID -> file row of its first appearance in earlier pieces (updated in
    place with the IDs this piece shows first). A row repeating one of them is an error naming
    that row, exactly as `validate` reports a duplicate within one file; None: this piece only.
    Returns a :class:`ValidationReport` (rows, frame with file row numbers, errors, warnings,
    ``rejected_frame()``); error and warning lists are capped per piece.
    Raises ValueError when `source` is none of those types or row_offset is negative.
    """
    if isinstance(row_offset, bool) or not isinstance(row_offset, (int, np.integer)) \
            or row_offset < 0:
        raise ValueError(f"row_offset={row_offset!r}: expected a whole number >= 0 (the file row "
                         "of the piece's first record minus 2)")
    if isinstance(source, dict):
        raw = _columns_raw(source)
    elif isinstance(source, pd.DataFrame):
        header = [str(c) for c in source.columns]
        codes, uniques = [], []
        for j, name in enumerate(header):
            values = np.empty(len(source) + 1, dtype=object)
            values[0] = name
            values[1:] = source.iloc[:, j].to_numpy(dtype=object)
            c, u = pd.factorize(values)
            codes.append(c)
            uniques.append(np.asarray(u, dtype=object))
        raw = _Raw(codes, uniques, len(source) + 1, [], None, len(header))
    else:
        try:
            raw = _read(source)
        except _Fatal as exc:
            msg = str(exc)
            return ValidationReport(errors=[Problem(None, None, msg)], fatal=msg,
                                    source=_source_name(source))
    return _Checker(raw, require_target, row_offset=int(row_offset), seen_ids=seen_ids).run()


def _columns_raw(columns: dict) -> _Raw:
    """Columns of text ({header: list of str, "" for blank}, all of one length) as the reader's
    dictionary-coded `_Raw` (the header is record 0): the codes `pd.factorize` would give (first
    appearance order), built with a dict, which for a few records (an API request) costs
    microseconds instead of pandas' per-column set-up."""
    header = [str(c) for c in columns]
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of text must all have the same length, got lengths "
                         f"{sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    codes, uniques = [], []
    for name, values in zip(header, columns.values()):
        seen: dict[str, int] = {name: 0}
        code = np.empty(n + 1, dtype=np.intp)
        code[0] = 0
        for i, v in enumerate(values, 1):
            code[i] = seen.setdefault(v, len(seen))
        codes.append(code)
        u = np.empty(len(seen), dtype=object)
        u[:] = list(seen)
        uniques.append(u)
    return _Raw(codes, uniques, n + 1, [], None, len(header))


def load_customers(path, *, require_target: bool = False) -> pd.DataFrame:
    """Read a customer file into a canonical frame (without the ``row`` column).

    Raises ValueError naming the file and its first problems when it has any error; warnings are
    accepted (the normalised values are returned).
    """
    report = validate(path, require_target=require_target)
    if report.errors:
        first = "; ".join(str(p).rstrip(".") for p in report.errors[:3])
        more = f" (and {len(report.errors) - 3:,} more)" if len(report.errors) > 3 else ""
        raise ValueError(f"{path} cannot be loaded: {_count(len(report.errors), 'error')}: "
                         f"{first}{more}. Run `python -m churn validate {path}` for the list.")
    return report.frame.drop(columns="row")

