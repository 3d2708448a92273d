"""Parsing the project's own source in tests (the layer-rule tests).

`parse` is `ast.parse` of a file, tried again on CPython 3.11's "AST constructor recursion
depth mismatch" SystemError (python/cpython#106905): the AST converter's depth counter is shared
by the whole interpreter, so a parse that overlaps another thread's (Streamlit compiles page
scripts in its script threads; a test left one running in the same worker once, in CI) can
fail although the file is fine. Any other error, and a third mismatch in a row, still fails.
"""
from __future__ import annotations

import ast
from pathlib import Path


def parse(path: Path) -> ast.Module:
    """The syntax tree of the file at ``path``."""
    text = Path(path).read_text()
    for attempt in range(3):
        try:
            return ast.parse(text, filename=str(path))
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")
