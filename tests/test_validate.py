"""Tests for churn.validate: every rule, its exact message, the file dialects, and the CLI."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churn import schema
from churn.cli import main as cli_main
from churn.validate import (MAX_LISTED, Problem, ValidationReport, _parse_csv_arrow,
                            _read_tolerant, load_customers, validate)

ROOT = Path(__file__).resolve().parent.parent
HEADER = schema.FILE_COLUMNS

# Six valid customers in the IBM text layout (rows 2..7 of the file).
BASE = [
    ["7590-VHVEG", "Female", "0", "Yes", "No", "1", "No", "No phone service", "DSL", "No", "Yes",
     "No", "No", "No", "No", "Month-to-month", "Yes", "Electronic check", "29.85", "29.85", "No"],
    ["5575-GNVDE", "Male", "0", "No", "No", "34", "Yes", "No", "DSL", "Yes", "No", "Yes", "No",
     "No", "No", "One year", "No", "Mailed check", "56.95", "1889.5", "No"],
    ["3668-QPYBK", "Male", "1", "No", "No", "2", "Yes", "No", "DSL", "Yes", "Yes", "No", "No",
     "No", "No", "Month-to-month", "Yes", "Mailed check", "53.85", "108.15", "Yes"],
    ["7795-CFOCW", "Male", "0", "No", "No", "45", "No", "No phone service", "DSL", "Yes", "No",
     "Yes", "Yes", "No", "No", "One year", "No", "Bank transfer (automatic)", "42.3", "1840.75",
     "No"],
    ["9237-HQITU", "Female", "0", "No", "No", "0", "Yes", "No", "Fiber optic", "No", "No", "No",
     "No", "No", "No", "Month-to-month", "Yes", "Electronic check", "70.7", " ", "Yes"],
    ["4190-MFLUW", "Female", "0", "Yes", "Yes", "10", "Yes", "Yes", "No", "No internet service",
     "No internet service", "No internet service", "No internet service",
     "No internet service", "No internet service", "Two year", "No",
     "Credit card (automatic)", "20.05", "200.5", "No"],
]
COL = {name: i for i, name in enumerate(HEADER)}


def rows(**changes) -> list[list[str]]:
    """BASE with changes given as column=[(row_number, text), ...] (row 2 = BASE[0])."""
    out = [list(r) for r in BASE]
    for name, edits in changes.items():
        for row, text in edits:
            out[row - 2][COL[name]] = text
    return out


def csv_bytes(data=None, header=None, sep=",", eol="\n", bom=False, encoding="utf-8") -> bytes:
    header = HEADER if header is None else header
    data = BASE if data is None else data
    lines = [sep.join(header)] + [sep.join(_q(v, sep) for v in r) for r in data]
    text = eol.join(lines) + eol
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def _q(v: str, sep: str) -> str:
    return f'"{v}"' if sep in v else v


def drop_column(name: str, data=None) -> tuple[list[str], list[list[str]]]:
    j = COL[name]
    data = BASE if data is None else data
    return [h for h in HEADER if h != name], [r[:j] + r[j + 1:] for r in data]


def expected_frame() -> pd.DataFrame:
    """BASE as a canonical frame, written independently of the validator."""
    df = pd.DataFrame(BASE, columns=HEADER)
    out = schema.empty_frame()
    out = pd.DataFrame({
        c.name: (df[c.name].astype(str) if c.kind in ("id", "category")
                 else df[c.name].astype(np.int64) if c.kind in ("flag01", "integer")
                 else pd.to_numeric(df[c.name].str.strip().replace("", np.nan)).astype(float)
                 if c.kind == "money" else (df[c.name] == "Yes").astype(np.int64))
        for c in schema.COLUMNS})
    out["row"] = np.arange(2, 2 + len(BASE), dtype=np.int64)
    return out


def msgs(problems) -> list[str]:
    return [str(p) for p in problems]


# --- a clean file -------------------------------------------------------------------------------
def test_clean_file_gives_canonical_frame_without_problems():
    r = validate(csv_bytes())
    assert (r.rows, r.valid_rows, r.rejected_rows) == (6, 6, 0)
    assert r.errors == [] and r.warnings == [] and r.fatal is None and r.ok
    exp = expected_frame()
    pd.testing.assert_frame_equal(r.frame, exp)
    assert list(r.frame.columns) == HEADER + ["row"]
    assert np.isnan(r.frame.loc[4, "TotalCharges"])          # tenure 0, " " in the file
    assert r.frame.dtypes["SeniorCitizen"] == np.int64 and r.frame.dtypes["Churn"] == np.int64
    assert r.rejected_frame().empty


def test_blank_total_for_new_customer_is_valid_nan_for_empty_and_space():
    data = rows(TotalCharges=[(7, "")], tenure=[(7, "0")])   # row 6 keeps " " from the base
    r = validate(csv_bytes(data))
    assert r.errors == [] and r.warnings == []
    assert r.frame["TotalCharges"].isna().tolist() == [False, False, False, False, True, True]


def test_sources_path_bytes_filelike_and_str_filelike(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes(csv_bytes())
    a, b = validate(p), validate(str(p))
    c, d = validate(io.BytesIO(csv_bytes())), validate(io.StringIO(csv_bytes().decode()))
    for r in (a, b, c, d):
        pd.testing.assert_frame_equal(r.frame, expected_frame())
    assert a.source == "c.csv" and c.source is None


def test_wrong_source_type_is_a_caller_error():
    with pytest.raises(ValueError) as e:
        validate(12)
    assert str(e.value) == ("validate() takes a path, bytes or a binary file object, not int; "
                            "pass the uploaded file or its path.")


# --- dialects ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(bom=True), dict(eol="\r\n"), dict(sep=";"), dict(sep="\t"),
                                dict(sep=";", eol="\r\n", bom=True)])
def test_bom_crlf_and_delimiters_are_read_silently(kw):
    r = validate(csv_bytes(**kw))
    assert r.errors == [] and r.warnings == []
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_utf16_file_is_read():
    text = csv_bytes(sep="\t").decode("utf-8")
    r = validate(text.encode("utf-16"))
    assert r.errors == [] and r.warnings == []
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_latin1_file_falls_back_with_a_warning():
    header = HEADER + ["Région"]
    data = [r + ["Île-de-France"] for r in BASE]
    r = validate(csv_bytes(data, header, encoding="latin-1"))
    assert r.errors == []
    assert msgs(r.warnings) == [
        "The file is not in UTF-8; it was read as Latin-1 (Western European), so check that "
        "accented letters look right.",
        'Ignored 1 column that is not part of the customer schema: "Région".']
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_extra_index_column_is_ignored_with_one_warning():
    header = [""] + HEADER + ["score"]
    data = [[str(i)] + r + ["0.5"] for i, r in enumerate(BASE)]
    r = validate(csv_bytes(data, header))
    assert r.errors == []
    assert msgs(r.warnings) == ['Ignored 2 columns that are not part of the customer schema: '
                                'column 1 (no name), "score".']
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_header_in_another_case_and_repeated_column():
    header = ["CustomerID"] + HEADER[1:5] + ["Tenure "] + HEADER[6:] + ["gender"]
    data = [r + ["Male"] for r in BASE]
    r = validate(csv_bytes(data, header))
    assert r.errors == []
    assert msgs(r.warnings) == [
        'Column customerID: the header "CustomerID" was read as customerID.',
        'Column tenure: the header "Tenure " was read as tenure.',
        "Column gender: the file has this column 2 times; only the first one (column 2) was used."]
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_values_in_another_case_or_with_spaces_are_normalised():
    data = rows(gender=[(3, "male"), (4, " Male "), (5, "MALE")], Contract=[(3, "one year")])
    r = validate(csv_bytes(data))
    assert r.errors == []
    assert msgs(r.warnings) == [
        'Column gender: 3 values in another case or with extra spaces were read as allowed '
        'values (" Male " as "Male", "MALE" as "Male", "male" as "Male").',
        'Column Contract: 1 value in another case or with extra spaces was read as allowed '
        'values ("one year" as "One year").']
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_senior_citizen_yes_no_is_read_as_0_1():
    data = rows(SeniorCitizen=[(2, "No"), (3, "No"), (4, "Yes"), (5, "no")])
    r = validate(csv_bytes(data))
    assert r.errors == []
    assert msgs(r.warnings) == [
        'Column SeniorCitizen: 4 values were read in another coding ("No" as 0, "Yes" as 1, '
        '"no" as 0).']
    pd.testing.assert_frame_equal(r.frame, expected_frame())


@pytest.mark.parametrize("yes,no,warning", [
    ("Yes", "No", None),
    ("1", "0", 'Column Churn: 6 values were read in another coding ("0" as "No", '
               '"1" as "Yes").'),
    ("True", "False", 'Column Churn: 6 values were read in another coding ("False" as "No", '
                      '"True" as "Yes").'),
    ("yes", "no", 'Column Churn: 6 values in another case or with extra spaces were read as '
                  'allowed values ("no" as "No", "yes" as "Yes").'),
])
def test_churn_codings(yes, no, warning):
    data = [r[:-1] + [yes if r[-1] == "Yes" else no] for r in BASE]
    r = validate(csv_bytes(data), require_target=True)
    assert r.errors == []
    assert msgs(r.warnings) == ([] if warning is None else [warning])
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_yes_no_columns_accept_1_0():
    r = validate(csv_bytes(rows(Partner=[(2, "1"), (3, "0")])))
    assert msgs(r.warnings) == ['Column Partner: 2 values were read in another coding '
                                '("0" as "No", "1" as "Yes").']
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_number_formats_are_read_with_a_warning():
    data = rows(MonthlyCharges=[(3, "$56.95")], TotalCharges=[(3, "1,889.50"), (4, "108,15")])
    r = validate(csv_bytes(data))
    assert r.errors == []
    assert msgs(r.warnings) == [
        'Column MonthlyCharges: 1 value written with a currency sign, thousands separators or a '
        'decimal comma was read as numbers ("$56.95" as 56.95).',
        'Column TotalCharges: 2 values written with a currency sign, thousands separators or a '
        'decimal comma were read as numbers ("1,889.50" as 1889.5, "108,15" as 108.15).']
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_blank_lines_are_skipped_and_row_numbers_stay_file_lines():
    text = csv_bytes().decode()
    lines = text.split("\n")
    lines.insert(3, "")                      # a blank line becomes file row 4
    lines.insert(5, ",,,,")
    r = validate(("\n".join(lines) + "\n\n").encode())
    assert r.errors == []
    assert msgs(r.warnings) == ["2 empty rows were skipped (rows 4, 6)."]
    assert r.frame["row"].tolist() == [2, 3, 5, 7, 8, 9]


# --- file-level problems ------------------------------------------------------------------------
@pytest.mark.parametrize("content,message", [
    (b"", "The file is empty."),
    (b"  \n\r\n  ", "The file is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
     "The file is not a CSV or Excel file; it looks like binary data."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
     "The file is in the old Excel format (.xls); save it as .xlsx or CSV and try again."),
    (b"PK\x03\x04not really a workbook",
     "The file looks like an Excel workbook but could not be opened; save it again as .xlsx "
     "or CSV."),
])
def test_unreadable_files_are_fatal(content, message):
    r = validate(content)
    assert r.fatal == message
    assert msgs(r.errors) == [message]
    assert (r.rows, r.valid_rows) == (0, 0)
    assert list(r.frame.columns) == HEADER + ["row"] and r.frame.empty


def test_missing_path_and_folder_are_fatal(tmp_path):
    missing = tmp_path / "nope.csv"
    assert validate(missing).fatal == f'The file "{missing}" does not exist.'
    assert validate(tmp_path).fatal == f'"{tmp_path}" is a folder, not a file.'


def test_header_only_file():
    r = validate(csv_bytes([]))
    assert r.fatal is None
    assert msgs(r.errors) == ["The file has a header but no customer rows."]
    assert (r.rows, r.valid_rows) == (0, 0)


def test_text_file_that_is_not_a_customer_table():
    r = validate(b"hello world\nthis is a letter, not a table\n")
    assert msgs(r.errors) == [
        "None of the customer columns were found; the first row must be a header naming "
        "columns such as customerID, gender, SeniorCitizen, Partner."]
    assert (r.rows, r.valid_rows) == (1, 0)


def test_missing_required_columns_are_errors_and_no_row_is_used():
    header, data = drop_column("tenure")
    j = header.index("Contract")
    header, data = header[:j] + header[j + 1:], [r[:j] + r[j + 1:] for r in data]
    r = validate(csv_bytes(data, header))
    assert msgs(r.errors) == ["Column tenure: this required column is missing from the file.",
                              "Column Contract: this required column is missing from the file."]
    assert (r.rows, r.valid_rows) == (6, 0)
    rej = r.rejected_frame()
    assert rej["row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert rej["reasons"].iloc[0] == (
        "Column tenure: this required column is missing from the file.; "
        "Column Contract: this required column is missing from the file.")


def test_file_without_churn_is_valid_for_scoring_but_not_for_training():
    header, data = drop_column("Churn")
    r = validate(csv_bytes(data, header))
    assert r.errors == [] and r.warnings == []
    assert "Churn" not in r.frame.columns
    pd.testing.assert_frame_equal(r.frame, expected_frame().drop(columns="Churn"))
    t = validate(csv_bytes(data, header), require_target=True)
    assert msgs(t.errors) == [
        "Column Churn: training needs this column (whether each customer left: Yes or No), "
        "but the file does not have it."]
    assert t.valid_rows == 0


def test_unusable_churn_is_ignored_for_scoring_and_an_error_for_training():
    data = rows(Churn=[(3, "maybe"), (5, "")])
    r = validate(csv_bytes(data))
    assert r.errors == []
    assert msgs(r.warnings) == [
        'Column Churn: 2 of 6 rows have no usable value (row 3: "maybe", row 5: blank), so the '
        'column was ignored; it is only needed for training.']
    assert "Churn" not in r.frame.columns and r.valid_rows == 6
    t = validate(csv_bytes(data), require_target=True)
    assert msgs(t.errors) == [
        'Row 3, Churn: "maybe" is not a known value; expected one of No, Yes, 0, 1.',
        "Row 5, Churn: the value is missing; expected one of No, Yes, 0, 1."]
    assert t.frame["row"].tolist() == [2, 4, 6, 7]


def test_excel_workbook_is_read_like_the_csv(tmp_path):
    df = pd.read_csv(io.BytesIO(csv_bytes()), dtype=str, keep_default_na=False)
    df["tenure"] = df["tenure"].astype(int)                  # real numbers in the sheet
    df["MonthlyCharges"] = df["MonthlyCharges"].astype(float)
    df["SeniorCitizen"] = df["SeniorCitizen"].astype(int)
    df.loc[df["TotalCharges"].str.strip() == "", "TotalCharges"] = None
    df["TotalCharges"] = df["TotalCharges"].astype(float)
    path = tmp_path / "customers.xlsx"
    with pd.ExcelWriter(path) as xw:
        df.to_excel(xw, index=False, sheet_name="Customers")
        pd.DataFrame({"note": ["x"]}).to_excel(xw, index=False, sheet_name="Notes")
    r = validate(path)
    assert r.errors == []
    assert msgs(r.warnings) == ['The workbook has 2 sheets; only the first, "Customers", was read.']
    pd.testing.assert_frame_equal(r.frame, expected_frame())
    # recognised by content, whatever the name
    same = validate(path.read_bytes())
    pd.testing.assert_frame_equal(same.frame, expected_frame())


# --- row problems -------------------------------------------------------------------------------
def test_non_numeric_missing_and_fractional_numbers():
    data = rows(tenure=[(2, "abc"), (3, ""), (4, "2.5")], MonthlyCharges=[(5, "n/a")],
                TotalCharges=[(6, "lots")])
    r = validate(csv_bytes(data))
    assert msgs(r.errors) == [
        'Row 2, tenure: "abc" is not a number of months.',
        "Row 3, tenure: the value is missing; expected a number of months.",
        'Row 4, tenure: "2.5" is not a whole number of months.',
        'Row 5, MonthlyCharges: "n/a" is not an amount in dollars.',
        'Row 6, TotalCharges: "lots" is not an amount in dollars.']
    assert r.frame["row"].tolist() == [7]


def test_out_of_range_values():
    data = rows(tenure=[(2, "130"), (3, "-1")], MonthlyCharges=[(4, "-5")],
                TotalCharges=[(5, "200000")])
    r = validate(csv_bytes(data))
    assert msgs(r.errors) == [
        'Row 2, tenure: "130" is outside the allowed range of 0 to 120 months.',
        'Row 3, tenure: "-1" is outside the allowed range of 0 to 120 months.',
        'Row 4, MonthlyCharges: "-5" is outside the allowed range of 0 to 1,000 dollars.',
        'Row 5, TotalCharges: "200000" is outside the allowed range of 0 to 100,000 dollars.']
    assert r.frame["row"].tolist() == [6, 7]


def test_unknown_and_missing_category_values():
    data = rows(Contract=[(3, "Monthly")], gender=[(4, "")], SeniorCitizen=[(5, "2")])
    r = validate(csv_bytes(data))
    assert msgs(r.errors) == [
        'Row 3, Contract: "Monthly" is not a known value; expected one of Month-to-month, '
        'One year, Two year.',
        "Row 4, gender: the value is missing; expected one of Female, Male.",
        'Row 5, SeniorCitizen: "2" is not a known value; expected one of 0, 1, No, Yes.']
    assert r.frame["row"].tolist() == [2, 6, 7]


def test_total_charges_rules():
    data = rows(TotalCharges=[(3, " "), (4, "5000")])
    data[4][COL["TotalCharges"]] = "70.7"                    # row 6 has tenure 0
    r = validate(csv_bytes(data))
    assert r.errors == []
    assert msgs(r.warnings) == [
        "Row 3, TotalCharges: the value is blank although tenure is 34 months; it was estimated "
        "as 34 × $56.95 = $1,936.30.",
        "Row 4, TotalCharges: the total of $5,000.00 is far from tenure × monthly charges "
        "(2 × $53.85 = $107.70); please check it.",
        "Row 6, TotalCharges: tenure is 0 months, so the total of $70.70 was read as blank "
        "(not billed yet)."]
    tc = r.frame.set_index("row")["TotalCharges"]
    assert tc[3] == pytest.approx(34 * 56.95) and tc[4] == 5000.0 and np.isnan(tc[6])


def test_customer_ids_duplicates_missing_and_malformed():
    data = rows(customerID=[(3, "7590-VHVEG"), (4, " "), (5, "cust-1"), (7, " 7590-VHVEG ")])
    r = validate(csv_bytes(data))
    assert msgs(r.errors) == [
        'Row 3, customerID: customer ID "7590-VHVEG" already appears in row 2.',
        "Row 4, customerID: the customer ID is missing.",
        'Row 7, customerID: customer ID "7590-VHVEG" already appears in row 2.']
    assert msgs(r.warnings) == [
        'Row 5, customerID: "cust-1" does not look like a customer ID such as 7590-VHVEG '
        '(4 digits, a dash, 5 capital letters); it was kept as it is.']
    assert r.frame["row"].tolist() == [2, 5, 6]
    assert r.frame["customerID"].tolist() == ["7590-VHVEG", "cust-1", "9237-HQITU"]


def test_trimmed_ids_warning():
    r = validate(csv_bytes(rows(customerID=[(2, " 7590-VHVEG")])))
    assert msgs(r.warnings) == ["Column customerID: 1 value with extra spaces was trimmed."]
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_dependent_columns():
    data = rows(OnlineSecurity=[(7, "Yes")],                  # internet "No" but an add-on
                MultipleLines=[(3, "No phone service"),       # phone "Yes" but "no phone"
                               (5, "Yes")],                   # phone "No" but multiple lines
                InternetService=[(4, "No")])                  # add-ons set, internet "No"
    r = validate(csv_bytes(data))
    assert msgs(r.errors) == [
        'Row 3, MultipleLines: "No phone service" is not possible when PhoneService is "Yes".',
        'Row 4, OnlineSecurity: "Yes" is not possible when InternetService is "No"; expected '
        '"No internet service".',
        'Row 4, OnlineBackup: "Yes" is not possible when InternetService is "No"; expected '
        '"No internet service".',
        'Row 5, MultipleLines: "Yes" is not possible when PhoneService is "No"; expected '
        '"No phone service".',
        'Row 7, OnlineSecurity: "Yes" is not possible when InternetService is "No"; expected '
        '"No internet service".']
    assert r.frame["row"].tolist() == [2, 6]


def test_no_where_the_parent_service_is_absent_becomes_the_forced_value():
    data = rows(StreamingTV=[(7, "No")], MultipleLines=[(2, "No")])
    r = validate(csv_bytes(data))
    assert r.errors == []
    assert msgs(r.warnings) == [
        'Column MultipleLines: read "No" as "No phone service" in 1 row where PhoneService is '
        '"No".',
        'Column StreamingTV: read "No" as "No internet service" in 1 row where InternetService '
        'is "No".']
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_row_with_too_many_values_is_an_error_and_other_rows_survive():
    text = csv_bytes().decode().split("\n")
    text[2] = text[2] + ",surprise,again"
    r = validate("\n".join(text).encode())
    assert msgs(r.errors) == ["Row 3: the row has 23 values but the header has only 21 columns."]
    assert r.warnings == []
    assert r.frame["row"].tolist() == [2, 4, 5, 6, 7]
    exp = expected_frame().drop(index=1).reset_index(drop=True)
    pd.testing.assert_frame_equal(r.frame, exp)


def test_short_row_reports_each_missing_value():
    text = csv_bytes().decode().split("\n")
    text[2] = ",".join(BASE[1][:19])                           # TotalCharges and Churn missing
    r = validate("\n".join(text).encode(), require_target=True)
    assert msgs(r.errors) == ["Row 3, Churn: the value is missing; expected one of No, Yes, 0, 1."]
    assert r.warnings == []                   # the row is not used, so no estimate is noted
    assert r.frame["row"].tolist() == [2, 4, 5, 6, 7]


def test_no_valid_row_is_lost_because_others_are_bad():
    data = rows(tenure=[(2, "x")], Contract=[(4, "?")], customerID=[(6, "")])
    r = validate(csv_bytes(data))
    assert r.frame["row"].tolist() == [3, 5, 7]
    exp = expected_frame().iloc[[1, 3, 5]].reset_index(drop=True)
    pd.testing.assert_frame_equal(r.frame, exp)


def test_problems_of_one_kind_are_capped_and_counted():
    data = [list(BASE[1]) for _ in range(MAX_LISTED + 5)]
    for i, r in enumerate(data):
        r[COL["customerID"]] = f"{i:04d}-ABCDE"
        r[COL["tenure"]] = "soon"
    data.append(list(BASE[0]))
    rep = validate(csv_bytes(data))
    assert len(rep.errors) == MAX_LISTED + 1
    assert str(rep.errors[0]) == ("Column tenure: 25 rows in all have a value that is not a "
                                  "number of months; the first 20 are listed.")
    assert str(rep.errors[1]) == 'Row 2, tenure: "soon" is not a number of months.'
    assert rep.errors[-1].row == MAX_LISTED + 1
    assert rep.valid_rows == 1
    rej = rep.rejected_frame()
    assert len(rej) == 25 and rej["row"].tolist() == list(range(2, 27))
    assert set(rej["reasons"]) == {'tenure: "soon" is not a number of months.'}
    assert rej["tenure"].tolist() == ["soon"] * 25


def test_rejected_frame_has_raw_text_and_all_reasons():
    data = rows(tenure=[(3, "abc")], Contract=[(3, "Monthly")], gender=[(5, "x")])
    rej = validate(csv_bytes(data)).rejected_frame()
    assert list(rej.columns) == ["row", "reasons"] + HEADER
    assert rej["row"].tolist() == [3, 5]
    assert rej["reasons"].tolist() == [
        'tenure: "abc" is not a number of months.; Contract: "Monthly" is not a known value; '
        'expected one of Month-to-month, One year, Two year.',
        'gender: "x" is not a known value; expected one of Female, Male.']
    assert rej.loc[0, "tenure"] == "abc" and rej.loc[0, "customerID"] == "5575-GNVDE"


def test_warnings_only_describe_rows_that_are_used():
    data = rows(gender=[(3, "male")], tenure=[(3, "abc")])
    r = validate(csv_bytes(data))
    assert r.warnings == []
    assert msgs(r.errors) == ['Row 3, tenure: "abc" is not a number of months.']


def test_report_to_dict_and_problem_text():
    data = rows(tenure=[(3, "abc")], SeniorCitizen=[(2, "Yes")])
    d = validate(csv_bytes(data)).to_dict()
    assert d == {"rows": 6, "valid_rows": 5,
                 "errors": [{"row": 3, "column": "tenure",
                             "message": '"abc" is not a number of months.'}],
                 "warnings": [{"row": None, "column": "SeniorCitizen",
                               "message": '1 value was read in another coding ("Yes" as 1).'}],
                 "fatal": None}
    assert str(Problem(5, None, "x.")) == "Row 5: x."
    assert str(Problem(None, None, "X.")) == "X."


def test_load_customers(tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes())
    pd.testing.assert_frame_equal(load_customers(good), expected_frame().drop(columns="row"))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows(tenure=[(3, "abc")])))
    with pytest.raises(ValueError) as e:
        load_customers(bad)
    assert str(e.value) == (f'{bad} cannot be loaded: 1 error: Row 3, tenure: "abc" is not a '
                            f'number of months. Run `python -m churn validate {bad}` for the '
                            f'list.')


def test_fast_and_tolerant_readers_agree():
    data = rows(gender=[(3, " Male")], TotalCharges=[(4, "")])
    content = csv_bytes(data, sep=";", eol="\r\n")
    fast = _parse_csv_arrow(content, ";", len(HEADER))
    slow = _read_tolerant(content, ";", len(HEADER), None)
    assert fast is not None and fast[2] == slow.nrecords == 7
    for (fc, fu), (sc, su) in zip(zip(fast[0], fast[1]), zip(slow.codes, slow.uniques)):
        assert fu[fc].tolist() == su[sc].tolist()


def test_report_defaults():
    r = ValidationReport()
    assert (r.rows, r.valid_rows, r.errors, r.fatal) == (0, 0, [], None)
    assert list(r.rejected_frame().columns) == ["row", "reasons"]


# --- command line -------------------------------------------------------------------------------
def _run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "churn", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_exit_codes_and_json(tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes())
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows(tenure=[(3, "abc")])))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    p = _run_cli("validate", str(good))
    assert p.returncode == 0
    assert p.stdout.strip() == "good.csv: 6 rows read, 6 valid, 0 rejected; 0 errors, 0 warnings."

    p = _run_cli("validate", str(bad), "--json")
    assert p.returncode == 1
    out = json.loads(p.stdout)
    assert list(out) == ["rows", "valid_rows", "errors", "warnings", "fatal"]
    assert out["errors"] == [{"row": 3, "column": "tenure",
                              "message": '"abc" is not a number of months.'}]
    assert (out["rows"], out["valid_rows"]) == (6, 5)

    p = _run_cli("validate", str(empty))
    assert p.returncode == 2
    assert p.stderr.strip() == "empty.csv: cannot be read. The file is empty."


def test_cli_lists_first_50_problems(tmp_path, capsys):
    data = []
    for i in range(60):
        r = list(BASE[1])
        r[COL["customerID"]] = f"{i:04d}-ABCDE"
        r[COL["tenure"]], r[COL["Contract"]], r[COL["gender"]] = "x", "y", "z"
        data.append(r)
    f = tmp_path / "many.csv"
    f.write_bytes(csv_bytes(data))
    assert cli_main(["validate", str(f)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "many.csv: 60 rows read, 0 valid, 60 rejected; 63 errors, 0 warnings."
    assert lines[1] == "Errors:"
    assert lines[2] == ("  Column gender: 60 rows in all have a value that is not one of "
                        "Female, Male; the first 20 are listed.")
    assert lines[52] == "  ... and 13 more"
    assert len(lines) == 53
    assert cli_main(["validate", str(f), "--json"]) == 1
    assert len(json.loads(capsys.readouterr().out)["errors"]) == 63


def test_quoted_line_break_in_a_value_is_one_row():
    header = HEADER + ["note"]
    data = [r + ["ok"] for r in BASE]
    data[1][-1] = '"first line\nsecond line"'
    r = validate(csv_bytes(data, header))
    assert r.errors == []
    assert msgs(r.warnings) == ['Ignored 1 column that is not part of the customer schema: '
                                '"note".']
    pd.testing.assert_frame_equal(r.frame, expected_frame())


def test_a_blank_line_before_the_header_is_skipped_and_rows_keep_their_file_numbers():
    from churn import schema, synth

    df = schema.to_file_frame(synth.generate_customers(20, 1))
    report = validate(("\n" + df.to_csv(index=False)).encode())
    assert report.fatal is None and report.errors == []
    assert (report.rows, report.valid_rows) == (20, 20)
    assert list(report.frame["row"][:3]) == [3, 4, 5]  # blank line = row 1, header = row 2


# --- damaged and hostile files (issue 17) --------------------------------------------------------
def _lines(data=None) -> list[bytes]:
    return csv_bytes(data).split(b"\n")


def test_a_stray_quote_costs_only_its_row():
    lines = _lines()
    lines[3] = lines[3].replace(b",Male,", b',"Male,', 1)              # row 4
    r = validate(b"\n".join(lines))
    assert msgs(r.errors) == ['Row 4: a quote mark (") in this row is never closed, so its '
                              'values cannot be told apart; only this row was left out.']
    assert r.frame["row"].tolist() == [2, 3, 5, 6, 7]
    assert r.rejected_frame()["gender"].tolist() == ['"Male']


def test_a_nul_byte_costs_only_its_row_and_never_makes_the_file_binary():
    lines = _lines()
    lines[2] = lines[2].replace(b"Male", b"Ma\x00le", 1)                # row 3
    r = validate(b"\n".join(lines))
    assert msgs(r.errors) == ["Row 3: the row holds a control character (byte 0x00) that "
                              "customer data never has; the file is probably damaged here."]
    assert (r.rows, r.valid_rows) == (6, 5)


def test_extra_values_and_absurdly_wide_rows_are_one_error_each():
    lines = _lines()
    lines[1] += b",surprise"                                           # row 2: a value too many
    lines[2] += b"," * 5000                                            # row 3: 5,000 empty fields more
    lines[3] += b",,"                                                  # row 4: Excel's trailing
    r = validate(b"\n".join(lines))
    assert msgs(r.errors) == [
        "Row 2: the row has 22 values but the header has only 21 columns.",
        "Row 3: the row has 5,021 values but the header has only 21 columns."]
    assert r.frame["row"].tolist() == [4, 5, 6, 7]


def test_absurd_headers_are_refused_at_once():
    wide = ",".join(HEADER + [f"x{i}" for i in range(2000)]).encode() + b"\n"
    r = validate(wide + csv_bytes().split(b"\n", 1)[1])
    assert r.fatal == ("The first row has 2,021 columns, but a customer file has 21 (at most "
                       "1,000 are read); check that this is a customer table and that its first "
                       "row is the header.")
    long = b",".join([b"h" * 70_000] + [h.encode() for h in HEADER]) + b"\n"
    r = validate(long + b"a,b\n")
    assert r.fatal == ("The first row is longer than 65,536 bytes, far too long for a header of "
                       "customer columns; check that this is a customer table.")


def test_values_longer_than_the_schema_allows_are_row_errors():
    data = rows(customerID=[(2, "7" * 65)], Contract=[(3, "x" * 300)])
    r = validate(csv_bytes(data))
    assert msgs(r.errors) == [
        "Row 2, customerID: the value is 65 characters long; at most 64 are allowed.",
        "Row 3, Contract: the value is 300 characters long; at most 256 are allowed."]
    assert schema.max_length("customerID") == 64 and schema.max_length("gender") == 256


def test_a_quoted_value_over_lines_in_a_customer_column_is_rejected_saying_so():
    data = rows(Contract=[(3, '"One\nyear"')])
    r = validate(csv_bytes(data))
    assert msgs(r.errors) == [
        "Row 3, Contract: the value runs over 2 lines of the file, so a quote mark is probably "
        "missing or stray there; the row (all 2 lines) was left out."]
    assert r.frame["row"].tolist() == [2, 4, 5, 6, 7]


def test_huge_and_infinite_numbers_are_rejected_without_numpy_warnings():
    import warnings

    data = rows(MonthlyCharges=[(2, "1e308")], tenure=[(3, "1e308")], TotalCharges=[(4, "inf")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = validate(csv_bytes(data))
    assert msgs(r.errors) == [
        'Row 2, MonthlyCharges: "1e308" is outside the allowed range of 0 to 1,000 dollars.',
        'Row 3, tenure: "1e308" is outside the allowed range of 0 to 120 months.',
        'Row 4, TotalCharges: "inf" is not an amount in dollars.']


def test_latin1_lines_in_a_utf8_file_are_read_and_said():
    lines = _lines()
    lines[2] = lines[2].replace(b"Mailed check", "Mailed chéck".encode("latin-1"))
    lines[4] = lines[4].replace(b"Male", "Mâle".encode("utf-8"))
    r = validate(b"\n".join(lines))
    assert msgs(r.warnings) == ["The file is not in UTF-8; it was read as Latin-1 (Western "
                                "European), so check that accented letters look right."]
    rejected = r.rejected_frame()                 # both rows read, each in its own encoding
    assert rejected["row"].tolist() == [3, 5]
    assert rejected["PaymentMethod"].tolist() == ["Mailed chéck", "Bank transfer (automatic)"]
    assert rejected["gender"].tolist() == ["Male", "Mâle"]
