"""AppTest: the admin gate (ui/admin.py) on the Model report page's "Use this version" and the
Upload & score page's "Train a new model": open when no password is configured, locked with one
(from the environment or the secrets file), unlocked by the right password for the session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pagetest import ok, open_page  # noqa: E402

from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto  # noqa: E402

from ui import admin  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPORT = "app_pages/6_Model_report.py"
UPLOAD = "app_pages/5_Upload_and_score.py"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def no_password(monkeypatch, data_dir):
    monkeypatch.delenv(admin.ENV, raising=False)


def _keys(app: AppTest, kind: str) -> set:
    return {w.key for w in getattr(app, kind)}


def test_open_when_no_password_is_configured():
    app = open_page(REPORT)
    assert "report_activate" in _keys(app, "button")
    assert "report_admin_password" not in _keys(app, "text_input")


def test_locked_until_the_right_password_then_remembered(monkeypatch):
    monkeypatch.setenv(admin.ENV, PASSWORD)
    app = open_page(REPORT)
    assert "report_activate" not in _keys(app, "button")
    field = app.text_input(key="report_admin_password")
    assert field.label == "Admin password" and field.proto.type == TextInputProto.PASSWORD
    field.input("guess").run()
    assert [e.value for e in app.error] == [admin.MSG_WRONG]
    assert "report_activate" not in _keys(app, "button")
    app.text_input(key="report_admin_password").input(PASSWORD).run()
    ok(app)
    assert "report_activate" in _keys(app, "button")
    assert "report_admin_password" not in _keys(app, "text_input")
    assert app.session_state[admin.SESSION_KEY] is True
    app.button(key="report_activate").click().run()
    ok(app)
    assert "report_admin_password" not in _keys(app, "text_input")  # remembered for the session
    version = app.selectbox(key="report_version").value[:8]
    assert [x.value.startswith(f"Version {version} is now in use on every page")
            for x in app.success] == [True]


def test_password_from_the_secrets_file_locks_too():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.secrets[admin.SECRET] = PASSWORD
    app.run()
    app.switch_page(REPORT).run()
    ok(app)
    assert "report_activate" not in _keys(app, "button")
    assert "report_admin_password" in _keys(app, "text_input")
    assert [c.value for c in app.caption if "admin password" in c.value] == [
        ":material/lock: Switching the model version in use needs the admin password. Ask your "
        "workbench administrator."]


def test_retrain_on_upload_needs_the_password(monkeypatch, data_dir):
    from churn import config

    monkeypatch.setenv(admin.ENV, PASSWORD)
    data = config.paths(data_dir).customers_csv.read_bytes()
    head = b"\n".join(data.splitlines()[:60]) + b"\n"
    app = open_page(UPLOAD)
    app.file_uploader(key="upload_file").upload("with-churn.csv", head, "text/csv").run()
    ok(app)
    assert "upload_retrain" not in _keys(app, "button")
    app.text_input(key="upload_retrain_admin_password").input(PASSWORD).run()
    ok(app)
    assert "upload_retrain" in _keys(app, "button")
