"""Sweep planning: the paper's main experiment as a list of `select train` runs, stored once.

The plan: one run per 1-shot example pi1..piN (`top`), per few-shot set (`few_shot` k = the set
{pi1..pik}; `sets` names sets such as pi1+pi13), per baseline, for each seed. Baselines:
`random:N` (N examples drawn at random from the rest of the ranking), `bottom:N` (the N
lowest-ranked), `full-pool` (the whole pool, as long as a 1-shot run), `format-reward` (the
whole pool with the format reward: 1 for any boxed answer, the paper's format baseline). The
1-shot and few-shot examples are duplicated to fill each batch, as in the paper
(selector/runs.py:build_rows).

Every planned run is the sweep's training template (a `TrainConfig` with the command's training
options) refined with `dataclasses.replace` (its examples, seed, reward, length), so a training
option reaches every run and the `select train` command each one is launched with. The plan is
stored in the `sweeps` table the first time; planning the same sweep again reads it back, so a
sweep is resumable as a whole (selector/launcher.py starts the runs).
"""

import dataclasses
import hashlib
import json
import random
import shlex
from dataclasses import dataclass
from typing import ClassVar

from selector.config import option
from selector.errors import UserError
from selector.runs import TrainConfig, TrainOptions, preset

BASELINES = ("random", "bottom", "planted", "full-pool", "format-reward")

# TrainConfig fields that say where a run records, not what it is: never part of a plan.
_NOT_PLANNED = ("store", "data_dir", "run_id", "resume", "print_config")
# The options that named a sweep before every training option reached sweeps: the sweep name
# hashes these always and any other training option only when it is set, so a sweep planned
# before keeps its name.
_NAMED_ALWAYS = ("model", "max_steps", "eval_steps", "eval_benchmarks", "eval_limit", "set")


@dataclass
class SweepOptions:
    """What a sweep plans (selector/cli/sweep.py adds the training options and how to launch)."""

    GROUP: ClassVar[str] = "the plan"

    pool: str = option("toy", "training pool (see `selector pools`); its latest ranking names pi1, pi2, ...")
    top: int = option(16, "1-shot runs on pi1..piN (0 = none)", metavar="N")
    few_shot: str | None = option(None, "few-shot runs on the top-k sets {pi1..pik}, for each k in this comma list "
                                        "(e.g. 2,4,8,16)", metavar="LIST")
    sets: str | None = option(None, "few-shot runs on named sets, comma-separated, members joined by + "
                                    "(e.g. pi1+pi13,pi2+pi7)", metavar="SETS")
    pis: str | None = option(None, "more 1-shot runs on these pi names or example ids, beyond --top (e.g. pi13,pi50)",
                             metavar="LIST")
    baselines: str = option("random:1,bottom:1,full-pool", "baselines: random:N, bottom:N, planted:KIND (the best-ranked "
                                                           "planted example of that kind, e.g. planted:wrong-gold), "
                                                           "full-pool, format-reward (comma list; '' = none)", metavar="LIST")
    # Default 0, as `select train --seed` and `select rank --seed`: the sweep's pi1 run at the
    # default seed is the run `select train --examples pi1` makes (one run, not two).
    seeds: str = option("0", "training seeds; every planned run is repeated for each (comma list)", metavar="LIST")
    name: str | None = option(None, "sweep name (default: derived from the options, so the same command finds its "
                                    "sweep again)")
    score: str = option("variance", "the ranking that pi names refer to")
    random_seed: int = option(0, "seed of the random-example baseline's draw")


@dataclass
class Item:
    """One planned run."""

    label: str  # pi1, {pi1,pi13}, random1=pi532, pi1208, full pool, format reward
    grp: str  # 1-shot, few-shot, random, bottom, full-pool, format-reward
    examples: list[str] | None  # example ids; None = the whole pool
    reward: str = "outcome"


def ints(text: str | None, what: str) -> list[int]:
    """A comma list of distinct integers (`what`: the option, for the error)."""
    if not text:
        return []
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"{what} {text!r}: expected a comma list of integers") from None
    if len(set(out)) != len(out):
        raise UserError(f"{what} {text!r} repeats a value")
    return out


def plan_items(opts: SweepOptions, ranking: list[dict] | None, planted: dict[str, str] | None = None) -> list[Item]:
    """The runs of one seed, in the order they are launched. `ranking`: pi1, pi2, ... rows;
    `planted`: the pool's planted examples (id -> kind), for `planted:KIND` baselines."""
    from selector.ranking import is_pi, pi_index

    def need_ranking(what: str) -> list[dict]:
        from selector.pools import rank_hint

        if not ranking:
            raise UserError(f"{what} needs a {opts.score} ranking of pool {opts.pool!r} and the store has none; "
                            f"run {rank_hint(opts.pool)} first")
        return ranking

    if opts.top < 0:
        raise UserError("--top must be >= 0")
    items: list[Item] = []
    if opts.top:
        r = need_ranking("--top")
        if opts.top > len(r):
            raise UserError(f"--top {opts.top}: the ranking has only {len(r)} examples")
        items += [Item(f"pi{k}", "1-shot", [r[k - 1]["example_id"]]) for k in range(1, opts.top + 1)]
    for name in [n.strip() for n in (getattr(opts, "pis", None) or "").split(",") if n.strip()]:
        ex_id = pi_index(need_ranking("--pis"), name) if is_pi(name) else name
        if any(it.examples == [ex_id] for it in items):
            raise UserError(f"--pis {name}: already planned (by --top or an earlier --pis)")
        label = name if is_pi(name) else next((f"pi{x['rank']}" for x in (ranking or []) if x["example_id"] == ex_id), name)
        items.append(Item(label, "1-shot", [ex_id]))
    for k in ints(opts.few_shot, "--few-shot"):
        r = need_ranking("--few-shot")
        if not 2 <= k <= len(r):
            raise UserError(f"--few-shot {k}: a set size between 2 and {len(r)}")
        items.append(Item(f"{{pi1..pi{k}}}", "few-shot", [x["example_id"] for x in r[:k]]))
    for spec in [s.strip() for s in (opts.sets or "").split(",") if s.strip()]:
        names = [n.strip() for n in spec.split("+") if n.strip()]
        if len(names) < 2:
            raise UserError(f"--sets {spec!r}: a set has two or more members joined by + (e.g. pi1+pi13)")
        ids = [pi_index(need_ranking("--sets"), n) if is_pi(n) else n for n in names]  # else an example id
        if len(set(ids)) != len(ids):
            raise UserError(f"--sets {spec!r} names an example twice")
        items.append(Item("{" + ",".join(names) + "}", "few-shot", ids))
    top_ids = {x["example_id"] for x in (ranking or [])[: opts.top]}
    for spec in [s.strip() for s in (opts.baselines or "").split(",") if s.strip()]:
        kind, _, count = spec.partition(":")
        if kind not in BASELINES:
            raise UserError(f"unknown baseline {kind!r}; valid baselines: random:N, bottom:N, planted:KIND, full-pool, "
                            "format-reward")
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
                    raise UserError(f"baseline {spec!r}: only {len(rest)} examples outside pi1..pi{opts.top}")
                chosen = random.Random(f"random-baseline-{opts.random_seed}").sample(rest, n)
            for i, x in enumerate(chosen, 1):
                label = f"pi{x['rank']}" if kind == "bottom" else f"random{i}=pi{x['rank']}"
                items.append(Item(label, kind, [x["example_id"]]))
        elif kind == "planted":
            kinds = sorted(set((planted or {}).values()))
            if count not in kinds:
                raise UserError(f"baseline {spec!r}: pool {opts.pool!r} has " + (f"planted kinds {', '.join(kinds)}" if kinds
                                else "no planted examples (no `planted` column)") + "; e.g. planted:" + (kinds[0] if kinds else "KIND"))
            x = next((x for x in need_ranking("baseline planted") if planted.get(x["example_id"]) == count), None)
            if x is None:  # e.g. an imported history that covers only part of the pool
                raise UserError(f"baseline {spec!r}: the ranking holds no {count} example of pool {opts.pool!r}")
            items.append(Item(f"{count}=pi{x['rank']}", "planted", [x["example_id"]]))
        elif count:
            raise UserError(f"baseline {spec!r} takes no count")
        elif kind == "full-pool":
            items.append(Item("full pool", "full-pool", None))
        else:
            items.append(Item("format reward", "format-reward", None, reward="format"))
    if not items:
        raise UserError("the sweep plans no run; give --top N, --few-shot, --sets or --baselines")
    return items


def run_template(cfg) -> TrainConfig:
    """The `select train` settings every run of a sweep (or a validation) shares, from the
    command's config: its training options, pool, score and store; the pool's default preset
    when none is given (an unknown preset fails here, before anything is planned)."""
    from selector.runs import default_preset, training_options

    template = TrainConfig(**training_options(cfg), pool=cfg.pool, score=cfg.score, store=cfg.store,
                           data_dir=cfg.data_dir)
    template = dataclasses.replace(template, preset=cfg.preset or default_preset(cfg.pool))
    preset(template.preset)
    return template


def run_config(template: TrainConfig, item: Item, seed: int) -> TrainConfig:
    """One planned run: the template with the item's examples, the seed and the reward. Whole-pool
    baselines run as long as a 1-shot run and are evaluated like one."""
    cfg = dataclasses.replace(template, examples=",".join(item.examples) if item.examples else None, seed=seed,
                              reward=item.reward, run_id=None, resume=False)
    if item.examples is None:
        p = preset(template.preset)
        cfg = dataclasses.replace(cfg, max_steps=template.max_steps or p["one_shot_steps"],
                                  prompts_per_step=template.prompts_per_step or p["prompts_per_step"],
                                  eval_steps=template.eval_steps if template.eval_steps is not None else p["eval_steps"],
                                  # at the 1-shot rate and batch, not a history run's (the toy preset's
                                  # history_learning_rate and history_prompts_per_step)
                                  learning_rate=template.learning_rate or p["learning_rate"])
    return cfg


def plan_fields(cfg: TrainConfig) -> dict:
    """A planned run's `select train` options as stored in the plan (where it records is left out:
    that is where the sweep runs, not part of the plan)."""
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(TrainConfig) if f.name not in _NOT_PLANNED}


def command(fields: dict, run_id: str, store: str, data_dir: str | None) -> str:
    """The `selector train` command line of a planned run (what a SLURM task or `print` runs).
    `--resume` makes it start the run, or continue it when it was interrupted."""
    from selector.runs import train_args

    cfg = TrainConfig(**fields, store=store, data_dir=data_dir, run_id=run_id, resume=True)
    return shlex.join(["selector", "train", *train_args(cfg)])


def sweep_name(opts: SweepOptions, template: TrainConfig, ranking_id: str | None) -> tuple[str, dict]:
    """(the sweep's name, the options that define it): the same options, the same name."""
    from selector.paths import slug

    options = {k: getattr(opts, k) for k in ("pool", "top", "few_shot", "sets", "baselines", "seeds", "score", "random_seed")}
    if getattr(opts, "pis", None):  # only when set, so a sweep planned before --pis existed keeps its name
        options["pis"] = opts.pis
    defaults = {f.name: f.default for f in dataclasses.fields(TrainOptions)}
    for f in dataclasses.fields(TrainOptions):
        value = getattr(template, f.name)
        if f.name in _NAMED_ALWAYS or (f.name != "preset" and value != defaults[f.name]):
            options[f.name] = value
    options.update(preset=template.preset, ranking_id=ranking_id)
    digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:8]
    name = opts.name or f"sweep-{slug(opts.pool, 20)}-{digest}"
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum() or name.startswith((".", "_")):
        raise UserError(f"sweep name {name!r}: use letters, digits, '-', '_' and '.'")
    return name, options


def plan_sweep(opts: SweepOptions, template: TrainConfig, pool, store, ranking: list[dict] | None,
               grpo_fields: set[str] | None = None, items: list[Item] | None = None) -> list[dict]:
    """Every planned run, seed-major (a sweep cut short still has every item at the first seed):
    dicts with run_id, label, grp, seed and fields (its `select train` options). `store` None:
    no store yet (a dry run), the ids are not derived. `items`: the runs of one seed, when the
    caller planned them (`select validate`); default: plan_items(opts, ranking)."""
    from selector.runs import prepare

    seeds = ints(opts.seeds, "--seeds")
    if not seeds:
        raise UserError("--seeds is empty; e.g. --seeds 1,2,3")
    items = items if items is not None else plan_items(opts, ranking, pool.planted)
    plan = []
    for seed in seeds:
        for item in items:
            cfg = run_config(template, item, seed)
            run_id = prepare(cfg, pool=pool, store=store, grpo_fields=grpo_fields).run_id if store else "(new store)"
            plan.append({"run_id": run_id, "label": item.label, "grp": item.grp, "seed": seed, "fields": plan_fields(cfg)})
    if store and len({p["run_id"] for p in plan}) != len(plan):
        raise UserError("two planned runs are the same run (the same examples and seed); drop the repeated set or baseline")
    for p in plan:  # ids are checked against the pool here, not first in a task on a cluster
        for ex_id in (p["fields"]["examples"] or "").split(","):
            if ex_id:
                pool.get(ex_id)
    return plan


def store_plan(store, name: str, plan: list[dict], options: dict, root, data_dir: str | None, dry_run: bool = False) -> None:
    """Write the plan to the `sweeps` table (once: the caller checks it is not there yet).
    `dry_run`: stored by `--dry-run` (the slurm script's plan); not the default sweep of
    `results` / `report` until one of its runs exists (Store.latest_sweep)."""
    from selector.store import now

    created = now()
    with store.writer(f"sweep-{name}") as w:
        w.append("sweeps", [{"sweep": name, "position": i, "run_id": p["run_id"], "label": p["label"], "grp": p["grp"],
                             "seed": p["seed"],
                             "examples": json.dumps(p["fields"]["examples"].split(",") if p["fields"]["examples"] else None),
                             "config": json.dumps(p["fields"]), "options": json.dumps(options),
                             "command": command(p["fields"], p["run_id"], str(root.resolve()), data_dir),
                             "created_at": created, "dry_run": dry_run} for i, p in enumerate(plan)])


def stored_plan(store, name: str, options: dict) -> list[dict]:
    """The sweep's plan as stored, or [] if there is none; a stored sweep of that name with other
    options is an error (repeat them, or name the new sweep)."""
    stored = store.sweep_plan(name) if store else []
    if stored and json.loads(stored[0]["options"]) != json.loads(json.dumps(options)):
        raise UserError(f"sweep {name!r} exists with other options ({stored[0]['options']}); repeat them, or pass --name NEW")
    return [{"run_id": r["run_id"], "label": r["label"], "grp": r["grp"], "seed": r["seed"],
             "fields": json.loads(r["config"])} for r in stored]


def with_status(store, plan: list[dict]) -> list[dict]:
    """The plan with each run's status (`planned` for a run not started yet)."""
    status = {r["run_id"]: r["status"] for r in store.rows("SELECT run_id, status FROM run_status")} if store else {}
    return [{**p, "status": status.get(p["run_id"], "planned")} for p in plan]
