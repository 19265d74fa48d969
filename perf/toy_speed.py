"""Toy-world GRPO speed: rollouts per second of the toy preset against the configuration it
replaced, measured in the same run on the same model.

    python perf/toy_speed.py                # 3 rounds x 2 configurations x 12 steps (~4 min on 2 cores)
    python perf/toy_speed.py --quick        # 1 round x 8 steps
    python perf/toy_speed.py --model DIR    # another model (default: the cached toy model, built if needed)

Both sides are `trainer.grpo.train` history runs over the toy pool (evaluation off, checkpoints
off), started one after the other in this process, alternating which goes first:
- before: the toy preset as it was before issue 17: 16 prompts x 8 rollouts per step, up to 56
  new tokens, torch's default intra-op threads (one per core);
- now: the toy preset's history run as it is (`selector/runs.py`: 30 prompts x 8 rollouts).
A step's time is the wall time between two `on_step_end` callbacks; the first 2 steps of each run
are not counted. Rollouts per second = completions per step / median step time. Target: >= 2x.
The import time of the training stack (`import trainer.grpo` + TRL), paid once per process, is
measured in a fresh interpreter and printed too.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

WARMUP = 2
BEFORE = "prompts_per_step=16,max_completion_length=56,torch_threads=0"  # 0: torch's default, a thread per core


def run(model: str, store: Path, steps: int, name: str, overrides: str | None):
    import torch
    from transformers import TrainerCallback

    from selector.runs import TrainConfig, prepare
    from trainer.grpo import train

    class Timer(TrainerCallback):
        def __init__(self):
            self.ends = []

        def on_train_begin(self, args, state, control, **kwargs):
            self.ends.append(time.perf_counter())

        def on_step_end(self, args, state, control, **kwargs):
            self.ends.append(time.perf_counter())

    threads = torch.get_num_threads()
    timer = Timer()
    cfg = TrainConfig(pool="toy", preset="toy", model=model, store=str(store), max_steps=steps, eval_steps=0, run_id=name,
                      set=",".join(x for x in ("save_steps=100000", overrides) if x))
    values = prepare(cfg).values  # as the run resolves them (a history run's own batch: history_prompts_per_step)
    try:
        train(cfg, callbacks=(timer,))
    finally:
        torch.set_num_threads(threads)  # `before` uses the process default, whatever `now` set
    per_step = values["prompts_per_step"] * values["num_generations"]
    deltas = [b - a for a, b in zip(timer.ends, timer.ends[1:])][WARMUP:]
    return per_step, deltas, values


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import trainer.grpo, trl; print(time.perf_counter() - t)"
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1], env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    return float(got.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model directory (default: the cached toy model, built if needed)")
    parser.add_argument("--steps", type=int, default=12, help="optimizer steps per run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (before, now), alternating which goes first")
    parser.add_argument("--quick", action="store_true", help="1 round of 8 steps")
    args = parser.parse_args()
    steps, rounds = (8, 1) if args.quick else (args.steps, args.rounds)

    import transformers

    transformers.utils.logging.set_verbosity_error()
    from trainer.toy_model import ensure_built

    model = args.model or str(ensure_built())
    tmp = Path(tempfile.mkdtemp(prefix="toy-speed-"))
    load = os.getloadavg()[0]
    results = {"before": [], "now": []}
    info = {}
    for r in range(rounds):
        for side in (("before", "now") if r % 2 == 0 else ("now", "before")):
            per_step, deltas, values = run(model, tmp / f"store-{side}-{r}", steps, f"speed-{side}-{r}",
                                           BEFORE if side == "before" else None)
            results[side] += deltas
            info[side] = (per_step, values)
            print(f"round {r + 1} {side}: median {statistics.median(deltas):.3f} s/step, {per_step} rollouts/step", flush=True)
    imports = [import_seconds() for _ in range(3)]
    print(f"\nload average before the runs: {load:.2f} (1 min); after: {os.getloadavg()[0]:.2f}")
    print(f"{'config':<8}{'rollouts/step':>14}{'max tokens':>11}{'threads':>8}{'median s/step':>14}{'rollouts/s':>11}")
    rate = {}
    for side in ("before", "now"):
        per_step, values = info[side]
        med = statistics.median(results[side])
        rate[side] = per_step / med
        print(f"{side:<8}{per_step:>14}{values['max_completion_length']:>11}{values.get('torch_threads') or 'default':>8}"
              f"{med:>14.3f}{rate[side]:>11.1f}")
    ratio = rate["now"] / rate["before"]
    print(f"\nimport trainer.grpo + trl in a fresh interpreter: {min(imports):.2f}-{max(imports):.2f} s (3 runs)")
    print(f"target: toy rollouts/s >= 2x the configuration before: {ratio:.2f}x, {'met' if ratio >= 2 else 'NOT met'}")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
