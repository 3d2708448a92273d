"""Tests for churn.history: the campaign-history format and its row-by-row validation."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from churn import history as H
from churn.history import HISTORY_COLUMNS, load_history, validate_history
from churn.validate import MAX_LISTED, Problem, ValidationReport

HEADER = ",".join(HISTORY_COLUMNS)
CUSTOMERS = ["A-1", "A-2", "A-3", "A-4", "A-5"]
OFFERS = ["loyalty_credit", "contract_upgrade"]


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def _check(*lines, **kw):
    return validate_history(_csv(*lines), customer_ids=CUSTOMERS, offer_ids=OFFERS, **kw)


GOOD = [
    "A-1,c1,2024-01-05,loyalty_credit,treatment,Yes,No",
    "A-2,c1,2024-01-06,contract_upgrade,control,,Yes",
    "A-1,c2,2024-06-01,contract_upgrade,treatment,No,",
]


def test_format_is_declared_once():
    assert HISTORY_COLUMNS == ["customerID", "campaign_id", "date", "offer_id", "group",
                               "accepted", "churned"]
    from churn import recommend

    assert recommend.HISTORY_COLUMNS is H.HISTORY_COLUMNS
    assert H.GROUPS == ("treatment", "control")


def test_good_file_gives_the_frame_and_report_shape():
    r = _check(*GOOD)
    assert isinstance(r, ValidationReport)
    assert (r.rows, r.valid_rows, r.rejected_rows, r.errors, r.warnings, r.fatal) == (
        3, 3, 0, [], [], None)
    assert list(r.frame.columns) == HISTORY_COLUMNS + ["row"]
    assert r.frame["row"].tolist() == [2, 3, 4]
    assert r.frame["accepted"].tolist() == ["Yes", "", "No"]
    assert r.frame["churned"].tolist() == ["No", "Yes", ""]
    assert r.summary() == "The file: 3 rows read, 3 valid, 0 rejected; 0 errors, 0 warnings."
    assert r.to_dict() == {"rows": 3, "valid_rows": 3, "errors": [], "warnings": [],
                           "fatal": None}
    assert r.ok


@pytest.mark.parametrize("line, problem", [
    ("A-9,c1,2024-01-05,loyalty_credit,treatment,Yes,No",
     Problem(2, "customerID", 'customer "A-9" is not in the customer file; add the customer '
                              'there or check the ID.')),
    ("A-1,c1,2024-01-05,loyalty_credit,test,,No",
     Problem(2, "group", '"test" is not a group; expected treatment or control.')),
    ("A-1,c1,2024-01-05,loyalty_credit,control,No,No",
     Problem(2, "accepted", '"No" given for a control row; control customers were not made the '
                            'offer, so accepted must be blank.')),
    ("A-1,c1,2024-02-30,loyalty_credit,treatment,Yes,No",
     Problem(2, "date", '"2024-02-30" is not a date; expected YYYY-MM-DD, e.g. 2024-03-31.')),
    ("A-1,c1,05/01/2024,loyalty_credit,treatment,Yes,No",
     Problem(2, "date", '"05/01/2024" is not a date; expected YYYY-MM-DD, e.g. 2024-03-31.')),
    ("A-1,c1,2024-01-05,loyalty_credit,treatment,maybe,No",
     Problem(2, "accepted", '"maybe" is not an answer; expected Yes or No (blank for control '
                            'rows).')),
    ("A-1,c1,2024-01-05,loyalty_credit,treatment,Yes,left",
     Problem(2, "churned", '"left" is not an outcome; expected Yes, No, or blank while '
                           'unknown.')),
    (",c1,2024-01-05,loyalty_credit,treatment,Yes,No",
     Problem(2, "customerID", "the value is missing.")),
    ("A-1,,2024-01-05,loyalty_credit,treatment,Yes,No",
     Problem(2, "campaign_id", "the value is missing.")),
    ("A-1,c1,,loyalty_credit,treatment,Yes,No", Problem(2, "date", "the value is missing.")),
    ("A-1,c1,2024-01-05,,treatment,Yes,No", Problem(2, "offer_id", "the value is missing.")),
    ("A-1,c1,2024-01-05,loyalty_credit,,Yes,No", Problem(2, "group", "the value is missing.")),
])
def test_row_errors_are_pinned(line, problem):
    r = _check(line)
    assert r.errors == [problem]
    assert r.valid_rows == 0 and r.rows == 1
    assert r.frame.empty and list(r.frame.columns) == HISTORY_COLUMNS + ["row"]


def test_duplicate_customer_and_campaign_names_the_first_row():
    r = _check(GOOD[0], GOOD[1], "A-1,c1,2024-01-07,contract_upgrade,treatment,No,No", GOOD[2])
    assert r.errors == [Problem(4, None, 'customer "A-1" already appears in campaign "c1" in '
                                         'row 2.')]
    assert r.frame["row"].tolist() == [2, 3, 5]          # the first one is kept
    assert str(r.errors[0]) == 'Row 4: customer "A-1" already appears in campaign "c1" in row 2.'


def test_unknown_offer_is_a_warning_and_the_row_is_kept():
    r = _check("A-1,c1,2024-01-05,my_new_offer,treatment,Yes,No")
    assert r.errors == []
    assert r.warnings == [Problem(2, "offer_id", 'offer "my_new_offer" is not in the offer '
                                                 'catalogue; the row is kept and the offer is '
                                                 'modelled on its own.')]
    assert r.frame["offer_id"].tolist() == ["my_new_offer"]


def test_nothing_is_checked_against_lists_that_were_not_given():
    r = validate_history(_csv("Z-9,c1,2024-01-05,anything,treatment,Yes,No"))
    assert r.errors == [] and r.warnings == [] and r.valid_rows == 1


def test_normalised_values_are_warned_once_per_column():
    r = _check("A-1,c1,2024-01-05,loyalty_credit,Treatment,yes,NO",
               "A-2,c1,2024-01-05,loyalty_credit, CONTROL ,,1",
               "A-3,c1,2024-01-05,loyalty_credit,treatment,0,false")
    assert r.errors == []
    assert [str(w) for w in r.warnings] == [
        'Column group: 2 values in another case or with extra spaces were read as allowed values '
        '("Treatment" as "treatment", "CONTROL" as "control").',
        'Column accepted: 1 value in another case or with extra spaces was read as allowed values '
        '("yes" as "Yes").',
        'Column accepted: 1 value was read in another coding ("0" as "No").',
        'Column churned: 1 value in another case or with extra spaces was read as allowed values '
        '("NO" as "No").',
        'Column churned: 2 values were read in another coding ("1" as "Yes", "false" as "No").',
    ]
    assert r.frame[["group", "accepted", "churned"]].values.tolist() == [
        ["treatment", "Yes", "No"], ["control", "", "Yes"], ["treatment", "No", "No"]]


def test_every_good_row_goes_through_beside_bad_ones():
    r = _check(GOOD[0], "A-9,c1,2024-01-05,loyalty_credit,treatment,Yes,No", GOOD[1],
               "A-3,c1,2024-13-01,loyalty_credit,treatment,Yes,No", GOOD[2])
    assert r.frame["row"].tolist() == [2, 4, 6]
    assert [(p.row, p.column) for p in r.errors] == [(3, "customerID"), (5, "date")]
    assert r.summary().splitlines() == [
        "The file: 5 rows read, 3 valid, 2 rejected; 2 errors, 0 warnings.", "Errors:",
        '  Row 3, customerID: customer "A-9" is not in the customer file; add the customer there '
        'or check the ID.',
        '  Row 5, date: "2024-13-01" is not a date; expected YYYY-MM-DD, e.g. 2024-03-31.']


def test_problems_of_one_kind_are_capped_with_a_count():
    lines = [f"A-1,c{i},2024-01-05,loyalty_credit,nope,,No" for i in range(MAX_LISTED + 5)]
    r = _check(*lines)
    assert len(r.errors) == MAX_LISTED + 1
    assert r.errors[:2] == [Problem(2, "group", '"nope" is not a group; expected treatment or '
                                                'control.'),
                            Problem(3, "group", '"nope" is not a group; expected treatment or '
                                                'control.')]
    assert r.errors[-1] == Problem(None, "group", f"{MAX_LISTED + 5} rows in all have this "
                                                  f'problem ("…" is not a group); the first '
                                                  f"{MAX_LISTED} are listed.")
    assert r.rejected_rows == MAX_LISTED + 5


def test_file_level_problems():
    missing = validate_history(_csv("A-1,c1,2024-01-05,treatment,Yes,No",
                                    header="customerID,campaign_id,date,group,accepted,churned"))
    assert missing.errors == [Problem(None, "offer_id",
                                      "this required column is missing from the file.")]
    assert missing.valid_rows == 0 and missing.fatal is None
    optional = validate_history(_csv("A-1,c1,2024-01-05,x,treatment,extra",
                                     header="customerID,campaign_id,date,offer_id,group,note"))
    assert optional.errors == []
    assert [str(w) for w in optional.warnings] == [
        "Ignored 1 column that is not part of the campaign-history format: note.",
        "Column accepted: the column is missing from the file; every row reads it as blank "
        "(unknown).",
        "Column churned: the column is missing from the file; every row reads it as blank "
        "(unknown).",
    ]
    assert optional.frame[["accepted", "churned"]].values.tolist() == [["", ""]]
    customer_file = validate_history(b"customerID,gender,tenure\n7590-VHVEG,Female,1\n")
    assert [(p.row, p.column, p.message) for p in customer_file.errors] == [
        (None, c, "this required column is missing from the file.")
        for c in ("campaign_id", "date", "offer_id", "group")]
    other = validate_history(b"gender,tenure\nFemale,1\n")
    assert other.errors == [Problem(None, None, "None of the campaign-history columns were "
                                                "found; the first row must be a header naming "
                                                "customerID, campaign_id, date, offer_id, group, "
                                                "accepted, churned.")]
    header_only = validate_history(_csv())
    assert header_only.errors == [Problem(None, None, "The file has a header but no campaign "
                                                      "rows.")]
    empty = validate_history(b"")
    assert empty.fatal == "The file is empty." and empty.errors == [Problem(None, None,
                                                                            "The file is empty.")]
    gone = validate_history("/nonexistent/h.csv")
    assert gone.fatal == 'The file "/nonexistent/h.csv" does not exist.'
    assert gone.summary() == 'h.csv: cannot be read. The file "/nonexistent/h.csv" does not exist.'


def test_header_case_blank_lines_and_other_dialects():
    text = ("CustomerID;Campaign_ID;Date;Offer_ID;Group;Accepted;Churned\n"
            "A-1;c1;2024-01-05;loyalty_credit;treatment;Yes;No\n\n"
            "A-2;c1;2024-01-05;loyalty_credit;control;;\n")
    r = validate_history(text.encode("utf-8"), customer_ids=CUSTOMERS, offer_ids=OFFERS)
    assert r.errors == []
    assert [str(w) for w in r.warnings] == ["1 empty row was skipped (row 3)."]
    assert r.frame["row"].tolist() == [2, 4]


def test_dataframe_and_excel_sources():
    frame = pd.DataFrame([g.split(",") for g in GOOD], columns=HISTORY_COLUMNS)
    from_frame = validate_history(frame, customer_ids=CUSTOMERS, offer_ids=OFFERS)
    from_csv = _check(*GOOD)
    pd.testing.assert_frame_equal(from_frame.frame, from_csv.frame)
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    from_xlsx = validate_history(buf.getvalue(), customer_ids=CUSTOMERS, offer_ids=OFFERS)
    pd.testing.assert_frame_equal(from_xlsx.frame, from_csv.frame)


def test_load_history_returns_the_good_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(_csv(GOOD[0], "A-1,c1,2024-01-05,loyalty_credit,bad,,No", GOOD[1]))
    got = load_history(path)
    assert list(got.columns) == HISTORY_COLUMNS
    assert got["customerID"].tolist() == ["A-1", "A-2"]
    (tmp_path / "c.csv").write_bytes(b"customerID,gender\nA-1,Male\n")
    with pytest.raises(ValueError) as err:
        load_history(tmp_path / "c.csv")
    assert str(err.value).startswith(f"{tmp_path / 'c.csv'} is not a campaign history: ")
    with pytest.raises(ValueError) as err:
        load_history(tmp_path / "none.csv")
    assert str(err.value) == (f"{tmp_path / 'none.csv'}: cannot be read. The file "
                              f"\"{tmp_path / 'none.csv'}\" does not exist.")


# --- command line -------------------------------------------------------------------------------
def test_cli_validate_recognises_a_history(tmp_path, capsys):
    from churn.cli import main

    path = tmp_path / "h.csv"
    path.write_bytes(_csv(GOOD[0], "A-9,c1,2024-01-05,my_offer,treatment,Yes,No"))
    (tmp_path / "c.csv").write_bytes(b"customerID\nA-1\n")
    assert main(["validate", str(path)]) == 0            # IDs not checked without --customers
    out = capsys.readouterr().out
    assert out == ("h.csv: 2 rows read, 2 valid, 0 rejected; 0 errors, 1 warning.\nWarnings:\n"
                   '  Row 3, offer_id: offer "my_offer" is not in the offer catalogue; the row is '
                   "kept and the offer is modelled on its own.\n")
    assert main(["validate", str(path), "--customers", str(tmp_path / "c.csv"), "--json"]) == 1
    got = json.loads(capsys.readouterr().out)
    assert got["rows"] == 2 and got["valid_rows"] == 1
    assert got["errors"] == [{"row": 3, "column": "customerID",
                              "message": 'customer "A-9" is not in the customer file; add the '
                                         'customer there or check the ID.'}]
    # --kind customers forces the customer-file check
    assert main(["validate", str(path), "--kind", "customers"]) == 1
    assert "tenure: this required column is missing" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "missing.csv"), "--kind", "history"]) == 2
    assert capsys.readouterr().err == (f'missing.csv: cannot be read. The file '
                                       f'"{tmp_path / "missing.csv"}" does not exist.\n')
