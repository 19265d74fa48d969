"""`selector.connect()`: the store's views as DuckDB relations that turn into pandas and polars
DataFrames, and the same numbers as the store's own reads.

    python -m pytest tests/test_dataframes.py -q
"""

import subprocess
import sys

import pytest

import selector
from selector.errors import UserError
from selector.store import Store, now


def _store(root):
    """Two runs: r1 with 2 examples over 2 epochs (4 rollouts each), r2 with one rollout."""
    store = Store.open(root, create=True)
    with store.writer("r1") as w:
        w.append("runs", [{"run_id": r, "kind": "history", "pool": "p", "model": "m", "config": "{}", "grader_version": "g",
                           "code_version": "0", "created_at": now(), "host": "h"} for r in ("r1", "r2")])
        w.append("rollouts", [{"run_id": "r1", "attempt": 0, "step": epoch, "epoch": epoch, "example_id": ex, "batch_index": 0,
                               "sample_index": k, "completion": "c", "extracted": "1", "reward": 1.0, "correct": k < epoch + (ex == "b"),
                               "formatted": True, "completion_tokens": 3, "grader_version": "g"}
                              for epoch in (1, 2) for ex in ("a", "b") for k in range(4)])
    return store


def test_connect_gives_pandas_and_polars_frames_of_the_views(tmp_path):
    store = _store(tmp_path / "s")
    con = selector.connect(tmp_path / "s")
    query = "SELECT example_id, epoch, acc FROM epoch_accuracy WHERE run_id = 'r1' ORDER BY example_id, epoch"
    df = con.sql(query).df()
    pl = con.sql(query).pl()
    assert type(df).__module__.startswith("pandas") and type(pl).__module__.startswith("polars")
    # a: 1 then 2 of 4 correct; b: 2 then 3 of 4.
    assert df["acc"].tolist() == [0.25, 0.5, 0.5, 0.75] == pl["acc"].to_list()
    assert df.to_dict("records") == store.rows(query)


def test_connect_defaults_to_the_store_every_command_uses(tmp_path, monkeypatch):
    _store(tmp_path / "env-store")
    monkeypatch.setenv("RLVR_STORE", str(tmp_path / "env-store"))
    assert selector.connect().sql("SELECT count(*) AS n FROM runs").fetchall() == [(2,)]
    monkeypatch.delenv("RLVR_STORE")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="no store at rlvr-store"):
        selector.connect()


def test_importing_selector_loads_no_dataframe_library():
    code = "import sys, selector; print(sorted(m for m in ('pandas', 'polars', 'duckdb', 'numpy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
