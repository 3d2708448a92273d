"""`churn.cache`: the one disk cache (engine parts, scorings, retention curves, explanations)."""
from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from churn import cache
from churn.cache import DiskCache


def test_a_saved_object_comes_back_from_a_new_cache_object(tmp_path):
    frame = pd.DataFrame({"p": np.linspace(0, 1, 5), "tier": list("HHMLL")})
    k = cache.key("scored", "v1", (("margin", 0.3),))
    assert DiskCache(tmp_path).write("scored", k, (frame, {"n": 5}))
    got, extra = DiskCache(tmp_path).read("scored", k)
    pd.testing.assert_frame_equal(got, frame)
    assert extra == {"n": 5}
    assert [p.name for p in tmp_path.iterdir()] == [f"scored-{k}.pkl"]  # no temporary file


def test_get_computes_once(tmp_path):
    calls = []
    disk = DiskCache(tmp_path)
    k = cache.key("km", "abc", "Contract")
    for _ in range(3):
        assert disk.get("km", k, lambda: calls.append(1) or 42) == 42
    assert calls == [1] and disk.has("km", k) and not disk.has("km", cache.key("km", "other"))


def test_keys_depend_on_every_part_and_on_the_code(tmp_path, monkeypatch):
    assert cache.key("a", 1) == cache.key("a", 1)
    assert len({cache.key("a", 1), cache.key("a", 2), cache.key("a", 1, None), cache.key("b", 1),
                cache.key(b"a", 1)}) == 5
    # the code stamp hashes every .py file under the package, subpackages too
    pkg = tmp_path / "pkg"
    (pkg / "models").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "models" / "family.py").write_text("y = 1\n")
    monkeypatch.setattr(cache, "_CHURN", pkg)
    before = cache.key("a", 1)
    time.sleep(0.01)
    (pkg / "models" / "family.py").write_text("y = 2\n")
    assert cache.key("a", 1) != before


def test_an_unreadable_file_is_computed_again(tmp_path):
    disk = DiskCache(tmp_path)
    k = cache.key("parts", "x")
    disk.path("parts", k).write_bytes(b"not a pickle")
    assert disk.read("parts", k) is None
    assert disk.get("parts", k, lambda: "fitted") == "fitted"
    assert disk.read("parts", k) == "fitted"


def test_each_kind_keeps_its_most_recently_used_files(tmp_path):
    disk = DiskCache(tmp_path, keep=2)
    keys = [cache.key("scored", i) for i in range(3)]
    for i, k in enumerate(keys[:2]):
        disk.write("scored", k, i)
        os.utime(disk.path("scored", k), ns=(10**18 + i, 10**18 + i))
    disk.write("km", cache.key("km", 0), "other kind")
    assert disk.read("scored", keys[0]) == 0          # reading makes it the most recent
    disk.write("scored", keys[2], 2)
    assert disk.has("scored", keys[0]) and disk.has("scored", keys[2])
    assert not disk.has("scored", keys[1])             # the least recently used went
    assert disk.has("km", cache.key("km", 0))          # other kinds are not touched


def test_a_kind_stays_within_its_bytes(tmp_path):
    disk = DiskCache(tmp_path, max_bytes=1)
    a, b = cache.key("big", "a"), cache.key("big", "b")
    disk.write("big", a, "x" * 1000)
    os.utime(disk.path("big", a), ns=(10**18, 10**18))
    disk.write("big", b, "y" * 1000)
    assert disk.has("big", b) and not disk.has("big", a)  # the newest is always kept


def test_a_cache_that_cannot_be_written_only_says_so(tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    disk = DiskCache(blocker / "cache")
    assert disk.write("scored", cache.key("x"), 1) is False
    assert disk.get("scored", cache.key("x"), lambda: 7) == 7
    assert "could not write cache file" in caplog.text


@pytest.mark.parametrize("kind, k, message", [
    ("scored/../x", "abc", "cache kind 'scored/../x' must be a plain word, e.g. 'scored'"),
    ("scored", "../../etc", "cache key '../../etc' must be letters, digits, '-' or '_' "
                            "(use churn.cache.key(...))"),
    ("scored", "", "cache key '' must be letters, digits, '-' or '_' (use churn.cache.key(...))"),
])
def test_kinds_and_keys_cannot_leave_the_folder(tmp_path, kind, k, message):
    with pytest.raises(ValueError) as e:
        DiskCache(tmp_path).path(kind, k)
    assert str(e.value) == message


def test_the_data_folder_caches(tmp_path):
    from churn import config

    p = config.paths(tmp_path)
    assert cache.results(p).folder == p.data_dir / "cache"
    assert cache.parts(p).folder == p.models_dir / "_parts"
    cache.results(p).write("km", cache.key("km"), 1)
    cache.results(p).clear()
    assert list((p.data_dir / "cache").iterdir()) == []
