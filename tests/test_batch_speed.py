"""Tests of issue 15's batch speed and memory work: every shortcut gives the output of the path it
replaces, and the worker processes are set up as the speed depends on.

- `recommend._exact_nearest` (tied neighbours) against sorting every reference row;
- the split search (`churn.nearest`, visits only reference rows that can be near) against
  brute force on rows full of exact ties, and against the scan it replaces;
- `offers.rule_candidates` reason sentences against the documented sentence built independently;
- `Engine.score` (ranks only the best offer) against the full ranking of `Engine.score_all`;
- `campaign._align_rows` (aligned frames skip the look-up) against the look-up;
- worker processes: one thread in every BLAS/OpenMP pool and in the uplift models;
- `batch.score_file` in worker processes and parts (`POOL_PART_ROWS`) against one process, byte
  for byte, and against `Engine.score_all` of the whole validated file, value for value.
"""
from __future__ import annotations

import copy
import io
import types

import numpy as np
import pandas as pd
import pytest

from churn import batch, campaign, recommend, schema
from churn.config import BusinessSettings
from churn.scoring import SCORE_COLUMNS
from churn.validate import validate


@pytest.fixture(scope="module")
def engine():
    from _explain_fakes import fake_engine

    return fake_engine(400, 200)


@pytest.fixture(scope="module")
def customers():
    from churn.synth import generate_customers

    return generate_customers(3000, 21)


@pytest.fixture(scope="module")
def customer_csv(customers, tmp_path_factory):
    """3,000 customers in the IBM layout, three of them invalid (rejects in several chunks)."""
    buf = io.StringIO()
    schema.to_file_frame(customers).to_csv(buf, index=False, lineterminator="\n")
    lines = buf.getvalue().splitlines()
    for i in (5, 1400, 2999):                                  # file rows 6, 1401, 3000
        fields = lines[i].split(",")
        fields[schema.FILE_COLUMNS.index("tenure")] = "soon"
        lines[i] = ",".join(fields)
    path = tmp_path_factory.mktemp("speed") / "customers.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- nearest neighbours with ties ---------------------------------------------------------------
def _sorted_every_row(ref: np.ndarray, X: np.ndarray, k: int) -> np.ndarray:
    """The reference: every row of ``ref`` sorted by (exact squared distance, index)."""
    d = ((X[:, None, :] - ref[None, :, :]) ** 2).sum(axis=2)
    tie = np.broadcast_to(np.arange(len(ref)), d.shape)
    return np.lexsort((tie, d), axis=1)[:, :k]


@pytest.mark.parametrize("k", [1, 5, 25, 199, 200])
def test_exact_nearest_equals_sorting_every_reference_row(k):
    rng = np.random.default_rng(k)
    ref = rng.integers(0, 3, size=(200, 6)).astype(float)     # a small grid: many exact ties
    X = rng.integers(0, 3, size=(60, 6)).astype(float)
    got = recommend._exact_nearest(ref, X, k)
    assert got.shape == (60, k)
    np.testing.assert_array_equal(got, _sorted_every_row(ref, X, k))


def test_exact_nearest_with_continuous_values_and_no_rows():
    rng = np.random.default_rng(3)
    ref, X = rng.normal(size=(500, 45)), rng.normal(size=(40, 45))
    np.testing.assert_array_equal(recommend._exact_nearest(ref, X, 25),
                                  _sorted_every_row(ref, X, 25))
    assert recommend._exact_nearest(ref, X[:0], 25).shape == (0, 25)


def test_nearest_with_ties_at_the_kth_place_equals_sorting_every_row():
    """`_nearest` (fast candidates, exact settling of ties) on a batch large enough for the
    scikit-learn search, with duplicated reference rows so that ties sit at the k-th place."""
    rng = np.random.default_rng(9)
    base = rng.integers(0, 4, size=(300, 8)).astype(float)
    ref = np.vstack([base, base[:100]])                       # 100 exact duplicates
    X = rng.integers(0, 4, size=(recommend.SKLEARN_SEARCH_FROM + 100, 8)).astype(float)
    got = recommend._nearest(ref, (ref * ref).sum(axis=1), X, 10)
    np.testing.assert_array_equal(got, _sorted_every_row(ref, X, 10))


# --- the split search (churn.nearest): numbers + one-hot indicators -----------------------------
def _mixed_rows(rng, n: int, n_num: int, cards: tuple, *, grid: bool) -> np.ndarray:
    """Rows of ``n_num`` numbers (a coarse grid: many exact ties, or continuous) and one-hot
    blocks of the given cardinalities (the encoder's layout)."""
    num = (rng.integers(0, 3, size=(n, n_num)) * 0.5 if grid
           else rng.normal(size=(n, n_num)))
    blocks = []
    for c in cards:
        b = np.zeros((n, c))
        b[np.arange(n), rng.integers(0, c, size=n)] = 1.0
        blocks.append(b)
    return np.hstack([num] + blocks)


def _brute_force(ref: np.ndarray, X: np.ndarray, k: int, step: int = 200) -> np.ndarray:
    """Every pairwise squared distance, each row sorted stably (ties: lower index), in steps."""
    out = []
    for s in range(0, len(X), step):
        d = ((X[s:s + step, None, :] - ref[None, :, :]) ** 2).sum(axis=2)
        out.append(np.argsort(d, axis=1, kind="stable")[:, :k])
    return np.vstack(out)


@pytest.fixture
def split_always(monkeypatch):
    """The split search for batches of any size (by default small ones take the scan)."""
    monkeypatch.setattr(recommend, "SPLIT_SEARCH_FROM", 1)


@pytest.mark.parametrize("grid,k", [(True, 25), (True, 26), (False, 25), (True, 3)])
def test_split_search_equals_brute_force_with_ties_and_duplicates(grid, k, split_always):
    """The split search gives exactly the brute-force neighbours, ties by the lower index, on a few
    thousand rows where exact ties are everywhere: numbers on a coarse grid, few categorical
    patterns, duplicated reference rows and queries equal to reference rows."""
    from churn.nearest import SplitIndex

    rng = np.random.default_rng(11 + k)
    cards, n_num = (2, 3, 3, 4, 2), 4
    base = _mixed_rows(rng, 1200, n_num, cards, grid=grid)
    ref = np.vstack([base, base[rng.integers(0, 1200, size=300)]])   # 300 duplicate rows
    X = np.vstack([_mixed_rows(rng, 2500, n_num, cards, grid=grid),
                   ref[rng.integers(0, len(ref), size=500)]])          # 500 equal to a ref row
    index = SplitIndex(n_num).fit(ref)
    assert index.ok_
    got = recommend._nearest(ref, (ref * ref).sum(axis=1), X, k, index=index)
    np.testing.assert_array_equal(got, _brute_force(ref, X, k))
    # and the scan it replaces gives the same
    np.testing.assert_array_equal(got, recommend._nearest(ref, (ref * ref).sum(axis=1), X, k))


def test_split_search_with_unknown_categories_odd_levels_and_unusable_rows(split_always):
    """Unknown category values (a block of zeros: odd levels), a NaN number (searched by the scan)
    and an index over reference rows that are not 0/1 (not used): the same neighbours as brute
    force wherever brute force is defined."""
    from churn.nearest import SplitIndex

    rng = np.random.default_rng(5)
    cards, n_num = (3, 2, 4), 2
    ref = _mixed_rows(rng, 800, n_num, cards, grid=True)
    ref[rng.integers(0, 800, size=80), n_num:n_num + 3] = 0.0         # unknown first feature
    X = _mixed_rows(rng, 600, n_num, cards, grid=True)
    X[rng.integers(0, 600, size=60), n_num + 3:n_num + 5] = 0.0       # unknown second feature
    index = SplitIndex(n_num).fit(ref)
    got = recommend._nearest(ref, (ref * ref).sum(axis=1), X, 10, index=index)
    np.testing.assert_array_equal(got, _brute_force(ref, X, 10))
    X_nan = X.copy()
    X_nan[7, 0] = np.nan                                              # not usable: the scan
    got = recommend._nearest(ref, (ref * ref).sum(axis=1), X_nan, 10, index=index)
    keep = np.arange(len(X)) != 7
    np.testing.assert_array_equal(got[keep], _brute_force(ref, X, 10)[keep])
    bent = ref.copy()
    bent[0, n_num] = 0.5                                              # not one-hot: no index
    bent_index = SplitIndex(n_num).fit(bent)
    assert not bent_index.ok_
    np.testing.assert_array_equal(
        recommend._nearest(bent, (bent * bent).sum(axis=1), X, 10, index=bent_index),
        _brute_force(bent, X, 10))


def test_split_search_on_the_encoders_rows_equals_the_scan(engine, customers, split_always):
    """The recommender's own rows (standardised numbers, the schema's one-hot features): the split
    search and the scan it replaces give the same neighbours for 3,000 customers."""
    neigh = engine.recommender.neighbours_
    X = neigh.encoder.transform(customers)
    k = neigh.k
    got = recommend._nearest(neigh.ref, neigh.ref_sq, X, k, index=neigh._index())
    assert neigh._index().ok_
    np.testing.assert_array_equal(got, recommend._nearest(neigh.ref, neigh.ref_sq, X, k))
    np.testing.assert_array_equal(got[:300], _brute_force(neigh.ref, X[:300], k))
    for one in range(5):                                   # one customer at a time, too
        np.testing.assert_array_equal(
            recommend._nearest(neigh.ref, neigh.ref_sq, X[one:one + 1], k, index=neigh._index()),
            got[one:one + 1])


def test_small_batches_take_the_scan(engine, customers, monkeypatch):
    """Below `SPLIT_SEARCH_FROM` rows the split search is not called (the scan is faster there)."""
    from churn import nearest

    calls = []
    real = nearest.split_candidates
    monkeypatch.setattr(nearest, "split_candidates", lambda *a: calls.append(len(a[1])) or real(*a))
    neigh = engine.recommender.neighbours_
    X = neigh.encoder.transform(customers.iloc[:recommend.SPLIT_SEARCH_FROM])
    recommend._nearest(neigh.ref, neigh.ref_sq, X[:-1], neigh.k, index=neigh._index())
    assert calls == []
    recommend._nearest(neigh.ref, neigh.ref_sq, X, neigh.k, index=neigh._index())
    assert calls == [recommend.SPLIT_SEARCH_FROM]


# --- rule reasons --------------------------------------------------------------------------------
def test_rule_reasons_are_the_documented_sentence(engine, customers):
    from churn.conditions import value_phrase
    from churn.offers import rule_candidates

    frame = customers.iloc[:800]
    cand = rule_candidates(engine.catalogue, frame, engine.explain(frame).pp, top_k=5)
    assert len(cand) > 100
    for label, row in zip(cand.index, cand.itertuples(index=False)):
        value = frame.loc[label, row.driver]
        pp = row.driver_pp
        amount = "under 0.1" if pp < 0.05 else f"{round(float(pp), 1):.1f}"
        assert row.reason == (f"{value_phrase(row.driver, value)}: adds {amount} points of "
                              f"churn risk → {row.offer_name}")
    assert isinstance(cand["reason"].iloc[0], str)


# --- best offer only -----------------------------------------------------------------------------
def test_engine_score_ranks_only_the_best_offer_yet_equals_the_full_ranking(engine, customers,
                                                                            monkeypatch):
    frame = customers.iloc[:1500]
    full = engine.score_all(frame, BusinessSettings(), top_offers=3)
    tops = []
    real = campaign.rank_offers

    def spy(*args, **kwargs):
        tops.append(kwargs.get("top_n"))
        return real(*args, **kwargs)

    monkeypatch.setattr(campaign, "rank_offers", spy)
    table = engine.score(frame, BusinessSettings())
    assert tops == [1]
    pd.testing.assert_frame_equal(table, full.table, check_exact=True)
    assert len(full.ranked) > len(frame)                      # the full ranking had more rows


def test_align_rows_returns_aligned_frames_as_they_are_and_reorders_the_others():
    ids = pd.Index(["a", "b", "c"])
    frame = pd.DataFrame({"x": [1, 2, 3]}, index=ids)
    assert campaign._align_rows(frame, ids, "x") is frame
    shuffled = frame.loc[["c", "a", "b"]]
    pd.testing.assert_frame_equal(campaign._align_rows(shuffled, ids, "x"), frame)
    by_position = pd.DataFrame({"x": [1, 2, 3]})
    assert campaign._align_rows(by_position, ids, "x") is by_position
    with pytest.raises(ValueError, match="has 2 rows for 3 customers"):
        campaign._align_rows(by_position.iloc[:2], ids, "x")


# --- worker processes ----------------------------------------------------------------------------
def _pools_of_this_worker():
    """(every BLAS/OpenMP pool's thread count, the uplift models' n_jobs) in a worker."""
    from threadpoolctl import threadpool_info

    import sklearn.neighbors  # noqa: F401 - scoring loads it: its pool must be limited too

    return ([p["num_threads"] for p in threadpool_info()],
            getattr(batch._WORKER_ENGINE.uplift, "n_jobs", None))


def test_worker_processes_use_one_thread_in_every_pool(engine):
    probe = copy.copy(engine)
    probe.uplift = types.SimpleNamespace(n_jobs=2)            # as UpliftModel's default
    scorer = batch._Scorer(probe, BusinessSettings(), 2)
    try:
        threads, uplift_jobs = scorer.pool.submit(_pools_of_this_worker).result(timeout=120)
    finally:
        scorer.close()
    assert threads and set(threads) == {1}
    assert uplift_jobs == 1


def _read(path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in batch.FLOAT_COLUMNS:
        df[c] = [float(v) if v else np.nan for v in df[c]]   # exact: the CSV holds repr()
    return df


def test_workers_in_parts_write_the_same_bytes_as_one_process(engine, customer_csv, tmp_path,
                                                              monkeypatch):
    monkeypatch.setattr(batch, "POOL_PART_ROWS", 320)         # 1,000-row chunks in 4 parts
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    res1 = batch.score_file(customer_csv, one, engine=engine, chunk_rows=1000, workers=1)
    res2 = batch.score_file(customer_csv, two, engine=engine, chunk_rows=1000, workers=2)
    assert (res2.rows, res2.scored, res2.rejected) == (3000, 2997, 3)
    assert (res1.rows, res1.scored, res1.rejected) == (3000, 2997, 3)
    assert one.read_bytes() == two.read_bytes()
    assert (tmp_path / "one.rejects.csv").read_bytes() == \
        (tmp_path / "two.rejects.csv").read_bytes()

    # and the values are the engine's own, with the full ranking, on the validated rows of each
    # 1,000-record chunk (the survival model's sums can differ in the last bit with the batch
    # shape, so the chunks are the command's)
    frame = validate(customer_csv).frame
    chunk = (frame["row"].to_numpy() - 2) // 1000
    want = pd.concat([engine.score_all(part.drop(columns="row"), BusinessSettings(),
                                       top_offers=3).table
                      for _, part in frame.groupby(chunk, sort=True)], ignore_index=True)
    got = _read(two)
    assert list(got.columns) == SCORE_COLUMNS
    pd.testing.assert_frame_equal(got, want[SCORE_COLUMNS], check_exact=True,
                                  check_dtype=False)
    rejects = pd.read_csv(tmp_path / "two.rejects.csv", dtype=str, keep_default_na=False)
    assert rejects["row"].astype(int).tolist() == [6, 1401, 3000]
    assert rejects["reasons"].str.contains('tenure: "soon" is not a number of months').all()


def test_workers_in_parts_write_the_same_parquet_values(engine, customer_csv, tmp_path,
                                                        monkeypatch):
    monkeypatch.setattr(batch, "POOL_PART_ROWS", 450)         # used as 448 (7 x PART_ALIGN)
    assert batch._part_rows(1000, pool=True) == 448
    assert batch._part_rows(1000, pool=False) == 1000          # one process: whole chunks
    assert batch._part_rows(400, pool=True) == 400              # a chunk smaller than a part
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    batch.score_file(customer_csv, one, engine=engine, chunk_rows=1000, workers=1)
    batch.score_file(customer_csv, two, engine=engine, chunk_rows=1000, workers=2)
    a, b = pd.read_parquet(one), pd.read_parquet(two)
    assert len(a) == 2997
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert b["churn_prob"].dtype == np.float64 and b[schema.ID].dtype == object
