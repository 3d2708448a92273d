"""Every route of the API through FastAPI's TestClient: answers checked against the core functions
(independent computations), error bodies compared exactly, the CLI's probabilities equal."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apitest import ADMIN, READ  # noqa: E402

from api import app as A  # noqa: E402
from api import schemas as S  # noqa: E402
from churn import campaign, config, models, schema  # noqa: E402
from churn.store import Store  # noqa: E402
from churn.validate import MSG_BINARY, MSG_UNKNOWN_CHOICE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def recs(customers: pd.DataFrame, n: int = 3, start: int = 0) -> list[dict]:
    return customers.iloc[start:start + n].to_dict("records")


def engine_of(client):
    return client.app.state.engine.get()


# --- health ---------------------------------------------------------------------------------------
def test_health_needs_no_key(client):
    assert client.get("/v1/health/live").json() == {"status": "live"}
    r = client.get("/v1/health/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "model_version": engine_of(client).version}


def test_not_ready_answers_503_with_retry_after(api_dir):
    from fastapi.testclient import TestClient

    from api.settings import ApiSettings

    app = A.create_app(ApiSettings(api_key="k", data_dir=api_dir), load_engine=False)
    with TestClient(app) as c:
        r = c.get("/v1/health/ready")
        assert r.status_code == 503 and r.headers["retry-after"] == "10"
        assert r.json()["status"] == "not ready"
        r = c.post("/v1/predict", json={"customers": [{}]}, headers={"X-API-Key": "k"})
        assert r.status_code == 503 and r.headers["retry-after"] == "10"
        assert r.json() == {"detail": "The model is loading (a new data folder trains it first, "
                                      "which takes about a minute)."}


# --- predict ------------------------------------------------------------------------------------
def test_predict_scores_good_rows_and_lists_bad_ones(client, customers):
    body = recs(customers, 3)
    body[1]["Contract"] = "Weekly"
    r = client.post("/v1/predict", json={"customers": body}, headers=READ)
    assert r.status_code == 200
    out = r.json()
    S.PredictResponse.model_validate(out)  # the documented shape (returned without re-checking)
    engine = engine_of(client)
    assert out["model_version"] == engine.version
    assert out["errors"] == [{"row": 1, "column": "Contract", "message": MSG_UNKNOWN_CHOICE.format(
        value="Weekly", allowed="Month-to-month, One year, Two year")}]
    assert [x["row"] for x in out["results"]] == [0, 2]
    frame = engine.customers.set_index(schema.ID).loc[[body[0]["customerID"],
                                                       body[2]["customerID"]]].reset_index()
    scored = engine.score_all(frame.drop(columns=schema.TARGET))  # as sent: no Churn column
    table = scored.table
    best = scored.ranked[scored.ranked["rank"] == 1].set_index(schema.ID)
    for res, (_, t) in zip(out["results"], table.iterrows()):
        assert res["customerID"] == t[schema.ID]
        assert res["churn_probability"] == pytest.approx(t["churn_prob"], abs=1e-6)
        assert res["risk_tier"] == t["risk_tier"]
        assert res["clv"] == pytest.approx(t["clv"], abs=0.005)
        assert res["drivers"][0]["feature"] == t["driver_1"]
        assert res["drivers"][0]["points"] == pytest.approx(t["driver_1_pp"], abs=1e-4)
        if t["offer_id"]:
            assert res["offers"][0]["offer_id"] == t["offer_id"]
            assert res["offers"][0]["effect"] == best.loc[t[schema.ID], "basis"]
            assert res["offer_note"] is None
        else:  # the engine makes no offer (a sleeping dog): neither does the API, and says why
            assert res["offers"] == [] and res["offer_note"] == t["offer_reason"]
        assert len(res["offers"]) <= 3


def test_predict_with_no_usable_customer_is_422_with_the_same_errors(client, customers):
    body = recs(customers, 1)
    body[0]["tenure"] = -4
    r = client.post("/v1/predict", json={"customers": body}, headers=READ)
    assert r.status_code == 422
    assert r.json() == {"detail": "No customer could be used; see errors.", "errors": [
        {"row": 0, "column": "tenure",
         "message": '"-4" is outside the allowed range of 0 to 120 months.'}]}


def test_predict_shape_errors_have_exact_bodies(client, customers):
    r = client.post("/v1/predict", json={"customers": []}, headers=READ)
    assert r.status_code == 422
    assert r.json() == {"detail": "The request does not have the expected shape; see errors.",
                        "errors": [{"row": None, "column": "customers",
                                    "message": "List should have at least 1 item after "
                                               "validation, not 0"}]}
    r = client.post("/v1/predict", json={"customers": recs(customers, 1) * 1001}, headers=READ)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"row": None, "column": "customers",
                                   "message": "List should have at most 1000 items after "
                                              "validation, not 1001"}]
    r = client.post("/v1/predict", json={"customers": ["x"]}, headers=READ)
    assert r.json()["errors"] == [{"row": 0, "column": None,
                                   "message": "Input should be a valid dictionary or object to "
                                              "extract fields from"}]
    r = client.post("/v1/predict", content=b"{not json", headers={**READ,
                                                                  "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"] == A.MSG_SHAPE


def test_predict_settings_change_tiers_and_values(client, customers):
    body = recs(customers, 5)
    base = client.post("/v1/predict", json={"customers": body}, headers=READ).json()
    r = client.post("/v1/predict", json={"customers": body, "settings": {
        "high_risk": 0.02, "medium_risk": 0.01, "margin": 0.3}}, headers=READ).json()
    for x in r["results"]:
        p = x["churn_probability"]
        assert x["risk_tier"] == ("High" if p >= 0.02 else "Medium" if p >= 0.01 else "Low")
    assert "High" in {x["risk_tier"] for x in r["results"]}
    for a, b in zip(base["results"], r["results"]):
        assert b["clv"] == pytest.approx(a["clv"] / 2, rel=1e-3)
    bad = client.post("/v1/predict", json={"customers": body, "settings": {
        "high_risk": 0.2, "medium_risk": 0.3}}, headers=READ)
    assert bad.status_code == 422
    assert bad.json() == {"detail": "settings.medium_risk (0.3) must be below "
                                    "settings.high_risk (0.2)."}


def test_1000_customers_in_one_request(client, customers):
    r = client.post("/v1/predict", json={"customers": recs(customers, 1000)}, headers=READ)
    assert r.status_code == 200
    assert len(r.json()["results"]) == 1000 and r.json()["errors"] == []


# --- explain, recommend ---------------------------------------------------------------------------
def test_explain_gives_every_feature_adding_up(client, customers):
    r = client.post("/v1/explain", json={"customer": recs(customers, 1)[0]}, headers=READ)
    assert r.status_code == 200
    out = r.json()
    assert sorted(c["feature"] for c in out["contributions"]) == sorted(schema.FEATURES)
    total = 100 * out["baseline_probability"] + sum(c["points"] for c in out["contributions"])
    assert total == pytest.approx(100 * out["churn_probability"], abs=1e-3)
    bad = dict(recs(customers, 1)[0], gender="X")
    r = client.post("/v1/explain", json={"customer": bad}, headers=READ)
    assert r.status_code == 422
    assert r.json() == {"detail": "No customer could be used; see errors.", "errors": [
        {"row": 0, "column": "gender",
         "message": '"X" is not a known value; expected one of Female, Male.'}]}


def test_recommend_gives_both_parts_of_the_ranking(client, customers):
    r = client.post("/v1/recommend", json={"customers": recs(customers, 2), "top": 4},
                    headers=READ)
    assert r.status_code == 200
    S.RecommendResponse.model_validate(r.json())
    engine = engine_of(client)
    ranked = engine.score_all(engine.customers.iloc[:2].drop(columns=schema.TARGET), drivers=0,
                              top_offers=4).ranked
    for res in r.json()["results"]:
        mine = ranked[ranked[schema.ID] == res["customerID"]]
        assert [o["offer_id"] for o in res["offers"]] == list(mine["offer_id"])
        assert [o["p_accept"] for o in res["offers"]] == pytest.approx(list(mine["p_accept"]),
                                                                      abs=1e-6)
        assert [o["from_rules"] for o in res["offers"]] == list(mine["from_rules"])


# --- file scoring ---------------------------------------------------------------------------------
def _csv(customers: pd.DataFrame, rows: int) -> bytes:
    return customers.head(rows).to_csv(index=False).encode()


def test_score_streams_the_scored_csv_and_keeps_the_rejects(client, customers):
    data = customers.head(40).copy()
    data.loc[3, "tenure"] = "abc"
    r = client.post("/v1/score", content=data.to_csv(index=False).encode(),
                    headers={**READ, "content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert (r.headers["x-rows"], r.headers["x-scored"], r.headers["x-rejected"]) == \
        ("40", "39", "1")
    scored = pd.read_csv(io.BytesIO(r.content))
    assert len(scored) == 39 and "churn_prob" in scored
    job = r.headers["x-job-id"]
    assert r.headers["link"] == f'</v1/jobs/{job}/rejects>; rel="rejects"'
    rej = client.get(f"/v1/jobs/{job}/rejects", headers=READ)
    assert rej.status_code == 200
    rejects = pd.read_csv(io.BytesIO(rej.content), dtype=str)
    assert list(rejects["row"]) == ["5"] and "tenure" in rejects["reasons"][0]
    status = client.get(f"/v1/jobs/{job}", headers=READ).json()
    assert status["status"] == "done" and status["result"]["scored"] == 39


def test_a_large_file_becomes_a_job(api_dir, customers):
    from apitest import make_client

    c = make_client(api_dir, sync_max_bytes=2000)
    try:
        r = c.post("/v1/score", content=_csv(customers, 300), headers={**READ,
                                                                       "content-type": "text/csv"})
        assert r.status_code == 202
        job = r.json()
        assert r.headers["location"] == f"/v1/jobs/{job['id']}"
        assert job["links"] == {"status": f"/v1/jobs/{job['id']}",
                                "scores": f"/v1/jobs/{job['id']}/scores",
                                "rejects": f"/v1/jobs/{job['id']}/rejects"}
        deadline = time.monotonic() + 120
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = c.get(job["links"]["status"], headers=READ).json()
        assert job["status"] == "done" and job["result"]["scored"] == 300
        scores = c.get(job["links"]["scores"], headers=READ)
        assert len(pd.read_csv(io.BytesIO(scores.content))) == 300
        # Admin keys see every job (other keys only their own: test_api_auth.py).
        assert c.get(job["links"]["status"], headers=ADMIN).status_code == 200
    finally:
        c.__exit__(None, None, None)


def test_score_errors_have_exact_bodies(client):
    r = client.post("/v1/score", content=b"", headers={**READ, "content-type": "text/csv"})
    assert r.status_code == 422 and r.json() == {"detail": A.MSG_EMPTY_BODY}
    r = client.post("/v1/score", files={"file": ("a.csv", b"x")}, headers=READ)
    assert r.status_code == 415 and r.json() == {"detail": A.MSG_MULTIPART}
    r = client.post("/v1/score", content=b"\x00\x01\x02binary", headers=READ)
    assert r.status_code == 422
    assert r.json() == {"detail": MSG_BINARY}
    r = client.get("/v1/jobs/nope", headers=READ)
    assert r.status_code == 404
    assert r.json() == {"detail": "No job nope: it never existed, belongs to another key, or was "
                                  "removed (jobs are kept in memory until the server restarts)."}


def test_api_probabilities_equal_the_clis(client, api_dir, customers, tmp_path):
    source = tmp_path / "customers.csv"
    source.write_bytes(_csv(customers, 200))
    out = tmp_path / "cli.csv"
    done = subprocess.run([sys.executable, "-m", "churn", "--data-dir", str(api_dir), "score",
                           str(source), "--out", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    cli = pd.read_csv(out)
    r = client.post("/v1/score", content=source.read_bytes(), headers=READ)
    assert r.content == out.read_bytes()  # the same bytes as the CLI's file
    body = customers.head(200).to_dict("records")
    pred = client.post("/v1/predict", json={"customers": body}, headers=READ).json()
    api = pd.Series({x["customerID"]: x["churn_probability"] for x in pred["results"]})
    assert list(api.index) == list(cli[schema.ID])
    assert api.to_numpy() == pytest.approx(cli["churn_prob"].to_numpy(), abs=1e-6)


# --- campaigns ------------------------------------------------------------------------------------
def _decision_customers(client, api_dir):
    """What a campaign on "sample" is about: the active base (the CLI's rule)."""
    from churn import population
    from churn.validate import load_customers

    p = config.paths(api_dir)
    frame = load_customers(p.active_csv) if p.active_csv.exists() else engine_of(client).customers
    return population.active(frame)


def test_campaigns_build_save_and_reopen_as_json_or_csv(client, api_dir):
    r = client.post("/v1/campaigns", json={"name": "Autumn", "budget": 1500,
                                           "tiers": ["High"], "min_clv": 100,
                                           "control_share": 0.2, "seed": 3}, headers=READ)
    assert r.status_code == 201, r.text
    s = r.json()
    engine = engine_of(client)
    scored, ranked = campaign.campaign_inputs(engine, _decision_customers(client, api_dir))
    expected = campaign.build_campaign(scored, ranked, 1500, tiers=["High"], min_clv=100,
                                       control_share=0.2, seed=3)
    assert s["customers"] == expected.customers and s["spent"] == expected.spent <= 1500
    assert (s["treated"], s["held_out"]) == (expected.treated, expected.held_out)
    assert s["held_out"] > 0 and s["warning"] is None
    assert s["expected_saved_revenue"] == expected.expected_saved_revenue
    cid = s["id"]
    csv = client.get(f"/v1/campaigns/{cid}?format=csv", headers=READ)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content == campaign.to_csv_bytes(expected.rows)
    assert client.get(f"/v1/campaigns/{cid}", headers={**READ, "accept": "text/csv"}).content \
        == csv.content
    js = client.get(f"/v1/campaigns/{cid}", headers=READ).json()
    assert js["name"] == "Autumn" and len(js["rows"]) == expected.customers
    assert {row["group"] for row in js["rows"]} == {"treatment", "control"}
    assert js["settings"]["tiers"] == ["High"] and js["settings"]["source"] == "api"
    listed = client.get("/v1/campaigns", headers=READ).json()["campaigns"]
    assert listed[0]["id"] == cid and listed[0]["name"] == "Autumn"
    r = client.post("/v1/campaigns", json={"name": "All in", "budget": 500, "control_share": 0},
                    headers=READ)
    assert r.json()["held_out"] == 0 and r.json()["warning"] == campaign.NO_CONTROL_WARNING


def _outcomes(rows: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Made-up outcomes: the treated churn less than the control group."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rate = np.where(rows["group"] == "treatment", 0.2, 0.45)
    churned = np.where(rng.random(len(rows)) < rate, "Yes", "No")
    accepted = np.where(rows["group"] == "treatment",
                        np.where(rng.random(len(rows)) < 0.5, "Yes", "No"), "")
    return pd.DataFrame({"customerID": rows["customerID"], "churned": churned,
                         "accepted": accepted})


def test_campaign_results_measure_the_uplift_from_json_or_csv(client):
    made = client.post("/v1/campaigns", json={"name": "Measured", "budget": 20000,
                                              "control_share": 0.3}, headers=READ).json()
    cid = made["id"]
    rows = campaign.reopen_campaign(Store(config.paths(client.app.state.settings.data_dir).store),
                                    cid).rows
    out = _outcomes(rows)
    body = {"outcomes": out.assign(accepted=out["accepted"].replace("", None))
            .to_dict("records")}
    r = client.post(f"/v1/campaigns/{cid}/results", json=body, headers=READ)
    assert r.status_code == 200, r.text
    res = r.json()
    g = rows.assign(churned=(out["churned"] == "Yes").to_numpy())
    t = g[g["group"] == "treatment"]["churned"]
    c = g[g["group"] == "control"]["churned"]
    assert res["treatment"]["customers"] == len(t) and res["control"]["customers"] == len(c)
    assert res["uplift"] == pytest.approx(c.mean() - t.mean(), abs=1e-12)
    lo, hi = res["ci95"]
    assert lo < res["uplift"] < hi
    assert {m["label"] for m in res["by_offer"]} == set(rows.loc[rows["group"] == "treatment",
                                                                 "offer"])
    csv = client.post(f"/v1/campaigns/{cid}/results?record=true",
                      content=out.to_csv(index=False).encode(),
                      headers={**READ, "content-type": "text/csv"})
    assert csv.status_code == 200
    assert csv.json()["uplift"] == pytest.approx(res["uplift"], abs=1e-12)
    assert csv.json()["recorded"] == len(rows)
    bad = client.post(f"/v1/campaigns/{cid}/results", content=b"customerID\n1\n",
                      headers={**READ, "content-type": "text/csv"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == ("The file has no churned column: fill in Yes or No for each "
                                    "customer (left within the outcome window) and load it again.")
    r = client.post("/v1/campaigns/9999/results", json=body, headers=READ)
    assert (r.status_code, r.json()) == (404, {"detail": "No campaign with id 9999."})


def test_campaign_errors_have_exact_bodies(client):
    r = client.get("/v1/campaigns/9999", headers=READ)
    assert r.status_code == 404 and r.json() == {"detail": "No campaign with id 9999."}
    r = client.post("/v1/campaigns", json={"name": "x", "budget": 10, "dataset": "nope"},
                    headers=READ)
    assert r.status_code == 404
    assert r.json() == {"detail": 'No saved batch called "nope"; use "sample" or the name of a '
                                  "batch saved on Upload & score."}
    r = client.post("/v1/campaigns", json={"name": "x", "budget": -1}, headers=READ)
    assert r.status_code == 422 and r.json()["errors"] == [
        {"row": None, "column": "budget", "message": "Input should be greater than or equal to 0"}]


# --- models, retrain, metrics ---------------------------------------------------------------------
def test_models_list_and_activate(client, api_dir):
    listed = client.get("/v1/models", headers=READ).json()
    folder = config.paths(api_dir).models_dir
    assert listed["active"] == models.active_version(folder)
    assert [v["version"] for v in listed["versions"]] == \
        [v["version"] for v in models.list_versions(folder)]
    r = client.post(f"/v1/models/{listed['active']}/activate", headers=ADMIN)
    assert r.status_code == 200 and r.json() == {"active": listed["active"]}
    r = client.post("/v1/models/0123456789abcdef/activate", headers=ADMIN)
    assert r.status_code == 404
    assert r.json() == {"detail": f"Unknown model version '0123456789abcdef'; known versions: "
                                  f"{', '.join(v['version'] for v in listed['versions'])}."}


def test_retrain_is_a_job_that_activates_only_when_asked(client, api_dir):
    folder = config.paths(api_dir).models_dir
    before = models.active_version(folder)
    r = client.post("/v1/retrain", json={"dataset": "sample"}, headers=ADMIN)
    assert r.status_code == 202
    job = r.json()
    deadline = time.monotonic() + 300
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.3)
        job = client.get(job["links"]["status"], headers=ADMIN).json()
    assert job["status"] == "done", job
    res = job["result"]
    assert res["previous"] == before and res["activated"] is False
    assert [c["metric"] for c in res["comparison"]] == ["roc_auc", "pr_auc", "brier", "log_loss",
                                                        "lift_at_10", "lift_at_20", "ece"]
    assert models.active_version(folder) == before
    r = client.post("/v1/retrain", json={"dataset": "sample", "activate": "maybe"}, headers=ADMIN)
    assert r.status_code == 422


def test_metrics_count_routes_by_template_rows_and_model(client, customers):
    client.post("/v1/predict", json={"customers": recs(customers, 2)}, headers=READ)
    client.get("/v1/campaigns/424242", headers=READ)
    text = client.get("/v1/metrics", headers=READ).text
    version = engine_of(client).version
    assert f'churn_api_model_info{{family="lr",version="{version}"}} 1.0' in text
    assert 'churn_api_requests_total{method="POST",route="/v1/predict",status="200"}' in text
    assert 'route="/v1/campaigns/{campaign_id}"' in text and "424242" not in text
    assert 'churn_api_rows_scored_total{route="/v1/predict"}' in text
    assert 'churn_api_request_seconds_bucket{le="0.005",method="POST",route="/v1/predict"}' \
        in text


def test_unexpected_errors_answer_500_with_a_reference_and_no_traceback(client, monkeypatch,
                                                                        customers, caplog):
    from churn import predict as P

    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(P, "predict", boom)
    with caplog.at_level("ERROR", logger="churn.api"):
        r = client.post("/v1/predict", json={"customers": recs(customers, 1)}, headers=READ)
    assert r.status_code == 500
    body = r.json()
    ref = body["reference"]
    assert body == {"detail": A.MSG_INTERNAL.format(ref=ref), "reference": ref}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert any(ref in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_openapi_documents_every_customer_field_from_the_schema(client):
    spec = client.get("/openapi.json").json()
    cust = spec["components"]["schemas"]["Customer"]
    assert cust["required"] == schema.REQUIRED_COLUMNS
    for col in schema.COLUMNS:
        field = cust["properties"][col.name]
        assert field["description"].startswith(f"{col.label}. {col.help}")
        if col.kind == "category":
            assert field["enum"] == list(col.values)
    assert "Unit: months." in cust["properties"]["tenure"]["description"]
    assert "Unit: dollars." in cust["properties"]["MonthlyCharges"]["description"]
    paths = set(spec["paths"])
    assert {"/v1/predict", "/v1/explain", "/v1/recommend", "/v1/score", "/v1/campaigns",
            "/v1/campaigns/{campaign_id}", "/v1/models", "/v1/models/{version}/activate",
            "/v1/retrain", "/v1/metrics", "/v1/health/live", "/v1/health/ready",
            "/v1/jobs/{job_id}"} <= paths
    assert json.dumps(spec).count('"High"') >= 1
