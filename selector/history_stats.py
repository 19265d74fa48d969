"""The shape of a per-example accuracy history: the statistics that say whether a history run
looks like the paper's (and so whether its variance ranking can mean what the paper's does).

    from selector.history_stats import describe
    stats = describe(score.History(...))       # any history: a run in the store or the authors' file

What is measured, on the authors' own history over DSR-sub (`select history-stats --history
../shared/data/histories/dsr_sub_acc_step_500.json`): 1,209 examples, 44-57 appearances each
(median 53); pool-mean accuracy 0.365 over the first quarter of each example's appearances and
0.476 over the last quarter (a gentle rise); per-example standard deviation median 0.107, p90
0.199; all 16 of the top 16 by variance are learning curves (accuracy correlates with the
appearance number at 0.70-0.91, first-quarter mean 0.06-0.40, last-quarter mean 0.63-0.96);
104 examples have score 0 (99 never solved, 5 always).

A *learning curve* here: an example whose accuracy correlates with its appearance number at
LEARNING_CORR or more (Pearson) and whose last-quarter mean exceeds its first-quarter mean by
LEARNING_RISE or more. The thresholds are ours, set so that the authors' top 16 all qualify with
a margin (their weakest: correlation 0.70, rise 0.53) while noise around a constant rate does not.
"""

from dataclasses import dataclass

LEARNING_CORR = 0.5
LEARNING_RISE = 0.3
TOP = 16


@dataclass
class Curve:
    """One example's history in brief."""

    example_id: str
    rank: int  # by the variance score (1 = pi1)
    std: float
    appearances: int
    corr: float  # Pearson correlation of accuracy with the appearance number (NaN if constant)
    early: float  # mean accuracy over the first quarter of its appearances
    late: float  # ... over the last quarter
    first_solved: int | None  # appearance (1-based) of the first entry with accuracy 1, if any

    @property
    def learning(self) -> bool:
        return self.corr >= LEARNING_CORR and self.late - self.early >= LEARNING_RISE


def _quarter(n: int) -> int:
    return max(1, n // 4)


def curves(history) -> list[Curve]:
    """Every example of a `selector.score.History`, in variance order (pi1 first)."""
    import numpy as np

    from selector.score import compute, ranks_of

    std = compute("variance", history)
    ranks = ranks_of(std)
    cuts = np.flatnonzero(np.diff(history.example)) + 1
    accs = np.split(history.acc, cuts)
    out = []
    for k, (ex_id, a) in enumerate(zip(history.ids, accs)):
        n, q = len(a), _quarter(len(a))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = float(np.corrcoef(np.arange(n), a)[0, 1]) if n > 1 and a.std() > 0 else float("nan")
        solved = np.flatnonzero(a >= 1.0)
        out.append(Curve(ex_id, int(ranks[k]), float(std[k]), n, corr, float(a[:q].mean()), float(a[-q:].mean()),
                         int(solved[0]) + 1 if len(solved) else None))
    return sorted(out, key=lambda c: c.rank)


@dataclass
class Stats:
    examples: int
    appearances_min: int
    appearances_median: float
    appearances_max: int
    pool_early: float  # pool-mean accuracy over the first quarter of each example's appearances
    pool_late: float  # ... over the last quarter
    std_median: float
    std_p90: float
    zero_variance: int  # examples whose accuracy never changed (score 0)
    never_solved: int
    always_solved: int
    top: int  # how many top examples the next fields describe
    top_learning: int  # of the top `top` by variance, how many are learning curves
    top_corr: tuple[float, float]  # (min, max) over the top
    top_early: tuple[float, float]
    top_late: tuple[float, float]
    pi1: Curve | None

    def rows(self) -> list[dict]:
        """(statistic, value) rows, in the order the command prints them."""
        def rng(pair, digits=2):
            return f"{pair[0]:.{digits}f}-{pair[1]:.{digits}f}"

        return [
            {"statistic": "examples", "value": f"{self.examples:,}"},
            {"statistic": "appearances per example (min / median / max)",
             "value": f"{self.appearances_min} / {self.appearances_median:g} / {self.appearances_max}"},
            {"statistic": "pool-mean accuracy, first quarter of appearances", "value": f"{self.pool_early:.3f}"},
            {"statistic": "pool-mean accuracy, last quarter of appearances", "value": f"{self.pool_late:.3f}"},
            {"statistic": "per-example std (median / p90)", "value": f"{self.std_median:.3f} / {self.std_p90:.3f}"},
            {"statistic": "score 0 (never solved / always solved)",
             "value": f"{self.zero_variance} ({self.never_solved} / {self.always_solved})"},
            {"statistic": f"top {self.top} by variance that are learning curves", "value": f"{self.top_learning}/{self.top}"},
            {"statistic": f"top {self.top}: correlation of accuracy with time", "value": rng(self.top_corr)},
            {"statistic": f"top {self.top}: first-quarter mean", "value": rng(self.top_early)},
            {"statistic": f"top {self.top}: last-quarter mean", "value": rng(self.top_late)},
            {"statistic": "pi1: first appearance solved by every rollout",
             "value": "never" if self.pi1 is None or self.pi1.first_solved is None
             else f"{self.pi1.first_solved} of {self.pi1.appearances} (example {self.pi1.example_id})"},
        ]


def describe(history, top: int = TOP) -> Stats:
    """The statistics of a history (see the module docstring)."""
    import numpy as np

    cs = curves(history)
    n_app = np.array([c.appearances for c in cs])
    # Pool means over every example's first (last) quarter of entries: the curves' quarter means,
    # weighted by the quarters' lengths.
    q = np.array([_quarter(c.appearances) for c in cs])
    std = np.array([c.std for c in cs])
    zero = [c for c in cs if c.std == 0]  # one value throughout: its early mean is that value
    head = cs[:top]
    corr = [c.corr for c in head if c.corr == c.corr] or [float("nan")]
    return Stats(
        examples=len(cs), appearances_min=int(n_app.min()), appearances_median=float(np.median(n_app)),
        appearances_max=int(n_app.max()), pool_early=float(np.average([c.early for c in cs], weights=q)),
        pool_late=float(np.average([c.late for c in cs], weights=q)), std_median=float(np.median(std)),
        std_p90=float(np.percentile(std, 90)), zero_variance=len(zero),
        never_solved=sum(c.early == 0 for c in zero), always_solved=sum(c.early == 1 for c in zero),
        top=len(head), top_learning=sum(c.learning for c in head), top_corr=(min(corr), max(corr)),
        top_early=(min(c.early for c in head), max(c.early for c in head)),
        top_late=(min(c.late for c in head), max(c.late for c in head)), pi1=cs[0] if cs else None,
    )


def side_by_side(stats: dict[str, Stats]) -> list[dict]:
    """Rows {statistic, <label>: value, ...}: several histories' statistics in one table, a column
    each in the order given (`select history-stats`, the report's section 7)."""
    labels = list(stats)
    rows = [{"statistic": r["statistic"]} for r in stats[labels[0]].rows()]
    for label in labels:
        for row, theirs in zip(rows, stats[label].rows()):
            row[label] = theirs["value"]
    return rows


def file_history(path):
    """A history file in the authors' format ({example_id: [acc, ...]}) as a selector.score.History."""
    from selector.history import read_history
    from selector.score import History

    parsed, _ = read_history(path)
    return History.from_lists(list(parsed), list(parsed.values()))
