"""Folders of self-registering modules: adding a model family or a validation rule is one file.

``churn/models/families/`` and ``churn/validate/rules/`` each call `import_all` from their
``__init__``: every module in the folder is imported, and registers what it declares (a
``Family`` subclass registers itself, a rule function its ``@rule`` decorator).
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Iterable


def import_all(package: str, path: Iterable[str]) -> list[str]:
    """Import every module of ``package`` found on ``path`` (its ``__path__``); their names,
    sorted (the import order: registries keep their own order, e.g. ``Family.order``)."""
    found = sorted({m.name for m in pkgutil.iter_modules(list(path))})
    for name in found:
        importlib.import_module(f"{package}.{name}")
    return found
