"""Tests for churn.conditions: the safe condition language of the offer catalogue."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn import schema
from churn.conditions import Condition, ConditionError, mask, parse, value_phrase

KNOWN = ", ".join(schema.FEATURES)


def _customers() -> pd.DataFrame:
    """Six hand-made canonical customers covering the values the tests look at."""
    rows = [
        # id, contract, tenure, monthly, total, payment, internet, techsupport, senior
        ("0001-AAAAA", "Month-to-month", 1, 70.0, 70.0, "Electronic check", "Fiber optic", "No", 0),
        ("0002-BBBBB", "One year", 24, 55.5, 1332.0, "Mailed check", "DSL", "Yes", 1),
        ("0003-CCCCC", "Two year", 60, 20.0, 1200.0, "Credit card (automatic)", "No",
         schema.NO_INTERNET, 0),
        ("0004-DDDDD", "Month-to-month", 0, 99.9, np.nan, "Bank transfer (automatic)",
         "Fiber optic", "No", 1),
        ("0005-EEEEE", "Month-to-month", 12, 60.0, 720.0, "Mailed check", "DSL", "No", 0),
        ("0006-FFFFF", "One year", 13, 59.99, 780.0, "Electronic check", "Fiber optic", "Yes", 0),
    ]
    base = {
        "gender": "Female", "Partner": "No", "Dependents": "No", "PhoneService": "Yes",
        "MultipleLines": "No", "OnlineSecurity": "No", "OnlineBackup": "No",
        "DeviceProtection": "No", "StreamingTV": "No", "StreamingMovies": "No",
        "PaperlessBilling": "Yes",
    }
    out = []
    for cid, contract, tenure, monthly, total, pay, internet, tech, senior in rows:
        r = dict(base, customerID=cid, Contract=contract, tenure=tenure, MonthlyCharges=monthly,
                 TotalCharges=total, PaymentMethod=pay, InternetService=internet,
                 TechSupport=tech, SeniorCitizen=senior)
        out.append(r)
    df = pd.DataFrame(out)
    return schema.enforce_dependencies(df)[[c for c in schema.FILE_COLUMNS if c != "Churn"]]


DF = _customers()


# --- parsing -----------------------------------------------------------------------------------
def test_parse_simple_clause():
    c = parse('Contract == "Month-to-month"')
    assert isinstance(c, Condition)
    assert c.columns == ("Contract",)
    assert str(c) == 'Contract == "Month-to-month"'
    assert not c.always


def test_parse_and_list_and_numbers():
    c = parse('PaymentMethod in ["Electronic check", "Mailed check"] AND tenure <= 12.5 '
              'and SeniorCitizen != 1')
    assert c.columns == ("PaymentMethod", "tenure", "SeniorCitizen")
    assert [cl.op for cl in c.clauses] == ["in", "<=", "!="]
    assert c.clauses[0].value == ("Electronic check", "Mailed check")
    assert c.clauses[1].value == 12.5
    assert str(c) == ('PaymentMethod in ["Electronic check", "Mailed check"] and tenure <= 12.5 '
                      'and SeniorCitizen != 1')


def test_parse_not_in_and_always():
    c = parse('Contract not in ["One year", "Two year"]')
    assert c.clauses[0].op == "not in"
    a = parse("  Always ")
    assert a.always and a.columns == () and str(a) == "always"


def test_parse_accepts_a_condition():
    c = parse("tenure < 3")
    assert parse(c) is c


def test_normalised_text_round_trips():
    for text in ['tenure >= 0 and MonthlyCharges < 70.25', 'gender != "Male"',
                 'InternetService not in ["No"]', "always"]:
        assert str(parse(str(parse(text)))) == str(parse(text))


# --- errors (messages pinned) ------------------------------------------------------------------
@pytest.mark.parametrize("expr, message", [
    ('Contrat == "Month-to-month"',
     'Unknown column "Contrat" in condition \'Contrat == "Month-to-month"\' (did you mean '
     f'"Contract"?); known columns: {KNOWN}'),
    ('customerID == "7590-VHVEG"',
     'Unknown column "customerID" in condition \'customerID == "7590-VHVEG"\' (it is not a '
     f'customer feature); known columns: {KNOWN}'),
    ('Contract == "Monthly"',
     'Value "Monthly" is not allowed for Contract in condition \'Contract == "Monthly"\'; '
     'allowed values: "Month-to-month", "One year", "Two year"'),
    ('Contract == "month-to-month"',
     'Value "month-to-month" is not allowed for Contract in condition '
     '\'Contract == "month-to-month"\' (did you mean "Month-to-month"?); '
     'allowed values: "Month-to-month", "One year", "Two year"'),
    ('PaymentMethod in ["Electronic check", "Cash"]',
     'Value "Cash" is not allowed for PaymentMethod in condition \'PaymentMethod in '
     '["Electronic check", "Cash"]\'; allowed values: "Electronic check", "Mailed check", '
     '"Bank transfer (automatic)", "Credit card (automatic)"'),
    ("SeniorCitizen == 2",
     "Value 2 is not allowed for SeniorCitizen in condition 'SeniorCitizen == 2'; "
     "allowed values: 0, 1"),
    ('Contract < "One year"',
     'Operator "<" cannot compare text column Contract in condition \'Contract < "One year"\'; '
     "use == != in or not in"),
    ('tenure == "12"',
     "Column tenure is numeric but the value \"12\" is text in condition 'tenure == \"12\"'; "
     "write numbers without quotes"),
    ("Contract == 1",
     "Column Contract holds text but the value 1 is a number in condition 'Contract == 1'; "
     "put text values in double quotes"),
    ('Contract "One year"',
     'Expected an operator (== != < <= > >= in, not in) after "Contract" at character 10 in '
     'condition \'Contract "One year"\', found \'"One year"\''),
    ('Contract is "One year"',
     'Expected an operator (== != < <= > >= in, not in) after "Contract" at character 10 in '
     'condition \'Contract is "One year"\', found \'is\' (use == to compare)'),
    ('Contract = "One year"',
     "Unexpected character '=' at character 10 in condition 'Contract = \"One year\"': "
     "use == to compare"),
    ("Contract == 'One year'",
     "Unexpected character \"'\" at character 13 in condition "
     "\"Contract == 'One year'\": text values need double quotes"),
    ('Contract == "One year',
     "Unterminated text value starting at character 13 in condition 'Contract == \"One year': "
     "close it with a double quote"),
    ("tenure <=",
     "Expected a value after \"<=\" at character 10 in condition 'tenure <=', found the end of "
     "the condition"),
    ("Contract == One",
     "Expected a value after \"==\" at character 13 in condition 'Contract == One', found "
     "'One': put text values in double quotes"),
    ('Contract in "One year"',
     'Operator "in" needs a bracketed list such as ["Month-to-month", "One year"] at character '
     '13 in condition \'Contract in "One year"\', found \'"One year"\''),
    ('Contract == ["One year"]',
     'Operator "==" needs a single value, not a list, at character 13 in condition '
     '\'Contract == ["One year"]\'; use "in" for a list'),
    ("Contract in []",
     "Empty list at character 14 in condition 'Contract in []': give at least one value"),
    ('Contract in ["One year" "Two year"]',
     'Expected "," or "]" in the list at character 25 in condition '
     '\'Contract in ["One year" "Two year"]\', found \'"Two year"\''),
    ("tenure < 3 or tenure > 60",
     '"or" is not supported at character 12 in condition \'tenure < 3 or tenure > 60\': join '
     'clauses with "and", or use "in [...]" for several values of one column'),
    ("tenure < 3 tenure > 1",
     "Expected \"and\" or the end of the condition at character 12 in condition "
     "'tenure < 3 tenure > 1', found 'tenure'"),
    ("always and tenure < 3",
     "\"always\" must be the whole condition, found 'and' at character 8 in condition "
     "'always and tenure < 3'"),
    ("tenure < 3 and",
     "Expected a column name at character 15 in condition 'tenure < 3 and', found the end of "
     "the condition"),
    ("",
     "Empty condition: write a condition such as 'Contract == \"Month-to-month\"' or the word "
     "always"),
    ("tenure ; 3",
     "Unexpected character ';' at character 8 in condition 'tenure ; 3': use only column names, "
     "operators (== != < <= > >= in, not in), double-quoted text, numbers and [lists]"),
])
def test_errors(expr, message):
    with pytest.raises(ConditionError) as err:
        parse(expr)
    assert str(err.value) == message
    assert isinstance(err.value, ValueError)


def test_non_text_condition_is_an_error():
    with pytest.raises(ConditionError) as err:
        parse(3)
    assert str(err.value) == ("A condition must be text, got int 3; write e.g. "
                              "'Contract == \"Month-to-month\"' or always")


# --- evaluation --------------------------------------------------------------------------------
def _ids(m: np.ndarray) -> list[str]:
    return [cid[:4] for cid in DF.loc[m, "customerID"]]


def test_mask_category_equality_and_lists():
    assert _ids(mask('Contract == "Month-to-month"', DF)) == ["0001", "0004", "0005"]
    assert _ids(mask('Contract != "Month-to-month"', DF)) == ["0002", "0003", "0006"]
    assert _ids(mask('PaymentMethod in ["Electronic check", "Mailed check"]', DF)) == \
        ["0001", "0002", "0005", "0006"]
    assert _ids(mask('PaymentMethod not in ["Electronic check", "Mailed check"]', DF)) == \
        ["0003", "0004"]


def test_mask_numeric_boundaries():
    assert _ids(mask("tenure <= 12", DF)) == ["0001", "0004", "0005"]
    assert _ids(mask("tenure < 12", DF)) == ["0001", "0004"]
    assert _ids(mask("MonthlyCharges >= 60", DF)) == ["0001", "0004", "0005"]
    assert _ids(mask("MonthlyCharges > 60", DF)) == ["0001", "0004"]
    assert _ids(mask("SeniorCitizen == 1", DF)) == ["0002", "0004"]
    assert _ids(mask("tenure in [0, 1, 60]", DF)) == ["0001", "0003", "0004"]
    assert _ids(mask("tenure not in [0, 1]", DF)) == ["0002", "0003", "0005", "0006"]


def test_mask_total_charges_nan_counts_as_zero():
    # customer 0004 has tenure 0 and TotalCharges NaN (not billed yet) = 0 dollars billed
    assert _ids(mask("TotalCharges < 100", DF)) == ["0001", "0004"]
    assert _ids(mask("TotalCharges == 0", DF)) == ["0004"]


def test_mask_and_matches_independent_computation():
    c = parse('InternetService == "Fiber optic" and tenure <= 12 and TechSupport == "No"')
    expected = ((DF["InternetService"] == "Fiber optic") & (DF["tenure"] <= 12)
                & (DF["TechSupport"] == "No")).to_numpy()
    got = c.mask(DF)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, expected)
    assert _ids(got) == ["0001", "0004"]


def test_mask_always_and_empty_frame():
    assert mask("always", DF).tolist() == [True] * len(DF)
    assert mask("tenure < 3", DF.iloc[:0]).shape == (0,)


def test_mask_missing_column_is_an_error():
    with pytest.raises(ValueError) as err:
        mask('Contract == "One year" and tenure < 3', DF.drop(columns=["tenure"]))
    assert str(err.value) == ("Condition 'Contract == \"One year\" and tenure < 3' reads column(s) "
                              "tenure that the frame does not have; pass a canonical customer "
                              "frame")


def test_describe():
    row = DF.iloc[0]
    assert parse('Contract == "Month-to-month" and tenure < 3').describe(row) == \
        "Contract is Month-to-month and Tenure of 1 month"
    assert parse("MonthlyCharges > 10 and SeniorCitizen == 0").describe(row) == \
        "Monthly charges of $70.00 and Senior citizen: No"
    assert parse("always").describe(row) == "Every customer"
    assert parse("TotalCharges < 10").describe(DF.iloc[3]) == "Total charges: not billed yet"
    assert value_phrase("tenure", 3) == "Tenure of 3 months"
