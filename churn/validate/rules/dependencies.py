"""Rule: a dependent column (an internet add-on, MultipleLines) agrees with its parent service.

"No" where the parent is off is read as the forced value ("No internet service") with one
warning per column; any other disagreement is an error, because we cannot tell which is wrong.
"""
from __future__ import annotations

import numpy as np

from churn.schema import DEPENDENT_COLUMNS
from churn.validate.messages import (MSG_DEP_FORCED_WHEN_ON, MSG_DEP_NO_AS_FORCED,
                                     MSG_DEP_SET_WHEN_OFF, _count)
from churn.validate.report import Problem
from churn.validate.rules import rule


@rule(order=10)
def dependencies(ck) -> None:
    """Each column of ``schema.DEPENDENT_COLUMNS`` against its parent (module docstring)."""
    for col in DEPENDENT_COLUMNS:
        if col.name not in ck.canon or col.parent not in ck.canon:
            continue
        if col.name not in ck.cats or col.parent not in ck.cats:
            continue
        usable = ck._usable(col.name, col.parent)
        child_codes, child_u = ck.cats[col.name]
        parent_codes, parent_u = ck.cats[col.parent]
        off = usable & (parent_u == col.parent_value)[parent_codes]
        said_no = off & (child_u == "No")[child_codes]
        if said_no.any():
            def note(valid, said_no=said_no, col=col):
                n = int((said_no & valid).sum())
                return n and Problem(None, col.name, MSG_DEP_NO_AS_FORCED.format(
                    forced=col.forced, count=_count(n, "row"), parent=col.parent,
                    parent_value=col.parent_value))

            ck.file_warnings.append(note)
            child_u = np.append(child_u, np.array([col.forced], dtype=object))
            child_codes = child_codes.copy()
            child_codes[said_no] = len(child_u) - 1
            ck.cats[col.name] = (child_codes, child_u)
        is_forced = (child_u == col.forced)[child_codes]
        set_when_off = off & ~is_forced
        forced_when_on = usable & ~(parent_u == col.parent_value)[parent_codes] & is_forced
        ck._add("error", col.name, MSG_DEP_SET_WHEN_OFF,
                  f'a value other than "{col.forced}" while {col.parent} is '
                  f'"{col.parent_value}"', set_when_off,
                  {"value": child_u[child_codes[set_when_off]]},
                  {"parent": col.parent, "parent_value": col.parent_value,
                   "forced": col.forced})
        ck._add("error", col.name, MSG_DEP_FORCED_WHEN_ON,
                  f'"{col.forced}" while {col.parent} is not "{col.parent_value}"',
                  forced_when_on, {"parent_value": parent_u[parent_codes[forced_when_on]]},
                  {"parent": col.parent, "forced": col.forced})

