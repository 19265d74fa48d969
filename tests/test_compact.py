"""`select compact`: a stopped run's parts merged into one file per table with every row kept
exactly once: after it, after a simulated crash between any two of its file-system steps, after
a real SIGKILL at random moments, and for a part written after it (a resumed run).

    python -m pytest tests/test_compact.py -q
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cli_harness import cli
from selector.errors import UserError
from selector.store import RunLog, Store, now
from selector.store import compact as compact_mod

VIEWS = ["runs", "run_events", "rollouts_all", "eval_samples_all", "metrics_all", "epoch_accuracy", "eval_scores"]


def _record(root: Path, run_id: str = "run-a", steps: int = 6, finish: bool = True) -> Store:
    """A run as the trainer records it: a part per table at every flush (here every step)."""
    store = Store.open(root, create=True)
    log = RunLog(store, run_id)
    log.start(0, create=dict(kind="history", pool="p", model="m", config={"seed": 0}, grader_version="g"))
    for step in range(1, steps + 1):
        log.writer.append("rollouts", [{"run_id": run_id, "attempt": 0, "step": step, "epoch": (step + 1) // 2, "example_id": f"e{e}",
                                        "batch_index": e, "sample_index": k, "completion": f"c{step}{e}{k}", "extracted": "1",
                                        "reward": float((step + e + k) % 2), "correct": (step + e + k) % 2 == 0, "formatted": True,
                                        "completion_tokens": 3, "grader_version": "g"} for e in range(3) for k in range(4)])
        log.writer.append("metrics", [{"run_id": run_id, "attempt": 0, "step": step, "name": "loss", "value": 1.0 / step}])
        if step % 3 == 0:
            log.writer.append("eval_samples", [{"run_id": run_id, "attempt": 0, "step": step, "benchmark": "b", "problem_id": str(p),
                                                "sample_index": 0, "completion": "x", "extracted": "1", "correct": p <= step // 3,
                                                "formatted": True, "completion_tokens": 2, "grader_version": "g"} for p in range(3)])
        log.writer.flush()
    if finish:
        log.finish("done")
    return store


def _snapshot(root: Path) -> dict:
    store = Store.open(root)
    return {v: store.rows(f"SELECT * FROM {v} ORDER BY ALL") for v in VIEWS}


def _files(root: Path, run_id: str = "run-a") -> dict:
    return {t.name: sorted(p.name for p in (t / run_id).iterdir()) for t in root.iterdir() if (t / run_id).is_dir()}


def test_compaction_keeps_every_row_and_leaves_one_file_per_table(tmp_path, capsys):
    root = tmp_path / "s"
    _record(root)
    before, files = _snapshot(root), _files(root)
    assert len(files["rollouts"]) == 6 and len(files["run_events"]) >= 2
    code, out, err = cli(capsys, "compact", "run-a", "--store", root, "--json")
    assert code == 0, err
    assert _snapshot(root) == before
    after = _files(root)
    assert all(len(names) == 1 for names in after.values()), after
    assert all(after[t][0].endswith("~compacted.parquet") for t in files if len(files[t]) > 1)  # runs had one part
    assert pq.read_metadata(root / "rollouts" / "run-a" / after["rollouts"][0]).num_rows == 6 * 12
    # Again: nothing left to merge, nothing changes.
    assert cli(capsys, "compact", "--store", root)[0] == 0 and _files(root) == after and _snapshot(root) == before


def test_a_running_run_is_refused(tmp_path, capsys):
    root = tmp_path / "s"
    _record(root, finish=False)
    files = _files(root)
    code, _, err = cli(capsys, "compact", "run-a", "--store", root)
    assert code == 2 and "run run-a is running" in err and len(err.strip().splitlines()) == 1
    assert _files(root) == files
    assert cli(capsys, "compact", "--store", root)[0] == 0 and _files(root) == files  # "every stopped run": not this one


def _steps(root):
    """How many file-system steps (renames and removals) one uninterrupted compaction takes."""
    calls = []
    real_rename, real_remove = compact_mod._rename, compact_mod._remove
    compact_mod._rename = lambda a, b: (calls.append("rename"), real_rename(a, b))
    compact_mod._remove = lambda p: (calls.append("remove"), real_remove(p))
    try:
        compact_mod.compact_run(Store.open(root), "run-a")
    finally:
        compact_mod._rename, compact_mod._remove = real_rename, real_remove
    return len(calls)


class Killed(BaseException):
    """Stands for the process being killed: nothing after it runs."""


def test_a_crash_between_any_two_steps_leaves_every_row_exactly_once(tmp_path, monkeypatch):
    probe = tmp_path / "probe"
    _record(probe)
    files = _files(probe)
    total = _steps(probe)
    # One rename per table with several parts, then the removal of each of its parts.
    assert total == sum(1 + len(names) for names in files.values() if len(names) > 1) == 20
    for crash_at in range(total):
        root = tmp_path / f"s{crash_at}"
        _record(root)
        before = _snapshot(root)
        count = [0]

        def step(real):
            def wrapped(*a):
                if count[0] == crash_at:
                    raise Killed
                count[0] += 1
                return real(*a)
            return wrapped

        monkeypatch.setattr(compact_mod, "_rename", step(os.replace))
        monkeypatch.setattr(compact_mod, "_remove", step(lambda p: p.unlink(missing_ok=True)))
        with pytest.raises(Killed):
            compact_mod.compact_run(Store.open(root), "run-a")
        monkeypatch.undo()
        assert _snapshot(root) == before, f"crash after {crash_at} steps"
        compact_mod.compact_run(Store.open(root), "run-a")  # the next compaction finishes the job
        assert _snapshot(root) == before and all(len(v) == 1 for v in _files(root).values()), crash_at


def test_a_real_sigkill_at_random_moments_never_loses_or_doubles_a_row(tmp_path):
    root = tmp_path / "s"
    _record(root, steps=40)
    before = _snapshot(root)
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{repo}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    code = ("from selector.store import Store; from selector.store.compact import compact_run; store = Store.open("
            f"{str(root)!r}); print('go', flush=True); compact_run(store, 'run-a')")

    def start():
        proc = subprocess.Popen([sys.executable, "-c", code.replace(str(root), str(probe) if probing else str(root))],
                                env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "go"
        return proc

    # How long one compaction takes here (on a copy), then kills at moments spread over it.
    probe, probing = tmp_path / "probe", True
    shutil.copytree(root, probe)
    started = time.perf_counter()
    start().wait()
    took = time.perf_counter() - started
    probing = False
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9):
        proc = start()
        time.sleep(took * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _snapshot(root) == before, fraction  # each kill leaves a later state: the next run continues the job
    compact_mod.compact_run(Store.open(root), "run-a")
    assert _snapshot(root) == before and all(len(v) == 1 for v in _files(root).values())
    assert not list(root.rglob(".compact-*.tmp"))


@pytest.mark.parametrize("damage,read_back", [
    (lambda t: t.slice(1), "read back 1"),  # a row lost: the count says so
    (lambda t: t.take(list(range(t.num_rows))[::-1]), "read back 2"),  # the same rows in another order: the checksum says so
], ids=["row lost", "rows reordered"])
def test_a_merge_that_does_not_hold_the_rows_is_refused_and_changes_nothing(tmp_path, monkeypatch, damage, read_back):
    root = tmp_path / "s"
    _record(root)
    files, before = _files(root), _snapshot(root)
    real = pq.write_table
    monkeypatch.setattr(pq, "write_table", lambda table, path, **kw: real(damage(table), path, **kw))
    with pytest.raises(UserError, match=f"does not hold the parts' 2 rows as they are \\({read_back}\\)"):
        compact_mod.compact_run(Store.open(root), "run-a")
    monkeypatch.undo()
    assert _files(root) == files and _snapshot(root) == before


def test_a_part_written_after_compaction_stays_visible_even_with_a_clock_behind(tmp_path, monkeypatch):
    from datetime import timedelta

    import selector.store.store as store_mod

    root = tmp_path / "s"
    _record(root)
    compact_mod.compact_run(Store.open(root), "run-a")
    # A resumed attempt on a machine whose clock is a day behind the one that compacted.
    monkeypatch.setattr(store_mod, "now", lambda: now() - timedelta(days=1))
    store = Store.open(root)
    log = RunLog(store, "run-a")
    log.start(1)
    log.writer.append("metrics", [{"run_id": "run-a", "attempt": 1, "step": 7, "name": "loss", "value": 0.5}])
    log.writer.flush()
    got = Store.open(root).rows("SELECT step FROM metrics_all ORDER BY step")
    assert [r["step"] for r in got] == [1, 2, 3, 4, 5, 6, 7]
    assert Store.open(root).run("run-a")["status"] == "running"


def test_a_reader_opened_before_a_compaction_killed_after_its_rename_sees_each_row_once(tmp_path, monkeypatch):
    root = tmp_path / "s"
    _record(root)
    reader = Store.open(root)
    before = {v: reader.rows(f"SELECT * FROM {v} ORDER BY ALL") for v in VIEWS}  # its connection is open now
    renamed = []

    def rename_then_die(src, dst):
        os.replace(src, dst)
        renamed.append(dst)

    def killed(path):
        raise Killed

    monkeypatch.setattr(compact_mod, "_rename", rename_then_die)
    monkeypatch.setattr(compact_mod, "_remove", killed)
    with pytest.raises(Killed):
        compact_mod.compact_run(Store.open(root), "run-a")
    assert len(renamed) == 1 and len(list(renamed[0].parent.glob("*.parquet"))) > 1  # merged file and parts side by side
    assert {v: reader.rows(f"SELECT * FROM {v} ORDER BY ALL") for v in VIEWS} == before
