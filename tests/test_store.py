"""Tests for churn.store: round trips, replacement, atomic writes, threads, campaigns, paging."""
from __future__ import annotations

import datetime as dt
import re
import threading

import numpy as np
import pandas as pd
import pytest

from churn import config, schema
from churn import store as store_mod
from churn.store import Store


def customers(n: int, seed: int, *, target=True, row=True) -> pd.DataFrame:
    """A random canonical frame (`_explain_fakes.random_customers`: dependencies enforced, some
    tenure-0 customers with NaN total), with the file row numbers when ``row``."""
    from _explain_fakes import random_customers

    df = random_customers(n, seed, target=True)
    if not target:
        df = df.drop(columns="Churn")
    if row:
        df["row"] = np.arange(2, n + 2, dtype=np.int64)
    return df


def odd_frame(n: int = 6) -> pd.DataFrame:
    """A frame with awkward dtypes, nulls and a named index."""
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "customerID": [f"c{i}" for i in range(n)],
        "probability": rng.random(n),
        "tier": pd.Categorical(rng.choice(["High", "Medium", "Low"], n),
                               categories=["High", "Medium", "Low"], ordered=True),
        "offer": ["a", None, "b", np.nan, "c", "d"][:n],
        "count": pd.array([1, None, 3, 4, 5, 6][:n], dtype="Int64"),
        "flag": [True, False] * (n // 2),
        "small": np.arange(n, dtype=np.int32),
        "when": pd.to_datetime(["2024-01-01", None, "2024-03-01", "2024-04-01", "2024-05-01",
                                "2024-06-01"][:n]),
        "day": [dt.date(2024, 1, i + 1) for i in range(n)],
        7: np.linspace(0, 1, n, dtype=np.float32),
    }, index=pd.Index(np.arange(100, 100 + n), name="pos"))


@pytest.fixture()
def st(tmp_path) -> Store:
    s = Store(tmp_path / "store.duckdb")
    yield s
    s.close()


# --- batches ------------------------------------------------------------------------------------
def test_batch_round_trip_keeps_dtypes_values_and_nan_totals(st):
    df = customers(500, 1)
    assert df["TotalCharges"].isna().sum() > 0
    st.save_batch("jan", df, kind="upload", source="jan.csv", rejected=7)
    out = st.load_batch("jan")
    pd.testing.assert_frame_equal(out, df, check_exact=True)
    assert out["TotalCharges"].isna().tolist() == (df["tenure"] == 0).tolist()
    b = st.list_batches()
    assert list(b.columns) == ["name", "kind", "created", "rows", "valid_rows", "rejected_rows",
                               "source"]
    assert b.iloc[0][["name", "kind", "rows", "valid_rows", "rejected_rows", "source"]].tolist() \
        == ["jan", "upload", 507, 500, 7, "jan.csv"]


def test_batch_without_churn_and_row(st):
    df = customers(50, 2, target=False, row=False)
    st.save_batch("score-me", df, kind="upload")
    out = st.load_batch("score-me")
    assert list(out.columns) == [c for c in schema.FILE_COLUMNS if c != "Churn"]
    pd.testing.assert_frame_equal(out, df, check_exact=True)


def test_empty_batch_round_trip(st):
    df = customers(0, 3)
    st.save_batch("empty", df, kind="upload")
    out = st.load_batch("empty")
    assert len(out) == 0
    expected = schema.empty_frame()
    expected["row"] = pd.Series(dtype="int64")
    pd.testing.assert_frame_equal(out, expected, check_index_type=False)


def test_replacing_a_batch_replaces_rows_and_drops_its_scores(st):
    st.save_batch("b", customers(300, 4), kind="sample")
    st.save_scores("b", "v1", pd.DataFrame({"p": [0.1]}))
    st.save_scores("other", "v1", pd.DataFrame({"p": [0.2]}))
    new = customers(120, 5)
    st.save_batch("b", new, kind="upload")
    pd.testing.assert_frame_equal(st.load_batch("b"), new)
    b = st.list_batches()
    assert b["name"].tolist() == ["b"] and b["kind"].tolist() == ["upload"]
    assert st.load_scores("b", "v1") is None
    assert st.load_scores("other", "v1")["p"].tolist() == [0.2]
    n = st._cur().execute("SELECT count(*) FROM customers WHERE batch = 'b'").fetchall()[0][0]
    assert n == 120


def test_delete_batch_and_unknown_batch(st):
    st.save_batch("x", customers(10, 6), kind="upload")
    st.save_batch("y", customers(10, 7), kind="upload")
    assert st.delete_batch("x") is True
    assert st.delete_batch("x") is False
    with pytest.raises(ValueError) as e:
        st.load_batch("x")
    assert str(e.value) == f'No batch named "x" in {st.path}; known batches: y.'


def test_save_batch_rejects_frames_that_are_not_canonical(st):
    df = customers(5, 8)
    with pytest.raises(ValueError) as e:
        st.save_batch("bad", df.drop(columns=["tenure", "Contract"]), kind="upload")
    assert str(e.value) == ("save_batch needs a canonical frame; missing columns: tenure, "
                            "Contract. Pass report.frame from churn.validate.")
    bad = df.copy()
    bad.loc[2, "Contract"] = "Monthly"
    with pytest.raises(ValueError) as e:
        st.save_batch("bad", bad, kind="upload")
    assert str(e.value) == ("save_batch: column Contract holds 'Monthly', which is not one of "
                            "Month-to-month, One year, Two year; validate the data first "
                            "(churn.validate).")
    with pytest.raises(ValueError) as e:
        st.save_batch("", df, kind="upload")
    assert str(e.value) == "batch name must be a non-empty string, got ''."
    assert st.list_batches().empty


def test_an_exception_mid_write_leaves_the_old_batch_untouched(st, monkeypatch):
    old = customers(200, 9)
    st.save_batch("b", old, kind="sample")

    def boom():   # called after the customers were inserted, before the batches row
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_mod, "_now", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        st.save_batch("b", customers(50, 10), kind="upload")
    with pytest.raises(RuntimeError, match="disk on fire"):
        st.save_batch("new", customers(50, 11), kind="upload")
    monkeypatch.undo()
    pd.testing.assert_frame_equal(st.load_batch("b"), old)
    assert st.list_batches()["name"].tolist() == ["b"]
    counts = dict(st._cur().execute(
        "SELECT batch, count(*) FROM customers GROUP BY batch").fetchall())
    assert counts == {"b": 200}


def test_a_failed_frame_write_keeps_the_previous_frame(st):
    st.save_scores("b", "v1", pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(ValueError) as e:
        st.save_scores("b", "v1", pd.DataFrame({"mixed": [1, "a", None]}))
    assert str(e.value) == ("column 'mixed' holds values of kind 'mixed-integer' (e.g. mixed "
                            "text and numbers), which cannot be stored unchanged; convert it to "
                            "one type first (e.g. .astype(str)).")
    pd.testing.assert_frame_equal(st.load_scores("b", "v1"), pd.DataFrame({"a": [1, 2]}))


def test_concurrent_writes_from_8_threads(st):
    frames = {f"t{i}": customers(400 + i, 20 + i) for i in range(8)}
    errors = []
    barrier = threading.Barrier(8)

    def work(name):
        try:
            barrier.wait()
            for rep in range(3):
                st.save_batch(name, frames[name], kind="upload")
                st.save_batch("shared", frames[name], kind="upload")
                st.save_scores(name, "head", frames[name].head(rep + 1))
                st.save_scores(name, "v1", pd.DataFrame({"p": np.full(len(frames[name]), 0.5)}))
                assert len(st.load_batch(name)) == len(frames[name])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in frames]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for name, df in frames.items():
        pd.testing.assert_frame_equal(st.load_batch(name), df)
        pd.testing.assert_frame_equal(st.load_scores(name, "head"), df.head(3))
        assert len(st.load_scores(name, "v1")) == len(df)
    shared = st.load_batch("shared")
    assert any(shared.equals(df) for df in frames.values())
    b = st.list_batches().set_index("name")
    assert len(b) == 9 and b.loc["shared", "valid_rows"] == len(shared)
    counts = dict(st._cur().execute(
        "SELECT batch, count(*) FROM customers GROUP BY batch").fetchall())
    assert counts == {**{n: len(df) for n, df in frames.items()}, "shared": len(shared)}


def test_one_connection_per_file_and_a_cursor_per_thread(tmp_path):
    p = tmp_path / "s.duckdb"
    a, b = Store(p), Store(str(p))
    assert a._sh is b._sh
    curs = []
    t = threading.Thread(target=lambda: curs.append(a._cur()))
    t.start()
    t.join()
    assert a._cur() is b._cur() and curs[0] is not a._cur()
    a.close()


def test_data_survives_closing_and_reopening(tmp_path):
    p = tmp_path / "s.duckdb"
    s = Store(p)
    df = customers(30, 30)
    s.save_batch("keep", df, kind="sample")
    s.close()
    again = Store(p)
    pd.testing.assert_frame_equal(again.load_batch("keep"), df)
    again.close()


def test_default_path_is_the_configured_store():
    s = Store()
    assert s.path == config.paths().store.resolve()
    s.close()


# --- offer history, scores, campaigns, model runs, cache -----------------------------------------
def test_offer_history_round_trip(st):
    assert st.load_offer_history() is None
    hist = pd.DataFrame({"customerID": ["a", "b", "a"], "offer_id": ["x", "y", "z"],
                         "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-09"]),
                         "accepted": np.array([1, 0, 1]), "rating": np.array([5, 2, 4])})
    st.save_offer_history(hist)
    pd.testing.assert_frame_equal(st.load_offer_history(), hist, check_exact=True)
    st.save_offer_history(hist.head(1))
    pd.testing.assert_frame_equal(st.load_offer_history(), hist.head(1))


def test_scores_paging(st):
    n = 10_000
    rng = np.random.default_rng(0)
    scores = pd.DataFrame({"customerID": [f"c{i}" for i in range(n)],
                           "probability": rng.random(n),
                           "tier": pd.Categorical(rng.choice(["High", "Low"], n))})
    st.save_scores("jan", "v2", scores)
    pd.testing.assert_frame_equal(st.load_scores("jan", "v2"), scores, check_exact=True)
    page = st.load_scores("jan", "v2", offset=2500, limit=100)
    pd.testing.assert_frame_equal(page, scores.iloc[2500:2600].reset_index(drop=True))
    tail = st.load_scores("jan", "v2", offset=9990, limit=100)
    assert tail["customerID"].tolist() == [f"c{i}" for i in range(9990, 10_000)]
    assert len(st.load_scores("jan", "v2", offset=20_000, limit=10)) == 0
    assert st.load_scores("jan", "v1") is None
    ls = st.list_scores()
    assert ls[["batch", "version", "rows"]].values.tolist() == [["jan", "v2", n]]
    with pytest.raises(ValueError) as e:
        st.load_scores("jan", "v2", offset=-1)
    assert str(e.value) == "offset and limit must be >= 0, got offset=-1, limit=None."


def test_scores_paging_keeps_a_custom_index(st):
    df = odd_frame()
    st.save_scores("b", "v", df)
    pd.testing.assert_frame_equal(st.load_scores("b", "v", offset=2, limit=3), df.iloc[2:5],
                                  check_exact=True)


def test_campaign_reopens_identical(st):
    settings = {"budget": 5000.0, "offers": ["contract_upgrade"], "min_prob": 0.25,
                "nested": {"x": None, "y": [1, 2]}}
    df = odd_frame()
    cid = st.save_campaign("Spring push", settings, df)
    cid2 = st.save_campaign("Second", {}, df.head(2))
    assert cid2 == cid + 1
    got_settings, got = st.load_campaign(cid)
    assert got_settings == settings
    pd.testing.assert_frame_equal(got, df, check_exact=True)
    assert [type(v) for v in got["day"]] == [dt.date] * len(df)
    assert got["offer"].tolist()[1] is None and np.isnan(got["offer"].tolist()[3])
    lc = st.list_campaigns()
    assert lc[["id", "name", "rows"]].values.tolist() == [[cid2, "Second", 2],
                                                         [cid, "Spring push", 6]]
    assert st.delete_campaign(cid2) is True and st.delete_campaign(cid2) is False
    with pytest.raises(ValueError) as e:
        st.load_campaign(cid2)
    assert str(e.value) == f"No campaign with id {cid2} in {st.path}."
    with pytest.raises(ValueError) as e:
        st.save_campaign("bad", {"when": dt.date(2024, 1, 1)}, df)
    assert str(e.value) == ("campaign settings must be JSON-serialisable: Object of type date "
                            "is not JSON serializable.")


def test_a_store_from_before_opens_and_only_its_unread_model_runs_table_goes(tmp_path):
    """Earlier stores logged trained versions in a ``model_runs`` table that nothing read (the
    models folder is the record); opening one drops that table and keeps everything else."""
    import duckdb

    path = tmp_path / "old.duckdb"
    s = Store(path)
    s.save_batch("spring", customers(3, 1), kind="upload")
    s.record_retrain_decision({"outcome": "kept", "exit_code": 10})
    s.close()
    con = duckdb.connect(str(path))      # the table as the earlier code (and one before it) had it
    con.execute("CREATE TABLE model_runs (version VARCHAR NOT NULL, created TIMESTAMP NOT NULL, "
                "metadata VARCHAR NOT NULL, active BOOLEAN)")
    con.execute("INSERT INTO model_runs VALUES ('0123456789abcdef', now(), '{}', true)")
    con.close()

    s = Store(path)
    try:
        assert s.list_batches()["name"].tolist() == ["spring"]
        assert len(s.load_batch("spring")) == 3
        assert s.list_retrain_decisions()["outcome"].tolist() == ["kept"]
        tables = {r[0] for r in s.connection().execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        assert "model_runs" not in tables and "batches" in tables
        assert not hasattr(s, "record_model_run") and not hasattr(s, "list_model_runs")
        # the active model is not kept in the store either (the models folder's ACTIVE pointer
        # is the one source of truth)
        assert not hasattr(s, "active_model") and not hasattr(s, "set_active_model")
    finally:
        s.close()


def test_retrain_decisions(st):
    assert st.list_retrain_decisions().empty
    st.record_retrain_decision({"outcome": "skipped", "exit_code": 10, "reasons": ["same data"]})
    st.record_retrain_decision({"outcome": "promoted", "exit_code": 0, "reasons": ["better"]})
    got = st.list_retrain_decisions()
    assert got["outcome"].tolist() == ["promoted", "skipped"]
    assert got["exit_code"].tolist() == [0, 10]
    assert got["decision"].iloc[1]["reasons"] == ["same data"]
    with pytest.raises(ValueError) as e:
        st.record_retrain_decision({"exit_code": 1})
    assert str(e.value) == "a retraining decision is a dict with an 'outcome'."


def test_frames_round_trip_and_replacing_one_drops_the_old_table(st):
    assert st.load_scores("b", "v1") is None
    df = odd_frame()
    st.save_scores("b", "v1", df)
    pd.testing.assert_frame_equal(st.load_scores("b", "v1"), df, check_exact=True)
    multi = df.reset_index().set_index(["customerID", "flag"])
    st.save_scores("b", "v1", multi)
    pd.testing.assert_frame_equal(st.load_scores("b", "v1"), multi, check_exact=True)
    st.save_scores("b", "empty", df.iloc[:0])
    pd.testing.assert_frame_equal(st.load_scores("b", "empty"), df.iloc[:0])
    tables = {r[0] for r in st._cur().execute("SHOW TABLES").fetchall()}
    data_tables = [t for t in tables if re.fullmatch(r"frame_[0-9a-f]{32}", t)]
    assert len(data_tables) == 2                        # "v1" (the second frame) and "empty"


def test_an_older_store_s_frame_cache_is_dropped_with_its_frames(tmp_path):
    """Stores from before 2026-11-30 cached explanations in a frame_cache table; they live in
    churn.cache files now, so opening such a store drops the table and its frames."""
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE frame_meta (tbl VARCHAR NOT NULL, meta VARCHAR NOT NULL)")
    con.execute("CREATE TABLE frame_cache (key VARCHAR NOT NULL, created TIMESTAMP NOT NULL, "
                "rows BIGINT NOT NULL, tbl VARCHAR NOT NULL)")
    con.execute('CREATE TABLE "frame_0123456789abcdef0123456789abcdef" (_pos BIGINT)')
    con.execute("INSERT INTO frame_meta VALUES ('frame_0123456789abcdef0123456789abcdef', '{}')")
    con.execute("INSERT INTO frame_cache VALUES ('explain/v1', now(), 0, "
                "'frame_0123456789abcdef0123456789abcdef')")
    con.close()
    st = Store(path)
    try:
        tables = {r[0] for r in st._cur().execute("SHOW TABLES").fetchall()}
        assert "frame_cache" not in tables
        assert not any(t.startswith("frame_0123") for t in tables)
        assert st._cur().execute("SELECT count(*) FROM frame_meta").fetchone()[0] == 0
        st.save_scores("b", "v1", odd_frame())  # the store works as before
        assert len(st.load_scores("b", "v1")) == 6
    finally:
        st.close()


def test_bad_arguments_raise_value_errors(st):
    with pytest.raises(ValueError) as e:
        st.save_scores("b", "v1", "not a frame")
    assert str(e.value) == "expected a pandas DataFrame, got str."
    with pytest.raises(ValueError) as e:
        st.save_campaign("c", ["not", "a", "dict"], odd_frame())
    assert str(e.value) == "campaign settings must be a dict, not list."
    assert st.list_campaigns().empty


def test_sample_batch_is_a_repeatable_random_subset_in_saved_order(tmp_path):
    from churn.synth import generate_customers

    store = Store(tmp_path / "s.duckdb")
    df = generate_customers(1000, 5)
    store.save_batch("b", df, kind="upload")
    a = store.sample_batch("b", 100, seed=1)
    assert len(a) == 100
    pd.testing.assert_frame_equal(a, store.sample_batch("b", 100, seed=1))
    assert set(a["customerID"]) != set(store.sample_batch("b", 100, seed=2)["customerID"])
    assert set(a["customerID"]) <= set(store.sample_batch("b", 300, seed=1)["customerID"])
    full = store.load_batch("b")
    pos = full.reset_index().set_index("customerID").loc[a["customerID"], "index"].to_numpy()
    assert (np.diff(pos) > 0).all()                          # saved order
    want = full.set_index("customerID").loc[a["customerID"]].reset_index()
    pd.testing.assert_frame_equal(a.reset_index(drop=True), want[list(a.columns)])
    pd.testing.assert_frame_equal(store.sample_batch("b", 5000), full)
    with pytest.raises(ValueError) as err:
        store.sample_batch("b", -1)
    assert str(err.value) == "sample_batch: n=-1: expected a number of customers >= 0."


def test_find_customers_reads_only_those_rows(tmp_path):
    from churn.synth import generate_customers

    store = Store(tmp_path / "s.duckdb")
    df = generate_customers(200, 6)
    store.save_batch("b", df, kind="upload")
    ids = [df["customerID"].iloc[150], df["customerID"].iloc[3], "nobody"]
    got = store.find_customers("b", ids)
    full = store.load_batch("b")
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  full.iloc[[3, 150]].reset_index(drop=True))
    assert len(store.find_customers("b", [])) == 0
    assert len(store.find_customers("b", ["x' OR '1'='1"])) == 0
