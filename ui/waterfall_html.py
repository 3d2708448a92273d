"""The what-if page's waterfall as plain HTML: from the average customer's churn probability,
feature by feature, to this customer's.

Why HTML and not Plotly: the what-if page redraws the waterfall on every edit of the form, and
issue 18 asks for ≤ 250 ms from a widget change to the figures drawn in the browser. A Plotly
waterfall cost about 75 ms to build on the server (figure validation and the template) and
about 150 ms for plotly.js to lay out and paint in Chromium; these rows of ``<div>`` cost about
1 ms to build and are painted with the rest of the page. What the chart shows is the same: one
bar per driver from the running total before it to the running total after it, red where the
feature raises the risk, blue where it lowers it, grey for the average and the final figure; the
value of each bar beside it, and a scale in percent underneath.

`waterfall(rows)` takes `churn.explain.waterfall_data` / `churn.whatif.waterfall_rows` output and
returns one HTML string (no script; every text is escaped), drawn with ``st.html``.
"""
from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from churn import explain as E

RAISE = "#d62728"   # raises the churn risk (the same colours as `ui.explain_charts`)
LOWER = "#1f77b4"   # lowers the churn risk
NEUTRAL = "#7f7f7f"
TEXT = "#31333F"
GRID = "#e6e6e6"

_STYLE = f"""<style>
.wf {{ font-size: 14px; color: {TEXT}; line-height: 1.25; }}
.wf-title {{ font-weight: 600; font-size: 15px; margin: 0 0 .5rem 0; }}
.wf-grid {{ display: grid; grid-template-columns: minmax(6.5em, 34%) 1fr auto;
            column-gap: .5rem; row-gap: .3rem; align-items: center; }}
.wf-label {{ text-align: right; overflow-wrap: break-word; }}
.wf-label small {{ display: block; color: #60636e; font-size: 12.5px; }}
.wf-track {{ position: relative; height: 1.35rem; }}
.wf-tick {{ position: absolute; top: 0; bottom: 0; width: 1px; background: {GRID}; }}
.wf-bar {{ position: absolute; top: .1rem; bottom: .1rem; min-width: 2px; border-radius: 2px; }}
.wf-value {{ font-variant-numeric: tabular-nums; white-space: nowrap; text-align: right;
             min-width: 4.2em; }}
.wf-total {{ font-weight: 600; }}
.wf-axis {{ position: relative; height: 1.2rem; font-size: 12px; color: #60636e; }}
.wf-axis span {{ position: absolute; transform: translateX(-50%); white-space: nowrap; }}
.wf-axis-title {{ grid-column: 2; text-align: center; font-size: 12.5px; color: #60636e; }}
.wf-note {{ margin-top: .6rem; font-size: 14px; color: rgba(49, 51, 63, 0.6); }}
</style>"""

_STEPS = (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50)


def _ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round tick positions (percent) inside [lo, hi], at most ``most`` of them."""
    span = max(hi - lo, 1e-9)
    step = next((s for s in _STEPS if span / s <= most), 100.0)
    first = math.ceil(lo / step) * step
    return [round(first + j * step, 6) for j in range(int((hi - first) / step + 1e-9) + 1)]


def _extent(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Each row's bar start and end (percent), and the scale's range."""
    measure = rows["measure"].to_numpy()
    pp = rows["pp"].to_numpy(float)
    start, end = np.zeros(len(rows)), np.zeros(len(rows))
    total = 0.0
    for j, (m, v) in enumerate(zip(measure, pp)):
        if m == "relative":
            start[j], end[j] = total, total + v
            total += v
        else:                       # the average customer (absolute) and this customer (total)
            start[j], end[j] = 0.0, v
            total = v
    lo = min(0.0, float(np.minimum(start, end).min()))
    hi = max(float(np.maximum(start, end).max()), lo + 1.0)
    return start, end, lo, hi


def _fmt_tick(t: float) -> str:
    return f"{t:.1f}%" if t != int(t) else f"{int(t)}%"


def waterfall(rows: pd.DataFrame, title: str = "Why this customer's risk is what it is",
              note: str | None = None) -> str:
    """HTML of the waterfall for `churn.explain.waterfall_data` rows (columns measure, feature,
    label, value_display, pp; pp in percent for the first and last row, percentage points for
    the features), with ``note`` (e.g. the unit note) under it in caption style. Every text is
    HTML-escaped."""
    if len(rows) == 0:
        raise ValueError("waterfall: no rows to draw")
    start, end, lo, hi = _extent(rows)
    ticks = _ticks(lo, hi)
    span = hi - lo

    def pos(x: float) -> float:
        return 100.0 * (x - lo) / span

    grid = "".join(f'<div class="wf-tick" style="left:{pos(t):.2f}%"></div>' for t in ticks)
    out = [_STYLE, '<div class="wf" role="figure" aria-label="', html.escape(title), '">',
           f'<div class="wf-title">{html.escape(title)}</div><div class="wf-grid">']
    for j, r in enumerate(rows.itertuples(index=False)):
        relative = r.measure == "relative"
        colour = NEUTRAL if not relative else (RAISE if r.pp > 0 else LOWER)
        value = f"{r.pp:+.1f} pp" if relative else f"{r.pp:.1f}%"
        if r.label == E.OTHER_LABEL:
            label = f"{html.escape(r.label)}<small>({html.escape(str(r.value_display))})</small>"
        elif relative and r.value_display:
            label = f"{html.escape(r.label)}<small>{html.escape(str(r.value_display))}</small>"
        else:
            label = html.escape(r.label)
        left, right = sorted((pos(start[j]), pos(end[j])))
        tip = html.escape(f"{r.label}{': ' + str(r.value_display) if relative else ''}: {value}")
        cls = "" if relative else " wf-total"
        out.append(
            f'<div class="wf-label{cls}">{label}</div>'
            f'<div class="wf-track" title="{tip}">{grid}<div class="wf-bar" style="left:'
            f'{left:.2f}%;width:{right - left:.2f}%;background:{colour}"></div></div>'
            f'<div class="wf-value{cls}">{html.escape(value)}</div>')
    axis = "".join(f'<span style="left:{pos(t):.2f}%">{_fmt_tick(t)}</span>' for t in ticks)
    out.append(f'<div></div><div class="wf-axis">{axis}</div><div></div>'
               '<div class="wf-axis-title">Churn probability (%)</div>')
    out.append("</div>")
    if note:
        out.append(f'<div class="wf-note">{html.escape(note)}</div>')
    out.append("</div>")
    return "".join(out)
