"""Validation of a ranking: does a score predict what it claims to, the gain of 1-shot RL on an
example? The experiment no anchor offers (`select validate`, issue 17).

The plan: 1-shot runs on a stratified sample of a ranking (`strata`): its top examples, examples
at evenly spaced ranks in between, its bottom examples and the pool's planted pathologies (the
toy pool's wrong-gold and unreachable examples), each for every seed and every run evaluated the
same way. It is a sweep: planned once and stored in the `sweeps` table, launched by the sweep
launchers (local, SLURM, print), resumable, and run ids shared with any sweep that trains the
same example with the same settings (a finished run is never trained twice).

The analysis (`correlations`): an example's gain is the mean over seeds of (final test accuracy
- the base model's accuracy), the base being the mean of every run's evaluation before its first
step (view `validation_gain`); also at the best evaluated step (optimistic: the step is chosen on
the test set itself; it shows what an example can teach before a run overfits it). For every score (selector/score.py; history scores from the
ranking's history run, `base-pass-rate` from the pool's base pass-rate run when there is one),
Spearman's rho between the score and the gain over the sampled examples, with a bootstrap 90%
interval (examples resampled with replacement). The rows go to the `validations` table.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import ClassVar

from selector.config import option
from selector.errors import UserError
from selector.score import spearman as rank_correlation

STRATA = ("top", "middle", "bottom", "planted")


@dataclass
class ValidateOptions:
    """What a validation samples (selector/cli/validate.py adds the training options and how to launch)."""

    GROUP: ClassVar[str] = "the sample"

    pool: str = option("toy", "training pool (see `selector pools`); its latest ranking by --score is sampled")
    score: str = option("variance", "the ranking the sample is stratified over")
    top: int = option(3, "the N best-ranked examples", metavar="N")
    spread: int = option(5, "N examples at evenly spaced ranks between the top and the bottom", metavar="N")
    bottom: int = option(2, "the N worst-ranked examples (planted ones left out: they have their own stratum)", metavar="N")
    planted: int = option(2, "up to N of the pool's planted examples (a `planted` column: the toy pool's wrong-gold "
                             "and unreachable ones), taking each kind in turn, best-ranked first", metavar="N")
    seeds: str = option("1,2,3", "training seeds; every sampled example is trained once per seed (comma list)",
                        metavar="LIST")
    name: str | None = option(None, "validation name (default: derived from the options, so the same command finds it "
                                    "again)")
    n_bootstrap: int = option(1000, "bootstrap replicates of the Spearman interval (examples resampled)", metavar="N")


def strata(ranking: list[dict], planted: dict[str, str], opts: ValidateOptions) -> list:
    """The sampled examples as sweep items (label pi<k>, group = stratum), best-ranked first within
    each stratum. `ranking`: rows pi1, pi2, ... (rank, example_id); `planted`: id -> kind."""
    from selector.sweep import Item

    for what in ("top", "spread", "bottom", "planted"):
        if getattr(opts, what) < 0:
            raise UserError(f"--{what} must be >= 0")
    plain = [r for r in ranking if r["example_id"] not in planted]
    if opts.top + opts.bottom + opts.spread > len(plain):
        raise UserError(f"--top {opts.top} + --spread {opts.spread} + --bottom {opts.bottom} is more than the "
                        f"{len(plain)} ranked examples that are not planted")
    chosen: list[tuple[str, dict]] = [("top", r) for r in plain[:opts.top]]
    inner = plain[opts.top:len(plain) - opts.bottom]
    if opts.spread and inner:
        # evenly spaced positions strictly inside the top and bottom strata
        step = len(inner) / (opts.spread + 1)
        picks = sorted({min(len(inner) - 1, round(step * (i + 1))) for i in range(opts.spread)})
        chosen += [("middle", inner[p]) for p in picks]
    chosen += [("bottom", r) for r in plain[len(plain) - opts.bottom:]] if opts.bottom else []
    kinds: dict[str, list[dict]] = {}
    for r in ranking:
        if r["example_id"] in planted:
            kinds.setdefault(planted[r["example_id"]], []).append(r)
    taken = 0
    while taken < opts.planted and any(kinds.values()):
        for kind in list(kinds):
            if kinds[kind] and taken < opts.planted:
                chosen.append(("planted", kinds[kind].pop(0)))
                taken += 1
    if not chosen:
        raise UserError("the validation samples no example; give --top, --spread, --bottom or --planted")
    return [Item(f"pi{r['rank']}", stratum, [r["example_id"]]) for stratum, r in chosen]


def validation_name(opts: ValidateOptions, template, ranking_id: str | None) -> tuple[str, dict]:
    """(name, the options that define it): the same options, the same name."""
    import dataclasses

    from selector.paths import slug
    from selector.runs import TrainOptions

    options = {k: getattr(opts, k) for k in ("pool", "score", "top", "spread", "bottom", "planted", "seeds")}
    defaults = {f.name: f.default for f in dataclasses.fields(TrainOptions)}
    options.update({f.name: getattr(template, f.name) for f in dataclasses.fields(TrainOptions)
                    if getattr(template, f.name) != defaults[f.name]})
    options["ranking_id"] = ranking_id
    digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:8]
    name = opts.name or f"validate-{slug(opts.pool, 20)}-{digest}"
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum() or name.startswith((".", "_")):
        raise UserError(f"validation name {name!r}: use letters, digits, '-', '_' and '.'")
    return name, options


# --------------------------------------------------------------------------- the analysis


def rankdata(values):
    """Ranks 1..n, ties given their average rank (as scipy.stats.rankdata)."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(1, len(v) + 1)
    for x in np.unique(v):
        same = v == x
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    return ranks


def spearman(x, y) -> float:
    """Spearman's rho with average ranks for ties; NaN when either side is constant or n < 3."""
    import numpy as np

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3:
        return float("nan")
    rx, ry = rankdata(x), rankdata(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return rank_correlation(rx, ry)  # Pearson's r of the ranks, as `rank --compare` computes it


def spearman_interval(x, y, n_bootstrap: int, seed: int = 0, level: float = 0.90) -> tuple[float, float]:
    """Percentile bootstrap interval of Spearman's rho: pairs resampled with replacement (seeded).
    Replicates where one side is constant (rho undefined) are left out."""
    import numpy as np

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if n_bootstrap < 1 or len(x) < 3:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, len(x), len(x))
        r = spearman(x[idx], y[idx])
        if r == r:
            reps.append(r)
    if not reps:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    return float(np.quantile(reps, tail)), float(np.quantile(reps, 1 - tail))


def example_gains(store, name: str) -> list[dict]:
    """Per sampled example: stratum, label, seeds finished, mean and sd of the gain and of the gain
    among formatted answers (view validation_gain), in plan order."""
    import numpy as np

    rows = store.rows("SELECT * FROM validation_gain WHERE sweep = ? ORDER BY position", [name])
    out: dict[str, dict] = {}
    for r in rows:
        e = out.setdefault(r["example_id"], {"example_id": r["example_id"], "label": r["label"], "stratum": r["grp"],
                                             "gains": [], "gains_best": [], "gains_formatted": []})
        for key, col in (("gains", "gain"), ("gains_best", "gain_best"), ("gains_formatted", "gain_formatted")):
            if r[col] is not None:
                e[key].append(r[col])
    for e in out.values():
        g, b, f = np.array(e["gains"]), np.array(e["gains_best"]), np.array(e["gains_formatted"])
        e.update(seeds=len(g), gain=float(g.mean()) if len(g) else None,
                 gain_sd=float(g.std(ddof=1)) if len(g) > 1 else None,
                 gain_best=float(b.mean()) if len(b) else None,
                 gain_formatted=float(f.mean()) if len(f) else None)
    return list(out.values())


def score_values(store, run_id: str, score_name: str) -> dict[str, float]:
    """example id -> the score's value over the run's history (computed now, no bootstrap)."""
    from selector import score

    ids, example, epoch, acc = store.history_arrays(run_id)
    if not ids:
        return {}
    return dict(zip(ids, score.compute(score_name, score.History(ids, example, epoch, acc)).tolist()))


def score_sources(store, pool: str, history_run: str) -> dict[str, str | None]:
    """score name -> the run it is computed from: the history run for history scores, the pool's
    latest finished base pass-rate run for `base` scores (None when there is none yet)."""
    from selector import score

    base = store.rows("SELECT run_id FROM run_status WHERE pool = ? AND kind = 'base_pass' AND status = 'finished' "
                      "ORDER BY created_at DESC, run_id DESC LIMIT 1", [pool])
    base_run = base[0]["run_id"] if base else None
    return {n: (history_run if s.source == "history" else base_run) for n, s in score.SCORES.items()}


GAINS = ("final", "best")  # the gain at the last evaluated step, and at the best one (optimistic: chosen on the test)


def correlations(store, name: str, pool: str, history_run: str, n_bootstrap: int, seed: int = 0) -> list[dict]:
    """For every score and both gains (GAINS): Spearman's rho between the score and the mean 1-shot
    gain over the sampled examples, with its bootstrap 90% interval."""
    examples = example_gains(store, name)
    out = []
    for (score_name, run_id), gain in ((s, g) for s in score_sources(store, pool, history_run).items() for g in GAINS):
        key = "gain" if gain == "final" else "gain_best"
        gains = [e for e in examples if e[key] is not None]
        row = {"score": score_name, "gain": gain, "run_id": run_id, "examples": 0, "spearman": None, "ci_low": None,
               "ci_high": None}
        if run_id is not None:
            values = score_values(store, run_id, score_name)
            pairs = [(values[e["example_id"]], e[key]) for e in gains
                     if e["example_id"] in values and values[e["example_id"]] == values[e["example_id"]]]
            if pairs:
                x, y = zip(*pairs)
                rho = spearman(x, y)
                lo, hi = spearman_interval(x, y, n_bootstrap, seed)
                row.update(examples=len(pairs), spearman=None if rho != rho else rho,
                           ci_low=None if lo != lo else lo, ci_high=None if hi != hi else hi)
        out.append(row)
    return out


def record(store, name: str, rows: list[dict], runs_finished: int, n_bootstrap: int, seed: int = 0) -> None:
    """Append one computation of the correlations to the `validations` table."""
    from selector.store import code_version, now

    created, version = now(), code_version()
    shard = f"validation-{name}-{hashlib.sha256(f'{created}'.encode()).hexdigest()[:8]}"
    with store.writer(shard) as w:
        w.append("validations", [{"validation": name, "score": r["score"], "gain": r["gain"], "run_id": r["run_id"],
                                  "examples": r["examples"],
                                  "runs_finished": runs_finished, "spearman": r["spearman"], "ci_low": r["ci_low"],
                                  "ci_high": r["ci_high"], "n_bootstrap": n_bootstrap, "seed": seed, "created_at": created,
                                  "code_version": version} for r in rows])
