"""Layer rules from docs/design.md, checked on the source: the core never imports streamlit,
pages stay thin, every page is registered, and test module names do not collide."""
from __future__ import annotations

import ast
import os
from collections import Counter
from pathlib import Path

from _source import parse
from ui.navigation import PAGES

ROOT = Path(__file__).resolve().parent.parent
MODELLING = {"sklearn", "xgboost", "catboost", "lifelines", "shap", "surprise", "scipy",
             "duckdb"}
#: What a page may not import: data work belongs in churn/, charts in ui/*_charts.py modules.
PAGE_FORBIDDEN = {"numpy", "pandas", "plotly"}
PAGE_MAX_LINES = 150


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a Python file imports (anywhere in the file)."""
    roots = set()
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_imported_roots_sees_nested_and_from_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import os.path\nfrom streamlit import x\ndef f():\n    import sklearn.linear_model\n"
                 "from . import sibling\n")
    assert imported_roots(f) == {"os", "streamlit", "sklearn"}


def test_core_never_imports_streamlit():
    offenders = [p.name for p in sorted((ROOT / "churn").rglob("*.py"))
                 if "streamlit" in imported_roots(p)]
    assert offenders == []


def page_problems(path: Path) -> list[str]:
    """Why a page file is not thin: too many lines, or an import of a modelling library, numpy,
    pandas or plotly (anywhere in the file). Empty when it is thin."""
    out = []
    heavy = imported_roots(path) & (MODELLING | PAGE_FORBIDDEN)
    if heavy:
        out.append(f"{path.name} imports {', '.join(sorted(heavy))}: data work belongs in "
                   "churn/, charts in ui/*_charts.py")
    lines = len(path.read_text().splitlines())
    if lines > PAGE_MAX_LINES:
        out.append(f"{path.name} has {lines} lines (at most {PAGE_MAX_LINES}); move logic into "
                   "churn/ or ui/ (pages read widgets, call churn/ui, and draw)")
    return out


def test_page_problems_sees_long_pages_and_forbidden_imports(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text("import streamlit as st\n" + "st.write(1)\n" * (PAGE_MAX_LINES - 1))
    assert page_problems(ok) == []
    long = tmp_path / "long.py"
    long.write_text("x = 1\n" * (PAGE_MAX_LINES + 1))
    assert page_problems(long) == [f"long.py has {PAGE_MAX_LINES + 1} lines (at most "
                                   f"{PAGE_MAX_LINES}); move logic into churn/ or ui/ (pages "
                                   "read widgets, call churn/ui, and draw)"]
    heavy = tmp_path / "heavy.py"
    heavy.write_text("import pandas as pd\ndef f():\n    from plotly import graph_objects\n"
                     "import numpy.linalg\n")
    assert page_problems(heavy) == ["heavy.py imports numpy, pandas, plotly: data work belongs "
                                    "in churn/, charts in ui/*_charts.py"]


def test_pages_are_thin():
    files = sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "app.py"]
    assert len(files) >= 10
    problems = [msg for p in files for msg in page_problems(p)]
    assert problems == []


def test_every_page_file_is_registered_once():
    registered = [p.file for p in PAGES]
    on_disk = sorted(f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py"))
    assert sorted(registered) == on_disk
    assert len({p.url_path for p in PAGES}) == len(PAGES)
    assert sum(p.default for p in PAGES) == 1


def test_test_module_names_are_unique():
    # pytest's default import mode puts each test folder on sys.path, so two test files with
    # the same name in different folders collide.
    names = Counter(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert [n for n, k in names.items() if k > 1] == []


def test_ci_entry_point_is_executable_and_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    text = ci.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert "make test" in text


def test_no_pages_folder_beside_the_entry_point():
    # Streamlit treats a `pages/` folder next to app.py as a legacy multipage app: on the first
    # request after a start it resolves deep links against that folder before st.navigation has
    # run, showing "Page not found" or running a page without the app around it.
    assert not (ROOT / "pages").exists(), "keep page scripts in app_pages/, not pages/"
