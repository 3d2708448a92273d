"""The scoring routes compute at most ``scoring_threads`` requests at once (the others wait
their turn), in worker threads: the event loop keeps answering meanwhile."""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time

import httpx
import pytest

from api.app import create_app
from api.settings import ApiSettings
from churn import predict as P

KEY = "concurrency-key-0123456789abcdefghijklmnopqrstuvwxyz"


class _Engine:
    version = "test-1"


def _app(threads: int):
    app = create_app(ApiSettings(api_key=KEY, rate_per_minute=100_000,
                                 scoring_threads=threads), load_engine=False)
    app.state.engine._engine = _Engine()
    return app


def _run(app, monkeypatch, n: int = 6) -> tuple[int, list[int], set]:
    state = {"now": 0, "max": 0, "first_done": None}
    lock = threading.Lock()
    threads: set = set()

    def slow_predict(engine, records, settings, **kw):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            threads.add(threading.get_ident())
        time.sleep(0.4)
        with lock:
            state["now"] -= 1
            state["first_done"] = state["first_done"] or time.perf_counter()
        return P.Prediction(engine.version, [{"row": 0, "customerID": records[0]["customerID"]}],
                            [], [])

    monkeypatch.setattr(P, "predict", slow_predict)

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            async def one(i):
                return await client.post("/v1/predict", headers={"X-API-Key": KEY},
                                         json={"customers": [{"customerID": f"000{i}-AAAAA"}]})

            async def live():   # answered while the scoring requests wait or compute
                await asyncio.sleep(0.05)
                r = await client.get("/v1/health/live")
                return r.status_code, time.perf_counter()

            return await asyncio.gather(live(), *(one(i) for i in range(n)))

    # A loop of its own in a thread of its own: the test does not depend on whether something
    # else left an event loop running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        (live_status, live_at), *answers = pool.submit(asyncio.run, go()).result()
    # health came back before any scoring request had finished (not queued behind them); a
    # relative check, so a loaded machine does not fail it
    assert live_status == 200 and live_at < state["first_done"]
    assert [r.json()["results"][0]["customerID"] for r in answers] == \
        [f"000{i}-AAAAA" for i in range(n)]
    return state["max"], [r.status_code for r in answers], threads


@pytest.mark.parametrize("threads", [1, 3])
def test_scoring_requests_run_at_most_scoring_threads_at_once(monkeypatch, threads):
    most, statuses, used = _run(_app(threads), monkeypatch)
    assert statuses == [200] * 6
    assert most == threads
    assert threading.get_ident() not in used       # never on the event loop's thread


def test_scoring_threads_setting_comes_from_the_environment():
    assert ApiSettings.from_env({"CHURN_API_SCORING_THREADS": "3"}).scoring_threads == 3
    with pytest.raises(ValueError) as err:
        ApiSettings.from_env({"CHURN_API_SCORING_THREADS": "0"})
    assert str(err.value) == "CHURN_API_SCORING_THREADS='0' must be more than 0.5."
