"""What each figure of the report shows, read from a store: dicts of numpy arrays, from pandas
DataFrames of the store's views (`Store.frame`).

    from analysis import data
    store = data.open_store("rlvr-store")
    h = data.history(store, data.default_history_run(store))

Each function reads the store's views (selector/store/views.sql defines them, with every derived number:
epoch and step accuracy, saturation, completion length, self-reflection, sweep summaries) or
calls selector/score.py (the scores and rank intervals); nothing here defines a number anew.
A function returns None when the store has no data for it, so callers can say what is missing.
"""

from selector.errors import UserError

# The scores compared in the report (the paper's, LIMR's, and learnability).
COMPARED = ("variance", "lim", "learnability")
# Run kinds whose per-example history a ranking is made from.
HISTORY_KINDS = ("history", "imported")


def open_store(path=None):
    """The store at `path` (default $RLVR_STORE, else ./rlvr-store)."""
    from selector.paths import store_dir
    from selector.store import Store

    return Store.open(store_dir(path))


def run_info(store, run_id: str) -> dict:
    run = store.run(run_id)
    if run is None:
        known = ", ".join(r["run_id"] for r in store.runs()[-5:]) or "none"
        raise UserError(f"no run {run_id!r} in store {store.root} (latest runs: {known})")
    return run


def default_history_run(store, pool: str | None = None) -> str | None:
    """The run behind the latest variance ranking (of `pool`, if given); else the latest run with a
    per-example history (an imported file or a history run)."""
    got = store.rows("SELECT run_id FROM rankings WHERE score = 'variance' AND (? IS NULL OR pool = ?) "
                     "ORDER BY created_at DESC, ranking_id DESC LIMIT 1", [pool, pool])
    if got:
        return got[0]["run_id"]
    got = store.rows("SELECT run_id FROM run_status WHERE kind IN ('history', 'imported') AND (? IS NULL OR pool = ?) "
                     "AND run_id IN (SELECT run_id FROM epoch_accuracy) ORDER BY created_at DESC, run_id DESC LIMIT 1", [pool, pool])
    return got[0]["run_id"] if got else None


def latest_sweep(store) -> str | None:
    """The latest sweep that is not a `select validate` plan (those have a `spread` option and get
    their own section)."""
    got = store.rows("SELECT sweep FROM sweeps WHERE json_extract(options, '$.spread') IS NULL "
                     "ORDER BY created_at DESC, sweep DESC LIMIT 1")
    return got[0]["sweep"] if got else None


def default_training_run(store, sweep: str | None = None) -> str | None:
    """The run for the training-curve sections: the sweep's first planned 1-shot run with
    evaluations (pi1 of the lowest seed); without a sweep, the latest 1-/few-shot run with
    evaluations."""
    if sweep:
        got = store.rows("SELECT run_id FROM sweep_results WHERE sweep = ? AND final IS NOT NULL "
                         "ORDER BY grp <> '1-shot', position LIMIT 1", [sweep])
        if got:
            return got[0]["run_id"]
    got = store.rows("SELECT run_id FROM run_status WHERE kind IN ('one_shot', 'few_shot') "
                     "AND run_id IN (SELECT run_id FROM eval_samples) ORDER BY created_at DESC, run_id DESC LIMIT 1")
    return got[0]["run_id"] if got else None


def _score_history(store, run_id):
    from selector import score

    ids, example, epoch, acc = store.history_arrays(run_id)
    return score.History(ids, example, epoch, acc) if ids else None


def ranking(store, run_id: str, name: str = "variance", n_bootstrap: int = 200, seed: int = 0, history=None) -> list[dict] | None:
    """The run's latest stored ranking by `name` (what pi names mean in this store); if none is
    stored, the ranking computed now by selector/score.py, with a bootstrap rank interval.
    `history`: the run's score.History, if the caller has read it already."""
    from selector import score

    got = store.rows("SELECT ranking_id FROM scores WHERE run_id = ? AND score = ? LIMIT 1", [run_id, name])
    if got:
        return store.ranking(got[0]["ranking_id"])
    h = history if history is not None else _score_history(store, run_id)
    if h is None:
        return None
    return [{"rank": r.rank, "example_id": r.example_id, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high}
            for r in score.rank(h, name, n_bootstrap, seed)]


def history(store, run_id: str, score_name: str = "variance") -> dict | None:
    """Per-example accuracy by epoch, best-ranked example first.

    Keys: run_id, kind, pool, score, ids (ranked order), ranks (1 = pi1), values (the score),
    ci_low/ci_high (rank interval, or None), epochs (1..E), acc (array [n, E]; NaN where the
    example did not appear in that epoch)."""
    import numpy as np

    h = _score_history(store, run_id)
    ranked = ranking(store, run_id, score_name, history=h) if h is not None else None
    if not ranked:
        return None
    run = run_info(store, run_id)
    n_epochs = int(h.epoch.max())
    row_of = {x: k for k, x in enumerate(r["example_id"] for r in ranked)}  # history order -> ranked row
    rows = np.array([row_of[x] for x in h.ids])[h.example]
    acc = np.full((len(ranked), n_epochs), np.nan)
    acc[rows, h.epoch - 1] = h.acc
    return {"run_id": run_id, "kind": run["kind"], "pool": run["pool"], "score": score_name,
            "ids": [r["example_id"] for r in ranked], "ranks": np.array([r["rank"] for r in ranked]),
            "values": np.array([r["value"] for r in ranked], dtype=float),
            "ci_low": [r["ci_low"] for r in ranked], "ci_high": [r["ci_high"] for r in ranked],
            "epochs": np.arange(1, n_epochs + 1), "acc": acc}


def score_comparison(store, run_id: str, names=COMPARED) -> dict | None:
    """Every example's rank under each score, and their Spearman rank correlations.

    Keys: ids (history order), ranks {score: array}, spearman {(a, b): rho}, top_overlap
    {(a, b): how many of a's top 16 are in b's top 16}."""
    from selector import score

    h = _score_history(store, run_id)
    if h is None:
        return None
    ranks = {n: score.ranks_of(score.compute(n, h)) for n in names}
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    return {"run_id": run_id, "ids": h.ids, "ranks": ranks,
            "spearman": {(a, b): score.spearman(ranks[a], ranks[b]) for a, b in pairs},
            "top_overlap": {(a, b): int(((ranks[a] <= 16) & (ranks[b] <= 16)).sum()) for a, b in pairs}}


def pi_names(store, pool: str, example_ids) -> dict:
    """example id -> 'pi<k>' under the pool's latest variance ranking (ids it lacks are left out)."""
    rid = store.latest_ranking_id(pool, "variance")
    if not rid:
        return {}
    got = store.rows("SELECT example_id, rank FROM rankings WHERE ranking_id = ? AND list_contains(?, example_id)",
                     [rid, [str(x) for x in example_ids]])
    return {r["example_id"]: f"pi{r['rank']}" for r in got}


def training_curves(store, run_id: str) -> dict | None:
    """A run's training accuracy on each of its examples per step, and its test accuracy per
    evaluated step. None if the run recorded no rollouts.

    Keys: run_id, kind, pool, examples [{example_id, pi, steps, acc}], train_steps, train_acc
    (over the whole batch), saturation_step (store view run_saturation), eval_steps,
    eval_average, eval {benchmark: (steps, accuracy)}, benchmarks, samples (per test problem)."""
    run = run_info(store, run_id)
    steps = store.frame("SELECT step, accuracy FROM train_behaviour WHERE run_id = ? ORDER BY step", [run_id])
    if steps.empty:
        return None
    per_example = store.frame("SELECT example_id, step, acc FROM step_accuracy WHERE run_id = ? ORDER BY example_id, step",
                              [run_id])
    groups = dict(tuple(per_example.groupby("example_id", sort=True)))
    # A history or full-pool run meets each example only a few times: its per-example curves say nothing.
    if len(groups) > 16:
        groups = {}
    names = pi_names(store, run["pool"], list(groups))
    examples = [{"example_id": x, "pi": names.get(x), "steps": g["step"].to_numpy(), "acc": g["acc"].to_numpy(dtype=float)}
                for x, g in groups.items()]
    sat = store.rows("SELECT saturation_step FROM run_saturation WHERE run_id = ?", [run_id])
    avg = store.frame("SELECT step, accuracy, benchmarks FROM eval_average WHERE run_id = ? ORDER BY step", [run_id])
    samples = store.rows("SELECT min(samples) AS k FROM eval_scores WHERE run_id = ?", [run_id])[0]["k"]
    per_bench = store.frame("SELECT benchmark, step, accuracy FROM eval_scores WHERE run_id = ? ORDER BY benchmark, step",
                            [run_id])
    return {"run_id": run_id, "kind": run["kind"], "pool": run["pool"], "examples": examples,
            "train_steps": steps["step"].to_numpy(), "train_acc": steps["accuracy"].to_numpy(dtype=float),
            "saturation_step": sat[0]["saturation_step"] if sat else None,
            "eval_steps": avg["step"].to_numpy(), "eval_average": avg["accuracy"].to_numpy(dtype=float),
            "benchmarks": avg["benchmarks"].iloc[-1] if len(avg) else None, "samples": samples,
            "eval": {b: (g["step"].to_numpy(), g["accuracy"].to_numpy(dtype=float)) for b, g in per_bench.groupby("benchmark")}}


def behaviour(store, run_id: str) -> dict | None:
    """A run's behaviour over training (the paper's Fig. 4): completion length and policy entropy
    per training step, and the length and self-reflection rate of its test completions per
    evaluated step (pooled over benchmarks). None if the run recorded neither."""
    train = store.frame("SELECT step, completion_tokens, entropy, reflection_rate FROM train_behaviour WHERE run_id = ? "
                        "ORDER BY step", [run_id])
    test = store.frame("SELECT step, sum(completions) AS completions, "
                       "sum(completion_tokens * completions) / sum(completions) AS completion_tokens, "
                       "sum(reflection_words * completions) / sum(completions) AS reflection_words, "
                       "sum(reflection_rate * completions) / sum(completions) AS reflection_rate "
                       "FROM eval_behaviour WHERE run_id = ? GROUP BY step ORDER BY step", [run_id])
    if train.empty and test.empty:
        return None

    def col(df, name):  # NULL (no entropy logged, ...) is NaN
        return df[name].to_numpy(dtype=float, na_value=float("nan"))

    return {"run_id": run_id,
            "train_steps": train["step"].to_numpy(), "train_tokens": col(train, "completion_tokens"),
            "entropy": col(train, "entropy"), "train_reflection_rate": col(train, "reflection_rate"),
            "eval_steps": test["step"].to_numpy(), "eval_tokens": col(test, "completion_tokens"),
            "eval_reflection_rate": col(test, "reflection_rate"), "eval_reflection_words": col(test, "reflection_words"),
            "eval_completions": test["completions"].tolist()}


def sweep_data(store, sweep: str) -> dict | None:
    """The sweep in the paper's table form (store views sweep_summary and sweep_base). None if
    the store has no such sweep."""
    rows = store.sweep_summary(sweep)
    if not rows:
        return None
    base = store.sweep_base(sweep) or {}
    return {"sweep": sweep, "rows": rows, "base": base.get("base"), "benchmarks": base.get("benchmarks")}


# The authors' history over DSR-sub, beside which the report shows a history run's statistics
# (under the data directory: ../shared/data, $RLVR_DATA_DIR; absent: the column is left out).
AUTHORS_HISTORY = "histories/dsr_sub_acc_step_500.json"


def history_stats(store, run_id: str, top: int = 16) -> dict | None:
    """The run's history statistics (selector/history_stats.py) and, when the authors' file is
    found, theirs: {"labels": [...], "rows": [{statistic, <label>: value, ...}]}. None if the run
    has no history."""
    from selector.history_stats import describe, file_history, side_by_side
    from selector.paths import find_data_file

    h = _score_history(store, run_id)
    if h is None:
        return None
    stats = {run_id: describe(h, top)}
    path, _ = find_data_file(AUTHORS_HISTORY)
    if path is not None:
        stats["authors (DSR-sub, step 500)"] = describe(file_history(path), top)
    return {"labels": list(stats), "rows": side_by_side(stats)}


def validation(store, name: str | None = None) -> dict | None:
    """The latest `select validate` result (or validation `name`): per-example gains (view
    validation_gain, averaged over seeds), each example's variance rank in the ranking the sample
    came from, and the latest correlations (view validation_latest). None if there is none."""
    from selector.validate import example_gains

    if name is None:
        got = store.rows("SELECT validation FROM validations ORDER BY created_at DESC LIMIT 1")
        if not got:
            return None
        name = got[0]["validation"]
    corr = store.rows("SELECT * FROM validation_latest WHERE validation = ? ORDER BY score, gain DESC", [name])
    if not corr:
        return None
    examples = example_gains(store, name)
    plan = store.sweep_plan(name)
    import json

    ranking_id = json.loads(plan[0]["options"]).get("ranking_id") if plan else None
    ranks = {r["example_id"]: r["rank"] for r in store.ranking(ranking_id)} if ranking_id else {}
    for e in examples:
        e["rank"] = ranks.get(e["example_id"])
    return {"validation": name, "examples": examples, "correlations": corr, "ranked": len(ranks),
            "score": json.loads(plan[0]["options"]).get("score", "variance") if plan else "variance"}
