"""How a sweep's runs are started: here one after another, as a SLURM job array, or printed.

Every launcher gets the same plan (a list of planned runs with their `select train` options,
selector/sweep.py) and leaves finished runs alone; an interrupted run is continued (`--resume`),
so launching a sweep again finishes what is left. Each run writes its own store shard: parallel
tasks never share a file (selector/store/store.py).
"""

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from selector.errors import UserError
from selector.sweep import command


@dataclass
class Launch:
    """Where and how a sweep's runs start. `train`: runs one `TrainConfig` here (the local
    launcher; the command layer passes trainer.grpo.train, so this module needs no torch)."""

    root: Path  # the store directory
    data_dir: str | None = None
    dry_run: bool = False
    slurm_args: str | None = None
    max_parallel: int | None = None
    train: Callable | None = None


def _todo(plan: list[dict]) -> list[dict]:
    return [p for p in plan if p["status"] != "finished"]


def local(name: str, plan: list[dict], launch: Launch) -> None:
    """Run the unfinished runs here, one after another, with a progress bar over runs."""
    from selector.runs import TrainConfig

    todo = _todo(plan)
    if launch.dry_run:
        return
    if not todo:
        print(f"sweep {name}: all {len(plan)} runs finished", file=sys.stderr)
        return
    from tqdm.auto import tqdm

    done = len(plan) - len(todo)
    with tqdm(total=len(plan), initial=done, desc=f"sweep {name}", unit="run", dynamic_ncols=True) as bar:
        for p in todo:
            bar.set_postfix_str(f"{p['label']} seed {p['seed']}")
            launch.train(TrainConfig(**p["fields"], store=str(launch.root), data_dir=launch.data_dir, run_id=p["run_id"],
                                     resume=True))
            bar.update(1)


def print_commands(name: str, plan: list[dict], launch: Launch) -> None:
    """Print one `selector train` command per unfinished run, for any other scheduler."""
    if launch.dry_run:
        return
    todo = _todo(plan)
    print(f"# sweep {name}: {len(todo)} of {len(plan)} runs to do; each command starts or resumes its run", file=sys.stderr)
    for p in todo:
        print(command(p["fields"], p["run_id"], str(launch.root.resolve()), _abs(launch.data_dir)))


def slurm(name: str, plan: list[dict], launch: Launch) -> Path | None:
    """Write one sbatch job-array script (one task per unfinished run) under the store; submit it
    unless --dry-run. Resubmitting later covers what is still unfinished then."""
    root = launch.root
    todo = _todo(plan)
    if not todo:
        print(f"sweep {name}: all {len(plan)} runs finished; nothing to submit", file=sys.stderr)
        return None
    sbatch = shutil.which("sbatch")
    if sbatch is None and not launch.dry_run:
        raise UserError("the slurm launcher needs `sbatch` on PATH and there is none here; run on the cluster's login node, "
                        "or pass --dry-run to write the script without submitting it")
    folder = root / "launch" / name
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    commands = [command(p["fields"], p["run_id"], str(root.resolve()), _abs(launch.data_dir)) for p in todo]
    extra = shlex.split(launch.slurm_args or "")
    throttle = f"%{launch.max_parallel}" if launch.max_parallel else ""
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={name}",
        f"#SBATCH --array=0-{len(commands) - 1}{throttle}",
        f"#SBATCH --output={folder.resolve() / 'logs' / '%A_%a.out'}",
        *[f"#SBATCH {a}" for a in extra],
        f"# rlvr-select sweep {name}: {len(commands)} runs, one array task each (task i runs RUNS[i]).",
        "# Each run writes its own store shard, so tasks never write one file. Submitting this script again",
        "# (or `selector sweep` with the same options) skips finished runs and resumes interrupted ones.",
        "set -euo pipefail",
        f"export PATH={shlex.quote(str(Path(sys.executable).parent))}:\"$PATH\"  # the environment that planned the sweep",
        "export HF_HUB_DISABLE_TELEMETRY=1",
        "RUNS=(",
        *[f"  {shlex.quote(c)}  # {i}: {p['label']} seed {p['seed']}" for i, (c, p) in enumerate(zip(commands, todo))],
        ")",
        'echo "task ${SLURM_ARRAY_TASK_ID}: ${RUNS[$SLURM_ARRAY_TASK_ID]}"',
        'eval "${RUNS[$SLURM_ARRAY_TASK_ID]}"',
        "",
    ]
    script = folder / "array.sbatch"
    tmp = script.with_name(".array.sbatch.tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, script)
    print(f"wrote {script} ({len(commands)} array tasks)", file=sys.stderr)
    if launch.dry_run:
        print(f"dry run: not submitted; submit with `sbatch {script}`", file=sys.stderr)
        return script
    got = subprocess.run([sbatch, "--parsable", str(script)], capture_output=True, text=True)
    if got.returncode != 0:
        raise UserError(f"sbatch failed ({got.returncode}): {got.stderr.strip() or got.stdout.strip()}")
    print(f"submitted job array {got.stdout.strip()}; follow it with `squeue -j {got.stdout.strip().split(';')[0]}` "
          f"and the table with `selector results --sweep {name}`", file=sys.stderr)
    return script


def _abs(path: str | None) -> str | None:
    return str(Path(path).expanduser().resolve()) if path else None


LAUNCHERS = {"local": local, "slurm": slurm, "print": print_commands}
