"""Tests of the churn.validate package layout: the re-exported names and the rule registry (a
new cross-column rule is one new module in churn/validate/rules/)."""
from __future__ import annotations

import pytest

import churn.validate.rules as rules_pkg
from churn import validate as V
from test_validate import BASE, csv_bytes, msgs, rows

# Names of the single-module churn/validate.py that code and tests use (callers must not change).
OLD_NAMES = [
    "MAX_LISTED", "MAX_EXAMPLES", "HEAD_BYTES", "TOTAL_RATIO_LIMIT", "DELIMITERS", "MAX_COLUMNS",
    "MAX_JOIN_LINES", "BINARY_RATIO", "ID_PATTERN", "Problem", "ValidationReport", "validate",
    "validate_chunk", "load_customers", "header_shape", "record_ends", "MSG_EMPTY_FILE",
    "MSG_NO_ROWS", "MSG_MISSING_COLUMN", "MSG_NO_SCHEMA_COLUMNS", "MSG_TARGET_REQUIRED",
    "MSG_IS_FOLDER", "MSG_NOT_FOUND", "MSG_ID_DUPLICATE", "MSG_BLANK_ROWS", "MSG_SUMMARY",
    "MSG_TOTAL_ESTIMATED", "MSG_DEP_NO_AS_FORCED",
    # private names that churn.history, churn.batch and tests use
    "_Fatal", "_read", "_source_name", "_count", "_was_were", "_join_rows", "_YES_WORDS",
    "_NO_WORDS", "_parse_csv_arrow", "_read_tolerant",
]


def test_every_name_of_the_old_module_is_still_there():
    assert [n for n in OLD_NAMES if not hasattr(V, n)] == []


def test_the_rules_run_in_their_order():
    assert [(f.__module__, f.__name__) for f in V.RULES] == [
        ("churn.validate.rules.dependencies", "dependencies"),
        ("churn.validate.rules.totals", "totals")]


# A new rule, as a newcomer would write it: one module, nothing else edited.
LONG_TENURE_RULE = '''
"""Rule: a tenure over 70 months is kept, with a warning (a test rule)."""
from churn.validate.rules import rule

MSG_LONG_TENURE = "{tenure} months is longer than the company has sold contracts; please check it."


@rule(order=15)
def long_tenure(ck) -> None:
    if "tenure" not in ck.canon:
        return
    tenure = ck.canon["tenure"]
    long = ck._usable("tenure") & (tenure > 70)
    ck._add("warning", "tenure", MSG_LONG_TENURE, "a tenure over 70 months", long,
            {"tenure": tenure[long]})
'''


@pytest.fixture
def long_tenure_rule(plugin_module):
    try:
        yield plugin_module(rules_pkg, "long_tenure", LONG_TENURE_RULE)
    finally:
        rules_pkg.RULES[:] = [f for f in rules_pkg.RULES if f.__name__ != "long_tenure"]


def test_a_new_rule_is_one_new_module(long_tenure_rule):
    assert "long_tenure" in long_tenure_rule
    assert [f.__name__ for f in V.RULES] == ["dependencies", "long_tenure", "totals"]
    r = V.validate(csv_bytes(rows(tenure=[(3, "71")], TotalCharges=[(3, "4000")])))
    assert msgs(r.warnings) == [
        "Row 3, tenure: 71 months is longer than the company has sold contracts; please check it."]
    assert r.valid_rows == len(BASE) and not r.errors
    # pieces of a large file (python -m churn score) apply it too
    chunk = V.validate_chunk(csv_bytes(rows(tenure=[(3, "72")], TotalCharges=[(3, "4000")])),
                             row_offset=100)
    assert msgs(chunk.warnings) == [
        "Row 103, tenure: 72 months is longer than the company has sold contracts; "
        "please check it."]


def test_without_the_new_rule_the_same_file_is_clean():
    r = V.validate(csv_bytes(rows(tenure=[(3, "71")], TotalCharges=[(3, "4000")])))
    assert r.warnings == [] and r.errors == []
