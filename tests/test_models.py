"""Tests of churn.models: families, additivity, honest CV, leakage, the version cache, the CLI.

Expensive training happens once per session (small grids) and is shared; the cache tests copy a
quick logistic-regression version and damage the copy.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit

from churn import metrics as M
from churn import models, schema, synth
from churn.schema import FEATURES, ID, TARGET

LR_ONLY = models.TrainConfig(families=("lr",), grid="small")


@pytest.fixture(scope="session")
def sample() -> pd.DataFrame:
    return synth.generate_customers(7043, 42)


@pytest.fixture(scope="session")
def compared(sample, tmp_path_factory):
    """All four families compared with 5-fold CV on the 7,043 sample (small grid)."""
    folder = tmp_path_factory.mktemp("models-all")
    seen = []
    result = models.train(sample, models.TrainConfig(grid="small"), folder,
                          progress=lambda f, m: seen.append(f))
    return result, folder, seen


@pytest.fixture(scope="session")
def family_models(sample, tmp_path_factory):
    """One trained model per family (small grid, 2 folds) on the 7,043 sample."""
    out = {}
    for name in models.FAMILIES:
        folder = tmp_path_factory.mktemp(f"models-{name}")
        cfg = models.TrainConfig(families=(name,), grid="small", folds=2)
        out[name] = models.train(sample, cfg, folder).model
    return out


@pytest.fixture(scope="session")
def lr_version(sample, tmp_path_factory):
    """A quick logistic-regression version folder to copy and damage."""
    folder = tmp_path_factory.mktemp("models-lr")
    result = models.train(sample, LR_ONLY, folder)
    return folder, result.version


@pytest.fixture
def lr_copy(lr_version, tmp_path):
    src, version = lr_version
    dst = tmp_path / "models"
    shutil.copytree(src, dst)
    return dst, version


# --- the registry and the shared pipeline ---------------------------------------------------------
def test_registry_holds_the_four_families_behind_one_interface():
    assert list(models.FAMILIES) == ["lr", "rf", "xgb", "cat"]
    for name, cls in models.FAMILIES.items():
        assert cls.name == name and cls.label
        assert len(cls.grid("small")) == 1 and 1 <= len(cls.grid("full")) <= 8
        est = cls.make(cls.grid("small")[0], seed=3)
        assert est.params == cls.grid("small")[0] and est.seed == 3
        assert not [a for a in vars(est) if a.endswith("_")]  # nothing learned before fit


@pytest.mark.parametrize("name", ["lr", "rf", "xgb", "cat"])
def test_every_point_of_every_full_grid_fits_and_predicts(sample, name):
    """The full grids (the default first start's) point by point on a small slice: the suite's
    trainings use the small grid, so a bad setting in a full grid would otherwise go unseen."""
    cls = models.FAMILIES[name]
    part = sample.head(500)
    X, y = schema.feature_frame(part), part[TARGET].to_numpy().astype(int)
    assert 0 < y.sum() < len(y)
    for params in cls.grid("full"):
        margin = cls.make(params, seed=1, n_jobs=1).fit(X, y).margin(X)
        assert margin.shape == (len(X),) and np.isfinite(margin).all(), params


def test_onehot_feature_map_matches_the_preprocessor_columns(sample):
    pre = models.make_preprocessor(scale=True).fit(schema.feature_frame(sample))
    names = list(pre.get_feature_names_out())
    fmap = models.onehot_feature_map()
    assert fmap.shape == (len(names), len(FEATURES))
    assert np.all(fmap.sum(axis=1) == 1)
    for name, row in zip(names, fmap):
        owner = FEATURES[int(np.argmax(row))]
        assert name == owner or name.startswith(owner + "_")
    assert ID not in names and TARGET not in names


@pytest.mark.parametrize("scale", [False, True])
def test_schema_encoder_equals_scikit_learn_one_hot_and_scaling(sample, scale):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = schema.feature_frame(sample)
    cats = [list(schema.BY_NAME[c].values) for c in schema.CATEGORICAL_FEATURES]
    reference = ColumnTransformer(
        [("cat", OneHotEncoder(categories=cats, sparse_output=False), schema.CATEGORICAL_FEATURES),
         ("num", StandardScaler() if scale else "passthrough", schema.NUMERIC_FEATURES)])
    expected = reference.fit(X).transform(X)
    ours = models.make_preprocessor(scale).fit(X)
    np.testing.assert_allclose(ours.transform(X), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.transform(X.iloc[[3]]), expected[[3]], rtol=0, atol=1e-12)


def test_schema_encoder_rejects_an_unknown_category(sample):
    X = schema.feature_frame(sample.head(3))
    enc = models.make_preprocessor(False).fit(X)
    X.loc[X.index[1], "Contract"] = "Monthly"
    with pytest.raises(ValueError) as err:
        enc.transform(X)
    assert str(err.value) == ("Contract='Monthly' is not one of ['Month-to-month', 'One year', "
                              "'Two year']; validate the data first (churn.validate)")


# --- predictions and additive contributions ------------------------------------------------------
@pytest.mark.parametrize("family", list(models.FAMILIES))
def test_every_family_predicts_and_its_contributions_add_up_exactly(family, family_models, sample):
    model = family_models[family]
    assert model.family == family and model.features == FEATURES
    rows = sample.iloc[100:400]
    p = model.predict_proba(rows)
    assert p.shape == (300,) and np.all((p > 0) & (p < 1))
    base, contrib = model.contributions(rows)
    assert isinstance(base, float)
    assert list(contrib.columns) == FEATURES and list(contrib.index) == list(rows.index)
    assert np.abs(base + contrib.sum(axis=1).to_numpy() - logit(p)).max() < 1e-6
    # the base does not depend on the rows explained, and an empty frame still gives it
    base2, empty = model.contributions(sample.iloc[:0])
    assert base2 == pytest.approx(base, abs=1e-9) and empty.shape == (0, len(FEATURES))
    # Contract is among the strongest drivers in every family (the sample's main signal)
    top = contrib.abs().mean().sort_values(ascending=False).index[:4]
    assert "Contract" in top


def test_logistic_contributions_are_the_change_in_log_odds(family_models, sample):
    """In an additive model, changing one feature moves the logit by exactly the change in
    that feature's contribution and leaves the others alone."""
    model = family_models["lr"]
    row = sample[sample["Contract"] == "Month-to-month"].iloc[[0]]
    other = row.copy()
    other["Contract"] = "Two year"
    _, c1 = model.contributions(row)
    _, c2 = model.contributions(other)
    dlogit = logit(model.predict_proba(other))[0] - logit(model.predict_proba(row))[0]
    assert c2["Contract"].iloc[0] - c1["Contract"].iloc[0] == pytest.approx(dlogit, abs=1e-9)
    rest = [f for f in FEATURES if f != "Contract"]
    assert np.allclose(c1[rest].to_numpy(), c2[rest].to_numpy(), atol=1e-12)
    assert dlogit < 0  # a two-year contract lowers the risk


def test_xgboost_contributions_are_its_own_tree_shap_summed_by_column(family_models, sample):
    import xgboost as xgb

    model = family_models["xgb"]
    rows = sample.iloc[:200]
    est = model.estimator
    Z = est.preprocess_.transform(schema.feature_frame(rows)).astype(np.float32)
    raw = est.booster_.predict(xgb.DMatrix(Z), pred_contribs=True)
    names = est.preprocess_.get_feature_names_out()
    a, b = model.calibration
    base, contrib = model.contributions(rows)
    assert base == pytest.approx(a * raw[0, -1] + b, abs=1e-6)
    for feature in ("Contract", "tenure", "PaymentMethod"):
        cols = [i for i, n in enumerate(names) if n == feature or n.startswith(feature + "_")]
        expected = a * raw[:, cols].sum(axis=1)
        assert np.allclose(contrib[feature].to_numpy(), expected, atol=1e-4)


def test_forest_contributions_keep_the_sign_of_tree_shap(family_models, sample):
    import shap

    model = family_models["rf"]
    rows = sample.iloc[:100]
    est = model.estimator
    Z = est.preprocess_.transform(schema.feature_frame(rows))
    sv = np.asarray(shap.TreeExplainer(est.estimator_).shap_values(Z))[:, :, 1]
    by_col = sv @ models.onehot_feature_map()
    _, contrib = model.contributions(rows)
    big = np.abs(by_col) > 1e-3
    assert big.sum() > 300
    assert np.all(np.sign(contrib.to_numpy()[big]) == np.sign(by_col[big]))


def test_predict_proba_rejects_frames_it_cannot_read(family_models, sample):
    model = family_models["lr"]
    with pytest.raises(ValueError) as e:
        model.predict_proba(sample.drop(columns=["tenure", "Contract"]))
    assert str(e.value) == ("predict_proba needs the schema feature columns; missing: tenure, "
                            "Contract. Validate the file with churn.validate first.")
    bad = sample.iloc[:3].copy()
    bad["Contract"] = "Weekly"
    with pytest.raises(ValueError) as e:
        model.contributions(bad)
    assert str(e.value) == ("contributions: column Contract has values the model does not know: "
                            "'Weekly'. Validate the file with churn.validate first.")


# --- cross-validation, calibration, selection -----------------------------------------------------
def test_cv_quality_on_the_sample_is_in_the_real_data_range(compared):
    result, _, _ = compared
    assert set(result.metrics) == set(models.FAMILIES)
    for name, cv in result.metrics.items():
        assert 0.82 < cv["roc_auc"] < 0.88, name
        assert 0.58 < cv["pr_auc"] < 0.72, name
        assert 0.125 < cv["brier"] < 0.145, name
        assert 2.4 < cv["lift_at_10"] < 3.4, name
        assert cv["ece"] < 0.05, name  # calibrated despite the class weights
    best = max(result.metrics, key=lambda n: result.metrics[n]["pr_auc"])
    assert result.selected == best == result.metadata["family"]


def test_reported_cv_metrics_are_the_fold_means_of_the_saved_oof_predictions(compared):
    result, folder, _ = compared
    oof = models.load_oof(result.version, folder)
    assert len(oof) == 7043 and sorted(oof["fold"].unique()) == [0, 1, 2, 3, 4]
    y = oof[TARGET].to_numpy()
    for name, cv in result.metrics.items():
        p = oof[f"p_{name}"].to_numpy()
        per_fold = [M.roc_auc(y[oof["fold"] == k], p[oof["fold"] == k]) for k in range(5)]
        assert cv["roc_auc"] == pytest.approx(np.mean(per_fold), abs=1e-12)
        per_fold = [M.brier(y[oof["fold"] == k], p[oof["fold"] == k]) for k in range(5)]
        assert cv["brier"] == pytest.approx(np.mean(per_fold), abs=1e-12)
    # folds are stratified: every fold's churn rate is within a point of the overall rate
    rates = oof.groupby("fold")[TARGET].mean()
    assert (rates - y.mean()).abs().max() < 0.01


def test_oof_probabilities_are_cross_fitted_not_fitted_on_their_own_fold(sample):
    rng = np.random.default_rng(0)
    margin = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-2 * margin))).astype(int)
    folds = np.arange(2000) % 4
    p = models.cross_fitted_platt(margin, y, folds)
    for k in range(4):
        a, b = models.fit_platt(margin[folds != k], y[folds != k])
        assert np.allclose(p[folds == k], 1 / (1 + np.exp(-(a * margin[folds == k] + b))))
    a, b = models.fit_platt(margin, y)
    assert a == pytest.approx(2.0, abs=0.25) and b == pytest.approx(0.0, abs=0.15)


def _newton_platt(margin, y, max_iter: int = 100) -> tuple[float, float]:
    """The hand-written Newton solver `fit_platt` used before scikit-learn's LogisticRegression
    replaced it (kept here as the reference the replacement must match)."""
    m = np.asarray(margin, dtype=float)
    y = np.asarray(y, dtype=float)
    X = np.column_stack([m, np.ones_like(m)])
    w = np.array([1.0, 0.0])

    def nll(w):
        z = X @ w
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    cur = nll(w)
    for _ in range(max_iter):
        p = 1 / (1 + np.exp(-(X @ w)))
        g = X.T @ (p - y) + 1e-9 * w
        H = (X * (p * (1 - p))[:, None]).T @ X + 1e-9 * np.eye(2)
        step = np.linalg.solve(H, g)
        t = 1.0
        while t > 1e-8:
            new = w - t * step
            val = nll(new)
            if val <= cur + 1e-12:
                break
            t /= 2
        else:
            break
        w, cur = new, val
        if np.max(np.abs(t * step)) < 1e-10:
            break
    return float(w[0]), float(w[1])


@pytest.mark.parametrize("seed", range(8))
def test_platt_fit_solves_the_likelihood_equations_and_matches_the_old_newton_solver(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 20000))
    m = rng.normal(rng.uniform(-3, 3), rng.uniform(0.2, 5), n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(rng.uniform(0.1, 3) * m + rng.uniform(-3, 2))))
         ).astype(int)
    a, b = models.fit_platt(m, y)
    # the maximum-likelihood (score) equations: sum(p - y) = 0 and sum((p - y) × margin) = 0
    resid = 1 / (1 + np.exp(-(a * m + b))) - y
    assert abs(resid.sum()) < 1e-6 * n and abs((resid * m).sum()) < 1e-6 * n
    old_a, old_b = _newton_platt(m, y)
    assert abs(a - old_a) < 1e-6 and abs(b - old_b) < 1e-6


def test_platt_fit_stays_finite_when_the_classes_are_separated():
    m = np.r_[np.linspace(-5, -0.1, 100), np.linspace(0.1, 5, 100)]
    y = (m > 0).astype(int)
    a, b = models.fit_platt(m, y)
    old_a, old_b = _newton_platt(m, y)
    assert np.isfinite([a, b]).all() and a > 10
    assert abs(a - old_a) < 1e-6 and abs(b - old_b) < 1e-6


def test_final_model_is_calibrated_on_the_training_rows(compared, sample):
    result, _, _ = compared
    p = result.model.predict_proba(sample)
    assert p.mean() == pytest.approx(sample[TARGET].mean(), abs=0.02)


def test_metadata_records_choices_segments_curves_and_checksums(compared):
    result, folder, seen = compared
    meta = result.metadata
    assert meta["version"] == result.version == meta["fingerprint"][:16]
    assert meta["libraries"] == models.library_versions()
    assert meta["features"] == FEATURES and meta["n_rows"] == 7043
    assert meta["config"]["folds"] == 5 and meta["selection_metric"] == "pr_auc"
    for name, fam in meta["families"].items():
        assert fam["params"] == models.FAMILIES[name].grid("small")[0]
        assert set(fam["curves"]) == {"roc", "pr", "reliability", "gains"}
        assert set(fam["segments"]) == set(models.SEGMENTS)
        assert {k: fam["cv"][k] for k in fam["cv"]} and set(fam["cv_std"]) == set(fam["cv"])
    segs = meta["segments"]["Contract"]
    assert set(segs) == {"Month-to-month", "One year", "Two year"}
    assert sum(s["n"] for s in segs.values()) == 7043
    assert segs["Month-to-month"]["churn_rate"] > segs["Two year"]["churn_rate"]
    assert set(meta["segments"]["SeniorCitizen"]) == {"0", "1"}
    for name, digest in meta["artifacts"].items():
        assert models._sha256(folder / result.version / name) == digest
    assert {"oof.parquet", "model." + {"lr": "joblib", "rf": "joblib", "xgb": "ubj",
                                       "cat": "cbm"}[result.selected]} <= set(meta["artifacts"])
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


def test_segment_metrics_match_a_recomputation_from_the_oof_file(compared):
    result, folder, _ = compared
    oof = models.load_oof(result.version, folder)
    name = result.selected
    for value, s in result.metadata["families"][name]["segments"]["gender"].items():
        part = oof[oof["gender"] == value]
        assert s["n"] == len(part)
        assert s["roc_auc"] == pytest.approx(M.roc_auc(part[TARGET], part[f"p_{name}"]))
        assert s["mean_predicted"] == pytest.approx(part[f"p_{name}"].mean())


def test_selection_by_brier_picks_the_lowest(sample, tmp_path):
    cfg = models.TrainConfig(families=("lr", "xgb"), grid="small", folds=3,
                             selection_metric="brier")
    r = models.train(sample.iloc[:2500], cfg, tmp_path)
    assert r.selected == min(r.metrics, key=lambda n: r.metrics[n]["brier"])


def test_hyperparameters_are_tuned_inside_the_cv(sample, tmp_path):
    cfg = models.TrainConfig(families=("lr",), grid="full", folds=3)
    r = models.train(sample.iloc[:2500], cfg, tmp_path)
    grid = r.metadata["families"]["lr"]["grid"]
    assert [g["params"]["C"] for g in grid] == [0.1, 1.0, 10.0]
    best = max(grid, key=lambda g: g["cv"]["pr_auc"])
    assert r.model.metadata["params"] == best["params"]
    assert r.metrics["lr"] == best["cv"]


def test_staged_xgboost_grid_points_equal_separate_fits(sample):
    X = schema.feature_frame(sample.iloc[:1500])
    y = sample[TARGET].to_numpy()[:1500]
    params = {"max_depth": 2, "learning_rate": 0.1}
    long = models.XGBoostFamily({**params, "n_estimators": 30}, 1).fit(X, y)
    short = models.XGBoostFamily({**params, "n_estimators": 20}, 1).fit(X, y)
    assert np.allclose(long.staged_margin(X, 20), short.margin(X), atol=1e-6)


# --- leakage --------------------------------------------------------------------------------------
def test_shuffled_target_gives_chance_level_auc(sample, tmp_path):
    shuffled = sample.copy()
    shuffled[TARGET] = np.random.default_rng(11).permutation(shuffled[TARGET].to_numpy())
    r = models.train(shuffled, models.TrainConfig(families=("lr", "xgb"), grid="small"), tmp_path)
    for name, cv in r.metrics.items():
        assert abs(cv["roc_auc"] - 0.5) < 0.04, (name, cv["roc_auc"])


def test_customer_id_is_never_a_feature(sample, lr_version, tmp_path):
    folder, _ = lr_version
    model = models.load_version(lr_version[1], folder)
    assert ID not in model.features and TARGET not in model.features
    rows = sample.iloc[:200]
    p = model.predict_proba(rows)
    changed = rows.assign(**{ID: [f"{i:04d}-ZZZZZ" for i in range(200)]})
    assert np.array_equal(model.predict_proba(changed), p)
    assert np.array_equal(model.predict_proba(rows.drop(columns=[ID, TARGET])), p)
    # a customerID that spells out the outcome teaches the model nothing
    leaky = sample.copy()
    leaky[ID] = np.where(leaky[TARGET] == 1, "CHURN-", "STAY-") + leaky[ID]
    honest = models.load_version(lr_version[1], folder).metadata["families"]["lr"]["cv"]
    r = models.train(leaky, LR_ONLY, tmp_path)
    assert not r.cached
    assert r.metrics["lr"]["roc_auc"] == pytest.approx(honest["roc_auc"], abs=1e-12)


# --- determinism ----------------------------------------------------------------------------------
def test_same_seed_same_everything(sample, tmp_path):
    cfg = models.TrainConfig(grid="small", folds=2)
    data = sample.iloc[:1000]
    r1 = models.train(data, cfg, tmp_path / "a")
    r2 = models.train(data, cfg, tmp_path / "b")
    assert r1.version == r2.version and r1.selected == r2.selected
    assert r1.metrics == r2.metrics
    assert np.array_equal(r1.model.predict_proba(sample.iloc[2000:2300]),
                          r2.model.predict_proba(sample.iloc[2000:2300]))
    assert models.fingerprint(data, models.TrainConfig(grid="small", folds=2, seed=7)) \
        != r1.metadata["fingerprint"]


# --- the cache ------------------------------------------------------------------------------------
def test_cache_hit_loads_the_same_version(sample, lr_copy):
    """How fast a cached version loads is the benchmark `load_active` (bench/bench_models.py)."""
    folder, version = lr_copy
    r = models.train(sample, LR_ONLY, folder)
    assert r.cached and r.version == version and r.warnings == []
    assert models.active_version(folder) == version


def test_cache_miss_for_other_data_or_config_adds_a_version(sample, lr_copy):
    folder, version = lr_copy
    r = models.train(sample, models.TrainConfig(families=("lr",), grid="small", threshold=0.4),
                     folder)
    assert not r.cached and r.version != version
    r2 = models.train(sample.iloc[:-1], LR_ONLY, folder)
    assert not r2.cached and len({version, r.version, r2.version}) == 3
    listed = models.list_versions(folder)
    assert {v["version"] for v in listed} == {version, r.version, r2.version}
    assert [v["version"] for v in listed if v["active"]] == [r2.version]
    assert all(v["usable"] and v["family"] == "lr" for v in listed)


def _retrained(sample, folder, version, expect: str) -> models.TrainResult:
    r = models.train(sample, LR_ONLY, folder)
    assert not r.cached and r.version == version
    assert any(expect in w for w in r.warnings), r.warnings
    assert models.load_version(version, folder).predict_proba(sample.iloc[:5]).shape == (5,)
    return r


def test_a_deleted_artifact_is_reported_and_retrained(sample, lr_copy):
    folder, version = lr_copy
    (folder / version / "model.joblib").unlink()
    with pytest.raises(models.ModelCacheError) as e:
        models.load_active(folder)
    assert str(e.value) == f"model version {version}: file model.joblib is missing"
    r = _retrained(sample, folder, version, "file model.joblib is missing")
    assert r.warnings == [f"Cached model version {version}: file model.joblib is missing; "
                          "retrained it."]


def test_bad_json_is_reported_and_retrained(sample, lr_copy):
    folder, version = lr_copy
    (folder / version / "metadata.json").write_text('{"version": "x", ', encoding="utf-8")
    _retrained(sample, folder, version, "metadata.json is not valid JSON")


def test_a_changed_file_fails_its_checksum_and_is_never_served(sample, lr_copy):
    folder, version = lr_copy
    with open(folder / version / "preprocess.joblib", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(models.ModelCacheError) as e:
        models.load_version(version, folder)
    assert "preprocess.joblib does not match its checksum" in str(e.value)
    listed = models.list_versions(folder)
    assert listed[0]["usable"] is False and "checksum" in listed[0]["problem"]
    _retrained(sample, folder, version, "does not match its checksum")


def test_other_library_versions_are_reported_and_retrained(sample, lr_copy):
    folder, version = lr_copy
    path = folder / version / "metadata.json"
    meta = json.loads(path.read_text())
    real = meta["libraries"]["xgboost"]
    meta["libraries"]["xgboost"] = "0.0.1"
    path.write_text(json.dumps(meta))
    with pytest.raises(models.ModelCacheError) as e:
        models.load_active(folder)
    assert str(e.value) == (f"model version {version}: built with other library versions: "
                            f"xgboost 0.0.1 (now {real})")
    _retrained(sample, folder, version, "built with other library versions")
    assert json.loads(path.read_text())["libraries"]["xgboost"] == real


def test_a_half_written_temp_folder_is_removed_and_the_version_trained(sample, lr_copy):
    folder, version = lr_copy
    shutil.rmtree(folder / version)
    stale = folder / f".tmp-{version}-999999999-dead0000"
    stale.mkdir()
    (stale / "model.joblib").write_bytes(b"partial")
    busy = folder / f".tmp-{version}-1-busy0000"  # pid 1 is alive: another process at work
    busy.mkdir()
    r = models.train(sample, LR_ONLY, folder)
    assert not r.cached and r.version == version
    assert r.warnings == [f"Removed a half-written model folder {stale.name} (left by an "
                          "interrupted training)."]
    assert not stale.exists() and busy.exists()
    (folder / "_parts").mkdir()  # another tool's folder in the same place is not a version
    assert [v["version"] for v in models.list_versions(folder)] == [version]


def test_active_pointer_problems_raise_clear_errors(tmp_path, lr_copy):
    with pytest.raises(models.NoModelError) as e:
        models.load_active(tmp_path / "empty")
    assert str(e.value) == (f"No active model in {tmp_path / 'empty'}: train one first "
                            "(`python -m churn train` or the Model page).")
    folder, version = lr_copy
    (folder / "ACTIVE").write_text("0123456789abcdef\n")
    with pytest.raises(models.ModelCacheError) as e:
        models.load_active(folder)
    assert str(e.value) == (f"The active model version 0123456789abcdef is missing from {folder}; "
                            "train again or activate another version.")
    (folder / "ACTIVE").write_text("garbage\n")
    with pytest.raises(models.ModelCacheError) as e:
        models.load_active(folder)
    assert str(e.value) == (f"The active-model pointer {folder / 'ACTIVE'} is damaged (it reads "
                            "'garbage'); train again or activate a version.")
    with pytest.raises(ValueError) as e:
        models.activate("nope", folder)
    assert str(e.value) == f"Unknown model version 'nope'; known versions: {version}."
    models.activate(version, folder)
    assert models.load_active(folder).version == version


def test_activate_switches_between_versions(sample, lr_copy):
    folder, version = lr_copy
    other = models.train(sample.iloc[:3000], LR_ONLY, folder).version
    assert models.load_active(folder).version == other
    models.activate(version, folder)
    assert models.active_version(folder) == version
    assert models.load_active(folder).version == version
    assert models.load_version(other, folder).version == other


def test_active_or_train_uses_the_active_model_else_trains(sample, lr_copy, tmp_path):
    folder, version = lr_copy
    assert models.active_or_train(sample.iloc[:100], LR_ONLY, folder).version == version
    fresh = models.active_or_train(sample.iloc[:2000], LR_ONLY, tmp_path / "new")
    assert models.active_version(tmp_path / "new") == fresh.version != version


# --- caller errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"families": ("lr", "gbm")}, "Unknown model family 'gbm'; choose from: lr, rf, xgb, cat."),
    ({"families": ()}, "families is empty; choose at least one of: lr, rf, xgb, cat"),
    ({"selection_metric": "accuracy"}, "Unknown selection metric 'accuracy'; choose from: "
     "roc_auc, pr_auc, brier, log_loss, lift_at_10, lift_at_20, precision_at_10, "
     "precision_at_20, recall_at_threshold, precision_at_threshold, ece."),
    ({"threshold": 1.5}, "threshold=1.5 must be a probability strictly between 0 and 1."),
    ({"folds": 1}, "folds=1: cross-validation needs at least 2 folds."),
    ({"grid": "huge"}, "grid='huge' must be 'full' or 'small'."),
])
def test_bad_config_raises_with_exact_messages(kwargs, message, sample, tmp_path):
    with pytest.raises(ValueError) as e:
        models.train(sample, models.TrainConfig(**kwargs), tmp_path)
    assert str(e.value) == message


def test_training_data_problems_raise_with_exact_messages(sample, tmp_path):
    with pytest.raises(ValueError) as e:
        models.train(sample.drop(columns=TARGET), LR_ONLY, tmp_path)
    assert str(e.value) == ("train needs the Churn column (0/1): this data has no outcomes to "
                            "learn from. Customers without Churn can be scored, not trained on.")
    few = sample.iloc[:200].copy()
    few[TARGET] = 0
    few.iloc[:3, few.columns.get_loc(TARGET)] = 1
    with pytest.raises(ValueError) as e:
        models.train(few, LR_ONLY, tmp_path)
    assert str(e.value) == ("Churn has 3 churners and 197 customers who stayed; 5-fold "
                            "cross-validation needs at least 5 of each.")


# --- the command line -----------------------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path, monkeypatch, sample):
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path / "data"))
    csv = tmp_path / "customers.csv"
    schema.to_file_frame(sample).to_csv(csv, index=False)
    return tmp_path, csv


def test_cli_train_json_contract_and_models_subset(cli_env, capsys):
    from churn import cli

    tmp, csv = cli_env
    assert cli.main(["train", "--data", str(csv), "--models", "lr", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"selected", "version", "seconds", "models"}
    assert set(out["models"]) == {"lr"} and out["selected"] == "lr"
    assert isinstance(out["seconds"], float) and out["seconds"] > 0
    for figures in out["models"].values():
        assert set(figures) == {"roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10",
                                "lift_at_20", "ece"}
        assert 0.8 < figures["roc_auc"] < 0.9
    assert out["version"] == models.active_version(tmp / "data" / "models")
    # a second run is served from the cache
    assert cli.main(["train", "--data", str(csv), "--models", "lr", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["version"] == out["version"] and again["models"] == out["models"]


def test_cli_train_table_reports_rejected_rows(cli_env, capsys, sample):
    from churn import cli

    tmp, _ = cli_env
    bad = schema.to_file_frame(sample).astype(str)
    bad.loc[3, "tenure"] = "abc"
    path = tmp / "bad.csv"
    bad.to_csv(path, index=False)
    assert cli.main(["train", "--data", str(path), "--models", "lr"]) == 0
    cap = capsys.readouterr()
    assert f"{path}: 1 of 7,043 rows fail validation and are left out of training." in cap.err
    assert 'Row 5, tenure: "abc" is not a number of months.' in cap.err
    assert "*  lr" in cap.out and "7,042 customers" in cap.out
    assert "Selected: Logistic regression (best PR-AUC)." in cap.out


def test_cli_train_errors_exit_1(cli_env, capsys, sample):
    from churn import cli

    tmp, csv = cli_env
    assert cli.main(["train", "--data", str(csv), "--models", "lr,gbm"]) == 1
    assert capsys.readouterr().err.strip() == ("--models 'lr,gbm': unknown model family ('gbm'); "
                                               "choose from lr, rf, xgb, cat, separated by commas.")
    nochurn = tmp / "nochurn.csv"
    schema.to_file_frame(sample.drop(columns=TARGET)).to_csv(nochurn, index=False)
    assert cli.main(["train", "--data", str(nochurn), "--models", "lr"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{nochurn}: there is no Churn column, so there is nothing to learn from. Training needs "
        "Churn (Yes/No) for every customer; to score customers without it use "
        "`python -m churn score`.")


def test_cli_models_lists_and_activates(cli_env, capsys, sample):
    from churn import cli

    tmp, csv = cli_env
    assert cli.main(["models"]) == 0
    assert "No model versions" in capsys.readouterr().out
    folder = tmp / "data" / "models"
    first = models.train(sample, LR_ONLY, folder).version
    second = models.train(sample.iloc[:3000], LR_ONLY, folder).version
    assert cli.main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["version"]: r["active"] for r in listed} == {first: False, second: True}
    assert cli.main(["models", "--activate", first]) == 0
    assert capsys.readouterr().out.strip() == f"Activated model version {first}."
    assert models.active_version(folder) == first
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("*") and first in line for line in out.splitlines())
    assert cli.main(["models", "--activate", "nope"]) == 1
    assert capsys.readouterr().err.strip() == (f"Unknown model version 'nope'; known versions: "
                                               f"{', '.join(r['version'] for r in listed)}.")


def test_cli_train_defaults_to_the_sample(cli_env, capsys):
    from churn import cli
    from churn.config import paths

    assert cli.main(["train", "--models", "lr", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert paths().customers_csv.is_file()
    assert models.load_active(paths().models_dir).metadata["n_rows"] == 7043
    assert out["version"] == models.active_version(paths().models_dir)


def test_train_with_activate_false_keeps_the_active_version(sample, tmp_path):
    cfg = models.TrainConfig(families=("lr",), grid="small", folds=2)
    first = models.train(sample.head(800), cfg, tmp_path)
    second = models.train(sample.tail(800), cfg, tmp_path, activate=False)
    assert second.version != first.version
    assert models.active_version(tmp_path) == first.version
    assert {v["version"] for v in models.list_versions(tmp_path)} == {first.version,
                                                                     second.version}


def test_progress_text_is_plain_with_the_time_left():
    """Issue 16: the first start showed raw grid settings ("Random forest {'n_estimators': ...}
    fold 2/5") with no time estimate."""
    stage = "Training model 2 of 4 (Random forest)"
    assert models.progress_text(stage, 10.0, 5, 9) == f"{stage} — about 8 s left"
    assert models.progress_text(stage, 100.0, 1, 3) == f"{stage} — about 3 min left"
    assert models.progress_text(stage, 10.0, 9, 9) == stage


def test_training_reports_each_model_in_plain_words(sample, tmp_path):
    seen = []
    df = sample.head(300)
    models.train(df, models.TrainConfig(families=("lr", "xgb"), grid="small", folds=2),
                 tmp_path / "models", progress=lambda f, m: seen.append((round(f, 3), m)))
    texts = [m.split(" — ")[0] for _, m in seen]
    assert texts == ["Training model 1 of 2 (Logistic regression)"] * 2 + \
        ["Training model 2 of 2 (XGBoost)"] * 2 + \
        ["Training the chosen model (" + texts[-1].split("(")[1].split(")")[0] +
         ") on all 300 customers"]
    assert [f for f, _ in seen] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert all("{" not in m and "fold" not in m for _, m in seen)
