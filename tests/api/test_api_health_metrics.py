"""/v1/metrics exposes the Model health figures (churn.health.current_figures) as gauges labelled
with the model version, recomputed when a batch is saved."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apitest import READ, copy_trained, make_client  # noqa: E402

from churn import config, health, models  # noqa: E402
from churn.store import Store  # noqa: E402
from churn.validate import load_customers  # noqa: E402


def gauges(text: str) -> dict:
    """{(name, version): value} of the churn_model_health_* samples."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for fam in text_string_to_metric_families(text):
        if fam.name.startswith("churn_model_health_"):
            for s in fam.samples:
                out[(s.name, s.labels["version"])] = s.value
    return out


def test_metrics_expose_the_health_figures_with_the_version(tmp_path):
    data = copy_trained(tmp_path / "data")
    p = config.paths(data)
    client = make_client(data)
    try:
        version = models.active_version(p.models_dir)
        before = gauges(client.get("/v1/metrics", headers=READ).text)
        assert before[("churn_model_health_batches", version)] == 0.0
        assert before[("churn_model_health_status", version)] == 0.0
        assert ("churn_model_health_realised_roc_auc", version) not in before  # NaN: left out

        sample = load_customers(p.customers_csv, require_target=True)
        Store(p.store).save_batch("march", sample.sample(1200, random_state=2), kind="upload")
        got = gauges(client.get("/v1/metrics", headers=READ).text)
        want = health.current_figures(data)
        assert want["batches"] == 1.0 and not math.isnan(want["realised_roc_auc"])
        assert {k for (k, v) in got} == {f"churn_model_health_{k}" for k, v in want.items()
                                         if v == v}
        assert {v for (_, v) in got} == {version}
        for k, v in want.items():
            if v == v:
                assert got[(f"churn_model_health_{k}", version)] == pytest.approx(v)
    finally:
        client.__exit__(None, None, None)
