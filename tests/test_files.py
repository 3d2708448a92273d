"""churn.files (the one atomic-write mechanism) and churn.console (the one table printer)."""
from __future__ import annotations

import pytest

from churn import files


def test_a_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "deep" / "out.csv"
    files.write_text(target, "a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    files.write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.csv"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "scores.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        with files.atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".scores.csv.")
            tmp.write_text("half of the new fi")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_two_writers_never_share_a_temporary_name(tmp_path):
    names = {files.temporary_name(tmp_path / "x.json").name for _ in range(100)}
    assert len(names) == 100


def test_text_table_pads_each_column_to_its_widest_cell():
    from churn.console import text_table

    out = text_table(["", "family", "ROC-AUC"], [["*", "cat", 0.85], ["", "lr", "0.8"]], rule=True)
    assert out.splitlines() == ["   family  ROC-AUC",
                                "-  ------  -------",
                                "*  cat     0.85",
                                "   lr      0.8"]


def test_process_alive_knows_a_running_a_reaped_and_a_zombie_process():
    import os
    import subprocess
    import sys
    import time

    from churn.files import process_alive

    assert process_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while process_alive(child.pid) and time.monotonic() < deadline:  # exits, not yet reaped
        time.sleep(0.05)
    assert not process_alive(child.pid)   # a zombie counts as gone
    child.wait()
    assert not process_alive(child.pid)   # reaped: no such process
