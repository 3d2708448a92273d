"""Keys, scopes, rate limits and body limits: the auth matrix (every route × no key / wrong key /
read key / admin key), a keys file with named keys, job ownership, 429 with Retry-After, 413 for
declared and streamed bodies."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apitest import ADMIN, ADMIN_KEY, READ, READ_KEY, WRONG, make_client  # noqa: E402

from api import app as A  # noqa: E402
from api import security  # noqa: E402
from api.settings import ApiSettings  # noqa: E402
from churn import config, models  # noqa: E402


@pytest.fixture(scope="module")
def one(customers) -> dict:
    return customers.iloc[0].to_dict()


def routes(one: dict, csv: bytes, version: str):
    """(method, path, request kwargs, scope, status for a key that has the scope)."""
    return [
        ("GET", "/v1/models", {}, "read", 200),
        ("GET", "/v1/campaigns", {}, "read", 200),
        ("GET", "/v1/campaigns/987654", {}, "read", 404),
        ("GET", "/v1/jobs/nojob", {}, "read", 404),
        ("GET", "/v1/jobs/nojob/scores", {}, "read", 404),
        ("GET", "/v1/jobs/nojob/rejects", {}, "read", 404),
        ("GET", "/v1/metrics", {}, "read", 200),
        ("POST", "/v1/predict", {"json": {"customers": [one]}}, "score", 200),
        ("POST", "/v1/explain", {"json": {"customer": one}}, "score", 200),
        ("POST", "/v1/recommend", {"json": {"customers": [one]}}, "score", 200),
        ("POST", "/v1/score", {"content": csv, "headers": {"content-type": "text/csv"}},
         "score", 200),
        ("POST", "/v1/campaigns", {"json": {"name": "matrix", "budget": 100}}, "score", 201),
        ("POST", "/v1/campaigns/987654/results", {"json": {"outcomes": [
            {"customerID": "x", "churned": "No"}]}}, "score", 404),
        ("POST", f"/v1/models/{version}/activate", {}, "admin", 200),
        ("POST", "/v1/retrain", {"json": {"dataset": "no-such-batch"}}, "admin", 404),
    ]


def _call(client, method, path, kwargs, key_headers):
    kw = dict(kwargs)
    headers = {**kw.pop("headers", {}), **key_headers}
    return client.request(method, path, headers=headers, **kw)


def test_auth_matrix(client, api_dir, customers, one):
    csv = customers.head(5).to_csv(index=False).encode()
    version = models.active_version(config.paths(api_dir).models_dir)
    table = routes(one, csv, version)
    assert len(table) == 15
    for method, path, kwargs, scope, ok in table:
        route = next(r.path for r in client.app.routes
                     if getattr(r, "path", None) and r.matches({"type": "http", "path": path,
                                                                "method": method})[0].value == 2)
        r = _call(client, method, path, kwargs, {})
        assert (r.status_code, r.json()) == (401, {"detail": A.MSG_NO_KEY}), (method, path)
        assert r.headers["www-authenticate"] == "X-API-Key"
        r = _call(client, method, path, kwargs, WRONG)
        assert (r.status_code, r.json()) == (401, {"detail": A.MSG_BAD_KEY}), (method, path)
        r = _call(client, method, path, kwargs, READ)
        if scope == "admin":
            assert (r.status_code, r.json()) == (403, {"detail": A.MSG_SCOPE.format(
                scope="admin", method=method, route=route)}), (method, path)
        else:
            assert r.status_code == ok, (method, path, r.text)
        r = _call(client, method, path, kwargs, ADMIN)
        assert r.status_code == ok, (method, path, r.text)
    for path in ("/v1/health/live", "/v1/health/ready"):
        for headers in ({}, WRONG, READ, ADMIN):
            assert client.get(path, headers=headers).status_code == 200


def test_keys_file_named_keys_scopes_and_job_ownership(api_dir, customers, tmp_path):
    viewer, scorer = security.new_key(), security.new_key()
    keys = tmp_path / "keys.toml"
    keys.write_text(security.keys_file_entry("dashboard", viewer, ["read"]) +
                    security.keys_file_entry("crm", scorer, ["read", "score"]))
    assert viewer not in keys.read_text()  # only digests are stored
    c = make_client(api_dir, api_key=None, admin_key=ADMIN_KEY, keys_file=keys)
    try:
        assert c.get("/v1/models", headers={"X-API-Key": viewer}).status_code == 200
        r = c.post("/v1/predict", json={"customers": [customers.iloc[0].to_dict()]},
                   headers={"X-API-Key": viewer})
        assert (r.status_code, r.json()) == (403, {"detail": A.MSG_SCOPE.format(
            scope="score", method="POST", route="/v1/predict")})
        assert c.get("/v1/models", headers=READ).status_code == 401  # READ_KEY not configured
        r = c.post("/v1/score", content=customers.head(3).to_csv(index=False).encode(),
                   headers={"X-API-Key": scorer})
        job = r.headers["x-job-id"]
        assert c.get(f"/v1/jobs/{job}", headers={"X-API-Key": scorer}).status_code == 200
        assert c.get(f"/v1/jobs/{job}", headers={"X-API-Key": viewer}).status_code == 404
        assert c.get(f"/v1/jobs/{job}", headers=ADMIN).status_code == 200
    finally:
        c.__exit__(None, None, None)


def test_keys_file_problems_are_named(tmp_path):
    bad = tmp_path / "keys.toml"
    bad.write_text('[keys.crm]\nsha256 = "my-plain-key"\n')
    with pytest.raises(ValueError) as exc:
        A.create_app(ApiSettings(keys_file=bad), load_engine=False)
    assert str(exc.value) == (f"CHURN_API_KEYS_FILE {bad}, key 'crm': sha256 must be 64 hex "
                              "digits (the key's SHA-256), never the key itself.")
    bad.write_text(f'[keys.crm]\nsha256 = "{"a" * 64}"\nscopes = ["write"]\n')
    with pytest.raises(ValueError, match=r"key 'crm': scopes \['write'\] must be a list drawn "
                                         r"from read, score, admin\.$"):
        A.create_app(ApiSettings(keys_file=bad), load_engine=False)


def test_no_key_refuses_to_start_unless_insecure_local(api_dir):
    with pytest.raises(ValueError) as exc:
        A.create_app(ApiSettings(data_dir=api_dir), load_engine=False)
    assert str(exc.value) == ("No API key is configured: set CHURN_API_KEY and CHURN_ADMIN_KEY (or "
                              "CHURN_API_KEYS_FILE), or start with --insecure-local to serve "
                              "127.0.0.1 only without keys.")
    from fastapi.testclient import TestClient

    app = A.create_app(ApiSettings(data_dir=api_dir, insecure_local=True), load_engine=False)
    with TestClient(app) as c:
        assert c.get("/v1/models").status_code == 200


def test_keys_are_kept_only_as_digests_and_compared_in_full():
    ring = security.KeyRing.from_settings(ApiSettings(api_key=READ_KEY, admin_key=ADMIN_KEY))
    assert READ_KEY.encode() not in repr(ring.__dict__).encode()
    assert ring.check(READ_KEY).scopes == frozenset({"read", "score"})
    assert ring.check(ADMIN_KEY).scopes == frozenset({"read", "score", "admin"})
    assert ring.check(READ_KEY[:-1]) is None and ring.check("") is None
    assert ring.check(READ_KEY + "x") is None
    assert security.digest("abc") == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
                                      "f20015ad")


def test_rate_limiter_refills_at_its_rate():
    now = [100.0]
    rl = security.RateLimiter(60, clock=lambda: now[0])
    assert [rl.take("a") for _ in range(60)] == [0] * 60
    assert rl.take("a") == 1 and rl.take("b") == 0
    now[0] += 0.5
    assert rl.take("a") == 1
    now[0] += 0.5
    assert rl.take("a") == 0
    slow = security.RateLimiter(3, clock=lambda: now[0])
    assert [slow.take("x") for _ in range(3)] == [0, 0, 0]
    assert slow.take("x") == 20


def test_rate_limit_answers_429_with_retry_after_per_key(api_dir):
    c = make_client(api_dir, rate_per_minute=3)
    try:
        assert [c.get("/v1/models", headers=READ).status_code for _ in range(3)] == [200] * 3
        r = c.get("/v1/models", headers=READ)
        assert r.status_code == 429
        wait = int(r.headers["retry-after"])
        assert 1 <= wait <= 20
        assert r.json() == {"detail": A.MSG_RATE.format(rate=3, wait=wait)}
        assert c.get("/v1/models", headers=ADMIN).status_code == 200  # its own allowance
        assert c.get("/v1/health/live").status_code == 200             # health is never limited
    finally:
        c.__exit__(None, None, None)


def test_bodies_over_the_limit_get_413_declared_or_streamed(api_dir, customers):
    c = make_client(api_dir, max_body_bytes=2000, max_upload_bytes=5000)
    try:
        big = {"customers": customers.head(20).to_dict("records")}
        r = c.post("/v1/predict", json=big, headers=READ)
        assert (r.status_code, r.json()) == (413, {"detail": "The request body is larger than "
                                                             "the limit of 2,000 bytes."})
        import json as _json

        data = _json.dumps(big).encode()

        def chunks():  # no Content-Length: the streamed size is checked
            for i in range(0, len(data), 500):
                yield data[i:i + 500]

        r = c.post("/v1/predict", content=chunks(), headers={**READ,
                                                             "content-type": "application/json"})
        assert (r.status_code, r.json()) == (413, {"detail": "The request body is larger than "
                                                             "the limit of 2,000 bytes."})
        csv = customers.head(100).to_csv(index=False).encode()
        r = c.post("/v1/score", content=csv, headers=READ)
        assert (r.status_code, r.json()) == (413, {"detail": "The request body is larger than "
                                                             "the limit of 5,000 bytes."})
        r = c.post("/v1/score", content=(csv[i:i + 1000] for i in range(0, len(csv), 1000)),
                   headers=READ)
        assert (r.status_code, r.json()) == (413, {"detail": "The request body is larger than "
                                                             "the limit of 5,000 bytes."})
        assert list(c.app.state.jobs.root.iterdir()) == []  # the partial upload was removed
        small = {"customers": customers.head(1).to_dict("records")}
        assert c.post("/v1/predict", json=small, headers=READ).status_code == 200
    finally:
        c.__exit__(None, None, None)
