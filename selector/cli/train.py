"""`select train`: one GRPO run, every rollout recorded (needs the `train` extra).

    selector train --pool toy                              # a history run over the whole toy pool
    selector train --pool toy --examples pi1               # 1-shot on pi1 (the stored ranking)
    selector train --pool toy --examples pi1,pi13 --seed 2 # few-shot: the examples fill the batch
    selector train --pool toy --terms pg --examples pi1    # ablation: policy gradient only
    selector train --pool dsr-sub --preset paper-qwen2.5-math-1.5b --examples pi13 --print-config

The run is recorded in the store as it goes (rollouts, eval samples, metrics), with checkpoints
under <store>/checkpoints/<run_id>/. Re-running the same command on a finished run does
nothing; an interrupted run continues with --resume.
"""


import dataclasses
import os
import sys

from selector.cli.arguments import add_command
from selector.runs import TrainConfig

HELP = "run GRPO (a history run over a pool, or 1-shot / few-shot on chosen examples), recording every rollout"


def make_parser(subparsers):
    return add_command(subparsers, "train", HELP, __doc__, TrainConfig)


def main(cfg: TrainConfig) -> str | None:
    from selector.errors import require_extra

    require_extra("`selector train`")
    from trainer.grpo import train

    try:
        run_id = train_somewhere(cfg, train)
    except KeyboardInterrupt:
        if os.environ.get("RANK", "0") == "0":
            _interrupted(cfg)
        raise
    if run_id and os.environ.get("RANK", "0") == "0":
        print(run_id)
        _summary(cfg, run_id)
    return run_id


def _summary(cfg: TrainConfig, run_id: str) -> None:
    """The run's end in a few lines on stderr (stdout keeps the run id alone, for scripts)."""
    from selector.paths import store_dir
    from selector.results import run_summary
    from selector.store import Store

    store = Store.open(store_dir(cfg.store))
    s = run_summary(store, run_id)
    lines = []
    if s["train_accuracy"] is not None:
        lines.append(f"run {run_id} {s['status']} at step {s['last_step']}: training accuracy {100 * s['train_accuracy']:.1f}% "
                     f"(its last {s['train_steps']} steps)")
    for e in s["evals"]:
        lines.append(f"  {e['benchmark']} at step {e['step']}: {100 * e['accuracy']:.1f}% (avg@{e['samples']} over "
                     f"{e['problems']} problems)")
    lines.append(f"recorded in {store.root} (rollouts, eval_samples, metrics); checkpoints in "
                 f"{store.root / 'checkpoints' / run_id}")
    nxt = f"selector rank --run {run_id}" if s["kind"] == "history" else f"selector results --run {run_id}"
    lines.append(f"next: {nxt}  |  selector report --run {run_id} --store {store.root}")
    print("\n".join(lines), file=sys.stderr)


def _interrupted(cfg: TrainConfig) -> None:
    """Ctrl-C: say that the run is kept and how to continue it."""
    import shlex

    from selector.runs import prepare, train_args

    run_id = cfg.run_id or prepare(cfg).run_id
    args = train_args(dataclasses.replace(cfg, run_id=run_id, resume=True))
    print(f"interrupted: run {run_id} keeps every step up to its last checkpoint; continue it with:\n"
          f"  {shlex.join(['selector', 'train', *args])}", file=sys.stderr)


def train_somewhere(cfg: TrainConfig, train) -> str | None:
    """Train here, or with --processes N > 1 (and no launcher around us) as a child `accelerate
    launch` of N processes: GPUs where there are, CPU processes (gloo) where there are none."""
    if cfg.processes > 1 and "WORLD_SIZE" not in os.environ and not cfg.print_config:
        from selector.launcher import train_under_accelerate

        return train_under_accelerate(cfg)
    return train(cfg)
