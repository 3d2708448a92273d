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
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from churn import schema
from churn.schema import BY_NAME, COLUMNS, DEPENDENT_COLUMNS, FILE_COLUMNS

# --- limits -------------------------------------------------------------------------------------
MAX_LISTED = 20          # rows listed one by one per problem kind before a count line
MAX_EXAMPLES = 3         # examples quoted in one aggregated warning
HEAD_BYTES = 65_536      # bytes looked at to recognise the format and the delimiter
TOTAL_RATIO_LIMIT = 3.0  # TotalCharges more than 3x away from tenure x MonthlyCharges: warning
DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 1_000      # a header with more fields is refused at once (the schema has 21)
MAX_JOIN_LINES = 20      # lines one quoted value may span; a quote left open longer is stray
BINARY_RATIO = 0.01      # control bytes above this share of the first 64 KB: binary, not text
_CONTROL_BYTES = (*range(0, 9), 11, 12, *range(14, 32))   # tab, line feed, return are text
_CONTROL_TABLE = np.zeros(256, bool)
_CONTROL_TABLE[list(_CONTROL_BYTES)] = True
_CONTROL_RE = re.compile("[" + "".join(f"\\x{b:02x}" for b in _CONTROL_BYTES) + "]")
# A line of only these bytes (and its line end) holds no value: blank.
_BLANK_BYTES = b',;\t|" \xef\xbb\xbf'

# --- message templates (Problem.message; the location is not part of it) ------------------------
# Whole file, fatal: the file cannot be read at all.
MSG_EMPTY_FILE = "The file is empty."
MSG_BINARY = "The file is not a CSV or Excel file; it looks like binary data."
MSG_OLD_EXCEL = ("The file is in the old Excel format (.xls); save it as .xlsx or CSV and "
                 "try again.")
MSG_BAD_EXCEL = ("The file looks like an Excel workbook but could not be opened; save it again "
                 "as .xlsx or CSV.")
MSG_NOT_FOUND = 'The file "{path}" does not exist.'
MSG_IS_FOLDER = '"{path}" is a folder, not a file.'
MSG_HEADER_TOO_LONG = ("The first row is longer than {limit:,} bytes, far too long for a header "
                       "of customer columns; check that this is a customer table.")
MSG_TOO_MANY_COLUMNS = ("The first row has {count:,} columns, but a customer file has {expected} "
                        "(at most {limit:,} are read); check that this is a customer table and "
                        "that its first row is the header.")
# Whole file, errors and warnings.
MSG_NO_ROWS = "The file has a header but no customer rows."
MSG_NO_SCHEMA_COLUMNS = ("None of the customer columns were found; the first row must be a "
                         "header naming columns such as {examples}.")
MSG_LATIN1 = ("The file is not in UTF-8; it was read as Latin-1 (Western European), so check "
              "that accented letters look right.")
MSG_SHEETS = 'The workbook has {count} sheets; only the first, "{name}", was read.'
MSG_BLANK_ROWS = "{count} {was_were} skipped ({rows})."
MSG_EXTRA_COLUMNS = "Ignored {count} that {is_are} not part of the customer schema: {names}."
# One column (row None).
MSG_MISSING_COLUMN = "this required column is missing from the file."
MSG_TARGET_REQUIRED = ("training needs this column (whether each customer left: Yes or No), "
                       "but the file does not have it.")
MSG_HEADER_RENAMED = 'the header "{header}" was read as {column}.'
MSG_DUPLICATE_HEADER = ("the file has this column {count} times; only the first one "
                        "(column {first}) was used.")
MSG_CASE_SPACES = ("{count} in another case or with extra spaces {was_were} read as allowed "
                   "values ({examples}).")
MSG_RECODED = "{count} {was_were} read in another coding ({examples})."
MSG_NUMBER_FORMAT = ("{count} written with a currency sign, thousands separators or a decimal "
                     "comma {was_were} read as numbers ({examples}).")
MSG_ID_TRIMMED = "{count} with extra spaces {was_were} trimmed."
MSG_DEP_NO_AS_FORCED = 'read "No" as "{forced}" in {count} where {parent} is "{parent_value}".'
MSG_TARGET_IGNORED = ("{count} of {total} have no usable value ({examples}), so the column was "
                      "ignored; it is only needed for training.")
MSG_SUMMARY = "{count} in all have {what}; the first {listed} are listed."
# One row.
MSG_EXTRA_VALUES = "the row has {count:,} values but the header has only {width:,} columns."
MSG_STRAY_QUOTE = ('a quote mark (") in this row is never closed, so its values cannot be told '
                   'apart; only this row was left out.')
MSG_CONTROL = ("the row holds a control character (byte 0x{byte:02X}) that customer data never "
               "has; the file is probably damaged here.")
MSG_LINE_BREAK = ("the value runs over {lines:,} lines of the file, so a quote mark is probably "
                  "missing or stray there; the row (all {lines:,} lines) was left out.")
MSG_TOO_LONG = "the value is {length:,} characters long; at most {limit:,} are allowed."
MSG_ID_MISSING = "the customer ID is missing."
MSG_ID_DUPLICATE = 'customer ID "{value}" already appears in row {first}.'
MSG_ID_PATTERN = ('"{value}" does not look like a customer ID such as 7590-VHVEG (4 digits, a '
                  'dash, 5 capital letters); it was kept as it is.')
MSG_MISSING_CHOICE = "the value is missing; expected one of {allowed}."
MSG_UNKNOWN_CHOICE = '"{value}" is not a known value; expected one of {allowed}.'
MSG_MISSING_NUMBER = "the value is missing; expected {expected}."
MSG_NOT_NUMBER = '"{value}" is not {expected}.'
MSG_NOT_WHOLE = '"{value}" is not a whole number of {unit}.'
MSG_OUT_OF_RANGE = '"{value}" is outside the allowed range of {low} to {high} {unit}.'
MSG_DEP_SET_WHEN_OFF = ('"{value}" is not possible when {parent} is "{parent_value}"; '
                        'expected "{forced}".')
MSG_DEP_FORCED_WHEN_ON = '"{forced}" is not possible when {parent} is "{parent_value}".'
MSG_TOTAL_ESTIMATED = ("the value is blank although tenure is {tenure} months; it was estimated "
                       "as {tenure} × {monthly} = {estimate}.")
MSG_TOTAL_NOT_BILLED = ("tenure is 0 months, so the total of {total} was read as blank "
                        "(not billed yet).")
MSG_TOTAL_INCONSISTENT = ("the total of {total} is far from tenure × monthly charges "
                          "({tenure} × {monthly} = {estimate}); please check it.")

ID_PATTERN = r"\d{4}-[A-Z]{5}"  # the IBM file's customer IDs, e.g. 7590-VHVEG

# The relation TotalCharges ≈ tenure × MonthlyCharges (see schema.total_charges_estimate).
_TOTAL, _TENURE, _MONTHLY = (BY_NAME[n].name for n in (schema.TOTAL, schema.TENURE, schema.MONTHLY))

# Spellings the IBM file uses for a kind, read silently (besides the schema's own values).
_FILE_SPELLINGS = {"target": {"No": 0, "Yes": 1}}
# Other codings of a yes/no answer, read with a warning.
_YES_WORDS = ("yes", "y", "true", "t", "1", "1.0")
_NO_WORDS = ("no", "n", "false", "f", "0", "0.0")

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
    values, "" for blank) whose column names are the header, e.g. a Parquet batch.
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
    if isinstance(source, pd.DataFrame):
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


# --- small text helpers -------------------------------------------------------------------------
def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun if n == 1 else noun + 's'}"


def _was_were(n: int) -> str:
    return "was" if n == 1 else "were"


def _quote(v) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v)


def _num(v: float) -> str:
    """100000 -> '100,000'; 29.85 -> '29.85'."""
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,}"


def _money(v: float) -> str:
    return f"${v:,.2f}"


def _join_rows(rows: list[int], total: int) -> str:
    words = "row" if total == 1 else "rows"
    shown = ", ".join(str(r) for r in rows)
    return f"{words} {shown}" + (", …" if total > len(rows) else "")


def _unit(col) -> str:
    """'Tenure (months)' -> 'months'; 'Monthly charges ($)' -> 'dollars'."""
    m = re.search(r"\(([^)]*)\)", col.label)
    unit = m.group(1) if m else ""
    return "dollars" if unit == "$" else unit


def _expected_number(col) -> str:
    unit = _unit(col)
    return f"an amount in {unit}" if col.kind == "money" else f"a number of {unit}"


def _allowed(col) -> list[str]:
    """The values shown to the user as allowed for a choice column."""
    vals = [str(v) for v in col.values]
    if col.kind == "flag01":
        return vals + ["No", "Yes"]
    if col.kind == "target":
        return ["No", "Yes"] + vals
    return vals


def _with_row(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["row"] = pd.Series(dtype="int64")
    return out


def _source_name(source) -> str | None:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else None


# --- reading ------------------------------------------------------------------------------------
class _Fatal(Exception):
    """The file cannot be read at all (message for the user)."""


@dataclass
class _Raw:
    """Every record of the file as text, one dictionary-coded column per field position.

    codes[j][i] indexes uniques[j] for record i (record 0 is the file's first line);
    missing trailing fields read as "".
    """

    codes: list[np.ndarray]
    uniques: list[np.ndarray]
    nrecords: int
    notes: list[Problem]         # file-level warnings from reading (encoding, sheets)
    name: str | None
    width: int | None = None     # fields in the header line (None: as wide as the table)
    flags: dict = field(default_factory=dict)  # record -> (kind, fields): damaged, rejected
    spans: dict = field(default_factory=dict)  # record -> file lines, when more than one


def _read(source) -> _Raw:
    name = _source_name(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise _Fatal(MSG_NOT_FOUND.format(path=path))
        if path.is_dir():
            raise _Fatal(MSG_IS_FOLDER.format(path=path))
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        data = bytes(data)
    else:
        raise ValueError(f"validate() takes a path, bytes or a binary file object, not "
                         f"{type(source).__name__}; pass the uploaded file or its path.")
    head = data[:HEAD_BYTES]
    if not head.strip():
        raise _Fatal(MSG_EMPTY_FILE)
    if head.startswith(b"PK\x03\x04"):
        return _read_excel(io.BytesIO(data), name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Fatal(MSG_OLD_EXCEL)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", errors="replace").encode("utf-8")
        head = data[:HEAD_BYTES]
    elif sum(head.count(bytes([b])) for b in _CONTROL_BYTES) > len(head) * BINARY_RATIO:
        raise _Fatal(MSG_BINARY)       # a few stray control bytes only cost their own rows
    return _read_text(data, name)


def _sniff(text: str) -> str:
    """The delimiter most used in the first non-blank line (comma when none is used)."""
    line = next((ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()), "")
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _split_fields(text: str, sep: str) -> list[str]:
    """The values of one record (quote-aware, like every CSV reader)."""
    import csv

    try:
        return next(csv.reader([text], delimiter=sep, strict=False), [""])
    except csv.Error:           # e.g. a line break right after a closing quote: split plainly
        return text.split(sep)


def header_shape(buf: bytes, eof: bool = True) -> tuple[str, int] | None:
    """(delimiter, number of fields) of the header: the first line of ``buf`` that is not blank.

    None when ``buf`` holds no complete non-blank line yet and more data is coming (``eof``
    False). Raises `_Fatal` when the header is absurd: longer than `HEAD_BYTES` bytes or more
    than `MAX_COLUMNS` fields, so such a file is refused before anything else is read.
    """
    pos = 0
    while True:
        nl = buf.find(b"\n", pos)
        if nl < 0 and not eof:
            if len(buf) - pos > HEAD_BYTES:
                raise _Fatal(MSG_HEADER_TOO_LONG.format(limit=HEAD_BYTES))
            return None
        line = buf[pos:] if nl < 0 else buf[pos:nl]
        if line.translate(None, _BLANK_BYTES).strip(b"\r\n"):
            break
        if nl < 0:
            return None
        pos = nl + 1
    if len(line) > HEAD_BYTES:
        raise _Fatal(MSG_HEADER_TOO_LONG.format(limit=HEAD_BYTES))
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r")
    sep = _sniff(text)
    width = len(_split_fields(text, sep))
    if width > MAX_COLUMNS:
        raise _Fatal(MSG_TOO_MANY_COLUMNS.format(count=width, expected=len(FILE_COLUMNS),
                                                 limit=MAX_COLUMNS))
    return sep, width


@dataclass
class _Records:
    """How a run of CSV bytes splits into records (see `record_ends`)."""

    ends: np.ndarray                 # exclusive end offset of each record (line end included)
    stray: np.ndarray                # records holding a quote mark that is never closed
    spans: dict[int, int]            # record -> physical lines, for records over several lines


def record_ends(buf: bytes, sep: str, width: int, eof: bool = True) -> _Records:
    """Split ``buf`` (starting at a record start) into records, tolerating stray quote marks.

    A record is one line, unless a quoted value holds a line break: a line with an odd number of
    quote marks is joined with the lines up to the next such line (at most `MAX_JOIN_LINES`
    ahead) when the joined text splits into exactly ``width`` values (more only if the extra ones
    are empty); otherwise its quote mark is stray, and that line alone is a record that cannot be
    split (``stray``), so a single bad byte never swallows the rows after it. With ``eof`` False
    only records that later data cannot change are returned (a trailing partial line, or a line
    whose partner may still come, is left for the next call). Linear in ``len(buf)``: the
    lines are found with numpy and only lines with an odd number of quotes are looked at one by
    one. One reader for `validate` and for `churn.batch`'s pieces.
    """
    arr = np.frombuffer(buf, np.uint8)
    line_ends = np.flatnonzero(arr == 10) + 1
    if eof and len(buf) and (not len(line_ends) or line_ends[-1] != len(buf)):
        line_ends = np.append(line_ends, len(buf))
    nothing = np.empty(0, np.int64)
    qpos = np.flatnonzero(arr == 34)
    if not len(qpos) or not len(line_ends):
        return _Records(line_ends.astype(np.int64), nothing, {})
    qline = np.searchsorted(line_ends, qpos, side="right")
    counts = np.bincount(qline, minlength=len(line_ends) + 1)[:len(line_ends)]
    odd = np.flatnonzero(counts & 1)
    if not len(odd):
        return _Records(line_ends.astype(np.int64), nothing, {})
    is_end = np.ones(len(line_ends), bool)
    stray_lines, joined = [], {}
    stop = len(line_ends)               # lines from here on are not final yet
    k = 0
    while k < len(odd):
        i = int(odd[k])
        j = int(odd[k + 1]) if k + 1 < len(odd) else None
        if j is not None and j - i <= MAX_JOIN_LINES:
            start = int(line_ends[i - 1]) if i else 0
            text = buf[start:int(line_ends[j])].decode("latin-1").rstrip("\r\n")
            values = _split_fields(text, sep)
            if len(values) == width or (len(values) > width and not any(values[width:])):
                is_end[i:j] = False
                joined[i] = j - i + 1
                k += 2
                continue
        elif not eof and len(line_ends) - 1 - i < MAX_JOIN_LINES:
            stop = i                    # its partner may be in the data still to come
            break
        stray_lines.append(i)
        k += 1
    end_lines = np.flatnonzero(is_end[:stop])
    ends = line_ends[end_lines].astype(np.int64)
    stray = np.searchsorted(end_lines, np.asarray(stray_lines, np.int64))
    spans = {int(np.searchsorted(end_lines, i)): n for i, n in joined.items()}
    return _Records(ends, stray.astype(np.int64), spans)


def _read_text(data: bytes, name: str | None) -> _Raw:
    """A CSV file's bytes as coded columns: the fast path when the file is clean, else the
    tolerant reader (each damaged row rejected on its own, every other row read)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        data = re.sub(rb"\r(?!\n)", b"\n", data)      # old Mac line ends
    shape = header_shape(data)
    if shape is None:
        raise _Fatal(MSG_EMPTY_FILE)
    sep, width = shape
    fast = _parse_csv_arrow(data, sep, width)
    if fast is not None:
        return _Raw(*fast, [], name, width)
    return _read_tolerant(data, sep, width, name)


def _read_tolerant(data: bytes, sep: str, width: int, name: str | None) -> _Raw:
    """Read a CSV whatever its damage, in time and memory linear in its size.

    Records come from `record_ends`. A record with fewer values than the header is padded with
    blanks; one with more is cut to the header's width (an error when a cut value is not
    blank, or when the row has more than `MAX_COLUMNS` fields at all); a record with a stray quote, control characters or bytes that are not UTF-8 is
    rewritten clean. Such rows carry a flag (`_Raw.flags`) that the checker turns into a row
    error; every other record reaches the parser byte for byte. The cleaned text is then parsed
    by the fast reader (or, should it still refuse, record by record).
    """
    import csv

    csv.field_size_limit(max(csv.field_size_limit(), len(data) + 1))
    recs = record_ends(data, sep, width)
    ends = recs.ends
    n = len(ends)
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    arr = np.frombuffer(data, np.uint8)
    notes: list[Problem] = []
    # values per record: delimiters outside quotes + 1 (quote parity counted from the record start)
    dpos = np.flatnonzero(arr == ord(sep))
    drec = np.searchsorted(ends, dpos, side="right")
    qpos = np.flatnonzero(arr == 34)
    if len(qpos):
        inside = (np.searchsorted(qpos, dpos) - np.searchsorted(qpos, starts)[drec]) & 1
        drec = drec[inside == 0]
    fields = np.bincount(drec, minlength=n)[:n] + 1
    del dpos, drec
    cpos = np.flatnonzero(_CONTROL_TABLE[arr])
    control = {}
    for r, p in zip(np.searchsorted(ends, cpos, side="right").tolist(), cpos.tolist()):
        control.setdefault(r, int(arr[p]))
    latin1: set[int] = set()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        for r in np.unique(np.searchsorted(ends, np.flatnonzero(arr >= 128), side="right")):
            try:
                data[starts[r]:ends[r]].decode("utf-8")
            except UnicodeDecodeError:
                latin1.add(int(r))
        notes.append(Problem(None, None, MSG_LATIN1))
    stray = set(recs.stray.tolist())
    touch = set(np.flatnonzero(fields != width).tolist()) | stray | set(control) | latin1
    flags: dict[int, tuple] = {}
    pieces, new_len = [], (ends - starts).astype(np.int64)
    prev = 0
    for r in sorted(touch):
        s, e = int(starts[r]), int(ends[r])
        pieces.append(data[prev:s])
        prev = e
        raw = data[s:e]
        text = raw.decode("latin-1" if r in latin1 else "utf-8", errors="replace")
        text = text.rstrip("\r\n")
        if r in control:
            text = _CONTROL_RE.sub("", text)
        values = text.split(sep) if r in stray else _split_fields(text, sep)
        if r in stray:
            flags[r] = ("stray", {})
        elif r in recs.spans:         # joined over lines and damaged too: say what it took in
            flags[r] = ("span", {"lines": recs.spans[r]})
        elif r in control:
            flags[r] = ("control", {"byte": control[r]})
        if len(values) > width:
            last = max((i for i, v in enumerate(values) if v != ""), default=-1) + 1
            if len(values) > MAX_COLUMNS:
                last = max(last, len(values))   # empty or not, that many fields is damage
            if last > width and r not in flags:
                flags[r] = ("extra", {"count": last})
            values = values[:width]
        values = values + [""] * (width - len(values))
        out = io.StringIO()
        csv.writer(out, delimiter=sep, lineterminator="\n").writerow(values)
        line = out.getvalue().encode("utf-8")
        if len(values) == 1 and values[0] == "":
            line = b'""\n'                     # one blank value, not a line the parser skips
        pieces.append(line)
        new_len[r] = len(line)
    if touch:
        pieces.append(data[prev:])
        clean = b"".join(pieces)
        del pieces
    else:
        clean = data
    new_ends = np.cumsum(new_len)
    parsed = _parse_csv_arrow(clean, sep, width, rows=n, block=int(new_len.max(initial=0)))
    if parsed is None:
        parsed = _parse_records(clean, new_ends, sep, width)
    return _Raw(*parsed, notes, name, width, flags=flags, spans=recs.spans)


def _parse_records(clean: bytes, ends: np.ndarray, sep: str, width: int):
    """Last resort: every record parsed on its own (slow but never out of step)."""
    cols: list[list[str]] = [[] for _ in range(width)]
    start = 0
    for e in ends.tolist():
        values = _split_fields(clean[start:e].decode("utf-8", errors="replace").rstrip("\r\n"),
                               sep)[:width]
        values += [""] * (width - len(values))
        for j, v in enumerate(values):
            cols[j].append(v)
        start = e
    codes, uniques = [], []
    for col in cols:
        c, u = pd.factorize(np.asarray(col, dtype=object))
        codes.append(c)
        uniques.append(np.asarray(u, dtype=object))
    return codes, uniques, len(ends)


def _code_table(table: pd.DataFrame) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    codes, uniques = [], []
    for j in range(table.shape[1]):
        c, u = pd.factorize(table.iloc[:, j].to_numpy(dtype=object))
        codes.append(c)
        uniques.append(np.asarray(u, dtype=object))
    return codes, uniques, len(table)


def _parse_csv_arrow(data: bytes, sep: str, width: int, rows: int | None = None,
                     block: int = 0):
    """pyarrow's multi-threaded reader, dictionary-coding every column while parsing.

    Returns (codes, uniques, nrecords), or None whenever the text is not plainly rectangular
    UTF-8 with ``width`` columns (ragged rows, bad bytes, an unclosed quote, a line break or a
    control character inside a value, or not ``rows`` records when given): the tolerant reader
    then takes over and says which rows were damaged.
    """
    try:
        import pyarrow.csv as pacsv

        text = pa.dictionary(pa.int32(), pa.string())   # dictionary-coded while parsing
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, encoding="utf8",
                                           block_size=max(1 << 20, 2 * block + 1)),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": text for i in range(width)}))
        if table.num_columns != width or any(t != text for t in table.schema.types):
            return None
        if rows is not None and table.num_rows != rows:
            return None
        table = table.unify_dictionaries()
        codes, uniques = [], []
        for j in range(width):
            enc = table.column(j).combine_chunks()
            if enc.null_count:
                return None
            # a line break or control byte inside a value: the tolerant reader judges the row
            if rows is None and pc.any(pc.match_substring_regex(
                    enc.dictionary, "[\r\n\x00-\x08\x0b\x0c\x0e-\x1f]")).as_py():
                return None
            codes.append(enc.indices.to_numpy(zero_copy_only=False))
            uniques.append(enc.dictionary.to_numpy(zero_copy_only=False).astype(object))
    except (pa.ArrowException, OSError, ValueError):
        return None
    return codes, uniques, table.num_rows


def _read_excel(src, name) -> _Raw:
    try:
        book = pd.ExcelFile(src, engine="openpyxl")
        sheets = book.sheet_names
        table = book.parse(sheets[0], header=None, dtype=str)
    except Exception:  # noqa: BLE001 - any failure of openpyxl means "cannot open"
        raise _Fatal(MSG_BAD_EXCEL) from None
    if table.empty:
        raise _Fatal(MSG_EMPTY_FILE)
    if table.shape[1] > MAX_COLUMNS:
        raise _Fatal(MSG_TOO_MANY_COLUMNS.format(count=table.shape[1], expected=len(FILE_COLUMNS),
                                                 limit=MAX_COLUMNS))
    table = table.fillna("").astype(str)
    notes = []
    if len(sheets) > 1:
        notes.append(Problem(None, None, MSG_SHEETS.format(count=len(sheets), name=sheets[0])))
    return _Raw(*_code_table(table), notes, name)


# --- checking -----------------------------------------------------------------------------------
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


class _Checker:
    """Applies every schema rule to the coded columns read from the file (vectorised).

    A column is (codes, uniques): each rule looks at the distinct texts once and maps the
    answer back to the rows through the codes, so a million rows cost a few array takes.
    """

    def __init__(self, raw: _Raw, require_target: bool, row_offset: int = 0,
                 seen_ids: dict[str, int] | None = None):
        self.raw = raw
        self.require_target = require_target
        self.row_offset = row_offset     # added to row numbers (pieces of a larger file)
        self.seen_ids = seen_ids         # IDs of earlier pieces -> their first row
        self.file_errors: list[Problem] = []
        self.file_warnings: list[Problem] = list(raw.notes)
        self.findings: list[_Finding] = []
        self.canon: dict[str, np.ndarray] = {}
        self.col_bad: dict[str, np.ndarray] = {}  # column -> rows where its value is an error
        self.total_blank = None
        self.target = None          # Churn when it is optional: decided once validity is known
        self.cats: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # category -> (codes, values)

    # -- driver --
    def run(self) -> ValidationReport:
        raw = self.raw
        blank_codes = [_blank_code(u) for u in raw.uniques]
        nonblank = np.zeros(raw.nrecords, bool)
        for c, b in zip(raw.codes, blank_codes):
            nonblank |= c != b
        if not nonblank.any():
            return ValidationReport(errors=[Problem(None, None, MSG_EMPTY_FILE)],
                                    fatal=MSG_EMPTY_FILE, source=raw.name)
        first = int(np.argmax(nonblank))
        header = [str(u[c[first]]) for c, u in zip(raw.codes, raw.uniques)]
        if raw.width is not None:
            header = header[:raw.width]
        while len(header) > 1 and header[-1] == "" and not _has_values(raw, len(header) - 1,
                                                                       first):
            header.pop()                  # a wider table only because of ragged rows
        keep = nonblank[first + 1:]
        rownums = np.arange(first + 2, first + 2 + len(keep)) + self.row_offset
        self._note_blank_rows(keep, rownums)
        sel = slice(first + 1, None)
        if keep.all():
            self.codes = [c[sel] for c in raw.codes]
        else:
            self.codes = [c[sel][keep] for c in raw.codes]
        self.uniques = raw.uniques
        self.blank_codes = blank_codes
        self.rownums = rownums[keep]
        self.n = len(self.rownums)
        self.header = header
        self.bad = np.zeros(self.n, bool)
        self.skip = np.zeros(self.n, bool)
        self.records = np.arange(first + 1, raw.nrecords)[keep]   # record of each data row

        self.mapping = self._map_header(header)
        if not self.mapping:
            examples = ", ".join(FILE_COLUMNS[:4])
            self.file_errors.append(Problem(None, None,
                                            MSG_NO_SCHEMA_COLUMNS.format(examples=examples)))
            return self._report(np.zeros(self.n, bool))
        if self.n == 0:
            self.file_errors.append(Problem(None, None, MSG_NO_ROWS))
            return self._report(np.zeros(0, bool))
        for col in COLUMNS:
            if col.name in self.mapping:
                continue
            if col.required:
                self.file_errors.append(Problem(None, col.name, MSG_MISSING_COLUMN))
            elif col.kind == "target" and self.require_target:
                self.file_errors.append(Problem(None, col.name, MSG_TARGET_REQUIRED))

        self._note_damaged_rows()
        self._check_row_lengths(len(header))
        for col in COLUMNS:
            if col.name in self.mapping:
                j = self.mapping[col.name]
                self._check_shape(col, self.codes[j], self.uniques[j])
        for col in COLUMNS:
            if col.name not in self.mapping:
                continue
            j = self.mapping[col.name]
            codes, uniques = self.codes[j], self.uniques[j]
            if col.kind == "id":
                self._check_id(col, codes, uniques)
            elif col.kind in ("category", "flag01", "target"):
                self._check_choice(col, codes, uniques)
            else:
                self._check_number(col, codes, uniques)
        self._check_dependencies()
        self._check_totals()
        valid = ~self.bad & ~self.skip
        if self.file_errors:
            valid[:] = False
        return self._report(valid)

    def _add(self, severity, column, template, what, mask_or_pos, fields=None, const=None):
        fields = {k: np.asarray(v, dtype=object) for k, v in (fields or {}).items()}
        if mask_or_pos.dtype == bool:
            pos = np.flatnonzero(mask_or_pos)
        else:
            pos = np.asarray(mask_or_pos, dtype=np.int64)
            order = np.argsort(pos, kind="stable")
            pos = pos[order]
            fields = {k: v[order] for k, v in fields.items()}
        if len(pos) == 0:
            return
        self.findings.append(_Finding(severity, column, template, what, pos, fields, const or {}))
        if severity == "error":
            self.bad[pos] = True
            if column is not None:
                self.col_bad.setdefault(column, np.zeros(self.n, bool))[pos] = True

    def _usable(self, *columns: str) -> np.ndarray:
        """Rows whose values in `columns` were all read correctly (other columns may be bad)."""
        ok = ~self.skip
        for c in columns:
            if c in self.col_bad:
                ok = ok & ~self.col_bad[c]
        return ok

    # -- header and structure --
    def _note_blank_rows(self, keep: np.ndarray, rownums: np.ndarray) -> None:
        blank = ~keep
        if not blank.any() or not keep.any():
            return
        last = np.flatnonzero(keep)[-1]
        inner = np.flatnonzero(blank[:last])          # trailing blank lines are not worth a word
        if len(inner):
            rows = [int(r) for r in rownums[inner[:5]]]
            self.file_warnings.append(Problem(None, None, MSG_BLANK_ROWS.format(
                count=_count(len(inner), "empty row"), was_were=_was_were(len(inner)),
                rows=_join_rows(rows, len(inner)))))

    def _map_header(self, header: list[str]) -> dict[str, int]:
        """Schema column name -> field position; warnings for renamed, extra, repeated headers."""
        def key(s: str) -> str:
            return re.sub(r"[\s_]", "", s).casefold()

        by_key = {key(c.name): c.name for c in COLUMNS}
        mapping: dict[str, int] = {}
        seen: dict[str, list[int]] = {}
        extras: list[str] = []
        for i, h in enumerate(header):
            name = h.replace("\ufeff", "").strip()
            target = name if name in BY_NAME else by_key.get(key(name))
            if target is None:
                extras.append(f'"{name}"' if name else f"column {i + 1} (no name)")
                continue
            seen.setdefault(target, []).append(i)
            if target in mapping:
                continue
            mapping[target] = i
            if h != target:
                self.file_warnings.append(Problem(None, target, MSG_HEADER_RENAMED.format(
                    header=h, column=target)))
        for target, where in seen.items():
            if len(where) > 1:
                self.file_warnings.append(Problem(None, target, MSG_DUPLICATE_HEADER.format(
                    count=len(where), first=where[0] + 1)))
        if extras and mapping:
            n = len(extras)
            self.file_warnings.append(Problem(None, None, MSG_EXTRA_COLUMNS.format(
                count=_count(n, "column"), is_are="is" if n == 1 else "are",
                names=", ".join(extras))))
        return mapping

    def _check_row_lengths(self, width: int) -> None:
        """Rows with more (non-empty) values than the header: one error each, no other checks."""
        last = np.zeros(self.n, np.int64)
        for j in range(width, len(self.codes)):
            last[self.codes[j] != self.blank_codes[j]] = j + 1
        skip = last > 0
        if skip.any():
            self._add("error", None, MSG_EXTRA_VALUES,
                      "more values than the header has columns", skip,
                      {"count": last[skip]}, {"width": width})
            self.skip |= skip

    def _note_damaged_rows(self) -> None:
        """Rows the reader found damaged (stray quote, control bytes, extra values): one error
        each, and no other check (their values cannot be trusted)."""
        if not self.raw.flags:
            return
        pos = np.searchsorted(self.records, np.fromiter(self.raw.flags, np.int64))
        kinds = {"stray": (MSG_STRAY_QUOTE, "a quote mark that is never closed"),
                 "control": (MSG_CONTROL, "control characters"),
                 "span": (MSG_LINE_BREAK, "a value that runs over several lines"),
                 "extra": (MSG_EXTRA_VALUES, "more values than the header has columns")}
        found: dict[str, tuple[list, dict]] = {}
        for p, (rec, (kind, fields)) in zip(pos.tolist(), self.raw.flags.items()):
            if p >= self.n or self.records[p] != rec:
                continue                  # the header itself, or a line with no value at all
            where, vals = found.setdefault(kind, ([], {}))
            where.append(p)
            for k, v in fields.items():
                vals.setdefault(k, []).append(v)
        for kind, (where, vals) in found.items():
            template, what = kinds[kind]
            where = np.asarray(where, np.int64)
            self._add("error", None, template, what, where, vals,
                      {"width": len(self.header)} if kind == "extra" else None)
            self.skip[where] = True

    def _check_shape(self, col, codes: np.ndarray, uniques: np.ndarray) -> None:
        """Values longer than the schema allows (`schema.max_length`) or spanning lines: one
        error each, and the row skips every other check (so no message quotes a huge value)."""
        live = ~self.skip
        text = pa.array(uniques, type=pa.large_string())
        length_u = pc.utf8_length(text).to_numpy(zero_copy_only=False)
        limit = schema.max_length(col)
        long_rows = live & (length_u > limit)[codes]
        if long_rows.any():
            self._add("error", col.name, MSG_TOO_LONG, f"a value longer than {limit} characters",
                      long_rows, {"length": length_u[codes[long_rows]]}, {"limit": limit})
            self.skip |= long_rows
            live = ~self.skip
        broken_u = pc.match_substring_regex(text, "[\r\n]").to_numpy(zero_copy_only=False)
        broken = live & broken_u[codes]
        if broken.any():
            where = np.flatnonzero(broken)
            spans = self.raw.spans
            lines = [spans.get(int(self.records[p]), uniques[codes[p]].count("\n") + 1)
                     for p in where]
            self._add("error", col.name, MSG_LINE_BREAK, "a value that runs over several lines",
                      where, {"lines": lines})
            self.skip[where] = True

    # -- one column --
    def _check_id(self, col, codes: np.ndarray, uniques: np.ndarray) -> None:
        arr = pa.array(uniques, type=pa.large_string())
        trimmed_arr = pc.utf8_trim_whitespace(arr)
        changed_u = pc.not_equal(trimmed_arr, arr).to_numpy(zero_copy_only=False)
        live = ~self.skip
        ids_u, id_codes = uniques, codes
        if changed_u.any():
            trimmed = live & changed_u[codes]

            def note(valid, trimmed=trimmed, name=col.name):
                n = int((trimmed & valid).sum())
                return n and Problem(None, name, MSG_ID_TRIMMED.format(
                    count=_count(n, "value"), was_were=_was_were(n)))

            self.file_warnings.append(note)
            ids_u = uniques.copy()
            ids_u[changed_u] = [u.strip() for u in uniques[changed_u]]
            remap, ids_u = pd.factorize(ids_u)       # " A" and "A" are the same customer
            ids_u = np.asarray(ids_u, dtype=object)
            id_codes = remap[codes]
            trimmed_arr = pa.array(ids_u, type=pa.large_string())
        missing_u = pc.equal(trimmed_arr, "").to_numpy(zero_copy_only=False)
        pattern_u = pc.match_substring_regex(trimmed_arr, f"^{ID_PATTERN}$").to_numpy(
            zero_copy_only=False)
        missing = live & missing_u[id_codes]
        self._add("error", col.name, MSG_ID_MISSING, "no customer ID", missing)
        odd = live & ~missing & ~pattern_u[id_codes]
        self._add("warning", col.name, MSG_ID_PATTERN,
                  "a customer ID that does not look like 7590-VHVEG", odd,
                  {"value": ids_u[id_codes[odd]]})
        self.canon[col.name] = ids_u[id_codes]
        self._check_duplicates(col, id_codes, ids_u, live & ~missing)

    def _check_duplicates(self, col, id_codes, ids_u, candidates) -> None:
        """Every repeat of a customer ID after its first row is an error naming that row.

        With ``seen_ids`` (pieces of one file) an ID first seen in an earlier piece counts as
        repeated here too, and the IDs this piece shows first are added to it.
        """
        pos = np.flatnonzero(candidates)
        seen = self.seen_ids
        old_pos = np.empty(0, np.int64)
        old_first = np.empty(0, np.int64)
        if seen:
            earlier_u = np.fromiter((u in seen for u in ids_u), bool, len(ids_u))
            earlier = earlier_u[id_codes[pos]]
            if earlier.any():
                old_pos = pos[earlier]
                old_first = np.array([seen[v] for v in ids_u[id_codes[old_pos]]], np.int64)
                pos = pos[~earlier]
        if seen is not None and len(pos):
            uniq, first_idx = np.unique(id_codes[pos], return_index=True)
            seen.update(zip(ids_u[uniq].tolist(), self.rownums[pos[first_idx]].tolist()))
        counts = np.bincount(id_codes[pos], minlength=len(ids_u))
        if (counts > 1).any():
            pos = pos[counts[id_codes[pos]] > 1]          # rows of repeated IDs, in file order
            ids = id_codes[pos]
            _, first_idx, inverse = np.unique(ids, return_index=True, return_inverse=True)
            first_pos = pos[first_idx][inverse]
            later = pos != first_pos
            new_pos, new_first = pos[later], self.rownums[first_pos[later]]
        else:
            new_pos, new_first = np.empty(0, np.int64), np.empty(0, np.int64)
        dup = np.concatenate([old_pos, new_pos]).astype(np.int64)
        if not len(dup):
            return
        self._add("error", col.name, MSG_ID_DUPLICATE,
                  "a customer ID that already appears in an earlier row", dup,
                  {"value": ids_u[id_codes[dup]],
                   "first": np.concatenate([old_first, new_first]).astype(np.int64)})

    def _check_choice(self, col, codes: np.ndarray, uniques: np.ndarray) -> None:
        """Category, 0/1 flag or target: each distinct text is judged once."""
        exact = {str(v): v for v in col.values}
        if col.kind == "target":          # the IBM file writes Yes/No; 1/0 is read with a warning
            exact = {}
        exact.update(_FILE_SPELLINGS.get(col.kind, {}))
        folded = {k.casefold(): v for k, v in exact.items()}
        words: dict[str, object] = {}
        if col.kind in ("flag01", "target"):
            words = {**{w: 1 for w in _YES_WORDS}, **{w: 0 for w in _NO_WORDS}}
        elif "Yes" in col.values and "No" in col.values:
            words = {**{w: "Yes" for w in _YES_WORDS}, **{w: "No" for w in _NO_WORDS}}
        # status per distinct text: 0 exact, 1 case/spaces, 2 another coding, 3 missing, 4 unknown
        status = np.zeros(len(uniques), np.int8)
        canon = np.empty(len(uniques), dtype=object)
        for i, u in enumerate(uniques):
            if u in exact:
                canon[i] = exact[u]
                continue
            t = u.strip()
            f = t.casefold()
            if t == "":
                status[i] = 3
            elif f in folded:
                status[i], canon[i] = 1, folded[f]
            elif f in words:
                status[i], canon[i] = 2, words[f]
            else:
                status[i] = 4
        live = ~self.skip
        row_status = np.where(live, status[codes], 0)
        shown = canon
        if col.kind == "target":          # say "1" as "Yes", as the file would write it
            shown = np.array([{0: "No", 1: "Yes"}.get(v, v) for v in canon], dtype=object)
        for kind, template in ((1, MSG_CASE_SPACES), (2, MSG_RECODED)):
            hit = row_status == kind
            if hit.any():
                self._normalised(col.name, template, hit, codes, uniques, shown)
        allowed = ", ".join(_allowed(col))
        if col.kind == "target" and not self.require_target:
            # decided in _report: kept only if every usable row has a value
            canon[status >= 3] = 0
            self.target = (col, row_status >= 3, codes, uniques, canon.astype(np.int64)[codes])
            return
        self._add("error", col.name, MSG_MISSING_CHOICE, "no value", row_status == 3, None,
                  {"allowed": allowed})
        unknown = row_status == 4
        self._add("error", col.name, MSG_UNKNOWN_CHOICE, f"a value that is not one of {allowed}",
                  unknown, {"value": uniques[codes[unknown]]}, {"allowed": allowed})
        if col.kind != "category":
            canon[status >= 3] = 0
            self.canon[col.name] = canon.astype(np.int64)[codes]
        else:                       # kept coded: comparisons and takes stay cheap
            self.cats[col.name] = (codes, canon)
            self.canon[col.name] = None

    def _normalised(self, column, template, hit, codes, uniques, canon) -> None:
        """One warning for a column and a kind of normalisation (counted over used rows)."""
        def note(valid):
            counts = np.bincount(codes[hit & valid], minlength=len(uniques))
            order = sorted(np.flatnonzero(counts), key=lambda i: (-counts[i], uniques[i]))
            ex = [f"{_quote(uniques[i])} as {_quote(canon[i])}" for i in order[:MAX_EXAMPLES]]
            examples = ", ".join(ex) + (", …" if len(order) > MAX_EXAMPLES else "")
            n = int(counts.sum())
            return n and Problem(None, column, template.format(
                count=_count(n, "value"), was_were=_was_were(n), examples=examples))

        self.file_warnings.append(note)

    def _resolve_target(self, valid: np.ndarray) -> None:
        """Churn when not required: kept if every used row has a value, else ignored (warning)."""
        if self.target is None:
            return
        col, unusable, codes, uniques, values = self.target
        where = np.flatnonzero(unusable & valid)
        if not len(where):
            self.canon[col.name] = values
            return
        ex = []
        for p in where[:MAX_EXAMPLES]:
            v = uniques[codes[p]]
            ex.append(f"row {self.rownums[p]}: " + (f'"{v}"' if v.strip() else "blank"))
        examples = ", ".join(ex) + (", …" if len(where) > MAX_EXAMPLES else "")
        self.file_warnings.append(Problem(None, col.name, MSG_TARGET_IGNORED.format(
            count=f"{len(where):,}", total=_count(int(valid.sum()), "row"),
            examples=examples)))

    def _check_number(self, col, codes: np.ndarray, uniques: np.ndarray) -> None:
        """Integer or money column: parse, accept common number formats, check the range."""
        live = ~self.skip
        values_u = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(float)
        values_u[~np.isfinite(values_u)] = np.nan    # "inf", "1e999": not numbers of anything
        status = np.zeros(len(uniques), np.int8)   # 0 number, 1 blank, 2 reformatted, 3 not one
        for i in np.flatnonzero(np.isnan(values_u)):
            u = uniques[i]
            if not u.strip():
                status[i] = 1
                continue
            v = _parse_number_text(u)
            if v is None or not np.isfinite(v):
                status[i] = 3
            else:
                values_u[i], status[i] = v, 2
        row_status = np.where(live, status[codes], 0)
        values = values_u[codes]
        fixed = row_status == 2
        if fixed.any():
            self._normalised(col.name, MSG_NUMBER_FORMAT, fixed, codes, uniques,
                             values_u.astype(object))
        expected = _expected_number(col)
        bad = row_status == 3
        self._add("error", col.name, MSG_NOT_NUMBER, f"a value that is not {expected}",
                  bad, {"value": uniques[codes[bad]]}, {"expected": expected})
        blank = row_status == 1
        if col.name == _TOTAL:                # a blank total has its own rules (_check_totals)
            self.total_blank = blank
        else:
            self._add("error", col.name, MSG_MISSING_NUMBER, "no value", blank, None,
                      {"expected": expected})
        unit = _unit(col)
        ok = live & ~np.isnan(values)
        if col.kind == "integer":
            frac = ok & (values != np.round(values))
            self._add("error", col.name, MSG_NOT_WHOLE,
                      f"a value that is not a whole number of {unit}",
                      frac, {"value": uniques[codes[frac]]}, {"unit": unit})
            ok &= ~frac
        out = np.zeros(self.n, bool)
        if col.minimum is not None:
            out |= ok & (values < col.minimum)
        if col.maximum is not None:
            out |= ok & (values > col.maximum)
        low = _num(col.minimum) if col.minimum is not None else "any"
        high = _num(col.maximum) if col.maximum is not None else "any"
        self._add("error", col.name, MSG_OUT_OF_RANGE, f"a value outside {low} to {high} {unit}",
                  out, {"value": uniques[codes[out]]}, {"low": low, "high": high, "unit": unit})
        values = np.where(out, np.nan, values)     # 1e308 never reaches any arithmetic
        if col.kind == "integer":
            values = np.where(np.isfinite(values), values, 0).astype(np.int64)
        self.canon[col.name] = values

    # -- rules across columns --
    def _check_dependencies(self) -> None:
        for col in DEPENDENT_COLUMNS:
            if col.name not in self.canon or col.parent not in self.canon:
                continue
            if col.name not in self.cats or col.parent not in self.cats:
                continue
            usable = self._usable(col.name, col.parent)
            child_codes, child_u = self.cats[col.name]
            parent_codes, parent_u = self.cats[col.parent]
            off = usable & (parent_u == col.parent_value)[parent_codes]
            said_no = off & (child_u == "No")[child_codes]
            if said_no.any():
                def note(valid, said_no=said_no, col=col):
                    n = int((said_no & valid).sum())
                    return n and Problem(None, col.name, MSG_DEP_NO_AS_FORCED.format(
                        forced=col.forced, count=_count(n, "row"), parent=col.parent,
                        parent_value=col.parent_value))

                self.file_warnings.append(note)
                child_u = np.append(child_u, np.array([col.forced], dtype=object))
                child_codes = child_codes.copy()
                child_codes[said_no] = len(child_u) - 1
                self.cats[col.name] = (child_codes, child_u)
            is_forced = (child_u == col.forced)[child_codes]
            set_when_off = off & ~is_forced
            forced_when_on = usable & ~(parent_u == col.parent_value)[parent_codes] & is_forced
            self._add("error", col.name, MSG_DEP_SET_WHEN_OFF,
                      f'a value other than "{col.forced}" while {col.parent} is '
                      f'"{col.parent_value}"', set_when_off,
                      {"value": child_u[child_codes[set_when_off]]},
                      {"parent": col.parent, "parent_value": col.parent_value,
                       "forced": col.forced})
            self._add("error", col.name, MSG_DEP_FORCED_WHEN_ON,
                      f'"{col.forced}" while {col.parent} is not "{col.parent_value}"',
                      forced_when_on, {"parent_value": parent_u[parent_codes[forced_when_on]]},
                      {"parent": col.parent, "forced": col.forced})

    def _check_totals(self) -> None:
        """TotalCharges against tenure × MonthlyCharges (blank = not billed yet at tenure 0)."""
        if not all(c in self.canon for c in (_TOTAL, _TENURE, _MONTHLY)):
            return
        total = self.canon[_TOTAL].copy()
        tenure, monthly = self.canon[_TENURE], self.canon[_MONTHLY]
        usable = self._usable(_TOTAL, _TENURE, _MONTHLY)
        blank = self.total_blank
        with np.errstate(over="ignore", invalid="ignore"):   # rejected rows hold NaN
            estimate = schema.total_charges_estimate(tenure, monthly)
        fill = usable & blank & (tenure > 0)
        self._add("warning", _TOTAL, MSG_TOTAL_ESTIMATED, "a blank total that was estimated",
                  fill, {schema.TENURE: tenure[fill], "monthly": [_money(v) for v in monthly[fill]],
                         "estimate": [_money(v) for v in estimate[fill]]})
        total[fill] = estimate[fill]
        given = usable & ~blank
        unbilled = given & (tenure == 0)
        self._add("warning", _TOTAL, MSG_TOTAL_NOT_BILLED,
                  "0 months of tenure and a total that was read as blank", unbilled,
                  {"total": [_money(v) for v in total[unbilled]]})
        total[tenure == 0] = np.nan
        billed = given & (tenure > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = total / estimate
        far = billed & ((ratio > TOTAL_RATIO_LIMIT) | (ratio < 1.0 / TOTAL_RATIO_LIMIT))
        self._add("warning", _TOTAL, MSG_TOTAL_INCONSISTENT,
                  "a total far from tenure × monthly charges", far,
                  {"total": [_money(v) for v in total[far]], schema.TENURE: tenure[far],
                   "monthly": [_money(v) for v in monthly[far]],
                   "estimate": [_money(v) for v in estimate[far]]})
        self.canon[_TOTAL] = total

    # -- report --
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


def _blank_code(uniques: np.ndarray) -> int:
    """The code of "" in a column's distinct texts (-1 when no field is empty)."""
    hit = np.flatnonzero(uniques == "")
    return int(hit[0]) if len(hit) else -1


def _has_values(raw: _Raw, j: int, first: int) -> bool:
    """Whether field position j holds any value below the header row `first`."""
    b = _blank_code(raw.uniques[j])
    return bool((raw.codes[j][first + 1:] != b).any())


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


_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"-?\d+,\d{1,2}")
_PLAIN = re.compile(r"-?\d+(\.\d+)?")


def _parse_number_text(text: str) -> float | None:
    """'$1,234.50' -> 1234.5, '29,85' -> 29.85; None when it is not a number written that way."""
    t = text.strip()
    if t.startswith("$"):
        t = t[1:].strip()
    elif t.startswith("-$"):
        t = "-" + t[2:].strip()
    if _THOUSANDS.fullmatch(t):
        return float(t.replace(",", ""))
    if _DECIMAL_COMMA.fullmatch(t):
        return float(t.replace(",", "."))
    if _PLAIN.fullmatch(t) and t != text.strip():
        return float(t)
    return None
