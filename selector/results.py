"""`select results`: a sweep as the paper's table, or one run's evaluations.

    selector results                        # the latest sweep in the store
    selector results --sweep NAME           # each planned item: base, final and best accuracy, over seeds
    selector results --sweep NAME --by-run  # one row per run (every seed)
    selector results --run RUN_ID           # one run: each benchmark at each evaluated step

Accuracy is the average over the run's evaluation benchmarks (the paper's "average of the six";
the toy benchmark alone on the toy world), each benchmark's accuracy the mean over its samples
(avg@k). "base" is the evaluation before the first step, "final" the last evaluated step, "best"
the best evaluated step. Mean +- sample standard deviation over seeds. Every number comes from
the store's views (`sweep_summary`, `sweep_results`, `eval_scores`), defined in selector/store.py.
"""

from dataclasses import dataclass

from selector.config import OutputOptions, StoreOptions, option
from selector.errors import UserError

HELP = "print a sweep's results as the paper's table (or one run's evaluations)"


@dataclass
class ResultsConfig(StoreOptions, OutputOptions):
    sweep: str | None = option(None, "sweep name (default: the latest sweep in the store)")
    run: str | None = option(None, "one run's evaluations instead of a sweep", metavar="RUN_ID")
    by_run: bool = option(False, "one row per run instead of per planned item")


def make_parser(subparsers):
    import argparse

    from selector.config import add_arguments

    p = subparsers.add_parser("results", help=HELP, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, ResultsConfig)
    return p


def _pct(v) -> str:
    return "" if v is None else f"{100 * v:.1f}"


def _pm(mean, sd) -> str:
    return "" if mean is None else _pct(mean) + ("" if sd is None else f" ± {100 * sd:.1f}")


def sweep_rows(store, name: str, by_run: bool = False, per_run: list[dict] | None = None) -> list[dict]:
    """`per_run`: the sweep's `sweep_results` rows when the caller already has them."""
    if by_run:
        return [{"run": r["label"], "group": r["grp"], "seed": r["seed"], "status": r["status"], "base": r["base"],
                 "final": r["final"], "final_step": r["final_step"], "best": r["best"], "best_step": r["best_step"],
                 "run_id": r["run_id"]} for r in (per_run if per_run is not None else store.sweep_results(name))]
    return [{"run": r["label"], "group": r["grp"], "finished": f"{r['finished']}/{r['runs']}", "base": r["base"],
             "final": r["final"], "final_sd": r["final_sd"], "best": r["best"], "best_sd": r["best_sd"],
             "benchmarks": r["benchmarks"]} for r in store.sweep_summary(name)]


def sweep_table(store, name: str, by_run: bool = False, per_run: list[dict] | None = None) -> tuple[list[dict], list[str], str]:
    """The sweep as printed: (display rows, columns, caption). Shared by `select results` and
    the report, so both show the same table."""
    per_run = per_run if per_run is not None else store.sweep_results(name)
    rows = sweep_rows(store, name, by_run, per_run)
    summary = store.sweep_base(name)
    base = summary["base"] if summary else None
    if by_run:
        table = [{**r, "base": _pct(r["base"]), "final": _pct(r["final"]), "best": _pct(r["best"])} for r in rows]
        cols = ["run", "group", "seed", "status", "base", "final", "final_step", "best", "best_step", "run_id"]
    else:
        table = [{"run": "base model", "group": "", "finished": "", "final (%)": _pct(base), "best (%)": "",
                  "vs base": ""}] if base is not None else []
        table += [{"run": r["run"], "group": r["group"], "finished": r["finished"], "final (%)": _pm(r["final"], r["final_sd"]),
                   "best (%)": _pm(r["best"], r["best_sd"]),
                   "vs base": "" if r["final"] is None or base is None else f"{100 * (r['final'] - base):+.1f}"} for r in rows]
        cols = ["run", "group", "finished", "final (%)", "best (%)", "vs base"]
    benches = summary["benchmarks"] if summary else None
    caption = (f"accuracy = mean over {benches}; final = last evaluated step, best = best evaluated step; "
               "mean ± sd over seeds" if benches else "no evaluations recorded yet")
    return table, cols, caption


def print_sweep(store, name: str, cfg: "ResultsConfig | None" = None) -> list[dict]:
    from selector.output import emit

    cfg = cfg or ResultsConfig()
    per_run = store.sweep_results(name)
    rows = sweep_rows(store, name, cfg.by_run, per_run)
    if not rows:
        raise UserError(f"no sweep {name!r} in store {store.root}")
    if cfg.json or cfg.csv or cfg.out:
        emit(rows, json_out=cfg.json, csv_out=cfg.csv, out=cfg.out)
        if cfg.json or cfg.csv:
            return rows
    table, cols, caption = sweep_table(store, name, cfg.by_run, per_run)
    emit(table, cols, title=f"sweep {name}", caption=caption)
    return rows


def print_run(store, run_id: str, cfg: ResultsConfig) -> list[dict]:
    from selector.output import emit

    if store.run(run_id) is None:
        raise UserError(f"no run {run_id!r} in store {store.root}")
    rows = store.run_eval_scores(run_id)
    if not rows:
        raise UserError(f"run {run_id} has no evaluations (was it trained with --eval-steps 0?)")
    emit(rows, ["step", "benchmark", "problems", "samples", "accuracy", "pass_at_n"], json_out=cfg.json, csv_out=cfg.csv,
         out=cfg.out, title=f"run {run_id}: evaluation (accuracy = avg@samples)")
    return rows


def main(cfg: ResultsConfig) -> list[dict]:
    from selector.paths import store_dir
    from selector.store import Store

    store = Store.open(store_dir(cfg.store))
    if cfg.run:
        return print_run(store, cfg.run, cfg)
    name = cfg.sweep or store.latest_sweep()
    if name is None:
        raise UserError(f"no sweep in store {store.root}; run `selector sweep ...` first (or pass --run RUN_ID)")
    return print_sweep(store, name, cfg)
