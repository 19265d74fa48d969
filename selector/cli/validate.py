"""`select validate`: does a ranking score predict the 1-shot gain? Measure it on your pool.

    selector validate --pool toy                                  # top 3, 5 spread, bottom 2, 2 planted; seeds 1,2,3
    selector validate --pool toy --top 4 --spread 8 --seeds 1,2,3,4
    selector validate --pool dsr-sub --launcher slurm --slurm-args="--gres=gpu:1 --time=24:00:00" --dry-run

1-shot runs on a stratified sample of the pool's latest ranking by --score (its top examples,
examples at evenly spaced ranks, its bottom ones, and the pool's planted pathologies), once per
seed, every run evaluated the same way (the preset's benchmarks and schedule). The gain of an
example is its mean final test accuracy over seeds minus the base model's. Then, for every score
(variance, LIM, learnability, mean accuracy, DAPO's mixed share, and base-pass-rate when the pool
has a base pass-rate run: `selector rank --pool POOL --score base-pass-rate`), Spearman's rho
between the score and the gain, with a bootstrap 90% interval over examples: printed, stored in
the `validations` table, drawn by `selector report`.

It is a sweep (selector/validate.py): the plan is stored the first time, the same command again
skips finished runs and resumes interrupted ones; `local` trains here, `slurm` writes one job
array, `print` prints the `selector train` commands. The correlations are computed once every
planned run has finished (run the same command again after a SLURM array).
"""

import sys
from dataclasses import dataclass

from selector.cli.arguments import OutputOptions, add_command
from selector.config import StoreOptions, option
from selector.errors import UserError
from selector.runs import TrainOptions
from selector.validate import ValidateOptions

HELP = "measure whether each ranking score predicts the 1-shot gain (stratified 1-shot runs, Spearman with CIs)"


@dataclass
class ValidateConfig(ValidateOptions, TrainOptions, StoreOptions, OutputOptions):
    launcher: str = option("local", "local (here, one after another), slurm (an sbatch job array), print (the commands)")
    dry_run: bool = option(False, "print the plan and start nothing (slurm: also write the script, without submitting)")
    slurm_args: str | None = option(None, "extra sbatch options for the slurm launcher; write "
                                          "--slurm-args=\"--gres=gpu:1 --time=24:00:00\" (with =)", metavar="ARGS")
    max_parallel: int | None = option(None, "slurm: at most N array tasks at once", metavar="N")


def make_parser(subparsers):
    return add_command(subparsers, "validate", HELP, __doc__, ValidateConfig)


def main(cfg: ValidateConfig) -> dict:
    from selector import score, sweep, validate
    from selector.cli.sweep import grpo_fields_if_installed, launch_plan
    from selector.launcher import check_launcher
    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.store import Store

    check_launcher(cfg.launcher, "validate")
    score.get_score(cfg.score)
    if cfg.n_bootstrap < 0:
        raise UserError("--n-bootstrap must be >= 0")
    template = sweep.run_template(cfg)
    pool = load_pool(cfg.pool, cfg.data_dir)
    root = store_dir(cfg.store)
    if not (root / "STORE.json").exists():
        raise UserError(f"no store at {root}; rank the pool first: `selector rank --pool {cfg.pool}`")
    store = Store.open(root)
    ranking_id = store.latest_ranking_id(pool.name, cfg.score)
    if not ranking_id:
        raise UserError(f"no {cfg.score} ranking of pool {pool.name!r} in store {root}; run `selector rank --pool {cfg.pool}` first")
    ranking = store.ranking(ranking_id)
    name, options = validate.validation_name(cfg, template, ranking_id)

    plan = sweep.stored_plan(store, name, options)
    if not plan:
        items = validate.strata(ranking, pool.planted, cfg)
        plan = sweep.plan_sweep(cfg, template, pool, store, ranking, grpo_fields_if_installed() if cfg.set else None, items=items)
        if not cfg.dry_run or cfg.launcher == "slurm":
            sweep.store_plan(store, name, plan, options, root, cfg.data_dir)
    plan = sweep.with_status(store, plan)
    _print_plan(name, plan, pool, ranking, cfg)
    launch_plan(name, plan, cfg, root)
    if cfg.dry_run:
        return {"validation": name, "plan": plan}
    plan = sweep.with_status(store, plan)
    finished = sum(p["status"] == "finished" for p in plan)
    if finished < len(plan):
        print(f"validation {name}: {finished} of {len(plan)} runs finished; run the same command again when the rest "
              "have, to compute the correlations", file=sys.stderr)
        return {"validation": name, "plan": plan}
    history_run = ranking[0]["run_id"]
    rows = validate.correlations(store, name, pool.name, history_run, cfg.n_bootstrap)
    validate.record(store, name, rows, finished, cfg.n_bootstrap)
    examples = validate.example_gains(store, name)
    _print_results(name, rows, examples, pool, store, history_run, cfg)
    return {"validation": name, "plan": plan, "correlations": rows, "examples": examples}


def _print_plan(name: str, plan: list[dict], pool, ranking: list[dict], cfg: ValidateConfig) -> None:
    from selector.cli.output import emit

    value = {r["example_id"]: r["value"] for r in ranking}
    done = sum(p["status"] == "finished" for p in plan)
    rows = [{"#": i, "stratum": p["grp"], "run": p["label"], "seed": p["seed"], "example": p["fields"]["examples"],
             "planted": pool.by_id[p["fields"]["examples"]].planted, cfg.score: value.get(p["fields"]["examples"]),
             "status": p["status"], "run_id": p["run_id"]} for i, p in enumerate(plan)]
    out = sys.stdout if cfg.dry_run else sys.stderr
    emit(rows, list(rows[0]), title=f"validation {name}: {len(plan)} runs, {done} finished (pool {pool.name})",
         widths={"run_id": 44}, file=out)


def _print_results(name: str, rows: list[dict], examples: list[dict], pool, store, history_run: str,
                   cfg: ValidateConfig) -> None:
    from selector import validate
    from selector.cli.output import emit, save

    def pct(v):
        return "" if v is None else f"{100 * v:+.1f}"

    variance = validate.score_values(store, history_run, "variance")
    sources = validate.score_sources(store, pool.name, history_run)
    base = validate.score_values(store, sources["base-pass-rate"], "mean_acc") if sources.get("base-pass-rate") else {}
    ex_rows = [{"stratum": e["stratum"], "run": e["label"], "example": e["example_id"],
                "planted": pool.by_id[e["example_id"]].planted, "variance": variance.get(e["example_id"]),
                "base pass rate": base.get(e["example_id"]), "seeds": e["seeds"],
                "final gain (pts)": pct(e["gain"]) + ("" if e["gain_sd"] is None else f" ± {100 * e['gain_sd']:.1f}"),
                "best gain (pts)": pct(e["gain_best"]), "final gain among formatted (pts)": pct(e["gain_formatted"])}
               for e in examples]
    corr = [{"score": r["score"], "gain": r["gain"], "from run": r["run_id"] or "(none: selector rank --score base-pass-rate)",
             "examples": r["examples"], "Spearman rho": None if r["spearman"] is None else round(r["spearman"], 3),
             "90% CI": "" if r["ci_low"] is None else f"{r['ci_low']:+.2f} to {r['ci_high']:+.2f}"} for r in rows]
    if cfg.out:
        save(corr, list(corr[0]), cfg.out)
    if cfg.json or cfg.csv:
        emit(corr, json_out=cfg.json, csv_out=cfg.csv)
        return
    emit(ex_rows, list(ex_rows[0]), title=f"validation {name}: 1-shot gain per example (mean ± sd over seeds)",
         caption="gain = test accuracy at the final (best) evaluated step - the base model's (mean of every run's "
                 "step-0 evaluation)")
    emit(corr, list(corr[0]), title="does the score predict the 1-shot gain?",
         caption=f"Spearman's rho between the score and the mean gain (final: last evaluated step; best: best one, "
                 f"chosen on the test set); 90% bootstrap interval over examples ({cfg.n_bootstrap} replicates)")
