"""Tests of churn.batch (chunked scoring of a customer file) and `python -m churn score`.

The engine is a real `scoring.Engine` built from small, quickly fitted parts (a linear churn model
with exact contributions, a survival model, the offer recommender, the shipped catalogue), made
once for the module; the command-line tests hand it to `Engine.load` so no churn model is trained.
Expected values are computed independently: `validate` of the whole file (rows kept, rejected
rows and their reasons) and `Engine.score` of the valid rows in one call.
"""
from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import pytest

from churn import batch, cli, schema
from churn.config import BusinessSettings
from churn.scoring import SCORE_COLUMNS, Engine
from churn.validate import validate, validate_chunk

TEXT_COLUMNS = [c for c in SCORE_COLUMNS if c not in batch.FLOAT_COLUMNS]


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine():
    """`_explain_fakes.fake_engine`: 400 customers, offer history for the first 200."""
    from _explain_fakes import fake_engine

    return fake_engine(400, 200)


@pytest.fixture()
def use_engine(engine, monkeypatch):
    """`Engine.load` hands out the module's engine (records the calls)."""
    calls = []

    def load(cls, paths=None, progress=None):
        calls.append(paths)
        return engine

    monkeypatch.setattr(Engine, "load", classmethod(load))
    return calls


def _customers(n: int, seed: int) -> pd.DataFrame:
    from churn.synth import generate_customers

    return generate_customers(n, seed)


def _lines(df: pd.DataFrame) -> list[str]:
    """Header + one text line per customer, in the IBM layout."""
    buf = io.StringIO()
    schema.to_file_frame(df).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().splitlines()


def _set(line: str, column: str, value: str) -> str:
    fields = line.split(",")
    fields[schema.FILE_COLUMNS.index(column)] = value
    return ",".join(fields)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A CSV with BOM, ';' delimiter, CRLF, a blank line and bad rows.

    Returns (path, bad) where bad maps the file row number of each bad row (header = row 1) to
    the text its reason must contain.
    """
    lines = _lines(_customers(40, 3))
    bad = {}
    lines[3] = _set(lines[3], "gender", "Mlae")                     # row 4
    bad[4] = 'gender: "Mlae" is not a known value'
    lines[9] = _set(lines[9], "tenure", "abc")                      # row 10
    bad[10] = 'tenure: "abc" is not a number of months'
    lines[20] = _set(lines[20], schema.ID, lines[5].split(",")[0])  # row 21 repeats row 6
    bad[21] = f'customer ID "{lines[5].split(",")[0]}" already appears in row 6'
    lines[30] = _set(lines[30], "MonthlyCharges", "")               # row 31
    bad[31] = "MonthlyCharges: the value is missing"
    lines.insert(15, "")                                            # blank line = row 16
    bad = {(r if r < 16 else r + 1): t for r, t in bad.items()}     # rows after it move down
    path = tmp_path_factory.mktemp("messy") / "customers.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(ln.replace(",", ";") for ln in lines) + "\r\n")
                     .encode("utf-8"))
    return path, bad


def _read_scores(path) -> pd.DataFrame:
    if str(path).endswith(".parquet"):
        return pd.read_parquet(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in batch.FLOAT_COLUMNS:
        df[c] = [float(v) if v else np.nan for v in df[c]]   # exact: CSV holds repr()
    return df


def _read_rejects(path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["row"] = df["row"].astype("int64")
    return df


def _expected(engine, path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores, rejects) computed independently: whole-file validate + one Engine.score call."""
    report = validate(path)
    frame = report.frame.drop(columns="row")
    scores = engine.score(frame).reset_index(drop=True)[SCORE_COLUMNS]
    return scores, report.rejected_frame()


# --- score_file ----------------------------------------------------------------------------------
def test_good_rows_are_scored_and_bad_rows_rejected_with_file_row_numbers(engine, messy,
                                                                          tmp_path):
    path, bad = messy
    out = tmp_path / "scores.csv"
    res = batch.score_file(path, out, engine=engine, chunk_rows=1000)
    want_scores, want_rejects = _expected(engine, path)

    got = _read_scores(out)
    assert list(got.columns) == SCORE_COLUMNS
    pd.testing.assert_frame_equal(got, want_scores, check_exact=True, check_dtype=False)
    assert len(got) == 40 - 4

    rejects = _read_rejects(tmp_path / "scores.rejects.csv")
    assert rejects["row"].tolist() == sorted(bad)
    for row, text in bad.items():
        assert text in rejects.loc[rejects["row"] == row, "reasons"].item()
    pd.testing.assert_frame_equal(rejects, want_rejects.astype({"row": "int64"}),
                                  check_dtype=False)
    assert (res.rows, res.scored, res.rejected) == (40, 36, 4)
    assert res.problem is None and res.seconds > 0
    assert not list(tmp_path.glob("*.partial"))


def test_small_chunks_give_the_same_files_as_one_chunk(engine, messy, tmp_path):
    path, _ = messy
    one, small = tmp_path / "one.csv", tmp_path / "small.csv"
    batch.score_file(path, one, engine=engine, chunk_rows=10_000)
    res = batch.score_file(path, small, engine=engine, chunk_rows=7, read_block_bytes=64)
    assert res.rows == 40
    a, b = _read_scores(one), _read_scores(small)
    pd.testing.assert_frame_equal(a[TEXT_COLUMNS], b[TEXT_COLUMNS])
    # floats agree to rounding (linear algebra on other batch shapes), usually exactly
    pd.testing.assert_frame_equal(a[list(batch.FLOAT_COLUMNS)], b[list(batch.FLOAT_COLUMNS)],
                                  rtol=1e-9, atol=1e-9)
    assert (tmp_path / "one.rejects.csv").read_bytes() == (tmp_path / "small.rejects.csv") \
        .read_bytes()


def _one_and_two_workers(engine, path, tmp_path) -> pd.DataFrame:
    """Score ``path`` with one and with two worker processes; assert both give the same scores
    (40 rows, 36 scored, 4 rejected); return the two-worker scores."""
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    batch.score_file(path, one, engine=engine, chunk_rows=6, workers=1)
    res = batch.score_file(path, two, engine=engine, chunk_rows=6, workers=2)
    assert (res.rows, res.scored, res.rejected) == (40, 36, 4)
    a, b = _read_scores(one), _read_scores(two)
    pd.testing.assert_frame_equal(a[TEXT_COLUMNS], b[TEXT_COLUMNS])
    pd.testing.assert_frame_equal(a[list(batch.FLOAT_COLUMNS)], b[list(batch.FLOAT_COLUMNS)],
                                  rtol=1e-9, atol=1e-9)
    return b


def test_worker_processes_give_the_same_files(engine, messy, tmp_path):
    path, _ = messy
    _one_and_two_workers(engine, path, tmp_path)
    assert (tmp_path / "one.rejects.csv").read_bytes() == (tmp_path / "two.rejects.csv") \
        .read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.csv", "one.rejects.csv",
                                                         "two.csv", "two.rejects.csv"]


def test_worker_processes_with_a_real_xgboost_engine_give_the_same_files(messy, tmp_path):
    """Issue 16: the worker path with a real tree model (XGBoost, pickled to the workers), not
    only the linear fake."""
    from _explain_fakes import fake_engine, make_customers

    from churn import models

    trained = models.train(make_customers(1500, seed=8),
                           models.TrainConfig(families=("xgb",), grid="small", folds=2),
                           tmp_path / "models")
    assert trained.model.family == "xgb"
    engine = fake_engine(400, 200, model=trained.model)
    path, _ = messy
    b = _one_and_two_workers(engine, path, tmp_path)
    expected = engine.score(validate(path).frame.drop(columns="row"))["churn_prob"]
    np.testing.assert_allclose(b["churn_prob"].to_numpy(), expected.round(4).to_numpy(),
                               atol=5e-5)


def test_an_engine_that_cannot_be_pickled_is_used_in_this_process(engine, messy, tmp_path,
                                                                  monkeypatch):
    path, _ = messy
    real = engine.score
    monkeypatch.setattr(engine, "score", lambda df, settings=None: real(df, settings))
    res = batch.score_file(path, tmp_path / "s.csv", engine=engine, chunk_rows=6, workers=2)
    assert (res.scored, res.rejected) == (36, 4)


def test_an_error_in_a_worker_removes_the_partial_files(engine, messy, tmp_path):
    path, _ = messy
    settings = BusinessSettings(horizon_months=-5)   # the survival model refuses it per chunk
    with pytest.raises(ValueError):
        batch.score_file(path, tmp_path / "s.csv", engine=engine, settings=settings,
                         chunk_rows=6, workers=2)
    assert list(tmp_path.iterdir()) == []


def test_default_workers_only_for_big_files(tmp_path):
    small = tmp_path / "small.csv"
    small.write_bytes(b"x" * 1000)
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(batch.CSV_BYTES_PER_ROW * 300_000)       # sparse: 300,000 rows' worth
    assert batch.default_workers(small) == 1
    assert batch.default_workers(tmp_path / "missing.csv") == 1
    assert batch.default_workers(big, chunk_rows=100_000) == \
        max(1, min(os.cpu_count() or 1, batch.MAX_WORKERS))
    assert batch.default_workers(big, chunk_rows=200_000) == 1     # fewer than two chunks


def test_duplicate_id_in_a_later_chunk_is_rejected_naming_the_first_row(engine, tmp_path):
    lines = _lines(_customers(20, 8))
    first_id = lines[2].split(",")[0]                         # row 3
    lines[17] = _set(lines[17], schema.ID, first_id)          # row 18, three chunks later
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(lines) + "\n")
    res = batch.score_file(path, tmp_path / "s.parquet", engine=engine, chunk_rows=4)
    rejects = _read_rejects(tmp_path / "s.rejects.csv")
    assert rejects["row"].tolist() == [18]
    assert rejects["reasons"].item() == \
        f'customerID: customer ID "{first_id}" already appears in row 3.'
    assert (res.rows, res.scored, res.rejected) == (20, 19, 1)
    scores = pd.read_parquet(tmp_path / "s.parquet")
    assert scores[schema.ID].tolist().count(first_id) == 1


def test_parquet_in_and_out(engine, tmp_path):
    df = _customers(25, 4)
    df.loc[6, "tenure"] = -3                                  # file row 8
    df.loc[12, "Contract"] = "Weekly"                         # file row 14
    src = tmp_path / "in.parquet"
    df.to_parquet(src, index=False)
    out = tmp_path / "out.parquet"
    res = batch.score_file(src, out, engine=engine, chunk_rows=6)
    assert (res.rows, res.scored, res.rejected) == (25, 23, 2)
    got = pd.read_parquet(out)
    good = df.drop(index=[6, 12]).reset_index(drop=True)
    want = engine.score(good).reset_index(drop=True)[SCORE_COLUMNS]
    pd.testing.assert_frame_equal(got[TEXT_COLUMNS], want[TEXT_COLUMNS])
    pd.testing.assert_frame_equal(got[list(batch.FLOAT_COLUMNS)],
                                  want[list(batch.FLOAT_COLUMNS)], rtol=1e-9, atol=1e-9)
    rejects = _read_rejects(tmp_path / "out.rejects.csv")
    assert rejects["row"].tolist() == [8, 14]
    assert rejects.loc[0, "reasons"] == "tenure: \"-3\" is outside the allowed range of 0 to " \
                                        "120 months."
    assert rejects.loc[1, "Contract"] == "Weekly"


def test_excel_input_is_validated_whole_and_scored_in_chunks(engine, tmp_path):
    df = schema.to_file_frame(_customers(9, 12)).astype({"tenure": object})
    df.loc[4, "tenure"] = "many"                                  # file row 6
    src = tmp_path / "in.xlsx"
    df.to_excel(src, index=False)
    res = batch.score_file(src, tmp_path / "out.parquet", engine=engine, chunk_rows=3)
    assert (res.rows, res.scored, res.rejected) == (9, 8, 1)
    assert pd.read_parquet(tmp_path / "out.parquet")[schema.ID].tolist() == \
        df.drop(index=4)[schema.ID].tolist()
    assert _read_rejects(tmp_path / "out.rejects.csv")["row"].tolist() == [6]


def test_csv_output_escapes_formula_like_ids(engine, tmp_path):
    lines = _lines(_customers(3, 9))
    lines[1] = _set(lines[1], schema.ID, "=HYPERLINK(1)")
    path = tmp_path / "f.csv"
    path.write_text("\n".join(lines) + "\n")
    batch.score_file(path, tmp_path / "o.csv", engine=engine)
    assert _read_scores(tmp_path / "o.csv")[schema.ID].iloc[0] == "'=HYPERLINK(1)"
    batch.score_file(path, tmp_path / "o.parquet", engine=engine)
    assert pd.read_parquet(tmp_path / "o.parquet")[schema.ID].iloc[0] == "=HYPERLINK(1)"


def test_interrupt_mid_run_leaves_no_file_under_the_final_name(engine, messy, tmp_path,
                                                               monkeypatch, capsys, use_engine):
    path, _ = messy
    out = tmp_path / "scores.csv"
    out.write_text("previous run\n")
    calls = []
    real = engine.score

    def score(df, settings=None, **kw):
        calls.append(len(df))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(df, settings, **kw)

    monkeypatch.setattr(engine, "score", score)
    code = cli.main(["score", str(path), "--out", str(out), "--chunk-rows", "7"])
    assert code == 130
    assert len(calls) == 2
    assert out.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]
    assert "Interrupted: nothing was written" in capsys.readouterr().err


def test_error_mid_run_exits_1_and_removes_the_partial_files(engine, messy, tmp_path,
                                                             monkeypatch, capsys, use_engine):
    path, _ = messy
    calls = []
    real = engine.score

    def score(df, settings=None, **kw):
        calls.append(len(df))
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(df, settings, **kw)

    monkeypatch.setattr(engine, "score", score)
    out = tmp_path / "s.parquet"
    assert cli.main(["score", str(path), "--out", str(out), "--chunk-rows", "5"]) == 1
    assert list(tmp_path.iterdir()) == []
    err = capsys.readouterr().err
    assert "failed: RuntimeError: disk on fire. Nothing was written" in err


def test_cli_prints_the_counts(messy, tmp_path, capsys, use_engine):
    path, bad = messy
    out = tmp_path / "sub" / "scores.parquet"
    assert cli.main(["score", str(path), "--out", str(out), "--chunk-rows", "9"]) == 0
    text = capsys.readouterr()
    assert f"{path}: 40 rows read, 36 scored, 4 rejected in " in text.out
    assert "rows/s" in text.out and "First rejected rows" in text.out
    assert '  Row 4: gender: "Mlae" is not a known value' in text.out
    assert "1 empty row was skipped (row 16)." in text.out
    # the output says which kind of customers the file holds (issue 11)
    assert (("History file (it has a Churn column): every valid row is scored, including "
             "customers who have left") in text.out) == ("Churn" in path.read_text().split("\n")[0])
    assert (("Active base (no Churn column)" in text.out)
            != ("Churn" in path.read_text().split("\n")[0]))
    assert "100% 40 rows read, 36 scored" in text.err          # plain progress line (no tty)
    assert len(use_engine) == 1
    assert len(pd.read_parquet(out)) == 36
    assert sorted(p.name for p in out.parent.iterdir()) == ["scores.parquet",
                                                           "scores.rejects.csv"]


def test_cli_exit_codes_for_unusable_input(tmp_path, capsys, use_engine):
    out = tmp_path / "o.csv"
    assert cli.main(["score", str(tmp_path / "nope.csv"), "--out", str(out)]) == 2
    assert f'The file "{tmp_path / "nope.csv"}" does not exist.' in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    assert cli.main(["score", str(empty), "--out", str(out)]) == 2
    assert "The file is empty." in capsys.readouterr().err
    no_cols = tmp_path / "nocols.csv"
    no_cols.write_text("customerID,gender\n0001-AAAAA,Male\n")
    assert cli.main(["score", str(no_cols), "--out", str(out)]) == 1
    assert "Column tenure: this required column is missing from the file." in \
        capsys.readouterr().err
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(schema.FILE_COLUMNS) + "\n")
    assert cli.main(["score", str(header_only), "--out", str(out)]) == 1
    assert "nothing was scored. The file has a header but no customer rows." in \
        capsys.readouterr().err
    good = tmp_path / "good.csv"
    good.write_text("\n".join(_lines(_customers(3, 1))) + "\n")
    assert cli.main(["score", str(good), "--out", str(tmp_path / "o.xlsx")]) == 1
    assert "--out " in capsys.readouterr().err
    assert cli.main(["score", str(good), "--out", str(good)]) == 1
    assert "would overwrite the input file" in capsys.readouterr().err
    assert cli.main(["score", str(good), "--out", str(out), "--chunk-rows", "0"]) == 1
    assert "chunk_rows=0: expected a whole number of rows >= 1." in capsys.readouterr().err
    assert not out.exists() and use_engine == []             # nothing loaded, nothing written


def test_every_row_rejected_still_writes_both_files(engine, tmp_path):
    lines = _lines(_customers(4, 2))
    lines[1:] = [_set(ln, "tenure", "x") for ln in lines[1:]]
    path = tmp_path / "allbad.csv"
    path.write_text("\n".join(lines) + "\n")
    res = batch.score_file(path, tmp_path / "o.csv", engine=engine)
    assert (res.rows, res.scored, res.rejected) == (4, 0, 4)
    assert (tmp_path / "o.csv").read_text().splitlines() == [",".join(SCORE_COLUMNS)]
    assert _read_rejects(tmp_path / "o.rejects.csv")["row"].tolist() == [2, 3, 4, 5]


def test_engine_factory_is_called_once_and_only_for_a_readable_file(engine, tmp_path):
    calls = []

    def factory():
        calls.append(1)
        return engine

    res = batch.score_file(tmp_path / "missing.csv", tmp_path / "o.csv", engine=factory)
    assert res.fatal and res.problem and calls == []
    good = tmp_path / "good.csv"
    good.write_text("\n".join(_lines(_customers(9, 1))) + "\n")
    res = batch.score_file(good, tmp_path / "o.csv", engine=factory, chunk_rows=2)
    assert calls == [1] and res.scored == 9 and res.load_seconds >= 0


def test_bad_arguments_raise_value_error(engine, tmp_path):
    with pytest.raises(ValueError, match=r"--out x\.txt: the file name must end in \.csv or "
                                         r"\.parquet"):
        batch.score_file(tmp_path / "a.csv", "x.txt", engine=engine)
    with pytest.raises(ValueError, match=r"chunk_rows=-1: expected a whole number of rows"):
        batch.score_file(tmp_path / "a.csv", tmp_path / "o.csv", engine=engine, chunk_rows=-1)


# --- pieces: record splitting and chunked validation ---------------------------------------------
def _runs(data: bytes, chunk_rows: int, block: int):
    return list(batch._record_runs(io.BytesIO(data), chunk_rows, block))


def test_record_runs_cut_at_record_ends_outside_quotes():
    data = b'h1,h2\na,"x\ny"\n"b""\n",2\r\nc,3'
    for block in (1, 2, 3, 5, 64):
        runs = _runs(data, 2, block)
        assert b"".join(d for d, _ in runs) == data
        assert [d for d, _ in runs] == [b'h1,h2\na,"x\ny"\n', b'"b""\n",2\r\nc,3']
        assert [e.tolist() for _, e in runs] == [[6, 14], [10, 13]]
    assert _runs(b"", 3, 4) == []


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 5, 8, 100])
def test_chunked_validation_equals_whole_file_validation(chunk_rows, tmp_path):
    lines = _lines(_customers(12, 5))
    lines[4] = _set(lines[4], "gender", "X")
    lines[9] = _set(lines[9], schema.ID, lines[2].split(",")[0])
    lines[7] = lines[7] + ",extra"
    lines.insert(6, ",,,")                                   # blank record inside
    lines[3] = _set(lines[3], "Partner", '"Y\nes"')         # a line break inside quotes
    path = tmp_path / "v.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    whole = validate(path)
    seen: dict = {}
    frames, rejected, rows = [], [], 0
    for piece in batch._pieces(path, chunk_rows, block=16):
        rep = validate_chunk(piece.data, row_offset=piece.row_offset, seen_ids=seen)
        rows += rep.rows
        frames.append(rep.frame)
        rejected.append(rep.rejected_frame())
    assert rows == whole.rows == 12
    pd.testing.assert_frame_equal(pd.concat([f for f in frames if len(f)], ignore_index=True),
                                  whole.frame)
    pd.testing.assert_frame_equal(pd.concat(rejected, ignore_index=True),
                                  whole.rejected_frame())
    assert whole.rejected_frame()["row"].tolist() == [4, 5, 9, 11]


def test_blank_lines_before_the_header_count_in_the_row_numbers(engine, tmp_path):
    lines = _lines(_customers(6, 2))
    lines[2] = _set(lines[2], "tenure", "x")                 # row 3 of the lines, row 5 of the file
    path = tmp_path / "lead.csv"
    path.write_text("\n,,\n" + "\n".join(lines) + "\n")
    for chunk_rows in (1, 2, 50):
        res = batch.score_file(path, tmp_path / "o.csv", engine=engine, chunk_rows=chunk_rows)
        assert (res.rows, res.scored, res.rejected) == (6, 5, 1)
        assert _read_rejects(tmp_path / "o.rejects.csv")["row"].tolist() == [5]


def test_validate_chunk_of_a_text_frame_numbers_rows_from_the_offset():
    lines = _lines(_customers(3, 6))
    frame = pd.read_csv(io.StringIO("\n".join(lines)), dtype=str, keep_default_na=False)
    seen = {frame[schema.ID][1]: 7}
    rep = validate_chunk(frame, row_offset=100, seen_ids=seen)
    assert rep.frame["row"].tolist() == [102, 104]
    assert [str(p) for p in rep.errors] == [
        f'Row 103, customerID: customer ID "{frame[schema.ID][1]}" already appears in row 7.']
    assert seen == {frame[schema.ID][1]: 7, frame[schema.ID][0]: 102, frame[schema.ID][2]: 104}
    with pytest.raises(ValueError, match=r"row_offset=-1: expected a whole number >= 0"):
        validate_chunk(frame, row_offset=-1)


# --- progress ------------------------------------------------------------------------------------
class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_bar_on_a_terminal_and_in_a_log():
    tty = _Stream(True)
    bar = batch.ProgressBar(tty, width=10)
    bar(0.5, 1000, 900, 2.0)
    bar.finish()
    assert tty.getvalue() == ("\r[#####.....]  50% 1,000 rows read, 900 scored, 450 rows/s, "
                              "about 2 s left\x1b[K\n")                 # (2,000 - 900) / 450
    log = _Stream(False)
    bar = batch.ProgressBar(log, every=3600)
    bar(0.1, 10, 10, 1.0)
    bar(0.2, 20, 20, 2.0)                                    # within `every`: not written
    bar(1.0, 30, 29, 3.0)
    bar.finish()
    assert log.getvalue().splitlines() == [
        " 10% 10 rows read, 10 scored, 10 rows/s, about 9 s left",
        "100% 30 rows read, 29 scored, 10 rows/s, about 0 s left"]


def test_output_and_rejects_paths():
    assert batch.rejects_path("a/scores.parquet").as_posix() == "a/scores.rejects.csv"
    assert batch.partial_path("a/scores.csv").as_posix() == "a/scores.csv.partial"
    assert batch.output_kind("X.PARQUET") == "parquet"


# --- workers end with the scoring process ---------------------------------------------------------
def _descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _running(proc) -> bool:
    import psutil

    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_kill_9_of_score_leaves_no_worker_forkserver_or_tracker_behind(tmp_path):
    """A real `python -m churn score` on a file big enough for worker processes, killed with
    SIGKILL once its workers run: within a few seconds none of its child processes is left."""
    import signal
    import subprocess
    import sys
    import time

    from _explain_fakes import trained_data_dir

    from churn import config, synth

    folder = trained_data_dir()
    Engine.prepare(config.paths(folder))                     # the command loads it at once
    sample = synth.ensure_sample(config.paths(folder)).customers_csv
    head, *body = sample.read_text().splitlines()
    big = tmp_path / "big.csv"
    with open(big, "w") as fh:                                # 30 copies, IDs made unique
        fh.write(head + "\n")
        for k in range(30):
            fh.write("\n".join(f"{k:02d}{line[2:]}" for line in body) + "\n")
    assert batch.default_workers(big) >= 2
    env = dict(os.environ, CHURN_DATA_DIR=str(folder))
    log = open(tmp_path / "score.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "churn", "score", str(big), "--out",
                             str(tmp_path / "scores.csv")], env=env, stdout=log, stderr=log,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    kids = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            kids = _descendants(proc.pid)        # resource tracker, forkserver, 2 workers
            if len(kids) >= 4:
                break
            time.sleep(0.2)
        assert len(kids) >= 4, (proc.poll(), (tmp_path / "score.log").read_text()[-2000:])
        time.sleep(1.0)                           # the workers are scoring now
        kids = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5 and any(_running(k) for k in kids):
            time.sleep(0.1)
        survivors = [(k.pid, " ".join(k.cmdline())[:120]) for k in kids if _running(k)]
        assert survivors == []
        assert not (tmp_path / "scores.csv").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        for k in kids + _descendants(proc.pid):       # never leave a process of ours behind
            if _running(k):
                k.kill()
        log.close()


# --- hostile input (issue 17) ---------------------------------------------------------------------
def test_a_huge_id_is_one_rejected_row_and_the_rejects_header_is_escaped(engine, tmp_path):
    lines = _lines(_customers(30, 8))
    lines[0] += ',"=HYPERLINK(""http://evil/"",""hdr"")"'
    lines[1:] = [ln + ",x" for ln in lines[1:]]
    lines[5] = _set(lines[5], schema.ID, "A" * 1_048_576)           # row 6
    path = tmp_path / "huge.csv"
    path.write_text("\n".join(lines) + "\n")
    res = batch.score_file(path, tmp_path / "o.csv", engine=engine)
    assert (res.rows, res.scored, res.rejected) == (30, 29, 1)
    assert res.first_rejects == [
        "Row 6: customerID: the value is 1,048,576 characters long; at most 64 are allowed."]
    header = (tmp_path / "o.rejects.csv").read_text().split("\n")[0]
    assert header.endswith(',"\'=HYPERLINK(""http://evil/"",""hdr"")"')
    assert len(_read_scores(tmp_path / "o.csv")) == 29


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 7, 100])
def test_damaged_rows_cost_only_themselves_in_pieces_as_in_the_whole_file(chunk_rows, tmp_path):
    lines = _lines(_customers(14, 6))
    lines[3] = _set(lines[3], "Partner", '"Yes')                     # stray quote: row 4
    lines[6] = _set(lines[6], "gender", "Fe\x00male")                 # NUL byte: row 7
    lines[9] = lines[9] + "," * 5000                                  # 5,021 fields: row 10
    lines[11] = _set(lines[11], "Contract", '"One\nyear"')            # quoted line break: row 12
    path = tmp_path / "damaged.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    whole = validate(path)
    assert (whole.rows, whole.valid_rows) == (14, 10)
    assert [str(p) for p in whole.errors] == [
        'Row 4: a quote mark (") in this row is never closed, so its values cannot be told '
        'apart; only this row was left out.',
        "Row 7: the row holds a control character (byte 0x00) that customer data never has; "
        "the file is probably damaged here.",
        "Row 10: the row has 5,021 values but the header has only 21 columns.",
        "Row 12, Contract: the value runs over 2 lines of the file, so a quote mark is probably "
        "missing or stray there; the row (all 2 lines) was left out."]
    seen: dict = {}
    frames, rejected, rows = [], [], 0
    for piece in batch._pieces(path, chunk_rows, block=64):
        rep = validate_chunk(piece.data, row_offset=piece.row_offset, seen_ids=seen)
        rows += rep.rows
        frames.append(rep.frame)
        rejected.append(rep.rejected_frame())
    assert rows == 14
    pd.testing.assert_frame_equal(pd.concat([f for f in frames if len(f)], ignore_index=True),
                                  whole.frame)
    pd.testing.assert_frame_equal(pd.concat(rejected, ignore_index=True),
                                  whole.rejected_frame())
    assert whole.frame["row"].tolist() == [2, 3, 5, 6, 8, 9, 11, 13, 14, 15]
