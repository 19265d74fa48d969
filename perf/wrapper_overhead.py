"""Wrapper overhead: step time of the recording GRPO wrapper vs plain TRL GRPOTrainer.

    python perf/wrapper_overhead.py                 # 4 rounds x 2 runs x 14 steps (~3 min on 2 cores)
    python perf/wrapper_overhead.py --quick         # 1 round x 8 steps
    python perf/wrapper_overhead.py --model "$(selector toy path)" --rounds 5
    python perf/wrapper_overhead.py --processes 2        # both under `accelerate launch` of 2 processes

Both sides train the same model (default: the toy architecture after 3 pre-training steps, built
here in seconds; --model for another), on the same data (the first 64 toy-pool problems) with the
same seed and the very same GRPOConfig: the wrapper's run (`trainer.grpo.train`, toy preset: 16
prompts x 8 rollouts, up to 56 new tokens) is made first, its config is captured and given to
the plain trainer (that first run is a warm-up and not counted).
- wrapper: `trainer.grpo.train`: grading in worker processes with a hard deadline, every rollout
  handed to the recorder and written as one Parquet part per step, TRL's metrics recorded, the
  progress bar;
- plain: `trl.GRPOTrainer` with the in-process reward `selector.rewards.outcome_reward` (the same
  grader, no workers, nothing recorded); TRL's printer of log dicts removed, as the wrapper does.
A step's time is the wall time between two `on_step_end` callbacks (the wrapper's recorder
flushes inside its own on_step_end, which runs before the timer's, so the write is counted); the
first 2 steps of each run are warm-up and not counted. Runs alternate (wrapper, plain, plain,
wrapper, ...) and the medians over all counted steps are compared. Target: wrapper <= 1.03x.

With --processes N, every run is its own `accelerate launch` of N processes (this script again,
with --child): the wrapper's run as above, and plain TRL with the GRPOConfig the wrapper builds
for the same settings (`trainer.grpo._grpo_args`), so both split each step the same way; the main
process's step times are compared.
"""

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from transformers import TrainerCallback  # noqa: E402

WARMUP = 2


class StepTimer(TrainerCallback):
    def __init__(self):
        self.ends, self.args = [], None

    def on_train_begin(self, args, state, control, **kwargs):
        self.args = args
        self.ends.append(time.perf_counter())

    def on_step_end(self, args, state, control, **kwargs):
        self.ends.append(time.perf_counter())

    def steps(self) -> list[float]:
        deltas = [b - a for a, b in zip(self.ends, self.ends[1:])]
        return deltas[WARMUP:]


def run_wrapper(pool: str, model: str, store: Path, steps: int, seed: int, name: str) -> StepTimer:
    from selector.runs import TrainConfig
    from trainer.grpo import train

    timer = StepTimer()
    train(TrainConfig(pool=pool, preset="toy", model=model, store=str(store), max_steps=steps, eval_steps=0, seed=seed,
                      run_id=name, set="save_steps=100000"), callbacks=(timer,))
    return timer


def wrapper_config(pool: str, model: str, out: Path, steps: int):
    """The GRPOConfig the wrapper builds for its run (here: under the launcher's processes)."""
    from selector.runs import TrainConfig, prepare
    from trainer.grpo import _grpo_args

    p = prepare(TrainConfig(pool=pool, preset="toy", model=model, store=str(out / "store"), max_steps=steps, eval_steps=0,
                            seed=0, set="save_steps=100000"))
    return _grpo_args(p, out / "plain")


def run_plain(args, pool: str, model: str, out: Path, steps: int) -> StepTimer:
    from datasets import Dataset
    from transformers import AutoTokenizer
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOTrainer

    from selector.pools import load_pool
    from selector.runs import build_rows
    from selector.rewards import outcome_reward

    tokenizer = AutoTokenizer.from_pretrained(model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows = build_rows(load_pool(pool), None, args.generation_batch_size // args.num_generations)
    timer = StepTimer()
    args = copy.deepcopy(args)  # the wrapper's GRPOConfig, with its own output directory and length
    args.output_dir, args.max_steps = str(out), steps
    trainer = GRPOTrainer(model=model, reward_funcs=[outcome_reward], args=args,
                          train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(timer)
    trainer.train()
    return timer


def child(side: str, pool: str, model: str, out: Path, steps: int, r: int) -> None:
    """One run under `accelerate launch`: the main process writes its step times to out/times.json."""
    if side == "wrapper":
        timer = run_wrapper(pool, model, out / "store", steps, 0, f"bench-{r}")
    else:
        timer = run_plain(wrapper_config(pool, model, out, steps), pool, model, out / "plain", steps)
    if int(os.environ.get("RANK", "0")) == 0:
        (out / "times.json").write_text(json.dumps(timer.steps()))


def launched(side: str, processes: int, pool: str, model: str, out: Path, steps: int, r: int) -> list[float]:
    import subprocess

    from selector.launcher import accelerate_command

    out.mkdir(parents=True, exist_ok=True)
    cmd = accelerate_command(processes) + [__file__, "--child", side, "--pool", pool, "--model", model, "--out", str(out),
                                            "--steps", str(steps), "--round", str(r)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads((out / "times.json").read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model directory (default: the toy architecture after 3 steps, built here)")
    parser.add_argument("--steps", type=int, default=14, help="optimizer steps per run")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of (wrapper, plain) runs, alternating which goes first")
    parser.add_argument("--quick", action="store_true", help="1 round of 8 steps")
    parser.add_argument("--processes", type=int, default=1, help="run both under `accelerate launch` of N processes")
    parser.add_argument("--child", choices=["wrapper", "plain"], help=argparse.SUPPRESS)  # one launched run
    parser.add_argument("--pool", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.pool, args.model, Path(args.out), args.steps, args.round)
        return 0
    steps, rounds = (8, 1) if args.quick else (args.steps, args.rounds)

    import transformers

    transformers.utils.logging.set_verbosity_error()
    tmp = Path(tempfile.mkdtemp(prefix="wrapper-overhead-"))
    model = args.model
    if model is None:
        from trainer.toy_model import build

        model = str(build(out_dir=tmp / "model", steps=3, progress=False, force=True))
    from selector.toy import pool_rows

    pool_file = tmp / "pool.jsonl"
    pool_file.write_text("".join(json.dumps(r) + "\n" for r in pool_rows()[:64]))
    pool = f"file:{pool_file}"

    # A short wrapper run first, not counted: its GRPOConfig is what the plain trainer gets, and it
    # pays the process's one-time costs (imports, first kernels, file cache) for both sides.
    config = run_wrapper(pool, model, tmp / "store-warmup", WARMUP + 1, 0, "bench-warmup").args
    wrapper, plain = [], []
    for r in range(rounds):
        for side in (("wrapper", "plain") if r % 2 == 0 else ("plain", "wrapper")):
            if args.processes > 1:
                (wrapper if side == "wrapper" else plain).append(
                    launched(side, args.processes, pool, model, tmp / f"{side}{r}", steps, r))
            elif side == "wrapper":
                wrapper.append(run_wrapper(pool, model, tmp / f"store{r}", steps, 0, f"bench-{r}").steps())
            else:
                plain.append(run_plain(config, pool, model, tmp / f"plain{r}", steps).steps())
        print(f"round {r + 1}: wrapper median {statistics.median(wrapper[-1]):.3f} s/step, "
              f"plain median {statistics.median(plain[-1]):.3f} s/step", flush=True)

    w = [t for run in wrapper for t in run]
    p = [t for run in plain for t in run]
    ratio = statistics.median(w) / statistics.median(p)
    print(f"\n{config.generation_batch_size // config.num_generations} prompts x {config.num_generations} rollouts per step, "
          f"<= {config.max_completion_length} new tokens; {rounds} round(s) x {steps} steps, first {WARMUP} of each run not "
          f"counted; {args.processes} process(es) per run")
    print(f"{'trainer':<10}{'steps':>7}{'median s':>10}{'mean s':>9}{'min s':>8}{'vs plain':>10}")
    for name, t in (("plain", p), ("wrapper", w)):
        print(f"{name:<10}{len(t):>7}{statistics.median(t):>10.3f}{statistics.mean(t):>9.3f}{min(t):>8.3f}"
              f"{statistics.median(t) / statistics.median(p):>9.3f}x")
    print(f"\ntarget: wrapper step time <= 1.03x plain TRL: {ratio:.3f}x (median), {'met' if ratio <= 1.03 else 'NOT met'}")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
