"""`select rank`: rank a pool's examples by a score over a per-example accuracy history.

    selector rank --pool toy                      # the embedded default: toy model, history run, ranking
    selector rank --pool dsr-sub --history ../shared/data/histories/dsr_sub_acc_step_500.json
    selector rank --pool dsr-sub --history FILE --score lim --top 20 --json
    selector rank --run RUN_ID --compare          # every score side by side, with rank correlations
    selector rank --pool dsr-sub --model Qwen/Qwen2.5-Math-1.5B   # a GRPO history run first (GPUs)
    selector rank --pool toy --score base-pass-rate # no history run: the base model's pass rate, k samples each

The history comes from a file in the authors' JSON format (imported into the store once, as a
run of kind `imported`), from a run already in the store, or from a GRPO history run over the
pool (`--model`, or the toy pool's own model; every training option of `select train` applies).
The ranking (pi1, pi2, ...) is printed and appended to the store's `rankings` table, where
`select show pi13` and later the sweeps resolve pi names. `--score base-pass-rate` ranks from a
base pass-rate run instead (one generation pass of the base model, --pass-samples answers per
example, recorded as a run of kind `base_pass`; selector/pass_rate.py).

The rank interval ("rank 90% CI", e.g. 3-41) says how sure the history is of each rank: in each of
--bootstrap replicates the history's epochs are drawn again with replacement and every example
ranked again; the interval holds the example's rank in 90% of them. A wide one such as 1-1033
means the history cannot tell that example's rank apart from a thousand others.
"""

import os
import sys
from dataclasses import dataclass

from selector.cli.arguments import OutputOptions, add_command
from selector.config import StoreOptions, option
from selector.errors import UserError
from selector.runs import TrainOptions

# Pools whose default model ships with the project: `select rank --pool toy` trains its own history.
TRAINABLE_BY_DEFAULT = {"toy"}

HELP = "rank a pool's examples by a score over their training-accuracy history (pi1, pi2, ...)"


@dataclass
class RankConfig(TrainOptions, StoreOptions, OutputOptions):
    pool: str | None = option(None, "pool name (see `selector pools`) or file:PATH; with --run, defaults to the run's pool")
    history: str | None = option(None, "import this history file, JSON {example_id: [acc_epoch_1, ...]} (the authors' "
                                       "format)", metavar="FILE")
    run: str | None = option(None, "rank the history of this run already in the store", metavar="RUN_ID")
    resume: bool = option(False, "continue an interrupted history run from its last checkpoint")
    score: str = option("variance", "ranking score: variance (the paper), lim, learnability, mean_acc")
    compare: bool = option(False, "rank by every score and show them side by side with rank correlations")
    top: int = option(16, "print the first N ranks (0 = all); the whole ranking is stored either way", metavar="N")
    bootstrap: int = option(200, "bootstrap replicates for each example's 90%% rank interval: epochs drawn again with "
                                 "replacement, every example ranked again; the interval holds its rank in 90%% of them "
                                 "(1-1033: the history cannot place it) (0 = off)", metavar="N")
    seed: int = option(0, "seed of the bootstrap (and of the history run)")
    rollouts_per_entry: int | None = option(None, "rollouts behind each history entry, if known (the paper: 8); stored "
                                                  "with an import", metavar="N")
    pass_samples: int = option(32, "--score base-pass-rate: answers of the base model per example (k)", metavar="K")


def make_parser(subparsers):
    return add_command(subparsers, "rank", HELP, __doc__, RankConfig)


def main(cfg: RankConfig) -> list[dict]:
    """Rank, store the ranking, print it; returns the printed rows."""
    from selector import score
    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.ranking import ranking_rows, record_ranking
    from selector.store import Store

    source = score.get_score(cfg.score).source  # an unknown name fails before any work
    names = [n for n, s in score.SCORES.items() if s.source == source] if cfg.compare else [cfg.score]
    if cfg.top < 0 or cfg.bootstrap < 0:
        raise UserError("--top and --bootstrap must be >= 0")
    sources = [x for x in ("history", "run", "model") if getattr(cfg, x)]
    if len(sources) > 1:
        raise UserError(f"give one of --history, --run, --model (got {', '.join('--' + s for s in sources)})")

    root = store_dir(cfg.store)
    if cfg.run:
        store = Store.open(root)
        run = store.run(cfg.run)
        if run is None:
            known = ", ".join(r["run_id"] for r in store.runs()[-5:]) or "none"
            raise UserError(f"no run {cfg.run!r} in store {root} (latest runs: {known})")
        if cfg.pool and cfg.pool != run["pool"]:
            raise UserError(f"run {cfg.run} is over pool {run['pool']!r}, not {cfg.pool!r}; drop --pool or pass "
                            f"--pool {run['pool']}")
        if (run["kind"] == "base_pass") != (source == "base"):
            raise UserError(f"run {cfg.run} is a {run['kind']} run and --score {cfg.score} reads a "
                            f"{'base pass-rate run' if source == 'base' else 'history'}; pick another --score or --run")
        pool = load_pool(run["pool"], cfg.data_dir)
        run_id = cfg.run
    else:
        if not cfg.pool:
            raise UserError("give --pool NAME (see `selector pools`) with --history FILE, or --run RUN_ID")
        pool = load_pool(cfg.pool, cfg.data_dir)
        if source == "base":
            if cfg.history:
                raise UserError(f"--score {cfg.score} ranks from the base model's answers, not from a history; drop --history")
            run_id = _base_pass_run(cfg, pool)
            store = Store.open(root)
        elif cfg.model or (not cfg.history and pool.name in TRAINABLE_BY_DEFAULT):
            run_id = _history_run(cfg)
            if os.environ.get("RANK", "0") != "0":
                return []  # `accelerate launch -m selector rank`: the main process ranks, once
            store = Store.open(root)
        elif not cfg.history:
            from selector.pools import POOLS, rank_hint

            ships = getattr(POOLS.get(pool.name), "history", None)
            shipped = f"; this pool ships one: {rank_hint(pool.name, cfg.data_dir)}" if ships else ""
            raise UserError(f"nothing to rank pool {pool.name!r} by: give --history FILE (a per-example accuracy history), "
                            f"--run RUN_ID (a run in the store) or --model PATH_OR_HUB_ID (a GRPO history run){shipped}")
    if cfg.history:
        from selector.history import check_ids, import_history, read_history

        parsed, digest = read_history(cfg.history)
        check_ids(parsed, pool, cfg.history)  # every check before a store is created for it
        store = Store.open(root, create=True)
        run_id, new = import_history(store, pool, cfg.history, parsed, digest, cfg.rollouts_per_entry)
        print(f"{'imported' if new else 'already in the store:'} {cfg.history} as run {run_id}", file=sys.stderr)

    ids, example, epoch, acc = store.history_arrays(run_id)
    if not ids:
        raise UserError(f"run {run_id} recorded no rollouts yet; nothing to rank")
    history = score.History(ids, example, epoch, acc)
    n_boot = cfg.bootstrap if len(set(epoch.tolist())) > 1 else 0  # one epoch: resampling epochs changes nothing
    rankings = {}
    for name in names:
        ranked = score.rank(history, name, n_boot, cfg.seed)
        record_ranking(store, run_id, pool.name, name, ranked, n_boot, cfg.seed)
        rankings[name] = ranked
    rows = ranking_rows(pool, rankings, cfg.score if cfg.score in rankings else names[0])
    shown = rows[: cfg.top] if cfg.top else rows
    _print(shown, rows, rankings, pool, run_id, cfg)
    _next(store, pool.name, cfg)
    return shown


def _next(store, pool: str, cfg: RankConfig) -> None:
    """Where the ranking went and what to run next (stderr: stdout stays the table or JSON)."""
    p = f" --pool {pool}" + ("" if cfg.store is None else f" --store {cfg.store}")
    sys.stdout.flush()  # after the table, also when both go to one pipe
    print(f"ranking stored in {store.root}; next: `selector show pi1{p}` (one example in full), "
          f"`selector export{p} --examples pi1 --copies 128` (a training file), "
          f"`selector train{p} --examples pi1` (1-shot RL), `selector sweep{p} --top 4` (the paper's experiment)",
          file=sys.stderr)


def _history_run(cfg: RankConfig) -> str:
    """Run (or reuse, or resume) the GRPO history run over the pool; returns its run id."""
    from selector.errors import require_extra
    from selector.runs import TrainConfig, training_options

    require_extra("a history run")
    from selector.cli.train import train_somewhere
    from trainer.grpo import train

    return train_somewhere(TrainConfig(**training_options(cfg), pool=cfg.pool, seed=cfg.seed, resume=cfg.resume,
                                       store=cfg.store, data_dir=cfg.data_dir), train)


def _base_pass_run(cfg: RankConfig, pool) -> str:
    """Run (or reuse) the base pass-rate run of the pool with the preset's model and sampling."""
    from selector.errors import require_extra
    from selector.pass_rate import spec_for
    from selector.paths import store_dir
    from selector.runs import TrainConfig, resolve_settings, training_options
    from selector.store import Store

    if cfg.pass_samples < 1:
        raise UserError("--pass-samples must be >= 1")
    require_extra("a base pass-rate run")
    from trainer.pass_rate import measure

    values = resolve_settings(TrainConfig(**training_options(cfg), pool=cfg.pool))
    store = Store.open(store_dir(cfg.store), create=True)
    return measure(spec_for(pool.name, values, cfg.pass_samples, cfg.seed), pool, store, values.get("torch_threads"))


def _print(shown, rows, rankings, pool, run_id, cfg) -> None:
    from selector.cli.output import emit, save

    if cfg.out:  # every field of the shown rows, whatever the display
        save(shown, list(shown[0]) if shown else [], cfg.out)
    if cfg.json or cfg.csv:
        emit(shown, json_out=cfg.json, csv_out=cfg.csv)
        return
    ci = "rank 90% CI" if shown and shown[0]["ci_low"] is not None else None
    table = [{**r, "rank 90% CI": f"{r['ci_low']}-{r['ci_high']}" if r["ci_low"] is not None else None} for r in shown]
    cols = ["pi", "example_id", "score"] + ([ci] if ci else [])
    if len(rankings) > 1:  # compact: the rank under each score instead of the problem text
        table = [{**r, **{n: r[f"rank_{n}"] for n in rankings}} for r in table]
        cols += list(rankings) + ["answer"]
    else:
        cols += ["answer", "problem"]
    if pool.planted:  # the toy pool's planted pathologies (wrong gold, unreachable): where they rank
        cols.insert(cols.index("answer"), "planted")
    title = (f"{pool.name}: ranked by {cfg.score} over run {run_id}" if not cfg.compare
             else f"{pool.name}: rank under every score (sorted by {cfg.score}) over run {run_id}")
    interval = (f"; rank 90% CI: the ranks the example takes in 90% of {cfg.bootstrap} replicates with the epochs drawn "
                "again (wide = the history cannot place it)" if cfg.bootstrap else "")
    emit(table, cols, title=title, widths={"problem": 60, "answer": 24},
         caption=f"{len(shown)} of {len(rows)} examples (--top 0: all); ties keep first-appearance order{interval}")
    if len(rankings) > 1:
        _print_correlations(rankings)


def _print_correlations(rankings: dict) -> None:
    from selector.cli.output import emit
    from selector.ranking import correlations

    names = list(rankings)
    pairs = correlations(rankings)
    rows = [{"score": a, **{b: f"{pairs[a, b][0]:+.3f} ({pairs[a, b][1]}/16)" for b in names}} for a in names]
    emit(rows, ["score"] + names, title="Spearman rank correlation (shared top-16)")
