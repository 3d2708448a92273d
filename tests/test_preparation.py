"""churn.preparation: the first start runs once per data folder, in the background, shared."""
from __future__ import annotations

import threading

import pytest

from churn import config
from churn.preparation import SharedPreparation
from churn.scoring import Engine


@pytest.fixture()
def fake_prepare(monkeypatch):
    """Engine.prepare replaced by a step we control: records calls, reports progress, then waits
    for `release` (or raises what `fail` holds)."""
    calls, release, fail = [], threading.Event(), []

    def prepare(cls, paths=None, progress=None):
        calls.append(paths)
        progress(0.4, "Training model 2 of 4 (Random forest) — about 40 s left")
        assert release.wait(10)
        if fail:
            raise fail.pop()

    monkeypatch.setattr(Engine, "prepare", classmethod(prepare))
    monkeypatch.setattr(SharedPreparation, "_jobs", {})
    return calls, release, fail


def test_every_caller_gets_the_same_job_and_its_progress(fake_prepare, tmp_path):
    calls, release, _ = fake_prepare
    p = config.paths(tmp_path)
    first = SharedPreparation.start(p)
    second = SharedPreparation.start(config.paths(tmp_path))   # another page or session
    assert second is first
    seen = []
    waiter = threading.Thread(target=lambda: first.wait(lambda f, m: seen.append((f, m)),
                                                        poll=0.01))
    waiter.start()
    for _ in range(200):
        if seen:
            break
        threading.Event().wait(0.01)
    assert seen[-1] == (0.4, "Training model 2 of 4 (Random forest) — about 40 s left")
    release.set()
    waiter.join(10)
    assert first.done.is_set() and first.error is None
    assert len(calls) == 1                                      # trained once
    assert SharedPreparation.start(p) is first                  # finished: not started again
    SharedPreparation.forget(p)
    assert SharedPreparation.start(p) is not first


def test_a_failed_job_raises_for_its_callers_and_the_next_start_retries(fake_prepare, tmp_path):
    calls, release, fail = fake_prepare
    p = config.paths(tmp_path)
    fail.append(ValueError("Churn has 0 churners"))
    job = SharedPreparation.start(p)
    release.set()
    with pytest.raises(ValueError, match="^Churn has 0 churners$"):
        job.wait(poll=0.01)
    again = SharedPreparation.start(p)
    assert again is not job
    again.wait(poll=0.01)
    assert again.error is None and len(calls) == 2
