"""The ranking numbers users read, each against a value derived here without selector's code: rank
intervals (exact bounds from a plain re-implementation in exact fractions; narrow for a clear
history, wide for a flat one; epochs drawn with replacement), undefined scores last, Spearman
correlations against scipy, shared top-k counts, pi names.

    python -m pytest tests/test_score_numbers.py -q

The interval reference below follows the documented protocol only (score docstring: each
replicate draws as many epochs as the history has, with replacement, by one
`rng.choice(epochs, size, replace=True)` call of `np.random.default_rng(seed)`; an entry counts as
often as its epoch was drawn; ranks 1 = best, NaN last, ties in history order; the interval is the
`lower` 5th and the `higher` 95th percentile of the replicates' ranks) and computes every score as
a Fraction from lists.
"""

import math
import re
import warnings
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from selector.errors import UserError
from selector.ranking import correlations, is_pi, pi_index, ranking_rows
from selector.score import History, Ranked, bootstrap_rank_interval, compute, order, rank, ranks_of, spearman


def _id(text: str) -> str:
    """A test id of letters, digits and dashes only (mutmut passes ids back to pytest)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "empty"

scipy_stats = pytest.importorskip("scipy.stats", reason="the correlations are checked against scipy (dev extra)")


# --------------------------------------------------------------------------- an independent reference


def _ref_scores(name, entries):
    """entries: per example, a list of (epoch, acc as Fraction), repeats included. Exact values,
    None where undefined."""
    by_epoch: dict = {}
    for ex in entries:
        for e, a in ex:
            by_epoch.setdefault(e, []).append(a)
    pool = {e: sum(v) / len(v) for e, v in by_epoch.items()}  # repeats leave an epoch's mean as it is
    out = []
    for ex in entries:
        acc = [a for _, a in ex]
        if not acc:
            out.append(None)
        elif name == "variance":  # population variance orders as the population std
            m = sum(acc) / len(acc)
            out.append(sum((a - m) ** 2 for a in acc) / len(acc))
        elif name == "mean_acc":
            out.append(sum(acc) / len(acc))
        elif name == "learnability":
            out.append(sum(a * (1 - a) for a in acc) / len(acc))
        else:  # lim: 1 - sum (a - p_e)^2 / sum (1 - p_e)^2, undefined when the pool was perfect
            den = sum((1 - pool[e]) ** 2 for e, _ in ex)
            out.append(None if den == 0 else 1 - sum((a - pool[e]) ** 2 for e, a in ex) / den)
    return out


def _ref_ranks(values):
    """Rank of each example: highest first, undefined last, ties in history order."""
    key = sorted(range(len(values)), key=lambda i: (values[i] is None, -(values[i] or 0), i))
    ranks = [0] * len(values)
    for r, i in enumerate(key, 1):
        ranks[i] = r
    return ranks


def _ref_interval(lists, epochs, name, n, seed, level=0.90):
    rng = np.random.default_rng(seed)
    distinct = np.unique([e for ep in epochs for e in ep])
    per_example = [[] for _ in lists]
    for _ in range(n):
        times = Counter(int(x) for x in rng.choice(distinct, size=len(distinct), replace=True))
        entries = [[(e, Fraction(a)) for e, a in zip(ep, acc) for _ in range(times[e])] for acc, ep in zip(lists, epochs)]
        for i, r in enumerate(_ref_ranks(_ref_scores(name, entries))):
            per_example[i].append(r)
    tail = (1 - Fraction(str(level))) / 2  # exactly 0.05 for a 90% interval
    low = [sorted(r)[math.floor(tail * (n - 1))] for r in per_example]
    high = [sorted(r)[math.ceil((1 - tail) * (n - 1))] for r in per_example]
    return low, high


# Accuracies k/8, as with 8 rollouts; "e4" sits out epochs 2-5 and "e5" is seen at epoch 6 only,
# so some replicates never draw its epoch and it has no score there (ranked last); "e7" is the only
# example seen at epoch 7 (the pool's mean there is its own accuracy).
LISTS = [[0, 1, 0, 1, 0, 1], [3 / 8, 5 / 8, 4 / 8, 4 / 8, 2 / 8, 6 / 8], [1, 1, 7 / 8, 1, 1, 1], [0, 0, 1 / 8, 0, 2 / 8, 0],
         [5 / 8, 1 / 8], [1 / 8], [4 / 8, 4 / 8, 4 / 8, 4 / 8, 4 / 8, 4 / 8], [6 / 8, 3 / 8]]
EPOCHS = [[1, 2, 3, 4, 5, 6]] * 4 + [[1, 6], [6], [1, 2, 3, 4, 5, 6], [1, 7]]
IDS = [f"e{i}" for i in range(len(LISTS))]


@pytest.mark.parametrize("name", ["variance", "lim", "learnability", "mean_acc"])
@pytest.mark.parametrize("n,seed", [(1, 3), (20, 0), (41, 7), (130, 5)], ids=["n1", "n20-seed0", "n41-seed7", "n130-seed5"])
def test_rank_interval_bounds_equal_an_exact_reimplementation(name, n, seed):
    # n1: one replicate, the interval is its ranks; n41: (n - 1) / 20 whole, the percentile's edge;
    # n130: more than one block of 64 replicates.
    h = History.from_lists(IDS, LISTS, EPOCHS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # undefined scores are NaN without a RuntimeWarning
        got = bootstrap_rank_interval(h, name, n, seed)
    want = _ref_interval(LISTS, EPOCHS, name, n, seed)
    assert (list(got[0]), list(got[1])) == want, f"{name}: expected (low, high) {want}, got {got}"


@pytest.mark.parametrize("name", ["variance", "lim"])
def test_a_score_without_a_weighted_form_is_bootstrapped_replicate_by_replicate(monkeypatch, name):
    from selector import score

    plain = score.Score(score.SCORES[name].fn, "the same score, no weighted form")
    monkeypatch.setitem(score.SCORES, "plain", plain)
    # Continuous accuracies: no two examples tie in a replicate, so np.std's float noise over
    # repeated entries cannot order them (k/8 accuracies would tie, and noise break the ties).
    rng = np.random.default_rng(8)
    lists = [list(rng.random(6)) for _ in range(8)]
    epochs = [[1, 2, 3, 4, 5, 6]] * 8
    h = History.from_lists([f"c{i}" for i in range(8)], lists, epochs)
    for level in (0.90, 0.5):
        got = bootstrap_rank_interval(h, "plain", 20, 4, level=level)
        want = _ref_interval(lists, epochs, name, 20, 4, level)
        assert (list(got[0]), list(got[1])) == want, f"{level}: expected {want}, got {got}"


def test_rank_defaults_are_variance_200_replicates_seed_0():
    _, flat = _clear_and_flat()  # exchangeable examples: the intervals move with the seed and the count

    def intervals(*args):
        return [(r.example_id, r.rank, r.ci_low, r.ci_high) for r in rank(flat, *args)]

    assert intervals("variance", 200, 1) != intervals("variance", 200, 0) != intervals("variance", 201, 0)  # it can tell
    assert intervals() == intervals("variance", 200, 0)
    assert [r.value for r in rank(flat)] == [r.value for r in rank(flat, "variance", 0)]


def test_one_replicate_gives_an_interval_too():
    ranked = rank(History.from_lists(IDS, LISTS, EPOCHS), "variance", n_bootstrap=1, seed=3)
    low, high = _ref_interval(LISTS, EPOCHS, "variance", 1, 3)
    assert {r.example_id: (r.ci_low, r.ci_high) for r in ranked} == {x: (lo, hi) for x, lo, hi in zip(IDS, low, high)}


def test_scores_equal_to_12_decimals_tie_in_every_replicate():
    # b's variance is 3e-13 below a's: a tie at 12 decimals, so b, met first, ranks first whenever a
    # replicate draws both epochs; and a and b stay in history order when it draws one (both 0).
    h = History.from_lists(["b", "a", "c"], [[0.0, 1.0 - 6e-13], [0.0, 1.0], [0.5, 0.5]])
    low, high = bootstrap_rank_interval(h, "variance", 50, 0)
    assert (list(low), list(high)) == ([1, 2, 3], [1, 2, 3])


def test_an_empty_history_is_one_line():
    with pytest.raises(UserError, match="^the history is empty: nothing to rank$"):
        History.from_lists([], [])


@pytest.mark.parametrize("name", ["variance", "lim", "learnability", "mean_acc"])
def test_rank_reports_the_score_and_interval_of_each_example(name):
    h = History.from_lists(IDS, LISTS, EPOCHS)
    ranked = rank(h, name, n_bootstrap=20, seed=0)
    exact = _ref_scores(name, [[(e, Fraction(a)) for e, a in zip(ep, acc)] for acc, ep in zip(LISTS, EPOCHS)])
    want_rank = _ref_ranks(exact)
    low, high = _ref_interval(LISTS, EPOCHS, name, 20, 0)
    for r in ranked:
        i = IDS.index(r.example_id)
        want = None if exact[i] is None else float(exact[i]) if name != "variance" else math.sqrt(exact[i])
        assert r.rank == want_rank[i], (name, r.example_id, want_rank[i], r.rank)
        assert (r.value == pytest.approx(want, abs=1e-12)) if want is not None else math.isnan(r.value), (name, want, r.value)
        assert (r.ci_low, r.ci_high) == (low[i], high[i]), (name, r.example_id, (low[i], high[i]), (r.ci_low, r.ci_high))


def test_without_a_bootstrap_the_interval_is_absent():
    ranked = rank(History.from_lists(IDS, LISTS, EPOCHS), "variance", n_bootstrap=0)
    assert {(r.ci_low, r.ci_high) for r in ranked} == {(None, None)}


def _clear_and_flat(seed=0, n_examples=12, epochs=16):
    rng = np.random.default_rng(seed)
    # Clear: example i swings by i/24 around 1/2 at every epoch, so its variance is (i/24)^2 in every
    # replicate whatever epochs are drawn (each epoch holds one side of the swing; a replicate
    # that draws one side only gives every example variance 0, rare at 16 epochs).
    clear = [[0.5 + (-1) ** k * i / 24 for k in range(epochs)] for i in range(n_examples)]
    # Flat: every example the same coin (8 rollouts at p = 1/2): nothing tells them apart.
    flat = [list(rng.binomial(8, 0.5, size=epochs) / 8) for _ in range(n_examples)]
    ids = [f"x{i}" for i in range(n_examples)]
    return History.from_lists(ids, clear), History.from_lists(ids, flat)


def test_a_clear_history_gives_narrow_rank_intervals_and_a_flat_one_wide():
    clear, flat = _clear_and_flat()
    n = len(clear.ids)
    lo, hi = bootstrap_rank_interval(clear, "variance", 200, 0)
    # Each example's rank is its place in the swing order (largest swing first) in every replicate.
    want = list(range(n, 0, -1))
    assert list(lo) == want and list(hi) == want, (want, list(lo), list(hi))
    lo, hi = bootstrap_rank_interval(flat, "variance", 200, 0)
    widths = hi - lo
    # Exchangeable examples: a 90% interval of a rank uniform over 1..12 spans about 10 ranks.
    assert widths.mean() >= n / 2 and widths.min() >= 3, f"expected wide intervals, got widths {list(widths)}"


def test_replicates_draw_epochs_with_replacement():
    """A replicate repeats some epoch and leaves another out (16 draws from 16 epochs without a
    repeat has probability 16!/16^16 ~ 1e-6); each replicate holds as many entries per example as
    the history has."""
    clear, _ = _clear_and_flat()
    rng = np.random.default_rng(3)
    repeated = 0
    for _ in range(20):
        rep = clear.resample(rng)
        per_example = np.bincount(rep.example, minlength=len(clear.ids))
        assert set(per_example) == {16}, per_example
        repeated += len(set(rep.epoch[rep.example == 0])) < 16
    assert repeated == 20


# --------------------------------------------------------------------------- NaN last


ORDER = [
    # (values, expected best-first indices): score descending, NaN last, ties in history order
    ([0.1, 0.5, 0.3], [1, 2, 0]),
    ([float("nan"), 0.1, float("nan"), 0.5], [3, 1, 0, 2]),  # NaN last, NaNs in history order
    ([0.2, 0.2, float("nan"), -1.0, 0.2], [0, 1, 4, 3, 2]),  # a negative score still before NaN
    ([float("nan")] * 3, [0, 1, 2]),
    ([-0.0, 0.0, -1e-300], [0, 1, 2]),  # -0.0 == 0.0: a tie
]


@pytest.mark.parametrize("values,want", ORDER, ids=["plain", "nan-last", "negative-before-nan", "all-nan", "signed-zero"])
def test_order_is_score_descending_nan_last_ties_in_history_order(values, want):
    got = list(order(np.array(values)))
    assert got == want, f"{values}: expected {want}, got {got}"
    ranks = list(ranks_of(np.array(values)))
    assert ranks == [want.index(i) + 1 for i in range(len(values))], (values, ranks)


def test_an_example_with_an_undefined_lim_ranks_last_among_defined_ones():
    # "a" is seen only at epoch 3, where the whole pool is perfect: its LIM is undefined (0/0).
    ids = ["a", "b", "c"]
    h = History.from_lists(ids, [[1.0], [0.0, 1.0, 1.0], [0.5, 0.5, 1.0]], [[3], [1, 2, 3], [1, 2, 3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NaN, quietly: no RuntimeWarning on the user's terminal
        ranked = rank(h, "lim", n_bootstrap=0)
    assert [r.example_id for r in ranked][-1] == "a" and math.isnan(ranked[-1].value), ranked
    # Pool means .25, .75, 1 at epochs 1-3. b: 1 - (.25^2 + .25^2 + 0) / (.75^2 + .25^2 + 0) = 0.8;
    # c: 1 - (.25^2 + .25^2 + 0) / (the same) = 0.8.
    assert [r.value for r in ranked[:2]] == pytest.approx([0.8, 0.8])


def test_an_example_without_entries_has_no_score():
    h = History(["a", "b"], np.array([1, 1]), np.array([1, 2]), np.array([0.0, 1.0]))
    for name in ("variance", "lim", "learnability", "mean_acc"):
        got = compute(name, h)
        assert math.isnan(got[0]) and not math.isnan(got[1]), (name, got)


# --------------------------------------------------------------------------- correlations


def test_spearman_equals_scipy_on_fixed_rankings():
    a = [1, 2, 3, 4, 5, 6, 7, 8]
    for b in ([8, 7, 6, 5, 4, 3, 2, 1], [2, 1, 4, 3, 6, 5, 8, 7], [5, 1, 8, 2, 7, 3, 6, 4], a):
        want = scipy_stats.spearmanr(a, b).statistic
        assert spearman(a, b) == pytest.approx(want, abs=1e-12), (b, want, spearman(a, b))
    assert math.isnan(spearman([1], [1]))
    assert spearman([1, 2], [1, 2]) == pytest.approx(scipy_stats.spearmanr([1, 2], [1, 2]).statistic) == 1.0  # two examples: defined
    assert spearman([1, 2], [2, 1]) == pytest.approx(-1.0)


def _ranked(order_ids, values=None):
    return [Ranked(r, x, values[x] if values else float(-r)) for r, x in enumerate(order_ids, 1)]


def test_compare_correlations_equal_scipy_and_count_the_shared_top():
    # Three rankings of ten examples, given best first.
    ids = [f"q{i}" for i in range(10)]
    rankings = {
        "variance": _ranked(ids),
        "lim": _ranked([ids[i] for i in (1, 0, 3, 2, 5, 4, 7, 6, 9, 8)]),
        "mean_acc": _ranked([ids[i] for i in (9, 2, 7, 0, 5, 3, 8, 1, 6, 4)]),
    }
    got = correlations(rankings, top=3)
    for a in rankings:
        for b in rankings:
            ra = {r.example_id: r.rank for r in rankings[a]}
            rb = {r.example_id: r.rank for r in rankings[b]}
            want_rho = scipy_stats.spearmanr([ra[x] for x in ids], [rb[x] for x in ids]).statistic
            want_top = len({r.example_id for r in rankings[a][:3]} & {r.example_id for r in rankings[b][:3]})
            assert got[a, b][0] == pytest.approx(want_rho, abs=1e-12), (a, b, want_rho, got[a, b])
            assert got[a, b][1] == want_top, (a, b, want_top, got[a, b])
    # Hand-checked: swapping neighbours moves each rank by 1: rho = 1 - 6 * 10 / (10 * 99) = 0.9393...
    assert got["variance", "lim"][0] == pytest.approx(1 - 60 / 990)
    assert got["variance", "lim"][1] == 2 and got["variance", "mean_acc"][1] == 1 and got["lim", "lim"] == (pytest.approx(1.0), 3)


# --------------------------------------------------------------------------- pi names and rows


PI = [
    # (name, is a pi name)
    ("pi1", True), ("π13", True), ("PI2", True), (" pi7 ", True), ("pi", False), ("pi1a", False), ("xpi1", False),
    ("toy-0001", False), ("pi-1", False),
]


@pytest.mark.parametrize("name,want", PI, ids=[_id(n.replace("π", "pi-sign")) for n, _ in PI])
def test_pi_names(name, want):
    assert is_pi(name) is want, (name, want)


def test_pi_index_counts_from_one_and_names_the_valid_range():
    ranking = [{"example_id": "a"}, {"example_id": "b"}, {"example_id": "c"}]
    assert [pi_index(ranking, f"pi{k}") for k in (1, 2, 3)] == ["a", "b", "c"]
    for bad in ("pi0", "pi4"):
        with pytest.raises(UserError, match=r"the ranking has pi1\.\.pi3"):
            pi_index(ranking, bad)


def test_ranking_rows_put_each_scores_rank_and_value_beside_the_primary_order():
    from types import SimpleNamespace

    ex = {i: SimpleNamespace(answer=f"A{i}", problem=f"P  {i}\n text") for i in ("a", "b")}
    pool = SimpleNamespace(by_id=ex, planted={})
    rankings = {"variance": [Ranked(1, "b", 0.5, 1, 2), Ranked(2, "a", 0.25, 1, 2)],
                "lim": [Ranked(1, "a", 0.9), Ranked(2, "b", 0.1)]}
    rows = ranking_rows(pool, rankings, "variance")
    assert rows == [
        {"rank": 1, "pi": "pi1", "example_id": "b", "score": 0.5, "ci_low": 1, "ci_high": 2, "answer": "Ab",
         "problem": "P b text", "rank_variance": 1, "score_variance": 0.5, "rank_lim": 2, "score_lim": 0.1},
        {"rank": 2, "pi": "pi2", "example_id": "a", "score": 0.25, "ci_low": 1, "ci_high": 2, "answer": "Aa",
         "problem": "P a text", "rank_variance": 2, "score_variance": 0.25, "rank_lim": 1, "score_lim": 0.9},
    ]
    gone = ranking_rows(pool, {"lim": [Ranked(1, "z", 0.5)]}, "lim")  # an example the pool no longer has
    assert (gone[0]["answer"], gone[0]["problem"]) == (None, None)
    one = ranking_rows(pool, {"lim": rankings["lim"]}, "lim")
    assert [set(r) for r in one] == [{"rank", "pi", "example_id", "score", "ci_low", "ci_high", "answer", "problem"}] * 2


def test_ranking_rows_name_each_examples_planted_kind_when_the_pool_plants_some():
    from types import SimpleNamespace

    ex = {i: SimpleNamespace(answer="1", problem=i, planted=kind) for i, kind in (("a", "wrong-gold"), ("b", ""))}
    pool = SimpleNamespace(by_id=ex, planted={"a": "wrong-gold"})
    ranked = [Ranked(1, "b", 0.5), Ranked(2, "a", 0.25), Ranked(3, "z", 0.0)]  # z: no longer in the pool
    rows = ranking_rows(pool, {"variance": ranked}, "variance")
    assert [(r["example_id"], r["planted"]) for r in rows] == [("b", ""), ("a", "wrong-gold"), ("z", None)]


def test_compare_counts_the_shared_top_16_by_default():
    ids = [f"q{i:02d}" for i in range(20)]
    got = correlations({"variance": _ranked(ids), "lim": _ranked(ids[::-1])})
    # Top 16 of each: q00..q15 and q19..q04 share q04..q15, 12 examples; the rankings are reversed.
    assert got["variance", "lim"] == (pytest.approx(-1.0), 12) and got["lim", "lim"] == (pytest.approx(1.0), 16)
