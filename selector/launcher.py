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
    processes: int = 1  # processes (GPUs) per node for each run
    nodes: int = 1  # nodes for each run (slurm)


def accelerate_command(processes: int) -> list[str]:
    """`accelerate launch` of `processes` processes on this machine: one per GPU, or CPU
    processes talking over gloo where there is no GPU. Always its torchrun path (`--multi_gpu`):
    its `--cpu` path starts ONE process for any --num_processes (several CPU processes need
    mpirun and a hostfile there). The flags are explicit so that a user's accelerate config file
    cannot change how a run is launched; precision is the run's own (GRPOConfig's bf16)."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
            "--num_machines", "1", "--main_process_port", str(_free_port()), "--dynamo_backend", "no",
            "--mixed_precision", "no"]


def _free_port() -> int:
    """A port no one listens on now: two launches on one machine (two sweeps, a user's other job)
    would both take torchrun's default 29500 and the second would fail to start."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_under_accelerate(cfg) -> str:
    """Run `selector train` with `cfg` on cfg.processes processes (a child `accelerate launch`);
    returns the run id. The child prints its own progress and errors."""
    from selector.runs import prepare, train_args

    run_id = cfg.run_id or prepare(cfg).run_id  # the id the child derives too (prepare loads nothing heavy)
    argv = accelerate_command(cfg.processes) + ["-m", "selector", "train", *train_args(cfg)]
    got = subprocess.run(argv)
    if got.returncode != 0:
        raise UserError(f"run {run_id} on {cfg.processes} processes stopped with exit code {got.returncode} (its error is "
                        "above); the same command with --resume continues it")
    return run_id


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
    many = launch.nodes > 1 or launch.processes > 1
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={name}",
        f"#SBATCH --array=0-{len(commands) - 1}{throttle}",
        f"#SBATCH --output={folder.resolve() / 'logs' / '%A_%a.out'}",
        *([f"#SBATCH --nodes={launch.nodes}", "#SBATCH --ntasks-per-node=1", f"#SBATCH --gpus-per-node={launch.processes}"]
          if many else []),
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
        'CMD="${RUNS[$SLURM_ARRAY_TASK_ID]}"',
        'echo "task ${SLURM_ARRAY_TASK_ID}: $CMD"',
        *(_multi_node_lines(launch.processes) if many else ['eval "$CMD"']),
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


def _multi_node_lines(per_node: int) -> list[str]:
    """One run on $SLURM_NNODES nodes x `per_node` GPUs: srun starts one `accelerate launch` per
    node (its machine rank from SLURM_NODEID), all meeting at the first node of the allocation,
    on a port of their own per array task (two tasks on one node never collide)."""
    launch = ("python -m accelerate.commands.launch --num_machines $SLURM_NNODES "
              f"--num_processes $((SLURM_NNODES * {per_node})) --main_process_ip $HEAD --main_process_port $PORT "
              "--rdzv_backend c10d --multi_gpu --dynamo_backend no --mixed_precision no")
    return [
        # sed reads every host: `head -n 1` would leave scontrol a broken pipe, fatal under pipefail
        'HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | sed -n 1p)',
        "PORT=$((20000 + SLURM_ARRAY_TASK_ID % 20000))",
        f'LAUNCH="{launch}"',
        '# ${CMD#selector } is the run\'s `train ...` arguments; each node runs them as its share of the launch.',
        'srun --ntasks-per-node=1 --kill-on-bad-exit=1 bash -c "$LAUNCH --machine_rank \\$SLURM_NODEID -m selector ${CMD#selector }"',
    ]


def _abs(path: str | None) -> str | None:
    return str(Path(path).expanduser().resolve()) if path else None


LAUNCHERS = {"local": local, "slurm": slurm, "print": print_commands}


def check_launcher(name: str, verb: str) -> None:
    """`select sweep` / `select validate` start their runs themselves: a known launcher, and not
    from inside `accelerate launch` (every process would plan and launch the whole sweep)."""
    if name not in LAUNCHERS:
        raise UserError(f"unknown launcher {name!r}; valid launchers: {', '.join(LAUNCHERS)}")
    if "WORLD_SIZE" in os.environ:
        raise UserError(f"`selector {verb}` plans and launches runs itself; start it without a launcher and give "
                        "--processes N to train each run on N processes")
