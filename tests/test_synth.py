"""Tests for churn.synth: the generated sample against the published IBM Telco figures."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from churn import config, schema, synth

# Published facts about the IBM file, kept in the repository (churn/reference/
# telco_published.json): column -> {value: (share %, churn rate within %)}, and the churn rate of
# five tenure bands.
_FIGURES = synth.published_figures()
PUBLISHED = {col: {x["value"]: (x["share"], x["churn_rate"]) for x in levels}
             for col, levels in _FIGURES["levels"].items()}
TENURE_BANDS = {(b["from"], b["to"]): b["churn_rate"] for b in _FIGURES["tenure_bands"]}
ADDONS = ["OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
          "StreamingMovies"]
CATALOGUE_IDS = ["contract_upgrade", "autopay_incentive", "tech_support_trial", "security_trial",
                 "plan_rightsize", "loyalty_credit", "onboarding_call", "streaming_bundle",
                 "fiber_care", "family_line"]


@pytest.fixture(scope="module")
def sample():
    """The default sample (7,043 rows, seed 42) as a canonical frame."""
    return synth.generate_customers(config.SAMPLE_ROWS, config.SAMPLE_SEED)


@pytest.fixture(scope="module")
def large():
    """A 100,000-row sample: segment rates without much sampling noise."""
    return synth.generate_customers(100_000, 7)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The default sample written to disk: SampleFiles(customers, active, campaign_history)."""
    return synth.write_sample(tmp_path_factory.mktemp("sample"))


def _gaps(df: pd.DataFrame):
    """(share gap, churn-rate gap) in percentage points for every published figure."""
    shares, rates = {}, {}
    for col, levels in PUBLISHED.items():
        for value, (share, rate) in levels.items():
            sel = df[col] == value
            shares[(col, value)] = 100 * sel.mean() - share
            rates[(col, value)] = 100 * df.loc[sel, "Churn"].mean() - rate
    for (lo, hi), rate in TENURE_BANDS.items():
        sel = df["tenure"].between(lo, hi)
        rates[("tenure", f"{lo}-{hi}")] = 100 * df.loc[sel, "Churn"].mean() - rate
    return shares, rates


# --- fidelity ----------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["sample", "large"])
def test_shares_and_churn_rates_within_3pp_of_published(which, request):
    df = request.getfixturevalue(which)
    shares, rates = _gaps(df)
    bad_shares = {k: round(v, 2) for k, v in shares.items() if abs(v) > 3.0}
    bad_rates = {k: round(v, 2) for k, v in rates.items() if abs(v) > 3.0}
    assert bad_shares == {}
    assert bad_rates == {}
    assert abs(100 * df["Churn"].mean() - _FIGURES["churn_rate"]) < 1.0


def test_large_sample_is_closer_than_3pp(large):
    shares, rates = _gaps(large)
    assert max(abs(v) for v in shares.values()) < 1.0
    assert max(abs(v) for v in rates.values()) < 2.0


def test_tenure_and_charges_shape(large):
    t = large["tenure"]
    assert abs(t.mean() - 32.4) < 1.0
    assert abs(t.std() - 24.6) < 1.0
    assert 26 <= t.median() <= 31
    share = t.value_counts(normalize=True)
    # bimodal: a spike at 1-2 months and a pile-up at 70-72, above any month in between
    middle = share.loc[10:60].max()
    assert share.loc[1] > 3 * middle and share.loc[72] > 2 * middle
    assert share.loc[[1, 2]].sum() > 0.08 and share.loc[[70, 71, 72]].sum() > 0.07
    assert 0.0005 < (t == 0).mean() < 0.003          # the real file: 11 in 7,043 (0.16%)
    mc = large["MonthlyCharges"]
    assert mc.min() >= 18.25 and mc.max() <= 118.75
    assert abs(mc.mean() - 64.76) < 1.5 and abs(mc.std() - 30.09) < 1.5
    billed = large["TotalCharges"].notna()
    assert (billed == (t > 0)).all()
    r = np.corrcoef(large.loc[billed, "TotalCharges"], (t * mc)[billed])[0, 1]
    assert r > 0.999
    assert abs(large.loc[billed, "TotalCharges"].mean() - 2283) < 120


def test_monthly_charges_follow_services(large):
    fiber = large["InternetService"] == "Fiber optic"
    dsl = large["InternetService"] == "DSL"
    none = large["InternetService"] == "No"
    means = large.groupby("InternetService")["MonthlyCharges"].mean()
    assert means["No"] < means["DSL"] < means["Fiber optic"]
    assert large.loc[none, "MonthlyCharges"].max() < 30
    streaming = (large["StreamingTV"] == "Yes") & (large["StreamingMovies"] == "Yes")
    assert (large.loc[fiber & streaming, "MonthlyCharges"].mean()
            > large.loc[fiber & ~streaming, "MonthlyCharges"].mean() + 10)
    assert large.loc[dsl & (large["PhoneService"] == "No"), "MonthlyCharges"].max() < 70


def test_churn_drivers_have_the_real_direction(large):
    """A logistic regression on the generated data finds the drivers of the real file."""
    from sklearn.linear_model import LogisticRegression

    X = pd.get_dummies(schema.feature_frame(large), dtype=float)
    X = X.drop(columns=["TotalCharges"])
    X["tenure"] = X["tenure"] / 12.0                 # per year
    X["MonthlyCharges"] = X["MonthlyCharges"] / 10.0  # per $10
    coef = pd.Series(LogisticRegression(max_iter=3000).fit(X, large["Churn"]).coef_[0], X.columns)
    assert coef["Contract_Two year"] < coef["Contract_One year"] < coef["Contract_Month-to-month"]
    assert coef["Contract_Month-to-month"] - coef["Contract_Two year"] > 1.2
    assert coef["tenure"] < -0.2
    assert coef["InternetService_Fiber optic"] > coef["InternetService_DSL"]
    assert coef["PaymentMethod_Electronic check"] > coef["PaymentMethod_Credit card (automatic)"]
    assert coef["OnlineSecurity_No"] > coef["OnlineSecurity_Yes"] + 0.3
    assert coef["TechSupport_No"] > coef["TechSupport_Yes"] + 0.3
    assert coef["SeniorCitizen"] > 0.1
    assert coef["PaperlessBilling_Yes"] > coef["PaperlessBilling_No"] + 0.2
    assert coef["Dependents_No"] > coef["Dependents_Yes"]


def test_default_sample_is_as_learnable_as_the_real_file(sample):
    """5-fold CV of a plain logistic regression lands near the real file's ROC-AUC (~0.845)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = pd.get_dummies(schema.feature_frame(sample), dtype=float)
    y = sample["Churn"].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    p = cross_val_predict(model, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                          method="predict_proba")[:, 1]
    auc = roc_auc_score(y, p)
    assert 0.82 < auc < 0.87
    assert 0.12 < brier_score_loss(y, p) < 0.15
    top = np.argsort(-p)[: len(y) // 10]
    assert 2.5 < y[top].mean() / y.mean() < 3.3


# --- structure ---------------------------------------------------------------------------------
def test_canonical_frame_columns_and_dtypes(sample):
    assert list(sample.columns) == schema.FILE_COLUMNS
    assert len(sample) == 7043
    for col in schema.COLUMNS:
        s = sample[col.name]
        if col.kind in ("id", "category"):
            assert s.dtype == object, col.name
        elif col.kind in ("flag01", "integer", "target"):
            assert s.dtype == np.int64, col.name
        else:
            assert s.dtype == np.float64, col.name
        if col.kind == "category":
            assert set(s.unique()) == set(col.values), col.name
    assert set(sample["SeniorCitizen"].unique()) == {0, 1}
    assert set(sample["Churn"].unique()) == {0, 1}
    assert sample["tenure"].between(0, 72).all()


@pytest.mark.parametrize("which", ["sample", "large"])
def test_dependent_columns_are_consistent(which, request):
    df = request.getfixturevalue(which)
    no_phone = df["PhoneService"] == "No"
    assert ((df["MultipleLines"] == schema.NO_PHONE) == no_phone).all()
    no_internet = df["InternetService"] == "No"
    for col in ADDONS:
        assert ((df[col] == schema.NO_INTERNET) == no_internet).all(), col
    # no-phone customers have DSL, as in the real file
    assert (df.loc[no_phone, "InternetService"] == "DSL").all()
    pd.testing.assert_frame_equal(schema.enforce_dependencies(df), df)


def test_customer_ids_match_the_pattern_and_are_unique(large):
    pattern = re.compile(r"^\d{4}-[A-Z]{5}$")
    assert large["customerID"].map(lambda s: bool(pattern.match(s))).all()
    assert large["customerID"].is_unique


def test_a_million_ids_are_unique():
    ids = synth._customer_ids(1_000_000, np.random.default_rng(0))
    assert len(ids) == 1_000_000
    assert len(pd.unique(ids)) == 1_000_000
    assert ids[0][4] == "-" and ids[0][:4].isdigit() and ids[0][5:].isalpha()


def test_tenure_zero_customers_never_churn(large):
    assert large.loc[large["tenure"] == 0, "Churn"].sum() == 0


def test_same_seed_same_frame_other_seed_other_frame():
    a = synth.generate_customers(500, 3)
    b = synth.generate_customers(500, 3)
    c = synth.generate_customers(500, 4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["customerID"].equals(c["customerID"])
    assert not a["tenure"].equals(c["tenure"])


@pytest.mark.parametrize("n, message", [
    (0, "n must be at least 1 and at most 118,813,760,000, got 0"),
    (-5, "n must be at least 1 and at most 118,813,760,000, got -5"),
    (2.5, "n must be a whole number, got 2.5"),
    ("10", "n must be a whole number, got '10'"),
    (True, "n must be a whole number, got True"),
])
def test_bad_row_counts_are_refused(n, message):
    with pytest.raises(ValueError) as err:
        synth.generate_customers(n, 1)
    assert str(err.value) == message


def test_bad_seed_is_refused():
    with pytest.raises(ValueError) as err:
        synth.generate_customers(10, -1)
    assert str(err.value) == "seed must be at least 0, got -1"


# --- files -------------------------------------------------------------------------------------
def test_written_csv_has_the_ibm_layout(written, sample):
    customers_csv = written.customers
    assert [f.name for f in written] == ["customers.csv", "active.csv", "campaign_history.csv"]
    raw = customers_csv.read_bytes()
    assert raw.startswith(b"customerID,gender,SeniorCitizen,Partner,Dependents,tenure,")
    assert b'"' not in raw and b"\r" not in raw
    df = pd.read_csv(customers_csv)
    assert list(df.columns) == schema.FILE_COLUMNS and len(df.columns) == 21
    assert len(df) == 7043
    assert df["TotalCharges"].dtype == object       # the " " blanks make it text, as in the real file
    assert df["SeniorCitizen"].dtype == np.int64 and df["tenure"].dtype == np.int64
    assert set(df["Churn"]) == {"Yes", "No"}
    pd.testing.assert_series_equal(df["customerID"], sample["customerID"])
    np.testing.assert_array_equal(df["MonthlyCharges"].to_numpy(), sample["MonthlyCharges"])
    total = pd.to_numeric(df["TotalCharges"], errors="coerce")
    np.testing.assert_allclose(total.to_numpy(), sample["TotalCharges"].to_numpy(), atol=0.005)
    assert ((df["Churn"] == "Yes").astype(int) == sample["Churn"]).all()


def test_csv_text_is_exactly_to_file_frame(written, sample):
    text = pd.read_csv(written[0], dtype=str, keep_default_na=False)
    expected = schema.to_file_frame(sample).astype(str)
    expected["MonthlyCharges"] = [f"{v:.2f}".rstrip("0").rstrip(".")
                                  for v in sample["MonthlyCharges"]]
    pd.testing.assert_frame_equal(text, expected)


def test_total_charges_blank_exactly_for_tenure_zero_in_text(written):
    text = pd.read_csv(written[0], dtype=str, keep_default_na=False)
    blank = text["TotalCharges"] == " "
    assert blank.sum() > 0
    assert (blank == (text["tenure"] == "0")).all()
    assert text.loc[~blank, "TotalCharges"].str.fullmatch(r"\d+(\.\d{1,2})?").all()


def test_write_sample_is_byte_deterministic(tmp_path):
    a = synth.write_sample(tmp_path / "a", rows=1500, seed=9)
    b = synth.write_sample(tmp_path / "b", rows=1500, seed=9)
    c = synth.write_sample(tmp_path / "c", rows=1500, seed=10)
    for x, y, z in zip(a, b, c):
        assert x.read_bytes() == y.read_bytes()
        assert x.read_bytes() != z.read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "active.csv", "campaign_history.csv", "customers.csv"]


def test_write_sample_refuses_bad_rows(tmp_path):
    with pytest.raises(ValueError) as err:
        synth.write_sample(tmp_path, rows=0)
    assert str(err.value) == "rows must be at least 1 and at most 118,813,760,000, got 0"
    assert list(tmp_path.iterdir()) == []


def test_ensure_sample_writes_once(tmp_path):
    paths = config.paths(tmp_path)
    assert synth.ensure_sample(paths) == paths
    assert paths.customers_csv.exists() and paths.active_csv.exists()
    assert paths.campaign_history_csv.exists()
    assert len(pd.read_csv(paths.customers_csv)) == config.SAMPLE_ROWS
    paths.customers_csv.write_text("kept\n")
    synth.ensure_sample(paths)
    assert paths.customers_csv.read_text() == "kept\n"
    assert [p.name for p in paths.sample_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_ensure_sample_default_follows_churn_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path))
    paths = synth.ensure_sample()
    assert paths.data_dir == tmp_path
    assert (tmp_path / "sample" / "customers.csv").exists()


# --- active base -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def active(sample):
    return synth.generate_active_base(sample, config.SAMPLE_SEED)


def test_active_base_has_no_churn_column_and_no_leavers(active, sample):
    assert list(active.columns) == [c for c in schema.FILE_COLUMNS if c != schema.TARGET]
    left = sample.loc[sample["Churn"] == 1, "customerID"]
    assert len(left) > 1000
    assert not active["customerID"].isin(left).any()
    assert active["customerID"].is_unique


def test_survivors_are_aged_exactly_one_month(active, sample):
    stay = sample[sample["Churn"] == 0].reset_index(drop=True)
    got = active.iloc[:len(stay)].reset_index(drop=True)
    assert got["customerID"].tolist() == stay["customerID"].tolist()      # same IDs, same order
    assert (got["tenure"] == stay["tenure"] + 1).all()
    unchanged = [c for c in schema.FEATURES if c not in ("tenure", "MonthlyCharges",
                                                         "TotalCharges")]
    pd.testing.assert_frame_equal(got[unchanged], stay[unchanged])
    step = (got["MonthlyCharges"] - stay["MonthlyCharges"]).round(2)
    changed = step != 0
    assert 0.03 < changed.mean() < 0.07                                  # PRICE_CHANGE_SHARE 5%
    clipped = got["MonthlyCharges"].isin([18.25, 118.75])
    assert step[changed & ~clipped].abs().isin([5.0, 10.0]).all()
    expected_total = (stay["TotalCharges"].fillna(0.0) + got["MonthlyCharges"]).round(2)
    np.testing.assert_allclose(got["TotalCharges"], expected_total, atol=1e-9)
    assert got["TotalCharges"].notna().all()                             # everyone billed now


def test_joiners_are_new_and_in_their_first_month(active, sample):
    n_stay = int((sample["Churn"] == 0).sum())
    join = active.iloc[n_stay:]
    assert len(join) == int((sample["tenure"] <= 1).sum())
    assert set(join["tenure"]) == {0, 1}
    assert not join["customerID"].isin(sample["customerID"]).any()
    assert join["customerID"].str.fullmatch(r"\d{4}-[A-Z]{5}").all()
    assert (join["TotalCharges"].isna() == (join["tenure"] == 0)).all()
    # like the real file's newest customers: mostly month-to-month
    assert (join["Contract"] == "Month-to-month").mean() > 0.7


def test_active_file_validates_without_problems(written):
    from churn.validate import validate

    report = validate(written.active)
    assert report.errors == [] and report.warnings == []
    assert schema.TARGET not in pd.read_csv(written.active, nrows=0).columns
    assert report.valid_rows == len(pd.read_csv(written.active))


def test_active_base_is_deterministic_and_checks_its_input(sample):
    a = synth.generate_active_base(sample, 3)
    pd.testing.assert_frame_equal(a, synth.generate_active_base(sample, 3))
    assert not a.equals(synth.generate_active_base(sample, 4))
    with pytest.raises(ValueError) as err:
        synth.generate_active_base(sample.drop(columns=["Churn"]), 3)
    assert str(err.value) == ("customers lacks column(s) Churn; pass the labelled snapshot (a "
                              "canonical frame with Churn, e.g. generate_customers())")


# --- campaign history ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def campaigns(sample):
    return synth.generate_campaign_history(sample, config.SAMPLE_SEED)


def test_campaign_history_format(campaigns, sample):
    from churn.history import HISTORY_COLUMNS

    assert list(campaigns.columns) == HISTORY_COLUMNS
    tenure = sample.set_index("customerID")["tenure"]
    assert (tenure[campaigns["customerID"]] >= 1).all()
    assert not campaigns.duplicated(["customerID", "campaign_id"]).any()
    treat = campaigns["group"] == "treatment"
    assert set(campaigns["group"]) == {"treatment", "control"}
    assert set(campaigns.loc[treat, "accepted"]) == {"Yes", "No"}
    assert set(campaigns.loc[~treat, "accepted"]) == {""}
    assert set(campaigns["churned"]) == {"Yes", "No"}
    assert campaigns["campaign_id"].unique().tolist() == [c[0] for c in synth.CAMPAIGNS]


def test_each_campaign_is_randomised_as_declared(campaigns, sample):
    from churn.offers import load_catalogue

    cat = load_catalogue()
    applies = cat.applicable(sample).set_index(sample["customerID"])
    for c_id, start, share, control_share, offer_ids in synth.CAMPAIGNS:
        rows = campaigns[campaigns["campaign_id"] == c_id]
        k = len(rows)
        assert (rows["group"] == "control").sum() == round(control_share * k)
        assert set(rows["offer_id"]) == set(offer_ids)
        ok = [applies.at[cid, o] for cid, o in zip(rows["customerID"], rows["offer_id"])]
        assert all(ok)
        days = (pd.to_datetime(rows["date"]) - pd.Timestamp(start)).dt.days
        assert days.between(0, synth.CAMPAIGN_SPREAD_DAYS - 1).all()
        # the outcome window (30 days) ends before the snapshot
        assert (pd.to_datetime(rows["date"]) + pd.Timedelta(days=30)).max() <= pd.Timestamp(
            str(synth.REFERENCE_DATE))
        eligible = (sample["tenure"] >= 1) & applies.loc[:, list(offer_ids)].any(axis=1).to_numpy()
        # the target share is a coin flip per eligible customer: within 4 standard errors
        se = np.sqrt(share * (1 - share) / eligible.sum())
        assert abs(k / eligible.sum() - share) < 4 * se, (c_id, k, eligible.sum())


def test_history_is_large_enough_for_most_offers_and_not_for_the_pilot(campaigns):
    """Issue 12's minimum: 300 treated and 300 control rows per offer for a learned effect."""
    n = campaigns.groupby(["offer_id", "group"]).size().unstack(fill_value=0)
    enough = n[(n["treatment"] >= 300) & (n["control"] >= 300)].index
    assert sorted(enough) == sorted(set(CATALOGUE_IDS) - {"fiber_care", "family_line"})
    assert (n.loc[["fiber_care", "family_line"], "control"] < 300).all()
    assert 18_000 < len(campaigns) < 24_000


def test_written_history_validates_without_problems(written, sample):
    from churn.history import validate_history
    from churn.offers import load_catalogue

    report = validate_history(written.campaign_history, customer_ids=sample["customerID"],
                              offer_ids=load_catalogue().ids)
    assert report.errors == [] and report.warnings == [] and report.fatal is None
    assert report.valid_rows == report.rows == len(pd.read_csv(written.campaign_history))


def test_acceptance_follows_the_hidden_traits(campaigns, sample):
    h = campaigns[campaigns["group"] == "treatment"].join(sample.set_index("customerID"),
                                                          on="customerID")

    def rate(offer, sel):
        rows = h[(h["offer_id"] == offer) & sel(h)]
        assert len(rows) > 100
        return (rows["accepted"] == "Yes").mean()

    price_hi = lambda d: (d["PaymentMethod"] == "Electronic check") & (d["MonthlyCharges"] >= 70)
    price_lo = lambda d: (d["PaymentMethod"] != "Electronic check") & (d["MonthlyCharges"] < 70)
    assert rate("autopay_incentive", price_hi) > rate("autopay_incentive", price_lo) + 0.15
    sup_hi = lambda d: (d["SeniorCitizen"] == 1) | (d["InternetService"] == "Fiber optic")
    sup_lo = lambda d: (d["SeniorCitizen"] == 0) & (d["InternetService"] == "DSL")
    assert rate("tech_support_trial", sup_hi) > rate("tech_support_trial", sup_lo) + 0.15


def test_campaign_history_is_deterministic_and_seeded(sample):
    part = sample.iloc[:1500]
    a = synth.generate_campaign_history(part, 1)
    pd.testing.assert_frame_equal(a, synth.generate_campaign_history(part, 1))
    assert not a.equals(synth.generate_campaign_history(part, 2))


def test_campaign_history_reads_the_given_catalogue(sample, tmp_path):
    cat = tmp_path / "offers.toml"
    cat.write_text('[[offer]]\nid = "fiber_care"\napplies_when = \'InternetService == "Fiber '
                   'optic"\'\n[[offer]]\nid = "my_new_offer"\n')
    h = synth.generate_campaign_history(sample, 1, catalogue=cat)
    assert set(h["offer_id"]) == {"fiber_care"}          # only the pilot uses it
    assert set(h["campaign_id"]) == {"C2024-09-pilot"}
    fiber = sample.set_index("customerID")["InternetService"] == "Fiber optic"
    assert fiber[h["customerID"]].all()


def test_campaign_history_checks_its_input(sample):
    with pytest.raises(ValueError) as err:
        synth.generate_campaign_history(sample.drop(columns=["Contract", "tenure"]), 1)
    assert str(err.value) == ("customers lacks column(s) tenure, Contract; pass a canonical "
                              "customer frame such as generate_customers() returns")
    with pytest.raises(ValueError) as err:
        synth.generate_campaign_history(sample, -2)
    assert str(err.value) == "seed must be at least 0, got -2"


def test_ensure_sample_adds_the_new_files_to_an_old_folder(tmp_path, written):
    """A data folder from before the loop (customers.csv only) gets the two files added, made
    from its own customers; existing files are never overwritten."""
    paths = config.paths(tmp_path)
    paths.sample_dir.mkdir(parents=True)
    paths.customers_csv.write_bytes(written.customers.read_bytes())
    synth.ensure_sample(paths)
    assert paths.active_csv.read_bytes() == written.active.read_bytes()
    assert paths.campaign_history_csv.read_bytes() == written.campaign_history.read_bytes()
    paths.active_csv.write_text("kept\n")
    paths.campaign_history_csv.unlink()
    synth.ensure_sample(paths)
    assert paths.active_csv.read_text() == "kept\n"
    assert paths.campaign_history_csv.read_bytes() == written.campaign_history.read_bytes()


# --- command line ------------------------------------------------------------------------------
def test_cli_synth_writes_and_reports(tmp_path, capsys):
    from churn.cli import main

    assert main(["synth", "--rows", "300", "--seed", "5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    n_active = len(pd.read_csv(tmp_path / "active.csv"))
    n_hist = len(pd.read_csv(tmp_path / "campaign_history.csv"))
    assert out == (
        f"Wrote 300 customers (seed 5) to {tmp_path / 'customers.csv'} (the labelled history)\n"
        f"Wrote {n_active:,} active customers to {tmp_path / 'active.csv'} (one month later: "
        f"survivors and new joiners, no Churn column)\n"
        f"Wrote {n_hist:,} campaign rows to {tmp_path / 'campaign_history.csv'} (past randomised "
        f"campaigns with control groups)\n")
    assert len(pd.read_csv(tmp_path / "customers.csv")) == 300


def test_cli_synth_bad_rows_exit_1(tmp_path, capsys):
    from churn.cli import main

    assert main(["synth", "--rows", "0", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        "synth: rows must be at least 1 and at most 118,813,760,000, got 0\n")


def test_ensure_sample_on_a_folder_without_labels_says_why(tmp_path):
    paths = config.paths(tmp_path)
    paths.sample_dir.mkdir(parents=True)
    frame = schema.to_file_frame(synth.generate_customers(50, 1)).drop(columns=["Churn"])
    frame.to_csv(paths.customers_csv, index=False)
    with pytest.raises(ValueError) as err:
        synth.ensure_sample(paths)
    assert str(err.value) == (
        f"{paths.customers_csv} cannot give the sample's active base and campaign history: it "
        f"needs readable customers with Churn (Yes/No); run `python -m churn validate "
        f"{paths.customers_csv}`")
    assert not paths.active_csv.exists() and not paths.campaign_history_csv.exists()
