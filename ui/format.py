"""Numbers as business users read them: "$1,234", "26.5%", "+3.2 pp", "7,043".

Pure functions (no streamlit), so pages, tables and tests share one spelling. Missing values
(None, NaN, infinities) become an em dash so a table never shows "nan".
"""
from __future__ import annotations

import math

MISSING = "—"
#: Number format of a percentage column in a grid (`st.column_config.NumberColumn`): one decimal,
#: "92.9%", for values in percent (`percent_columns`). Streamlit's own "percent" preset shows up
#: to two decimals ("91.24%", "86.2%"), so a column mixed the two (issue 16).
PERCENT = "%.1f%%"


def _number(x) -> float | None:
    """x as a finite float, or None when it is missing or not a number."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def money(x, decimals: int = 0) -> str:
    """Dollars: money(1234.4) -> "$1,234"; money(-80) -> "-$80"; money(9.5, 2) -> "$9.50"."""
    v = _number(x)
    if v is None:
        return MISSING
    text = f"${abs(v):,.{decimals}f}"
    return f"-{text}" if round(v, decimals) < 0 else text


def money_short(x) -> str:
    """Dollars abbreviated for headline metrics: "$950", "$12.3K", "$4.56M", "$1.2B"."""
    v = _number(x)
    if v is None:
        return MISSING
    a = abs(v)
    for size, suffix, digits in ((1e9, "B", 1), (1e6, "M", 2), (1e3, "K", 1)):
        if a >= size:
            text = f"${a / size:,.{digits}f}{suffix}"
            break
    else:
        text = f"${a:,.0f}"
    return f"-{text}" if v < 0 and text != "$0" else text


def pct(p, decimals: int = 1) -> str:
    """A share or probability 0..1 as a percentage: pct(0.2654) -> "26.5%"."""
    v = _number(p)
    return MISSING if v is None else f"{v * 100:.{decimals}f}%"


def pp(delta, decimals: int = 1, signed: bool = True) -> str:
    """A difference of probabilities (0..1 scale) in percentage points: pp(0.032) -> "+3.2 pp".

    Percentage points, not percent: going from 20% to 23% is +3 pp (a 15% relative rise).
    """
    v = _number(delta)
    if v is None:
        return MISSING
    v = v * 100
    if round(v, decimals) == 0:
        v = 0.0  # no "-0.0 pp"
    sign = "+" if signed and v > 0 else ""
    return f"{sign}{v:.{decimals}f} pp"


def count(n) -> str:
    """A whole number with thousands separators: count(7043) -> "7,043"."""
    v = _number(n)
    return MISSING if v is None else f"{round(v):,}"


def months(n, decimals: int = 0) -> str:
    """A duration in months: months(1) -> "1 month", months(36) -> "36 months"."""
    v = _number(n)
    if v is None:
        return MISSING
    text = f"{v:,.{decimals}f}"
    return f"{text} month" if text in ("1", "1.0") else f"{text} months"


__all__ = ["MISSING", "money", "money_short", "pct", "pp", "count", "months"]


def percent_columns(frame, columns):
    """A copy of ``frame`` with the named columns (shares, 0..1) in percent (0..100), for a grid
    whose columns are formatted with `PERCENT`; names not in the frame are skipped."""
    present = [c for c in columns if c in frame.columns]
    return frame.assign(**{c: frame[c] * 100.0 for c in present}) if present else frame
