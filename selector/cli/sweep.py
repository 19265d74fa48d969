"""`select sweep`: the paper's main experiment as one command.

    selector sweep --top 16                                   # 1-shot on pi1..pi16 + baselines
    selector sweep --top 4 --pool toy --seeds 1,2             # the toy world, two seeds
    selector sweep --top 16 --few-shot 2,4,8,16 --sets pi1+pi13 --baselines random:3,bottom:3,full-pool,format-reward
    selector sweep --top 16 --launcher slurm --slurm-args="--gres=gpu:1 --time=24:00:00" --dry-run
    selector sweep --top 16 --launcher print | parallel -j 4  # any other scheduler

The plan: one run per 1-shot example pi1..piN (--top), per few-shot set (--few-shot k = the set
{pi1..pik}; --sets names sets such as pi1+pi13), per baseline, for each seed. Baselines:
`random:N` (N examples drawn at random from the rest of the ranking), `bottom:N` (the N
lowest-ranked), `full-pool` (the whole pool, as long as a 1-shot run), `format-reward` (the whole
pool with the format reward: 1 for any boxed answer, the paper's format baseline). The 1-shot and
few-shot examples are duplicated to fill each batch, as in the paper. Every training option of
`select train` applies to every planned run.

The plan is stored (table `sweeps`) the first time; running the same command again skips
finished runs and resumes interrupted ones, so a sweep is resumable as a whole. Launchers:
`local` runs them one after another here, `slurm` writes one sbatch job-array script (one task
per run, each a `select train` command) under the store and submits it, `print` prints the
commands. Each run writes its own store shard, so parallel tasks never contend for a file.
`select results --sweep NAME` prints the table.
"""

import sys
from dataclasses import dataclass

from selector.cli.arguments import add_command
from selector.config import StoreOptions, option
from selector.errors import UserError
from selector.runs import TrainOptions
from selector.sweep import SweepOptions

HELP = "plan and run the paper's experiment: 1-shot on pi1..piN, few-shot sets, baselines, over seeds"


@dataclass
class SweepConfig(SweepOptions, TrainOptions, StoreOptions):
    launcher: str = option("local", "local (here, one after another), slurm (an sbatch job array), print (the commands)")
    dry_run: bool = option(False, "print the plan and start nothing (slurm: also write the script, without submitting)")
    slurm_args: str | None = option(None, "extra sbatch options for the slurm launcher; write "
                                          "--slurm-args=\"--gres=gpu:1 --time=24:00:00\" (with =)", metavar="ARGS")
    max_parallel: int | None = option(None, "slurm: at most N array tasks at once", metavar="N")
    nodes: int = option(1, "slurm: nodes per run (each with --processes GPUs; one `accelerate launch` per node)",
                        metavar="N")


def make_parser(subparsers):
    return add_command(subparsers, "sweep", HELP, __doc__, SweepConfig)


def main(cfg: SweepConfig) -> str:
    from selector import sweep
    from selector.launcher import check_launcher
    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.store import Store

    check_launcher(cfg.launcher, "sweep")
    if cfg.nodes < 1 or (cfg.nodes > 1 and cfg.launcher != "slurm"):
        raise UserError("--nodes N > 1 needs --launcher slurm (here, each run takes --processes N on this machine)")
    template = sweep.run_template(cfg)
    pool = load_pool(cfg.pool, cfg.data_dir)
    root = store_dir(cfg.store)
    # A dry run writes nothing, except the slurm launcher's script and the plan it refers to.
    writes = not cfg.dry_run or cfg.launcher == "slurm"
    store = Store.open(root, create=True) if writes or (root / "STORE.json").exists() else None
    ranking_id = store.latest_ranking_id(pool.name, cfg.score) if store else None
    ranking = store.ranking(ranking_id) if ranking_id else None
    name, options = sweep.sweep_name(cfg, template, ranking_id)

    plan = sweep.stored_plan(store, name, options)
    if not plan:
        plan = sweep.plan_sweep(cfg, template, pool, store, ranking, grpo_fields_if_installed() if cfg.set else None)
        if writes:
            sweep.store_plan(store, name, plan, options, root, cfg.data_dir, dry_run=cfg.dry_run)
    plan = sweep.with_status(store, plan)
    _print_plan(name, plan, cfg, ranking_id)
    launch_plan(name, plan, cfg, root, nodes=cfg.nodes)
    if cfg.launcher == "local" and not cfg.dry_run:
        from selector.cli.results import print_sweep

        print_sweep(store, name)
    return name


def launch_plan(name: str, plan: list[dict], cfg, root, nodes: int = 1) -> None:
    """Start a planned sweep's unfinished runs with cfg.launcher (`select sweep` and `select
    validate`): locally each through train_somewhere, so --processes N launches N processes."""
    from selector.errors import require_extra
    from selector.launcher import LAUNCHERS, Launch

    launch = Launch(root, cfg.data_dir, cfg.dry_run, cfg.slurm_args, cfg.max_parallel, processes=cfg.processes,
                    nodes=nodes)
    if cfg.launcher == "local" and not cfg.dry_run and any(p["status"] != "finished" for p in plan):
        require_extra("the local launcher (it trains here; or use --launcher slurm / print)")
        import trainer.grpo
        from selector.cli.train import train_somewhere

        launch.train = lambda run_cfg: train_somewhere(run_cfg, trainer.grpo.train)
    LAUNCHERS[cfg.launcher](name, plan, launch)


def grpo_fields_if_installed() -> set[str] | None:
    """GRPOConfig's fields, to check --set keys while planning (TRL is imported only then); None
    where TRL is not installed (a login node plans without it: each run checks its keys when it
    starts)."""
    import importlib.util

    if importlib.util.find_spec("trl") is None:
        return None
    from trainer.grpo import grpo_fields

    return grpo_fields()


def _print_plan(name: str, plan: list[dict], cfg: SweepConfig, ranking_id: str | None) -> None:
    from selector.cli.output import emit

    done = sum(p["status"] == "finished" for p in plan)
    rows = [{"#": i, "run": p["label"], "group": p["grp"], "seed": p["seed"],
             "examples": p["fields"].get("examples") or "(whole pool)", "reward": p["fields"].get("reward", "outcome"),
             "status": p["status"], "run_id": p["run_id"]} for i, p in enumerate(plan)]
    out = sys.stdout if cfg.dry_run else sys.stderr  # `--launcher print` keeps stdout for the commands
    emit(rows, list(rows[0]), title=f"sweep {name}: {len(plan)} runs, {done} finished (pool {cfg.pool}, ranking {ranking_id})",
         widths={"examples": 24, "run_id": 44}, file=out)
