"""`select rank`: rank a pool's examples by a score over a per-example accuracy history.

    selector rank --pool dsr-sub --history ../shared/data/histories/dsr_sub_acc_step_500.json
    selector rank --pool dsr-sub --history FILE --score lim --top 20 --json
    selector rank --run RUN_ID --compare          # every score side by side, with rank correlations

The history comes from a file in the authors' JSON format (imported into the store once, as a
run of kind `imported`) or from a run already in the store. The ranking (pi1, pi2, ...) is
printed and appended to the store's `rankings` table, where `select show pi13` and later the
sweeps resolve pi names.
"""

import hashlib
import sys
from dataclasses import dataclass

from selector.config import OutputOptions, StoreOptions, option
from selector.errors import UserError

# Pools whose default model ships with the project: `select rank --pool toy` trains its own history.
TRAINABLE_BY_DEFAULT = {"toy"}

HELP = "rank a pool's examples by a score over their training-accuracy history (pi1, pi2, ...)"


@dataclass
class RankConfig(StoreOptions, OutputOptions):
    pool: str | None = option(None, "pool name (see `selector pools`) or file:PATH; with --run, defaults to the run's pool")
    history: str | None = option(None, "import this history file, JSON {example_id: [acc_epoch_1, ...]} (the authors' format)", metavar="FILE")
    run: str | None = option(None, "rank the history of this run already in the store", metavar="RUN_ID")
    model: str | None = option(None, "run a GRPO history run of this model over the pool first (the `train` extra); "
                                     "the toy pool defaults to the embedded toy model", metavar="PATH_OR_HUB_ID")
    preset: str | None = option(None, "training preset of the history run (default: toy for the toy pool, else paper-qwen2.5-math-1.5b)")
    epochs: float | None = option(None, "history run length in passes over the pool (default: the preset's)", metavar="N")
    max_steps: int | None = option(None, "history run length in optimizer steps (overrides --epochs)", metavar="N")
    resume: bool = option(False, "continue an interrupted history run from its last checkpoint")
    score: str = option("variance", "ranking score: variance (the paper), lim, learnability, mean_acc")
    compare: bool = option(False, "rank by every score and show them side by side with rank correlations")
    top: int = option(20, "print the first N ranks (0 = all); the whole ranking is stored either way", metavar="N")
    bootstrap: int = option(200, "bootstrap replicates over epochs for each rank's 90%% interval (0 = off)", metavar="N")
    seed: int = option(0, "seed of the bootstrap")
    rollouts_per_entry: int | None = option(None, "rollouts behind each history entry, if known (the paper: 8); stored with an import", metavar="N")


def make_parser(subparsers):
    from selector.config import add_arguments

    p = subparsers.add_parser("rank", help=HELP, description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n", 1)[1],
                              formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    add_arguments(p, RankConfig)
    return p


def main(cfg: RankConfig) -> list[dict]:
    """Rank, store the ranking, print it; returns the printed rows."""
    from selector import score
    from selector.paths import store_dir
    from selector.pools import load_pool
    from selector.store import Store

    names = list(score.SCORES) if cfg.compare else [cfg.score]
    for name in names:
        score.get_score(name)  # unknown names fail before any work
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
            raise UserError(f"run {cfg.run} is over pool {run['pool']!r}, not {cfg.pool!r}; drop --pool or pass --pool {run['pool']}")
        pool = load_pool(run["pool"], cfg.data_dir)
        run_id = cfg.run
    else:
        if not cfg.pool:
            raise UserError("give --pool NAME (see `selector pools`) with --history FILE, or --run RUN_ID")
        pool = load_pool(cfg.pool, cfg.data_dir)
        if cfg.model or (not cfg.history and pool.name in TRAINABLE_BY_DEFAULT):
            run_id = _history_run(cfg)
            store = Store.open(root)
        elif not cfg.history:
            raise UserError(f"nothing to rank pool {pool.name!r} by: give --history FILE (a per-example accuracy history), "
                            "--run RUN_ID (a run in the store) or --model PATH_OR_HUB_ID (a GRPO history run)")
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
    rankings = {}
    for name in names:
        ranked = score.rank(history, name, cfg.bootstrap, cfg.seed)
        _record(store, run_id, pool.name, name, ranked, cfg)
        rankings[name] = ranked
    rows = _rows(pool, rankings, cfg.score if cfg.score in rankings else names[0])
    shown = rows[: cfg.top] if cfg.top else rows
    _print(shown, rows, rankings, pool, run_id, cfg)
    return shown


def _history_run(cfg: RankConfig) -> str:
    """Run (or reuse, or resume) the GRPO history run over the pool; returns its run id."""
    try:
        import torch  # noqa: F401  (only to say clearly what is missing)
        import trl  # noqa: F401
    except ImportError as e:
        raise UserError(f"a history run needs the train extra ({e.name} is missing): pip install -e '.[train]'") from None
    from trainer.config import TrainConfig
    from trainer.grpo import train

    preset = cfg.preset or ("toy" if cfg.pool == "toy" else "paper-qwen2.5-math-1.5b")
    return train(TrainConfig(pool=cfg.pool, preset=preset, model=cfg.model, epochs=cfg.epochs, max_steps=cfg.max_steps,
                             seed=cfg.seed, resume=cfg.resume, store=cfg.store, data_dir=cfg.data_dir))


def ranking_id(run_id: str, score_name: str, cfg: RankConfig) -> str:
    """Same run, score, bootstrap settings and code -> same id, so re-ranking stores nothing new."""
    from selector.store import code_version

    key = f"{run_id}|{score_name}|{cfg.bootstrap}|{cfg.seed}|{code_version()}"
    return f"rank-{score_name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _record(store, run_id, pool_name, score_name, ranked, cfg) -> None:
    from selector.store import code_version, now

    rid = ranking_id(run_id, score_name, cfg)
    if store.has_ranking(rid):
        return
    created, version = now(), code_version()
    with store.writer(rid) as w:
        w.append("rankings", [
            {"ranking_id": rid, "run_id": run_id, "pool": pool_name, "score": score_name, "rank": r.rank,
             "example_id": r.example_id, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high,
             "n_bootstrap": cfg.bootstrap, "seed": cfg.seed, "created_at": created, "code_version": version}
            for r in ranked])


def _rows(pool, rankings: dict, primary: str) -> list[dict]:
    by_score = {name: {r.example_id: r for r in ranked} for name, ranked in rankings.items()}
    rows = []
    for r in rankings[primary]:
        ex = pool.by_id.get(r.example_id)
        row = {"rank": r.rank, "pi": f"pi{r.rank}", "example_id": r.example_id, "score": r.value,
               "ci_low": r.ci_low, "ci_high": r.ci_high, "answer": ex.answer if ex else None,
               "problem": " ".join(ex.problem.split()) if ex else None}
        if len(rankings) > 1:
            for name in rankings:
                row[f"rank_{name}"] = by_score[name][r.example_id].rank
                row[f"score_{name}"] = by_score[name][r.example_id].value
        rows.append(row)
    return rows


def _print(shown, rows, rankings, pool, run_id, cfg) -> None:
    from selector.output import emit, save

    if cfg.out:  # every field of the shown rows, whatever the display
        save(shown, list(shown[0]) if shown else [], cfg.out)
    if cfg.json or cfg.csv:
        emit(shown, json_out=cfg.json, csv_out=cfg.csv)
        return
    ci = "rank 90% CI" if cfg.bootstrap else None
    table = [{**r, "rank 90% CI": f"{r['ci_low']}-{r['ci_high']}" if r["ci_low"] is not None else None} for r in shown]
    cols = ["pi", "example_id", "score"] + ([ci] if ci else [])
    if len(rankings) > 1:  # compact: the rank under each score instead of the problem text
        table = [{**r, **{n: r[f"rank_{n}"] for n in rankings}} for r in table]
        cols += list(rankings) + ["answer"]
    else:
        cols += ["answer", "problem"]
    title = (f"{pool.name}: ranked by {cfg.score} over run {run_id}" if not cfg.compare
             else f"{pool.name}: rank under every score (sorted by {cfg.score}) over run {run_id}")
    emit(table, cols, title=title, widths={"problem": 60, "answer": 24},
         caption=f"{len(shown)} of {len(rows)} examples; ties keep first-appearance order")
    if len(rankings) > 1:
        _print_correlations(rankings)


def _print_correlations(rankings: dict) -> None:
    import numpy as np

    from selector.output import emit
    from selector.score import spearman

    names = list(rankings)
    ids = sorted(r.example_id for r in rankings[names[0]])
    rank_vec = {n: np.array([{r.example_id: r.rank for r in rankings[n]}[i] for i in ids]) for n in names}
    top = {n: {r.example_id for r in rankings[n][:16]} for n in names}
    rows = [{"score": a, **{b: f"{spearman(rank_vec[a], rank_vec[b]):+.3f} ({len(top[a] & top[b])}/16)" for b in names}} for a in names]
    emit(rows, ["score"] + names, title="Spearman rank correlation (shared top-16)")
