"""After an AppTest, worker processes still start: Streamlit's script runner installs the page
script as ``sys.modules["__main__"]`` and leaves it there, and a forkserver or spawn child
re-runs ``__main__`` on start-up. ``conftest.real_main_module`` puts it back after each test;
without it, ``churn.batch``'s worker pool broke in whichever pytest worker had run a function
script first ("NameError: name '__args' is not defined", then BrokenPipeError). The two tests
run in this order (one file stays on one worker)."""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from streamlit.testing.v1 import AppTest

MAIN = sys.modules["__main__"]


def _script():
    import streamlit as st

    st.write("a function script")


def test_an_apptest_function_script_runs():
    at = AppTest.from_function(_script, default_timeout=30).run()
    assert not at.exception
    assert at.markdown[0].value == "a function script"


def test_a_forkserver_pool_starts_after_it():
    assert sys.modules["__main__"] is MAIN
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(1, mp_context=mp.get_context(method)) as pool:
        assert pool.submit(os.getpid).result(timeout=60) != os.getpid()
