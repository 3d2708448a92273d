"""AppTest: the Model report's uplift section on the default sample (its campaign history has
eight offers with enough randomised history and two without)."""
from __future__ import annotations

import pandas as pd
from pagetest import ok, open_page

from churn import uplift as U

PAGE = "app_pages/6_Model_report.py"


def test_uplift_section_shows_learned_and_assumed_offers(data_dir):
    app = open_page(PAGE, timeout=300)
    # its own tab, built when chosen (it needs the whole scoring engine)
    assert "What offers really do (uplift)" not in [s.value for s in app.subheader]
    app.session_state["report_section"] = "What offers really do (uplift)"
    app.run()
    ok(app)
    assert "What offers really do (uplift)" in [s.value for s in app.subheader]
    table = next(d.value for d in app.dataframe if "Qini: model" in d.value.columns)
    basis = dict(zip(table["Offer"], table["Effect"]))
    # the sample's pilot offers have too little history; the others are learned
    assert basis["Contract upgrade discount"] == "learned"
    assert basis["Fiber care visit"] == basis["Family add-a-line discount"] == "assumed"
    # under the table, the core's sentence on the same Qini figures: risk alone ranks as well
    # for k of the learned offers, k as the table shows it (give or take its rounded ties)
    learned = table[table["Effect"] == "learned"]
    model, risk = learned["Qini: model"].astype(float), learned["Qini: risk"].astype(float)
    n = len(learned)
    notes = {k: U.ranking_note(pd.DataFrame({"basis": "learned", "qini_model": [1.0] * n,
                                             "qini_risk": [2.0] * k + [0.0] * (n - k)}))
             for k in range(n + 1)}
    shown = [k for k, text in notes.items() if text in [c.value for c in app.caption]]
    assert len(shown) == 1
    assert int((risk > model).sum()) <= shown[0] <= int((risk >= model).sum())
    metric = next(m for m in app.metric
                  if m.label.startswith("Budget that risk-only targeting spends"))
    assert metric.value.endswith("%")
    box = app.selectbox(key="uplift_offer")
    assert len(box.options) >= 1
    box.select_index(len(box.options) - 1).run()
    ok(app)
    assert "What offers really do (uplift)" in [s.value for s in app.subheader]
