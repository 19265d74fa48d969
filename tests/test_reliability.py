"""Reliability: a history run killed with SIGKILL and resumed, four writers and a reader at
once, hostile inputs everywhere (one line, exit 2, nothing stored lost), pathological answers for
the grader, and store round trips checked with hypothesis.

    python -m pytest tests/test_reliability.py -q

The per-module tests hold the details (tests/test_cli.py, test_pools.py, test_store.py,
test_grader.py); these drive whole commands and processes the way a crash, a sweep or a user does.
No assertion here is about time: a hang fails through the deadlines of the processes it waits for.
"""

import hashlib
import importlib.util
import json
import math
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selector.store import TABLES, RunLog, Store, now

from cli_harness import cli as _cli

# --------------------------------------------------------------------------- crash and resume


def _train_argv(pool, model, store, run_id, steps):
    """4 prompts x 4 rollouts per step over the 12-problem pool: 3 steps per epoch; a checkpoint
    after every step, so a kill always has one to resume from."""
    return [sys.executable, "-m", "selector", "train", "--pool", pool, "--preset", "toy", "--model", model, "--store", str(store),
            "--prompts-per-step", "4", "--num-generations", "4", "--max-completion-length", "12",
            "--max-steps", str(steps), "--eval-steps", "0", "--set", "save_steps=1", "--run-id", run_id]


def _end_group(proc) -> None:
    """After the kill: the run's grader workers see their pipe close and exit; end any left (they
    are in the process group this test made for the run)."""
    for _ in range(100):
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("trl") is None, reason="needs the train extra: pip install -e '.[train]'")
def test_sigkill_mid_run_then_resume_records_every_rollout_once(tmp_path, pool12, tiny_model):
    """A history run killed with SIGKILL after 5 recorded steps, its newest checkpoint torn as a
    kill during a save leaves it, then resumed: the rollouts equal an uninterrupted run's, step by
    step and example by example, with no key recorded twice, and every epoch one pass over the pool."""
    store, steps = tmp_path / "store", 10
    parts = store / "rollouts" / "killed"
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen(_train_argv(pool12, tiny_model, store, "killed", steps), stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 600  # a guard against a hang, not a measurement
        while len(list(parts.glob("*.parquet"))) < 5:
            assert proc.poll() is None, f"the run ended (code {proc.returncode}) before it was killed: {(tmp_path / 'killed.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the run recorded nothing for 10 minutes"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _end_group(proc)
        log.close()
    s = Store.open(store)
    assert s.run("killed")["status"] == "running"  # killed: no `failed` or `finished` event was written
    killed_at = s.rows("SELECT max(step) AS s FROM rollouts WHERE run_id = 'killed'")[0]["s"]
    assert 5 <= killed_at < steps

    # A kill inside Trainer._save_checkpoint leaves the newest checkpoint without its
    # trainer_state.json (written last): make sure this run has one such, whatever the timing was.
    checkpoints = sorted((store / "checkpoints" / "killed").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert checkpoints, "no checkpoint was saved"
    (checkpoints[-1] / "trainer_state.json").unlink(missing_ok=True)

    resumed = subprocess.run(_train_argv(pool12, tiny_model, store, "killed", steps) + ["--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    whole = subprocess.run(_train_argv(pool12, tiny_model, store, "whole", steps), capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr[-3000:]

    s = Store.open(store)
    assert s.run("killed")["status"] == "finished" and RunLog(s, "killed").next_attempt() == 2
    count = {r["run_id"]: r["n"] for r in s.rows("SELECT run_id, count(*) AS n FROM rollouts GROUP BY run_id")}
    assert count == {"killed": steps * 16, "whole": steps * 16}
    dup = s.rows("SELECT count(*) AS n FROM (SELECT 1 FROM rollouts GROUP BY run_id, step, example_id, sample_index HAVING count(*) > 1)")
    assert dup[0]["n"] == 0
    # Steps after the resumed checkpoint were recorded again as attempt 1; the views keep those.
    attempts = s.rows("SELECT attempt, min(step) AS first, max(step) AS last FROM rollouts_all WHERE run_id = 'killed' GROUP BY attempt ORDER BY attempt")
    assert [a["attempt"] for a in attempts] == [0, 1] and attempts[0]["last"] == killed_at and attempts[1]["last"] == steps
    # The resumed run met the same examples at the same steps as the uninterrupted one ...
    batches = "SELECT step, list(example_id ORDER BY batch_index) FILTER (WHERE sample_index = 0) AS ex FROM rollouts WHERE run_id = ? GROUP BY step ORDER BY step"
    assert s.rows(batches, ["killed"]) == s.rows(batches, ["whole"])
    # ... so every whole epoch (3 steps of 4 prompts) is one pass over the 12 examples.
    per_epoch = s.rows("SELECT epoch, count(DISTINCT example_id) AS ex, count(*) AS n FROM rollouts WHERE run_id = 'killed' AND step <= 9 "
                       "GROUP BY epoch ORDER BY epoch")
    assert per_epoch == [{"epoch": e, "ex": 12, "n": 48} for e in (1, 2, 3)]


def test_resume_picks_the_newest_complete_checkpoint(tmp_path):
    from trainer.checkpoints import last_complete_checkpoint

    assert last_complete_checkpoint(tmp_path / "absent") is None
    for step, state in [(2, '{"global_step": 2}'), (10, '{"global_step": 10}'), (11, '{"global_st'), (12, None)]:
        (tmp_path / f"checkpoint-{step}").mkdir()
        if state is not None:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    (tmp_path / "checkpoint-x").mkdir()
    # 12: killed before the state was written; 11: killed while writing it; 10 > 2 as numbers.
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")


# --------------------------------------------------------------------------- concurrent writers

WRITERS, STEPS, ROWS_PER_STEP = 4, 40, 64


def _rollouts(run_id, step):
    return [{"run_id": run_id, "attempt": 0, "step": step, "epoch": 1 + step // 10, "example_id": f"ex{b}", "batch_index": b,
             "sample_index": k, "completion": f"step {step} " + "so we compute the sum " * 100 + f"\\boxed{{{b + k}}}",
             "extracted": str(b + k), "reward": float(k % 2), "correct": k % 2 == 1, "formatted": True, "completion_tokens": 400,
             "grader_version": "test"}
            for b in range(ROWS_PER_STEP // 8) for k in range(8)]


def _writer(root, run_id, go):
    """A run's process: its own shard, one Parquet part per step, as the trainer writes."""
    store = Store.open(root)
    go.wait(120)
    w = store.run_writer(run_id)
    w.append("runs", [{"run_id": run_id, "kind": "history", "pool": "p", "model": "m", "config": "{}", "grader_version": "test",
                       "code_version": "0", "created_at": now(), "host": "h"}])
    w.append("run_events", [{"run_id": run_id, "event_time": now(), "status": "running", "detail": "attempt 0"}])
    for step in range(1, STEPS + 1):
        w.append("rollouts", _rollouts(run_id, step))
        w.flush()
        time.sleep(0.05)  # a step's generation and update: lets the reader in between the writes


def test_four_writers_and_a_reader_at_once_lose_nothing(tmp_path):
    root = tmp_path / "store"
    Store.open(root, create=True)  # as `selector sweep` does before its array tasks start
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    runs = [f"run{i}" for i in range(WRITERS)]
    procs = [ctx.Process(target=_writer, args=(root, r, go)) for r in runs]
    for p in procs:
        p.start()
    go.set()
    # Two readers: a new Store (and connection) each time, as every command makes, and one kept
    # open throughout, whose queries must still see the parts written after it was opened.
    seen, reads, kept = {"new": dict.fromkeys(runs, 0), "kept": dict.fromkeys(runs, 0)}, 0, Store.open(root)
    try:
        while any(p.is_alive() for p in procs) or reads == 0:
            for reader, store in (("new", Store.open(root)), ("kept", kept)):
                counts = {r["run_id"]: r["n"] for r in store.rows("SELECT run_id, count(*) AS n FROM rollouts GROUP BY run_id")}
                for run_id, n in counts.items():
                    assert n % ROWS_PER_STEP == 0, f"{reader} reader: {run_id}: saw part of a Parquet part ({n} rows)"
                    assert n >= seen[reader][run_id], f"{reader} reader: {run_id}: rows went from {seen[reader][run_id]} to {n}"
                    seen[reader][run_id] = n
                if counts:
                    store.history(next(iter(counts)))  # the views a ranking reads
            reads += 1
    finally:
        for p in procs:
            p.join(120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    store = Store.open(root)
    counts = {r["run_id"]: r["n"] for r in store.rows("SELECT run_id, count(*) AS n FROM rollouts GROUP BY run_id")}
    assert counts == dict.fromkeys(runs, STEPS * ROWS_PER_STEP)
    assert kept.rows("SELECT count(*) AS n FROM rollouts")[0]["n"] == WRITERS * STEPS * ROWS_PER_STEP
    keys = store.rows("SELECT count(*) AS n, count(DISTINCT (run_id, step, example_id, sample_index)) AS k FROM rollouts")[0]
    assert keys["n"] == keys["k"] == WRITERS * STEPS * ROWS_PER_STEP
    assert store.rows("SELECT count(*) AS n FROM run_status WHERE status = 'running'")[0]["n"] == WRITERS
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]
    assert reads > 0


def test_a_store_being_created_by_another_process_can_be_opened(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    Store(root)._write_schema_files(TABLES)  # what Store._create writes before STORE.json, the last file
    Store.open(root, create=True)


# --------------------------------------------------------------------------- hostile inputs

POOL = [{"id": i, "prompt": f"What is {i}+{i}?", "answer": str(2 * i)} for i in range(6)]
HISTORY = {str(i): [0.0, i / 8, min(1.0, i / 4)] for i in (3, 1, 4, 0, 5, 2)}


@pytest.fixture
def world(tmp_path, capsys):
    """A pool, its history, and a store that already holds their import and ranking."""
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in POOL))
    hist = tmp_path / "hist.json"
    hist.write_text(json.dumps(HISTORY))
    w = {"pool": f"file:{pool}", "history": str(hist), "store": tmp_path / "store", "tmp": tmp_path}
    code, _, err = _cli(capsys, "rank", "--pool", w["pool"], "--history", w["history"], "--store", w["store"])
    assert code == 0, err
    return w


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _parquet(path: Path, rows) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)


NESTED = "[" * 100_000


def _full_disk(monkeypatch):
    import pyarrow.parquet as pq

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full)


def _read_only(monkeypatch):
    real = os.access  # the tests run as root here, where chmod does not stop a write: refuse W_OK instead
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode))


# name -> (files to write {name: text | bytes | parquet rows}, argv or "pool" / "history" (rank with that file),
#          the message the one line must hold, a patch of the environment)
HOSTILE = {
    # malformed pools, end to end through `rank`
    "pool: missing prompt column": ({"p.jsonl": _jsonl([{"id": 1, "question": "q", "answer": "2"}])}, "pool", "no prompt column 'prompt'", None),
    "pool: prompt of the wrong type": ({"p.jsonl": _jsonl([{"id": 1, "prompt": 7, "answer": "2"}])}, "pool", "prompt must be text", None),
    "pool: answer of the wrong type": ({"p.jsonl": _jsonl([{"id": 1, "prompt": "a", "answer": {"x": 1}}])}, "pool", "answer must be text or a number", None),
    "pool: id of the wrong type": ({"p.jsonl": _jsonl([{"id": [1], "prompt": "a", "answer": "2"}])}, "pool", "must be a non-empty string or an integer", None),
    "pool: parquet answers as bytes": ({"p.parquet": [{"id": 1, "prompt": "a", "answer": b"2"}]}, "pool", "found bytes", None),
    "pool: duplicated ids": ({"p.jsonl": _jsonl([{"id": 1, "prompt": "a", "answer": "2"}, {"id": "1", "prompt": "b", "answer": "3"}])},
                             "pool", "duplicate example id '1'", None),
    "pool: empty answers": ({"p.jsonl": _jsonl([{"id": i, "prompt": "a", "answer": " "} for i in range(3)])}, "pool", "gold answers are unusable", None),
    "pool: NaN answer": ({"p.jsonl": '{"id": 1, "prompt": "a", "answer": NaN}\n'}, "pool", "answer is missing (nan)", None),
    "pool: 10 MB prompt": ({"p.jsonl": _jsonl([{"id": 1, "prompt": "x" * 10_000_001, "answer": "2"}])}, "pool", "10,000,001 characters", None),
    "pool: lone surrogate in an id": ({"p.jsonl": '{"id": "a\\ud800", "prompt": "a", "answer": "2"}\n'}, "pool", "example id is not valid Unicode", None),
    "pool: lone surrogate in a prompt": ({"p.jsonl": '{"id": 1, "prompt": "\\udfff?", "answer": "2"}\n'}, "pool", "prompt is not valid Unicode", None),
    "pool: JSON nested 100k deep": ({"p.json": NESTED}, "pool", "nests JSON arrays or objects too deeply", None),
    "pool: JSONL row nested 100k deep": ({"p.jsonl": NESTED + "\n"}, "pool", "line 1 nests JSON too deeply", None),
    "pool: not UTF-8": ({"p.jsonl": b'{"id": 1, "prompt": "\xff\xfe", "answer": "2"}\n'}, "pool", "is not UTF-8", None),
    "pool: truncated parquet": ({"p.parquet": b"PAR1\x00\x00\x00"}, "pool", "cannot read parquet pool", None),
    # corrupt or truncated histories, NaN / inf accuracies
    "history: truncated": ({"h.json": '{"1": [0.5, 0.'}, "history", "not valid JSON", None),
    "history: not UTF-8": ({"h.json": b'{"1": [0.5]}\xff'}, "history", "not UTF-8", None),
    "history: nested 100k deep": ({"h.json": NESTED}, "history", "nests JSON too deeply", None),
    "history: empty object": ({"h.json": "{}"}, "history", "must be a non-empty JSON object", None),
    "history: empty list": ({"h.json": '{"1": []}'}, "history", "non-empty list of accuracies", None),
    "history: NaN": ({"h.json": '{"1": [0.5, NaN]}'}, "history", "holds NaN", None),
    "history: Infinity": ({"h.json": '{"1": [Infinity]}'}, "history", "holds Infinity", None),
    "history: -Infinity": ({"h.json": '{"1": [-Infinity]}'}, "history", "holds -Infinity", None),
    "history: 1e999 (inf as a number)": ({"h.json": '{"1": [1e999]}'}, "history", "is inf; accuracies must lie in [0, 1]", None),
    "history: ids of another pool": ({"h.json": '{"77": [0.5]}'}, "history", "1 of 1 example ids are not in pool", None),
    # the store's directory read-only or full
    "store: read-only": ({"h.json": '{"1": [0.5, 1.0], "2": [0.0, 0.5]}'}, "history", "read-only", _read_only),
    "store: full": ({"h.json": '{"1": [0.5, 1.0], "2": [0.0, 0.5]}'}, "history", "No space left on device", _full_disk),
    # unknown names everywhere
    "unknown pool": ({}, ["rank", "--pool", "dsr_sub", "--history", "HISTORY"], "valid pools: dsr-sub, toy, file:PATH", None),
    "unknown data dir": ({}, ["rank", "--pool", "dsr-sub", "--data-dir", "NOWHERE", "--history", "HISTORY"], "pass --data-dir", None),
    "unknown score": ({}, ["rank", "--pool", "POOL", "--history", "HISTORY", "--score", "varience"], "valid scores", None),
    "unknown run": ({}, ["rank", "--run", "nope"], "no run 'nope'", None),
    "unknown pi": ({}, ["show", "pi7", "--pool", "POOL"], "has pi1..pi6", None),
    "unknown example id": ({}, ["show", "77", "--pool", "POOL"], "not in pool", None),
    "unknown table": ({}, ["sql", "SELECT * FROM nope"], "nope", None),
    "unknown sweep": ({}, ["results", "--sweep", "nope"], "no sweep 'nope'", None),
    "unknown launcher": ({}, ["sweep", "--pool", "POOL", "--launcher", "nope"], "valid launchers", None),
    "unknown benchmark": ({}, ["eval", "--model", "m", "--bench", "nope"], "valid benchmarks", None),
    "unknown protocol": ({}, ["eval", "--model", "m", "--bench", "toy", "--protocol", "nope"], "valid protocols", None),
    "unknown backend": ({}, ["eval", "--model", "m", "--bench", "toy", "--backend", "nope"], "valid backends", None),
    "unknown preset": ({}, ["train", "--pool", "POOL", "--preset", "nope"], "valid presets", None),
    "unknown reward": ({}, ["train", "--pool", "POOL", "--reward", "nope"], "valid rewards: outcome, format", None),
    "unknown loss term": ({}, ["train", "--pool", "POOL", "--terms", "kl"], "includes pg", None),
    "unknown --set key": ({}, ["train", "--pool", "POOL", "--set", "not_a_field=1"], "GRPOConfig field", None),
    "unknown example to train on": ({}, ["train", "--pool", "POOL", "--examples", "nope", "--prompts-per-step", "2"], "not in pool", None),
}
# argparse answers a bad choice itself: its usage line, then one error line (still exit 2).
ARGPARSE = {"unknown verb": (["nope"], "invalid choice: 'nope'"), "unknown toy action": (["toy", "nope"], "invalid choice: 'nope'")}
NEEDS_TRL = {name for name, (_, argv, _, _) in HOSTILE.items() if argv[0] == "train"}  # `selector train` checks for torch first


def _argv(world, files, argv):
    path = None
    for name, content in files.items():
        path = world["tmp"] / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, list):
            _parquet(path, content)
        else:
            path.write_text(content)
    if argv == "pool":  # the malformed pool file with the good history
        return ["rank", "--pool", f"file:{path}", "--history", world["history"]]
    if argv == "history":  # the good pool with the bad history file
        return ["rank", "--pool", world["pool"], "--history", path]
    subst = {"POOL": world["pool"], "HISTORY": world["history"], "NOWHERE": world["tmp"] / "nowhere"}
    return [subst.get(a, a) for a in argv]


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_is_one_line_exit_2_and_the_store_is_unchanged(world, capsys, monkeypatch, name):
    if name in NEEDS_TRL:
        pytest.importorskip("trl", reason="needs the train extra")
    files, argv, expected, patch = HOSTILE[name]
    argv = _argv(world, files, argv)
    before = _snapshot(world["store"])
    if patch is not None:
        patch(monkeypatch)
    code, out, err = _cli(capsys, *argv, "--store", world["store"])
    monkeypatch.undo()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, (name, code, err[-3000:])
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("selector: error: "), err[-3000:]
    assert expected in lines[0], (name, lines[0])
    assert _snapshot(world["store"]) == before


@pytest.mark.parametrize("name", list(ARGPARSE))
def test_bad_choice_is_usage_and_one_error_line(world, capsys, name):
    argv, expected = ARGPARSE[name]
    before = _snapshot(world["store"])
    code, _, err = _cli(capsys, *argv)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and "Traceback" not in err
    assert len(lines) == 2 and lines[0].startswith("usage: ") and ": error: " in lines[1] and expected in lines[1], err
    assert _snapshot(world["store"]) == before


def test_a_damaged_part_file_is_one_line(world, capsys):
    bad = world["store"] / "rollouts" / "copied-run" / "20260101T000000000000-1-deadbeef.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 cut short by an interrupted copy")
    code, _, err = _cli(capsys, "sql", "SELECT count(*) FROM runs", "--store", world["store"])
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err[-2000:]


# --------------------------------------------------------------------------- pathological answers

NEST = 100_000
# (case, response, gold): every one must come back incorrect, through the hard deadline.
PATHOLOGICAL = [
    ("tower of powers", "\\boxed{9^{9^{9^{9}}}}", "5"),
    ("1000000!", "\\boxed{1000000!}", "5"),
    ("100k nested braces", "\\boxed{" + "{" * NEST + "1" + "}" * NEST + "}", "5"),
    ("unbalanced braces", "\\boxed{" + "{" * NEST + "5", "5"),
    ("non-UTF-8 bytes in the box", b"so \\boxed{5\xff\xfe}".decode("utf-8", "surrogateescape"), "5"),
    ("non-UTF-8 bytes everywhere", bytes(range(128, 256)).decode("utf-8", "surrogateescape") * 1000, "5"),
    ("gold: tower of powers", "\\boxed{5}", "9^{9^{9^{9}}}"),
    ("gold: 1000000!", "\\boxed{5}", "1000000!"),
    ("gold: 100k nested braces", "\\boxed{5}", "{" * NEST + "5" + "}" * NEST),
    ("gold: unbalanced braces", "\\boxed{5}", "\\frac{5" + "{" * 10),
    ("gold: not UTF-8", "\\boxed{5}", b"5\xff".decode("utf-8", "surrogateescape")),
]


def test_pathological_answers_and_golds_grade_incorrect_without_a_hang():
    from selector.grader import Grader

    with Grader(workers=2, timeout_s=2.0) as grader:
        grades = grader.grade_many([c for _, c, _ in PATHOLOGICAL] + ["\\boxed{5}"], [g for *_, g in PATHOLOGICAL] + ["5"])
        wrong = [(case, g) for (case, *_), g in zip(PATHOLOGICAL, grades) if g.correct]
        assert wrong == []
        assert grades[-1].correct  # and the workers that were killed were replaced
        # The same tower as answer and gold is equal, not slow: math-verify compares the strings first.
        assert grader.grade_many(["\\boxed{9^{9^{9^{9}}}}"], ["9^{9^{9^{9}}}"])[0].correct
        assert grader.timeouts == sum(g.timed_out for g in grades) >= 1


def _fraction_text(num: int, den: int, style: str, sign: str, zeros: int) -> str:
    n = "0" * zeros + str(num)
    return sign + {"frac": f"\\frac{{{n}}}{{{den}}}", "slash": f"{n}/{den}", "int": n}[style if den == 1 or style != "int" else "frac"]


_style = st.sampled_from(["frac", "slash", "int"])
_sign = st.sampled_from(["", "", "-", "+"])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**20), st.integers(0, 10**6), st.sampled_from([1, 1, 2, 3, 10**9]), st.sampled_from([0, 0, 1, -1]),
       _style, _style, _sign, _sign, st.integers(0, 1), st.integers(0, 1))
def test_fraction_fast_path_agrees_with_math_verify(num, den, k, delta, gold_style, pred_style, gold_sign, pred_sign, z1, z2):
    """Integers and fractions of integers (the fast path added for grader_speed): equal values in
    other forms (\\frac{2}{4} vs 1/2, \\frac{6}{3} vs 2), near misses, signs, leading zeros and zero
    denominators get math-verify's own verdict. The fast path may only skip work."""
    from selector.grader import _grade_slow, grade

    gold = _fraction_text(num, den, gold_style, gold_sign, z1)
    pred = _fraction_text(max(0, num * k + delta), den * k, pred_style, pred_sign, z2)
    assert grade(f"\\boxed{{{pred}}}", gold) == _grade_slow(f"\\boxed{{{pred}}}", gold), (pred, gold)


# --------------------------------------------------------------------------- store round trips

_i32 = st.integers(-(2**31), 2**31 - 1)
_text = st.text(max_size=300)  # any Unicode scalar value; lone surrogates are refused where pools are read
_float = st.floats(allow_nan=True, allow_infinity=True)
_rollout = st.fixed_dictionaries({
    "attempt": st.one_of(st.none(), _i32), "epoch": st.one_of(st.none(), _i32), "example_id": st.one_of(st.none(), _text),
    "batch_index": st.one_of(st.none(), _i32), "sample_index": st.one_of(st.none(), _i32), "completion": st.one_of(st.none(), _text),
    "extracted": st.one_of(st.none(), _text), "reward": st.one_of(st.none(), _float), "correct": st.one_of(st.none(), st.booleans()),
    "formatted": st.one_of(st.none(), st.booleans()), "completion_tokens": st.one_of(st.none(), _i32),
    "grader_version": st.one_of(st.none(), _text),
})
_run = st.fixed_dictionaries({
    "kind": _text, "pool": _text, "model": st.one_of(st.none(), _text), "config": _text,
    "created_at": st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
})


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


@settings(max_examples=40, deadline=None)
@given(st.lists(_rollout, max_size=30), st.lists(_run, min_size=1, max_size=3), st.integers(1, 4))
def test_store_round_trip_keeps_every_value(rollouts, runs, parts):
    """Rows appended over several flushes come back exactly: strings (NUL, astral planes, line
    separators), int32 extremes, NaN / inf / -0.0, nulls, microsecond timestamps."""
    rows = [{**r, "run_id": "r", "step": i} for i, r in enumerate(rollouts)]  # step: a unique key to line rows up
    run_rows = [{**r, "run_id": f"run{i}"} for i, r in enumerate(runs)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "s", create=True)
        with store.writer("r") as w:
            for k in range(parts):
                w.append("rollouts", rows[k::parts])
                w.append("runs", run_rows[k::parts])
                w.flush()
        got = store.rows("SELECT * FROM rollouts_all ORDER BY step")
        got_runs = store.rows("SELECT run_id, kind, pool, model, config, created_at FROM runs ORDER BY run_id")
    assert len(got) == len(rows)
    for want, have in zip(rows, got):
        assert all(_same(want.get(c), have[c]) for c in TABLES["rollouts"]), (want, have)
    assert got_runs == sorted(run_rows, key=lambda r: r["run_id"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 2), st.sampled_from("abcd"), st.booleans()), min_size=1, max_size=60))
def test_epoch_accuracy_counts_the_latest_attempt_of_each_step(entries):
    """Any mix of steps and resume attempts: epoch_accuracy is the per-(example, epoch) mean over
    the rows of each step's latest attempt, computed here by hand."""
    rows = [{"run_id": "r", "attempt": a, "step": s, "epoch": (s - 1) // 2 + 1, "example_id": ex, "batch_index": 0, "sample_index": i,
             "correct": c} for i, (s, a, ex, c) in enumerate(entries)]
    latest = {}
    for r in rows:
        latest[r["step"]] = max(latest.get(r["step"], -1), r["attempt"])
    want = {}
    for r in rows:
        if r["attempt"] == latest[r["step"]]:
            n_correct, n = want.get((r["example_id"], r["epoch"]), (0, 0))
            want[(r["example_id"], r["epoch"])] = (n_correct + r["correct"], n + 1)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "s", create=True)
        with store.writer("r") as w:
            w.append("rollouts", rows)
        got = {(r["example_id"], r["epoch"]): (r["n_correct"], r["n"]) for r in store.rows("SELECT * FROM epoch_accuracy")}
    assert got == want


# --------------------------------------------------------------------------- found while benchmarking


def test_ties_keep_the_order_in_which_a_run_first_met_the_examples(tmp_path):
    from selector import score

    def row(step, ex, batch):
        return {"run_id": "r", "attempt": 0, "step": step, "epoch": 1, "example_id": ex, "batch_index": batch, "sample_index": 0,
                "correct": False}

    store = Store.open(tmp_path / "s", create=True)
    with store.writer("r") as w:  # step 1 meets x (batch 0) before a (batch 1); step 2 has them the other way round
        w.append("rollouts", [row(1, "x", 0), row(1, "a", 1), row(2, "a", 0), row(2, "x", 1)])
    ids, accs, epochs = store.history("r")
    ranked = score.rank(score.History.from_lists(ids, accs, epochs), "variance", 0)  # both always wrong: a tie
    assert [r.example_id for r in ranked] == ["x", "a"]
