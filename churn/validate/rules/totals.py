"""Rule: TotalCharges against tenure × MonthlyCharges (``schema.total_charges_estimate``).

Blank with tenure 0 is "not billed yet" (NaN, silent); blank with tenure > 0 is estimated
(warning); a total given at tenure 0 is read as blank (warning); a total more than
`TOTAL_RATIO_LIMIT` times away from the estimate is kept with a warning.
"""
from __future__ import annotations

import numpy as np

from churn import schema
from churn.schema import BY_NAME
from churn.validate.messages import (MSG_TOTAL_ESTIMATED, MSG_TOTAL_INCONSISTENT,
                                     MSG_TOTAL_NOT_BILLED, _money)
from churn.validate.rules import rule

TOTAL_RATIO_LIMIT = 3.0  # TotalCharges more than 3x away from tenure x MonthlyCharges: warning

# The relation TotalCharges ≈ tenure × MonthlyCharges (see schema.total_charges_estimate).
_TOTAL, _TENURE, _MONTHLY = (BY_NAME[n].name for n in (schema.TOTAL, schema.TENURE, schema.MONTHLY))


@rule(order=20)
def totals(ck) -> None:
    """TotalCharges against tenure × MonthlyCharges (blank = not billed yet at tenure 0)."""
    if not all(c in ck.canon for c in (_TOTAL, _TENURE, _MONTHLY)):
        return
    total = ck.canon[_TOTAL].copy()
    tenure, monthly = ck.canon[_TENURE], ck.canon[_MONTHLY]
    usable = ck._usable(_TOTAL, _TENURE, _MONTHLY)
    blank = ck.total_blank
    with np.errstate(over="ignore", invalid="ignore"):   # rejected rows hold NaN
        estimate = schema.total_charges_estimate(tenure, monthly)
    fill = usable & blank & (tenure > 0)
    ck._add("warning", _TOTAL, MSG_TOTAL_ESTIMATED, "a blank total that was estimated",
              fill, {schema.TENURE: tenure[fill], "monthly": [_money(v) for v in monthly[fill]],
                     "estimate": [_money(v) for v in estimate[fill]]})
    total[fill] = estimate[fill]
    given = usable & ~blank
    unbilled = given & (tenure == 0)
    ck._add("warning", _TOTAL, MSG_TOTAL_NOT_BILLED,
              "0 months of tenure and a total that was read as blank", unbilled,
              {"total": [_money(v) for v in total[unbilled]]})
    total[tenure == 0] = np.nan
    billed = given & (tenure > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = total / estimate
    far = billed & ((ratio > TOTAL_RATIO_LIMIT) | (ratio < 1.0 / TOTAL_RATIO_LIMIT))
    ck._add("warning", _TOTAL, MSG_TOTAL_INCONSISTENT,
              "a total far from tenure × monthly charges", far,
              {"total": [_money(v) for v in total[far]], schema.TENURE: tenure[far],
               "monthly": [_money(v) for v in monthly[far]],
               "estimate": [_money(v) for v in estimate[far]]})
    ck.canon[_TOTAL] = total

