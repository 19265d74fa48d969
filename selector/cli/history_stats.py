"""`select history-stats`: the shape of per-example accuracy histories, side by side.

    selector history-stats                                  # the history behind the store's latest ranking
    selector history-stats --run RUN_ID --history ../shared/data/histories/dsr_sub_acc_step_500.json
    selector history-stats --history FILE --json

Appearances per example, pool-mean accuracy early and late, the spread of per-example standard
deviations, the examples whose accuracy never moved, and how many of the top 16 by variance are
learning curves (selector/history_stats.py defines each). With several histories (runs in the
store, files in the authors' format `{id: [acc, ...]}`) each gets a column, so a toy history run
stands beside the authors' from the same code. A file is read, not imported.
"""

from dataclasses import dataclass

from selector.cli.arguments import OutputOptions, add_command
from selector.config import StoreOptions, option
from selector.errors import UserError

HELP = "statistics of per-example accuracy histories (appearances, pool-mean rise, std spread, learning curves)"


@dataclass
class HistoryStatsConfig(StoreOptions, OutputOptions):
    run: str | None = option(None, "history run(s) in the store, comma list; default: the run of the store's latest "
                                   "variance ranking, if there is one", metavar="RUN_IDS")
    history: str | None = option(None, "history file(s) in the authors' JSON format, comma list", metavar="FILES")
    top: int = option(16, "how many top examples by variance to describe", metavar="N")


def make_parser(subparsers):
    return add_command(subparsers, "history-stats", HELP, __doc__, HistoryStatsConfig)


def histories(cfg: HistoryStatsConfig) -> dict:
    """Label -> selector.score.History, in the order given (runs first, then files)."""
    from pathlib import Path

    from selector.history_stats import file_history
    from selector.paths import store_dir
    from selector.score import History
    from selector.store import Store

    runs = [r.strip() for r in (cfg.run or "").split(",") if r.strip()]
    files = [f.strip() for f in (cfg.history or "").split(",") if f.strip()]
    out = {}
    root = store_dir(cfg.store)
    store = Store.open(root) if runs or not files or (root / "STORE.json").exists() else None
    if not runs and store is not None:  # the history behind the latest ranking, beside any file
        got = store.rows("SELECT run_id FROM rankings WHERE score = 'variance' ORDER BY created_at DESC, ranking_id DESC LIMIT 1")
        if not got and not files:
            raise UserError(f"store {store.root} has no ranking yet; pass --run RUN_ID or --history FILE")
        runs = [got[0]["run_id"]] if got else []
    for run_id in runs:
        if store.run(run_id) is None:
            raise UserError(f"no run {run_id!r} in store {store.root}")
        ids, example, epoch, acc = store.history_arrays(run_id)
        if not ids:
            raise UserError(f"run {run_id} has no per-example history (no rollouts recorded)")
        out[run_id] = History(ids, example, epoch, acc)
    for path in files:
        out[Path(path).name] = file_history(path)
    return out


def main(cfg: HistoryStatsConfig) -> list[dict]:
    from selector.cli.output import emit, save
    from selector.history_stats import describe, side_by_side

    if cfg.top < 1:
        raise UserError("--top must be >= 1")
    stats = {label: describe(h, cfg.top) for label, h in histories(cfg).items()}
    labels = list(stats)
    table = side_by_side(stats)
    if cfg.out:
        save(table, ["statistic"] + labels, cfg.out)
    if cfg.json or cfg.csv:
        emit(table, json_out=cfg.json, csv_out=cfg.csv)
    else:
        emit(table, ["statistic"] + labels, title="history statistics",
             caption="learning curve: accuracy correlates with the appearance number at >= 0.5 and the last-quarter mean "
                     "exceeds the first-quarter mean by >= 0.3 (selector/history_stats.py)")
    return table
