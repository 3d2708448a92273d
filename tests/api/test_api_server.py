"""The API as it really runs: `python -m churn api` (uvicorn) on a free loopback port, driven over
HTTP; and its refusal to start without a key."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apitest import ADMIN_KEY, READ, READ_KEY  # noqa: E402
from _servers import free_port, serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _own_address() -> str:
    """This machine's non-loopback address (a UDP socket's local end; nothing is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CHURN_API_KEY", "CHURN_ADMIN_KEY", "CHURN_API_KEYS_FILE")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def server(api_dir, tmp_path_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serve(["-m", "churn", "--data-dir", str(api_dir), "api", "--host", "127.0.0.1",
                "--port", str(port)], ready_url=f"{base}/v1/health/ready",
               env=_env(CHURN_API_KEY=READ_KEY, CHURN_ADMIN_KEY=ADMIN_KEY),
               log=tmp_path_factory.mktemp("api-server") / "server.log"):
        yield base


def test_real_server_scores_checks_keys_and_counts(server, customers):
    one = customers.iloc[0].to_dict()
    with httpx.Client(base_url=server, timeout=60) as http:
        assert http.get("/v1/health/live").json() == {"status": "live"}
        r = http.post("/v1/predict", json={"customers": [one]}, headers=READ)
        assert r.status_code == 200
        assert r.json()["results"][0]["customerID"] == one["customerID"]
        assert "server" not in r.headers
        assert http.post("/v1/predict", json={"customers": [one]}).status_code == 401
        metrics = http.get("/v1/metrics", headers=READ).text
        assert 'churn_api_requests_total{method="POST",route="/v1/predict",status="200"} 1.0' \
            in metrics
        assert 'churn_api_requests_total{method="POST",route="/v1/predict",status="401"} 1.0' \
            in metrics


def test_without_a_key_the_server_refuses_to_start(api_dir):
    done = subprocess.run([sys.executable, "-m", "churn", "--data-dir", str(api_dir), "api",
                           "--port", str(free_port())], cwd=ROOT, capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "api: No API key is configured: set CHURN_API_KEY and CHURN_ADMIN_KEY (or "
        "CHURN_API_KEYS_FILE), or start with --insecure-local to serve 127.0.0.1 only without "
        "keys.")


def test_new_key_prints_a_key_and_its_digest_entry():
    from api.security import digest

    done = subprocess.run([sys.executable, "-m", "churn", "api", "--new-key", "crm",
                           "--scopes", "read,score"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    key = lines[1].strip()
    assert len(key) == 43
    assert f'[keys.crm]\nsha256 = "{digest(key)}"\nscopes = ["read", "score"]' in done.stdout


def test_insecure_local_serves_loopback_only_without_keys(api_dir):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "churn", "--data-dir", str(api_dir), "api", "--host", "0.0.0.0",
         "--port", str(port), "--insecure-local"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=_env())
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health/live", timeout=2).status_code \
                        == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API never answered"
            time.sleep(0.3)
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10).status_code == 200
        own = _own_address()  # bound to loopback: the machine's other address is refused
        if own != "127.0.0.1":
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://{own}:{port}/v1/health/live", timeout=5)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "api: --insecure-local serves 127.0.0.1 only (not 0.0.0.0)." in err.decode()
    assert "api: no API key configured: every request is accepted (local use only)." \
        in err.decode()
