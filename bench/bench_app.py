"""Benchmarks of the Streamlit app's speed (see bench/_common.py for the contract).

Cases
- ``cold_start``: a fresh, empty data folder (``CHURN_DATA_DIR``); a new server process
  (``python -m streamlit run app.py --server.headless true ...``) and a real browser (Debian's
  Chromium driven by Playwright). The app does not train by itself: a first visitor sees the
  Overview with the data's figures, presses "Train the churn models now" on the Model report
  page, and comes back to the Overview. The figure is the time from starting the server to the
  Overview rendered with all eight KPI cards (data and model), i.e. sample generation, training
  every model family, fitting the survival model and the recommender, and scoring the sample
  (target 90 s). Also reported: server healthy, first Overview (no model yet), training.
- ``warm_start``: the same data folder (models cached on disk), a new server process: time from
  starting the server to the rendered Overview with its eight KPI cards (target 5 s).
- ``pages_100k``: a data folder with a trained model and 100,000 generated customers
  (``synth.generate_customers(100_000, 7)``) saved to the store as an upload batch and chosen in
  the sidebar's data-set picker; every page through ``streamlit.testing.v1.AppTest`` (in this
  process, so what is timed is the server side: running the page script and building every
  element, including the Arrow tables and Plotly JSON sent to the browser). Per page: the first
  render (caches cold for that page: information only) and the warm render (median of
  ``WARM_RUNS`` reruns; target 3 s). ``--quick`` uses 20,000 customers.

The what-if page's rerun time (``whatif_page_rerun``) is measured by bench/bench_explain.py.

"Rendered" in the browser means: ``[data-testid="stApp"][data-test-script-state="notRunning"]``,
no ``stSkeleton`` left, and the expected number of ``stMetric`` cards on the page. When Chromium
or Playwright is missing, the start cases fall back to AppTest timing in a new Python process
(the note of each figure says which was used).

Run: ``python bench/bench_app.py CASE [--quick]``. Folders: bench/results/app/ (``cold/`` is
rebuilt by every cold_start run; ``warm_start`` prepares it when missing; ``pages/`` holds the
100k batch).
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

    def __init__(self, data_dir: Path, log: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "CHURN_DATA_DIR": str(data_dir)}
        self._out = open(log, "w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT)

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


def case_warm_start(quick: bool) -> list[dict]:
    data_dir = _app_dir() / "cold"
    prepare_dir(data_dir)
    if not browser_available():
        return _apptest_start(data_dir, cold=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw)  # started before the server: not part of the app's start
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            with Server(data_dir, _app_dir() / "warm_server.log") as srv:
                healthy = srv.wait_healthy()
                page.goto(srv.base + "/")
                wait_rendered(page, KPI_WITH_MODEL, 120, "Overview")
                total = time.perf_counter() - srv.started
                t0 = time.perf_counter()  # a second visitor: every cache is warm
                page.goto(srv.base + "/")
                wait_rendered(page, KPI_WITH_MODEL, 120, "Overview")
                second = time.perf_counter() - t0
        finally:
            browser.close()
    how = "server process + Chromium/Playwright"
    return [result("warm_start", total, "s", TARGET_WARM_S,
                   note=f"{how}: models cached on disk, new server -> Overview with 8 KPI cards"),
            result("warm_start_healthy", healthy, "s", None, note=how),
            result("warm_start_reload", second, "s", None,
                   note=f"{how}: a page reload once the server is warm")]


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
                          note=f"{rows:,} saved customers, Chromium, first visit"))
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
