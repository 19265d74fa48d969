"""The recorder's arithmetic (trainer/recorder.py) without training: the step and epoch of a
generation batch, the (batch, sample) index of every completion over generation chunks and
processes, the running reward of a step, and when rows and metrics are written.

    python -m pytest tests/test_recorder_numbers.py -q

A fake writer and accelerator stand in for the store and accelerate (the environment only).
"""

from types import SimpleNamespace

import pytest

pytest.importorskip("transformers", reason="trainer/recorder.py needs the train extra: pip install -e '.[train]'")

from selector.verdict import Grade  # noqa: E402
from trainer.recorder import Recorder, RecorderCallback  # noqa: E402


class Writer:
    def __init__(self):
        self.parts, self.flushes = [], 0

    def append(self, table, rows):
        self.parts.append((table, list(rows)))

    def flush(self):
        self.flushes += 1


def _recorder(steps_per_epoch=3, num_generations=4, accelerator=None, writer=None):
    return Recorder(writer=writer, run_id="r", attempt=2, steps_per_epoch=steps_per_epoch, num_generations=num_generations,
                    grader_version="g", accelerator=accelerator)


def _add(rec, global_step, n=4, rewards=None, ex="e"):
    rewards = rewards if rewards is not None else [0.0] * n
    grades = [Grade(r > 0, True, str(r)) for r in rewards]
    rec.add(global_step, [ex] * n, [f"t{i}" for i in range(n)], [[1] * (i + 1) for i in range(n)], grades, rewards)


STEPS = [
    # (TRL's global_step when the batch is generated, steps per epoch, (step, epoch) recorded)
    (0, 3, (1, 1)),  # the first batch belongs to step 1
    (2, 3, (3, 1)),  # the last step of epoch 1
    (3, 3, (4, 2)),  # the first of epoch 2
    (5, 3, (6, 2)),
    (6, 3, (7, 3)),
    (0, 1, (1, 1)),
    (4, 1, (5, 5)),  # one step per epoch
    (4, 0, (5, 5)),  # a pool smaller than a step: every step its own epoch (never a division by 0)
]


@pytest.mark.parametrize("global_step,per_epoch,want", STEPS, ids=[f"gs{g}-spe{s}" for g, s, _ in STEPS])
def test_step_and_epoch_of_a_generation_batch(global_step, per_epoch, want):
    rec = _recorder(steps_per_epoch=per_epoch)
    _add(rec, global_step)
    assert {(r["step"], r["epoch"]) for r in rec.rows} == {want}, (global_step, per_epoch, want)
    assert rec.last_batch["step"] == want[0] and rec.last_batch["epoch"] == want[1]


def test_each_completion_gets_its_group_and_place_in_the_group():
    rec = _recorder(num_generations=4)
    _add(rec, 0, n=8)
    got = [(r["batch_index"], r["sample_index"]) for r in rec.rows]
    assert got == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3)]
    r = rec.rows[5]
    assert (r["run_id"], r["attempt"], r["completion"], r["completion_tokens"], r["grader_version"]) == ("r", 2, "t5", 6, "g")


def test_generation_chunks_of_one_step_continue_the_indices_and_a_new_step_restarts_them():
    rec = _recorder(num_generations=2)
    _add(rec, 0, n=4)  # step 1, chunk 0: groups 0, 1
    _add(rec, 0, n=4)  # step 1, chunk 1: groups 2, 3
    _add(rec, 1, n=4)  # step 2, chunk 0 again: groups 0, 1
    got = [(r["step"], r["batch_index"], r["sample_index"]) for r in rec.rows]
    assert got == ([(1, b, s) for b in range(4) for s in range(2)] + [(2, b, s) for b in range(2) for s in range(2)])


def test_processes_take_consecutive_slices_of_every_chunk():
    # 3 processes, 2 completions each per chunk, 2 chunks: process p's chunk c starts at (c * 3 + p) * 2.
    def indices(process):
        rec = _recorder(num_generations=2, accelerator=SimpleNamespace(num_processes=3, process_index=process))
        _add(rec, 0, n=2)
        _add(rec, 0, n=2)
        return [r["batch_index"] for r in rec.rows]

    assert [indices(p) for p in range(3)] == [[0, 0, 3, 3], [1, 1, 4, 4], [2, 2, 5, 5]]
    single = _recorder(num_generations=2, accelerator=SimpleNamespace(num_processes=1, process_index=0))
    _add(single, 0, n=4)
    assert [r["batch_index"] for r in single.rows] == [0, 0, 1, 1]


def test_the_reported_reward_is_the_mean_over_the_steps_chunks_so_far():
    rec = _recorder()
    _add(rec, 0, rewards=[1.0, 0.0, 0.0, 0.0])
    assert rec.last_batch["reward"] == 0.25
    _add(rec, 0, rewards=[1.0, 1.0, 1.0, 0.0])  # same step: (1 + 3) / 8
    assert rec.last_batch["reward"] == 0.5
    _add(rec, 1, rewards=[1.0, 1.0, 0.0, 0.0])  # a new step starts its own mean
    assert rec.last_batch == {"step": 2, "epoch": 1, "reward": 0.5}
    assert [r["reward"] for r in rec.rows[-4:]] == [1.0, 1.0, 0.0, 0.0] and [r["correct"] for r in rec.rows[-4:]] == [
        True, True, False, False]


def test_flush_writes_the_rows_once_and_only_the_main_process_writes_gathered_rows(monkeypatch):
    w = Writer()
    rec = _recorder(writer=w)
    _add(rec, 0)
    rec.flush()
    rec.flush()  # nothing new: no empty part
    assert [(t, len(rows)) for t, rows in w.parts] == [("rollouts", 4)] and w.flushes == 1 and rec.rows == []

    import accelerate.utils

    monkeypatch.setattr(accelerate.utils, "gather_object", lambda rows: rows + rows)  # two processes' rows
    for main, parts in ((True, [("rollouts", 8)]), (False, [])):
        w = Writer()
        rec = _recorder(writer=w, accelerator=SimpleNamespace(num_processes=2, process_index=0 if main else 1,
                                                              is_main_process=main))
        _add(rec, 0)
        rec.flush()
        assert [(t, len(rows)) for t, rows in w.parts] == parts, main
        _add(rec, 1)
        rec.flush(local=True)  # a failing process writes its own rows, not gathered
        assert [(t, len(rows)) for t, rows in w.parts][-1] == ("rollouts", 4)


FLUSH = [
    # (global_step, should_save, should_training_stop, flushed)
    (20, False, False, True),  # every 20 steps
    (40, False, False, True),
    (19, False, False, False),
    (21, False, False, False),
    (7, True, False, True),  # before a checkpoint is saved
    (7, False, True, True),  # when training stops
]


@pytest.mark.parametrize("step,save,stop,flushed", FLUSH, ids=["20", "40", "19", "21", "save", "stop"])
def test_callback_flushes_every_20_steps_at_saves_and_at_the_end(step, save, stop, flushed):
    w = Writer()
    rec = _recorder(writer=w)
    cb = RecorderCallback(rec)
    _add(rec, step - 1)
    cb.on_step_end(None, SimpleNamespace(global_step=step), SimpleNamespace(should_save=save, should_training_stop=stop))
    assert bool(w.parts) is flushed, (step, save, stop)


def test_callback_records_numeric_metrics_on_the_main_process_only():
    w = Writer()
    rec = _recorder(writer=w)
    cb = RecorderCallback(rec)
    cb.on_log(None, SimpleNamespace(global_step=5), None, logs={"loss": 0.5, "kl": 1, "flag": True, "name": "x"})
    assert w.parts == [("metrics", [{"run_id": "r", "attempt": 2, "step": 5, "name": "loss", "value": 0.5},
                                    {"run_id": "r", "attempt": 2, "step": 5, "name": "kl", "value": 1.0}])]
    cb.on_log(None, SimpleNamespace(global_step=6), None, logs={})
    other = Writer()
    rec2 = _recorder(writer=other, accelerator=SimpleNamespace(num_processes=2, process_index=1, is_main_process=False))
    RecorderCallback(rec2).on_log(None, SimpleNamespace(global_step=5), None, logs={"loss": 0.5})
    assert len(w.parts) == 1 and other.parts == []
    _add(rec, 0)
    cb.on_train_end(None, None, None)
    assert w.parts[-1][0] == "rollouts"


def test_a_row_holds_every_column_of_the_rollout():
    rec = _recorder(num_generations=4)
    assert rec.last_batch == {} and rec.rows == []  # nothing yet for the progress bar
    rec.add(4, [17], ["so \\boxed{3}"], [[5, 6, 7]], [Grade(True, True, "3")], [1])
    assert rec.rows == [{"run_id": "r", "attempt": 2, "step": 5, "epoch": 2, "example_id": "17", "batch_index": 0, "sample_index": 0,
                         "completion": "so \\boxed{3}", "extracted": "3", "reward": 1.0, "correct": True, "formatted": True,
                         "completion_tokens": 3, "grader_version": "g"}]
    assert rec.last_batch == {"step": 5, "epoch": 2, "reward": 1.0}  # one completion: its own reward


def test_a_third_generation_chunk_continues_after_the_second():
    rec = _recorder(num_generations=2)
    for _ in range(3):
        _add(rec, 0, n=2)
    assert [r["batch_index"] for r in rec.rows] == [0, 0, 1, 1, 2, 2]


def test_a_callback_told_to_flush_every_step_does():
    w = Writer()
    rec = _recorder(writer=w)
    cb = RecorderCallback(rec, every=1)
    _add(rec, 2)
    cb.on_step_end(None, SimpleNamespace(global_step=3), SimpleNamespace(should_save=False, should_training_stop=False))
    assert [t for t, _ in w.parts] == ["rollouts"]


def _add_grades(rec, global_step, examples, correct):
    """One generation batch: completion i is of example examples[i], correct when correct[i]."""
    rec.add(global_step, examples, ["t"] * len(examples), [[1]] * len(examples),
            [Grade(bool(c), True, "x") for c in correct], [float(c) for c in correct])


def test_log_values_are_the_steps_accuracy_over_the_batch_and_per_example():
    rec = _recorder()
    assert rec.log_values() == {}  # nothing generated yet
    # Step 1 in two generation chunks: example 7 (an int id, as a pool's ids may be) 3 of 4 right,
    # example "a" 1 of 4; the second chunk adds to the first.
    _add_grades(rec, 0, [7, 7, "a", "a"], [1, 1, 0, 1])
    assert rec.log_values() == {"rlvr/batch_accuracy": 3 / 4, "rlvr/accuracy/7": 1.0, "rlvr/accuracy/a": 0.5}
    _add_grades(rec, 0, [7, 7, "a", "a"], [1, 0, 0, 0])
    got = rec.log_values()
    assert got == {"rlvr/batch_accuracy": 4 / 8, "rlvr/accuracy/7": 3 / 4, "rlvr/accuracy/a": 1 / 4}
    assert list(got) == ["rlvr/batch_accuracy", "rlvr/accuracy/7", "rlvr/accuracy/a"]  # examples in sorted order
    # Step 2 starts its own tally.
    _add_grades(rec, 1, ["b", "b"], [0, 0])
    assert rec.log_values() == {"rlvr/batch_accuracy": 0.0, "rlvr/accuracy/b": 0.0}


@pytest.mark.parametrize("examples,per_example", [(16, True), (17, False)])
def test_log_values_name_each_example_only_up_to_16(examples, per_example):
    rec = _recorder(num_generations=2)
    ids = [f"e{i:02d}" for i in range(examples) for _ in range(2)]
    correct = [i % 4 == 0 for i in range(len(ids))]  # every other example: one of its two right
    _add_grades(rec, 3, ids, correct)
    want = {"rlvr/batch_accuracy": sum(correct) / len(ids)}
    if per_example:
        want.update({f"rlvr/accuracy/e{i:02d}": 0.5 if i % 2 == 0 else 0.0 for i in range(examples)})
    assert rec.log_values() == want
