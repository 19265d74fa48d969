"""Rankings: recording one in the store, and what a name such as `pi13` means.

`select rank` computes a ranking with selector/score.py and appends it to the store's `rankings`
table, once per (run, score, bootstrap settings, code version). A pi name (`pi1`, `π13`) is the
k-th example of the pool's latest ranking by a score; example ids stand for themselves.
"""

import hashlib
import re

from selector.errors import UserError

PI = re.compile(r"^(?:pi|π)(\d+)$", re.IGNORECASE)


def is_pi(name: str) -> bool:
    return PI.match(name.strip()) is not None


def pi_index(ranking: list[dict], name: str, what: str = "the ranking") -> str:
    """The example id that pi name `name` points at in `ranking` (its rows pi1, pi2, ...)."""
    k = int(PI.match(name.strip()).group(1))
    if not 1 <= k <= len(ranking):
        raise UserError(f"{name}: {what} has pi1..pi{len(ranking)}")
    return ranking[k - 1]["example_id"]


def resolve_name(store, pool: str, score: str, name: str) -> tuple[str, list[dict] | None]:
    """(example id, the ranking it was resolved through or None). `store` may be None."""
    from selector.score import get_score

    get_score(score)
    ranking_id = store.latest_ranking_id(pool, score) if store else None
    ranking = store.ranking(ranking_id) if ranking_id else None
    if not is_pi(name):
        return name.strip(), ranking
    if ranking is None:
        from selector.pools import rank_hint

        raise UserError(f"no {score} ranking of pool {pool!r} in the store yet, so {name} means nothing; "
                        f"run {rank_hint(pool)} first")
    return pi_index(ranking, name, f"the {score} ranking of {pool!r}"), ranking


def resolve_examples(store, pool, names: str, score: str) -> list[str]:
    """A comma list of pi names and example ids -> example ids of `pool`, each once."""
    ids = []
    for name in [n.strip() for n in names.split(",") if n.strip()]:
        example_id, _ = resolve_name(store, pool.name, score, name)
        ids.append(pool.get(example_id).id)
    if not ids:
        raise UserError("--examples is empty; give pi names (pi1,pi13) or example ids")
    if len(set(ids)) != len(ids):
        raise UserError(f"--examples names an example twice ({names})")
    return ids


def ranking_id(run_id: str, score_name: str, n_bootstrap: int, seed: int) -> str:
    """Same run, score, bootstrap settings and code -> same id, so re-ranking stores nothing new."""
    from selector.store import code_version

    key = f"{run_id}|{score_name}|{n_bootstrap}|{seed}|{code_version()}"
    return f"rank-{score_name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def record_ranking(store, run_id: str, pool_name: str, score_name: str, ranked, n_bootstrap: int, seed: int) -> str:
    """Append a ranking (selector.score.rank's output) to the store unless it is there; its id."""
    from selector.store import code_version, now

    rid = ranking_id(run_id, score_name, n_bootstrap, seed)
    if store.has_ranking(rid):
        return rid
    created, version = now(), code_version()
    with store.writer(rid) as w:
        w.append("rankings", [
            {"ranking_id": rid, "run_id": run_id, "pool": pool_name, "score": score_name, "rank": r.rank,
             "example_id": r.example_id, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high,
             "n_bootstrap": n_bootstrap, "seed": seed, "created_at": created, "code_version": version}
            for r in ranked])
    return rid


def ranking_rows(pool, rankings: dict, primary: str) -> list[dict]:
    """One row per example in `primary`'s order: rank, pi, id, score, rank interval, answer,
    problem; with several scores, each score's rank and value too."""
    by_score = {name: {r.example_id: r for r in ranked} for name, ranked in rankings.items()}
    rows = []
    for r in rankings[primary]:
        ex = pool.by_id.get(r.example_id)
        row = {"rank": r.rank, "pi": f"pi{r.rank}", "example_id": r.example_id, "score": r.value,
               "ci_low": r.ci_low, "ci_high": r.ci_high, "answer": ex.answer if ex else None,
               "problem": " ".join(ex.problem.split()) if ex else None}
        if pool.planted:
            row["planted"] = ex.planted if ex else None
        if len(rankings) > 1:
            for name in rankings:
                row[f"rank_{name}"] = by_score[name][r.example_id].rank
                row[f"score_{name}"] = by_score[name][r.example_id].value
        rows.append(row)
    return rows


def correlations(rankings: dict, top: int = 16) -> dict:
    """For every pair of scores (a, b): (Spearman's rho of the two rankings, how many of a's top
    `top` are in b's top `top`)."""
    import numpy as np

    from selector.score import spearman

    names = list(rankings)
    ids = sorted(r.example_id for r in rankings[names[0]])
    rank_vec = {n: np.array([{r.example_id: r.rank for r in rankings[n]}[i] for i in ids]) for n in names}
    tops = {n: {r.example_id for r in rankings[n][:top]} for n in names}
    return {(a, b): (spearman(rank_vec[a], rank_vec[b]), len(tops[a] & tops[b])) for a in names for b in names}
