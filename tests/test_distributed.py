"""Tests of churn.distributed (scoring on a Dask cluster) and `python -m churn score --dask`.

A real `distributed.LocalCluster` runs for the module: 2 worker processes, one thread each,
small memory. The engine is the real one of the session's data folder (logistic regression
trained with the tests' small configuration, the survival model and the offer recommender).
Expected files come from the single-machine command (`churn.batch.score_file`) on the same
input, and duplicate-ID reasons from whole-file `validate`, computed independently.
"""
from __future__ import annotations

import io
import os
import signal

import pandas as pd
import pytest

from churn import batch, cli, distributed, schema
from churn.scoring import Engine
from churn.synth import generate_customers
from churn.validate import validate

distributed_lib = pytest.importorskip("distributed")   # pinned in requirements.txt


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1.5GiB",
                      dashboard_address=None)
    client = Client(lc)
    yield lc, client
    client.close()
    lc.close()


@pytest.fixture(scope="module")
def engine(sample_data_dir):
    from churn.config import paths

    return Engine.load(paths(sample_data_dir))


def _customers_csv(path, n: int, seed: int) -> pd.DataFrame:
    df = generate_customers(n, seed)
    schema.to_file_frame(df).to_csv(path, index=False, lineterminator="\n")
    return df


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """50,000 customers with bad rows and duplicate IDs across pieces of 10,000 records:
    returns (path, the rows the single-machine check rejects)."""
    df = generate_customers(50_000, 21)
    df = schema.to_file_frame(df).astype(object)
    df.loc[7, "tenure"] = "abc"                              # row 9
    df.loc[12_345, "Contract"] = "Weekly"                    # row 12,347
    df.loc[25_000, schema.ID] = df.loc[3, schema.ID]          # row 25,002 repeats row 5
    df.loc[49_999, schema.ID] = df.loc[3, schema.ID]          # row 50,001 repeats row 5
    df.loc[30_001, schema.ID] = df.loc[20_000, schema.ID]     # row 30,003 repeats 20,002
    path = tmp_path_factory.mktemp("big") / "customers.csv"
    df.to_csv(path, index=False, lineterminator="\n")
    return path


@pytest.fixture(scope="module")
def single_50k(engine, big_csv, tmp_path_factory):
    """The single-machine command's files for `big_csv`: (result, scores path)."""
    out = tmp_path_factory.mktemp("single") / "single.parquet"
    return _single(engine, big_csv, out), out


@pytest.fixture(scope="module")
def dask_50k(cluster, engine, big_csv, tmp_path_factory):
    """`score_dask` of `big_csv` on the module's cluster: (result, scores path, progress calls)."""
    out = tmp_path_factory.mktemp("dask") / "dask.parquet"
    seen = []
    res = distributed.score_dask(big_csv, out, engine=engine, chunk_rows=10_000,
                                 client=cluster[1], progress=lambda *a: seen.append(a))
    return res, out, seen


def _single(engine, src, out, chunk_rows=10_000) -> batch.BatchResult:
    res = batch.score_file(src, out, engine=engine, chunk_rows=chunk_rows, workers=1)
    assert res.problem is None, res.problem
    return res


def _same_files(a, b) -> None:
    pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b))
    assert batch.rejects_path(a).read_bytes() == batch.rejects_path(b).read_bytes()


def test_dask_output_equals_the_single_machine_command_on_50k_rows(single_50k, dask_50k):
    want, want_out = single_50k
    got, got_out, seen = dask_50k
    assert got.problem is None
    assert (got.rows, got.scored, got.rejected) == (want.rows, want.scored, want.rejected) \
        == (50_000, 49_995, 5)
    assert got.first_rejects == want.first_rejects
    assert got.warnings == want.warnings
    _same_files(want_out, got_out)
    assert [s[:2] for s in seen] == [(i, 5) for i in range(1, 6)]   # pieces done, pieces
    assert seen[-1][2] == 49_995                                      # rows scored
    assert sorted(p.name for p in got_out.parent.iterdir()) == ["dask.parquet",
                                                               "dask.rejects.csv"]


def test_duplicates_across_pieces_are_rejected_naming_their_first_file_row(dask_50k, big_csv):
    res, out, _seen = dask_50k
    rejects = pd.read_csv(batch.rejects_path(out), dtype=str, keep_default_na=False)
    whole = validate(big_csv).rejected_frame()        # one pass over the whole file
    assert rejects["row"].astype(int).tolist() == whole["row"].tolist() \
        == [9, 12_347, 25_002, 30_003, 50_001]
    ids = pd.read_csv(big_csv, dtype=str, usecols=[schema.ID])[schema.ID]
    assert rejects.loc[2, "reasons"] == \
        f'customerID: customer ID "{ids[3]}" already appears in row 5.'
    assert rejects.loc[3, "reasons"] == \
        f'customerID: customer ID "{ids[20_000]}" already appears in row 20002.'
    assert rejects["reasons"].tolist() == whole["reasons"].tolist()
    scores = pd.read_parquet(out)
    assert scores[schema.ID].is_unique and len(scores) == res.scored == 49_995


def test_a_killed_worker_is_replaced_and_the_output_is_the_same(cluster, engine, big_csv,
                                                               single_50k, tmp_path):
    _lc, client = cluster
    before = client.run(os.getpid)
    killed = []

    def progress(done, total, scored, seconds):
        if not killed:                       # after the first piece: others are in flight
            victim = sorted(before.values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    res = distributed.score_dask(big_csv, tmp_path / "dask.parquet", engine=engine,
                                 chunk_rows=10_000, client=client, progress=progress)
    assert res.problem is None and res.scored == 49_995
    _same_files(single_50k[1], tmp_path / "dask.parquet")
    client.wait_for_workers(2, timeout=120)
    after = client.run(os.getpid)
    assert killed and killed[0] not in after.values()          # the worker really died


def test_parquet_file_and_dataset_folder(cluster, engine, tmp_path):
    _lc, client = cluster
    a, b = generate_customers(700, 3), generate_customers(500, 4)
    b.loc[2, schema.ID] = a.loc[10, schema.ID]                # dataset row 703 repeats row 12
    b.loc[5, "MonthlyCharges"] = -5.0                         # dataset row 706
    whole = pd.concat([a, b], ignore_index=True)
    whole.to_parquet(tmp_path / "whole.parquet", index=False)
    folder = tmp_path / "ds"
    folder.mkdir()
    a.to_parquet(folder / "part-0.parquet", index=False)
    b.to_parquet(folder / "part-1.parquet", index=False)
    _single(engine, tmp_path / "whole.parquet", tmp_path / "single.parquet", chunk_rows=300)
    # one file in, one file out
    distributed.score_dask(tmp_path / "whole.parquet", tmp_path / "one.parquet", engine=engine,
                           chunk_rows=300, client=client)
    _same_files(tmp_path / "single.parquet", tmp_path / "one.parquet")
    # a folder in, a partitioned folder out; rows numbered as the files concatenated
    res = distributed.score_dask(folder, tmp_path / "scored", engine=engine, chunk_rows=300,
                                 client=client)
    assert (res.rows, res.scored, res.rejected) == (1200, 1198, 2)
    parts = sorted(p.name for p in (tmp_path / "scored").iterdir())
    assert parts == [f"part-{i:05d}.parquet" for i in range(5)]     # 700 -> 3 pieces, 500 -> 2
    got = pd.concat([pd.read_parquet(tmp_path / "scored" / p) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "single.parquet"))
    assert (tmp_path / "scored.rejects.csv").read_bytes() == \
        (tmp_path / "single.rejects.csv").read_bytes()
    # a glob gives the same
    distributed.score_dask(str(folder / "*.parquet"), tmp_path / "globbed", engine=engine,
                           chunk_rows=300, client=client)
    assert sorted(p.name for p in (tmp_path / "globbed").iterdir()) == parts


class _BrokenEngine:
    """An engine whose scoring fails on the workers."""

    version = "broken"

    def score(self, frame, settings=None):
        raise RuntimeError("model exploded")


def test_an_error_on_a_worker_leaves_nothing_under_the_final_names(cluster, engine, tmp_path):
    _lc, client = cluster
    src = tmp_path / "in.csv"
    _customers_csv(src, 40, 6)
    out = tmp_path / "out.parquet"
    out.write_bytes(b"previous run")
    with pytest.raises(RuntimeError, match="model exploded"):
        distributed.score_dask(src, out, engine=_BrokenEngine(), chunk_rows=5,
                               client=client)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.parquet"]
    assert out.read_bytes() == b"previous run"            # the old output is untouched


def test_unreadable_input_and_bad_arguments(cluster, engine, tmp_path):
    _lc, client = cluster
    res = distributed.score_dask(tmp_path / "nope.csv", tmp_path / "o.parquet", engine=engine,
                                 client=client)
    assert res.problem == f'The file "{tmp_path / "nope.csv"}" does not exist.' and res.fatal
    (tmp_path / "empty").mkdir()
    res = distributed.score_dask(tmp_path / "empty", tmp_path / "o", engine=engine,
                                 client=client)
    assert res.problem == (f"{tmp_path / 'empty'}: no Parquet files there (a folder or glob "
                           "of .parquet files is expected).")
    src = tmp_path / "in.csv"
    _customers_csv(src, 5, 1)
    with pytest.raises(ValueError) as err:
        distributed.score_dask(src, tmp_path / "o.csv", engine=engine, client=client)
    assert str(err.value) == (f"--out {tmp_path / 'o.csv'}: with --dask the output is Parquet; "
                              "name it .parquet.")
    with pytest.raises(ValueError) as err:
        distributed.connect("local:zero")
    assert str(err.value) == ("--dask local:zero: after 'local:' give a number of workers >= 1, "
                              "e.g. local:4.")
    with pytest.raises(ValueError) as err:
        distributed.connect("myhost:8786")
    assert str(err.value) == ("--dask myhost:8786: expected tcp://HOST:PORT of a Dask scheduler, "
                              "or local[:N] to start N workers on this machine.")
    assert not list(tmp_path.glob("o*"))


def test_cli_scores_on_the_cluster_by_its_address(cluster, engine, tmp_path, capsys,
                                                  monkeypatch):
    lc, _client = cluster
    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, paths=None, progress=None:
                                                    engine))
    src = tmp_path / "in.csv"
    df = _customers_csv(src, 30, 2)
    out = tmp_path / "out.parquet"
    code = cli.main(["score", str(src), "--out", str(out), "--chunk-rows", "10",
                     "--dask", lc.scheduler_address])
    text = capsys.readouterr()
    assert code == 0, text.err
    assert f"{src}: 30 rows read, 30 scored, 0 rejected in " in text.out
    assert "3/3 pieces done, 30 rows scored" in text.err
    assert pd.read_parquet(out)[schema.ID].tolist() == df[schema.ID].tolist()
    assert cli.main(["score", str(src), "--out", str(out), "--dask", "nowhere"]) == 1
    assert "--dask nowhere: expected tcp://HOST:PORT" in capsys.readouterr().err


def test_progress_line_says_pieces_and_rows_per_second():
    buf = io.StringIO()
    line = distributed.ProgressLine(buf, every=0.0)
    line(2, 5, 20_000, 4.0)
    assert buf.getvalue() == "2/5 pieces done, 20,000 rows scored, 5,000 rows/s\n"
