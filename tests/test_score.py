"""Scores and the ranking: hand-computed values, tie-breaks, the bootstrap rank interval, and
properties (permutation invariance, tie-break stability, monotonicity) checked with hypothesis.

    python -m pytest tests/test_score.py -q
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selector.errors import UserError
from selector.score import (SCORES, History, bootstrap_rank_interval, bootstrap_rank_interval_loop, compute, get_score,
                            rank)

# Three examples over three epochs; pool means per epoch: (0+1+.5)/3=.5, (.5+1+.5)/3=2/3, (1+1+.5)/3=5/6.
H3 = (["a", "b", "c"], [[0.0, 0.5, 1.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
PM = [0.5, 2 / 3, 5 / 6]

HAND = [
    # (score, example index, expected value, why)
    ("variance", 0, math.sqrt(((0 - .5) ** 2 + 0 + (1 - .5) ** 2) / 3), "population std, ddof=0 as np.std"),
    ("variance", 1, 0.0, "always solved"),
    ("mean_acc", 0, 0.5, ""),
    ("learnability", 0, (0 + .25 + 0) / 3, "a(1-a) per epoch, averaged"),
    ("learnability", 2, 0.25, "always half right: the maximum"),
    ("lim", 0, 1 - sum((a - p) ** 2 for a, p in zip([0, .5, 1], PM)) / sum((1 - p) ** 2 for p in PM), "LIMR Eq. 1"),
    ("lim", 1, 1 - sum((1 - p) ** 2 for p in PM) / sum((1 - p) ** 2 for p in PM), "= 0: always-1 is as far as possible"),
    ("mixed", 0, 1 / 3, "DAPO: only the 0.5 appearance had both right and wrong rollouts"),
    ("mixed", 1, 0.0, "always all right: DAPO filters every appearance"),
    ("mixed", 2, 1.0, "always half right"),
    ("base-pass-rate", 2, 0.25, "p(1-p) at p = 1/2 (a base pass-rate run has one entry: the pass rate)"),
    ("base-pass-rate", 1, 0.0, "always solved"),
]


@pytest.mark.parametrize("name,i,expected,why", HAND, ids=[f"{n}-{i}" for n, i, *_ in HAND])
def test_score_matches_hand_computed_value(name, i, expected, why):
    got = compute(name, History.from_lists(*H3))[i]
    assert got == pytest.approx(expected, abs=1e-12), (name, i, expected, got, why)


def test_lim_is_nan_when_the_pool_is_always_perfect_and_ranks_last():
    h = History.from_lists(["a", "b"], [[1.0, 1.0], [1.0, 1.0]])
    assert np.isnan(compute("lim", h)).all()
    assert [r.example_id for r in rank(h, "lim", n_bootstrap=0)] == ["a", "b"]


def test_variance_is_bit_identical_to_np_std_per_list():
    rng = np.random.default_rng(0)
    lists = [list(rng.integers(0, 9, size=rng.integers(40, 58)) / 8) for _ in range(300)]
    got = compute("variance", History.from_lists([str(i) for i in range(300)], lists))
    assert all(g == np.std(lst) for g, lst in zip(got, lists))


def test_ties_keep_history_order_then_nan_last():
    ids = ["z", "y", "x", "w"]
    accs = [[0.5, 0.5], [0.0, 1.0], [1.0, 1.0], [0.25, 0.25]]  # z, x, w tie at variance 0
    assert [r.example_id for r in rank(History.from_lists(ids, accs), "variance", 0)] == ["y", "z", "x", "w"]


def test_unknown_score_lists_the_valid_ones():
    with pytest.raises(UserError, match="valid scores: variance, lim, learnability, mean_acc"):
        get_score("var")


def test_ragged_history_pool_mean_uses_only_examples_seen_at_that_epoch():
    h = History.from_lists(["a", "b"], [[0.0, 1.0], [1.0]], [[1, 2], [1]])
    assert list(h.pool_means()) == [0.5, 1.0, 0.5]


def test_bootstrap_interval_is_seeded_and_brackets_clear_ranks():
    rng = np.random.default_rng(1)
    ids = [str(i) for i in range(30)]
    lists = [list(np.clip(np.linspace(0, 1, 20) * (i / 30) + rng.normal(0, .02, 20), 0, 1)) for i in range(30)]
    h = History.from_lists(ids, lists)
    a, b = rank(h, "variance", 50, seed=3), rank(h, "variance", 50, seed=3)
    assert a == b
    assert all(r.ci_low <= r.rank <= r.ci_high for r in a[:5])
    assert a[0].example_id == "29" and a[0].ci_high <= 3  # the clearly most variable example


history_strategy = st.lists(
    st.lists(st.sampled_from([i / 8 for i in range(9)]), min_size=1, max_size=12), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(history_strategy, st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_example_order(lists, rnd):
    ids = [f"e{i}" for i in range(len(lists))]
    perm = list(range(len(lists)))
    rnd.shuffle(perm)
    for name in SCORES:
        base = dict(zip(ids, compute(name, History.from_lists(ids, lists))))
        shuffled = dict(zip([ids[p] for p in perm], compute(name, History.from_lists([ids[p] for p in perm], [lists[p] for p in perm]))))
        for k in ids:
            assert base[k] == pytest.approx(shuffled[k], nan_ok=True, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(history_strategy)
def test_ranking_is_a_permutation_sorted_by_score_with_stable_ties(lists):
    ids = [f"e{i}" for i in range(len(lists))]
    for name in SCORES:
        ranked = rank(History.from_lists(ids, lists), name, n_bootstrap=0)
        assert sorted(r.example_id for r in ranked) == sorted(ids) and [r.rank for r in ranked] == list(range(1, len(ids) + 1))
        for a, b in zip(ranked, ranked[1:]):
            if math.isnan(a.value) or math.isnan(b.value):
                assert math.isnan(b.value)
            elif a.value == b.value:
                assert ids.index(a.example_id) < ids.index(b.example_id)  # ties: history order
            else:
                assert a.value > b.value


@settings(max_examples=60, deadline=None)
@given(history_strategy, st.data())
def test_mean_acc_and_learnability_are_monotone(lists, data):
    """Raising one entry raises mean_acc; moving an entry toward 1/2 raises learnability."""
    ids = [f"e{i}" for i in range(len(lists))]
    i = data.draw(st.integers(0, len(lists) - 1))
    j = data.draw(st.integers(0, len(lists[i]) - 1))
    if lists[i][j] >= 1.0:
        return
    up = [list(x) for x in lists]
    up[i][j] = min(1.0, lists[i][j] + 0.125)
    before, after = History.from_lists(ids, lists), History.from_lists(ids, up)
    assert compute("mean_acc", after)[i] > compute("mean_acc", before)[i]
    if up[i][j] <= 0.5:
        assert compute("learnability", after)[i] > compute("learnability", before)[i]


def _loop_with_noise_as_ties(h, name, n, seed):
    """The per-replicate loop, its scores rounded to 12 decimals: float noise (np.std over
    repeated entries) becomes an exact tie, which the ranking breaks by history order."""
    from selector.score import _interval, ranks_of

    rng = np.random.default_rng(seed)
    ranks = np.array([ranks_of(np.round(compute(name, h.resample(rng)), 12)) for _ in range(n)])
    return _interval(ranks, 0.90)


def _ragged(rng, n, epochs, values, least=1):
    """n examples, each seen at `least` or more of the epochs 1..epochs (as an example sits
    out epochs)."""
    lists, seen = [], []
    for _ in range(n):
        e = np.sort(rng.choice(np.arange(1, epochs + 1), size=rng.integers(least, epochs + 1), replace=False))
        seen.append(list(e))
        lists.append(list(values(len(e))))
    return History.from_lists([f"e{i}" for i in range(n)], lists, seen)


@pytest.mark.parametrize("name", list(SCORES))
def test_vectorised_bootstrap_equals_the_loop_on_untied_accuracies(name):
    # Continuous accuracies, each example seen at 9 or more of 12 epochs: no two examples tie in
    # any replicate (a replicate that met one example at a single epoch would give it variance 0
    # up to float noise), so the one matrix product and the replicate-by-replicate loop must give
    # the very same intervals from the same seed.
    rng = np.random.default_rng(7)
    h = _ragged(rng, 200, 12, lambda k: rng.random(k), least=9)
    got = bootstrap_rank_interval(h, name, 60, seed=5)
    want = bootstrap_rank_interval_loop(h, name, 60, seed=5)
    assert (got[0] == want[0]).all() and (got[1] == want[1]).all(), name


@pytest.mark.parametrize("name", list(SCORES))
def test_vectorised_bootstrap_equals_the_loop_up_to_float_noise_on_tied_accuracies(name):
    # Accuracies k/8 as with 8 rollouts: many examples tie exactly in a replicate. The loop's
    # np.std over repeated entries breaks some of those ties by float noise; with that noise
    # rounded away both break them by history order and agree on every bound.
    rng = np.random.default_rng(11)
    h = _ragged(rng, 300, 10, lambda k: rng.integers(0, 9, size=k) / 8)
    got = bootstrap_rank_interval(h, name, 60, seed=2)
    want = _loop_with_noise_as_ties(h, name, 60, 2)
    assert (got[0] == want[0]).all() and (got[1] == want[1]).all(), name
