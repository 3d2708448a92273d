"""`ui.disk_cache.code_stamp`: changed code in any churn module, subpackages included, never
reads an old cached result."""
from __future__ import annotations

import os

from ui import disk_cache


def test_code_stamp_changes_with_a_module_in_a_subpackage(tmp_path, monkeypatch):
    pkg = tmp_path / "churn"
    (pkg / "models" / "families").mkdir(parents=True)
    (pkg / "scoring.py").write_text("A = 1\n")
    deep = pkg / "models" / "families" / "xgb.py"
    deep.write_text("DEPTH = 3\n")
    monkeypatch.setattr(disk_cache, "_CHURN", pkg)
    monkeypatch.setattr(disk_cache, "_SOURCES", {})
    before = disk_cache.code_stamp()
    assert disk_cache.code_stamp() == before
    deep.write_text("DEPTH = 4\n")
    os.utime(deep, ns=(1, 1))     # a new signature even on a coarse-clock file system
    assert disk_cache.code_stamp() != before


def test_code_stamp_tells_equal_files_in_different_folders_apart(tmp_path, monkeypatch):
    pkg = tmp_path / "churn"
    (pkg / "models").mkdir(parents=True)
    (pkg / "models" / "a.py").write_text("X = 1\n")
    monkeypatch.setattr(disk_cache, "_CHURN", pkg)
    monkeypatch.setattr(disk_cache, "_SOURCES", {})
    nested = disk_cache.code_stamp()
    (pkg / "models" / "a.py").rename(pkg / "a.py")
    assert disk_cache.code_stamp() != nested
