"""Tests of the benchmark runner (churn.bench) on tiny fake bench modules in tmp_path.

The real benchmarks are never run here: the fake modules follow the same contract (they use
bench/_common.py) and take milliseconds.
"""
from __future__ import annotations

import io
import json
import textwrap

import pytest

from churn import bench, cli

FAKE = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {bench_dir!r})
    from _common import main, result

    QUICK_SKIP = {{"slow"}}
    COUNTER = Path(__file__).with_suffix(".count")


    def ok(quick):
        n = int(COUNTER.read_text()) if COUNTER.exists() else 0
        COUNTER.write_text(str(n + 1))
        value = [5.0, 1.0, 3.0][n % 3] if not quick else 0.5
        return [result("fake_seconds", value, "s", 4.0, note="three runs: 5, 1, 3"),
                result("fake_rate", 2500.0, "rows/s", 1000.0, lower_is_better=False),
                result("fake_info", 42.0, "MB", None)]


    def boom(quick):
        raise RuntimeError("the disk is full")


    def garbage(quick):
        print("hello")
        sys.exit(0)


    def slow(quick):
        time.sleep(30)
        return []


    CASES = {{"ok": ok, "boom": boom, "garbage": garbage, "slow": slow}}

    if __name__ == "__main__":
        if "garbage" in sys.argv:
            print("not json at all")
        else:
            main(CASES)
''')


@pytest.fixture()
def bench_dir(tmp_path):
    d = tmp_path / "bench"
    d.mkdir()
    (d / "bench_fake.py").write_text(FAKE.format(bench_dir=str(bench.BENCH_DIR)))
    (d / "bench_broken.py").write_text("raise ImportError('no module named nowhere')\n")
    (d / "helper.py").write_text("raise SystemExit('not a bench module')\n")
    return d


def test_discovery_finds_bench_modules_and_their_quick_skip(bench_dir):
    mods = bench.discover(bench_dir)
    assert [m.name for m in mods] == ["bench_broken", "bench_fake"]
    assert mods[1].quick_skip == {"slow"} and mods[0].quick_skip == set()
    cases, err = bench.list_cases(mods[1])
    assert (cases, err) == (["ok", "boom", "garbage", "slow"], "")
    cases, err = bench.list_cases(mods[0])
    assert cases == [] and err == "ImportError: no module named nowhere"


def test_the_real_bench_folder_is_discovered():
    names = [m.name for m in bench.discover()]
    assert "bench_score" in names
    score = next(m for m in bench.discover() if m.name == "bench_score")
    assert score.quick_skip == {"batch_1m"}


def test_run_all_reports_failures_and_medians_without_crashing(bench_dir):
    rows = bench.run_all(bench_dir, timeout=3, repeat_under=60)
    by = {(r.module, r.name): r for r in rows}
    broken = by[("bench_broken", "bench_broken (all cases)")]
    assert broken.status == "failed" and broken.error == "ImportError: no module named nowhere"
    seconds = by[("bench_fake", "fake_seconds")]
    assert seconds.status == "ok" and seconds.runs == 3
    assert seconds.value == 3.0 and seconds.holds is True        # median of 5, 1, 3 < 4
    assert seconds.peak_mb > 0 and seconds.note == "three runs: 5, 1, 3"
    rate = by[("bench_fake", "fake_rate")]
    assert (rate.value, rate.holds) == (2500.0, True)
    assert by[("bench_fake", "fake_info")].holds is None
    assert by[("bench_fake", "boom")].error == "RuntimeError: the disk is full"
    assert by[("bench_fake", "garbage")].error == \
        "no JSON figures on the last line of output: 'not json at all'"
    assert by[("bench_fake", "slow")].error == "timed out after 3 s"
    assert [r.name for r in rows] == ["bench_broken (all cases)", "fake_seconds", "fake_rate",
                                      "fake_info", "boom", "garbage", "slow"]


def test_quick_mode_skips_the_modules_quick_skip_and_runs_once(bench_dir):
    rows = bench.run_all(bench_dir, quick=True, repeat_under=60)
    names = [r.name for r in rows if r.module == "bench_fake"]
    assert names == ["fake_seconds", "fake_rate", "fake_info", "boom", "garbage"]
    assert rows[1].runs == 1 and rows[1].value == 0.5


def test_table_formatting():
    rows = [bench.Row("bench_x", "a", "batch_1m", 95.123, "s", 120.0, True, 2100.44),
            bench.Row("bench_x", "a", "batch_1m_rows_per_s", 10526.3, "rows/s", 8333.3, True,
                      2100.4),
            bench.Row("bench_x", "b", "whatif_p95", 0.0612, "s", 0.05, False, 300.0),
            bench.Row("bench_x", "c", "info", 7.0, "MB", None, None, None),
            bench.Row("bench_y", "d", "d", status="failed", error="ValueError: bad")]
    assert bench.table_rows(rows) == [
        ["batch_1m", "95.1 s", "< 120 s", "yes", "2,100", "bench_x"],
        ["batch_1m_rows_per_s", "10,526 rows/s", "> 8,333 rows/s", "yes", "2,100", "bench_x"],
        ["whatif_p95", "0.0612 s", "< 0.05 s", "NO", "300", "bench_x"],
        ["info", "7.00 MB", "—", "—", "—", "bench_x"],
        ["d", "failed: ValueError: bad", "—", "FAILED", "—", "bench_y"]]
    text = bench.format_table(rows).splitlines()
    assert text[0].split() == ["figure", "value", "target", "holds", "peak", "MB", "module"]
    assert set(text[1]) <= {"-", " "}
    assert text[2].startswith("batch_1m             95.1 s")
    assert all(len(line) <= len(text[1]) for line in text)


def test_run_writes_json_and_markdown_and_prints_the_table(bench_dir, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    results = tmp_path / "results"
    doc = bench.run(quick=True, bench_dir=bench_dir, results_dir=results, out=out, err=err)
    saved = json.loads((results / "latest.json").read_text())
    assert saved == doc and saved["quick"] is True
    m = saved["machine"]
    assert m["cores"] >= 1 and m["memory_gb"] > 0 and m["python"] and m["date"].endswith("UTC")
    assert m["libraries"]["pandas"] and m["libraries"]["xgboost"] and "load_average_after" in m
    md = (results / "latest.md").read_text()
    assert "| figure | value | target | holds | peak MB | module |" in md
    assert "| fake_seconds | 0.5 s | < 4.00 s | yes |" in md
    assert "| boom | failed: RuntimeError: the disk is full | — | FAILED | — | bench_fake |" in md
    assert "- `fake_seconds`: three runs: 5, 1, 3" in md
    text = out.getvalue()
    assert "fake_rate" in text and "0 figure(s) miss their target, 3 case(s) failed" in text
    assert "bench_fake ok --quick …" in err.getvalue()
    out = io.StringIO()
    bench.run(quick=True, as_json=True, bench_dir=bench_dir, results_dir=results, out=out,
              err=io.StringIO())
    assert json.loads(out.getvalue())["results"][1]["name"] == "fake_seconds"


def test_cli_bench_exit_status(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(bench, "run", lambda **kw: seen.append(kw) or {})
    assert cli.main(["bench", "--quick", "--json"]) == 0
    assert seen == [{"quick": True, "as_json": True}]

    def broken(**kw):
        raise OSError("results folder is read-only")

    monkeypatch.setattr(bench, "run", broken)
    assert cli.main(["bench"]) == 1
    assert "The benchmark runner failed: OSError: results folder is read-only" in \
        capsys.readouterr().err
