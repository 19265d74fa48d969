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


import os

from selector.cli.arguments import add_command
from selector.runs import TrainConfig

HELP = "run GRPO (a history run over a pool, or 1-shot / few-shot on chosen examples), recording every rollout"


def make_parser(subparsers):
    return add_command(subparsers, "train", HELP, __doc__, TrainConfig)


def main(cfg: TrainConfig) -> str | None:
    from selector.errors import require_extra

    require_extra("`selector train`")
    from trainer.grpo import train

    run_id = train_somewhere(cfg, train)
    if run_id and os.environ.get("RANK", "0") == "0":
        print(run_id)
    return run_id


def train_somewhere(cfg: TrainConfig, train) -> str | None:
    """Train here, or with --processes N > 1 (and no launcher around us) as a child `accelerate
    launch` of N processes: GPUs where there are, CPU processes (gloo) where there are none."""
    if cfg.processes > 1 and "WORLD_SIZE" not in os.environ and not cfg.print_config:
        from selector.launcher import train_under_accelerate

        return train_under_accelerate(cfg)
    return train(cfg)
