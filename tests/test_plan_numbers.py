"""What a sweep trains on, in numbers: the planned items (1-shot pi1..piN, few-shot sets, the bottom
and random baselines for N > 1), and the training rows of a few-shot run (the copies divided
evenly among the examples, k = 1..4), each against a list written out here.

    python -m pytest tests/test_plan_numbers.py -q

No store and no torch: plan_items takes a ranking as rows, build_rows a Pool.
"""

import re
from collections import Counter

import pytest

from selector.errors import UserError
from selector.pools import Example, Pool
from selector.runs import build_rows
from selector.sweep import SweepOptions, ints, plan_items


def _id(text: str) -> str:
    """A test id of letters, digits and dashes only (mutmut passes ids back to pytest)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "empty"

# A ranking of 10 examples: pi k is example "e{k}".
RANKING = [{"rank": k, "example_id": f"e{k}"} for k in range(1, 11)]


def _plan(**kw):
    opts = SweepOptions(**{"pool": "p", "top": 0, "baselines": "", **kw})
    return [(i.label, i.grp, i.examples, i.reward) for i in plan_items(opts, RANKING)]


PLANS = [
    # (options, the planned items (label, group, examples, reward))
    (dict(top=2), [("pi1", "1-shot", ["e1"], "outcome"), ("pi2", "1-shot", ["e2"], "outcome")]),
    (dict(baselines="bottom:1"), [("pi10", "bottom", ["e10"], "outcome")]),
    # the N lowest-ranked, the lowest first
    (dict(baselines="bottom:3"), [("pi10", "bottom", ["e10"], "outcome"), ("pi9", "bottom", ["e9"], "outcome"),
                                  ("pi8", "bottom", ["e8"], "outcome")]),
    (dict(few_shot="2,4"), [("{pi1..pi2}", "few-shot", ["e1", "e2"], "outcome"),
                            ("{pi1..pi4}", "few-shot", ["e1", "e2", "e3", "e4"], "outcome")]),
    (dict(sets="pi1+pi7,pi3+e5"), [("{pi1,pi7}", "few-shot", ["e1", "e7"], "outcome"),
                                   ("{pi3,e5}", "few-shot", ["e3", "e5"], "outcome")]),  # an example id stands for itself
    (dict(baselines="full-pool,format-reward"), [("full pool", "full-pool", None, "outcome"),
                                                 ("format reward", "format-reward", None, "format")]),
    (dict(top=1, few_shot="2", baselines="bottom:2,full-pool"),  # the launch order: 1-shot, few-shot, baselines
     [("pi1", "1-shot", ["e1"], "outcome"), ("{pi1..pi2}", "few-shot", ["e1", "e2"], "outcome"),
      ("pi10", "bottom", ["e10"], "outcome"), ("pi9", "bottom", ["e9"], "outcome"), ("full pool", "full-pool", None, "outcome")]),
]


@pytest.mark.parametrize("opts,want", PLANS, ids=["top-2", "bottom-1", "bottom-3", "few-shot-2-4", "sets", "whole-pool",
                                                   "mixed-order"])
def test_plan_items(opts, want):
    got = _plan(**opts)
    assert got == want, f"{opts}: expected {want}, got {got}"


@pytest.mark.parametrize("n", [1, 2, 5])
def test_random_baseline_draws_n_distinct_examples_outside_the_one_shot_runs(n):
    items = _plan(top=3, baselines=f"random:{n}")[3:]
    chosen = [ex[0] for _, _, ex, _ in items]
    assert len(items) == n and len(set(chosen)) == n and not set(chosen) & {"e1", "e2", "e3"}, items
    # Each label names its draw's position and the example's rank.
    assert [label for label, *_ in items] == [f"random{i}={'pi' + x[1:]}" for i, x in enumerate(chosen, 1)]
    assert {grp for _, grp, _, _ in items} == {"random"}
    assert _plan(top=3, baselines=f"random:{n}") == _plan(top=3, baselines=f"random:{n}")  # seeded
    draws = {tuple(_plan(top=3, baselines="random:3", random_seed=s)[3][2]) for s in range(6)}
    assert len(draws) > 1  # random_seed changes the draw


def test_random_baseline_may_take_every_example_outside_the_top():
    items = _plan(top=3, baselines="random:7")[3:]
    assert sorted(ex[0] for _, _, ex, _ in items) == sorted(f"e{k}" for k in range(4, 11))
    with pytest.raises(UserError, match=r"only 7 examples outside pi1\.\.pi3"):
        _plan(top=3, baselines="random:8")


BAD = [
    # (options, the whole message: one line that names the option, the rule and the fix)
    (dict(top=-1), "--top must be >= 0"),
    (dict(top=11), "--top 11: the ranking has only 10 examples"),
    (dict(few_shot="1"), "--few-shot 1: a set size between 2 and 10"),
    (dict(few_shot="11"), "--few-shot 11: a set size between 2 and 10"),
    (dict(few_shot="a"), "--few-shot 'a': expected a comma list of integers"),
    (dict(sets="pi1"), "--sets 'pi1': a set has two or more members joined by + (e.g. pi1+pi13)"),
    (dict(sets="pi1+e1"), "--sets 'pi1+e1' names an example twice"),
    (dict(baselines="bottom:0"), "baseline 'bottom:0': give how many, e.g. bottom:3"),
    (dict(baselines="bottom"), "baseline 'bottom': give how many, e.g. bottom:3"),
    (dict(baselines="full-pool:2"), "baseline 'full-pool:2' takes no count"),
    (dict(baselines="top:2"), ("unknown baseline 'top'; valid baselines: random:N, bottom:N, planted:KIND, full-pool, "
                               "format-reward")),
    (dict(top=3, baselines="random:8"), "baseline 'random:8': only 7 examples outside pi1..pi3"),
    (dict(), "the sweep plans no run; give --top N, --few-shot, --sets or --baselines"),
]


@pytest.mark.parametrize("opts,message", BAD, ids=[_id(m[:30]) for _, m in BAD])
def test_bad_plans_fail_in_one_line(opts, message):
    with pytest.raises(UserError) as e:
        _plan(**opts)
    assert str(e.value) == message


# --------------------------------------------------------------------------- --pis: 1-shot runs beyond --top

PIS = [
    # (options, the 1-shot items --pis adds: a pi name keeps its name, an example id is named by its rank)
    (dict(pis="pi5"), [("pi5", "1-shot", ["e5"], "outcome")]),
    (dict(top=2, pis="pi7, pi4"), [("pi1", "1-shot", ["e1"], "outcome"), ("pi2", "1-shot", ["e2"], "outcome"),
                                  ("pi7", "1-shot", ["e7"], "outcome"), ("pi4", "1-shot", ["e4"], "outcome")]),
    (dict(pis="e6"), [("pi6", "1-shot", ["e6"], "outcome")]),  # an example id of the ranking: its pi name
    (dict(pis="x99"), [("x99", "1-shot", ["x99"], "outcome")]),  # not ranked: named by its id (the pool checks it later)
    (dict(pis="e9,,pi3,"), [("pi9", "1-shot", ["e9"], "outcome"), ("pi3", "1-shot", ["e3"], "outcome")]),
    (dict(pis="PI5"), [("PI5", "1-shot", ["e5"], "outcome")]),  # a pi name as written, as --sets keeps its names
    (dict(pis="pi2", few_shot="2", baselines="bottom:1"),  # after --top, before the few-shot sets and baselines
     [("pi2", "1-shot", ["e2"], "outcome"), ("{pi1..pi2}", "few-shot", ["e1", "e2"], "outcome"),
      ("pi10", "bottom", ["e10"], "outcome")]),
]


@pytest.mark.parametrize("opts,want", PIS, ids=["one-pi", "after-top", "example-id", "unranked-id", "blanks",
                                                 "upper-case", "order"])
def test_pis_plans_one_shot_runs_beyond_top(opts, want):
    got = _plan(**opts)
    assert got == want, f"{opts}: expected {want}, got {got}"


BAD_PIS = [
    # (options, the whole message)
    (dict(top=3, pis="pi2"), "--pis pi2: already planned (by --top or an earlier --pis)"),
    (dict(top=3, pis="e3"), "--pis e3: already planned (by --top or an earlier --pis)"),
    (dict(pis="pi4,e4"), "--pis e4: already planned (by --top or an earlier --pis)"),
    (dict(pis="pi11"), "pi11: the ranking has pi1..pi10"),
]


@pytest.mark.parametrize("opts,message", BAD_PIS, ids=["top-pi", "top-id", "twice", "beyond"])
def test_pis_refuses_a_run_already_planned_and_a_pi_beyond_the_ranking(opts, message):
    with pytest.raises(UserError) as e:
        _plan(**opts)
    assert str(e.value) == message


def test_pis_without_a_ranking():
    from selector.pools import rank_hint

    with pytest.raises(UserError) as e:  # a pi name needs the ranking
        plan_items(SweepOptions(pool="p", top=0, baselines="", pis="pi1"), None)
    assert str(e.value) == f"--pis needs a variance ranking of pool 'p' and the store has none; run {rank_hint('p')} first"
    # an example id does not: named by itself
    items = plan_items(SweepOptions(pool="p", top=0, baselines="", pis="e3"), None)
    assert [(i.label, i.grp, i.examples) for i in items] == [("e3", "1-shot", ["e3"])]


def test_options_from_before_pis_plan_without_it():
    from types import SimpleNamespace

    old = SimpleNamespace(pool="p", top=1, few_shot=None, sets=None, baselines="", score="variance", random_seed=0)
    assert [(i.label, i.examples) for i in plan_items(old, RANKING)] == [("pi1", ["e1"])]


# --------------------------------------------------------------------------- planted:KIND baselines

# Planted examples among RANKING's: e4 and e7 wrong-gold, e2 unreachable.
PLANTED = {"e7": "wrong-gold", "e4": "wrong-gold", "e2": "unreachable"}


def _planted_plan(planted=PLANTED, ranking=RANKING, **kw):
    opts = SweepOptions(**{"pool": "p", "top": 0, "baselines": "", **kw})
    return [(i.label, i.grp, i.examples, i.reward) for i in plan_items(opts, ranking, planted)]


PLANTED_PLANS = [
    # (baselines, the items): the best-ranked example of the kind, labelled KIND=piN
    ("planted:wrong-gold", [("wrong-gold=pi4", "planted", ["e4"], "outcome")]),
    ("planted:unreachable", [("unreachable=pi2", "planted", ["e2"], "outcome")]),
    ("planted:unreachable,full-pool,planted:wrong-gold",
     [("unreachable=pi2", "planted", ["e2"], "outcome"), ("full pool", "full-pool", None, "outcome"),
      ("wrong-gold=pi4", "planted", ["e4"], "outcome")]),
]


@pytest.mark.parametrize("baselines,want", PLANTED_PLANS, ids=["wrong-gold", "unreachable", "mixed"])
def test_planted_baseline_is_the_best_ranked_example_of_its_kind(baselines, want):
    got = _planted_plan(baselines=baselines)
    assert got == want, f"{baselines}: expected {want}, got {got}"


def test_planted_baseline_follows_the_ranking_order():
    # The same planted examples under another ranking: e7 now ranks above e4.
    ranking = [{"rank": k, "example_id": x} for k, x in enumerate(["e7", "e1", "e4", "e2"], 1)]
    assert _planted_plan(ranking=ranking, baselines="planted:wrong-gold") == [("wrong-gold=pi1", "planted", ["e7"], "outcome")]


BAD_PLANTED = [
    # (planted map, baselines, the whole message: the valid kinds and an example)
    (PLANTED, "planted:typo", ("baseline 'planted:typo': pool 'p' has planted kinds unreachable, wrong-gold; "
                               "e.g. planted:unreachable")),
    (PLANTED, "planted", "baseline 'planted': pool 'p' has planted kinds unreachable, wrong-gold; e.g. planted:unreachable"),
    ({"e5": "wrong-gold"}, "planted:unreachable", ("baseline 'planted:unreachable': pool 'p' has planted kinds "
                                                   "wrong-gold; e.g. planted:wrong-gold")),
    ({}, "planted:wrong-gold", ("baseline 'planted:wrong-gold': pool 'p' has no planted examples (no `planted` "
                                "column); e.g. planted:KIND")),
    (None, "planted:wrong-gold", ("baseline 'planted:wrong-gold': pool 'p' has no planted examples (no `planted` "
                                  "column); e.g. planted:KIND")),
]


@pytest.mark.parametrize("planted,baselines,message", BAD_PLANTED, ids=["unknown", "no-kind", "one-kind", "none", "no-map"])
def test_a_planted_baseline_of_a_kind_the_pool_lacks_names_the_kinds_it_has(planted, baselines, message):
    with pytest.raises(UserError) as e:
        _planted_plan(planted=planted, baselines=baselines)
    assert str(e.value) == message


def test_a_planted_baseline_needs_a_ranking():
    from selector.pools import rank_hint

    with pytest.raises(UserError) as e:
        _planted_plan(ranking=None, baselines="planted:wrong-gold")
    assert str(e.value) == (f"baseline planted needs a variance ranking of pool 'p' and the store has none; "
                            f"run {rank_hint('p')} first")


def test_the_largest_plans_the_ranking_allows():
    assert len(_plan(top=10)) == 10 and _plan(few_shot="10")[0][2] == [f"e{k}" for k in range(1, 11)]


NEEDS = [
    # (options, the option that needs a ranking, as the message names it)
    (dict(top=1), "--top"), (dict(few_shot="2"), "--few-shot"), (dict(sets="pi1+pi2"), "--sets"),
    (dict(baselines="bottom:1"), "baseline bottom"), (dict(baselines="random:1"), "baseline random"),
]


@pytest.mark.parametrize("opts,what", NEEDS, ids=[_id(w) for _, w in NEEDS])
def test_a_plan_that_needs_a_ranking_says_how_to_make_one(opts, what):
    from selector.pools import rank_hint

    with pytest.raises(UserError) as e:
        plan_items(SweepOptions(**{"pool": "p", "top": 0, "baselines": "", **opts}), None)
    assert str(e.value) == f"{what} needs a variance ranking of pool 'p' and the store has none; run {rank_hint('p')} first"


def test_whole_pool_baselines_need_no_ranking():
    assert [i.label for i in plan_items(SweepOptions(pool="p", top=0, baselines="full-pool"), None)] == ["full pool"]


def test_a_planned_run_is_the_template_with_its_examples_seed_and_reward():
    import dataclasses

    from selector.runs import TrainConfig, preset
    from selector.sweep import Item, run_config

    template = TrainConfig(pool="p", preset="toy", learning_rate=3e-5, run_id="old", resume=True)
    one = run_config(template, Item("{pi1,pi2}", "few-shot", ["e1", "e2"]), seed=7)
    assert one == dataclasses.replace(template, examples="e1,e2", seed=7, reward="outcome", run_id=None, resume=False)
    whole = run_config(template, Item("format reward", "format-reward", None, reward="format"), seed=2)
    toy = preset("toy")
    # A whole-pool baseline runs as long as a 1-shot run, at its batch, and is evaluated like one.
    assert whole == dataclasses.replace(template, examples=None, seed=2, reward="format", run_id=None, resume=False,
                                        max_steps=toy["one_shot_steps"], eval_steps=toy["eval_steps"],
                                        prompts_per_step=toy["prompts_per_step"])
    set_steps = dataclasses.replace(template, max_steps=5, eval_steps=0)
    assert (run_config(set_steps, Item("full pool", "full-pool", None), 0).max_steps,
            run_config(set_steps, Item("full pool", "full-pool", None), 0).eval_steps) == (5, 0)  # given: kept


def test_a_whole_pool_baseline_trains_at_the_one_shot_rate_and_length_of_its_preset():
    from selector.runs import TrainConfig
    from selector.sweep import Item, run_config

    whole = Item("full pool", "full-pool", None)
    # The toy preset: 80 one-shot steps, evaluated every 20, at 3e-5 and 32 prompts a step (not its
    # history's 1e-5 and 30).
    toy = run_config(TrainConfig(pool="p", preset="toy"), whole, 0)
    assert (toy.examples, toy.max_steps, toy.eval_steps, toy.learning_rate, toy.prompts_per_step) == (None, 80, 20, 3e-5, 32)
    # The LoRA paper preset: 2000 steps, every 20, at 1e-5.
    lora = run_config(TrainConfig(pool="p", preset="paper-qwen2.5-math-1.5b-lora"), whole, 0)
    assert (lora.max_steps, lora.eval_steps, lora.learning_rate) == (2000, 20, 1e-5)
    # Given values are kept.
    given = run_config(TrainConfig(pool="p", preset="toy", max_steps=9, eval_steps=3, learning_rate=7e-5), whole, 0)
    assert (given.max_steps, given.eval_steps, given.learning_rate) == (9, 3, 7e-5)
    # A run on examples leaves them to `select train` (its preset's values then).
    one = run_config(TrainConfig(pool="p", preset="toy"), Item("pi1", "1-shot", ["e1"]), 0)
    assert (one.examples, one.max_steps, one.eval_steps, one.learning_rate) == ("e1", None, None, None)


@pytest.mark.parametrize("text,want", [("", []), ("1,2,3", [1, 2, 3]), ("4, 8,", [4, 8]), ("-1,2", [-1, 2])])
def test_ints_reads_a_comma_list(text, want):
    assert ints(text, "--x") == want


@pytest.mark.parametrize("text", ["1,1", "a,2", "1.5"])
def test_ints_refuses_repeats_and_non_integers(text):
    with pytest.raises(UserError, match=r"--x"):
        ints(text, "--x")


# --------------------------------------------------------------------------- few-shot datasets


def _pool(n=6, bad=()):
    examples = [Example(f"e{i}", ({"role": "user", "content": f"problem {i}"},), str(i)) for i in range(1, n + 1)]
    return Pool("p", "test", examples, {f"e{i}": "empty" for i in bad})


COPIES = [
    # (examples, prompts per step, copies of each): the step's prompts divided evenly, as the paper's
    # pi files (128 copies of pi1; 2-shot: 64 + 64)
    (["e1"], 8, 8),
    (["e1", "e2"], 8, 4),
    (["e3", "e1", "e5"], 12, 4),
    (["e1", "e2", "e3", "e4"], 8, 2),
    (["e1", "e2", "e3", "e4"], 128, 32),
]


@pytest.mark.parametrize("ids,per_step,copies", COPIES, ids=["k1", "k2", "k3", "k4", "k4-paper"])
def test_few_shot_rows_divide_the_step_among_the_examples(ids, per_step, copies):
    rows = build_rows(_pool(), ids, per_step)
    got = Counter(r["example_id"] for r in rows)
    assert len(rows) == per_step and got == {x: copies for x in ids}, f"expected {copies} copies of each of {ids}, got {got}"
    assert [r["example_id"] for r in rows] == [x for x in ids for _ in range(copies)]  # each example's copies together
    assert all(r["answer"] == r["example_id"][1:] and r["prompt"][0]["content"] == f"problem {r['answer']}" for r in rows)


def test_a_set_that_cannot_split_the_step_evenly_is_refused():
    with pytest.raises(UserError) as e:
        build_rows(_pool(), ["e1", "e2", "e3"], 8)
    assert str(e.value) == ("3 examples cannot split 8 prompts per step evenly; pick a number of examples that divides "
                            "--prompts-per-step")


def test_the_whole_pool_is_every_example_less_the_bad_golds_once():
    rows = build_rows(_pool(6, bad=(2, 5)), None, 4)
    assert [r["example_id"] for r in rows] == ["e1", "e3", "e4", "e6"]


def test_a_planted_baseline_whose_kind_the_ranking_lacks_is_one_line():
    # e99 is planted but not ranked (e.g. an imported history that covers part of the pool).
    with pytest.raises(UserError) as e:
        _planted_plan(planted={"e99": "unreachable"}, baselines="planted:unreachable")
    assert str(e.value) == "baseline 'planted:unreachable': the ranking holds no unreachable example of pool 'p'"
