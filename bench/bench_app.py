"""Benchmarks of the Streamlit app's speed (see bench/_common.py for the contract).

Every server is ``python -m streamlit run app.py --server.headless true --server.address
127.0.0.1 --server.port <free port> --browser.gatherUsageStats false --server.fileWatcherType
none`` and the browser is Debian's Chromium driven by Playwright. Times start just before the
server process is launched. "Rendered" means: ``[data-testid="stApp"]
[data-test-script-state="notRunning"]``, no ``stSkeleton`` left, the page's title, and the
expected number of ``stMetric`` cards (the Overview: 4 data cards + 4 model cards); for page
visits also every Plotly chart drawn. When Chromium or Playwright is missing, the start cases
fall back to AppTest in a new Python process (the note says so).

Cases
- ``cold_start``: an empty data folder (``CHURN_DATA_DIR``). The first visitor's Overview
  generates the sample, trains the churn models (progress bar), fits the survival model and the
  recommender, scores the sample and shows all eight cards: time from launching the server to
  that (target 90 s). Also: server healthy, and the four data cards (shown before training).
- ``warm_start``: the same folder (models, and the scores, on disk), new server processes on one
  port. ``warm_start`` (target 5 s): launch to rendered Overview in a browser that opened the app
  before, so Streamlit's static files come from its HTTP cache (a returning user after a
  restart). ``warm_start_new_browser``: the same with an empty browser cache (downloading and
  compiling Streamlit's frontend comes on top; no target). ``empty_app_start``: the floor, a
  Streamlit app with nothing but a title, eight cards and two small charts, measured the same
  way. ``warm_start_reload``: reloading the page once the server is warm.
- ``pages_100k``: a data folder with a trained model and 100,000 generated customers
  (``synth.generate_customers(100_000, 7)``) saved to the store as an upload batch and chosen in
  the sidebar's data-set picker (``sidebar.dataset``), every page through
  ``streamlit.testing.v1.AppTest`` in this process (the server side: running the page script and
  building every element, including the Arrow tables and Plotly JSON sent to the browser). The
  disk cache (``churn.cache.results``) is emptied first. Per page: the first render (information:
  the Overview's includes scoring the 100,000 customers) and the warm render (median of
  ``WARM_RUNS`` reruns; target 3 s).
- ``pages_100k_browser``: the same folder end to end in Chromium: the saved batch chosen in the
  sidebar, then every page opened from the sidebar menu (first visit, then two more visits with
  warm caches, median; target 3 s). Time from the click to the page idle with its charts drawn.
``--quick`` uses 20,000 customers for the page cases; the runner's quick mode leaves cold_start
out (`QUICK_SKIP`).

The what-if page's rerun time (``whatif_page_rerun``) is measured by bench/bench_explain.py.

Run: ``python bench/bench_app.py CASE [--quick]``. Folders under bench/results/app/: ``cold/``
(rebuilt by every cold_start run; warm_start prepares it when missing), ``pages_<rows>/`` (the
saved batch; its model is copied from ``cold/`` when that one is ready), server logs.
"""
from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, main, result, scratch_dir  # noqa: E402

#: Cases `python -m churn bench --quick` leaves out (training takes over a minute).
QUICK_SKIP = {"cold_start"}

TARGET_COLD_S = 90.0
TARGET_WARM_S = 5.0
TARGET_PAGE_S = 3.0
WARM_RUNS = 3
BATCH_ROWS = 100_000
QUICK_BATCH_ROWS = 20_000
BATCH_SEED = 7
BATCH_NAME = "bench 100k"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
KPI_WITH_MODEL = 8       # Overview: 4 data cards + 4 model cards
KPI_WITHOUT_MODEL = 4


def _app_dir() -> Path:
    return scratch_dir("app")


# --- a server process ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` on a free loopback port with CHURN_DATA_DIR=data_dir.

    `started` is the perf_counter time just before the process was launched; `close()`
    terminates the process by its own handle and waits for it."""

    def __init__(self, data_dir: Path | None, log: Path, *, port: int | None = None,
                 app_dir: Path = ROOT):
        self.port = port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = dict(os.environ)
        if data_dir is not None:
            env["CHURN_DATA_DIR"] = str(data_dir)
        self._out = open(log, "w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=app_dir, env=env, stdout=self._out, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 60.0) -> float:
        """Seconds from launch until /_stcore/health answers ok."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with status {self.proc.returncode}; "
                                   f"see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.base}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return time.perf_counter() - self.started
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit was not healthy within {timeout:.0f} s; "
                                   f"see {self.log}")
            time.sleep(0.05)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- the browser --------------------------------------------------------------------------------
def browser_available() -> bool:
    """True when Debian's Chromium and Playwright for Python are both installed."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def _launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_rendered(page, metrics: int, timeout_s: float, title: str | None = None, *,
                  idle: bool = True) -> None:
    """Wait until the app is idle, nothing is loading, and at least `metrics` metric cards (and
    the page title `title`, when given) are on the page; fail on an app error. idle=False: only
    the cards and the title (the script may still be running, e.g. training)."""
    page.wait_for_function(
        """([idle, metrics, title]) => {
             if (document.querySelector('[data-testid="stException"]')) return true;
             if (idle && !document.querySelector(idle)) return false;
             if (idle && document.querySelector('[data-testid="stSkeleton"]')) return false;
             if (title) {
               const h = [...document.querySelectorAll('h1')].map(e => e.innerText.trim());
               if (!h.some(t => t.startsWith(title))) return false;
             }
             return document.querySelectorAll('[data-testid="stMetric"]').length >= metrics;
           }""",
        arg=[IDLE if idle else None, metrics, title], timeout=timeout_s * 1000, polling=50)
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise RuntimeError(f"the app shows an error: {errors.first.inner_text()[:500]}")


# --- data folders -------------------------------------------------------------------------------
def _prepared(data_dir: Path) -> bool:
    from churn import config
    from churn.scoring import Engine

    return Engine.is_prepared(config.paths(data_dir))


def prepare_dir(data_dir: Path) -> None:
    """Make `data_dir` hold the sample, an active model and the fitted parts. Copies the sample
    and models of the cold-start folder when that one is ready (saves training again), then
    `Engine.prepare` (a no-op when everything is cached; trains otherwise)."""
    from churn import config
    from churn.scoring import Engine

    cold = _app_dir() / "cold"
    if not _prepared(data_dir) and data_dir != cold and _prepared(cold):
        src, dst = config.paths(cold), config.paths(data_dir)
        for a, b in ((src.sample_dir, dst.sample_dir), (src.models_dir, dst.models_dir)):
            if b.exists():
                shutil.rmtree(b)
            shutil.copytree(a, b)
    Engine.prepare(config.paths(data_dir))


# --- cases: start-up ----------------------------------------------------------------------------
def case_cold_start(quick: bool) -> list[dict]:
    data_dir = _app_dir() / "cold"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    if not browser_available():
        return _apptest_start(data_dir, cold=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw)  # started before the server: not part of the app's start
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            with Server(data_dir, _app_dir() / "cold_server.log") as srv:
                healthy = srv.wait_healthy()
                page.goto(srv.base + "/")
                wait_rendered(page, KPI_WITHOUT_MODEL, 300, "Overview", idle=False)
                first = time.perf_counter() - srv.started
                wait_rendered(page, KPI_WITH_MODEL, 900, "Overview")
                total = time.perf_counter() - srv.started
        finally:
            browser.close()
    how = "server process + Chromium/Playwright"
    return [result("cold_start", total, "s", TARGET_COLD_S,
                   note=f"{how}: empty data folder -> Overview with 8 KPI cards (the first "
                        "start generates the sample, trains the models, scores the sample)"),
            result("cold_start_healthy", healthy, "s", None, note=how),
            result("cold_start_data_cards", first, "s", None,
                   note=f"{how}: the Overview's 4 data cards (before training)")]


#: A Streamlit app with nothing behind it: a title, eight metric cards and two small Plotly
#: charts, like the Overview. Its start is the floor no change to this app can go below.
EMPTY_APP = """import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(layout="wide")
st.title("Overview")
cols = st.columns(4)
for i in range(8):
    cols[i % 4].metric(f"Card {i}", i, border=True)
st.plotly_chart(go.Figure(go.Scatter(x=np.arange(100), y=np.sin(np.arange(100) / 9))))
st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 2, 3])))
"""


def _start_twice(browser, data_dir, log_name: str, app_dir: Path = ROOT) -> tuple:
    """Start a server, open "/" in a new browser context and wait for the Overview's eight
    cards; stop it and start a new server on the same port, then open "/" again in the same
    context (its HTTP cache now holds Streamlit's static files). Returns (seconds from launch
    to rendered with an empty browser cache, the same with the cache, seconds until healthy on
    the second start, seconds for a reload on the warm second server)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    port = _free_port()
    try:
        times = []
        for run in range(2):
            with Server(data_dir, _app_dir() / f"{log_name}{run}.log", port=port,
                        app_dir=app_dir) as srv:
                healthy = srv.wait_healthy()
                page.goto(srv.base + "/")
                wait_rendered(page, KPI_WITH_MODEL, 300, "Overview")
                times.append(time.perf_counter() - srv.started)
                if run == 1:
                    t0 = time.perf_counter()
                    page.reload()
                    wait_rendered(page, KPI_WITH_MODEL, 120, "Overview")
                    reload = time.perf_counter() - t0
    finally:
        context.close()
    return times[0], times[1], healthy, reload


def case_warm_start(quick: bool) -> list[dict]:
    data_dir = _app_dir() / "cold"
    prepare_dir(data_dir)
    if not browser_available():
        return _apptest_start(data_dir, cold=False)
    from playwright.sync_api import sync_playwright

    empty = _app_dir() / "empty_app"
    empty.mkdir(exist_ok=True)
    (empty / "app.py").write_text(EMPTY_APP)
    with sync_playwright() as pw:
        browser = _launch(pw)  # started before the servers: not part of the app's start
        try:
            new, returning, healthy, reload = _start_twice(browser, data_dir, "warm_server")
            e_new, e_returning, _, _ = _start_twice(browser, None, "empty_server", empty)
        finally:
            browser.close()
    how = "server process + Chromium/Playwright"
    return [result("warm_start", returning, "s", TARGET_WARM_S,
                   note=f"{how}: models (and scores) cached on disk, new server process -> "
                        "Overview with 8 KPI cards, in a browser that opened the app before "
                        "(Streamlit's static files in its HTTP cache)"),
            result("warm_start_new_browser", new, "s", None,
                   note=f"{how}: the same with an empty browser cache (downloads and compiles "
                        f"Streamlit's frontend; an empty app takes {e_new:.1f} s so)"),
            result("warm_start_healthy", healthy, "s", None, note=how),
            result("warm_start_reload", reload, "s", None,
                   note=f"{how}: a page reload once the server is warm"),
            result("empty_app_start", e_returning, "s", None,
                   note=f"{how}: the floor, an app with only 8 cards and 2 charts, returning "
                        f"browser (empty browser cache: {e_new:.2f} s)")]


_APPTEST_START = r"""
import sys, time
t0 = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=900)
at.run()
assert not at.exception, [e.value for e in at.exception]
assert len(at.metric) >= 8, len(at.metric)
print(time.perf_counter() - t0)
"""


def _apptest_start(data_dir: Path, cold: bool) -> list[dict]:
    """Fallback without a browser: a new Python process runs the app with AppTest."""
    env = {**os.environ, "CHURN_DATA_DIR": str(data_dir)}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _APPTEST_START.format(cold=cold),
                          str(ROOT / "app.py")], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    total = time.perf_counter() - t0
    note = "AppTest in a new Python process (no browser available)"
    if cold:
        return [result("cold_start", total, "s", TARGET_COLD_S, note=note)]
    return [result("warm_start", total, "s", TARGET_WARM_S, note=note),
            result("warm_start_script", float(out.stdout.strip().splitlines()[-1]), "s", None,
                   note=note + ": after the interpreter started")]


# --- case: every page on a saved batch of 100,000 customers --------------------------------------
def prepare_pages_dir(rows: int) -> Path:
    """A data folder with a trained model and `rows` generated customers saved as an upload
    batch named BATCH_NAME (saved again only when the row count differs)."""
    from churn import config, synth
    from churn.store import Store

    data_dir = _app_dir() / f"pages_{rows}"
    prepare_dir(data_dir)
    store = Store(config.paths(data_dir).store)
    try:
        found = store.list_batches()
        hit = found[found["name"] == BATCH_NAME]
        if hit.empty or int(hit["valid_rows"].iloc[0]) != rows:
            df = synth.generate_customers(rows, BATCH_SEED)
            store.save_batch(BATCH_NAME, df, kind="upload", source="bench_app.py")
    finally:
        close = getattr(store, "close", None)
        if close:
            close()
    return data_dir


def _run_timed(at) -> float:
    t0 = time.perf_counter()
    at.run()
    secs = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"the page failed: {[e.value for e in at.exception]}")
    if at.error:
        raise RuntimeError(f"the page shows an error: {[e.value for e in at.error]}")
    return secs


def case_pages_100k(quick: bool) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    from ui.navigation import PAGES
    from ui.sidebar import DATASET_KEY

    rows = QUICK_BATCH_ROWS if quick else BATCH_ROWS
    data_dir = prepare_pages_dir(rows)
    os.environ["CHURN_DATA_DIR"] = str(data_dir)
    from churn import cache

    cache.results().clear()  # "first" means computed from scratch, not read from an earlier run
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    _run_timed(at)  # the Overview on the sample: imports and the engine
    key = f"saved:{BATCH_NAME}"
    at.sidebar.selectbox(key=DATASET_KEY).select(key)
    first_overview = _run_timed(at)
    if at.sidebar.selectbox(key=DATASET_KEY).value != key:
        raise RuntimeError("the saved batch could not be chosen in the sidebar")
    out = []
    for spec in PAGES:
        if spec.default:
            first = first_overview
        else:
            at.switch_page(spec.file)
            first = _run_timed(at)
        warm = [_run_timed(at) for _ in range(WARM_RUNS)]
        name = spec.url_path.replace("-", "_")
        out.append(result(f"page_{name}_first", first, "s", None,
                          note=f"{rows:,} saved customers, AppTest, caches cold for this page"))
        out.append(result(f"page_{name}_warm", statistics.median(warm), "s", TARGET_PAGE_S,
                          note=f"{rows:,} saved customers, AppTest, median of {WARM_RUNS} "
                               f"reruns: {', '.join(f'{w:.2f}' for w in warm)} s"))
    return out


def wait_page(page, title: str, timeout_s: float) -> None:
    """After a navigation: wait for the page's title, then for the app to be idle with every
    Plotly chart drawn; fail on an app error."""
    page.wait_for_function(
        """([idle, title]) => {
             if (document.querySelector('[data-testid="stException"]')) return true;
             const h = [...document.querySelectorAll('h1')].map(e => e.innerText.trim());
             if (!h.some(t => t.startsWith(title))) return false;
             if (!document.querySelector(idle)) return false;
             if (document.querySelector('[data-testid="stSkeleton"]')) return false;
             const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
             return charts.every(c => c.querySelector('.main-svg'));
           }""",
        arg=[IDLE, title], timeout=timeout_s * 1000, polling=50)
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise RuntimeError(f"{title}: the app shows an error: {errors.first.inner_text()[:500]}")


def case_pages_100k_browser(quick: bool) -> list[dict]:
    """The pages_100k figures end to end in Chromium: a server on the 100k folder, the saved
    batch chosen in the sidebar, then every page opened from the sidebar menu twice (first
    visit, then a second visit with warm caches); time from the click to the page idle with its
    charts drawn."""
    from playwright.sync_api import sync_playwright

    from ui.navigation import PAGES

    rows = QUICK_BATCH_ROWS if quick else BATCH_ROWS
    data_dir = prepare_pages_dir(rows)
    on_disk = any((data_dir / "cache").glob("scored-*.pkl"))
    first_note = ("first visit in a new server process, "
                  + ("scorings on disk from an earlier run" if on_disk else
                     "nothing cached on disk yet"))
    out = []
    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            with Server(data_dir, _app_dir() / "pages_server.log") as srv:
                srv.wait_healthy()
                page.goto(srv.base + "/")
                wait_page(page, "Overview", 300)
                sidebar = page.get_by_test_id("stSidebar")
                sidebar.get_by_test_id("stSelectbox").click()
                t0 = time.perf_counter()
                page.get_by_role("option", name=f"{BATCH_NAME} (saved").click()
                page.wait_for_function(
                    """(rows) => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
                                   .some(e => e.innerText.trim() === rows)""",
                    arg=f"{rows:,}", timeout=600_000)
                wait_page(page, "Overview", 600)
                firsts = {"Overview": time.perf_counter() - t0}
                warms = {}
                nav = page.get_by_test_id("stSidebarNav")
                for visit in (1, 2, 3):
                    for spec in PAGES[1:] + PAGES[:1]:
                        if visit == 1 and spec.default:
                            continue
                        t0 = time.perf_counter()
                        nav.get_by_role("link", name=spec.title).click()
                        wait_page(page, spec.title, 600)
                        secs = time.perf_counter() - t0
                        if visit == 1:
                            firsts[spec.title] = secs
                        else:
                            warms.setdefault(spec.title, []).append(secs)
        finally:
            browser.close()
    for spec in PAGES:
        name = spec.url_path.replace("-", "_")
        w = warms[spec.title]
        out.append(result(f"browser_{name}_first", firsts[spec.title], "s", None,
                          note=f"{rows:,} saved customers, Chromium, {first_note}"))
        out.append(result(f"browser_{name}_warm", statistics.median(w), "s", TARGET_PAGE_S,
                          note=f"{rows:,} saved customers, Chromium, median of {len(w)} later "
                               f"visits: {', '.join(f'{x:.2f}' for x in w)} s"))
    return out


CASES = {
    "cold_start": case_cold_start,
    "warm_start": case_warm_start,
    "pages_100k": case_pages_100k,
    "pages_100k_browser": case_pages_100k_browser,
}

if __name__ == "__main__":
    main(CASES)
