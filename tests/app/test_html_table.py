"""`ui.html_table`: a static table as escaped HTML (the what-if page's offers and changes)."""
from __future__ import annotations

import pandas as pd
import pytest

from ui import html_table


def test_cells_headers_and_alignment():
    frame = pd.DataFrame({"Offer": ["Autopay incentive", "Plan review"],
                          "Cost": ["$30", "$40"], "Note": [float("nan"), "3"]})
    out = html_table.table(frame, right=("Cost",))
    assert out.count("<tr>") == 3  # the header row and two rows
    assert '<th class="n">Cost</th>' in out and "<th>Offer</th>" in out
    assert '<td class="n">$30</td>' in out and "<td>Autopay incentive</td>" in out
    assert "<td></td>" in out and "<td>3</td>" in out  # NaN shows as blank


@pytest.mark.parametrize("text, shown", [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('=HYPERLINK("x") & <b>', "=HYPERLINK(&quot;x&quot;) &amp; &lt;b&gt;"),
])
def test_text_is_escaped(text, shown):
    out = html_table.table(pd.DataFrame({"<i>Why</i>": [text]}))
    assert f"<td>{shown}</td>" in out
    assert "<th>&lt;i&gt;Why&lt;/i&gt;</th>" in out
    assert "<script>" not in out and "<b>" not in out
