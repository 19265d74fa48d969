"""Ranking scores over per-example training-accuracy histories, and the ranking itself.

Each score is ONE numpy function of an example's accuracies (and the pool-mean accuracy at the
same epochs), applied to every example at once. The ranking sorts by score, highest first;
ties keep the order in which the history run first met the examples, then the example id.

`variance`, the paper's historical variance score (arXiv 2504.20571, Sec. 2.2 / Eq. 2): the
authors rank by `np.std` (population, ddof=0) of each example's list, which orders like the
variance, with a stable sort over the history's key order. We compute it with `np.std` over
rows of equal length, which is bit-identical to their per-list `np.std`: with a different
summation (DuckDB's stddev_pop, or nanstd over padded rows) float noise reorders about 90 of
the 1,209 paper ranks among examples whose scores are mathematically tied.

The rank confidence interval is a bootstrap over epochs: each replicate draws epochs with
replacement (the same draw for every example), recomputes the score and the ranking, and the
interval is the 5th-95th percentile of an example's rank. Seeded, so it is reproducible.

The replicates are computed all at once: a replicate that draws epoch e c_e times weights each
of an example's entries at e by c_e, so every score is a function of a few weighted sums per
example (of the weights, of weight x acc, of weight x acc^2), and those sums for all replicates
are one matrix product, (replicates x epochs) @ (epochs x examples). The draws are those of the
per-replicate loop it replaced (`bootstrap_rank_interval_loop`, kept as the reference): same
seed, same replicates. What changed is float noise: with accuracies k/8 the sums are exact, so
examples whose weighted lists are equal tie exactly and keep history order (scores equal to 12
decimals count as tied), where the loop's `np.std` over repeated entries ordered such ties by
rounding noise. On the authors' history (seed 0, 200 replicates) 2,173 of the 2,418 variance
bounds are the loop's (the others move by at most 7 ranks, all inside groups of tied examples)
and all 2,418 are once the loop's scores are rounded to 12 decimals; lim, learnability and mean
accuracy give the loop's 2,418 bounds as they are (`python perf/rank_scale.py --check`).
"""

from dataclasses import dataclass
from typing import Callable

from selector.errors import UserError


def _variance(acc, pool_mean):
    import numpy as np

    return np.std(acc, axis=1)


def _lim(acc, pool_mean):
    # LIMR's learning impact measurement (Li et al., 2025, arXiv 2502.11886, Eq. 1):
    # 1 - sum_k (a_k - abar_k)^2 / sum_k (1 - abar_k)^2, abar_k the pool-mean accuracy at epoch k.
    # Undefined (NaN) when the pool was perfect at every epoch the example was seen.
    import numpy as np

    denom = ((1.0 - pool_mean) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 1.0 - ((acc - pool_mean) ** 2).sum(axis=1) / denom, np.nan)


def _learnability(acc, pool_mean):
    # Mean of a(1-a): largest for examples the model solves about half the time (the variance
    # of a single Bernoulli rollout), as in learnability-based curricula.
    return (acc * (1.0 - acc)).mean(axis=1)


def _mean_acc(acc, pool_mean):
    return acc.mean(axis=1)


# The same scores over weighted entries, for all bootstrap replicates at once. `w` holds one row
# of epoch weights per replicate (how often it drew each epoch) and `t` the per-example, per-epoch
# sums (`_EpochSums`); each returns [replicates, examples], NaN where the example has no weight.
# Each orders examples as its function above does on the replicate's repeated entries.

def _variance_weighted(w, t):
    import numpy as np

    s0, s1, s2 = w @ t.count.T, w @ t.acc.T, w @ t.acc2.T
    with np.errstate(divide="ignore", invalid="ignore"):
        # The variance (std^2 orders the same); s0*s2 - s1^2 is exact for accuracies k/8.
        return np.where(s0 > 0, (s0 * s2 - s1 * s1) / (s0 * s0), np.nan)


def _lim_weighted(w, t):
    import numpy as np

    num = w @ t.lim_num.T  # sum of (a - p)^2 per epoch, summed entry by entry (no cancellation)
    den = w @ (t.count * (1.0 - t.pool_mean) ** 2).T
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, 1.0 - num / den, np.nan)


def _learnability_weighted(w, t):
    import numpy as np

    s0 = w @ t.count.T
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s0 > 0, (w @ (t.acc - t.acc2).T) / s0, np.nan)


def _mean_acc_weighted(w, t):
    import numpy as np

    s0 = w @ t.count.T
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s0 > 0, (w @ t.acc.T) / s0, np.nan)


def _mixed(acc, pool_mean):
    # DAPO's dynamic sampling (Yu et al., 2025, arXiv 2503.14476, Sec. 3.2) drops a prompt whose
    # group of rollouts is all right or all wrong: its advantages are all zero, no gradient. As a
    # score: the share of an example's appearances that were mixed, neither all right nor all wrong;
    # 0 = DAPO would have filtered it out at every appearance.
    return ((acc > 0) & (acc < 1)).mean(axis=1)


def _base_pass_rate(acc, pool_mean):
    # The base model's pass rate p over k samples (one entry per example: a base pass-rate run,
    # trainer/pass_rate.py) scored as p(1-p), the variance of one rollout's reward: highest for
    # examples the base model solves about half the time, 0 for never and always. No history run.
    return (acc * (1.0 - acc)).mean(axis=1)


@dataclass(frozen=True)
class Score:
    fn: Callable  # (acc [n, L], pool_mean [n, L]) -> [n]; rows are examples with L entries each
    help: str
    # (epoch weights [B, E], _EpochSums) -> [B, n]: the score of every bootstrap replicate at once;
    # None: the bootstrap recomputes `fn` replicate by replicate.
    weighted: Callable | None = None
    # What the score reads: "history" (a GRPO history run or an imported history) or "base" (a base
    # pass-rate run: one generation pass of the base model, k samples per example).
    source: str = "history"


SCORES: dict[str, Score] = {
    "variance": Score(_variance, "historical variance score (the paper): std of the per-epoch accuracies",
                      _variance_weighted),
    "lim": Score(_lim, "LIMR learning impact: how closely the example's accuracy follows the pool's learning curve",
                 _lim_weighted),
    "learnability": Score(_learnability, "mean of a(1-a) over epochs: solved about half the time", _learnability_weighted),
    "mean_acc": Score(_mean_acc, "mean training accuracy (easiest first)", _mean_acc_weighted),
    "mixed": Score(_mixed, "DAPO's zero-variance filter as a score: share of appearances neither all right nor all wrong"),
    "base-pass-rate": Score(_base_pass_rate, "p(1-p), p the base model's pass rate over k samples (no history run)",
                            _learnability_weighted, source="base"),  # the same formula as learnability
}


def get_score(name: str) -> Score:
    if name not in SCORES:
        raise UserError(f"unknown score {name!r}; valid scores: {', '.join(SCORES)}")
    return SCORES[name]


@dataclass
class History:
    """Per-example accuracies in epoch order; examples in the order the run first met them.

    Stored flat (one entry per (example, epoch), grouped by example, epochs ascending) so that
    pool means and bootstrap replicates are whole-array operations.
    """

    ids: list[str]
    example: object  # int array: index into ids of each entry
    epoch: object  # int array: the entry's epoch (for an imported history: the appearance number)
    acc: object  # float array

    @classmethod
    def from_lists(cls, ids: list[str], accs: list[list[float]], epochs: list[list[int]] | None = None) -> "History":
        import numpy as np

        if not ids:
            raise UserError("the history is empty: nothing to rank")
        lengths = [len(a) for a in accs]
        example = np.repeat(np.arange(len(ids)), lengths)
        acc = np.asarray([x for a in accs for x in a], dtype=np.float64)
        epoch = (np.asarray([x for e in epochs for x in e], dtype=np.int64) if epochs
                 else np.concatenate([np.arange(1, n + 1) for n in lengths]))
        return cls(list(ids), example, epoch, acc)

    def pool_means(self):
        """For every entry, the mean accuracy over all examples seen at that entry's epoch."""
        import numpy as np

        sums, counts = np.bincount(self.epoch, weights=self.acc), np.bincount(self.epoch)
        with np.errstate(invalid="ignore"):
            return (sums / np.maximum(counts, 1))[self.epoch]

    def resample(self, rng) -> "History":
        """One bootstrap replicate: epochs drawn with replacement, the same draw for all examples.

        An entry is repeated as often as its epoch was drawn; the grouping by example stays."""
        import numpy as np

        epochs = np.unique(self.epoch)
        times = np.zeros(epochs.max() + 1, dtype=np.int64)
        np.add.at(times, rng.choice(epochs, size=len(epochs), replace=True), 1)
        reps = times[self.epoch]
        return History(self.ids, np.repeat(self.example, reps), np.repeat(self.epoch, reps), np.repeat(self.acc, reps))


def compute(name: str, history: History):
    """The named score of every example (NaN where undefined, e.g. an example with no entries)."""
    import numpy as np

    fn = get_score(name).fn
    pool_mean = history.pool_means()
    lengths = np.bincount(history.example, minlength=len(history.ids))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    out = np.full(len(history.ids), np.nan)
    # Rows of equal length go through the score as one dense block, each row's entries in its
    # list order: this keeps `variance` bit-identical to np.std over each list (module docstring).
    for length in np.unique(lengths):
        if length == 0:
            continue
        idx = np.flatnonzero(lengths == length)
        take = starts[idx][:, None] + np.arange(length)
        out[idx] = fn(history.acc[take], pool_mean[take])
    return out


def order(values):
    """Indices from best to worst: score descending, NaN last, ties in history order.

    Examples are held in history (first-seen) order, so a stable sort by score alone keeps ties
    in first-appearance order, exactly as the authors' stable sort does.
    """
    import numpy as np

    key = np.where(np.isnan(values), np.inf, -np.asarray(values))
    return np.argsort(key, kind="stable")


@dataclass(frozen=True)
class Ranked:
    rank: int  # 1 = pi1
    example_id: str
    value: float
    ci_low: int | None = None
    ci_high: int | None = None


def rank(history: History, score: str = "variance", n_bootstrap: int = 200, seed: int = 0) -> list[Ranked]:
    """Rank every example of the history by `score`; with n_bootstrap > 0, a 90% rank interval."""
    values = compute(score, history)
    best_first = order(values)
    lo = hi = None
    if n_bootstrap > 0:
        lo, hi = bootstrap_rank_interval(history, score, n_bootstrap, seed)
    return [
        Ranked(r, history.ids[i], float(values[i]),
               None if lo is None else int(lo[i]), None if hi is None else int(hi[i]))
        for r, i in enumerate(best_first, 1)
    ]


def ranks_of(values):
    """The rank (1 = best) of each example, in history order."""
    import numpy as np

    out = np.empty(len(values), dtype=np.int64)
    out[order(values)] = np.arange(1, len(values) + 1)
    return out


@dataclass
class _EpochSums:
    """A history as dense [examples, epochs] sums (count of entries, sum of acc, sum of acc^2) and
    the pool's mean accuracy per epoch; `epochs` are the distinct epochs, the columns' order."""

    epochs: object
    count: object
    acc: object
    acc2: object
    pool_mean: object  # [epochs]: repeating an epoch leaves the pool's mean at that epoch as it is
    lim_num: object  # sum over entries of (acc - pool mean at the entry's epoch)^2

    @classmethod
    def of(cls, history: History) -> "_EpochSums":
        import numpy as np

        epochs, column = np.unique(history.epoch, return_inverse=True)
        n, e = len(history.ids), len(epochs)
        cell = history.example * e + column
        count, acc, acc2 = (np.bincount(cell, weights=x, minlength=n * e).reshape(n, e)
                            for x in (None, history.acc, history.acc * history.acc))
        pool_mean = acc.sum(axis=0) / np.maximum(count.sum(axis=0), 1)
        lim_num = np.bincount(cell, weights=(history.acc - pool_mean[column]) ** 2, minlength=n * e).reshape(n, e)
        return cls(epochs, count.astype(np.float64), acc, acc2, pool_mean, lim_num)


def _draws(rng, epochs, n: int):
    """[n, epochs] how often each replicate draws each epoch: the very draws of `History.resample`
    (one `rng.choice` call per replicate, so the random stream is the same)."""
    import numpy as np

    w = np.zeros((n, len(epochs)))
    for b in range(n):
        w[b] = np.bincount(np.searchsorted(epochs, rng.choice(epochs, size=len(epochs), replace=True)),
                           minlength=len(epochs))
    return w


def _interval(ranks, level: float):
    import numpy as np

    # Rounded: in floats (1 - 0.9) / 2 is 0.04999999999999999, which took the lower bound one order
    # statistic too low whenever (n - 1) / 20 is a whole number (n = 21, 41, ..., 201 replicates).
    tail = round((1.0 - level) / 2, 12)
    return (np.quantile(ranks, tail, axis=0, method="lower").astype(int),
            np.quantile(ranks, 1.0 - tail, axis=0, method="higher").astype(int))


def bootstrap_rank_interval(history: History, score: str, n: int, seed: int, level: float = 0.90):
    """(low, high) rank bounds per example, in history order, from `n` epoch-bootstrap replicates.

    All replicates at once (module docstring), in blocks of replicates that keep memory to about
    `8 x 64 bytes x examples` per block; a score without a weighted form goes replicate by replicate."""
    import numpy as np

    fn = get_score(score).weighted
    if fn is None or n <= 0:
        return bootstrap_rank_interval_loop(history, score, n, seed, level)
    sums = _EpochSums.of(history)
    w = _draws(np.random.default_rng(seed), sums.epochs, n)
    m = len(history.ids)
    ranks = np.empty((n, m), dtype=np.int32)
    place = np.broadcast_to(np.arange(1, m + 1, dtype=np.int32), (min(n, 64), m))
    for start in range(0, n, 64):
        # Scores equal to 12 decimals tie (and keep history order): float noise never orders examples.
        values = np.round(fn(w[start:start + 64], sums), 12)
        best_first = np.argsort(np.where(np.isnan(values), np.inf, -values), axis=1, kind="stable")
        np.put_along_axis(ranks[start:start + 64], best_first, place[: len(values)], axis=1)
    return _interval(ranks, level)


def bootstrap_rank_interval_loop(history: History, score: str, n: int, seed: int, level: float = 0.90):
    """The same interval, one replicate after another (`History.resample`, then the score and the
    ranking of the resampled history): the method `bootstrap_rank_interval` replaced, kept as its
    reference (tests/test_score.py, perf/rank_scale.py) and for a score with no weighted form."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ranks = np.empty((n, len(history.ids)), dtype=np.int64)
    for b in range(n):
        ranks[b] = ranks_of(compute(score, history.resample(rng)))
    return _interval(ranks, level)


def spearman(ranks_a, ranks_b) -> float:
    """Spearman's rank correlation of two rankings given as rank vectors (no ties: ranks are unique)."""
    import numpy as np

    a, b = np.asarray(ranks_a, float), np.asarray(ranks_b, float)
    if len(a) < 2:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])
