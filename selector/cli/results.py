"""`select results`: a sweep as the paper's table, one run's evaluations, or every run.

    selector results                        # the latest sweep in the store (before any sweep: every run)
    selector results --sweep NAME           # each planned item: base, final and best accuracy, over seeds
    selector results --sweep NAME --by-run  # one row per run (every seed)
    selector results --run RUN_ID           # one run: each benchmark at each evaluated step

Accuracy is the average over the run's evaluation benchmarks (the paper's "average of the six";
the toy benchmark alone on the toy world), each benchmark's accuracy the mean over its samples
(avg@k). "base" is the evaluation before the first step, "final" the last evaluated step, "best"
the best evaluated step. Mean +- sample standard deviation over seeds. Every number comes from
the store's views (`sweep_summary`, `sweep_results`, `eval_scores`, `run_results`;
selector/store/views.sql). A sweep planned with `--dry-run` is not the latest sweep until one of
its runs has started (name it with --sweep to see its plan).
"""

from dataclasses import dataclass

from selector.cli.arguments import OutputOptions, add_command
from selector.config import StoreOptions, option
from selector.errors import UserError

HELP = "print a sweep's results as the paper's table (or one run's evaluations)"


@dataclass
class ResultsConfig(StoreOptions, OutputOptions):
    sweep: str | None = option(None, "sweep name (default: the latest sweep in the store)")
    run: str | None = option(None, "one run's evaluations instead of a sweep", metavar="RUN_ID")
    by_run: bool = option(False, "one row per run instead of per planned item")
    mode: str = option("strict", "whose verdicts: strict (our grader, the training reward) or paper (the authors' "
                                 "evaluation, selector/paper_grader.py: compare with the paper's tables in this mode)")


def make_parser(subparsers):
    return add_command(subparsers, "results", HELP, __doc__, ResultsConfig)


def print_sweep(store, name: str, cfg: ResultsConfig | None = None) -> list[dict]:
    from selector.cli.output import emit
    from selector.results import sweep_rows, sweep_table

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
    emit(table, cols, title=f"sweep {name} ({store.grading_mode} grading)", caption=caption)
    return rows


def print_run(store, run_id: str, cfg: ResultsConfig) -> list[dict]:
    from selector.cli.output import emit

    if store.run(run_id) is None:
        raise UserError(f"no run {run_id!r} in store {store.root}")
    rows = store.run_eval_scores(run_id)
    if not rows:
        raise UserError(f"run {run_id} has no evaluations (was it trained with --eval-steps 0?)")
    emit(rows, ["step", "benchmark", "problems", "samples", "accuracy", "pass_at_n"], json_out=cfg.json, csv_out=cfg.csv,
         out=cfg.out, title=f"run {run_id}: evaluation (accuracy = avg@samples, {store.grading_mode} grading)")
    return rows


def print_runs(store, cfg: ResultsConfig) -> list[dict]:
    """Every run of the store (there is no sweep yet)."""
    import sys

    from selector.cli.output import emit
    from selector.results import run_rows, run_table

    rows = run_rows(store)
    if not rows:
        raise UserError(f"store {store.root} has no runs yet; start with `selector rank --pool toy` (or --pool dsr-sub "
                        "--history FILE)")
    dry = store.dry_run_sweeps()
    plans = f" (dry-run plans: {', '.join(dry)}; `selector results --sweep NAME` shows one)" if dry else ""
    note = (f"no sweep has started yet{plans}; one run's evaluations: `selector results --run RUN_ID`; the paper's table: "
            "`selector sweep --pool POOL --top 4`")
    if cfg.json or cfg.csv or cfg.out:
        emit(rows, json_out=cfg.json, csv_out=cfg.csv, out=cfg.out)
    if not (cfg.json or cfg.csv):
        table, cols, caption = run_table(rows)
        emit(table, cols, title=f"every run in {store.root} (no sweep yet)", caption=caption)
    sys.stdout.flush()  # the table first, then the note, also when both go to one pipe
    print(note, file=sys.stderr)
    return rows


def main(cfg: ResultsConfig) -> list[dict]:
    from selector.paths import store_dir
    from selector.store import Store

    store = Store.open(store_dir(cfg.store)).set_grading_mode(cfg.mode)
    if cfg.run:
        return print_run(store, cfg.run, cfg)
    name = cfg.sweep or store.latest_sweep()
    if name is None:
        return print_runs(store, cfg)
    return print_sweep(store, name, cfg)
