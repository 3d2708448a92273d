"""Run every benchmark under ``bench/`` and report the figures against their targets.

What ``python -m churn bench [--quick] [--json]`` runs. Benchmarks are figures, not tests: the
command exits 0 whatever the figures are (only a broken runner gives another status).

Discovery: every ``bench/bench_*.py`` module following the contract in ``bench/_common.py``
(``python bench/bench_x.py --list`` prints its case names; ``python bench/bench_x.py CASE
[--quick]`` runs one case and prints its figures as one JSON list on the last line of stdout).
A module may declare ``QUICK_SKIP = {"case", ...}`` (a literal, read without importing the
module): cases ``--quick`` leaves out, e.g. the million-row ones.

Each case runs in its own Python process, so the peak memory each figure reports (the
process's peak resident memory, ``peak_mb``) belongs to that case alone. A case that exits with
an error, prints no JSON, or runs past the time limit becomes one *failed* row carrying the last
line of its error output; the other cases still run. Short cases (a run under
``REPEAT_UNDER_S`` seconds, full mode only) are run ``REPEATS`` times and each figure is the
median of the runs (peak memory: the largest).

Results: ``bench/results/latest.json`` (machine, settings and every figure with its note) and
``bench/results/latest.md`` (a Markdown table to paste into the README). The machine record has
the cores, memory (from /proc/meminfo), CPU model, load average before and after, the Python
and key library versions, the git commit and the date (UTC).
"""
from __future__ import annotations

import ast
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = RESULTS_DIR / "data"           # CHURN_DATA_DIR of every case (never the user's data)
TIMEOUT_S = 1800.0                        # per case, full mode
QUICK_TIMEOUT_S = 180.0                   # per case, --quick
REPEATS = 3
REPEAT_UNDER_S = 15.0
#: Libraries whose versions are recorded: name -> distribution names to look for.
LIBRARIES = {"numpy": ("numpy",), "pandas": ("pandas",), "scikit-learn": ("scikit-learn",),
             "xgboost": ("xgboost", "xgboost-cpu"), "catboost": ("catboost",),
             "shap": ("shap",), "lifelines": ("lifelines",),
             "scikit-surprise": ("scikit-surprise",), "duckdb": ("duckdb",),
             "pyarrow": ("pyarrow",), "streamlit": ("streamlit",), "plotly": ("plotly",)}


@dataclass
class Row:
    """One figure of one case (or a failed case: ``status`` "failed" and ``error``)."""

    module: str
    case: str
    name: str
    value: float | None = None
    unit: str = ""
    target: float | None = None
    holds: bool | None = None
    peak_mb: float | None = None
    note: str = ""
    status: str = "ok"
    error: str = ""
    seconds: float = 0.0                  # wall time of the case's process(es)
    runs: int = 1


@dataclass
class Module:
    """A benchmark module: name (file stem), path, and the cases --quick leaves out."""

    name: str
    path: Path
    quick_skip: set = field(default_factory=set)


def discover(bench_dir: Path = BENCH_DIR) -> list[Module]:
    """The ``bench_*.py`` modules of a folder, sorted by name, with their ``QUICK_SKIP``."""
    out = []
    for path in sorted(Path(bench_dir).glob("bench_*.py")):
        out.append(Module(path.stem, path, _quick_skip(path)))
    return out


def _quick_skip(path: Path) -> set:
    """The literal ``QUICK_SKIP`` of a module (empty when absent or not a literal)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "QUICK_SKIP"
                                                for t in node.targets):
            try:
                return set(ast.literal_eval(node.value))
            except ValueError:
                return set()
    return set()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _env() -> dict:
    env = dict(os.environ)
    env["CHURN_DATA_DIR"] = str(DATA_DIR)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in
                                                       [env.get("PYTHONPATH")] if p])
    return env


def list_cases(module: Module, *, timeout: float = 120.0, python: str = sys.executable,
               env: dict | None = None) -> tuple[list[str], str]:
    """(case names, "") from ``--list``; ([], error line) when the module cannot list them."""
    try:
        proc = subprocess.run([python, str(module.path), "--list"], capture_output=True,
                              text=True, timeout=timeout, cwd=str(ROOT),
                              env=env if env is not None else _env())
    except subprocess.TimeoutExpired:
        return [], f"--list took more than {timeout:.0f} s"
    if proc.returncode != 0:
        return [], _last_line(proc.stderr) or f"--list exited with status {proc.returncode}"
    names = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
    return names, "" if names else "--list printed no case names"


def run_case(module: Module, case: str, *, quick: bool = False, timeout: float = TIMEOUT_S,
             python: str = sys.executable, env: dict | None = None) -> tuple[list[dict], str, float]:
    """Run one case in its own process: (figures, error line or "", wall seconds)."""
    cmd = [python, str(module.path), case] + (["--quick"] if quick else [])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=str(ROOT), env=env if env is not None else _env())
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout:.0f} s", time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        err = _last_line(proc.stderr) or _last_line(proc.stdout)
        return [], err or f"exited with status {proc.returncode}", seconds
    try:
        figures = json.loads(_last_line(proc.stdout))
        if not isinstance(figures, list) or not all(isinstance(f, dict) and "name" in f
                                                    for f in figures):
            raise ValueError("not a list of figures")
    except ValueError:
        line = _last_line(proc.stdout)
        return [], f"no JSON figures on the last line of output: {line[:200]!r}", seconds
    return figures, "", seconds


def _merge(runs: list[list[dict]]) -> list[dict]:
    """Per figure name: the median value of the runs (peak memory: the largest)."""
    first = runs[0]
    out = []
    for fig in first:
        same = [f for run in runs for f in run if f.get("name") == fig["name"]]
        merged = dict(fig)
        values = [f["value"] for f in same if isinstance(f.get("value"), (int, float))]
        if values:
            merged["value"] = statistics.median(values)
            target = fig.get("target")
            if target is not None and fig.get("holds") is not None:
                lower = (fig["value"] < target) == fig["holds"]
                merged["holds"] = bool(merged["value"] < target if lower
                                       else merged["value"] > target)
        peaks = [f["peak_mb"] for f in same if isinstance(f.get("peak_mb"), (int, float))]
        if peaks:
            merged["peak_mb"] = max(peaks)
        out.append(merged)
    return out


def run_all(bench_dir: Path = BENCH_DIR, *, quick: bool = False, timeout: float | None = None,
            repeats: int = REPEATS, repeat_under: float = REPEAT_UNDER_S,
            python: str = sys.executable, env: dict | None = None,
            echo: Callable[[str], None] | None = None) -> list[Row]:
    """Run every case of every module; one `Row` per figure (or per failed case/module).

    repeats / repeat_under: a case whose first run took less than ``repeat_under`` seconds is
    run ``repeats`` times in all (full mode only) and its figures are medians.
    echo: called with one progress line per case (e.g. print to stderr).
    """
    say = echo or (lambda line: None)
    limit = timeout if timeout is not None else (QUICK_TIMEOUT_S if quick else TIMEOUT_S)
    rows: list[Row] = []
    for module in discover(bench_dir):
        cases, err = list_cases(module, python=python, env=env)
        if err:
            say(f"{module.name}: cannot list the cases: {err}")
            rows.append(Row(module.name, "(list)", f"{module.name} (all cases)", status="failed",
                            error=err))
            continue
        for case in cases:
            if quick and case in module.quick_skip:
                continue
            say(f"{module.name} {case}{' --quick' if quick else ''} …")
            figures, err, seconds = run_case(module, case, quick=quick, timeout=limit,
                                             python=python, env=env)
            runs = [figures] if not err else []
            while not err and not quick and seconds < repeat_under and len(runs) < repeats:
                more, err2, s2 = run_case(module, case, quick=quick, timeout=limit,
                                          python=python, env=env)
                seconds += s2
                if err2:
                    break
                runs.append(more)
            if err:
                say(f"  failed: {err}")
                rows.append(Row(module.name, case, case, status="failed", error=err,
                                seconds=round(seconds, 1)))
                continue
            for fig in _merge(runs):
                rows.append(Row(module.name, case, str(fig.get("name")), fig.get("value"),
                                str(fig.get("unit", "")), fig.get("target"), fig.get("holds"),
                                fig.get("peak_mb"), str(fig.get("note", "")),
                                seconds=round(seconds, 1), runs=len(runs)))
            say(f"  done in {seconds:.1f} s")
    return rows


# --- machine and output --------------------------------------------------------------------------
def machine_info() -> dict:
    """Cores, memory, CPU model, load, Python and library versions, git commit, date (UTC)."""
    from importlib import metadata

    info = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "cores": os.cpu_count(), "memory_gb": None, "cpu": platform.processor() or None,
            "load_average": None, "python": platform.python_version(),
            "platform": platform.platform(), "libraries": {}, "git_commit": None}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 ** 2, 1)
                break
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    for lib, dists in LIBRARIES.items():
        info["libraries"][lib] = None
        for dist in dists:
            try:
                info["libraries"][lib] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    try:
        proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, cwd=str(ROOT))
        info["git_commit"] = proc.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def _num(value, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    v = float(value)
    if abs(v) >= 1000:
        text = f"{v:,.0f}"
    elif abs(v) >= 100:
        text = f"{v:.0f}"
    elif abs(v) >= 10:
        text = f"{v:.1f}"
    elif abs(v) >= 1:
        text = f"{v:.2f}"
    else:
        text = f"{v:.3g}"
    return f"{text} {unit}".strip()


def _target(row: Row) -> str:
    if row.target is None:
        return "—"
    if row.holds is None or row.value is None:
        return _num(row.target, row.unit)
    lower = (row.value < row.target) == row.holds
    return ("< " if lower else "> ") + _num(row.target, row.unit)


def _holds(row: Row) -> str:
    if row.status != "ok":
        return "FAILED"
    return {True: "yes", False: "NO", None: "—"}[row.holds]


HEADERS = ["figure", "value", "target", "holds", "peak MB", "module"]


def table_rows(rows: list[Row]) -> list[list[str]]:
    """The cells of the results table (`HEADERS`), one list per row."""
    out = []
    for r in rows:
        if r.status != "ok":
            out.append([r.name, f"failed: {r.error}", "—", "FAILED", "—", r.module])
        else:
            out.append([r.name, _num(r.value, r.unit), _target(r), _holds(r),
                        _num(r.peak_mb) if r.peak_mb is not None else "—", r.module])
    return out


def format_table(rows: list[Row]) -> str:
    """Plain-text table for the terminal (columns padded to their widest cell)."""
    from churn.console import text_table

    return text_table(HEADERS, table_rows(rows), rule=True)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: dict) -> str:
    """The Markdown results (machine line, then the table) for the README."""
    m = doc["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v)
    load = m.get("load_average") or []
    head = (f"Benchmarks ({'quick' if doc['quick'] else 'full'} run, {m['date']}, commit "
            f"{m.get('git_commit') or '?'}): {m['cores']} cores, {m.get('memory_gb') or '?'} GB, "
            f"{m.get('cpu') or 'unknown CPU'}; load average at start "
            f"{', '.join(str(x) for x in load) or '?'}; Python {m['python']}; {libs}.")
    rows = [Row(**r) for r in doc["results"]]
    lines = [head, "", "| " + " | ".join(HEADERS) + " |",
             "|" + "|".join(["---", "---:", "---:", ":---:", "---:", "---"]) + "|"]
    for cells in table_rows(rows):
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    notes = [f"- `{r.name}`: {r.note}" for r in rows if r.note and r.status == "ok"]
    if notes:
        lines += ["", "Notes:"] + [_md_cell(n) for n in notes]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    from churn.files import write_text

    write_text(path, text)


def run(*, quick: bool = False, as_json: bool = False, bench_dir: Path = BENCH_DIR,
        results_dir: Path = RESULTS_DIR, out=None, err=None, **kwargs) -> dict:
    """Run everything, write ``latest.json`` / ``latest.md`` in ``results_dir``, print the table
    (or the JSON document with ``as_json``) to ``out``; progress lines go to ``err``.

    Returns the results document: {"quick", "seconds", "machine", "results": [Row as dict]}.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    t0 = time.perf_counter()
    machine = machine_info()
    rows = run_all(bench_dir, quick=quick, echo=lambda line: print(line, file=err, flush=True),
                   **kwargs)
    try:
        machine["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    doc = {"quick": quick, "seconds": round(time.perf_counter() - t0, 1), "machine": machine,
           "results": [asdict(r) for r in rows]}
    _write(Path(results_dir) / "latest.json", json.dumps(doc, indent=2, ensure_ascii=False))
    _write(Path(results_dir) / "latest.md", to_markdown(doc))
    if as_json:
        print(json.dumps(doc, ensure_ascii=False), file=out)
    else:
        load = machine.get("load_average") or ["?"]
        print(f"{machine['cores']} cores, {machine.get('memory_gb')} GB, {machine.get('cpu')}; "
              f"load average {load[0]} at start. {len(rows)} figures in {doc['seconds']:.0f} s.",
              file=out)
        print(format_table(rows), file=out)
        failed = sum(r.status != "ok" for r in rows)
        missed = sum(r.holds is False for r in rows)
        print(f"{missed} figure(s) miss their target, {failed} case(s) failed. Full results: "
              f"{Path(results_dir) / 'latest.json'}; Markdown table: "
              f"{Path(results_dir) / 'latest.md'}.", file=out)
    return doc
