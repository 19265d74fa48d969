"""A run's checkpoints: the one `--resume` continues from, and which ones are kept.

The Trainer saves `<store>/checkpoints/<run_id>/checkpoint-N/` every save_steps steps: the model,
the optimizer and scheduler states, every process's RNG state and trainer_state.json, which it
writes last. `--resume` needs the newest complete one; `selector eval --model .../checkpoint-N`
needs only the weights of step N. So the newest two are kept whole (the newest may be cut short
by a kill while it is written), and older ones are cut to what a model directory needs, or
removed, by --keep-checkpoints:

    eval      the weights of every evaluated step (step % eval_steps == 0): every step a curve
              in the report has can be evaluated again, on other benchmarks, offline
    every:N   the weights of every N-th step
    last      nothing older (TRL's save_total_limit=2)

A weights-only checkpoint has no trainer_state.json, so it is never taken for a resume.
"""

import json
import shutil
from pathlib import Path

from transformers import TrainerCallback

# What the Trainer adds to a model directory to resume training: removed from kept older steps.
TRAINING_STATE = ("optimizer", "scheduler", "rng_state", "scaler", "trainer_state", "training_args")


def last_complete_checkpoint(output_dir) -> str | None:
    """The newest checkpoint-N directory that was saved completely, or None.

    The Trainer writes a checkpoint in place and its trainer_state.json last, so a run killed while
    saving leaves a newer checkpoint without one (or with half of one). transformers'
    get_last_checkpoint would pick it, and resuming from it fails every time; the one before it
    is whole (the newest two are always kept whole)."""
    found = [(step, str(d)) for step, d in _checkpoints(output_dir) if _complete(d)]
    return max(found)[1] if found else None


def _checkpoints(output_dir) -> list[tuple[int, Path]]:
    out = []
    for d in Path(output_dir).glob("checkpoint-*"):
        step = d.name.removeprefix("checkpoint-")
        if d.is_dir() and step.isdigit():
            out.append((int(step), d))
    return sorted(out)


def _complete(d: Path) -> bool:
    try:
        json.loads((d / "trainer_state.json").read_text())
    except (OSError, ValueError):  # absent or cut short: this save did not finish (or was cut to weights)
        return False
    return True


def keeps_weights(policy: str, eval_steps: int, step: int) -> bool:
    """Whether an older checkpoint's weights stay under `policy` (see the module docstring)."""
    if policy == "eval":
        return bool(eval_steps) and step % eval_steps == 0
    if policy.startswith("every:"):
        return step % int(policy[6:]) == 0
    return False


def prune(output_dir, policy: str, eval_steps: int) -> None:
    """Apply `policy` to every checkpoint but the newest two complete ones."""
    found = _checkpoints(output_dir)
    whole = [d for _, d in found if _complete(d)][-2:]
    for step, d in found:
        if d in whole or step > max((s for s, x in found if x in whole), default=-1):
            continue  # the newest two, and anything newer still being written
        if keeps_weights(policy, eval_steps, step):
            for f in d.iterdir():
                if f.name.startswith(TRAINING_STATE) or (f.is_dir() and f.name.startswith("global_step")):
                    shutil.rmtree(f) if f.is_dir() else f.unlink()
        else:
            shutil.rmtree(d, ignore_errors=True)


class CheckpointKeeper(TrainerCallback):
    """Prunes older checkpoints after every save (main process only; the files are shared)."""

    def __init__(self, policy: str, eval_steps: int):
        self.policy, self.eval_steps = policy, eval_steps or 0

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            prune(args.output_dir, self.policy, self.eval_steps)
