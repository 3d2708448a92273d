"""Benchmarks of the app with a saved batch of 1,000,000 active customers (Chromium).

Set-up (cached under bench/results/app_1m/, built once): a data folder with the benchmark
model (copied from bench/results/data, trained there once when missing), 1,000,000 generated
customers (``synth.generate_customers(1_000_000, 11)`` without the Churn column: active
customers) saved to the store as the upload batch ``BATCH_NAME``, their customer list
(scored once with ``churn.batch.score_file``, two worker processes) saved in the store's
``scores`` table under the key the app uses for the default business settings, and their
campaign inputs (``churn.campaign_store.save``, as the Retention campaign page saves them the
first time; about 4 minutes on a quiet machine).

Cases (a new ``streamlit run app.py`` server each time; Debian's Chromium through Playwright):
- ``app_1m_customers_first``: launch the server, open ``/customers`` (the sample at first),
  choose the saved batch in the sidebar, until the page is idle with the million-customer list
  and its cards: seconds from the launch (target 10 s).
- ``app_1m_customers_warm``: then three interactions each rerunning the page on the million
  customers (search an ID, filter the High tier, go to page 2): median seconds from the action
  to the page idle (target 2 s).
- ``app_1m_rss``: the server's resident memory after those (target 2,560 MB).

- ``app_1m_pages``: every page (``PAGE_CASES``: overview, why, whatif, campaign, upload, report,
  results, health, customers), each in a new server: ``app_1m_<page>_first`` (launch, open the
  page on the sample, choose the saved batch in the sidebar, until the page is idle: seconds
  from the launch, target 10 s), ``app_1m_<page>_warm`` (median of two reloads and the page's
  typical interaction, if it has one: target 2 s; a reload whose URL does not keep the chosen
  data set chooses it again, as a user would), then ``app_1m_rss`` (the largest server's
  resident memory after its page's visits). A page that times out (``PAGE_TIMEOUT_S``) or shows
  an error is recorded as a failed figure with the reason in its note, never a hang.
  ``app_1m_<page>`` runs one page alone.

Run: ``python bench/bench_app_1m.py CASE`` (the runner skips these in quick mode).
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, main, result, scratch_dir  # noqa: E402

QUICK_SKIP = {"app_1m_pages", "app_1m_overview", "app_1m_why", "app_1m_whatif",
              "app_1m_campaign", "app_1m_upload", "app_1m_report", "app_1m_results",
              "app_1m_health", "app_1m_customers"}
ROWS = 1_000_000
SEED = 11
BATCH_NAME = "bench 1m"
TARGET_FIRST_S = 10.0
TARGET_WARM_S = 2.0
TARGET_RSS_MB = 2560.0


def _folder() -> Path:
    return scratch_dir("app_1m") / "data"


def prepare() -> Path:
    """The data folder with the model, the saved 1M batch and its stored customer list."""
    from churn import batch, config, schema, synth
    from churn import customer_list as cl
    from churn.config import BusinessSettings
    from churn.models import active_version
    from churn.scoring import Engine
    from churn.store import Store
    from churn import cache

    data_dir = _folder()
    bench_data = ROOT / "bench" / "results" / "data"
    os.environ["CHURN_DATA_DIR"] = str(bench_data)
    Engine.load()                                  # trains the benchmark model once if missing
    src, dst = config.paths(bench_data), config.paths(data_dir)
    if not Engine.is_prepared(dst):
        for a, b in ((src.sample_dir, dst.sample_dir), (src.models_dir, dst.models_dir)):
            if b.exists():
                shutil.rmtree(b)
            shutil.copytree(a, b)
    os.environ["CHURN_DATA_DIR"] = str(data_dir)
    engine = Engine.load(dst)
    version = active_version(dst.models_dir)
    key = cl.list_key(version, BusinessSettings(), cache.file_stamp(dst.catalogue))
    store = Store(dst.store)
    try:
        found = store.list_batches()
        if found[found["name"] == BATCH_NAME].empty:
            df = synth.generate_customers(ROWS, SEED).drop(columns=[schema.TARGET])
            store.save_batch(BATCH_NAME, df, kind="upload", source="bench_app_1m.py")
        if cl.from_store(store, BATCH_NAME, key) is None:
            customers = store.load_batch(BATCH_NAME)
            work = scratch_dir("app_1m")
            # The scores depend on the model, the settings and the catalogue (the key without
            # its list layout): kept beside them, reused when only the layout changed.
            scored_for = work / "scores.key"
            same = key.split(":", 1)[1]
            if not ((work / "scores.parquet").exists() and scored_for.exists()
                    and scored_for.read_text() == same):
                customers.to_parquet(work / "batch.parquet", index=False)
                res = batch.score_file(work / "batch.parquet", work / "scores.parquet",
                                       engine=engine, workers=2)
                if res.problem or res.scored != ROWS:
                    raise RuntimeError(res.problem or f"only {res.scored} rows scored")
                scored_for.write_text(same)
            import pandas as pd

            table = pd.read_parquet(work / "scores.parquet")
            cl.save_for_batch(store, BATCH_NAME, key, customers, table)
        # The Retention campaign's inputs (churn.campaign_store), as the page saves them the
        # first time a campaign is planned on the batch: built once here, not in a timed visit.
        from churn import campaign_store

        ckey = campaign_store.inputs_key(version, BusinessSettings(),
                                         cache.file_stamp(dst.catalogue))
        if campaign_store.StoredCampaign.open(store, BATCH_NAME, ckey) is None:
            t0 = time.perf_counter()
            customers = store.load_batch(BATCH_NAME).drop(columns="row", errors="ignore")
            campaign_store.save(store, BATCH_NAME, ckey, engine, customers, BusinessSettings(),
                                progress=lambda done, total: print(
                                    f"campaign inputs: {done:,} of {total:,} "
                                    f"({time.perf_counter() - t0:.0f} s)", flush=True))
            del customers
    finally:
        store.close()
    return data_dir


def _tree_rss_mb(pid: int) -> float:
    """Resident memory (MB) of a process and its descendants, from /proc."""
    total, kids = 0.0, {pid}
    changed = True
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    while changed:
        changed = False
        for p, parent in parents.items():
            if parent in kids and p not in kids:
                kids.add(p)
                changed = True
    for p in kids:
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024.0
        except OSError:
            continue
    return total


def app_1m_customers(quick: bool) -> list[dict]:
    from playwright.sync_api import sync_playwright

    import bench_app

    data_dir = prepare()
    with sync_playwright() as pw:
        browser = bench_app._launch(pw)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        try:
            with bench_app.Server(data_dir, scratch_dir("app_1m") / "server.log") as srv:
                srv.wait_healthy(120)
                page.goto(srv.base + "/customers")
                bench_app.wait_page(page, "Customers", 600)
                sidebar = page.get_by_test_id("stSidebar")
                sidebar.get_by_test_id("stSelectbox").click()
                t_click = time.perf_counter()
                page.get_by_role("option", name=f"{BATCH_NAME} (saved").click()
                _wait_count(page, f"{ROWS:,}")
                first = time.perf_counter() - srv.started
                click_s = time.perf_counter() - t_click
                page.screenshot(path=str(scratch_dir("app_1m") / "customers_1m.png"),
                                full_page=True)
                warm = []
                ids = page.get_by_test_id("stDataFrame")
                ids.wait_for()
                t0 = time.perf_counter()
                box = page.get_by_role("textbox", name="Search by customer ID")
                box.fill("0007")
                box.press("Enter")
                page.wait_for_function(
                    """() => ![...document.querySelectorAll('[data-testid="stMetricValue"]')]
                              .some(e => e.innerText.trim() === '1,000,000')""", timeout=600_000)
                bench_app.wait_page(page, "Customers", 600)
                warm.append(time.perf_counter() - t0)
                box.fill("")
                box.press("Enter")
                _wait_count(page, f"{ROWS:,}")
                t0 = time.perf_counter()
                page.get_by_role("spinbutton", name="Page (of").fill("2")
                page.get_by_role("spinbutton", name="Page (of").press("Enter")
                page.wait_for_function(
                    """() => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
                              .some(e => e.innerText.includes('Customers 26–50'))""",
                    timeout=600_000)
                bench_app.wait_page(page, "Customers", 600)
                warm.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                page.reload()
                bench_app.wait_page(page, "Customers", 600)
                warm.append(time.perf_counter() - t0)
                rss = _tree_rss_mb(srv.proc.pid)
        finally:
            browser.close()
    return [
        result("app_1m_customers_first", first, "s", TARGET_FIRST_S,
               note=f"{ROWS:,} saved customers: server launch -> /customers on the sample -> "
                    f"the saved batch chosen -> its list shown (choosing it: {click_s:.1f} s)"),
        result("app_1m_customers_warm", statistics.median(warm), "s", TARGET_WARM_S,
               note="median of: search an ID, page 2, reload: "
                    + ", ".join(f"{w:.2f}" for w in warm) + " s"),
        result("app_1m_rss", rss, "MB", TARGET_RSS_MB,
               note="server process (and children) resident memory after those visits"),
    ]


def _wait_count(page, text: str) -> None:
    page.wait_for_function(
        """(t) => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
                    .some(e => e.innerText.trim() === t)""", arg=text, timeout=900_000)
    import bench_app

    bench_app.wait_page(page, "Customers", 600)



# --- every page ---------------------------------------------------------------------------------
#: Seconds a page may take before its figure is recorded as failed (a timeout, not a hang).
PAGE_TIMEOUT_S = float(os.environ.get("BENCH_PAGE_TIMEOUT_S", "240"))
#: BENCH_FIRST_VIA=url: the first visit opens the page's link with the million already chosen
#: (``?customers=saved:<name>``) instead of choosing it in the sidebar after the sample.
FIRST_VIA_URL = os.environ.get("BENCH_FIRST_VIA", "sidebar") == "url"


@dataclass(frozen=True)
class PageCase:
    """One page measured at a million customers: its short name (in the figure names), its URL
    path, its title, and the typical interactions of its warm figure (functions of the page)."""

    name: str
    url_path: str
    title: str
    interactions: tuple = ()


def _choose_batch(page) -> None:
    """Choose the saved 1M batch in the sidebar's data-set picker (as a user does) and wait
    until the sidebar says so."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").first.click()
    page.keyboard.type(BATCH_NAME)
    page.get_by_role("option", name=f"{BATCH_NAME} (saved").first.click()
    page.wait_for_function(
        """(t) => [...document.querySelectorAll(
                     '[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')]
                    .some(e => e.innerText.includes(t))""",
        arg=f"{ROWS:,}", timeout=PAGE_TIMEOUT_S * 1000)


def _batch_shown(page) -> bool:
    """True when the sidebar's population line counts the million customers."""
    return page.evaluate(
        """(t) => [...document.querySelectorAll(
                     '[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')]
                    .some(e => e.innerText.includes(t))""", f"{ROWS:,}")


def _select_main(page, label: str, option: str, title: str) -> None:
    """Pick `option` in the main area's select box labelled `label`; wait for the page idle."""
    import bench_app

    box = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text=label)
    box.first.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(150)
    bench_app.wait_page(page, title, PAGE_TIMEOUT_S)


def _overview_split(page) -> None:
    _select_main(page, "Split by", "Payment method", "Overview")


def _why_feature(page) -> None:
    """Choose another feature to look at up close (typed into the select box, as the sidebar's
    batch is chosen: clicking an option of the open list was flaky)."""
    import bench_app

    box = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text="Feature")
    box.first.click()
    page.keyboard.type("Payment method")
    page.get_by_role("option", name="Payment method").first.click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .gtitle')]
                 .some(e => e.textContent.includes('payment method'))""",
        timeout=PAGE_TIMEOUT_S * 1000)
    bench_app.wait_page(page, "Why customers churn", PAGE_TIMEOUT_S)


def _report_curve_tab(page) -> None:
    """Open the Model report's precision-recall curve (a tab that reruns the page)."""
    import bench_app

    page.get_by_role("tab", name="Precision-recall", exact=True).click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .gtitle')]
                 .some(e => e.textContent.startsWith('Precision'))""",
        timeout=PAGE_TIMEOUT_S * 1000)
    bench_app.wait_page(page, "Model report", PAGE_TIMEOUT_S)


def _customers_tier(page) -> None:
    import bench_app

    page.get_by_test_id("stMain").get_by_test_id("stMultiSelect").first.click()
    page.get_by_role("option", name="High", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(150)
    bench_app.wait_page(page, "Customers", PAGE_TIMEOUT_S)


def _campaign_budget(page) -> None:
    import bench_app

    box = page.get_by_role("spinbutton", name="Budget ($)")
    box.fill("25000")
    box.press("Enter")
    page.wait_for_timeout(150)
    bench_app.wait_page(page, "Retention campaign", PAGE_TIMEOUT_S)


PAGE_CASES = (
    PageCase("overview", "", "Overview", (_overview_split,)),      # the default page: at /
    PageCase("why", "why-customers-churn", "Why customers churn", (_why_feature,)),
    PageCase("whatif", "customer-what-if", "Customer what-if"),
    PageCase("campaign", "retention-campaign", "Retention campaign", (_campaign_budget,)),
    PageCase("upload", "upload-and-score", "Upload & score"),
    PageCase("report", "model-report", "Model report", (_report_curve_tab,)),
    PageCase("results", "campaign-results", "Campaign results"),
    PageCase("health", "model-health", "Model health"),
    PageCase("customers", "customers", "Customers", (_customers_tier,)),
)


def measure_page(case: PageCase, browser, data_dir: Path) -> dict:
    """One page in a new server: ``first`` (seconds from the server's launch until the page is
    idle with the saved 1M batch chosen; None when it timed out), ``warm`` (seconds of each of
    two reloads and the page's interactions), ``rss`` (MB, server and children, at the end),
    ``problem`` (what went wrong, or "")."""
    import bench_app

    work = scratch_dir("app_1m")
    out = {"first": None, "warm": [], "rss": float("nan"), "problem": "", "choose": None}
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        with bench_app.Server(data_dir, work / f"server_{case.name}.log") as srv:
            try:
                srv.wait_healthy(120)
                if FIRST_VIA_URL:     # a bookmarked link: the page opens on the million
                    page.goto(f"{srv.base}/{case.url_path}?customers=saved:"
                              + urllib.parse.quote(BATCH_NAME))
                    page.wait_for_function(
                        """(t) => [...document.querySelectorAll(
                             '[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')]
                             .some(e => e.innerText.includes(t))""",
                        arg=f"{ROWS:,}", timeout=PAGE_TIMEOUT_S * 1000)
                    bench_app.wait_page(page, case.title, PAGE_TIMEOUT_S)
                    out["first"] = time.perf_counter() - srv.started
                else:
                    page.goto(f"{srv.base}/{case.url_path}")
                    bench_app.wait_page(page, case.title, PAGE_TIMEOUT_S)
                    t0 = time.perf_counter()
                    _choose_batch(page)
                    bench_app.wait_page(page, case.title, PAGE_TIMEOUT_S)
                    out["first"] = time.perf_counter() - srv.started
                    out["choose"] = time.perf_counter() - t0
                page.screenshot(path=str(work / f"{case.name}_1m.png"), full_page=True)
                steps = [None, None, *case.interactions]          # None: a reload
                for step in steps:
                    t0 = time.perf_counter()
                    if step is None:
                        page.reload()
                        bench_app.wait_page(page, case.title, PAGE_TIMEOUT_S)
                        if not _batch_shown(page):   # the URL did not keep the choice
                            _choose_batch(page)
                            bench_app.wait_page(page, case.title, PAGE_TIMEOUT_S)
                    else:
                        step(page)
                    out["warm"].append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - a timeout or an app error is a figure
                try:
                    page.screenshot(path=str(work / f"{case.name}_1m_failed.png"), full_page=True)
                except Exception:  # noqa: BLE001 - the figure matters, not the picture
                    pass
                out["problem"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            out["rss"] = _tree_rss_mb(srv.proc.pid)
    finally:
        page.close()
    return out


def _page_results(case: PageCase, got: dict) -> list[dict]:
    problem = f" FAILED: {got['problem']}" if got["problem"] else ""
    first = got["first"] if got["first"] is not None else PAGE_TIMEOUT_S
    choose = f"{got['choose']:.1f} s" if got["choose"] is not None else "n/a"
    how = (f"server launch -> /{case.url_path}?customers=saved:... (the million chosen by the "
           "link) -> idle" if FIRST_VIA_URL else
           f"server launch -> /{case.url_path} on the sample -> the saved batch chosen in the "
           f"sidebar -> idle (choosing it: {choose})")
    warm = got["warm"]
    out = [result(f"app_1m_{case.name}_first", first, "s", TARGET_FIRST_S,
                  note=f"{ROWS:,} saved customers, Chromium: {how}{problem}")]
    if warm and not (got["problem"] and len(warm) < 2):
        out.append(result(f"app_1m_{case.name}_warm", statistics.median(warm), "s",
                          TARGET_WARM_S,
                          note="median of two reloads"
                               + (" and the page's interaction" if case.interactions else "")
                               + ": " + ", ".join(f"{w:.2f}" for w in warm) + f" s{problem}"))
    else:
        out.append(result(f"app_1m_{case.name}_warm", PAGE_TIMEOUT_S, "s", TARGET_WARM_S,
                          note=f"not measured{problem or ': the first visit did not finish'}"))
    return out


def _run_pages(cases) -> list[dict]:
    from playwright.sync_api import sync_playwright

    data_dir = prepare()
    out, rss = [], {}
    with sync_playwright() as pw:
        browser = bench_app_launch(pw)
        try:
            for case in cases:
                got = measure_page(case, browser, data_dir)
                out += _page_results(case, got)
                rss[case.name] = got["rss"]
                print(f"{case.name}: {out[-2]['value']:.2f} s first, {out[-1]['value']:.2f} s "
                      f"warm, {got['rss']:.0f} MB {got['problem']}", file=sys.stderr, flush=True)
        finally:
            browser.close()
    worst = max(rss, key=lambda k: rss[k] if rss[k] == rss[k] else -1)
    out.append(result("app_1m_rss", rss[worst], "MB", TARGET_RSS_MB,
                      note="largest server (and children) resident memory after a page's visits "
                           "(one server per page): " + ", ".join(
                               f"{k} {v:.0f}" for k, v in rss.items()) + " MB"))
    return out


def bench_app_launch(pw):
    import bench_app

    return bench_app._launch(pw)


def app_1m_pages(quick: bool) -> list[dict]:
    """Every page: ``app_1m_<page>_first`` and ``_warm``, then ``app_1m_rss`` (the largest)."""
    return _run_pages(PAGE_CASES)


def _one(case: PageCase):
    def run(quick: bool) -> list[dict]:
        return _run_pages([case])
    run.__name__ = f"app_1m_{case.name}"
    return run


CASES = {"app_1m_pages": app_1m_pages,
         **{f"app_1m_{c.name}": _one(c) for c in PAGE_CASES if c.name != "customers"},
         "app_1m_customers": app_1m_customers}

if __name__ == "__main__":
    if "--prepare" in sys.argv:
        print(prepare())
    else:
        main(CASES)
