"""Cross-column validation rules: one module each, found and imported here, applied in ``order``.

To add a rule, write one module in this folder::

    from churn.validate.rules import rule

    MSG_SENIOR_CHILD = "..."          # its message template (re-exported by churn.validate)

    @rule(order=30)
    def senior_minimum_age(ck) -> None:
        ...

The function gets the checker (`churn.validate.checks._Checker`) after every column has been
read and checked: ``ck.canon`` (column -> canonical values per data row; a category is
``None`` there and coded in ``ck.cats[column] = (codes, values)``), ``ck._usable(*columns)``
(rows whose values in those columns were read correctly), ``ck._add(severity, column,
template, what, rows, fields, const)`` to report an "error" (the row is left out) or a
"warning" (the row is used), ``ck.file_warnings`` for one message about the whole file, and
it may replace ``ck.canon[column]`` with corrected values. Nothing else changes: `validate`,
`validate_chunk`, the command line, the app and the API all apply it.
"""
from __future__ import annotations

from typing import Callable

from churn.plugins import import_all

#: The rules, in ``order`` (filled by the rule modules themselves through `rule`).
RULES: list[Callable] = []
_ORDER: dict[Callable, int] = {}


def rule(order: int) -> Callable[[Callable], Callable]:
    """Register a rule function ``f(checker) -> None``; lower ``order`` runs first."""
    def register(func: Callable) -> Callable:
        key = (func.__module__, func.__qualname__)
        for old in [f for f in RULES if (f.__module__, f.__qualname__) == key]:
            RULES.remove(old)          # the same rule imported again (a module reload)
            _ORDER.pop(old, None)
        _ORDER[func] = int(order)
        RULES.append(func)
        RULES.sort(key=lambda f: (_ORDER[f], f.__module__, f.__qualname__))
        return func

    return register


def discover() -> list[str]:
    """Import every module of this package (each registers its rules); their names, sorted."""
    return import_all(__name__, __path__)


discover()
