"""What `select train` tells its user and its trackers: the summary it ends with, the line an
interrupted run leaves, what --resume does without a checkpoint, no alarm about tied weights on
resume, and --report-to (tensorboard files on disk with our metrics beside TRL's).

    python -m pytest tests/test_train_output.py -q
"""

import json
import logging

import pytest

pytest.importorskip("trl", reason="training needs the train extra: pip install -e '.[train]'")

from cli_harness import cli  # noqa: E402
from selector.store import Store  # noqa: E402

TINY = ["--preset", "toy", "--prompts-per-step", 4, "--num-generations", 4, "--max-completion-length", 8]


def test_train_ends_with_what_it_reached_where_it_is_and_what_next(tmp_path, pool12, tiny_model, capsys):
    code, out, err = cli(capsys, "train", "--pool", pool12, "--model", tiny_model, *TINY, "--max-steps", 2,
                         "--eval-steps", 1, "--eval-limit", 2, "--store", tmp_path / "s")
    assert code in (0, None), err
    run_id = out.strip()  # stdout: the run id alone
    store = Store.open(tmp_path / "s")
    acc = store.rows("SELECT avg(accuracy) AS a FROM train_behaviour WHERE run_id = ?", [run_id])[0]["a"]
    toy = store.rows("SELECT accuracy FROM eval_scores WHERE run_id = ? AND step = 2", [run_id])[0]["accuracy"]
    assert f"run {run_id} finished at step 2: training accuracy {100 * acc:.1f}% (its last 2 steps)" in err
    assert f"toy at step 2: {100 * toy:.1f}% (avg@4 over 2 problems)" in err
    assert f"recorded in {tmp_path / 's'}" in err and f"next: selector rank --run {run_id}" in err


def test_an_interrupted_run_says_how_to_continue_and_is_interrupted(tmp_path, pool12, tiny_model, capsys, monkeypatch):
    import trainer.grpo
    from transformers import TrainerCallback

    class CtrlC(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            raise KeyboardInterrupt

    real = trainer.grpo.train
    monkeypatch.setattr(trainer.grpo, "train", lambda cfg, callbacks=(): real(cfg, callbacks=(CtrlC(),)))
    args = ["train", "--pool", pool12, "--model", tiny_model, *TINY, "--max-steps", 3, "--eval-steps", 0,
            "--store", tmp_path / "s"]
    code, out, err = cli(capsys, *args)
    assert code == 130
    (run,) = Store.open(tmp_path / "s").rows("SELECT run_id, status FROM run_status")
    assert run["status"] == "interrupted"
    assert f"interrupted: run {run['run_id']} keeps every step up to its last checkpoint; continue it with:" in err
    command = err.split("continue it with:")[1].strip().splitlines()[0]
    assert command.startswith("selector train") and command.endswith(f"--run-id {run['run_id']} --resume")
    monkeypatch.setattr(trainer.grpo, "train", real)
    # The command it gives continues the run (no checkpoint yet: it says it starts again).
    import shlex

    code, out, err = cli(capsys, *shlex.split(command)[1:])
    assert code in (0, None), err
    assert "has no complete checkpoint yet: attempt 1 starts again from step 0" in err
    assert Store.open(tmp_path / "s").run(run["run_id"])["status"] == "finished"


def test_resuming_a_tied_model_says_nothing_about_lm_head():
    from trainer.grpo import _quiet_transformers

    _quiet_transformers()
    log = logging.getLogger("transformers.trainer")  # where the Trainer says it
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    log.addHandler(handler)
    try:
        log.warning("There were missing keys in the checkpoint model loaded: ['lm_head.weight'].")
        log.warning("There were missing keys in the checkpoint model loaded: ['lm_head.weight', 'model.norm.weight'].")
    finally:
        log.removeHandler(handler)
    # tied to the embeddings, lm_head is not missing; a real missing key still shows
    assert seen == ["There were missing keys in the checkpoint model loaded: ['lm_head.weight', 'model.norm.weight']."]


def test_report_to_tensorboard_writes_our_metrics_beside_trls(tmp_path, pool12, tiny_model, capsys):
    pytest.importorskip("tensorboard", reason="the tensorboard tracker needs tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    example = json.loads(open(pool12.removeprefix("file:")).readline())["id"]
    code, out, err = cli(capsys, "train", "--pool", pool12, "--model", tiny_model, *TINY, "--examples", example,
                         "--max-steps", 2, "--eval-steps", 1, "--eval-limit", 2, "--report-to", "tensorboard",
                         "--store", tmp_path / "s")
    assert code in (0, None), err
    events = list((tmp_path / "s" / "checkpoints").rglob("events.out.tfevents.*"))
    assert events, "no tensorboard event file"
    tags = set()
    for e in events:
        acc = EventAccumulator(str(e.parent))
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    assert {"train/reward", "train/kl", "train/rlvr/batch_accuracy", f"train/rlvr/accuracy/{example}",
            "train/eval/toy/accuracy"} <= tags, tags
    code, out, err = cli(capsys, "train", "--pool", pool12, "--report-to", "mlflow")
    assert code == 2 and "--report-to 'mlflow': none, or a comma list of wandb, trackio, tensorboard" in err
