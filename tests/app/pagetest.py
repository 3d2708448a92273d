"""Helpers the page tests share: open a page of the real app, and check it shows no error."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def ok(app: AppTest) -> None:
    """No exception and no error message on the page."""
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def open_page(page: str, timeout: float = 180, dataset: str | None = None) -> AppTest:
    """The app run once (its default page), then switched to `page`, checked for errors.
    dataset: the data set chosen in the sidebar first (`ui.state.PENDING_DATASET`, e.g.
    "saved:june"); None: the default."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if dataset is not None:
        from ui import state

        app.session_state[state.PENDING_DATASET] = dataset
    app.run()
    app.switch_page(page).run()
    ok(app)
    return app


def forbid_loading(monkeypatch) -> None:
    """Make loading a saved batch into memory fail the test (a page at a million customers must
    ask the store for what it shows instead)."""
    from churn.store import Store
    from ui import context

    def no_loading(*_a, **_k):
        raise AssertionError("the saved batch was loaded into memory")

    monkeypatch.setattr(context, "_saved_frame", no_loading)
    monkeypatch.setattr(Store, "load_batch", no_loading)


def open_saved(page: str, store_path, name: str, batch, monkeypatch,
               timeout: float = 300) -> AppTest:
    """`page` with the customers of ``batch`` saved to the store at ``store_path`` as ``name``
    and chosen: opened once (which builds the batch's stored list, as the Customers page does),
    then again with loading the batch into memory forbidden (`forbid_loading`)."""
    from churn.store import Store

    Store(store_path).save_batch(name, batch, kind="upload")
    open_page(page, timeout, dataset=f"saved:{name}")
    forbid_loading(monkeypatch)
    return open_page(page, timeout, dataset=f"saved:{name}")
