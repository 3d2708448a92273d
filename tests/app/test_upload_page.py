"""AppTest: the Upload & score page — the validation report first (exact counts and messages),
rejects download, unreadable files, scores with paging, drift, using and saving a batch (and
what other sessions see), retraining without activating; plus the plain helpers of ui.upload.

Runs on a copy of the shared trained data folder (sample + logistic regression), so saving
batches and retraining never touch the folder other page tests read.
"""
from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _explain_fakes import trained_data_dir  # noqa: E402

from churn import config, models, schema, synth  # noqa: E402
from churn.store import Store  # noqa: E402
from churn.validate import validate  # noqa: E402
from ui import upload as U  # noqa: E402
from ui.sidebar import DATASET_KEY  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PAGE = "app_pages/5_Upload_and_score.py"


def _copy_of_trained(target: Path) -> Path:
    from churn.scoring import Engine

    source = trained_data_dir()
    Engine.prepare(config.paths(source))  # fit the survival model + recommender once, then copy
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.duckdb*"))
    return target


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    before = os.environ.get("CHURN_DATA_DIR")
    folder = _copy_of_trained(tmp_path_factory.mktemp("upload-app") / "data")
    os.environ["CHURN_DATA_DIR"] = str(folder)
    yield folder
    os.environ["CHURN_DATA_DIR"] = before


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(PAGE).run()
    _ok(at)
    return at


def _upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key="upload_file").upload(name, data, mime).run()
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _frame(at: AppTest, columns: list[str]) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if list(d.value.columns) == columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _downloads(at: AppTest) -> set[str]:
    return {d.key for d in at.get("download_button")}


def _customers(n: int, seed: int, churn: bool = True) -> pd.DataFrame:
    df = synth.generate_customers(n, seed)
    return df if churn else df.drop(columns="Churn")


def _csv(df: pd.DataFrame) -> bytes:
    return schema.to_file_frame(df).to_csv(index=False).encode()


def _bad_file() -> tuple[bytes, str]:
    """20 customers: row 3 has an unknown Contract, row 4 a tenure "abc", row 5 repeats row 2's
    customer ID (rows are spreadsheet rows: header = 1)."""
    f = schema.to_file_frame(_customers(20, 21)).astype(str)
    f.loc[1, "Contract"] = "Weekly"
    f.loc[2, "tenure"] = "abc"
    f.loc[3, "customerID"] = f.loc[0, "customerID"]
    return f.to_csv(index=False).encode(), f.loc[0, "customerID"]


# --- the validation report -----------------------------------------------------------------------
def test_good_file_shows_counts_then_scores_with_paging(data_dir):
    df = _customers(230, 5, churn=False)
    at = _upload(_page(), "march.csv", _csv(df))
    _ok(at)
    assert _metrics(at) == {"Rows read": "230", "Accepted": "230", "Rejected": "0",
                            "Warnings": "0"}
    assert any(s.value == "Every row passed every check." for s in at.success)
    assert "upload_rejects" not in _downloads(at)
    assert "upload_scores_download" in _downloads(at)
    page = at.number_input(key="upload_page")
    assert (page.value, page.max) == (1, 3)
    shown = _frame(at, list(U.SHOWN_COLUMNS))
    assert len(shown) == 100
    assert shown["churn_prob"].is_monotonic_decreasing
    assert set(shown["customerID"]) <= set(df["customerID"])
    page.set_value(3).run()
    _ok(at)
    assert len(_frame(at, list(U.SHOWN_COLUMNS))) == 30
    assert any(c.value.startswith("Customers 201–230 of 230") for c in at.caption)
    # no Churn column: scored, but no retraining
    assert not [b for b in at.button if b.key == "upload_retrain"]
    assert any("has no Churn column, so it can be scored but not used to retrain" in c.value
               for c in at.caption)


def test_bad_file_shows_exact_counts_messages_and_rejects(data_dir):
    data, first_id = _bad_file()
    at = _upload(_page(), "bad.csv", data)
    _ok(at)
    assert _metrics(at) == {"Rows read": "20", "Accepted": "17", "Rejected": "3",
                            "Warnings": "0"}
    errors = _frame(at, ["row", "column", "reason"])
    assert errors["row"].tolist() == ["3", "4", "5"]
    assert errors["column"].tolist() == ["Contract", "tenure", "customerID"]
    assert errors["reason"].tolist() == [
        '"Weekly" is not a known value; expected one of Month-to-month, One year, Two year.',
        '"abc" is not a number of months.',
        f'customer ID "{first_id}" already appears in row 2.']
    assert "upload_rejects" in _downloads(at)
    assert any(m.value.startswith("**Errors** — these rows were rejected (3)")
               for m in at.markdown)
    assert len(_frame(at, list(U.SHOWN_COLUMNS))) == 17  # the valid rows are still scored


def test_rejects_csv_lists_every_rejected_row_with_its_reasons():
    data, first_id = _bad_file()
    back = pd.read_csv(io.BytesIO(U.rejects_csv(validate(data))), dtype=str)
    assert back["row"].tolist() == ["3", "4", "5"]
    assert back["reasons"].tolist() == [
        'Contract: "Weekly" is not a known value; expected one of Month-to-month, One year, '
        'Two year.',
        'tenure: "abc" is not a number of months.',
        f'customerID: customer ID "{first_id}" already appears in row 2.']
    assert back.loc[1, "tenure"] == "abc" and back.loc[0, "Contract"] == "Weekly"


def test_rejects_csv_is_spreadsheet_safe():
    f = schema.to_file_frame(_customers(3, 2)).astype(str)
    f.loc[0, "Contract"] = '=HYPERLINK("http://x")'
    f.loc[1, "tenure"] = "-5"
    back = pd.read_csv(io.BytesIO(U.rejects_csv(validate(f.to_csv(index=False).encode()))),
                       dtype=str)
    assert back["row"].tolist() == ["2", "3"]
    assert back.loc[0, "Contract"] == "'=HYPERLINK(\"http://x\")"
    assert back.loc[0, "reasons"].startswith('Contract: "=HYPERLINK(')  # not at the start: safe
    assert back.loc[1, "tenure"] == "-5"   # a number is data, not a formula


def test_excel_upload_is_read(data_dir):
    buf = io.BytesIO()
    schema.to_file_frame(_customers(40, 8)).to_excel(buf, index=False)
    at = _upload(_page(), "april.xlsx", buf.getvalue(),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    _ok(at)
    assert (_metrics(at)["Rows read"], _metrics(at)["Accepted"]) == ("40", "40")


@pytest.mark.parametrize("name, data, reason", [
    ("photo.csv", bytes(range(256)) * 20,
     "The file is not a CSV or Excel file; it looks like binary data."),
    ("empty.csv", b"", "The file is empty."),
])
def test_unreadable_file_gives_a_clear_message(data_dir, name, data, reason):
    at = _upload(_page(), name, data)
    assert not at.exception
    assert [e.value for e in at.error] == [f"**{name}** cannot be read: {reason}"]
    assert "Traceback" not in at.error[0].value
    assert not at.metric


def test_header_only_file_gives_one_message_like_an_empty_file(data_dir):
    header = ",".join(schema.FILE_COLUMNS).encode() + b"\n"
    at = _upload(_page(), "head.csv", header)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "**head.csv** has no customers to check: The file has a header but no customer rows."]
    assert not at.metric and not at.dataframe


def test_file_level_problems_say_whole_file_or_all_rows_not_none(data_dir):
    f = schema.to_file_frame(_customers(30, 4)).astype(str)
    f["Churn"] = np.where(f["Churn"] == "Yes", "1", "0")
    text = f.to_csv(index=False).split("\n")
    text.insert(3, "")                                   # a blank line: a whole-file warning
    at = _upload(_page(), "coded.csv", "\n".join(text).encode())
    _ok(at)
    warnings = _frame(at, ["row", "column", "reason"])
    assert warnings["row"].tolist() == ["whole file", "all rows"]
    assert warnings["column"].tolist() == ["", "Churn"]
    assert warnings["reason"].iloc[0] == "1 empty row was skipped (row 4)."
    assert warnings["reason"].iloc[1].startswith("30 values were read in another coding (")
    assert '"1" as "Yes"' in warnings["reason"].iloc[1]


HOSTILE = "![t](http://127.0.0.1:8501/_stcore/health?b)"
HOSTILE_MD = "\\!\\[t\\]\\(h\u200bttp\\://127.0.0.1\\:8501/\\_stcore/health?b\\)"


def test_markdown_in_names_and_file_names_is_shown_as_text(data_dir):
    from ui.text import md

    assert md(HOSTILE) == HOSTILE_MD
    # an unreadable file with a hostile name
    at = _upload(_page(), HOSTILE + ".csv", b"")
    assert [e.value for e in at.error] == [
        f"**{HOSTILE_MD}.csv** cannot be read: The file is empty."]
    # a batch saved under a hostile name: the save message, and Overview's caption
    a = _upload(_page(), "june.csv", _csv(_customers(25, 6)))
    a.text_input(key="upload_name").set_value(HOSTILE).run()
    a.button(key="upload_save").click().run()
    _ok(a)
    bodies = [m.value for m in a.success]
    assert any(b.startswith(f'Saved "{HOSTILE_MD}" (25 customers).') for b in bodies), bodies
    assert not any("![" in b or "](" in b for b in bodies)
    a.switch_page("app_pages/1_Overview.py").run()
    _ok(a)
    caption = a.caption[0].value
    assert caption.startswith(f"Customers in use: **{HOSTILE_MD} \\(saved, 25 customers\\)**")
    assert "![" not in caption and "](" not in caption


@pytest.mark.parametrize("text, shown", [
    ("march customers", "march customers"),
    ("[click](http://evil)", "\\[click\\]\\(h\u200bttp\\://evil\\)"),
    ("www.evil.com or me@evil.com", "w\u200bww.evil.com or me\u200b@evil.com"),
    ("$x$ :red[hot] <b>", r"\$x\$ \:red\[hot\] \<b\>"),
    ("- first\n# second", r"\- first \# second"),
    ("1. one", r"1\. one"),
    ("**bold** `code` _it_", r"\*\*bold\*\* \`code\` \_it\_"),
    (None, ""),
])
def test_md_escapes_every_markup_character(text, shown):
    from ui.text import md

    assert md(text) == shown


def test_rejects_csv_escapes_headers_with_the_same_rule():
    f = schema.to_file_frame(_customers(3, 2)).astype(str)
    f['=HYPERLINK("http://evil/","hdr")'] = "x"
    f.loc[0, "tenure"] = "abc"
    raw = U.rejects_csv(validate(f.to_csv(index=False).encode()))
    header = raw.decode().split("\n")[0]
    assert header.endswith(',"\'=HYPERLINK(""http://evil/"",""hdr"")"')
    from churn.spreadsheet import is_safe_csv_cell

    back = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    assert all(is_safe_csv_cell(c) for c in back.columns)
    assert all(is_safe_csv_cell(v) for v in back.to_numpy().ravel())


# --- drift ---------------------------------------------------------------------------------------
def test_shifted_batch_is_flagged_with_the_features_named(data_dir):
    df = _customers(600, 13, churn=False)
    df["Contract"] = "Month-to-month"
    df["tenure"] = df["tenure"] // 2
    df["TotalCharges"] = schema.total_charges_estimate(df["tenure"], df["MonthlyCharges"])
    at = _upload(_page(), "shifted.csv", _csv(df))
    _ok(at)
    warnings = [w.value for w in at.warning if w.value.startswith("The model may not apply: ")]
    assert len(warnings) == 1
    named = warnings[0].split(" strongly from the training data")[0]
    assert "Contract" in named and "Tenure" in named
    psi = _frame(at, ["label", "psi", "status"])
    drifted = set(psi.loc[psi["status"] == "drifted", "label"])
    assert {"Contract", "Tenure (months)"} <= drifted


def test_batch_like_the_training_data_is_stable(data_dir):
    at = _upload(_page(), "like.csv", _csv(_customers(3000, 14, churn=False)))
    _ok(at)
    assert any(s.value.startswith("These customers look like the training data")
               for s in at.success)


# --- use and save --------------------------------------------------------------------------------
def test_use_and_save_and_what_other_sessions_see(data_dir):
    data, _ = _bad_file()
    a = _upload(_page(), "may.csv", data)
    assert a.text_input(key="upload_name").value == "may"
    a.text_input(key="upload_name").set_value("May unsaved").run()
    a.button(key="upload_use").click().run()
    _ok(a)
    assert a.sidebar.selectbox(key=DATASET_KEY).value == "batch:May unsaved"
    assert any('"May unsaved" (17 customers) is now the data set in use' in s.value
               for s in a.success)

    a.text_input(key="upload_name").set_value("May saved").run()
    a.button(key="upload_save").click().run()
    _ok(a)
    batches = Store(config.paths(data_dir).store).list_batches().set_index("name")
    row = batches.loc["May saved"]
    assert (row["kind"], row["valid_rows"], row["rejected_rows"], row["source"]) == (
        "upload", 17, 3, "may.csv")
    box = a.sidebar.selectbox(key=DATASET_KEY)
    assert box.value == "saved:May saved"
    assert box.format_func("saved:May saved") == "May saved (saved, 17 customers)"
    a.switch_page("app_pages/1_Overview.py").run()
    _ok(a)
    assert {m.label: m.value for m in a.metric}["Customers"] == "17"

    # another browser session: sees the saved batch, not the other session's unsaved one
    b = _page()
    options = b.sidebar.selectbox(key=DATASET_KEY).options
    assert "May saved (saved, 17 customers)" in options
    assert not [o for o in options if o.startswith("May unsaved")]
    b.sidebar.selectbox(key=DATASET_KEY).select("saved:May saved").run()
    _ok(b)
    # saving under a taken name asks before replacing
    _upload(b, "may.csv", data)
    b.text_input(key="upload_name").set_value("May saved").run()
    assert b.button(key="upload_save").disabled
    b.checkbox(key="upload_replace").check().run()
    assert not b.button(key="upload_save").disabled


# --- retraining ----------------------------------------------------------------------------------
@pytest.fixture
def own_dir(data_dir, tmp_path, monkeypatch):
    """A fresh copy for a test that changes the models."""
    folder = _copy_of_trained(tmp_path / "data")
    monkeypatch.setenv("CHURN_DATA_DIR", str(folder))
    return folder


def test_retrain_does_not_activate_until_asked(own_dir):
    models_dir = config.paths(own_dir).models_dir
    before = models.active_version(models_dir)
    at = _upload(_page(), "labelled.csv", _csv(_customers(600, 31)))
    _ok(at)
    at.button(key="upload_retrain").click().run()
    _ok(at)
    assert models.active_version(models_dir) == before          # trained, not put in use
    versions = {v["version"] for v in models.list_versions(models_dir)}
    assert len(versions) == 2
    new = (versions - {before}).pop()
    table = _frame(at, ["label", "champion", "challenger", "better"])
    assert table["label"].tolist()[:2] == ["ROC-AUC", "PR-AUC"]
    # the core comparison on the held-out customers (churn.retrain), shown as is
    from churn import retrain
    from churn.validate import validate

    frame = validate(_csv(_customers(600, 31))).frame.drop(columns="row")
    want = retrain.compare_with_champion(models.load_version(before, models_dir),
                                         models.load_version(new, models_dir), frame)
    assert table["challenger"].tolist() == pytest.approx(want.table["challenger"].tolist())
    assert table["champion"].tolist() == pytest.approx(want.table["champion"].tolist())
    assert any(f"version `{new[:8]}`" in m.value for m in at.markdown)
    at.button(key="upload_activate").click().run()
    _ok(at)
    assert models.active_version(models_dir) == new
    assert any(new[:8] in c.value for c in at.sidebar.caption)
    assert any(s.value.startswith(f"The new model (version {new[:8]}) is now in use on every "
                                  "page.") for s in at.success)
    assert not [b for b in at.button if b.key == "upload_activate"]


# --- plain helpers -------------------------------------------------------------------------------
def test_paging_helpers():
    assert U.pages(0) == 1 and U.pages(100) == 1 and U.pages(101) == 2
    assert U.page_bounds(230, 3) == (200, 230)
    assert U.page_bounds(230, 99) == (200, 230)   # clamped to the last page
    assert U.page_bounds(230, 0) == (0, 100)
    table = pd.DataFrame({"churn_prob": [0.2, 0.9, 0.2, 0.5]})
    assert U.risk_order(table).tolist() == [1, 3, 0, 2]


def test_names():
    assert U.default_name("march customers.csv") == "march customers"
    assert U.default_name("") == "Uploaded customers"
    assert U.clean_name("  May   batch ") == "May batch"
    assert U.clean_name(None) == ""


def test_the_template_is_offered_before_any_file_and_passes_the_checks(data_dir):
    """Issue 16: a downloadable template CSV on the upload page; uploaded back, every row passes."""
    at = _page()
    assert "upload_template" in _downloads(at)
    at = _upload(at, "customers-template.csv", schema.template_csv_bytes())
    _ok(at)
    assert _metrics(at) == {"Rows read": "3", "Accepted": "3", "Rejected": "0", "Warnings": "0"}
