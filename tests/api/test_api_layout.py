"""Layer rules for the API: the core never imports the web stack, and the command line imports
the `api` package only when `python -m churn api` runs."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from _source import parse  # noqa: E402

WEB = {"fastapi", "starlette", "uvicorn", "pydantic", "prometheus_client", "httpx"}


def _module_level_roots(path: Path) -> set[str]:
    roots = set()
    for node in parse(path).body:
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_never_imports_the_web_stack():
    for path in sorted((ROOT / "churn").glob("*.py")):
        tree = parse(path)
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                 for a in n.names}
        names |= {n.module.split(".")[0] for n in ast.walk(tree)
                  if isinstance(n, ast.ImportFrom) and n.module and not n.level}
        assert not names & WEB, f"{path.name} imports {sorted(names & WEB)}"
        assert "api" not in _module_level_roots(path), f"{path.name} imports api at module level"


def test_the_cli_loads_without_fastapi():
    code = ("import sys; import churn.cli; churn.cli.build_parser(); "
            "print(sorted(m for m in ('fastapi', 'api', 'uvicorn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
