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

import argparse

from trainer.config import TrainConfig

HELP = "run GRPO (a history run over a pool, or 1-shot / few-shot on chosen examples), recording every rollout"
CONFIG = TrainConfig


def make_parser(subparsers):
    from selector.config import add_arguments

    p = subparsers.add_parser("train", help=HELP, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, TrainConfig)
    return p


def main(cfg: TrainConfig) -> str | None:
    from selector.errors import UserError

    try:
        import torch  # noqa: F401  (only to say clearly what is missing)
        import trl  # noqa: F401
    except ImportError as e:
        raise UserError(f"`selector train` needs the train extra ({e.name} is missing): pip install -e '.[train]'") from None
    from trainer.grpo import train

    run_id = train(cfg)
    if run_id:
        print(run_id)
    return run_id
