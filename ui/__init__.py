"""Streamlit helpers shared by the pages: caching, session state, formatting and widgets.

Layer rules (see docs/design.md): `churn/` computes everything and never imports streamlit;
`ui/` owns caching (`ui.context`), session state (`ui.state`), number formatting (`ui.format`),
the sidebar (`ui.sidebar`), the page-level error guard (`ui.errors`) and reusable widgets
(`ui.widgets.<name>.show(key, ...) -> value`); `app_pages/*.py` stay thin.
"""
