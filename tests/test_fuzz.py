"""Property-based fuzzing of the validator and of `score` with damaged customer files (issue 17).

A clean file of customers is damaged by a random list of mutations, each on one line (the header
stays intact): random byte flips, truncation, stray quote marks, NUL and other control bytes,
huge cells, wide rows, cells in another encoding, formula-like cells; separately, whole files in
other encodings and archives renamed ``.csv``. Whatever the damage:

- nothing raises;
- memory stays bounded (Python-side peak under ``500 MB + 4 x file size``, tracemalloc);
- valid + rejected = rows read (the rejected table has exactly the rows the frame lacks);
- no untouched row is lost: every line the mutations did not touch is a valid row, unless it
  lies between two damaged lines that a quote mark joined (then the validator says so);
- exports are formula-safe: every cell and header of the rejects file, and of the scores file.

Examples per run: ``CHURN_FUZZ_EXAMPLES`` (default 40 for the validator, a quarter of that for
`score`), so the suite stays within a minute; ``make fuzz`` runs 2,000 (see the Makefile).
Timing is a benchmark concern (``bench/bench_validate.py``), so examples have no deadline here.
"""
from __future__ import annotations

import csv
import gzip
import io
import os
import tarfile
import tracemalloc
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churn import batch, schema
from churn.spreadsheet import escape_frame, is_safe_csv_cell
from churn.validate import MAX_JOIN_LINES, validate

EXAMPLES = int(os.environ.get("CHURN_FUZZ_EXAMPLES", "40"))
SCORE_EXAMPLES = max(5, EXAMPLES // 4)
N_ROWS = 40


def _base_lines() -> list[bytes]:
    from churn.synth import generate_customers

    df = schema.to_file_frame(generate_customers(N_ROWS, 17))
    return df.to_csv(index=False, lineterminator="\n").encode().splitlines()


BASE = _base_lines()

# --- mutations of one data line ------------------------------------------------------------------
KINDS = ("flip", "quote", "nul", "control", "huge", "wide", "latin1", "cp1252", "utf16",
         "formula", "crlf_lone", "truncate")


@st.composite
def mutation(draw):
    kind = draw(st.sampled_from(KINDS))
    line = draw(st.integers(1, N_ROWS))
    where = draw(st.floats(0, 1))
    arg = draw(st.integers(0, 255))
    size = draw(st.sampled_from([65, 257, 5_000, 300_000]))
    return kind, line, where, arg, size


def _apply(lines: list[bytes], kind: str, i: int, where: float, arg: int, size: int) -> bool:
    """Damage line i in place; True when the file is cut after it (truncation)."""
    ln = lines[i]
    at = int(where * len(ln))
    fields = ln.split(b",")
    j = int(where * (len(fields) - 1))
    if kind == "flip":
        lines[i] = ln[:at] + bytes([arg]) + ln[at + 1:]
    elif kind == "quote":
        lines[i] = ln[:at] + b'"' + ln[at:]
    elif kind == "nul":
        lines[i] = ln[:at] + b"\x00" + ln[at:]
    elif kind == "control":
        lines[i] = ln[:at] + bytes([arg % 32 or 1]) + ln[at:]
    elif kind == "huge":
        fields[j] = b"A" * size
        lines[i] = b",".join(fields)
    elif kind == "wide":
        lines[i] = ln[:at] + b"," * size + ln[at:]
    elif kind == "latin1":
        fields[j] = "Élodie Müller".encode("latin-1")
        lines[i] = b",".join(fields)
    elif kind == "cp1252":
        fields[j] = "\u201cYes\u201d".encode("cp1252")
        lines[i] = b",".join(fields)
    elif kind == "utf16":
        fields[j] = "Yes".encode("utf-16")
        lines[i] = b",".join(fields)
    elif kind == "formula":
        fields[j] = b'=HYPERLINK("http://evil/","x")'
        lines[i] = b",".join(fields)
    elif kind == "crlf_lone":
        lines[i] = ln[:at] + b"\r" + ln[at:]
    elif kind == "truncate":
        lines[i] = ln[:at]
        return True
    return False


def _damaged(mutations) -> tuple[bytes, set[int], int]:
    """(file bytes, touched line indexes, lines kept) after applying the mutations."""
    lines = list(BASE)
    touched: set[int] = set()
    keep = len(lines)
    for kind, i, where, arg, size in mutations:
        if i >= keep:
            continue
        touched.add(i)
        if _apply(lines, kind, i, where, arg, size):
            keep = i + 1
    data = b"\n".join(lines[:keep]) + (b"" if keep < len(lines) else b"\n")
    return data, touched, keep


def _ids(line: bytes) -> str:
    return line.split(b",", 1)[0].decode()


def _csv_cells(data: bytes) -> list[str]:
    csv.field_size_limit(max(csv.field_size_limit(), len(data) + 1))   # huge cells are the point
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    return [c for r in rows for c in r]


def _check_report(report, data: bytes, touched: set[int], keep: int) -> None:
    assert report.fatal is None, report.fatal
    frame, rejected = report.frame, report.rejected_frame()
    assert len(frame) + len(rejected) == report.rows
    assert report.rows == report.valid_rows + report.rejected_rows
    assert not set(frame["row"]) & set(rejected["row"])
    # every untouched line is a valid customer (unless two damaged lines close by were joined)
    joined = any("runs over" in p.message for p in report.errors)
    near = {k for a in touched for b in touched if 0 < b - a <= MAX_JOIN_LINES
            for k in range(a + 1, b)}
    valid_ids = set(frame[schema.ID])
    for i in range(1, keep):
        if i in touched:
            continue
        if joined and i in near:
            continue
        assert _ids(BASE[i]) in valid_ids, (i, [str(p) for p in report.errors[:5]])
    # the rejects export is formula-safe, header included
    cells = _csv_cells(escape_frame(rejected).to_csv(index=False, lineterminator="\n").encode())
    assert all(is_safe_csv_cell(c) for c in cells)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(mutation(), min_size=1, max_size=6))
def test_validator_survives_damaged_files(mutations):
    data, touched, keep = _damaged(mutations)
    tracemalloc.start()
    try:
        report = validate(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 500e6 + 4 * len(data)
    _check_report(report, data, touched, keep)


# --- whole files: other encodings, archives renamed .csv ----------------------------------------
def _clean() -> bytes:
    return b"\n".join(BASE) + b"\n"


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("customers.csv", data)
    return buf.getvalue()


def _tar(data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("customers.csv")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


WHOLE = {
    "utf16": lambda d: d.decode().encode("utf-16"),
    "utf8_bom_crlf": lambda d: b"\xef\xbb\xbf" + d.replace(b"\n", b"\r\n"),
    "latin1": lambda d: d.replace(b"Male", "Mâle".encode("latin-1")),
    "zip": _zip,
    "gzip": gzip.compress,
    "tar": _tar,
}


@settings(max_examples=max(12, EXAMPLES // 5), deadline=None, derandomize=True)
@given(st.sampled_from(sorted(WHOLE)), st.integers(0, 4000))
def test_other_encodings_and_archives_renamed_csv(kind, cut):
    data = WHOLE[kind](_clean())
    data = data[:len(data) - cut] if kind in ("zip", "gzip", "tar") else data
    report = validate(data)
    assert len(report.frame) + len(report.rejected_frame()) == report.rows
    if kind in ("zip", "gzip", "tar"):
        assert report.fatal is not None and report.rows == 0
    else:
        assert report.fatal is None and report.rows == N_ROWS


# --- score ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine():
    from _explain_fakes import LinearChurnModel, make_customers

    from churn.ltv import SurvivalModel
    from churn.offers import load_catalogue
    from churn.recommend import OfferRecommender
    from churn.scoring import Engine

    customers = make_customers(300, seed=5)
    catalogue = load_catalogue()
    rng = np.random.default_rng(11)
    rows = []
    for cid in customers[schema.ID].iloc[:150]:
        for o in rng.choice(catalogue.ids, size=3, replace=False):
            rating = int(rng.integers(1, 6))
            rows.append({schema.ID: cid, "offer_id": o, "date": "2024-01-01",
                         "accepted": int(rating >= 4), "rating": rating})
    return Engine(LinearChurnModel().fit(customers), SurvivalModel().fit(customers),
                  OfferRecommender(n_folds=2).fit(pd.DataFrame(rows), customers,
                                                  offer_ids=catalogue.ids),
                  catalogue, customers)


def test_score_survives_damaged_files(engine, tmp_path_factory):
    @settings(max_examples=SCORE_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(st.lists(mutation(), min_size=1, max_size=6), st.sampled_from([7, 16, 100]))
    def run(mutations, chunk_rows):
        data, touched, keep = _damaged(mutations)
        folder = tmp_path_factory.mktemp("fuzz-score")
        src, out = folder / "in.csv", folder / "out.csv"
        src.write_bytes(data)
        res = batch.score_file(src, out, engine=engine, chunk_rows=chunk_rows, workers=1)
        whole = validate(data)
        assert res.problem is None, res.problem
        assert (res.rows, res.scored, res.rejected) == (whole.rows, whole.valid_rows,
                                                       whole.rejected_rows)
        assert res.scored + res.rejected == res.rows
        scores = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert sorted(scores[schema.ID]) == sorted(
            escape_frame(whole.frame[[schema.ID]])[schema.ID])
        for path in (out, batch.rejects_path(out)):
            assert all(is_safe_csv_cell(c) for c in _csv_cells(path.read_bytes()))

    run()


def test_score_refuses_archives_renamed_csv_and_writes_nothing(engine, tmp_path):
    for kind in ("zip", "gzip", "tar"):
        src = tmp_path / f"{kind}.csv"
        src.write_bytes(WHOLE[kind](_clean()))
        res = batch.score_file(src, tmp_path / f"{kind}-out.csv", engine=engine)
        assert res.problem and res.fatal and res.rows == 0
        assert not (tmp_path / f"{kind}-out.csv").exists()
