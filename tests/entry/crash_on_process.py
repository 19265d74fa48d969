"""A `selector train` whose process CRASH_PROCESS raises at optimizer step CRASH_STEP (the test of
tests/test_multiprocess.py that a failing process ends the whole launch): run under
`accelerate launch ... tests/entry/crash_on_process.py <selector train arguments>`."""

import os
import sys

from transformers import TrainerCallback

from selector.cli.arguments import from_args
from selector.cli import build_parser
from selector.runs import TrainConfig
from trainer.grpo import train


class Crash(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == int(os.environ["CRASH_STEP"]) and int(os.environ["RANK"]) == int(os.environ["CRASH_PROCESS"]):
            raise RuntimeError(f"simulated crash at step {state.global_step}")


if __name__ == "__main__":
    cfg = from_args(TrainConfig, build_parser().parse_args(["train", *sys.argv[1:]]))
    train(cfg, callbacks=(Crash(),))
