"""Benchmarks of the REST API (see bench/_common.py for the contract).

Cases:
- predict_core: `churn.predict.predict` for one customer (validation, probability, drivers, CLV,
  offers), the core call behind ``POST /v1/predict``; p50 and p95 over 200 customers
  (target p95 ≤ 15 ms), and the median CPU time of the call.
- predict_core_settled: the same with the heap settled after the engine loads (`gc.freeze`),
  as the API server does (``api.engine.settle_heap``).
- predict_http: the same over HTTP against a real ``python -m churn api`` process (uvicorn, one
  keep-alive client); p50 and p95 over 200 requests (target p95 ≤ 30 ms).
- predict_concurrent: 20 clients at once, each sending one customer per request, 10 requests
  each; errors (target 0) and p95.
- predict_1000: 1,000 customers in one request over HTTP; median of 5 (target ≤ 1 s).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, main, percentile, result, scratch_dir  # noqa: E402

KEY = "bench-key-0123456789abcdefghijklmnopqrstuvwxyz"


def _records(n: int, start: int = 0) -> list[dict]:
    import pandas as pd

    from churn.config import paths
    from churn.synth import ensure_sample

    p = ensure_sample(paths())
    df = pd.read_csv(p.customers_csv, dtype=str, keep_default_na=False).drop(columns="Churn")
    return df.iloc[start:start + n].to_dict("records")


class _Server:
    """``python -m churn api`` on a free loopback port, ready when entered."""

    def __enter__(self):
        scratch_dir("api")
        from churn.scoring import Engine

        Engine.prepare()  # train the data folder's model here, not inside the server's start
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, CHURN_API_KEY=KEY, CHURN_API_RATE_LIMIT="1000000")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "churn", "api", "--port", str(self.port)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import httpx

        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 600
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("the API process exited")
            try:
                if httpx.get(f"{self.base}/v1/health/ready", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API never became ready")
            time.sleep(0.3)

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def case_predict_core(quick: bool, settle: bool = False) -> list[dict]:
    scratch_dir("api")
    from churn import predict as P
    from churn.scoring import Engine

    engine = Engine.load()
    if settle:
        from api.engine import settle_heap

        settle_heap()
    n = 50 if quick else 200
    records = _records(n + 5)
    for r in records[:5]:
        P.predict(engine, [r])
    times, cpu = [], []
    for r in records[5:]:
        t0, c0 = time.perf_counter(), time.process_time()
        out = P.predict(engine, [r])
        times.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
        assert len(out.results) == 1
    fam = getattr(engine.model, "family", "?")
    if settle:
        return [result("predict_core_settled_p50", percentile(times, 0.5), "ms", None,
                       note=f"heap frozen after the load, as the API server runs, model={fam}"),
                result("predict_core_settled_p95", percentile(times, 0.95), "ms", 15.0,
                       note=f"{n} customers one at a time, heap frozen, model={fam}")]
    return [result("predict_core_cpu_p50", percentile(cpu, 0.5), "ms", None,
                   note="CPU time of the call (all threads): less sensitive to other processes' "
                        "load than wall time"),
            result("predict_core_p50", percentile(times, 0.5), "ms", None, note=f"model={fam}"),
            result("predict_core_p95", percentile(times, 0.95), "ms", 15.0,
                   note=f"{n} customers one at a time, model={fam}")]


def case_predict_http(quick: bool) -> list[dict]:
    import httpx

    n = 50 if quick else 200
    records = _records(n + 5)
    with _Server() as server, httpx.Client(base_url=server.base, timeout=60,
                                           headers={"X-API-Key": KEY}) as http:
        times = []
        for i, r in enumerate(records):
            t0 = time.perf_counter()
            resp = http.post("/v1/predict", json={"customers": [r]})
            if i >= 5:
                times.append(1000 * (time.perf_counter() - t0))
            resp.raise_for_status()
    return [result("predict_http_p50", percentile(times, 0.5), "ms", None),
            result("predict_http_p95", percentile(times, 0.95), "ms", 30.0,
                   note=f"{n} requests, one customer each, keep-alive")]


def case_predict_concurrent(quick: bool) -> list[dict]:
    import httpx

    clients, each = 20, (3 if quick else 10)
    records = _records(clients * each)
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    with _Server() as server:
        start = threading.Barrier(clients)

        def client(k: int) -> None:
            with httpx.Client(base_url=server.base, timeout=120,
                              headers={"X-API-Key": KEY}) as http:
                http.get("/v1/health/live")
                start.wait()
                for j in range(each):
                    t0 = time.perf_counter()
                    try:
                        ok = http.post("/v1/predict", json={
                            "customers": [records[k * each + j]]}).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    ms = 1000 * (time.perf_counter() - t0)
                    with lock:
                        times.append(ms)
                        errors[0] += 0 if ok else 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    total = clients * each
    return [result("predict_concurrent_errors", errors[0], "errors", 0.5,
                   note=f"{clients} clients × {each} requests"),
            result("predict_concurrent_p95", percentile(times, 0.95), "ms", None,
                   note=f"{clients} clients at once, one customer per request"),
            result("predict_concurrent_rps", total / wall, "req/s", None, lower_is_better=False)]


def case_predict_1000(quick: bool) -> list[dict]:
    import httpx

    body = {"customers": _records(1000)}
    with _Server() as server, httpx.Client(base_url=server.base, timeout=120,
                                           headers={"X-API-Key": KEY}) as http:
        http.post("/v1/predict", json=body).raise_for_status()  # warm-up
        times = []
        for _ in range(2 if quick else 5):
            t0 = time.perf_counter()
            resp = http.post("/v1/predict", json=body)
            times.append(time.perf_counter() - t0)
            resp.raise_for_status()
            assert len(resp.json()["results"]) == 1000
    return [result("predict_1000", percentile(times, 0.5), "s", 1.0,
                   note=f"1,000 customers in one request, median of {len(times)}")]


CASES = {
    "predict_core": case_predict_core,
    "predict_core_settled": lambda quick: case_predict_core(quick, settle=True),
    "predict_http": case_predict_http,
    "predict_concurrent": case_predict_concurrent,
    "predict_1000": case_predict_1000,
}

if __name__ == "__main__":
    main(CASES)
