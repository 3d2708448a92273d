"""Helpers the page tests share: open a page of the real app, and check it shows no error."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def ok(app: AppTest) -> None:
    """No exception and no error message on the page."""
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def open_page(page: str, timeout: float = 180) -> AppTest:
    """The app run once (its default page), then switched to `page`, checked for errors."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    app.run()
    app.switch_page(page).run()
    ok(app)
    return app
