"""The what-if page's HTML waterfall (`ui.waterfall_html`), checked against the rows it draws:
each bar spans the running total before and after its feature, on the scale under the chart."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _explain_fakes import LinearChurnModel, make_customers  # noqa: E402

from churn import explain as E  # noqa: E402
from ui import waterfall_html as W  # noqa: E402

BAR = re.compile(r'class="wf-bar" style="left:([\d.]+)%;width:([\d.]+)%;background:(#\w+)"')
VALUE = re.compile(r'class="wf-value[^"]*">([^<]*)<')
TICK = re.compile(r'<span style="left:([\d.]+)%">([^<]*)</span>')


@pytest.fixture(scope="module")
def rows():
    data = make_customers(300, seed=11)
    expl = E.explain(LinearChurnModel().fit(data), data)
    return E.waterfall_data(expl, 5, k=4)


def _spans(rows: pd.DataFrame) -> list[tuple[float, float]]:
    """Each bar's (start, end) in percent, computed here from the rows."""
    out, total = [], 0.0
    for m, v in zip(rows["measure"], rows["pp"]):
        if m == "relative":
            out.append((total, total + v))
            total += v
        else:
            out.append((0.0, v))
            total = v
    return out


def test_bars_span_the_running_total_on_the_scale(rows):
    html = W.waterfall(rows)
    bars = [(float(a), float(b), c) for a, b, c in BAR.findall(html)]
    assert len(bars) == len(rows) == 7  # baseline, 4 features, all other features, customer
    spans = _spans(rows)
    lo = min(0.0, min(min(s) for s in spans))
    hi = max(max(max(s) for s in spans), lo + 1.0)
    for (left, width, colour), (a, b), (m, pp) in zip(bars, spans, zip(rows["measure"], rows["pp"])):
        assert left == pytest.approx(100 * (min(a, b) - lo) / (hi - lo), abs=0.01)
        assert width == pytest.approx(100 * abs(b - a) / (hi - lo), abs=0.02)
        assert colour == (W.NEUTRAL if m != "relative" else W.RAISE if pp > 0 else W.LOWER)
    # the last bar (this customer) ends where the features' running total ends
    assert spans[-1][1] == pytest.approx(spans[-2][1], abs=1e-9)


def test_values_and_labels_are_the_rows(rows):
    html = W.waterfall(rows)
    values = VALUE.findall(html)
    assert values[0] == f"{rows['pp'].iloc[0]:.1f}%"
    assert values[-1] == f"{rows['pp'].iloc[-1]:.1f}%"
    assert values[1:-1] == [f"{v:+.1f} pp" for v in rows["pp"].iloc[1:-1]]
    assert f"{E.OTHER_LABEL}<small>({rows['value_display'].iloc[-2]})</small>" in html
    assert f"{rows['label'].iloc[1]}<small>{rows['value_display'].iloc[1]}</small>" in html
    assert "Churn probability (%)" in html and "<script" not in html


def test_scale_ticks_are_round_and_inside_the_range(rows):
    ticks = [(float(p), t) for p, t in TICK.findall(W.waterfall(rows))]
    assert 2 <= len(ticks) <= 6
    assert all(0.0 <= p <= 100.0 for p, _ in ticks)
    assert ticks[0][1] == "0%"
    assert W._ticks(0.0, 95.6) == [0.0, 20.0, 40.0, 60.0, 80.0]
    assert W._ticks(-3.0, 12.0) == [-2.5, 0.0, 2.5, 5.0, 7.5, 10.0]


def test_text_is_escaped():
    rows = pd.DataFrame({"measure": ["absolute", "relative", "total"],
                         "feature": ["", "x", ""],
                         "label": ["Model baseline", "<b>Plan</b>", "This customer"],
                         "value_display": ["20.0%", '"><script>alert(1)</script>', "25.0%"],
                         "pp": [20.0, 5.0, 25.0]})
    html = W.waterfall(rows, title="A & B")
    assert "<script>" not in html and "<b>Plan" not in html
    assert "&lt;b&gt;Plan&lt;/b&gt;" in html and "A &amp; B" in html


def test_no_rows_is_refused():
    with pytest.raises(ValueError, match="^waterfall: no rows to draw$"):
        W.waterfall(pd.DataFrame(columns=["measure", "feature", "label", "value_display", "pp"]))
