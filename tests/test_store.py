"""The store: round trips, shards written by several processes at once, derived views, schema
versions, and that a failed write leaves nothing behind.

    python -m pytest tests/test_store.py -q
"""

import json
import multiprocessing as mp

import pytest

from selector.errors import UserError
from selector.store import Store, now


def _rollouts(run_id, steps, examples=3, samples=2, attempt=0, correct_every=2):
    return [
        {"run_id": run_id, "attempt": attempt, "step": s, "epoch": s // 2 + 1, "example_id": f"ex{e}", "batch_index": e,
         "sample_index": k, "completion": f"... \\boxed{{{s + k}}}", "extracted": str(s + k), "reward": float((s + k) % correct_every == 0),
         "correct": (s + k) % correct_every == 0, "formatted": True, "completion_tokens": 5, "grader_version": "test"}
        for s in steps for e in range(examples) for k in range(samples)
    ]


def _run_row(run_id, kind="history"):
    return {"run_id": run_id, "kind": kind, "pool": "p", "model": "m", "config": "{}", "grader_version": "test",
            "code_version": "0", "created_at": now(), "host": "h"}


def _write_shard(root, run_id, n_steps):
    """Runs in a child process: one run writes its own shard, flushing once per step."""
    store = Store.open(root, create=True)
    with store.writer(run_id) as w:
        w.append("runs", [_run_row(run_id)])
        for step in range(n_steps):
            w.append("rollouts", _rollouts(run_id, [step]))
            w.flush()


def test_round_trip_keeps_values_and_types(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    rows = _rollouts("r1", [0, 1])
    with store.writer("r1") as w:
        w.append("runs", [_run_row("r1")])
        w.append("rollouts", rows)
    got = store.rows("SELECT * EXCLUDE (completion) FROM rollouts ORDER BY step, example_id, sample_index")
    want = sorted(rows, key=lambda r: (r["step"], r["example_id"], r["sample_index"]))
    assert [{k: v for k, v in r.items() if k != "completion"} for r in want] == got
    assert store.run("r1")["kind"] == "history"


def test_two_processes_write_two_shards_and_readers_see_one_store(tmp_path):
    root = tmp_path / "s"
    Store.open(root, create=True)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_shard, args=(root, f"run{i}", 5)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = Store.open(root)
    counts = store.rows("SELECT run_id, count(*) AS n FROM rollouts GROUP BY run_id ORDER BY run_id")
    assert counts == [{"run_id": "run0", "n": 30}, {"run_id": "run1", "n": 30}]
    assert sorted(p.name for p in (root / "rollouts").iterdir()) == ["_schema", "run0", "run1"]


def test_epoch_accuracy_and_first_seen_order_from_rollouts(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    with store.writer("r") as w:
        w.append("rollouts", _rollouts("r", [0, 1, 2, 3], examples=2))
    acc = store.rows("SELECT example_id, epoch, n_correct, n, acc FROM epoch_accuracy ORDER BY example_id, epoch")
    # steps 0,1 are epoch 1: samples (s+k) even -> correct: step 0 k=0 yes, k=1 no; step 1 k=0 no, k=1 yes -> 2/4
    assert acc[0] == {"example_id": "ex0", "epoch": 1, "n_correct": 2, "n": 4, "acc": 0.5}
    ids, accs, epochs = store.history("r")
    assert ids == ["ex0", "ex1"] and epochs == [[1, 2], [1, 2]]


def test_resumed_attempt_replaces_rows_of_the_steps_it_records_again(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    with store.writer("r") as w:
        w.append("rollouts", _rollouts("r", [0, 1, 2], attempt=0))  # crashed after recording step 2
        w.append("rollouts", _rollouts("r", [2, 3], attempt=1, correct_every=1))  # resumed from step 1's checkpoint
    got = store.rows("SELECT step, count(*) AS n, min(attempt) AS a, bool_and(correct) AS all_ok FROM rollouts GROUP BY step ORDER BY step")
    assert [(r["step"], r["n"], r["a"]) for r in got] == [(0, 6, 0), (1, 6, 0), (2, 6, 1), (3, 6, 1)]
    assert store.rows("SELECT count(*) AS n FROM rollouts_all")[0]["n"] == 30  # nothing deleted


def test_opening_a_store_of_another_schema_version_is_one_clear_error(tmp_path):
    root = tmp_path / "s"
    Store.open(root, create=True)
    meta = json.loads((root / "STORE.json").read_text())
    for version, word in ((meta["schema_version"] + 1, "newer"), (0, "older")):
        (root / "STORE.json").write_text(json.dumps({**meta, "schema_version": version}))
        with pytest.raises(UserError, match=word):
            Store.open(root)
    (root / "STORE.json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt"):
        Store.open(root)


def test_missing_store_and_foreign_directory(tmp_path):
    with pytest.raises(UserError, match="no store at"):
        Store.open(tmp_path / "absent")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not an rlvr-select store"):
        Store.open(tmp_path / "other", create=True)


def test_read_only_store_directory_is_refused_before_writing(tmp_path, monkeypatch):
    import os

    store = Store.open(tmp_path / "s", create=True)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode))
    with pytest.raises(UserError, match="read-only"):
        with store.writer("r") as w:
            w.append("runs", [_run_row("r")])


def test_failed_write_removes_what_it_wrote(tmp_path, monkeypatch):
    """A disk that fills up half-way: the parts already renamed into place are removed again."""
    import pyarrow.parquet as pq

    store = Store.open(tmp_path / "s", create=True)
    real, calls = pq.write_table, []

    def flaky(table, where, **kw):
        calls.append(where)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(table, where, **kw)

    monkeypatch.setattr(pq, "write_table", flaky)
    with pytest.raises(UserError, match="No space left"):
        with store.writer("r") as w:
            w.append("runs", [_run_row("r")])
            w.append("rollouts", _rollouts("r", [0]))
    monkeypatch.setattr(pq, "write_table", real)
    assert store.rows("SELECT count(*) AS n FROM runs")[0]["n"] == 0
    assert not list((tmp_path / "s").glob("*/r/*"))


def test_views_sql_works_from_the_store_directory(tmp_path, monkeypatch):
    """The duckdb CLI recipe: `cd STORE && duckdb -init views.sql`."""
    import duckdb

    store = Store.open(tmp_path / "s", create=True)
    with store.writer("r") as w:
        w.append("rollouts", _rollouts("r", [0]))
    monkeypatch.chdir(tmp_path / "s")
    con = duckdb.connect()
    con.execute((tmp_path / "s" / "views.sql").read_text())
    assert con.execute("SELECT count(*) FROM epoch_accuracy").fetchone()[0] == 3


def test_writer_rejects_unknown_columns(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    with pytest.raises(ValueError, match="unknown column"):
        with store.writer("r") as w:
            w.append("runs", [{**_run_row("r"), "colour": "red"}])


def test_readme_sql_recipes_run(tmp_path):
    """Every query of README's "SQL recipes" runs over a store (so the recipes cannot rot)."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"### SQL recipes.*?```sql\n(.*?)```", text, re.S).group(1)
    queries = [q.strip() for q in block.split(";") if q.strip() and not all(line.startswith("--") for line in q.strip().splitlines())]
    assert len(queries) == 4
    store = Store.open(tmp_path / "s", create=True)
    with store.writer("RUN") as w:
        w.append("rollouts", [{"run_id": "RUN", "attempt": 0, "step": 40, "epoch": 1, "example_id": "toy-0108", "batch_index": 0,
                               "sample_index": k, "completion": "x", "correct": k % 2 == 0} for k in range(4)])
        w.append("eval_samples", [{"run_id": "RUN", "attempt": 0, "step": 0, "benchmark": "toy", "problem_id": "p",
                                   "sample_index": k, "completion": "x", "correct": k == 0} for k in range(4)])
    got = [store.rows(q) for q in queries]
    assert got[0][0]["acc_by_epoch"] == [0.5]
    assert got[2][0]["pass4"] == 1.0 and got[2][0]["pass1"] == 0.25
    assert len(got[3]) == 4


def test_runlog_owns_the_run_lifecycle(tmp_path):
    """One runs row however often a run starts; attempts numbered from 0; one ending event per
    attempt saying how it ended (interrupted for Ctrl-C, failed for an error), whichever process
    ends it first; the other processes record no interruption (they were stopped with the run)."""
    from selector.store import RunLog

    store = Store.open(tmp_path / "s", create=True)
    log = RunLog(store, "r1", processes=2)
    rank1 = RunLog(store, "r1", process=1, processes=2)
    assert log.next_attempt() == 0
    log.start(0, create=dict(kind="history", pool="toy", model="m", config={"a": 1}, grader_version="g"))
    rank1.start(0)  # writes nothing: the main process speaks for the run
    rank1.fail(KeyboardInterrupt())  # stopped with the others: says nothing
    log.fail(KeyboardInterrupt())
    assert store.run("r1")["status"] == "interrupted" and log.next_attempt() == 1
    log.start(1)
    rank1.start(1)
    rank1.fail(RuntimeError("boom"))  # a process that fails says so, naming itself
    log.fail(KeyboardInterrupt())  # the main process, stopped because of it, adds nothing
    assert (store.run("r1")["status"], store.run("r1")["detail"]) == ("failed", "process 1: RuntimeError: boom")
    log.start(2)
    log.finish("4 steps")
    log.finish("again")  # an attempt ends once
    events = store.rows("SELECT status, detail FROM run_events WHERE run_id = 'r1' ORDER BY event_time, status")
    assert [e["status"] for e in events] == ["running", "interrupted", "running", "failed", "running", "finished"]
    assert [e["detail"] for e in events if e["status"] == "running"] == ["attempt 0", "attempt 1", "attempt 2"]
    assert store.rows("SELECT count(*) AS n, any_value(config) AS c FROM runs WHERE run_id = 'r1'") == [{"n": 1, "c": '{"a": 1}'}]
    assert store.run("r1")["status"] == "finished" and log.next_attempt() == 3


def _lease(root, run_id, heartbeat_age_s, interval=10.0, text=None):
    import time

    (root / "leases").mkdir(exist_ok=True)
    now_unix = time.time()
    (root / "leases" / f"{run_id}.json").write_text(text if text is not None else json.dumps(
        {"run_id": run_id, "attempt": 0, "host": "h", "pid": 1, "since_unix": now_unix - 100,
         "heartbeat_unix": now_unix - heartbeat_age_s, "interval": interval}))


def test_a_running_run_whose_heartbeat_stopped_is_stale(tmp_path):
    from datetime import timedelta

    from selector.store import RunLog

    store = Store.open(tmp_path / "s", create=True)
    for run_id in ("beating", "stopped", "just-started", "corrupt", "done"):
        RunLog(store, run_id).start(0, create=dict(kind="history", pool="p", model="m", config={}, grader_version="g"))
    RunLog(store, "done").finish("ok")
    with store.writer("long-gone") as w:  # started 3 minutes ago and no lease: a run killed before leases existed
        w.append("runs", [_run_row("long-gone")])
        w.append("run_events", [{"run_id": "long-gone", "event_time": now() - timedelta(minutes=3), "status": "running",
                                 "detail": "attempt 0"}])
    status = lambda: {r["run_id"]: r["status"] for r in Store.open(tmp_path / "s").rows("SELECT run_id, status FROM run_status")}
    assert status()["long-gone"] == "stale" and status()["stopped"] == "running"  # no leases folder: only age tells
    (tmp_path / "s" / "leases").mkdir()
    assert status()["just-started"] == "running"  # an empty leases folder: the same
    _lease(tmp_path / "s", "beating", heartbeat_age_s=5)  # younger than 4 x 10 s
    _lease(tmp_path / "s", "stopped", heartbeat_age_s=45)  # older than 4 x 10 s
    _lease(tmp_path / "s", "corrupt", heartbeat_age_s=0, text='{"run_id": "corrupt", "heartbe')  # cut short: left out
    _lease(tmp_path / "s", "done", heartbeat_age_s=1000)  # a finished run's leftover lease: it stays finished
    assert status() == {"beating": "running", "stopped": "stale", "just-started": "running", "long-gone": "stale",
                        "corrupt": "running", "done": "finished"}


def test_the_views_no_lease_wait_is_the_leases_own_stale_age():
    from selector.store.lease import DEFAULT_INTERVAL, STALE_HEARTBEATS
    from selector.store.store import views_sql

    assert "epoch(now()) - 120)" in views_sql("x") and STALE_HEARTBEATS * DEFAULT_INTERVAL == 120
