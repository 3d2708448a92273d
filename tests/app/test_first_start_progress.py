"""The first-start progress (`ui.context.prepared`) is never drawn inside a cached function.

`context.scored` is cached (`st.cache_resource`) and needs the engine. When the engine's parts
must be fitted again (new data, new code, a changed catalogue), the progress and the style that
hides Streamlit's Stop button were drawn inside the cached call; Streamlit replays what a cached
call drew on every later hit and cannot replay elements drawn on placeholders, so every page
said "Something went wrong" from then on. `scored` now prepares before the cached call.
"""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from churn import models, preparation
from churn.scoring import Engine, Scored
from ui import context


class _Job:
    fraction, message = 0.5, "Fitting the lifetime-value model"

    def wait(self, progress):
        progress(1.0, "Ready")


class _Engine:
    version = "v1"

    def score_all(self, frame, settings, **kwargs):
        return Scored(table=frame.assign(churn_prob=0.5), explanation=None, ranked=None)


def _script():
    import pandas as pd
    import streamlit as st

    from ui import context

    table = context.scored(pd.DataFrame({"customerID": ["a", "b"]})).table
    st.write(f"scored {len(table)} at {table['churn_prob'].iloc[0]}")


def test_a_first_start_inside_the_scoring_replays_cleanly(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(models, "active_version", lambda folder: "v1")
    monkeypatch.setattr(Engine, "is_prepared", classmethod(lambda cls, p=None: False))
    monkeypatch.setattr(preparation.SharedPreparation, "start", classmethod(lambda cls, p: _Job()))
    monkeypatch.setattr(preparation.SharedPreparation, "forget", classmethod(lambda cls, p: None))
    monkeypatch.setattr(context, "_engine", lambda *args: _Engine())
    for run in range(3):  # the first run prepares; the later ones hit the cache (replay)
        monkeypatch.setattr(context, "_PREPARED", set())  # as if the parts went stale again
        at = AppTest.from_function(_script, default_timeout=60).run()
        assert not at.exception, (run, [e.value for e in at.exception])
        assert [m.value for m in at.markdown][-1] == "scored 2 at 0.5", run
    assert context.HIDE_STOP == '[data-testid="stStatusWidget"] button { display: none; }'
