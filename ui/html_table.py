"""A static table as one piece of HTML, for tables redrawn on every edit (the what-if page).

`st.table` renders every cell as markdown (a component per cell); on the what-if page, redrawn
after each change in the form, its offers table cost the browser about 50 ms a redraw (issue 18).
`table(frame)` gives the same table as plain HTML for ``st.html``: one element, every text
escaped (no markdown, no script), long text wrapping, numbers right-aligned.
"""
from __future__ import annotations

import html
import math

import pandas as pd

_STYLE = """<style>
.ht { border-collapse: collapse; width: 100%; font-size: 14px; color: #31333F; }
.ht th { text-align: left; font-weight: 600; color: #60636e; border-bottom: 1px solid #d6d6d9;
         padding: .35rem .5rem; vertical-align: bottom; }
.ht td { border-bottom: 1px solid #ececef; padding: .35rem .5rem; vertical-align: top;
         overflow-wrap: break-word; }
.ht .n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
</style>"""


def _text(value) -> str:
    """A cell's text: blank for None and NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def table(frame: pd.DataFrame, right: tuple = ()) -> str:
    """HTML of ``frame`` (its columns as headers, no index); the columns named in ``right``
    are right-aligned and never wrap (money, percentages). Every cell is escaped text."""
    head = "".join(f'<th class="n">{html.escape(str(c))}</th>' if c in right
                   else f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    opens = ['<td class="n">' if c in right else "<td>" for c in frame.columns]
    body = "".join(
        "<tr>" + "".join(f"{o}{html.escape(_text(v))}</td>"
                         for o, v in zip(opens, row)) + "</tr>"
        for row in frame.itertuples(index=False, name=None))
    return f'{_STYLE}<table class="ht"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
