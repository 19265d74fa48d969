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
few-shot examples are duplicated to fill each batch, as in the paper.

The plan is stored (table `sweeps`) the first time; running the same command again skips
finished runs and resumes interrupted ones, so a sweep is resumable as a whole. Launchers:
`local` runs them one after another here, `slurm` writes one sbatch job-array script (one task
per run, each a `select train` command) under the store and submits it, `print` prints the
commands. Each run writes its own store shard, so parallel tasks never contend for a file.
`select results --sweep NAME` prints the table.
"""

import hashlib
import json
import random
import shlex
import sys
from dataclasses import dataclass

from selector.config import StoreOptions, option
from selector.errors import UserError

HELP = "plan and run the paper's experiment: 1-shot on pi1..piN, few-shot sets, baselines, over seeds"

BASELINES = ("random", "bottom", "full-pool", "format-reward")


@dataclass
class SweepConfig(StoreOptions):
    pool: str = option("toy", "training pool (see `selector pools`); its latest ranking names pi1, pi2, ...")
    top: int = option(16, "1-shot runs on pi1..piN (0 = none)", metavar="N")
    few_shot: str | None = option(None, "few-shot runs on the top-k sets {pi1..pik}, for each k in this comma list (e.g. 2,4,8,16)", metavar="LIST")
    sets: str | None = option(None, "few-shot runs on named sets, comma-separated, members joined by + (e.g. pi1+pi13,pi2+pi7)", metavar="SETS")
    baselines: str = option("random:1,bottom:1,full-pool", "baselines: random:N, bottom:N, full-pool, format-reward (comma list; '' = none)", metavar="LIST")
    seeds: str = option("1", "training seeds; every planned run is repeated for each (comma list)", metavar="LIST")
    name: str | None = option(None, "sweep name (default: derived from the options, so the same command finds its sweep again)")
    launcher: str = option("local", "local (here, one after another), slurm (an sbatch job array), print (the commands)")
    dry_run: bool = option(False, "print the plan and start nothing (slurm: also write the script, without submitting)")
    score: str = option("variance", "the ranking that pi names refer to")
    random_seed: int = option(0, "seed of the random-example baseline's draw")
    preset: str | None = option(None, "training preset (default: toy for the toy pool, else paper-qwen2.5-math-1.5b)")
    model: str | None = option(None, "model path or hub id (default: the preset's)", metavar="PATH_OR_HUB_ID")
    max_steps: int | None = option(None, "optimizer steps of every run (default: the preset's 1-shot length)", metavar="N")
    eval_steps: int | None = option(None, "evaluate every N steps (default: the preset's)", metavar="N")
    eval_benchmarks: str | None = option(None, "benchmarks to evaluate on (default: the preset's; math6 = the paper's six)", metavar="LIST")
    eval_limit: int | None = option(None, "evaluate on the first N problems of each benchmark only", metavar="N")
    set: str | None = option(None, "GRPOConfig fields for every run, KEY=VALUE[,...] (as `select train --set`)", metavar="KV")
    slurm_args: str | None = option(None, "extra sbatch options for the slurm launcher; write --slurm-args=\"--gres=gpu:1 --time=24:00:00\" (with =)", metavar="ARGS")
    max_parallel: int | None = option(None, "slurm: at most N array tasks at once", metavar="N")


def make_parser(subparsers):
    import argparse

    from selector.config import add_arguments

    p = subparsers.add_parser("sweep", help=HELP, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, SweepConfig)
    return p


@dataclass
class Item:
    """One planned run."""

    label: str  # pi1, {pi1,pi13}, random1=pi532, pi1208, full pool, format reward
    grp: str  # 1-shot, few-shot, random, bottom, full-pool, format-reward
    examples: list[str] | None  # example ids; None = the whole pool
    reward: str = "outcome"


def _ints(text: str | None, what: str) -> list[int]:
    if not text:
        return []
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"{what} {text!r}: expected a comma list of integers") from None
    if len(set(out)) != len(out):
        raise UserError(f"{what} {text!r} repeats a value")
    return out


def plan_items(cfg: SweepConfig, ranking: list[dict] | None) -> list[Item]:
    """The runs of one seed, in the order they are launched. `ranking`: pi1, pi2, ... rows."""
    from selector.show import _PI

    def need_ranking(what: str) -> list[dict]:
        if not ranking:
            raise UserError(f"{what} needs a {cfg.score} ranking of pool {cfg.pool!r} and the store has none; "
                            f"run `selector rank --pool {cfg.pool}` first")
        return ranking

    if cfg.top < 0:
        raise UserError("--top must be >= 0")
    items: list[Item] = []
    if cfg.top:
        r = need_ranking("--top")
        if cfg.top > len(r):
            raise UserError(f"--top {cfg.top}: the ranking has only {len(r)} examples")
        items += [Item(f"pi{k}", "1-shot", [r[k - 1]["example_id"]]) for k in range(1, cfg.top + 1)]
    for k in _ints(cfg.few_shot, "--few-shot"):
        r = need_ranking("--few-shot")
        if not 2 <= k <= len(r):
            raise UserError(f"--few-shot {k}: a set size between 2 and {len(r)}")
        items.append(Item(f"{{pi1..pi{k}}}", "few-shot", [x["example_id"] for x in r[:k]]))
    for spec in [s.strip() for s in (cfg.sets or "").split(",") if s.strip()]:
        names = [n.strip() for n in spec.split("+") if n.strip()]
        if len(names) < 2:
            raise UserError(f"--sets {spec!r}: a set has two or more members joined by + (e.g. pi1+pi13)")
        ids = [_pi(need_ranking("--sets"), n) if _PI.match(n) else n for n in names]  # else an example id
        if len(set(ids)) != len(ids):
            raise UserError(f"--sets {spec!r} names an example twice")
        items.append(Item("{" + ",".join(names) + "}", "few-shot", ids))
    top_ids = {x["example_id"] for x in (ranking or [])[: cfg.top]}
    for spec in [s.strip() for s in (cfg.baselines or "").split(",") if s.strip()]:
        kind, _, count = spec.partition(":")
        if kind not in BASELINES:
            raise UserError(f"unknown baseline {kind!r}; valid baselines: random:N, bottom:N, full-pool, format-reward")
        if kind in ("random", "bottom"):
            if not count.isdigit() or int(count) < 1:
                raise UserError(f"baseline {spec!r}: give how many, e.g. {kind}:3")
            r = need_ranking(f"baseline {kind}")
            n = int(count)
            if kind == "bottom":
                chosen = r[-n:][::-1]  # the lowest first
            else:  # drawn from outside the 1-shot runs' examples, with its own seed
                rest = [x for x in r if x["example_id"] not in top_ids]
                if n > len(rest):
                    raise UserError(f"baseline {spec!r}: only {len(rest)} examples outside pi1..pi{cfg.top}")
                chosen = random.Random(f"random-baseline-{cfg.random_seed}").sample(rest, n)
            for i, x in enumerate(chosen, 1):
                label = f"pi{x['rank']}" if kind == "bottom" else f"random{i}=pi{x['rank']}"
                items.append(Item(label, kind, [x["example_id"]]))
        elif count:
            raise UserError(f"baseline {spec!r} takes no count")
        elif kind == "full-pool":
            items.append(Item("full pool", "full-pool", None))
        else:
            items.append(Item("format reward", "format-reward", None, reward="format"))
    if not items:
        raise UserError("the sweep plans no run; give --top N, --few-shot, --sets or --baselines")
    return items


def _pi(ranking: list[dict], name: str) -> str:
    from selector.show import _PI

    k = int(_PI.match(name).group(1))
    if not 1 <= k <= len(ranking):
        raise UserError(f"{name}: the ranking has pi1..pi{len(ranking)}")
    return ranking[k - 1]["example_id"]


def train_fields(cfg: SweepConfig, item: Item, seed: int, preset_name: str) -> dict:
    """The `select train` options of one planned run (store and data dir left out: they are
    where the sweep runs, not part of the plan)."""
    from trainer.config import preset

    p = preset(preset_name)
    fields = {"pool": cfg.pool, "preset": preset_name, "seed": seed, "reward": item.reward, "score": cfg.score,
              "model": cfg.model, "eval_benchmarks": cfg.eval_benchmarks, "eval_limit": cfg.eval_limit, "set": cfg.set,
              "examples": ",".join(item.examples) if item.examples else None,
              "max_steps": cfg.max_steps, "eval_steps": cfg.eval_steps}
    if item.examples is None:  # whole-pool baselines: as long as a 1-shot run, evaluated like one
        fields["max_steps"] = cfg.max_steps or p["one_shot_steps"]
        fields["eval_steps"] = cfg.eval_steps if cfg.eval_steps is not None else p["eval_steps"]
    return fields


def command(fields: dict, run_id: str, store: str, data_dir: str | None) -> str:
    """The `selector train` command line of a planned run (what a SLURM task or `print` runs).
    `--resume` makes it start the run, or continue it when it was interrupted."""
    args = ["selector", "train", "--store", store] + (["--data-dir", data_dir] if data_dir else [])
    for key, value in fields.items():
        if value is None or (key == "reward" and value == "outcome") or (key == "score" and value == "variance"):
            continue
        args += [f"--{key.replace('_', '-')}", str(value)]
    return shlex.join(args + ["--run-id", run_id, "--resume"])


def main(cfg: SweepConfig) -> str:
    from selector.launcher import LAUNCHERS
    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.store import Store, now
    from trainer.config import TrainConfig, preset

    if cfg.launcher not in LAUNCHERS:
        raise UserError(f"unknown launcher {cfg.launcher!r}; valid launchers: {', '.join(LAUNCHERS)}")
    seeds = _ints(cfg.seeds, "--seeds")
    if not seeds:
        raise UserError("--seeds is empty; e.g. --seeds 1,2,3")
    preset_name = cfg.preset or ("toy" if cfg.pool == "toy" else "paper-qwen2.5-math-1.5b")
    preset(preset_name)
    pool = load_pool(cfg.pool, cfg.data_dir)
    root = store_dir(cfg.store)
    # A dry run writes nothing, except the slurm launcher's script and the plan it refers to.
    writes = not cfg.dry_run or cfg.launcher == "slurm"
    store = Store.open(root, create=True) if writes or (root / "STORE.json").exists() else None
    ranking_id = store.latest_ranking_id(pool.name, cfg.score) if store else None
    ranking = store.ranking(ranking_id) if ranking_id else None
    options = {k: getattr(cfg, k) for k in ("pool", "top", "few_shot", "sets", "baselines", "seeds", "score", "random_seed",
                                            "model", "max_steps", "eval_steps", "eval_benchmarks", "eval_limit", "set")}
    options.update(preset=preset_name, ranking_id=ranking_id)
    digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:8]
    name = cfg.name or f"sweep-{pool.name.split('?')[0].rsplit('/', 1)[-1][:20]}-{digest}"
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum() or name.startswith((".", "_")):
        raise UserError(f"sweep name {name!r}: use letters, digits, '-', '_' and '.'")

    stored = store.sweep_plan(name) if store else []
    if stored:
        if json.loads(stored[0]["options"]) != json.loads(json.dumps(options)):
            raise UserError(f"sweep {name!r} exists with other options ({stored[0]['options']}); repeat them, or pass --name NEW")
        plan = [{"run_id": r["run_id"], "label": r["label"], "grp": r["grp"], "seed": r["seed"],
                 "fields": json.loads(r["config"])} for r in stored]
    else:
        from trainer.grpo import prepare

        items = plan_items(cfg, ranking)
        plan = []
        for seed in seeds:  # seed-major: a sweep cut short still has every item at the first seed
            for item in items:
                fields = train_fields(cfg, item, seed, preset_name)
                tc = TrainConfig(**fields, store=str(root), data_dir=cfg.data_dir)
                run_id = prepare(tc, pool=pool, store=store).run_id if store else "(new store)"
                plan.append({"run_id": run_id, "label": item.label, "grp": item.grp, "seed": seed, "fields": fields})
        if len({p["run_id"] for p in plan}) != len(plan):
            raise UserError("two planned runs are the same run (the same examples and seed); drop the repeated set or baseline")
        for p in plan:  # ids are checked against the pool here, not first in a task on a cluster
            for ex_id in (p["fields"]["examples"] or "").split(","):
                if ex_id:
                    pool.get(ex_id)
        if writes:
            created = now()
            with store.writer(f"sweep-{name}") as w:
                w.append("sweeps", [{"sweep": name, "position": i, "run_id": p["run_id"], "label": p["label"], "grp": p["grp"],
                                     "seed": p["seed"], "examples": json.dumps(p["fields"]["examples"].split(",") if p["fields"]["examples"] else None),
                                     "config": json.dumps(p["fields"]), "options": json.dumps(options),
                                     "command": command(p["fields"], p["run_id"], str(root.resolve()), cfg.data_dir),
                                     "created_at": created} for i, p in enumerate(plan)])
    status = {r["run_id"]: r["status"] for r in store.rows("SELECT run_id, status FROM run_status")} if store else {}
    for p in plan:
        p["status"] = status.get(p["run_id"], "planned")
    _print_plan(name, plan, cfg, ranking_id)
    LAUNCHERS[cfg.launcher](name, plan, cfg, store, root)
    return name


def _print_plan(name: str, plan: list[dict], cfg: SweepConfig, ranking_id: str | None) -> None:
    from selector.output import emit

    done = sum(p["status"] == "finished" for p in plan)
    rows = [{"#": i, "run": p["label"], "group": p["grp"], "seed": p["seed"], "examples": p["fields"]["examples"] or "(whole pool)",
             "reward": p["fields"]["reward"], "status": p["status"], "run_id": p["run_id"]} for i, p in enumerate(plan)]
    out = sys.stdout if cfg.dry_run else sys.stderr  # `--launcher print` keeps stdout for the commands
    emit(rows, list(rows[0]), title=f"sweep {name}: {len(plan)} runs, {done} finished (pool {cfg.pool}, ranking {ranking_id})",
         widths={"examples": 24, "run_id": 44}, file=out)
