"""The message templates a user reads (``Problem.message``) and the helpers that fill them in.

Every message a customer file can earn is a ``MSG_*`` constant here, so tests compare exact
strings and a writer can review all of them in one place. The location (row, column) is never
part of a message: ``str(Problem)`` puts it in front.
"""
from __future__ import annotations

import re

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

